//! Crash test for the linker's upload path (issue 3): being written.
