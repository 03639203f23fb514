//! Locating the workspace's binaries from tests, benchmarks and the demo.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Path of a workspace binary next to `exe` (a test, bench or demo binary),
/// building it with cargo if it is not there yet.
pub fn locate(name: &str, release: bool) -> PathBuf {
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
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut cmd = Command::new(cargo);
        // Each binary is the package of the same name; `-p` finds it from any
        // workspace member (the root package's default scope does not).
        cmd.args(["build", "-p", name, "--bin", name]);
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("cargo runs");
        assert!(
            status.success(),
            "cargo build -p {name} --bin {name} failed"
        );
    }
    path
}
