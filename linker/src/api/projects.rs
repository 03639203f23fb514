//! Projects, their dataset versions and the audit log.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::caller::require_admin;
use super::{ApiError, Caller, blocking};
use crate::ids::DatasetVersion;
use crate::service::{Actor, Linker, LinkerKey, OpError};
use crate::store::{AuditEvent, VersionRecord};

#[tracing::instrument(skip_all)]
pub(super) async fn create_project(
    State(linker): State<Linker>,
    Caller(caller): Caller,
    body: String,
) -> Result<Response, ApiError> {
    require_admin(&caller)?;
    let config = blocking(move || linker.create_project(&body, &Actor::Caller(&caller))).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"project": config.name})),
    )
        .into_response())
}

#[tracing::instrument(skip_all, fields(project = %project))]
pub(super) async fn update_project(
    State(linker): State<Linker>,
    Path(project): Path<String>,
    Caller(caller): Caller,
    body: String,
) -> Result<Response, ApiError> {
    require_admin(&caller)?;
    let config = blocking(move || linker.update_project(&body, &Actor::Caller(&caller))).await?;
    if config.name != project {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            "the config's name differs from the URL's project",
        ));
    }
    Ok(Json(serde_json::json!({"project": config.name})).into_response())
}

#[derive(Serialize)]
pub(super) struct VersionView {
    dataset: String,
    version: DatasetVersion,
    checksum: String,
    bytes: u64,
    rows: u64,
    key_fingerprint: String,
    uploaded_at: String,
}

impl From<VersionRecord> for VersionView {
    fn from(v: VersionRecord) -> Self {
        VersionView {
            dataset: v.dataset,
            version: v.version,
            checksum: v.checksum,
            bytes: v.bytes,
            rows: v.rows,
            key_fingerprint: v.key_fingerprint,
            uploaded_at: v.uploaded_at,
        }
    }
}

#[tracing::instrument(skip_all, fields(project = %project))]
pub(super) async fn list_versions(
    State(linker): State<Linker>,
    Path(project): Path<String>,
    Caller(caller): Caller,
) -> Result<Json<Vec<VersionView>>, ApiError> {
    let versions = blocking(move || linker.list_versions(&caller, &project)).await?;
    Ok(Json(versions.into_iter().map(VersionView::from).collect()))
}

/// `GET /v1/projects/{project}/linker-key`: the key partners seal to.
#[tracing::instrument(skip_all, fields(project = %project))]
pub(super) async fn linker_key(
    State(linker): State<Linker>,
    Path(project): Path<String>,
    Caller(caller): Caller,
) -> Result<Json<LinkerKey>, ApiError> {
    Ok(Json(
        blocking(move || linker.linker_key(&caller, &project)).await?,
    ))
}

#[derive(Deserialize)]
pub(super) struct AuditQuery {
    limit: Option<usize>,
}

pub(super) async fn audit_log(
    State(linker): State<Linker>,
    Caller(caller): Caller,
    Query(query): Query<AuditQuery>,
) -> Result<Json<Vec<AuditEvent>>, ApiError> {
    require_admin(&caller)?;
    let limit = query.limit.unwrap_or(100).min(10_000);
    Ok(Json(
        blocking(move || linker.meta.audit_log(limit).map_err(OpError::from)).await?,
    ))
}

/// `GET /v1/projects/P/keys`: the project's key list (issue 16), for
/// administrators: key ids, fingerprints, states and dates.
#[tracing::instrument(skip_all, fields(project = %project))]
pub(super) async fn list_keys(
    State(linker): State<Linker>,
    Path(project): Path<String>,
    Caller(caller): Caller,
) -> Result<Json<Vec<crate::store::KeyRecord>>, ApiError> {
    let keys = blocking(move || linker.list_keys(&caller, &project)).await?;
    Ok(Json(keys))
}
