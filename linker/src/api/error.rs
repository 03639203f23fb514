//! [`ApiError`]: the status, a stable code, a message and the next step;
//! internal errors are logged once and answered generically.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::service::OpError;

/// An API error: status, stable code, message and the next step.
#[derive(Debug)]
pub struct ApiError {
    pub(super) status: StatusCode,
    pub(super) code: &'static str,
    pub(super) message: String,
    hint: Option<String>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            hint: None,
        }
    }

    pub(super) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The HTTP status.
    pub fn status_code(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: &self.message,
                hint: self.hint.as_deref(),
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<OpError> for ApiError {
    fn from(e: OpError) -> Self {
        match e {
            OpError::Unauthenticated => ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "a valid API token is required")
                .hint("send `Authorization: Bearer <token>`; ask your project administrator for a token if yours was revoked"),
            OpError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
            OpError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
            OpError::Invalid(m) => ApiError::new(StatusCode::BAD_REQUEST, "invalid", m),
            OpError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            OpError::Config(c) => ApiError::new(StatusCode::BAD_REQUEST, "invalid_config", c.to_string()),
            OpError::Refused(r) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, r.code, r.message).hint(r.hint),
            OpError::Store(s) => {
                tracing::error!(error = %s, "storage failure");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the server could not complete the request")
            }
        }
    }
}
