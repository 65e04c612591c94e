//! Stand-in for `src/sequence.rs`, the live credit / `request(n)` sequence diagram being
//! written on the `diagram` branch, with the same interface. Delete this file (and its
//! line in `lib.rs` and ARCHITECTURE.md) when `sequence.rs` lands on main. Until then it
//! draws the window's state from the snapshot: what the sender holds and what is on its
//! way back.

use crate::format;
use crate::theme::{css, Theme};
use bplab_engine::{Snapshot, TraceEvent};
use web_sys::HtmlCanvasElement;

#[derive(Default)]
pub struct SequenceDiagram;

impl SequenceDiagram {
    pub fn new() -> SequenceDiagram {
        SequenceDiagram
    }

    /// Whether the pipeline has a link with credits or `request(n)` to draw.
    pub fn applies(snap: &Snapshot) -> bool {
        snap.links.iter().any(Option::is_some)
    }

    pub fn ingest(&mut self, _trace: &[TraceEvent]) {}

    pub fn draw(&mut self, canvas: &HtmlCanvasElement, snap: &Snapshot, theme: &Theme) {
        use wasm_bindgen::JsCast;
        let dpr = crate::charts::fit(canvas);
        let Some(ctx) = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok())
        else {
            return;
        };
        let w = canvas.width() as f64;
        ctx.set_fill_style_str(&css(theme.bg, 1.0));
        ctx.fill_rect(0.0, 0.0, w, canvas.height() as f64);
        ctx.set_font(&format!("{}px sans-serif", (13.0 * dpr).round()));
        // One gauge per windowed link: what the sender holds, what is on its way back.
        let mut y = 14.0 * dpr;
        for (j, l) in snap.links.iter().enumerate() {
            let Some(l) = l else { continue };
            let what = if l.request { "demand (request n)" } else { "credits" };
            let total = (l.permits + l.in_transit).max(1) as f64;
            let bar_w = w - 24.0 * dpr;
            ctx.set_fill_style_str(&css(theme.fg, 1.0));
            let line = format!(
                "into node {j}: the sender holds {} {what}, {} on the way back",
                format::count(l.permits as f64),
                format::count(l.in_transit as f64)
            );
            let _ = ctx.fill_text(&line, 12.0 * dpr, y + 12.0 * dpr);
            y += 20.0 * dpr;
            ctx.set_fill_style_str(&css(theme.grid, 1.0));
            ctx.fill_rect(12.0 * dpr, y, bar_w, 10.0 * dpr);
            ctx.set_fill_style_str(&css(crate::theme::SKY, 1.0));
            ctx.fill_rect(12.0 * dpr, y, bar_w * l.permits as f64 / total, 10.0 * dpr);
            y += 24.0 * dpr;
        }
    }
}
