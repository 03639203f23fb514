//! End-to-end tests: the real binaries, on real files (and, from issue 3 on,
//! a real linker on a loopback port).

mod client;
mod cohort;
mod corpus;
mod crash;
mod erasure;
mod evaluation;
mod examples;
mod guard;
mod keys;
mod linkage;
mod linker;
mod nightly;
mod readme;
mod rotation;
mod sealing;
mod support;
