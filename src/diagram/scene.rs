//! Drawing the diagram: [`Diagram::draw`] fits the canvas and lays the pipeline out, then a
//! [`Scene`] paints one frame with the shared pen. The painters are grouped by what they
//! draw: `nodes` (producer, operators, channels, the Kafka client, the downstream
//! service), `topic` (partition lanes), `consumer` (the group, member cards, workers),
//! `links` (arrows, rates, permits, calls, the throttle's loop), `drops` (bins, processed
//! and lost) and `motion` (dots and chevrons).

use super::layout::Layout;
use super::state::Diagram;
use crate::canvas::{context, fit, text_check, Pen};
use crate::format;
use crate::theme::{css, Theme, BLUE, GREEN, ORANGE, PURPLE, SKY, YELLOW};
use bplab_engine::{Snapshot, StageView, WindowView};
use plotters::style::RGBColor;
use web_sys::HtmlCanvasElement;

/// Member colours (with their names m0, m1, … next to them: colour is never the only cue).
pub(super) const MEMBER_COLORS: [RGBColor; 6] = [BLUE, ORANGE, GREEN, PURPLE, SKY, YELLOW];

impl Diagram {
    /// Draws the whole diagram for `snap` at wall time `now_wall_s`.
    pub fn draw(&mut self, canvas: &HtmlCanvasElement, snap: &Snapshot, theme: &Theme, now_wall_s: f64) {
        let now = now_wall_s;
        let shape = self.follow(snap, now);

        let Some(ctx) = context(canvas) else { return };
        let mut dpr = fit(canvas);
        let (w, mut h) = (canvas.width() as f64 / dpr, canvas.height() as f64 / dpr);
        let mut lay = Layout::new(&shape, w, h);
        // The top-to-bottom layout asks for the height it needs; the left-to-right one
        // takes the height the page gives.
        let want = if lay.vertical { Some(lay.needed_h) } else { None };
        if want != self.set_height {
            match want {
                Some(px) => canvas.set_attribute("style", &format!("height: {px}px")).ok(),
                None => canvas.remove_attribute("style").ok(),
            };
            self.set_height = want;
            dpr = fit(canvas);
            h = canvas.height() as f64 / dpr;
            lay = Layout::new(&shape, w, h);
        }
        ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0).ok();
        ctx.set_fill_style_str(&css(theme.bg, 1.0));
        ctx.fill_rect(0.0, 0.0, w, h);

        let mut widths = std::mem::take(&mut self.widths);
        {
            let mut pen = Pen::new(&ctx, theme, &mut widths);
            let check = text_check();
            pen.check = check;
            let mut scene = Scene { d: self, pen: &mut pen, lay: &lay, snap, now };
            scene.draw_all();
            {
                // The local, not `pen.check`: known false in release, so the check (and the
                // `{:?}` formatting it needs) is compiled out.
                if check {
                    if let Some(w) = web_sys::window() {
                        let n = wasm_bindgen::JsValue::from_f64(pen.labels.len() as f64);
                        js_sys::Reflect::set(&w, &wasm_bindgen::JsValue::from_str("__bplabLabels"), &n).ok();
                    }
                    for (a, b) in pen.overlaps() {
                        leptos::logging::warn!("diagram: labels overlap: {a:?} / {b:?} ({w}×{h})");
                    }
                }
            }
        }
        self.widths = widths;
    }
}

/// How messages cross link `j`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum LinkKind {
    /// The sender pushes.
    Push,
    /// The consumer polls its source.
    Pull,
    /// Pushes under credits or `request(n)`.
    Window,
}

/// One frame's drawing.
pub(super) struct Scene<'a, 'p> {
    pub(super) d: &'a mut Diagram,
    pub(super) pen: &'a mut Pen<'p>,
    pub(super) lay: &'a Layout,
    pub(super) snap: &'a Snapshot,
    pub(super) now: f64,
}

pub(super) fn abbrev_rate(r: f64) -> String {
    format!("{}/s", rate_figure(r))
}

