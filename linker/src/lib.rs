//! The pprl linkage server.
//!
//! Partners upload token files; the linker checks each against its project
//! (key fingerprint, spec version, schema, row count) and keeps it as a new
//! version of the dataset. It never holds the project key: it does not depend
//! on `pprl-keyed`, so it cannot compute a token. The linkage and cohort
//! computation is `pprl-engine`'s; this crate loads, stores, writes and
//! publishes.
//!
//! The server is a function: [`api::router`] builds the routes over a
//! [`service::Linker`], and [`serve`] runs them on a listener until a shutdown
//! signal, so tests start it on a loopback port.

pub mod api;
pub mod auth;
pub mod cli;
pub mod cohort;
pub mod erasure;
pub mod guard;
pub mod ids;
pub mod keys;
pub mod linkage;
pub mod project;
pub mod rekey;
pub mod rekey_map;
pub mod runs;
pub mod schedule;
pub mod scheduler;
pub mod sealed;
pub mod secrets;
pub mod service;
pub mod settings;
pub mod store;
pub mod validate;

#[cfg(test)]
mod fuzz;

use std::future::Future;

/// The spec versions this linker accepts: `pprl/v2` and the `pprl/v1` it
/// extends (spec §1.3), read with the keys `pprl/v2` appended null.
pub const ACCEPTED_SPEC_VERSIONS: &str = pprl_specs::READABLE_SPEC_VERSIONS;

/// Serves the API on `listener` until `shutdown` completes; requests in
/// flight are finished first (an upload cut off mid-body is abandoned and
/// its staged file removed).
pub async fn serve(
    listener: tokio::net::TcpListener,
    linker: service::Linker,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, api::router(linker))
        .with_graceful_shutdown(shutdown)
        .await
}
