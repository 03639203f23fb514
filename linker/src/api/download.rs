//! Published outputs: the latest publication's file list, and each file
//! streamed out of the publication store.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::{ApiError, CHECKSUM_HEADER, Caller, blocking};
use crate::auth::{Principal, Role};
use crate::ids::RunId;
use crate::linkage::outputs::{LINKS_FILE, MODEL_FILE, REPORT_FILE};
use crate::service::{Actor, Linker, OpError};
use crate::store::{Blob, PublishedFile};

/// Checks that the caller may read a project's published outputs.
pub(super) fn may_read_outputs(caller: &Principal, project: &str) -> Result<(), ApiError> {
    if !caller.may_see(project) {
        return Err(OpError::NotFound.into());
    }
    match caller.role {
        Role::Administrator | Role::Evaluator | Role::LinkageAnalyst => Ok(()),
        Role::Partner => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "published outputs are for evaluators; partner tokens upload only",
        )),
    }
}

/// The linkage-quality files: what a linkage analyst reads.
const LINKAGE_QUALITY_FILES: [&str; 3] = [LINKS_FILE, REPORT_FILE, MODEL_FILE];

/// Whether `role` may read the published file `name` (issue 17): the
/// record-level `links.parquet` is a linkage analyst's, never an
/// evaluator's; a linkage analyst reads the linkage-quality files only.
pub(super) fn may_read_file(role: Role, name: &str) -> Result<(), ApiError> {
    let forbidden = |message: &str, hint: &str| {
        Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", message).hint(hint))
    };
    match role {
        Role::Administrator => Ok(()),
        Role::Evaluator if name == LINKS_FILE => forbidden(
            "links.parquet is a record-level linkage-quality file for linkage-analyst tokens, not for evaluators",
            "evaluators read cohort.parquet, outcomes.json, outcomes.html, report.json and model.json; ask the project administrator if you need a linkage-analyst token",
        ),
        Role::Evaluator => Ok(()),
        Role::LinkageAnalyst if LINKAGE_QUALITY_FILES.contains(&name) => Ok(()),
        Role::LinkageAnalyst => forbidden(
            "linkage-analyst tokens read the linkage-quality files only (links.parquet, report.json, model.json)",
            "the cohort and outcome files are read with an evaluator token",
        ),
        Role::Partner => forbidden(
            "published outputs are for evaluators; partner tokens upload only",
            "use an evaluator or linkage-analyst token",
        ),
    }
}

#[derive(Serialize)]
pub(super) struct OutputsView {
    project: String,
    run_id: RunId,
    published_at: String,
    files: Vec<PublishedFile>,
}

/// `GET /v1/projects/{project}/outputs`: the files of the latest
/// publication that the caller may read.
pub(super) async fn list_outputs(
    State(linker): State<Linker>,
    Path(project): Path<String>,
    Caller(caller): Caller,
) -> Result<Json<OutputsView>, ApiError> {
    may_read_outputs(&caller, &project)?;
    let p = project.clone();
    let (run_id, published_at, mut files) =
        blocking(move || linker.runs().latest_outputs(&p)).await?;
    files.retain(|f| may_read_file(caller.role, &f.name).is_ok());
    Ok(Json(OutputsView {
        project,
        run_id,
        published_at,
        files,
    }))
}

