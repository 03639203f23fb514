//! Cohorts and outcome indicators: who is in the cohort, their group
//! (participant or comparison), and each outcome in a window after the
//! index date, published as `cohort.parquet` (one row per person),
//! `outcomes.json` and `outcomes.html` (aggregates under disclosure control).
//!
//! The computation is the engine's (`pprl_engine::cohort`: [`config`],
//! [`build`], [`disclosure`], [`stats`], [`report`], re-exported here);
//! this module writes the outputs: [`parquet`], [`html`] and the report,
//! and supplies the engine with each person's secret record key for the
//! cell-key method ([`record_keys`]). [`crate::runs`] calls [`publish`]
//! inside a run, so the cohort is published with the links or not at all.
//!
//! Architecture invariant: nothing here writes a token, a record reference,
//! or an aggregate count that the disclosure rules forbid.

pub mod html;
pub mod parquet;
pub mod record_keys;

pub use pprl_engine::cohort::{
    build, comparison_report, config, disclosure, evaluation, report, stats, survival,
};

use std::collections::HashMap;
use std::io::Write;

use chrono::NaiveDate;

use crate::linkage::{Linkage, Records};
use crate::project::ProjectConfig;
use record_keys::RecordKeys;

pub use build::{Cohort, CohortError};
pub use report::OutcomesReport;

/// File name of the outcomes report.
pub const OUTCOMES_FILE: &str = "outcomes.json";

/// The file names a run with a cohort definition publishes (all but
/// `cohort.parquet` when the cohort is under `min_cohort`).
pub const FILES: [&str; 3] = [parquet::COHORT_FILE, OUTCOMES_FILE, html::HTML_FILE];

/// Why the cohort outputs of a run could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The definitions read attributes the current versions do not declare.
    #[error("cohort definition: {0}")]
    Definition(config::ColumnError),
    #[error(transparent)]
    Build(#[from] build::CohortError),
    #[error("cannot write {file}: {reason}")]
    Write { file: &'static str, reason: String },
}

/// What [`publish`] wrote.
#[derive(Debug)]
pub struct Published {
    pub persons: usize,
    pub report: OutcomesReport,
}

/// Builds the cohort of a run and writes its three files, each to the writer
/// `create` opens for its name.
/// `as_of` gives each dataset's default follow-up date; `history` holds
/// earlier runs' reports, oldest first, for the page's trends;
/// `record_keys` are the project's (see [`record_keys`]).
#[allow(clippy::too_many_arguments, reason = "the run's context, passed in")]
pub fn publish(
    create: &mut dyn FnMut(&str) -> std::io::Result<Box<dyn Write + Send>>,
    config: &ProjectConfig,
    run_id: u64,
    created_at: &str,
    records: &Records,
    linkage: &Linkage,
    as_of: &HashMap<String, NaiveDate>,
    history: &[OutcomesReport],
    record_keys: &RecordKeys,
) -> Result<Option<Published>, PublishError> {
    let Some(cohort_config) = &config.cohort else {
        return Ok(None);
    };
    let settings = config.cohort_settings().expect("a cohort is configured");
    settings
        .check_columns(|dataset| {
            records
                .datasets
                .iter()
                .find(|d| d.name == dataset)
                .map(|d| {
                    d.attribute_schema
                        .iter()
                        .map(|f| (f.name().clone(), f.data_type().clone()))
                        .collect()
                })
        })
        .map_err(PublishError::Definition)?;
    let cohort = build::build(records, linkage, cohort_config, &config.outcomes, as_of)?;
    let keys: Vec<_> = cohort
        .members
        .iter()
        .map(|m| record_keys.key(&m.person_id))
        .collect();
    let report = report::report(
        &config.name,
        run_id,
        created_at,
        &cohort,
        &config.disclosure,
        &keys,
    );
    // A cohort too small for a report is too small for its record-level
    // file too (issue 17): `outcomes.json` says why, and no
    // `cohort.parquet` is published.
    if report.withheld.is_none() {
        create(parquet::COHORT_FILE)
            .map_err(::parquet::errors::ParquetError::from)
            .and_then(|out| parquet::write(out, &cohort, config.disclosure.date_precision))
            .map_err(|e| PublishError::Write {
                file: parquet::COHORT_FILE,
                reason: e.to_string(),
            })?;
    }
    let json = serde_json::to_string_pretty(&report).expect("reports serialise");
    let mut write = |name: &'static str, bytes: &[u8]| {
        create(name)
            .and_then(|mut out| out.write_all(bytes).and_then(|()| out.flush()))
            .map_err(|e| PublishError::Write {
                file: name,
                reason: e.to_string(),
            })
    };
    write(OUTCOMES_FILE, json.as_bytes())?;
    write(html::HTML_FILE, html::render(&report, history).as_bytes())?;
    Ok(Some(Published {
        persons: cohort.members.len(),
        report,
    }))
}
