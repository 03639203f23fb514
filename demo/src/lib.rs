//! The demo and what it shares with the end-to-end tests and the benches:
//! the worked example played end to end with the real binaries
//! (`walkthrough`), the one starter of `pprl-linker serve` processes
//! (`server`), locating or building the workspace's binaries (`bins`), and
//! the command line of the binary `pprl-demo` (`cli`).

pub mod bins;
pub mod cli;
pub mod server;
pub mod walkthrough;
