//! Support for pprl's end-to-end tests, benchmarks and demo.

pub mod bins;
pub mod population;
pub mod synth;
