//! Authentication as an extractor: a bearer token becomes a [`Caller`], and
//! every refusal is audited without the token's secret.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};

use super::{ApiError, audit_refusal, blocking};
use crate::auth::{PresentedToken, Principal, Role};
use crate::service::{Linker, OpError};

/// A verified caller.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl FromRequestParts<Linker> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        linker: &Linker,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        let request = format!("{} {}", parts.method, parts.uri.path());
        let Some(token) = header else {
            audit_refusal(
                linker,
                "authenticate",
                format!("401 unauthenticated: no bearer token on {request}"),
            )
            .await;
            return Err(OpError::Unauthenticated.into());
        };
        // The public id of a well-formed token, for the audit log; never the secret.
        let id = PresentedToken::parse(&token).map(|t| t.id.clone());
        let principal = {
            let linker = linker.clone();
            blocking(move || linker.authenticate(&token)).await
        };
        if principal.is_err() {
            tracing::info!("refused a request with a missing or invalid token");
            let who = id.map_or_else(
                || "a malformed token".to_owned(),
                |id| format!("token {id} (unknown or revoked)"),
            );
            audit_refusal(
                linker,
                "authenticate",
                format!("401 unauthenticated: {who} on {request}"),
            )
            .await;
        }
        principal.map(Caller)
    }
}

pub(super) fn require_admin(caller: &Principal) -> Result<(), ApiError> {
    if caller.role == Role::Administrator {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this needs an administrator token",
        ))
    }
}
