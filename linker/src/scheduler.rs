//! The nightly scheduler inside `pprl-linker serve`: one task per project
//! with a [`schedule`](crate::schedule), each sleeping until its next due
//! time, then starting a run if some dataset has a new version since the
//! last publication, and retrying a failed run with back-off.
//!
//! A supervisor re-reads the project configs every [`RESCAN`], so a schedule
//! added, changed or removed with `update-project` takes effect without a
//! restart. A project's task runs one attempt at a time, and every run —
//! scheduled, API or `pprl-linker run` — takes the project's run lock in the
//! database, so two runs of a project never overlap: a scheduled run that
//! finds another in progress is skipped until its next due time.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use tokio::task::JoinHandle;

use crate::runs::ScheduledOutcome;
use crate::schedule::{ScheduleConfig, next_due};
use crate::service::{Actor, Linker, OpError};

/// How often the supervisor re-reads the project configs.
pub const RESCAN: Duration = Duration::from_secs(10);
/// Longest single sleep, so a changed wall clock is noticed.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// Starts the scheduler; it runs until the runtime stops (or the handle is
/// aborted).
pub fn spawn(linker: Linker) -> JoinHandle<()> {
    tokio::spawn(supervise(linker))
}

/// Keeps one task per scheduled project, in step with the configs.
async fn supervise(linker: Linker) {
    let mut tasks: HashMap<String, (ScheduleConfig, JoinHandle<()>)> = HashMap::new();
    loop {
        let reader = linker.clone();
        match tokio::task::spawn_blocking(move || scheduled_projects(&reader)).await {
            Ok(Ok(wanted)) => {
                tasks.retain(|name, (schedule, task)| {
                    let keep = wanted.get(name) == Some(schedule);
                    if !keep {
                        task.abort();
                    }
                    keep
                });
                for (name, schedule) in wanted {
                    if let std::collections::hash_map::Entry::Vacant(slot) = tasks.entry(name) {
                        let name = slot.key().clone();
                        tracing::info!(project = %name, cron = %schedule.cron, "schedule active");
                        let task =
                            tokio::spawn(project_loop(linker.clone(), name, schedule.clone()));
                        slot.insert((schedule, task));
                    }
                }
            }
            Ok(Err(e)) => tracing::error!(error = %e, "scheduler cannot read the projects"),
            Err(e) => tracing::error!(error = %e, "scheduler task failed"),
        }
        tokio::time::sleep(RESCAN).await;
    }
}

/// Projects that have a schedule, with it.
fn scheduled_projects(linker: &Linker) -> Result<HashMap<String, ScheduleConfig>, OpError> {
    let mut out = HashMap::new();
    for record in linker.meta.projects()? {
        match linker.project_config(&record.name) {
            Ok(config) => {
                if let Some(schedule) = config.schedule {
                    out.insert(record.name, schedule);
                }
            }
            Err(e) => {
                tracing::error!(project = %record.name, error = %e, "cannot read the project config")
            }
        }
    }
    Ok(out)
}

/// One project: sleep until due, then run (with retries), forever.
async fn project_loop(linker: Linker, project: String, schedule: ScheduleConfig) {
    let cron = match schedule.parse() {
        Ok(cron) => cron,
        Err(e) => {
            // Configs are checked when stored; only a hand-edited database gets here.
            tracing::error!(project = %project, error = %e, "schedule ignored");
            return;
        }
    };
    loop {
        let Some(due) = next_due(&cron, Utc::now()) else {
            tracing::warn!(project = %project, cron = %schedule.cron, "the schedule never fires again");
            return;
        };
        sleep_until(due).await;
        attempts(&linker, &project, &schedule).await;
    }
}

/// Sleeps until the wall clock reaches `due`.
async fn sleep_until(due: chrono::DateTime<Utc>) {
    loop {
        let left = (due - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        if left.is_zero() {
            return;
        }
        tokio::time::sleep(left.min(MAX_SLEEP)).await;
    }
}

/// Up to `max_attempts` attempts of one scheduled run, waiting
/// `retry_delay(n)` after failed attempt `n`.
async fn attempts(linker: &Linker, project: &str, schedule: &ScheduleConfig) {
    for attempt in 1..=schedule.max_attempts {
        let (l, p) = (linker.clone(), project.to_owned());
        let outcome =
            match tokio::task::spawn_blocking(move || l.runs().scheduled_run(&p, attempt)).await {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(e)) => ScheduledOutcome::Failed {
                    run_id: None,
                    error: e.to_string(),
                },
                Err(e) => ScheduledOutcome::Failed {
                    run_id: None,
                    error: format!("the run's task failed: {e}"),
                },
            };
        match outcome {
            ScheduledOutcome::Skipped(reason) => {
                tracing::debug!(project, reason = %reason, "scheduled run skipped");
                return;
            }
            ScheduledOutcome::Busy(reason) => {
                tracing::info!(project, reason = %reason, "scheduled run skipped");
                return;
            }
            ScheduledOutcome::Published(summary) => {
                tracing::info!(
                    project,
                    run_id = summary.run_id.0,
                    attempt,
                    "scheduled run published"
                );
                return;
            }
            ScheduledOutcome::Held(summary) => {
                // An outcome, not a failure: not retried (the run's own
                // audit entry gives the reasons), and the next due time
                // skips these inputs unless a dataset gets a new version.
                tracing::warn!(
                    project,
                    run_id = summary.run_id.0,
                    attempt,
                    reasons = %summary.guard.join("; "),
                    "scheduled run held by the guard"
                );
                return;
            }
            ScheduledOutcome::Waiting(reason) => {
                // After a key rotation (issue 16): waits for the partners
                // still on the retiring key; a new version runs again.
                tracing::warn!(project, attempt, reason = %reason, "scheduled run waiting");
                return;
            }
            ScheduledOutcome::Failed { run_id, error } => {
                let (l, p) = (linker.clone(), project.to_owned());
                let last = attempt == schedule.max_attempts;
                let delay = schedule.retry_delay(attempt);
                let run = match run_id {
                    None => "before a run started".to_owned(),
                    Some(id) => format!("run {id}"),
                };
                let detail = if last {
                    format!(
                        "gave up after {attempt} attempts; the last ({run}) failed: {error}; the previous publication stays"
                    )
                } else {
                    format!(
                        "attempt {attempt} of {} ({run}) failed: {error}; retrying in {}s",
                        schedule.max_attempts,
                        delay.as_secs()
                    )
                };
                tracing::error!(project, run_id = run_id.map(|r| r.0), attempt, "{detail}");
                let _ = tokio::task::spawn_blocking(move || {
                    l.audit(
                        &Actor::System,
                        "scheduled_run",
                        Some(&p),
                        None,
                        "failed",
                        Some(detail),
                    );
                })
                .await;
                if last {
                    return;
                }
                tokio::time::sleep(delay).await;
            }
        }
    }
}
