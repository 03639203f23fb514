//! The pprl engine: pure computation from a run's records to linked persons
//! and, when the project defines one, a cohort with its outcome indicators
//! under disclosure control.
//!
//! It takes values and returns values. It reads and writes no files, knows
//! nothing of Parquet, HTTP or storage, and does not see the project
//! configuration: it has its own settings types ([`linkage::LinkageConfig`],
//! [`cohort::config`]) that the server's project configuration embeds. The
//! server (`pprl-linker`) loads token files into [`linkage::Records`],
//! calls [`linkage::link`] and [`cohort::build::build`], and writes and
//! publishes what they return.
//!
//! Architecture invariant: nothing here can compute a token (this crate does
//! not depend on `pprl-keyed`), and nothing it returns for publication holds
//! a token or a record reference.

pub mod cohort;
pub mod linkage;
