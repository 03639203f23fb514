//! `POST /v1/projects/{project}/datasets/{dataset}/erasures`: a deletion
//! list (issue 17), from the partner that supplies the dataset or an
//! administrator. The body is the list's text; it is never logged.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::{ApiError, Caller, blocking};
use crate::erasure::ErasureReceipt;
use crate::service::{Actor, Linker};

/// Stores a deletion list; answers what it matched.
#[tracing::instrument(skip_all, fields(project = %project, dataset = %dataset))]
pub(super) async fn erase(
    State(linker): State<Linker>,
    Path((project, dataset)): Path<(String, String)>,
    Caller(caller): Caller,
    body: Bytes,
) -> Result<(StatusCode, Json<ErasureReceipt>), ApiError> {
    let receipt = blocking(move || {
        let actor = Actor::Caller(&caller);
        let config = match linker.authorise_erasure(&caller, &project, &dataset) {
            Ok(config) => config,
            Err(refused) => {
                let (project, dataset) = (Some(project.as_str()), Some(dataset.as_str()));
                linker.audit(
                    &actor,
                    "erase",
                    project,
                    dataset,
                    "refused",
                    Some(refused.to_string()),
                );
                return Err(refused);
            }
        };
        linker.erase(&actor, &config, &dataset, &body)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(receipt)))
}