/// `GET /v1/projects/{project}/outputs/{file}`: one file, streamed.
#[tracing::instrument(skip_all, fields(project = %project, file = %file))]
pub(super) async fn download_output(
    State(linker): State<Linker>,
    Path((project, file)): Path<(String, String)>,
    Caller(caller): Caller,
) -> Result<Response, ApiError> {
    may_read_outputs(&caller, &project)?;
    if let Err(refused) = may_read_file(caller.role, &file) {
        // Only a file name the linker writes is recorded, never other text
        // from the URL.
        let known = LINKAGE_QUALITY_FILES.contains(&file.as_str())
            || crate::cohort::FILES.contains(&file.as_str());
        let detail = format!(
            "403 forbidden: {} for a {} token",
            if known {
                file.as_str()
            } else {
                "an unlisted file"
            },
            caller.role.as_str()
        );
        let (linker, project) = (linker.clone(), project.clone());
        let _ = tokio::task::spawn_blocking(move || {
            linker.audit(
                &Actor::Caller(&caller),
                "download",
                Some(&project),
                None,
                "refused",
                Some(detail),
            );
        })
        .await;
        return Err(refused);
    }
    let (blob, published) = {
        let (linker, project, file) = (linker.clone(), project.clone(), file.clone());
        blocking(move || match linker.runs().open_output(&project, &file) {
            Err(OpError::NotFound)
                if file == LINKS_FILE && !linker.project_config(&project)?.publishes_links() =>
            {
                Err(OpError::LinksNotPublished { project })
            }
            other => other,
        })
        .await?
    };
    {
        let detail = format!("{} ({} bytes)", published.name, published.bytes);
        tokio::task::spawn_blocking(move || {
            linker.audit(
                &Actor::Caller(&caller),
                "download",
                Some(&project),
                None,
                "ok",
                Some(detail),
            );
        });
    }
    let content_type = if file.ends_with(".json") {
        "application/json"
    } else if file.ends_with(".html") {
        "text/html; charset=utf-8"
    } else {
        "application/vnd.apache.parquet"
    };
    let body = Body::from_stream(blob_stream(blob));
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_LENGTH, published.bytes.to_string()),
            (
                header::HeaderName::from_static(CHECKSUM_HEADER),
                published.blake3,
            ),
        ],
        body,
    )
        .into_response())
}

/// Bytes read from a stored file per blocking read while streaming it.
const READ_CHUNK_BYTES: usize = 64 * 1024;

/// A stored file as a body stream, each chunk read on a blocking thread.
fn blob_stream(
    blob: Blob,
) -> impl futures_util::Stream<Item = std::io::Result<axum::body::Bytes>> + Send + 'static {
    futures_util::stream::try_unfold((blob, 0u64), |(blob, offset)| async move {
        if offset >= blob.len() {
            return Ok(None);
        }
        let (blob, chunk) = tokio::task::spawn_blocking(move || {
            let mut chunk = vec![0u8; READ_CHUNK_BYTES];
            let n = blob.read_at(offset, &mut chunk)?;
            chunk.truncate(n);
            Ok::<_, std::io::Error>((blob, chunk))
        })
        .await
        .map_err(std::io::Error::other)??;
        if chunk.is_empty() {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let next = offset + chunk.len() as u64;
        Ok(Some((axum::body::Bytes::from(chunk), (blob, next))))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_reads_its_files_and_evaluators_never_links() {
        let cohort = crate::cohort::parquet::COHORT_FILE;
        for (role, file, allowed) in [
            (Role::Administrator, LINKS_FILE, true),
            (Role::Administrator, cohort, true),
            (Role::Evaluator, LINKS_FILE, false),
            (Role::Evaluator, cohort, true),
            (Role::Evaluator, REPORT_FILE, true),
            (Role::LinkageAnalyst, LINKS_FILE, true),
            (Role::LinkageAnalyst, MODEL_FILE, true),
            (Role::LinkageAnalyst, cohort, false),
            (Role::LinkageAnalyst, crate::cohort::OUTCOMES_FILE, false),
            (Role::Partner, REPORT_FILE, false),
        ] {
            let result = may_read_file(role, file);
            assert_eq!(result.is_ok(), allowed, "{} reading {file}", role.as_str());
            if let Err(e) = result {
                assert_eq!(e.status_code(), StatusCode::FORBIDDEN);
            }
        }
        let refused = may_read_file(Role::Evaluator, LINKS_FILE).expect_err("refused");
        assert!(
            refused.message.contains("not for evaluators"),
            "{}",
            refused.message
        );
    }
}
