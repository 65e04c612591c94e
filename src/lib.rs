//! Backpressure Lab's page (Leptos, client-side rendered): a thin shell around the engine.
//!
//! `app` holds the state, the layout and the shortcuts; `controls`, `readouts`, `observe`
//! and `compare` are the DOM parts; `stage` and `compare` run the animation loops that
//! feed `diagram`, `sequence` and `charts`, which draw on canvases from plain data.
//! `driver`, `lanes`, `knobs`, `plotdata`, `narrate`, `stats` and `format` are pure Rust
//! and tested natively.

pub mod app;
pub mod charts;
pub mod compare;
pub mod controls;
pub mod diagram;
pub mod driver;
pub mod format;
pub mod knobs;
pub mod lanes;
pub mod narrate;
pub mod observe;
pub mod plotdata;
pub mod readouts;
pub mod sequence;
pub mod stage;
pub mod stats;
pub mod theme;

pub use app::App;
