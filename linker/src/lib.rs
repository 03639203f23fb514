//! The pprl linkage server.
//!
//! Not built yet: the HTTP API, storage and the linkage engine arrive with
//! issues 3 and 4. The crate exists so the workspace has its final shape and
//! so the linker's dependency on the spec crate (schema and manifest only,
//! never the key) is fixed from the start.

/// The spec version this linker accepts.
pub const ACCEPTED_SPEC_VERSION: &str = pprl_specs::SPEC_VERSION;
