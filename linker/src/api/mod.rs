//! The HTTP API: routes, the authentication extractor, errors, streaming
//! uploads and downloads.
//!
//! [`router`] wires the handlers, which live with what they serve:
//! `projects` (projects, versions, the audit log), `runs` (starting and
//! following linkage runs), `upload` (token files streamed into the blob
//! store), `erasure` (deletion lists), `rekey_maps` (re-key maps after a key rotation), `download` (published outputs
//! streamed out of the publication store, by role). `caller` turns a bearer token into a [`Caller`]; `error` is the
//! one [`ApiError`] every handler answers with.

mod caller;
mod download;
mod erasure;
mod error;
mod projects;
mod rekey_maps;
mod runs;
mod upload;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};

pub use caller::Caller;
pub use error::ApiError;

use crate::service::{Actor, Linker, OpError};

/// Header carrying the client's BLAKE3 checksum of an upload (64 hex digits).
pub const CHECKSUM_HEADER: &str = "x-pprl-blake3";

/// The API's routes over a linker.
pub fn router(linker: Linker) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/projects", post(projects::create_project))
        .route("/v1/projects/{project}", put(projects::update_project))
        .route(
            "/v1/projects/{project}/versions",
            get(projects::list_versions),
        )
        .route(
            "/v1/projects/{project}/linker-key",
            get(projects::linker_key),
        )
        .route(
            "/v1/projects/{project}/datasets/{dataset}/versions",
            post(upload::upload).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/v1/projects/{project}/datasets/{dataset}/erasures",
            post(erasure::erase).layer(DefaultBodyLimit::max(
                crate::erasure::MAX_DELETION_LIST_BYTES,
            )),
        )
        .route("/v1/projects/{project}/keys", get(projects::list_keys))
        .route(
            "/v1/projects/{project}/datasets/{dataset}/rekey-maps",
            post(rekey_maps::upload)
                .layer(DefaultBodyLimit::max(crate::rekey_map::MAX_REKEY_MAP_BYTES)),
        )
        .route(
            "/v1/projects/{project}/runs",
            post(runs::start_run).get(runs::list_runs),
        )
        .route("/v1/projects/{project}/runs/{run}", get(runs::run_status))
        .route(
            "/v1/projects/{project}/outputs",
            get(download::list_outputs),
        )
        .route(
            "/v1/projects/{project}/outputs/{file}",
            get(download::download_output),
        )
        .route("/v1/audit", get(projects::audit_log))
        .layer(middleware::from_fn_with_state(
            linker.clone(),
            refuse_tokens_in_urls,
        ))
        .with_state(linker)
}

/// Runs blocking store work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, OpError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(e) => {
            tracing::error!(error = %e, "blocking task failed");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the server could not complete the request",
            ))
        }
    }
}

/// Refuses requests that put anything token-like in the query string.
async fn refuse_tokens_in_urls(
    State(linker): State<Linker>,
    request: Request,
    next: Next,
) -> Response {
    let suspicious = request.uri().query().is_some_and(|q| {
        q.split('&').any(|pair| {
            let name = pair.split('=').next().unwrap_or("").to_ascii_lowercase();
            matches!(
                name.as_str(),
                "token" | "access_token" | "api_key" | "apikey" | "key" | "auth" | "bearer"
            ) || pair.contains("pprl_")
        })
    });
    if suspicious {
        // The query is never logged: it holds the token.
        let detail = format!(
            "400 token_in_url: {} {}",
            request.method(),
            request.uri().path()
        );
        audit_refusal(&linker, "request", detail).await;
        return ApiError::new(StatusCode::BAD_REQUEST, "token_in_url", "tokens are never accepted in URLs")
            .hint("send the token in the `Authorization: Bearer` header, and revoke the token that was put in a URL")
            .into_response();
    }
    next.run(request).await
}

/// Audits a refusal that happens before a caller is known.
async fn audit_refusal(linker: &Linker, action: &'static str, detail: String) {
    let linker = linker.clone();
    let _ = tokio::task::spawn_blocking(move || {
        linker.audit(
            &Actor::Anonymous,
            action,
            None,
            None,
            "refused",
            Some(detail),
        );
    })
    .await;
}

async fn healthz(State(linker): State<Linker>) -> Result<&'static str, ApiError> {
    blocking(move || linker.meta.projects().map(|_| ()).map_err(OpError::from)).await?;
    Ok("ok\n")
}

#[cfg(test)]
mod tests;
