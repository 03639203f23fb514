//! Linkage runs: start one, follow it, and see the schedule.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::caller::require_admin;
use super::{ApiError, Caller, blocking};
use crate::ids::RunId;
use crate::schedule::Decision;
use crate::service::{Actor, Linker, OpError};

#[derive(Deserialize)]
pub(super) struct StartRunQuery {
    /// `false`: run only if some dataset has a new version since the last
    /// publication. Manual runs are forced by default.
    force: Option<bool>,
    /// `true`: publish even if the guard before publishing would hold the
    /// run (audited with the reasons). Default `false`.
    accept: Option<bool>,
}

/// `POST /v1/projects/{project}/runs[?force=false][&accept=true]`: starts a
/// linkage run in the background; refused (409) while another run of the
/// project runs. A run the guard holds ends `held`, unless `accept=true`.
#[tracing::instrument(skip_all, fields(project = %project))]
pub(super) async fn start_run(
    State(linker): State<Linker>,
    Path(project): Path<String>,
    Query(query): Query<StartRunQuery>,
    Caller(caller): Caller,
) -> Result<Response, ApiError> {
    require_admin(&caller)?;
    let force = query.force.unwrap_or(true);
    let accept = query.accept.unwrap_or(false);
    let started = {
        let (linker, project) = (linker.clone(), project.clone());
        blocking(move || {
            if let Decision::Skip(reason) = linker.runs().run_decision(&project, force)? {
                return Ok(Err(reason));
            }
            linker.runs().begin_run(&project, &Actor::Caller(&caller)).map(Ok)
        })
        .await
        .map_err(|e| {
            if e.status == StatusCode::CONFLICT {
                e.hint("follow the run in progress with GET /v1/projects/{project}/runs, then start another if needed")
            } else {
                e
            }
        })?
    };
    let run_id = match started {
        Ok(run_id) => run_id,
        Err(reason) => {
            return Ok(
                Json(serde_json::json!({"status": "skipped", "reason": reason})).into_response(),
            );
        }
    };
    // CPU-heavy: a blocking thread, not an async one.
    tokio::task::spawn_blocking(move || {
        let _ = linker.runs().execute_run(&project, run_id, accept);
    });
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({"run_id": run_id, "status": "running"})),
    )
        .into_response())
}

/// A project's runs and schedule, for `GET /v1/projects/{project}/runs`.
#[derive(Serialize)]
pub(super) struct RunsView {
    project: String,
    /// The schedule, if any, with its next due time.
    schedule: Option<ScheduleView>,
    /// Whether a run now would link anything new, and why.
    new_versions: bool,
    reason: String,
    /// Newest first.
    runs: Vec<crate::store::RunRecord>,
}

#[derive(Serialize)]
pub(super) struct ScheduleView {
    cron: String,
    max_attempts: u32,
    retry_after_seconds: u64,
    next_due: Option<String>,
}

/// `GET /v1/projects/{project}/runs`: the schedule and every run, newest first.
pub(super) async fn list_runs(
    State(linker): State<Linker>,
    Path(project): Path<String>,
    Caller(caller): Caller,
) -> Result<Json<RunsView>, ApiError> {
    require_admin(&caller)?;
    let view = blocking(move || {
        let config = linker.project_config(&project)?;
        let schedule = config.schedule.map(|s| ScheduleView {
            next_due: s
                .parse()
                .ok()
                .and_then(|cron| crate::schedule::next_due(&cron, chrono::Utc::now()))
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            cron: s.cron,
            max_attempts: s.max_attempts,
            retry_after_seconds: s.retry_after_seconds,
        });
        let (new_versions, reason) = match linker.runs().run_decision(&project, false)? {
            Decision::Run(reason) => (true, reason),
            Decision::Skip(reason) => (false, reason),
        };
        let mut runs = linker.meta.runs(&project)?;
        runs.reverse();
        Ok(RunsView {
            project,
            schedule,
            new_versions,
            reason,
            runs,
        })
    })
    .await?;
    Ok(Json(view))
}

/// `GET /v1/projects/{project}/runs/{run}`: a run's status.
pub(super) async fn run_status(
    State(linker): State<Linker>,
    Path((project, run)): Path<(String, RunId)>,
    Caller(caller): Caller,
) -> Result<Json<crate::store::RunRecord>, ApiError> {
    require_admin(&caller)?;
    let record = blocking(move || linker.meta.run(run).map_err(OpError::from)).await?;
    match record {
        Some(r) if r.project == project => Ok(Json(r)),
        _ => Err(OpError::NotFound.into()),
    }
}
