//! `pprl/v1`, the keyed half of the protocol core.
//!
//! Everything here holds or uses the project key: the key itself and its
//! key-file format ([`key`]), the HMAC of match keys and record references
//! ([`matchkey`]), the Bloom-filter encoder ([`bloom`]) and the test vectors
//! that pin them ([`vectors`]). What needs no key — normalisation, the
//! match-key definitions, the Bloom parameters and Dice, the token-file
//! schema and manifest — is in `pprl_specs`.
//!
//! The split is the privacy boundary made structural: the partner client
//! depends on this crate, the linker never does (`.ci/run` fails if
//! `cargo tree -p pprl-linker` lists it), so the linker cannot compute a
//! token. Like `pprl_specs`, this crate reads no files, opens no sockets and
//! asks no clock.

pub mod bloom;
pub mod key;
pub mod matchkey;
pub mod vectors;
