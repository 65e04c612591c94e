//! Backpressure Lab's page (Leptos, client-side rendered): a thin shell around the engine.
//!
//! `app` holds the state and the animation loop; `controls` and `readouts` are the DOM
//! parts; `diagram` and `charts` draw on canvases from plain data; `driver`, `knobs` and
//! `format` are pure Rust and tested natively.

pub mod app;
pub mod charts;
pub mod controls;
pub mod diagram;
pub mod driver;
pub mod format;
pub mod knobs;
pub mod readouts;
pub mod sequence;
pub mod theme;

pub use app::App;
