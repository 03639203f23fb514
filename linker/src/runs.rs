//! Linkage runs: take the current version of every dataset, link, and
//! publish the outputs atomically — everything or nothing.
//!
//! Publication order: outputs are written through the publication store
//! ([`crate::store::PublicationStore`]: by default a hidden folder, synced and
//! renamed to `publications/<project>/<run>/`), and only once it has
//! committed them are they recorded (with the person identifiers) in one
//! database transaction. A run that fails or is killed at any point leaves
//! the previous publication as the latest; the next start marks it failed
//! and deletes its unrecorded outputs.
//!
//! Two runs of a project never overlap: a run is a `running` row, inserted
//! only when the project has none (in one SQLite transaction), whichever
//! process starts it — the server's API, its scheduler, or `pprl-linker run`.
//! The row names its process, so a run whose process died is recognised as
//! interrupted and no longer blocks the project.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{Read, Write};

use ring::rand::{SecureRandom, SystemRandom};
use serde::Serialize;

use crate::cohort;
use crate::cohort::record_keys::CellKeySecret;
use crate::guard::{self, Figures, Verdict};
use crate::ids::{DatasetVersion, RunId, RunStatus, StartedBy};
use crate::linkage::outputs::{self, LINKS_FILE, MODEL_FILE, REPORT_FILE};
use crate::linkage::{self, DatasetInput, Records};
use crate::schedule::{self, Decision, Inputs};
use crate::service::{Actor, Linker, OpError, StaleDataset};
pub use crate::store::PublishedFile;
use crate::store::{
    Blob, PersonIdRecord, PublicationRecord, RunStart, StagedPublication, StoreError,
    VersionRecord, now,
};

/// How a run started by the scheduler ended.
#[derive(Debug)]
pub enum ScheduledOutcome {
    /// Nothing new to link: no run was started.
    Skipped(String),
    /// Another run of the project was in progress: none was started.
    Busy(String),
    Published(RunSummary),
    /// Waiting for datasets still on the retiring key after a rotation
    /// (issue 16): nothing was linked; not a failure, so not retried.
    Waiting(String),
    /// Linked but held by the guard before publishing: an outcome, not a
    /// failure, so it is not retried.
    Held(RunSummary),
    Failed {
        /// `None` when it failed before a run was started.
        run_id: Option<RunId>,
        error: String,
    },
}

/// What a finished run reports.
#[derive(Debug, Serialize)]
pub struct RunSummary {
    pub run_id: RunId,
    pub project: String,
    /// `succeeded` (published) or `held` (by the guard, not published).
    pub status: RunStatus,
    /// The guard's reasons: why the run was held, or why it would have
    /// been when an administrator accepted it. Empty when it passed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub guard: Vec<String>,
    /// Whether an administrator's accept overrode the guard.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub accepted: bool,
    /// What the guard compares, kept so the next run compares against it.
    pub guard_figures: Figures,
    pub records: usize,
    /// Records left out because a deletion list erased them (issue 17).
    #[serde(skip_serializing_if = "is_zero")]
    pub erased_records: usize,
    pub persons: usize,
    pub links_accepted: usize,
    pub estimated_precision: f64,
    pub estimated_recall: f64,
    pub new_persons: usize,
    pub merges: usize,
    pub splits: usize,
    /// People in the cohort, when the project defines one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cohort_persons: Option<usize>,
    pub files: Vec<PublishedFile>,
    /// Wall time of each stage of the run.
    pub seconds: RunSeconds,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Wall time of a run's stages, in seconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunSeconds {
    /// Reading the token files.
    pub load: f64,
    /// Linkage: blocking, comparison, model, clustering, identifiers.
    pub linkage: linkage::Timings,
    /// `links.parquet` (when published), `report.json`, `model.json`.
    pub outputs: f64,
    /// The cohort, its indicators and their files.
    pub cohort: f64,
    /// Syncing, checksums, the rename and the database transaction. Zero
    /// in the summary stored with the run, which that transaction writes.
    pub publish: f64,
}

