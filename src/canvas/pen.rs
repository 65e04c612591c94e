//! A thin pen over the canvas's 2D context: shapes, arrows, and text that is measured
//! before it is drawn (see [`super::text`]), so labels are shortened or left out rather
//! than squeezed or overlapped. The diagram and the sequence diagram draw with it.

use super::geom::{overlapping, Rect, P};
use super::text::{self, Font, Measure, WidthCache};
use crate::theme::{css, Theme};
use plotters::style::RGBColor;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::CanvasRenderingContext2d;

/// The width of `s` in the context's current font: `measureText` (`measure_fn`), or an
/// estimate when the browser gives none.
pub fn measure_text(ctx: &CanvasRenderingContext2d, measure_fn: Option<&js_sys::Function>, s: &str, font: Font) -> f64 {
    measure_fn
        .and_then(|f| f.call1(ctx, &JsValue::from_str(s)).ok())
        .and_then(|m| js_sys::Reflect::get(&m, &JsValue::from_str("width")).ok())
        .and_then(|v| v.as_f64())
        .unwrap_or_else(|| text::Approx.width(s, font.px, font.bold))
}

pub struct Pen<'a> {
    pub ctx: &'a CanvasRenderingContext2d,
    pub theme: &'a Theme,
    measure_fn: Option<js_sys::Function>,
    cache: &'a mut WidthCache,
    font: Option<(f64, bool)>,
    /// Every label's box this frame, to find overlaps (see [`Pen::overlaps`]); recorded
    /// only when `check` is on.
    pub labels: Vec<(Rect, String)>,
    pub check: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Center,
    Right,
}

impl Measure for Pen<'_> {
    fn width(&mut self, s: &str, px: f64, bold: bool) -> f64 {
        let font = Font::new(px, bold);
        let key = WidthCache::key(s, font);
        if let Some(w) = self.cache.get(&key) {
            return w;
        }
        self.set_font(font);
        let w = measure_text(self.ctx, self.measure_fn.as_ref(), s, font);
        self.cache.put(key, w);
        w
    }
}

