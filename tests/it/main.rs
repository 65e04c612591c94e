//! The native integration tests, one binary (see matklad's "one big test binary").
//! Engine behaviour against the incident's arithmetic, against queueing theory (`theory`:
//! M/M/1, M/D/1, M/M/1/K, M/M/c, D/D/1, Little's law on every preset), property tests over
//! random scenarios and invalid input (`props`), the producer's heap and its OOM kills
//! (`memory`), the credit and `request(n)` protocols message by message (`credit`), and
//! tidiness. (The CLI's contract is tested
//! beside it, in `crates/cli/tests`, where its binary is built.)
#![cfg(not(target_arch = "wasm32"))]

mod credit;
mod engine;
mod flow;
mod group;
mod knobpaths;
mod links;
mod memory;
mod props;
mod teach;
mod theory;
mod tidy;
