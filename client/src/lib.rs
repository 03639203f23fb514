//! The pprl partner and evaluator client, as a library behind the
//! `pprl-client` binary. It holds the project key; the linker never does.

pub mod cli;
pub mod config;
pub mod erasure;
#[cfg(test)]
mod fuzz;
pub mod input;
pub mod inspect;
pub mod keyfile;
pub mod rekey;
pub mod remote;
pub mod row;
pub mod seal;
pub mod tokenise;
pub mod writer;