/// A rate's figure: one decimal below 10 (a throttled producer's 0.4 msg/s is not 0).
pub(super) fn rate_figure(r: f64) -> String {
    if r > 0.0 && r < 9.95 {
        format!("{r:.1}")
    } else if (9_950.0..10_000.0).contains(&r) {
        // format::count switches to "k" at 10,000: 9,996 reads as 10.0 k next to it.
        format::count(10_000.0)
    } else {
        format::count(r)
    }
}

/// The shortest form of a count: 950, 9k, 12k, 1.2M.
pub(super) fn compact(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.0}G", v / 1e9)
    } else if a >= 1e6 {
        if a < 1e7 {
            format!("{:.1}M", v / 1e6)
        } else {
            format!("{:.0}M", v / 1e6)
        }
    } else if a >= 1e3 {
        if a < 1e4 {
            format!("{:.1}k", v / 1e3)
        } else {
            format!("{:.0}k", v / 1e3)
        }
    } else {
        format!("{:.0}", v)
    }
}

impl Scene<'_, '_> {
    pub(super) fn data_color(&self) -> RGBColor {
        if self.pen.dark() {
            SKY
        } else {
            BLUE
        }
    }

    pub(super) fn consumer_node(&self) -> usize {
        self.snap.stages.len() + 1
    }

    pub(super) fn link_kind(&self, j: usize) -> LinkKind {
        if j == self.consumer_node() && self.snap.consumer.polls && !self.snap.stages.is_empty() {
            LinkKind::Pull
        } else if self.snap.links.get(j).is_some_and(|l| l.is_some()) {
            LinkKind::Window
        } else {
            LinkKind::Push
        }
    }

    pub(super) fn window(&self, j: usize) -> Option<&WindowView> {
        self.snap.links.get(j).and_then(|l| l.as_ref())
    }

    /// The node that effectively sends over link `j`: map and filter pass demand through,
    /// so the producer (or a channel) upstream of them is the one that waits.
    pub(super) fn sender(&self, j: usize) -> usize {
        let mut s = j - 1;
        while s >= 1 && matches!(self.snap.stages[s - 1], StageView::Map | StageView::Filter { .. }) {
            s -= 1;
        }
        s
    }

    pub(super) fn draw_all(&mut self) {
        let n = self.lay.nodes.len();
        let drops = self.d.drop_counts(self.snap);
        for i in 0..n {
            let r = self.lay.nodes[i];
            if i == 0 {
                self.producer(r);
            } else if i == n - 1 {
                self.consumer(r);
            } else {
                match &self.snap.stages[i - 1] {
                    StageView::Channel { depth, capacity, .. } => self.channel(i, r, *depth, *capacity),
                    StageView::Map => self.operator(r, &["map"], &["f(x) on each", "f(x)"], None),
                    StageView::Filter { pass_ratio, .. } => {
                        let pct = format!("passes {:.0}%", pass_ratio * 100.0);
                        let short = format!("{:.0}%", pass_ratio * 100.0);
                        self.operator(r, &["filter"], &[&pct, &short], Some(*pass_ratio))
                    }
                    StageView::KafkaProducer { depth, capacity, broker_rate_per_s, .. } => {
                        self.kafka(r, *depth, *capacity, *broker_rate_per_s)
                    }
                    StageView::Topic { partitions } => self.topic(r, partitions),
                }
            }
        }
        if let Some(ds) = self.lay.downstream {
            self.downstream(ds);
        }
        for j in 1..n {
            self.link(j);
        }
        if self.lay.downstream.is_some() {
            self.calls();
        }
        if self.snap.producer.throttled {
            self.throttle_loop();
        }
        for (i, &count) in drops.iter().enumerate().skip(1) {
            let filter = matches!(self.snap.stages.get(i.wrapping_sub(1)), Some(StageView::Filter { .. }));
            if count > 0 || filter {
                self.bin(i, count);
            }
        }
        self.exit();
        if self.d.reduced_motion {
            self.chevrons();
        } else {
            self.dots();
        }
    }
}
