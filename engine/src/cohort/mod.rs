//! Cohorts and outcome indicators, computed: who is in the cohort, their
//! group (participant or comparison), each outcome in a window after the
//! index date, and the aggregates under disclosure control.
//!
//! [`config`] holds the definitions (embedded in the project config);
//! [`build`] is the computation over a run's linked records; [`disclosure`]
//! (with the cell-key method's [`ptable`]) and [`stats`] protect and
//! summarise; [`report`] assembles the outcomes
//! report from the published counts. The server writes `cohort.parquet`,
//! `outcomes.json` and `outcomes.html` from what these return.

pub mod build;
pub mod comparison_report;
pub mod config;
pub mod disclosure;
pub mod evaluation;
pub mod matching;
pub mod propensity;
pub mod ptable;
pub mod report;
pub mod stats;
pub mod survival;

#[cfg(test)]
mod issue18;
#[cfg(test)]
mod props;

pub use build::{Cohort, CohortError};
pub use report::OutcomesReport;