impl std::fmt::Display for RunSeconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let l = &self.linkage;
        write!(
            f,
            "load {:.1} s, linkage {:.1} s (blocking {:.1}, compare {:.1}, model {:.1}, cluster {:.1}, ids {:.1}), outputs {:.1} s, cohort {:.1} s, publish {:.1} s",
            self.load,
            l.blocking + l.compare + l.model + l.cluster + l.identify,
            l.blocking,
            l.compare,
            l.model,
            l.cluster,
            l.identify,
            self.outputs,
            self.cohort,
            self.publish
        )
    }
}

/// The run operations of a [`Linker`] (`linker.runs()`): starting a run
/// under the project's lock, linking and publishing, the scheduler's
/// attempts, recovery after a crash, and reading the latest publication.
/// [`Linker`] itself (`service.rs`) holds the stores and the upload and
/// access operations; runs borrow it.
#[derive(Clone, Copy)]
pub struct Runs<'a> {
    linker: &'a Linker,
}

impl std::fmt::Debug for Runs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runs").finish_non_exhaustive()
    }
}

impl Linker {
    /// The run operations.
    pub fn runs(&self) -> Runs<'_> {
        Runs { linker: self }
    }
}

impl Runs<'_> {
    /// Starts a run record (a manual run); refused while another run of the
    /// project runs.
    pub fn begin_run(&self, project: &str, actor: &Actor<'_>) -> Result<RunId, OpError> {
        self.begin_run_as(project, actor, StartedBy::Manual, 1)
    }

    /// Starts a run record, started by `started_by`.
    pub fn begin_run_as(
        &self,
        project: &str,
        actor: &Actor<'_>,
        started_by: StartedBy,
        attempt: u32,
    ) -> Result<RunId, OpError> {
        self.linker.project_config(project)?;
        self.fail_dead_runs(Some(project), false)?;
        let start = RunStart {
            started_by,
            attempt,
            runner: process_identity(),
        };
        match self.linker.meta.start_run(project, &now(), &start) {
            Ok(id) => {
                self.linker.audit(
                    actor,
                    "start_run",
                    Some(project),
                    None,
                    "ok",
                    Some(format!("run {id} ({started_by}, attempt {attempt})")),
                );
                Ok(id)
            }
            Err(e @ StoreError::RunInProgress { .. }) => {
                let refused = OpError::from(e);
                self.linker.audit(
                    actor,
                    "start_run",
                    Some(project),
                    None,
                    "refused",
                    Some(refused.to_string()),
                );
                Err(refused)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Whether a run would link anything new: some dataset's current
    /// version differs from those the last publication used (or `force`).
    pub fn run_decision(&self, project: &str, force: bool) -> Result<Decision, OpError> {
        let config = self.linker.project_config(project)?;
        let mut current = Inputs::new();
        for v in self.linker.meta.versions(project, None)? {
            if config.dataset(&v.dataset).is_some() {
                let latest = current.entry(v.dataset).or_insert(v.version);
                *latest = (*latest).max(v.version);
            }
        }
        // A held run's inputs count as linked: the guard would hold them
        // again, so only a new version (or an accept) runs again.
        let last = self.linker.meta.runs(project)?.into_iter().rev().find(|r| {
            matches!(
                r.status,
                RunStatus::Succeeded | RunStatus::Held | RunStatus::Waiting
            )
        });
        let decision = schedule::decide(&current, last.as_ref().map(|r| &r.inputs), force);
        // A deletion list stored (or revoked) since the last run started
        // changes what a run publishes, as a new version does (issue 17).
        if let (Decision::Skip(_), Some(last)) = (&decision, &last)
            && self.linker.erasures_since(project, &last.started_at)?
        {
            return Ok(Decision::Run(
                "a deletion list was stored or revoked since the last run".to_owned(),
            ));
        }
        Ok(decision)
    }

    /// One attempt of a scheduled run: decides, starts and executes it.
    /// Blocking; CPU-heavy when it links.
    pub fn scheduled_run(&self, project: &str, attempt: u32) -> Result<ScheduledOutcome, OpError> {
        if let Decision::Skip(reason) = self.run_decision(project, false)? {
            return Ok(ScheduledOutcome::Skipped(reason));
        }
        let run_id = match self.begin_run_as(project, &Actor::System, StartedBy::Schedule, attempt)
        {
            Ok(id) => id,
            Err(e @ OpError::RunInProgress { .. }) => {
                return Ok(ScheduledOutcome::Busy(e.to_string()));
            }
            Err(e) => return Err(e),
        };
        // A scheduled run never overrides the guard.
        Ok(match self.execute_run(project, run_id, false) {
            Ok(summary) if summary.status == RunStatus::Held => ScheduledOutcome::Held(summary),
            Ok(summary) => ScheduledOutcome::Published(summary),
            Err(e @ OpError::MixedKeys { .. }) => ScheduledOutcome::Waiting(e.to_string()),
            Err(e) => ScheduledOutcome::Failed {
                run_id: Some(run_id),
                error: e.to_string(),
            },
        })
    }

    /// Runs linkage for a started run and publishes it unless the guard
    /// holds it (and `accept` does not override the guard). On failure the
    /// run is marked failed with its reason; failed or held, the previous
    /// publication stays the latest.
    pub fn execute_run(
        &self,
        project: &str,
        run_id: RunId,
        accept: bool,
    ) -> Result<RunSummary, OpError> {
        let result = self.link_and_publish(project, run_id, accept);
        if let Err(e) = &result {
            let message = e.to_string();
            // After a rotation, datasets still on the retiring key make the
            // run wait (issue 16): nothing is linked across key spaces, and
            // it is not a failure.
            let status = if matches!(e, OpError::MixedKeys { .. }) {
                tracing::warn!(project, run_id = run_id.0, reason = %message, "run waiting for datasets on the retiring key");
                RunStatus::Waiting
            } else {
                tracing::error!(project, run_id = run_id.0, error = %message, "linkage run failed");
                RunStatus::Failed
            };
            if let Err(store) =
                self.linker
                    .meta
                    .finish_run(run_id, status, &now(), Some(&message), None)
            {
                tracing::error!(error = %store, "could not record the unfinished run");
            }
        }
        let (outcome, detail) = match &result {
            Ok(s) if s.status == RunStatus::Held => (
                "held",
                format!(
                    "run {run_id} held by the guard, not published (the previous publication stays; publish it with `pprl-linker run --project {project} --accept`): {}",
                    s.guard.join("; ")
                ),
            ),
            Ok(s) => (
                "ok",
                format!(
                    "run {run_id} published: {} records, {} persons{}",
                    s.records,
                    s.persons,
                    if s.erased_records > 0 {
                        format!(
                            " ({} erased records left out by deletion lists)",
                            s.erased_records
                        )
                    } else {
                        String::new()
                    }
                ),
            ),
            Err(e @ OpError::MixedKeys { .. }) => ("waiting", format!("run {run_id} waiting: {e}")),
            Err(e) => ("failed", format!("run {run_id} failed: {e}")),
        };
        self.linker.audit(
            &Actor::System,
            "run",
            Some(project),
            None,
            outcome,
            Some(detail),
        );
        result
    }

    /// A one-shot run (for cron and `pprl-linker run`); `accept` publishes
    /// it even if the guard would hold it.
    pub fn run_once(
        &self,
        project: &str,
        actor: &Actor<'_>,
        accept: bool,
    ) -> Result<RunSummary, OpError> {
        let run_id = self.begin_run(project, actor)?;
        self.execute_run(project, run_id, accept)
    }

    /// The guard figures stored with the latest publication's run, if any
    /// (a publication made before the guard has none: nothing to compare).
    fn last_figures(&self, project: &str) -> Result<Option<Figures>, StoreError> {
        let Some(p) = self.linker.meta.latest_publication(project)? else {
            return Ok(None);
        };
        Ok(self
            .linker
            .meta
            .run(p.run_id)?
            .and_then(|r| r.summary)
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .and_then(|mut summary| {
                serde_json::from_value(summary.get_mut("guard_figures")?.take()).ok()
            }))
    }

    fn link_and_publish(
        &self,
        project: &str,
        run_id: RunId,
        accept: bool,
    ) -> Result<RunSummary, OpError> {
        let config = self.linker.project_config(project)?;
        let mut seconds = RunSeconds::default();
        // Sets a stage's time to the time since the last lap.
        fn lap(t: &mut f64, since: &mut std::time::Instant) {
            *t = since.elapsed().as_secs_f64();
            *since = std::time::Instant::now();
        }
        let mut since = std::time::Instant::now();
        let mut records = Records::new();
        let mut as_of = HashMap::new();
        let mut fields = outputs::FieldCounts::new();
        let mut current = Vec::new();
        let mut erased_records = 0usize;
        for dataset in &config.datasets {
            if let Some(version) = self
                .linker
                .meta
                .versions(project, Some(&dataset.name))?
                .pop()
            {
                current.push((dataset, version));
            }
        }
        // Recorded first, so that a run that waits (below) counts these
        // inputs as seen and the schedule waits for a new version.
        let seen: Inputs = current
            .iter()
            .map(|(d, v)| (d.name.clone(), v.version))
            .collect();
        self.linker.meta.record_run_inputs(
            run_id,
            &serde_json::to_string(&seen).expect("inputs serialise"),
        )?;
        refuse_mixed_keys(&config.fingerprint(), &current)?;
        self.refuse_not_rekeyed(project, &current)?;
        for (dataset, version) in current {
            if let Ok(at) = chrono::DateTime::parse_from_rfc3339(&version.uploaded_at) {
                as_of.insert(dataset.name.clone(), at.date_naive());
            }
            if let Ok(manifest) = pprl_specs::tokenfile::Manifest::from_json(&version.manifest_json)
            {
                fields.insert(dataset.name.clone(), manifest.quality.identifiers);
            }
            let input = DatasetInput {
                name: dataset.name.clone(),
                version: version.version.0,
                one_record_per_person: dataset.one_record_per_person,
                attribute_schema: Vec::new(),
                attributes: Vec::new(),
            };
            let cannot_load = |e: &dyn std::fmt::Display| OpError::DatasetUnreadable {
                dataset: dataset.name.clone(),
                reason: e.to_string(),
            };
            let blob = self
                .linker
                .blobs
                .open(&version.checksum)
                .map_err(|e| cannot_load(&e))?;
            // Records erased by the dataset's deletion lists (issue 17) are
            // never loaded: not linked, not in any output, no person id.
            let erased = self.linker.erased_refs(project, &dataset.name)?;
            erased_records +=
                linkage::records::load_from_except(&mut records, blob, input, &erased)
                    .map_err(|e| cannot_load(&e))?;
        }
        if records.datasets.is_empty() {
            return Err(OpError::NoUploads {
                project: project.to_owned(),
            });
        }
        let inputs: Inputs = records
            .datasets
            .iter()
            .map(|d| (d.name.clone(), DatasetVersion(d.version)))
            .collect();
        self.linker.meta.record_run_inputs(
            run_id,
            &serde_json::to_string(&inputs).expect("inputs serialise"),
        )?;
        lap(&mut seconds.load, &mut since);
        if config.publishes_links() {
            let missing = undeclared(config.links_attributes(), &records);
            if !missing.is_empty() {
                // Not a failure: a dataset not uploaded yet may declare them.
                tracing::warn!(
                    project,
                    attributes = %missing.join(", "),
                    "outputs.links_attributes names attributes no dataset of this run declares; links.parquet leaves them out"
                );
            }
        }
        let previous = self.previous_ids(project, &records)?;
        let rng = SystemRandom::new();
        let fresh = || {
            let mut bytes = [0u8; 8];
            rng.fill(&mut bytes)
                .expect("the operating system's random generator works");
            format!("p_{}", hex::encode(bytes))
        };
        let linkage = linkage::link(&records, &config.linkage, &previous, fresh);
        seconds.linkage = linkage.timings;
        since = std::time::Instant::now();
        let published_at = now();
        let report = outputs::report(
            project,
            run_id.0,
            &published_at,
            &records,
            &linkage,
            &fields,
        );

        // The guard before publishing.
        let converged = (config.linkage.method == linkage::LinkageMethod::Probabilistic)
            .then_some((linkage.model.converged, linkage.model.iterations));
        let figures = Figures::of(&report, linkage.model.lambda, converged);
        let last = self.last_figures(project)?;
        let reasons: Vec<String> =
            match guard::evaluate(&config.linkage.guard, &figures, last.as_ref()) {
                Verdict::Publish => Vec::new(),
                Verdict::Hold(reasons) => reasons.iter().map(ToString::to_string).collect(),
            };
        let mut summary = RunSummary {
            run_id,
            project: project.to_owned(),
            status: RunStatus::Succeeded,
            guard: reasons.clone(),
            accepted: accept && !reasons.is_empty(),
            guard_figures: figures,
            records: records.len(),
            erased_records,
            persons: linkage.clustering.clusters,
            links_accepted: linkage.stats.links_accepted,
            estimated_precision: linkage.stats.estimated_precision,
            estimated_recall: linkage.stats.estimated_recall,
            new_persons: linkage.changes.new_persons,
            merges: linkage.changes.merges.len(),
            splits: linkage.changes.splits.len(),
            cohort_persons: None,
            files: Vec::new(),
            seconds: seconds.clone(),
        };
        if !reasons.is_empty() {
            self.linker.meta.record_run_guard(run_id, &reasons)?;
            if !accept {
                // Nothing is written or recorded: no outputs, no person ids.
                summary.status = RunStatus::Held;
                let summary_json = serde_json::to_string(&summary).expect("summaries serialise");
                self.linker.meta.finish_run(
                    run_id,
                    RunStatus::Held,
                    &now(),
                    None,
                    Some(&summary_json),
                )?;
                tracing::warn!(project, run_id = run_id.0, reasons = %reasons.join("; "), "held by the guard");
                return Ok(summary);
            }
            self.linker.audit(
                &Actor::System,
                "guard_override",
                Some(project),
                None,
                "ok",
                Some(format!(
                    "run {run_id} published on an administrator's accept; the guard would have held it: {}",
                    reasons.join("; ")
                )),
            );
        }

        // Discarded unless committed: on every early return below.
        let mut staged = self.linker.publications.begin(project, run_id)?;
        let write_err = |reason: String| OpError::OutputsUnwritable { reason };
        // Record-level links only when the project publishes them (issue
        // 17), with the cohort's date precision and the selected attributes.
        if config.publishes_links() {
            let selection = outputs::LinksSelection {
                attributes: config.links_attributes(),
                date_precision: config.disclosure.date_precision,
            };
            outputs::write_links(staged.create(LINKS_FILE)?, &records, &linkage, &selection)
                .map_err(|e| write_err(e.to_string()))?;
        }
        write_json(staged.as_mut(), REPORT_FILE, &report)?;
        let model = outputs::ModelFile {
            fields: outputs::model_fields(),
            model: &linkage.model,
        };
        write_json(staged.as_mut(), MODEL_FILE, &model)?;
        lap(&mut seconds.outputs, &mut since);
        let history = self.outcomes_history(project, 11);
        // Issue 17: the project's cell-key secret, made on first use.
        let record_keys = self
            .linker
            .meta
            .cell_key_secret(project, CellKeySecret::generate())?
            .record_keys();
        let mut create = |name: &str| staged.create(name).map_err(std::io::Error::other);
        let cohort = cohort::publish(
            &mut create,
            &config,
            run_id.0,
            &published_at,
            &records,
            &linkage,
            &as_of,
            &history,
            &record_keys,
        )
        .map_err(OpError::Cohort)?;
        lap(&mut seconds.cohort, &mut since);
        // Synced, checksummed and moved into place; recorded only below.
        let files = staged.commit()?;

        let ids: Vec<PersonIdRecord> = (0..records.len())
            .map(|i| PersonIdRecord {
                dataset: records.datasets[records.dataset[i] as usize].name.clone(),
                record_ref: records.record_ref[i],
                person_id: linkage.person_ids[linkage.clustering.cluster[i] as usize].clone(),
            })
            .collect();
        summary.cohort_persons = cohort.as_ref().map(|c| c.persons);
        summary.files = files.clone();
        summary.seconds = seconds.clone();
        let publication = PublicationRecord {
            project: project.to_owned(),
            run_id,
            published_at,
            files: serde_json::to_string(&files).expect("file lists serialise"),
        };
        let summary_json = serde_json::to_string(&summary).expect("summaries serialise");
        self.linker
            .meta
            .publish(&publication, &ids, &summary_json)?;
        lap(&mut summary.seconds.publish, &mut since);
        tracing::info!(
            project,
            run_id = run_id.0,
            records = summary.records,
            persons = summary.persons,
            "published"
        );
        Ok(summary)
    }

    /// The outcomes reports of the project's last `limit` publications,
    /// oldest first (for the trends on the report page). Unreadable ones
    /// are skipped.
    fn outcomes_history(&self, project: &str, limit: usize) -> Vec<cohort::OutcomesReport> {
        let Ok(all) = self.linker.meta.publications() else {
            return Vec::new();
        };
        let mut runs: Vec<RunId> = all
            .into_iter()
            .filter(|p| p.project == project)
            .map(|p| p.run_id)
            .collect();
        runs.sort_unstable();
        let skip = runs.len().saturating_sub(limit);
        runs[skip..]
            .iter()
            .filter_map(|&run| {
                let mut text = Vec::new();
                self.linker
                    .publications
                    .open(project, run, cohort::OUTCOMES_FILE)
                    .ok()?
                    .read_to_end(&mut text)
                    .ok()?;
                serde_json::from_slice(&text).ok()
            })
            .collect()
    }

    /// Each record's identifier in the latest publication. A record
    /// re-uploaded under a new key after a rotation has the identifier of
    /// its reference under the old key, where the partner's re-key map
    /// pairs them (issue 16; maps in the order stored, so a record carries
    /// its identifier across several rotations).
    fn previous_ids(
        &self,
        project: &str,
        records: &Records,
    ) -> Result<Vec<Option<String>>, StoreError> {
        let mut known: HashMap<(String, [u8; 16]), String> = HashMap::new();
        for r in self.linker.meta.person_ids(project)? {
            known.insert((r.dataset, r.record_ref), r.person_id);
        }
        for pair in self.linker.meta.rekey_pairs(project)? {
            if let Some(id) = known.get(&(pair.dataset.clone(), pair.old_ref)).cloned() {
                known.entry((pair.dataset, pair.new_ref)).or_insert(id);
            }
        }
        Ok((0..records.len())
            .map(|i| {
                let dataset = &records.datasets[records.dataset[i] as usize].name;
                known.remove(&(dataset.clone(), records.record_ref[i]))
            })
            .collect())
    }

    /// After a crash: runs whose process is gone are marked failed, and
    /// output folders that no publication records (and no live run is
    /// writing) are deleted. Returns both counts.
    pub fn recover_runs(&self) -> Result<(usize, usize), StoreError> {
        let failed = self.fail_dead_runs(None, true)?;
        let live: HashSet<(String, RunId)> = self
            .linker
            .meta
            .running_runs()?
            .into_iter()
            .map(|r| (r.project, r.id))
            .collect();
        let published: HashSet<(String, RunId)> = self
            .linker
            .meta
            .publications()?
            .into_iter()
            .map(|p| (p.project, p.run_id))
            .collect();
        let mut removed = 0;
        for outputs in self.linker.publications.list()? {
            let key = |run| (outputs.project.clone(), run);
            if outputs.run.is_some_and(|run| live.contains(&key(run))) {
                continue;
            }
            let recorded =
                outputs.committed && outputs.run.is_some_and(|run| published.contains(&key(run)));
            if !recorded {
                self.linker.publications.remove(&outputs)?;
                removed += 1;
            }
        }
        Ok((failed, removed))
    }

    /// Marks failed the runs (of one project, or all) left `running` by a
    /// process that has stopped. A run whose process cannot be checked is
    /// left alone unless `unknown_is_dead` (at server start, when a run of
    /// this data folder with no living process cannot be in progress).
    fn fail_dead_runs(
        &self,
        project: Option<&str>,
        unknown_is_dead: bool,
    ) -> Result<usize, StoreError> {
        let mut failed = 0;
        for run in self.linker.meta.running_runs()? {
            if project.is_some_and(|p| p != run.project) {
                continue;
            }
            let dead = match process_alive(run.runner.as_deref()) {
                Some(alive) => !alive,
                None => unknown_is_dead,
            };
            if dead
                && self.linker.meta.fail_interrupted_run(
                    run.id,
                    &now(),
                    "interrupted: the process running it stopped before it finished",
                )?
            {
                tracing::warn!(project = %run.project, run_id = run.id.0, "marked an interrupted run failed");
                self.linker.audit(
                    &Actor::System,
                    "run",
                    Some(&run.project),
                    None,
                    "failed",
                    Some(format!("run {} interrupted: its process stopped", run.id)),
                );
                failed += 1;
            }
        }
        Ok(failed)
    }

    /// The latest publication's files, for a caller who may read them.
    pub fn latest_outputs(
        &self,
        project: &str,
    ) -> Result<(RunId, String, Vec<PublishedFile>), OpError> {
        let Some(p) = self.linker.meta.latest_publication(project)? else {
            return Err(OpError::NothingPublished {
                project: project.to_owned(),
            });
        };
        let files: Vec<PublishedFile> = serde_json::from_str(&p.files).map_err(|e| {
            OpError::Store(StoreError::Corrupt {
                what: "publication file list",
                value: e.to_string(),
            })
        })?;
        Ok((p.run_id, p.published_at, files))
    }

    /// One file of the latest publication, opened for reading.
    pub fn open_output(&self, project: &str, name: &str) -> Result<(Blob, PublishedFile), OpError> {
        let (run_id, _, files) = self.latest_outputs(project)?;
        let file = files
            .into_iter()
            .find(|f| f.name == name)
            .ok_or(OpError::NotFound)?;
        Ok((self.linker.publications.open(project, run_id, name)?, file))
    }
}

/// Writes `value` as the publication's file `name`, in pretty JSON.
fn write_json(
    staged: &mut dyn StagedPublication,
    name: &str,
    value: &impl Serialize,
) -> Result<(), OpError> {
    let text = serde_json::to_string_pretty(value).expect("reports serialise");
    let mut out = staged.create(name)?;
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| OpError::Store(e.into()))
}

/// This process, as `pid:start-time` (Linux); `None` where it cannot be told.
fn process_identity() -> Option<String> {
    identity_of("self")
}

fn identity_of(pid: &str) -> Option<String> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after it don't.
    let rest = &stat[stat.rfind(')')? + 1..];
    let start_time = rest.split_whitespace().nth(19)?;
    let pid = stat.split_whitespace().next()?;
    Some(format!("{pid}:{start_time}"))
}

