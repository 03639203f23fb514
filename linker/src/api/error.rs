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
            OpError::LinksNotPublished { .. } => ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
                .hint("an administrator can set `[outputs] links = \"linkage-analyst\"` in the project config"),
            OpError::NotTheDatasetsPartner { .. } | OpError::RoleCannot { .. } => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string())
            }
            OpError::TokenScope { .. }
            | OpError::TokenForUnknownProject { .. }
            | OpError::PartnerNotInProject { .. }
            | OpError::NoLiveToken { .. }
            | OpError::UpdateOfUnknownProject { .. }
            | OpError::CohortColumns(_)
            | OpError::NoUploads { .. }
            | OpError::MixedKeys { .. }
            | OpError::NotRekeyed { .. }
            | OpError::DatasetUnreadable { .. }
            | OpError::OutputsUnwritable { .. }
            | OpError::Cohort(_)
            | OpError::NothingPublished { .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid", e.to_string())
            }
            OpError::ProjectExists { .. } | OpError::RunInProgress { .. } => {
                ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            OpError::Config(c) => ApiError::new(StatusCode::BAD_REQUEST, "invalid_config", c.to_string()),
            OpError::Erasure(_) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_deletion_list", e.to_string()),
            OpError::NoLiveDeletionList { .. } => ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
            OpError::Key(_) => ApiError::new(StatusCode::CONFLICT, "key_list", e.to_string()),
            OpError::RekeyMap(ref m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m.code(), e.to_string()).hint(m.hint()),
            OpError::Refused(r) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, r.code, r.message).hint(r.hint),
            OpError::Store(s) => {
                tracing::error!(error = %s, "storage failure");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the server could not complete the request")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use crate::service::Action;

    #[test]
    fn typed_refusals_keep_their_status_codes_and_messages() {
        let cases = [
            (
                OpError::RoleCannot {
                    role: Role::Evaluator,
                    action: Action::Upload,
                },
                403,
                "evaluator tokens may only read published outputs",
            ),
            (
                OpError::NotTheDatasetsPartner {
                    dataset: "d".into(),
                    partner: "x".into(),
                },
                403,
                "dataset `d` is supplied by partner `x`, not by this token's partner",
            ),
            (
                OpError::TokenScope {
                    role: Role::Partner,
                },
                400,
                "a partner token needs --project and --partner",
            ),
            (
                OpError::PartnerNotInProject {
                    project: "p".into(),
                    partner: "z".into(),
                    partners: vec!["x".into(), "y".into()],
                },
                400,
                "project `p` assigns no dataset to partner `z`; its partners are: x, y",
            ),
            (
                OpError::ProjectExists {
                    project: "p".into(),
                },
                409,
                "project `p` already exists; change it with update-project",
            ),
        ];
        for (e, status, message) in cases {
            let api = ApiError::from(e);
            assert_eq!(
                (api.status.as_u16(), api.message.as_str()),
                (status, message)
            );
        }
    }
}
