//! The canvas toolkit shared by the diagram, the sequence diagram and the charts: a
//! canvas fitted to its on-screen size and its 2D context, geometry ([`geom`]), measured
//! text that fits ([`text`]) and the pen that draws shapes and labels ([`pen`]).

pub mod geom;
pub mod pen;
pub mod text;

pub use geom::{along, overlapping, Rect, P};
pub use pen::{measure_text, Align, Pen};
pub use text::{Font, Measure, WidthCache};

use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// Sizes the canvas's backing store to its on-screen size times the device pixel ratio;
/// returns that ratio (the scale for line widths and fonts).
pub fn fit(canvas: &HtmlCanvasElement) -> f64 {
    let dpr = web_sys::window().map(|w| w.device_pixel_ratio()).unwrap_or(1.0).clamp(1.0, 3.0);
    let (w, h) = (canvas.client_width().max(200) as f64, canvas.client_height().max(120) as f64);
    let (pw, ph) = ((w * dpr).round() as u32, (h * dpr).round() as u32);
    if canvas.width() != pw || canvas.height() != ph {
        canvas.set_width(pw);
        canvas.set_height(ph);
    }
    dpr
}

/// The canvas's 2D context.
pub fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok()??.dyn_into().ok()
}

/// A self-check for development: with `window.__bplabTextCheck = true`, debug builds log
/// labels that overlap. Known false in release builds, so the check (and the `{:?}`
/// formatting it needs) is compiled out there.
#[inline(always)]
pub fn text_check() -> bool {
    cfg!(debug_assertions)
        && web_sys::window()
            .and_then(|w| js_sys::Reflect::get(&w, &wasm_bindgen::JsValue::from_str("__bplabTextCheck")).ok())
            .is_some_and(|v| v.is_truthy())
}