/// Whether the process that started a run still runs; `None` if unknown.
/// The start time guards against a reused process id.
fn process_alive(runner: Option<&str>) -> Option<bool> {
    let runner = runner?;
    process_identity()?;
    let pid = runner.split(':').next()?;
    Some(identity_of(pid).as_deref() == Some(runner))
}

/// The names among `names` that no dataset of the run declares (a typo, or
/// a dataset not uploaded yet): `links.parquet` has no column for them.
fn undeclared<'a>(names: &'a [String], records: &Records) -> Vec<&'a str> {
    names
        .iter()
        .map(String::as_str)
        .filter(|n| {
            !records
                .datasets
                .iter()
                .any(|d| d.attribute_schema.iter().any(|f| f.name() == n))
        })
        .collect()
}

impl Runs<'_> {
    /// Refuses a run whose datasets' stored files were not all re-keyed
    /// under the project's re-keying secret (spec §10.4): their tokens would
    /// silently match nothing.
    fn refuse_not_rekeyed(
        &self,
        project: &str,
        current: &[(&crate::project::DatasetConfig, VersionRecord)],
    ) -> Result<(), OpError> {
        let secret = self
            .linker
            .secrets
            .rekey_secret(project)
            .map_err(crate::store::StoreError::Secrets)?;
        let mut stale = Vec::new();
        for (dataset, version) in current {
            // A file that cannot be read at all is the loader's to report.
            let unreadable = |e: &dyn std::fmt::Display| OpError::DatasetUnreadable {
                dataset: dataset.name.clone(),
                reason: e.to_string(),
            };
            let blob = self
                .linker
                .blobs
                .open(&version.checksum)
                .map_err(|e| unreadable(&e))?;
            let note = crate::rekey::note(blob).map_err(|e| unreadable(&e))?;
            if note.map(|n| n.secret_id).as_deref() != Some(secret.id()) {
                stale.push(StaleDataset {
                    dataset: dataset.name.clone(),
                    version: version.version.0,
                    fingerprint: version.key_fingerprint.clone(),
                });
            }
        }
        if stale.is_empty() {
            Ok(())
        } else {
            Err(OpError::NotRekeyed {
                expected: secret.id().to_owned(),
                stale,
            })
        }
    }
}

