//! Locating the workspace's binaries from tests, benchmarks and the demo.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Path of a workspace binary next to `exe` (a test, bench or demo binary),
/// building it with cargo if it is not there yet, or, when this process was
/// started by cargo (`cargo test`, `cargo bench`, `cargo run`), once per
/// process in any case, so that a stale binary from an older checkout is
/// never the one tested.
pub fn locate(name: &str, release: bool) -> PathBuf {
    static BUILT: std::sync::Mutex<Vec<(String, bool)>> = std::sync::Mutex::new(Vec::new());
    let exe = std::env::current_exe().expect("a running binary knows its path");
    let mut dir = exe
        .parent()
        .expect("binaries live in a directory")
        .to_path_buf();
    // Tests and benches live in target/<profile>/deps; binaries in target/<profile>.
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir = dir
            .parent()
            .map(Path::to_path_buf)
            .expect("deps has a parent");
    }
    let path = dir.join(name);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let under_cargo = std::env::var_os("CARGO").is_some();
    // One build makes every binary of the workspace.
    let done = built.iter().any(|(_, r)| *r == release);
    if !path.exists() || (under_cargo && !done) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut cmd = Command::new(cargo);
        // All the workspace's binaries, with the features unified as in
        // `cargo build --workspace`: `-p NAME` alone would resolve features
        // differently and rebuild shared dependencies (ring, rustls) every
        // time tests and binaries alternate.
        cmd.args(["build", "--workspace", "--bins"]);
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("cargo runs");
        assert!(
            status.success(),
            "cargo build --workspace --bins failed (building {name})"
        );
        built.push((name.to_owned(), release));
    }
    path
}
