//! Support for pprl's end-to-end tests and benchmarks.

pub mod synth;
