//! `pprl/v1`, the protocol core of pprl.
//!
//! This crate is the executable half of the specification in `specs/spec/`:
//! normalisation of identifiers, key derivation, match-key tokens, the
//! record-level Bloom-filter encoding and the token-file schema and manifest.
//! It takes values and returns values: it reads no files, opens no sockets
//! and asks no clock. Time and randomness are passed in by the caller.
//!
//! The linker depends on this crate for the schema and the manifest, but it
//! never holds a [`key::ProjectKey`]: only partners compute tokens.

pub mod bloom;
pub mod key;
pub mod matchkey;
pub mod normalise;
pub mod record;
pub mod tokenfile;
pub mod vectors;

/// The version of the protocol this crate implements (spec §1).
pub const SPEC_VERSION: &str = "pprl/v1";
