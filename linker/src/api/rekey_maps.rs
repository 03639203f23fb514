//! `POST /v1/projects/{project}/datasets/{dataset}/rekey-maps`: a re-key
//! map after a key rotation (issue 16), sealed to the linker, from the
//! partner that supplies the dataset. The body is never logged.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::{ApiError, Caller, blocking};
use crate::rekey_map::RekeyMapReceipt;
use crate::service::{Actor, Linker};

/// Stores a re-key map; answers how many pairs it held and matched.
#[tracing::instrument(skip_all, fields(project = %project, dataset = %dataset))]
pub(super) async fn upload(
    State(linker): State<Linker>,
    Path((project, dataset)): Path<(String, String)>,
    Caller(caller): Caller,
    body: Bytes,
) -> Result<(StatusCode, Json<RekeyMapReceipt>), ApiError> {
    let receipt = blocking(move || {
        let actor = Actor::Caller(&caller);
        let config = match linker.authorise_rekey_map(&caller, &project, &dataset) {
            Ok(config) => config,
            Err(refused) => {
                linker.audit(
                    &actor,
                    "rekey_map",
                    Some(&project),
                    Some(&dataset),
                    "refused",
                    Some(refused.to_string()),
                );
                return Err(refused);
            }
        };
        linker.accept_rekey_map(&actor, &config, &dataset, body)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(receipt)))
}
