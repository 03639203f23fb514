//! `pprl/v1`, the protocol core of pprl.
//!
//! This crate is the executable half of the specification in `specs/spec/`
//! that needs no key: normalisation of identifiers, the match-key
//! definitions and their canonical messages, the Bloom-filter parameters and
//! the Dice comparison, the key constants and fingerprint type, and the
//! token-file schema and manifest. It takes values and returns values: it
//! reads no files, opens no sockets and asks no clock. Time and randomness
//! are passed in by the caller.
//!
//! The keyed half — the project key, derivation, the match-key HMAC and the
//! Bloom encoder, and the test vectors — is the crate `pprl-keyed`. Both the
//! client and the linker depend on this crate; only the client depends on
//! `pprl-keyed`, so the linker cannot compute a token.

pub mod bloom;
pub mod deletion;
pub mod key;
mod listfile;
pub mod matchkey;
pub mod normalise;
pub mod record;
pub mod rekeymap;
pub mod sealing;
pub mod tokenfile;

/// The version of the protocol this crate implements (spec §1).
pub const SPEC_VERSION: &str = "pprl/v1";
