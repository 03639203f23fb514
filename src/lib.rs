//! Support for pprl's end-to-end tests, benchmarks, examples and demo.

pub mod bins;
pub mod cli;
pub mod walkthrough;
