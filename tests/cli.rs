//! End-to-end tests of the `strand` binary.

mod common;
