//! Backpressure Lab's page (Leptos, client-side rendered): a thin shell around the engine.
//!
//! Layers, each using only those before it (checked by the `layering` test):
//! - pure Rust, tested natively: `format`, `html`, `theme`, `stats`, `pacing` (the frame
//!   policy), `plotdata`, `knobs`, `narrate`, `driver`, `lanes`;
//! - the browser: `dom` (clock, media queries, the animation loop) and `canvas` (fitting,
//!   geometry, measured text, the pen);
//! - drawing on canvases from plain data: `charts`, `diagram`, `sequence`;
//! - `state`: the `Lab` and its actions;
//! - views: `controls`, `readouts`, `observe`, `stage` (the simulator and its loop),
//!   `compare` (the comparison and its loop), `address` (the experiment as a link: the
//!   address bar, a link's problems), `exports` (CSV, JSON and PNG
//!   downloads, scenario files opened), `embed` (the compact layout of `embed=1` and the
//!   Share dialog: the link and the snippet);
//! - `app`: the shell that lays the views out.

pub mod address;
pub mod app;
pub mod canvas;
pub mod charts;
pub mod compare;
pub mod content;
pub mod controls;
pub mod diagram;
pub mod dom;
pub mod driver;
pub mod embed;
pub mod exports;
pub mod format;
pub mod html;
pub mod knobs;
pub mod lanes;
pub mod narrate;
pub mod observe;
pub mod pacing;
pub mod plotdata;
pub mod readouts;
pub mod sequence;
pub mod stage;
pub mod state;
pub mod stats;
pub mod teach;
pub mod theme;

#[cfg(test)]
mod layering;

pub use app::App;