/// Refuses a run whose datasets' current versions were not all made with
/// the project's key (issue 16): after a key rotation, the datasets not yet
/// re-tokenised are named, and nothing is linked until they are.
fn refuse_mixed_keys(
    expected: &str,
    current: &[(&crate::project::DatasetConfig, VersionRecord)],
) -> Result<(), OpError> {
    let stale: Vec<StaleDataset> = current
        .iter()
        .filter(|(_, version)| !version.key_fingerprint.eq_ignore_ascii_case(expected))
        .map(|(dataset, version)| StaleDataset {
            dataset: dataset.name.clone(),
            version: version.version.0,
            fingerprint: version.key_fingerprint.clone(),
        })
        .collect();
    if stale.is_empty() {
        Ok(())
    } else {
        Err(OpError::MixedKeys {
            expected: expected.to_owned(),
            stale,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undeclared_links_attributes_are_found() {
        let mut records = Records::new();
        for (name, attributes) in [("a", vec!["release_date"]), ("b", vec!["offence_date"])] {
            records.datasets.push(DatasetInput {
                name: name.to_owned(),
                version: 1,
                one_record_per_person: false,
                attribute_schema: attributes
                    .into_iter()
                    .map(|n| arrow_schema::Field::new(n, arrow_schema::DataType::Date32, true))
                    .collect(),
                attributes: Vec::new(),
            });
        }
        let names = |n: &[&str]| n.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let both = names(&["offence_date", "release_date"]);
        assert!(undeclared(&both, &records).is_empty());
        assert!(undeclared(&[], &records).is_empty());
        let typo = names(&["release_dat", "offence_date"]);
        assert_eq!(undeclared(&typo, &records), ["release_dat"]);
    }

    #[test]
    fn a_process_is_known_alive_and_a_finished_one_dead() {
        let me = process_identity().expect("Linux exposes /proc");
        assert_eq!(process_alive(Some(&me)), Some(true));
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("`true` runs");
        let pid = child.id();
        child.wait().expect("`true` exits");
        assert_eq!(process_alive(Some(&format!("{pid}:1"))), Some(false));
        let (pid, _) = me.split_once(':').expect("pid:start");
        assert_eq!(
            process_alive(Some(&format!("{pid}:0"))),
            Some(false),
            "a reused process id with another start time is another process"
        );
        assert_eq!(process_alive(None), None);
    }
}
