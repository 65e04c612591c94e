//! The native integration tests, one binary (see matklad's "one big test binary").
//! Engine behaviour against the incident's arithmetic, and tidiness. (The CLI's contract is
//! tested beside it, in `crates/cli/tests`, where its binary is built.)
#![cfg(not(target_arch = "wasm32"))]

mod engine;
mod tidy;
