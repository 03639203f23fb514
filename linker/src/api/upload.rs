//! The streaming upload: size cap, BLAKE3 checked against the client's
//! header, the body streamed into a staged blob that deletes itself on every
//! early exit, then validated and published by [`Linker::accept_upload`].

use std::io::Write;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Serialize;

use super::{ApiError, CHECKSUM_HEADER, Caller, blocking};
use crate::auth::Principal;
use crate::ids::DatasetVersion;
use crate::service::{Actor, Linker, OpError};
use crate::store::StagedBlob;

#[derive(Serialize)]
pub(super) struct UploadResponse {
    project: String,
    dataset: String,
    version: DatasetVersion,
    rows: u64,
    checksum: String,
    /// False when the same file was already a version of the dataset.
    new: bool,
}

/// `POST /v1/projects/{project}/datasets/{dataset}/versions`: a token file, streamed.
#[tracing::instrument(skip_all, fields(project = %project, dataset = %dataset))]
pub(super) async fn upload(
    State(linker): State<Linker>,
    Path((project, dataset)): Path<(String, String)>,
    Caller(caller): Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let result = receive(&linker, &caller, &project, &dataset, &headers, body).await;
    let (outcome, detail) = match &result {
        Ok(r) if r.new => (
            "ok",
            format!(
                "version {} ({} rows, blake3 {})",
                r.version, r.rows, r.checksum
            ),
        ),
        Ok(r) => (
            "ok",
            format!("unchanged: same file as version {}", r.version),
        ),
        Err(e) => (
            "refused",
            format!("{} {}: {}", e.status.as_u16(), e.code, e.message),
        ),
    };
    {
        let linker = linker.clone();
        let (project, dataset) = (project.clone(), dataset.clone());
        let _ = tokio::task::spawn_blocking(move || {
            linker.audit(
                &Actor::Caller(&caller),
                "upload",
                Some(&project),
                Some(&dataset),
                outcome,
                Some(detail),
            );
        })
        .await;
    }
    let response = result?;
    tracing::info!(
        version = response.version.0,
        rows = response.rows,
        new = response.new,
        "upload accepted"
    );
    let status = if response.new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(response)).into_response())
}

/// Uploads opened, checked and re-keyed at once: one per core, 2 to 8.
fn check_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores.clamp(2, 8))
    })
}

/// Body bytes gathered before one blocking write to the staged blob.
const WRITE_BATCH_BYTES: usize = 64 * 1024;

/// Appends `chunks` to the staged blob on a blocking thread, and hands it back.
async fn write_staged(
    mut staged: Box<dyn StagedBlob>,
    chunks: Vec<axum::body::Bytes>,
) -> Result<Box<dyn StagedBlob>, ApiError> {
    if chunks.is_empty() {
        return Ok(staged);
    }
    blocking(move || {
        for chunk in &chunks {
            staged
                .write_all(chunk)
                .map_err(|e| OpError::Store(e.into()))?;
        }
        Ok(staged)
    })
    .await
}

async fn receive(
    linker: &Linker,
    caller: &Principal,
    project: &str,
    dataset: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<UploadResponse, ApiError> {
    let claimed = headers
        .get(CHECKSUM_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| {
            ApiError::new(StatusCode::BAD_REQUEST, "checksum_missing", format!("the `{CHECKSUM_HEADER}` header must hold the BLAKE3 checksum of the body (64 hex digits)"))
        })?;
    let config = {
        let (linker, caller, project, dataset) = (
            linker.clone(),
            caller.clone(),
            project.to_owned(),
            dataset.to_owned(),
        );
        blocking(move || linker.authorise_upload(&caller, &project, &dataset)).await?
    };
    let cap = linker.settings.max_upload_bytes;
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the upload is larger than this server's limit of {cap} bytes"),
        )
        .hint("ask the linker's operator to raise max_upload_bytes, or split the extract")
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap) {
        return Err(too_large());
    }
    // The staged blob deletes itself when dropped uncommitted: on every
    // early return below, and if the client goes away mid-body.
    let mut staged = {
        let linker = linker.clone();
        blocking(move || linker.blobs.stage().map_err(OpError::from)).await?
    };
    let mut hasher = blake3::Hasher::new();
    let mut received = 0u64;
    let mut pending = Vec::new();
    let mut pending_bytes = 0usize;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "interrupted",
                format!("the upload was interrupted: {e}"),
            )
            .hint("send it again")
        })?;
        received += chunk.len() as u64;
        if received > cap {
            return Err(too_large());
        }
        hasher.update(&chunk);
        pending_bytes += chunk.len();
        pending.push(chunk);
        if pending_bytes >= WRITE_BATCH_BYTES {
            staged = write_staged(staged, std::mem::take(&mut pending)).await?;
            pending_bytes = 0;
        }
    }
    staged = write_staged(staged, pending).await?;
    let actual = hasher.finalize().to_hex().to_string();
    if actual != claimed {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "checksum_mismatch",
            format!("the body's BLAKE3 checksum is {actual}, the client said {claimed}: the file changed or was damaged in transit"),
        )
        .hint("send it again; if it keeps failing, check that nothing is writing the file while it uploads"));
    }
    // Opening, checking and re-keying decode every column (a few tens of
    // MB per upload); more of them at once than cores gains no speed, only
    // memory, so the rest wait here with their bodies safely staged.
    let _permit = check_permits()
        .acquire()
        .await
        .expect("the check semaphore is never closed");
    let accepted = {
        let (linker, caller, dataset) = (linker.clone(), caller.clone(), dataset.to_owned());
        blocking(move || linker.accept_upload(&caller, &config, &dataset, staged)).await?
    };
    Ok(UploadResponse {
        project: project.to_owned(),
        dataset: dataset.to_owned(),
        version: accepted.version.version,
        rows: accepted.version.rows,
        checksum: accepted.version.checksum,
        new: accepted.new,
    })
}
