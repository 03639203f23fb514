//! pprl's synthetic data: a seeded population of prison leavers and their
//! records in partners' extracts, with realistic corruption and the ground
//! truth kept aside (`population`), the worked examples' generator settings
//! (`scenario`), a simple fixed-layout extract of the same people for tests
//! and benchmarks (`simple`), and the binary `pprl-generate` that writes
//! them.
//!
//! The people do not exist; the same seed gives the same bytes.

pub mod cli;
pub mod population;
pub mod rng;
pub mod scenario;
pub mod simple;

pub use rng::Rng;
