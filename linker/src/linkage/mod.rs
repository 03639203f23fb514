//! Linkage, server side: the computation is the engine's
//! (`pprl_engine::linkage`, re-exported here); this module reads a run's
//! token files into the engine's [`Records`] ([`records`]) and writes the
//! linkage outputs ([`outputs`]). Runs and publication are managed by
//! [`crate::runs`].

pub mod outputs;
pub mod records;

pub use pprl_engine::linkage::*;