impl<'a> Pen<'a> {
    pub fn new(ctx: &'a CanvasRenderingContext2d, theme: &'a Theme, cache: &'a mut WidthCache) -> Pen<'a> {
        // `measureText` through Reflect: the page's web-sys features do not include
        // TextMetrics, and this keeps Cargo.toml untouched.
        let measure_fn = js_sys::Reflect::get(ctx, &JsValue::from_str("measureText")).ok().and_then(|f| f.dyn_into().ok());
        ctx.set_text_baseline("middle");
        Pen { ctx, theme, measure_fn, cache, font: None, labels: Vec::new(), check: false }
    }

    pub fn dark(&self) -> bool {
        let bg = self.theme.bg;
        (bg.0 as u32 + bg.1 as u32 + bg.2 as u32) < 384
    }

    fn set_font(&mut self, f: Font) {
        if self.font != Some((f.px, f.bold)) {
            self.ctx.set_font(&f.css());
            self.font = Some((f.px, f.bold));
        }
    }

    fn record(&mut self, s: &str, x: f64, y: f64, font: Font, align: Align) {
        if !self.check {
            return;
        }
        let w = self.width(s, font.px, font.bold);
        let x0 = match align {
            Align::Left => x,
            Align::Center => x - w / 2.0,
            Align::Right => x - w,
        };
        self.labels.push((Rect::new(x0, y - font.px * 0.5, w, font.px), s.to_string()));
    }

    /// Pairs of labels drawn over one another this frame (a layout bug if any).
    pub fn overlaps(&self) -> Vec<(String, String)> {
        overlapping(&self.labels)
    }

    /// Records the label (for the overlap check) and sets the font and alignment.
    fn text_setup(&mut self, s: &str, x: f64, y: f64, font: Font, align: Align) {
        self.record(s, x, y, font, align);
        self.set_font(font);
        self.ctx.set_text_align(match align {
            Align::Left => "left",
            Align::Center => "center",
            Align::Right => "right",
        });
    }

    /// Draws `s` as is, its vertical middle at `y`.
    pub fn text(&mut self, s: &str, x: f64, y: f64, font: Font, color: RGBColor, align: Align) {
        self.text_setup(s, x, y, font, align);
        self.ctx.set_fill_style_str(&css(color, 1.0));
        self.ctx.fill_text(s, x, y).ok();
    }

    /// Like [`Pen::text`] with a halo of the background colour, for labels over lines.
    pub fn halo_text(&mut self, s: &str, x: f64, y: f64, font: Font, color: RGBColor, align: Align) {
        self.text_setup(s, x, y, font, align);
        self.ctx.set_line_join("round");
        self.ctx.set_stroke_style_str(&css(self.theme.bg, 0.9));
        self.ctx.set_line_width(4.0);
        self.ctx.stroke_text(s, x, y).ok();
        self.ctx.set_fill_style_str(&css(color, 1.0));
        self.ctx.fill_text(s, x, y).ok();
    }

    /// Draws the longest of `options` that fits in `max_w` (or a shortened last one);
    /// returns the width drawn, 0 when nothing fits.
    #[allow(clippy::too_many_arguments)]
    pub fn fit(&mut self, options: &[&str], x: f64, y: f64, max_w: f64, font: Font, color: RGBColor, align: Align) -> f64 {
        self.fit_inner(options, x, y, max_w, font, color, align, false)
    }

    /// [`Pen::fit`] with a halo.
    #[allow(clippy::too_many_arguments)]
    pub fn fit_halo(&mut self, options: &[&str], x: f64, y: f64, max_w: f64, font: Font, color: RGBColor, align: Align) -> f64 {
        self.fit_inner(options, x, y, max_w, font, color, align, true)
    }

    #[allow(clippy::too_many_arguments)]
    fn fit_inner(&mut self, options: &[&str], x: f64, y: f64, max_w: f64, font: Font, color: RGBColor, align: Align, halo: bool) -> f64 {
        let Some(s) = text::fit(self, options, font, max_w, 3) else { return 0.0 };
        let w = self.width(&s, font.px, font.bold);
        if halo {
            self.halo_text(&s, x, y, font, color, align);
        } else {
            self.text(&s, x, y, font, color, align);
        }
        w
    }

    pub fn fill_rect(&self, r: Rect, color: RGBColor, alpha: f64) {
        self.ctx.set_fill_style_str(&css(color, alpha));
        self.ctx.fill_rect(r.x, r.y, r.w, r.h);
    }

    pub fn round_rect(&self, r: Rect, radius: f64, fill: Option<(RGBColor, f64)>, stroke: Option<(RGBColor, f64)>) {
        let ctx = self.ctx;
        ctx.begin_path();
        ctx.round_rect_with_f64(r.x, r.y, r.w, r.h, radius.min(r.w / 2.0).min(r.h / 2.0)).ok();
        if let Some((c, a)) = fill {
            ctx.set_fill_style_str(&css(c, a));
            ctx.fill();
        }
        if let Some((c, width)) = stroke {
            ctx.set_stroke_style_str(&css(c, 1.0));
            ctx.set_line_width(width);
            ctx.stroke();
        }
    }

    /// A horizontal bar: track, then `frac` of it filled.
    pub fn bar(&self, r: Rect, frac: f64, color: RGBColor) {
        self.fill_rect(r, self.theme.grid, 1.0);
        let f = if frac.is_finite() { frac.clamp(0.0, 1.0) } else { 0.0 };
        if f > 0.0 {
            self.fill_rect(Rect::new(r.x, r.y, (r.w * f).max(1.0), r.h), color, 1.0);
        }
    }

    /// Diagonal stripes over `r` (a blocked or down state, readable without colour).
    pub fn hatch(&self, r: Rect, color: RGBColor, alpha: f64) {
        let ctx = self.ctx;
        ctx.save();
        ctx.begin_path();
        ctx.rect(r.x, r.y, r.w, r.h);
        ctx.clip();
        ctx.set_stroke_style_str(&css(color, alpha));
        ctx.set_line_width(2.0);
        ctx.begin_path();
        let mut x = r.x - r.h;
        while x < r.right() {
            ctx.move_to(x, r.bottom());
            ctx.line_to(x + r.h, r.y);
            x += 9.0;
        }
        ctx.stroke();
        ctx.restore();
    }

    pub fn line(&self, a: P, b: P, color: RGBColor, width: f64, dashed: bool) {
        let ctx = self.ctx;
        if dashed {
            ctx.set_line_dash(&js_sys::Array::of2(&JsValue::from(5.0), &JsValue::from(4.0))).ok();
        }
        ctx.set_stroke_style_str(&css(color, 1.0));
        ctx.set_line_width(width);
        ctx.begin_path();
        ctx.move_to(a.0, a.1);
        ctx.line_to(b.0, b.1);
        ctx.stroke();
        if dashed {
            ctx.set_line_dash(&js_sys::Array::new()).ok();
        }
    }

    /// A line from `a` to `b` with an arrowhead at `b`, sized by the line's width.
    pub fn arrow(&self, a: P, b: P, color: RGBColor, width: f64, dashed: bool) {
        self.arrow_with(a, b, color, width, dashed, (6.0 + width, 0.55));
    }

    /// [`Pen::arrow`] with the head's length and half-width (as a share of its length).
    pub fn arrow_with(&self, a: P, b: P, color: RGBColor, width: f64, dashed: bool, (head, spread): (f64, f64)) {
        self.line(a, b, color, width, dashed);
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = (dx * dx + dy * dy).sqrt().max(1e-6);
        let (ux, uy) = (dx / len, dy / len);
        let ctx = self.ctx;
        ctx.set_fill_style_str(&css(color, 1.0));
        ctx.begin_path();
        ctx.move_to(b.0, b.1);
        ctx.line_to(b.0 - ux * head - uy * head * spread, b.1 - uy * head + ux * head * spread);
        ctx.line_to(b.0 - ux * head + uy * head * spread, b.1 - uy * head - ux * head * spread);
        ctx.close_path();
        ctx.fill();
    }

    /// `s` centred in a pill outlined in `color` (a note on a lifeline), its middle at
    /// (`x`, `y`); the overlap check sees the pill.
    pub fn pill(&mut self, s: &str, x: f64, y: f64, font: Font, color: RGBColor) {
        let w = self.width(s, font.px, font.bold);
        let r = Rect::new(x - w / 2.0 - 6.0, y - 8.0, w + 12.0, 16.0);
        if self.check {
            self.labels.push((r, s.to_string()));
        }
        self.round_rect(r, 8.0, Some((self.theme.bg, 1.0)), Some((color, 1.5)));
        self.set_font(font);
        self.ctx.set_text_align("center");
        self.ctx.set_fill_style_str(&css(color, 1.0));
        self.ctx.fill_text(s, x, y + 0.5).ok();
    }

    pub fn circle(&self, c: P, r: f64, fill: RGBColor, alpha: f64) {
        self.ctx.begin_path();
        self.ctx.arc(c.0, c.1, r, 0.0, std::f64::consts::TAU).ok();
        self.ctx.set_fill_style_str(&css(fill, alpha));
        self.ctx.fill();
    }

    /// A diamond (credits, demand): a token, told from a message by its shape.
    pub fn diamond(&self, c: P, r: f64, fill: RGBColor) {
        let ctx = self.ctx;
        ctx.begin_path();
        ctx.move_to(c.0, c.1 - r);
        ctx.line_to(c.0 + r, c.1);
        ctx.line_to(c.0, c.1 + r);
        ctx.line_to(c.0 - r, c.1);
        ctx.close_path();
        ctx.set_fill_style_str(&css(fill, 1.0));
        ctx.fill();
        ctx.set_stroke_style_str(&css(self.theme.bg, 1.0));
        ctx.set_line_width(1.0);
        ctx.stroke();
    }

    /// A triangle pointing along (dx, dy) (a poll request).
    pub fn triangle(&self, c: P, r: f64, dir: P, fill: RGBColor) {
        let len = (dir.0 * dir.0 + dir.1 * dir.1).sqrt().max(1e-6);
        let (ux, uy) = (dir.0 / len, dir.1 / len);
        let ctx = self.ctx;
        ctx.begin_path();
        ctx.move_to(c.0 + ux * r, c.1 + uy * r);
        ctx.line_to(c.0 - ux * r - uy * r * 0.8, c.1 - uy * r + ux * r * 0.8);
        ctx.line_to(c.0 - ux * r + uy * r * 0.8, c.1 - uy * r - ux * r * 0.8);
        ctx.close_path();
        ctx.set_fill_style_str(&css(fill, 1.0));
        ctx.fill();
    }

    pub fn square(&self, c: P, r: f64, fill: RGBColor) {
        self.fill_rect(Rect::new(c.0 - r, c.1 - r, 2.0 * r, 2.0 * r), fill, 1.0);
    }
}
