//! The animated pipeline diagram: producer → stages → consumer group (→ downstream), drawn
//! on a canvas from a [`Snapshot`] (fill levels, lag per partition, members, heaps,
//! workers, permits) and animated from the engine's trace (what moved where), never from
//! a separate fake animation.
//!
//! - Movement is shown as flow density ([`flow`]): at most one dot per path every tenth of
//!   a second, sized by the messages it stands for, with each link's measured rate, so the
//!   picture reads the same at 1,000 and 1,000,000 msg/s. Messages are circles, poll
//!   requests triangles, credits and demand diamonds, commits squares.
//! - With reduced motion nothing moves: links carrying traffic show fixed chevrons and the
//!   numbers update stepwise.
//! - Text is measured ([`text`]); a label that does not fit is shortened or left out.
//! - Wide canvases are laid out left to right, narrow ones (< 600 CSS px) top to bottom
//!   ([`layout`]); the top-to-bottom layout sets the canvas's height to what it needs.

mod flow;
pub(crate) mod layout;
mod paint;
pub(crate) use paint::{measure_text, overlapping, WidthCache};
pub(crate) mod text;

use crate::format;
use crate::theme::{css, Theme, BLUE, GREEN, ORANGE, PURPLE, SKY, VERMILLION, YELLOW};
use bplab_engine::{Commit, DropCause, MemberView, Mode, PartitionView, Snapshot, StageView, TraceEvent, TraceKind, WindowView};
use flow::{Flow, Path, Rates, Source};
use layout::{Layout, Rect, Shape, LANE_X_V, P};
use paint::{along, Align, Pen};
use plotters::style::RGBColor;
use text::{Font, Measure, LABEL, SMALL, TITLE, VALUE};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// Wall seconds an OOM kill (or a rebalance, a limit change) stays highlighted.
const FLASH_S: f64 = 1.6;
/// Member colours (with their names m0, m1, … next to them: colour is never the only cue).
const MEMBER_COLORS: [RGBColor; 6] = [BLUE, ORANGE, GREEN, PURPLE, SKY, YELLOW];

/// What one partition did lately, for trends and head-of-line blocking.
#[derive(Clone, Copy, Debug, Default)]
struct PartHist {
    committed: u64,
    /// Simulated time the committed offset last moved.
    changed_t: f64,
    lag_ref: u64,
    lag_ref_t: f64,
    /// -1 draining, 0 steady, 1 growing.
    trend: i8,
}

/// A slow message started at member `member` in partition `part` (simulated time `t`): the
/// partition is held up while its lag grows or its committed offset stays where it was.
#[derive(Clone, Debug)]
struct Slow {
    member: u16,
    part: usize,
    t: f64,
    wall: f64,
    stuck: Vec<usize>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Marks {
    flash_until: f64,
    /// In flight and lost at the last OOM kill.
    kill: Option<(u64, u64)>,
    limit_flash_until: f64,
}

/// Animation state that outlives a frame.
pub struct Diagram {
    reduced_motion: bool,
    flow: Flow,
    rates: Rates,
    shape: Option<Shape>,
    source: Source,
    /// Simulated time of the last draw.
    last_t: f64,
    lane_scale: f64,
    /// Per node: the scale of an unbounded channel's gauge.
    depth_scale: Vec<f64>,
    parts: Vec<PartHist>,
    slow: Option<Slow>,
    marks: Vec<Marks>,
    rebalance_until: f64,
    /// Per node: drops counted from the trace, and the latest cause.
    drops: Vec<u64>,
    drop_cause: Vec<Option<DropCause>>,
    /// Wall time permits last arrived, per link.
    arrived: Vec<f64>,
    /// The canvas height this diagram set (top-to-bottom layout), if any.
    set_height: Option<f64>,
    widths: WidthCache,
}

impl Diagram {
    pub fn new(reduced_motion: bool) -> Diagram {
        Diagram {
            reduced_motion,
            flow: Flow::default(),
            rates: Rates::default(),
            shape: None,
            source: Source::Topic,
            last_t: 0.0,
            lane_scale: 1.0,
            depth_scale: Vec::new(),
            parts: Vec::new(),
            slow: None,
            marks: Vec::new(),
            rebalance_until: f64::NEG_INFINITY,
            drops: Vec::new(),
            drop_cause: Vec::new(),
            arrived: Vec::new(),
            set_height: None,
            widths: WidthCache::default(),
        }
    }

    /// Back to a fresh run (the page reset, or loaded another scenario).
    fn restart(&mut self) {
        self.flow.clear();
        self.rates.clear();
        self.last_t = 0.0;
        self.lane_scale = 1.0;
        self.depth_scale.clear();
        self.parts.clear();
        self.slow = None;
        self.marks.clear();
        self.rebalance_until = f64::NEG_INFINITY;
        self.drops.clear();
        self.drop_cause.clear();
        self.arrived.clear();
    }

    /// Takes the trace of one frame at wall time `now_wall_s`: dots to spawn, rates, and
    /// the events worth a highlight (OOM kills, rebalances, slow messages, drops).
    pub fn ingest(&mut self, trace: &[TraceEvent], now_wall_s: f64) {
        if trace.first().is_some_and(|e| e.t_s + 1e-9 < self.last_t) {
            self.restart();
        }
        let now = now_wall_s;
        let tallies = flow::tally(trace, self.source);
        self.rates.add(&tallies, trace);
        self.flow.ingest(&tallies, now, self.reduced_motion);
        for ev in trace {
            match ev.kind {
                TraceKind::OomKill { member, in_flight, lost } => {
                    let m = self.mark(member);
                    m.flash_until = now + FLASH_S;
                    m.kill = Some((in_flight, lost));
                }
                TraceKind::Evicted { member } => self.mark(member).flash_until = now + FLASH_S,
                TraceKind::LimitChanged { member, .. } => self.mark(member).limit_flash_until = now + 0.4,
                TraceKind::Rebalance => self.rebalance_until = now + FLASH_S,
                TraceKind::SlowStarted { member, partition } => {
                    self.slow = Some(Slow { member, part: partition as usize, t: ev.t_s, wall: now, stuck: Vec::new() })
                }
                TraceKind::Dropped { node, n, cause } => {
                    let i = node as usize;
                    if self.drops.len() <= i {
                        self.drops.resize(i + 1, 0);
                        self.drop_cause.resize(i + 1, None);
                    }
                    self.drops[i] += n;
                    self.drop_cause[i] = Some(cause);
                }
                TraceKind::PermitsArrived { link, .. } => {
                    let i = link as usize;
                    if self.arrived.len() <= i {
                        self.arrived.resize(i + 1, f64::NEG_INFINITY);
                    }
                    self.arrived[i] = now;
                }
                _ => {}
            }
        }
    }

    fn mark(&mut self, member: u16) -> &mut Marks {
        let i = member as usize;
        if self.marks.len() <= i {
            self.marks.resize(i + 1, Marks::default());
        }
        &mut self.marks[i]
    }

    /// Draws the whole diagram for `snap` at wall time `now_wall_s`.
    pub fn draw(&mut self, canvas: &HtmlCanvasElement, snap: &Snapshot, theme: &Theme, now_wall_s: f64) {
        let now = now_wall_s;
        let shape = Shape::of(snap);
        if snap.t_s + 1e-9 < self.last_t || self.shape.as_ref() != Some(&shape) {
            self.restart();
            self.shape = Some(shape.clone());
        }
        self.source = match snap.stages.last() {
            Some(StageView::Topic { .. }) => Source::Topic,
            Some(_) if snap.consumer.polls => Source::Channel,
            _ => Source::Push,
        };
        self.rates.update(self.last_t, snap.t_s);
        self.last_t = snap.t_s;
        self.flow.expire(now);
        self.observe(snap, now);

        let Some(ctx) = context(canvas) else { return };
        let mut dpr = crate::dom::fit(canvas);
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
            dpr = crate::dom::fit(canvas);
            h = canvas.height() as f64 / dpr;
            lay = Layout::new(&shape, w, h);
        }
        ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0).ok();
        ctx.set_fill_style_str(&css(theme.bg, 1.0));
        ctx.fill_rect(0.0, 0.0, w, h);

        let mut widths = std::mem::take(&mut self.widths);
        {
            let mut pen = Pen::new(&ctx, theme, &mut widths);
            // A self-check for development: with `window.__bplabTextCheck = true`, debug
            // builds log labels that overlap.
            let check = cfg!(debug_assertions)
                && web_sys::window()
                    .and_then(|w| js_sys::Reflect::get(&w, &wasm_bindgen::JsValue::from_str("__bplabTextCheck")).ok())
                    .is_some_and(|v| v.is_truthy());
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

    /// Follows the snapshot: scales, partition trends, head-of-line blocking.
    fn observe(&mut self, snap: &Snapshot, now: f64) {
        let t = snap.t_s;
        if self.depth_scale.len() < snap.stages.len() + 2 {
            self.depth_scale.resize(snap.stages.len() + 2, 1.0);
        }
        for (i, s) in snap.stages.iter().enumerate() {
            if let StageView::Channel { depth, capacity: None, .. } = s {
                let sc = &mut self.depth_scale[i + 1];
                *sc = (*depth as f64 * 1.25).max(*sc * 0.997).max(10.0);
            }
        }
        let Some(parts) = topic(snap) else { return };
        let max_lag = parts.iter().map(|p| p.log_end.saturating_sub(p.committed)).max().unwrap_or(0) as f64;
        // Follows growth at once and shrinks slowly, so bars keep their meaning.
        self.lane_scale = (max_lag * 1.1).max(self.lane_scale * 0.995).max(10.0);
        if self.parts.len() != parts.len() {
            self.parts =
                parts.iter().map(|p| PartHist { committed: p.committed, changed_t: t, lag_ref: p.lag, lag_ref_t: t, trend: 0 }).collect();
        }
        for (h, p) in self.parts.iter_mut().zip(parts) {
            if p.committed != h.committed {
                h.committed = p.committed;
                h.changed_t = t;
            }
            if t - h.lag_ref_t >= 1.0 {
                let (a, b) = (h.lag_ref as f64, p.lag as f64);
                let tol = (a.max(b) * 0.02).max(1.0);
                h.trend = if b > a + tol {
                    1
                } else if b < a - tol {
                    -1
                } else {
                    0
                };
                h.lag_ref = p.lag;
                h.lag_ref_t = t;
            }
        }
        if let Some(s) = &mut self.slow {
            let hist = &self.parts;
            // The engine names the partition; it is held up while it does not commit past
            // where it was or its lag keeps growing.
            s.stuck = parts
                .iter()
                .zip(hist)
                .enumerate()
                .filter(|(i, (p, h))| *i == s.part && p.lag > 0 && ((h.changed_t <= s.t + 0.2 && t - h.changed_t >= 1.0) || h.trend > 0))
                .map(|(i, _)| i)
                .collect();
            // Done once nothing owned is held any more (or the group rebalanced it away).
            if s.stuck.is_empty() && t - s.t >= 3.0 && now - s.wall > 2.0 {
                self.slow = None;
            }
        }
    }

    /// Drops per node: from the snapshot where it has them (channels, filters), the rest
    /// shared out as the trace saw them (the consumer's shedding, the Kafka client's
    /// timeouts).
    fn drop_counts(&self, snap: &Snapshot) -> Vec<u64> {
        let n = snap.stages.len() + 2;
        let mut out = vec![0u64; n];
        let mut known = 0;
        for (i, s) in snap.stages.iter().enumerate() {
            match s {
                StageView::Channel { dropped, .. } | StageView::Filter { dropped, .. } => {
                    out[i + 1] = *dropped;
                    known += dropped;
                }
                _ => {}
            }
        }
        let rest = snap.summary.dropped.saturating_sub(known);
        if rest > 0 {
            let others: Vec<usize> =
                (1..n).filter(|&i| i == n - 1 || matches!(snap.stages.get(i - 1), Some(StageView::KafkaProducer { .. }))).collect();
            let seen: u64 = others.iter().map(|&i| self.drops.get(i).copied().unwrap_or(0)).sum();
            if seen == 0 {
                out[n - 1] += rest;
            } else {
                let mut given = 0;
                for (k, &i) in others.iter().enumerate() {
                    let share = if k + 1 == others.len() {
                        rest - given
                    } else {
                        (rest as f64 * self.drops.get(i).copied().unwrap_or(0) as f64 / seen as f64).round() as u64
                    };
                    out[i] += share;
                    given += share;
                }
            }
        }
        out
    }
}

fn topic(snap: &Snapshot) -> Option<&[PartitionView]> {
    snap.stages.iter().find_map(|s| match s {
        StageView::Topic { partitions } => Some(partitions.as_slice()),
        _ => None,
    })
}

fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    use wasm_bindgen::JsCast;
    canvas.get_context("2d").ok()??.dyn_into().ok()
}

/// How messages cross link `j`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum LinkKind {
    /// The sender pushes.
    Push,
    /// The consumer polls its source.
    Pull,
    /// Pushes under credits or `request(n)`.
    Window,
}

/// One frame's drawing.
struct Scene<'a, 'p> {
    d: &'a mut Diagram,
    pen: &'a mut Pen<'p>,
    lay: &'a Layout,
    snap: &'a Snapshot,
    now: f64,
}

fn abbrev_rate(r: f64) -> String {
    format!("{}/s", rate_figure(r))
}

/// A rate's figure: one decimal below 10 (a throttled producer's 0.4 msg/s is not 0).
fn rate_figure(r: f64) -> String {
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
fn compact(v: f64) -> String {
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
    fn data_color(&self) -> RGBColor {
        if self.pen.dark() {
            SKY
        } else {
            BLUE
        }
    }

    fn consumer_node(&self) -> usize {
        self.snap.stages.len() + 1
    }

    fn link_kind(&self, j: usize) -> LinkKind {
        if j == self.consumer_node() && self.snap.consumer.polls && !self.snap.stages.is_empty() {
            LinkKind::Pull
        } else if self.snap.links.get(j).is_some_and(|l| l.is_some()) {
            LinkKind::Window
        } else {
            LinkKind::Push
        }
    }

    fn window(&self, j: usize) -> Option<&WindowView> {
        self.snap.links.get(j).and_then(|l| l.as_ref())
    }

    /// The node that effectively sends over link `j`: map and filter pass demand through,
    /// so the producer (or a channel) upstream of them is the one that waits.
    fn sender(&self, j: usize) -> usize {
        let mut s = j - 1;
        while s >= 1 && matches!(self.snap.stages[s - 1], StageView::Map | StageView::Filter { .. }) {
            s -= 1;
        }
        s
    }

    fn draw_all(&mut self) {
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

    // ---- boxes ------------------------------------------------------------------------

    /// A node's frame and title; returns the y below the title.
    fn frame(&mut self, r: Rect, titles: &[&str], border: RGBColor, width: f64) -> f64 {
        let t = *self.pen.theme;
        self.pen.round_rect(r, 8.0, Some((t.panel, 1.0)), Some((border, width)));
        self.pen.fit(titles, r.x + 8.0, r.y + 13.0, r.w - 16.0, TITLE, t.fg, Align::Left);
        r.y + 24.0
    }

    fn producer(&mut self, r: Rect) {
        let p = self.snap.producer.clone();
        let t = *self.pen.theme;
        let border = if p.blocked { VERMILLION } else { t.muted };
        let titles: &[&str] = &["Producer", "Prod."];
        let mut y = self.frame(r, titles, border, if p.blocked { 3.0 } else { 1.5 });
        if p.blocked {
            self.pen.hatch(r.inset(2.0, 2.0), VERMILLION, 0.12);
        }
        let (x, w) = (r.x + 8.0, r.w - 16.0);
        let rate = format!("{} msg/s", rate_figure(p.rate_per_s));
        let rate_s = abbrev_rate(p.rate_per_s);
        let mut row = |s: &mut Self, opts: &[&str], font: Font, color: RGBColor| {
            if y + font.px * 0.6 <= r.bottom() - 4.0 {
                s.pen.fit(opts, x, y + 8.0, w, font, color, Align::Left);
                y += font.px + 6.0;
            }
        };
        if !p.blocked {
            row(self, &[&rate, &rate_s], VALUE, self.data_color());
        }
        if p.blocked {
            let hold = format!("holding {}", format::count(p.pending as f64));
            row(self, &["BLOCKED: send waits", "BLOCKED", "blocked"], VALUE, VERMILLION);
            row(self, &[&hold, &format::count(p.pending as f64)], LABEL, t.fg);
        } else if p.throttled {
            row(self, &["throttled by the lag", "throttled"], LABEL, PURPLE);
        } else {
            let state = if p.rate_per_s <= 0.0 { "idle" } else { "pushing" };
            row(self, &[state], LABEL, t.muted);
        }
        if p.blocked_s > 0.0 && self.snap.t_s > 0.0 {
            let pct = 100.0 * p.blocked_s / self.snap.t_s;
            let long = format!("blocked {pct:.0}% of the time");
            let short = format!("blocked {pct:.0}%");
            row(self, &[&long, &short], SMALL, t.muted);
        }
        let sent = format!("sent {}", format::count(p.produced as f64));
        row(self, &[&sent], SMALL, t.muted);
    }

    fn operator(&mut self, r: Rect, titles: &[&str], detail: &[&str], ratio: Option<f64>) {
        let t = *self.pen.theme;
        self.frame(r, titles, t.muted, 1.5);
        let y = if self.lay.vertical { r.y + 13.0 } else { r.bottom() - 12.0 };
        if self.lay.vertical {
            // Right of the title.
            self.pen.fit(detail, r.right() - 8.0, y, r.w * 0.5, SMALL, t.muted, Align::Right);
        } else {
            self.pen.fit(detail, r.mid_x(), y, r.w - 10.0, SMALL, t.muted, Align::Center);
        }
        if let (Some(ratio), false) = (ratio, self.lay.vertical) {
            // A sieve: what passes of each message.
            let bar = Rect::new(r.x + 8.0, r.bottom() - 30.0, r.w - 16.0, 6.0);
            if bar.y > r.y + 30.0 {
                self.pen.bar(bar, ratio, self.data_color());
            }
        }
    }

    /// A gauge of `frac` in `r`: a tank filling from the bottom when tall, a bar when wide.
    fn gauge(&mut self, r: Rect, frac: f64, color: RGBColor) {
        if r.h > r.w * 0.8 && r.h > 40.0 {
            let t = *self.pen.theme;
            self.pen.fill_rect(r, t.grid, 1.0);
            let f = frac.clamp(0.0, 1.0);
            let fh = (r.h * f).max(if f > 0.0 { 1.0 } else { 0.0 });
            self.pen.fill_rect(Rect::new(r.x, r.bottom() - fh, r.w, fh), color, 1.0);
        } else {
            self.pen.bar(r, frac, color);
        }
    }

    fn channel(&mut self, node: usize, r: Rect, depth: u64, capacity: Option<u64>) {
        let t = *self.pen.theme;
        let dropping = self.d.rates.get(Path::Drop { node: node as u16 }) > 0.0;
        // Full, or draining and refilling between two frames while dropping: full for the
        // reader's purpose.
        let full = capacity.is_some_and(|c| depth >= c || (depth as f64 >= 0.98 * c as f64 && dropping));
        let title_full = match capacity {
            Some(c) => format!("Channel · capacity {}", format::count(c as f64)),
            None => "Channel · unbounded".to_string(),
        };
        let title_mid = match capacity {
            Some(c) => format!("Channel ({})", format::count(c as f64)),
            None => "Channel (∞)".to_string(),
        };
        let y = self.frame(
            r,
            &[&title_full, &title_mid, "Channel", "Chan."],
            if full { VERMILLION } else { t.muted },
            if full { 3.0 } else { 1.5 },
        );
        let frac = match capacity {
            Some(c) => depth as f64 / c.max(1) as f64,
            None => depth as f64 / self.d.depth_scale.get(node).copied().unwrap_or(1.0).max(1.0),
        };
        let fill = if full { VERMILLION } else { self.data_color() };
        let figure = match capacity {
            Some(c) => format!("{} / {}", format::count(depth as f64), format::count(c as f64)),
            None => format!("{} / ∞", format::count(depth as f64)),
        };
        let figure_xs = format::count(depth as f64);
        let blocked = self.snap.producer.blocked && self.sender(node) == 0 && full;
        let status: &[&str] = if full && dropping {
            &["full: dropping", "dropping", "full"]
        } else if full && blocked {
            &["full: sender waits", "full: waits", "full"]
        } else if full {
            &["full"]
        } else if capacity.is_none() {
            &["queue grows without bound", "grows unbounded", "unbounded"]
        } else {
            &["depth / capacity", "depth"]
        };
        let status_color = if full { VERMILLION } else { t.muted };
        if self.lay.vertical {
            // Title row, then a bar, then the figure and status on one row.
            let bar = Rect::new(r.x + 8.0, y, r.w - 16.0, 10.0);
            self.gauge(bar, frac, fill);
            let fy = bar.bottom() + 12.0;
            let fw = self.pen.fit(&[&figure, &figure_xs], r.x + 8.0, fy, r.w - 16.0, VALUE, t.fg, Align::Left);
            self.pen.fit(status, r.right() - 8.0, fy, r.w - 32.0 - fw, SMALL, status_color, Align::Right);
        } else {
            let tank = Rect::new(r.x + 10.0, y + 2.0, r.w - 20.0, (r.bottom() - 44.0 - y).max(8.0));
            self.gauge(tank, frac, fill);
            self.pen.fit(&[&figure, &figure_xs], r.x + 8.0, r.bottom() - 28.0, r.w - 16.0, VALUE, t.fg, Align::Left);
            self.pen.fit(status, r.x + 8.0, r.bottom() - 11.0, r.w - 16.0, SMALL, status_color, Align::Left);
        }
    }

    fn kafka(&mut self, r: Rect, depth: u64, capacity: u64, broker: f64) {
        let t = *self.pen.theme;
        let full = capacity > 0 && (depth >= capacity || (depth as f64 >= 0.98 * capacity as f64 && self.snap.producer.blocked));
        let y = self.frame(
            r,
            &["Kafka producer client", "Kafka producer", "Kafka client", "Kafka"],
            if full { VERMILLION } else { t.muted },
            if full { 3.0 } else { 1.5 },
        );
        let frac = depth as f64 / capacity.max(1) as f64;
        let fill = if full { VERMILLION } else { self.data_color() };
        let figure = format!("{} / {}", format::count(depth as f64), format::count(capacity as f64));
        let figure_s = format!("{} ({:.0}%)", format::count(depth as f64), 100.0 * frac);
        let figure_xs = format::count(depth as f64);
        let broker_s = format!("broker quota {}", abbrev_rate(broker));
        let broker_m = format!("broker {}", abbrev_rate(broker));
        let status: &[&str] = if full { &["buffer full: send() blocks", "buffer full", "full"] } else { &["buffer.memory", "buffer"] };
        if self.lay.vertical {
            let bar = Rect::new(r.x + 8.0, y, r.w - 16.0, 10.0);
            self.gauge(bar, frac, fill);
            let fy = bar.bottom() + 12.0;
            let fw = self.pen.fit(&[&figure, &figure_s, &figure_xs], r.x + 8.0, fy, r.w - 16.0, VALUE, t.fg, Align::Left);
            self.pen.fit(&[&broker_s, &broker_m], r.right() - 8.0, fy, r.w - 32.0 - fw, SMALL, t.muted, Align::Right);
        } else {
            self.pen.fit(&[&broker_s, &broker_m, &abbrev_rate(broker)], r.x + 8.0, y + 6.0, r.w - 16.0, SMALL, t.muted, Align::Left);
            let tank = Rect::new(r.x + 10.0, y + 18.0, r.w - 20.0, (r.bottom() - 44.0 - y - 18.0).max(8.0));
            self.gauge(tank, frac, fill);
            self.pen.fit(&[&figure, &figure_s, &figure_xs], r.x + 8.0, r.bottom() - 28.0, r.w - 16.0, VALUE, t.fg, Align::Left);
            self.pen.fit(status, r.x + 8.0, r.bottom() - 11.0, r.w - 16.0, SMALL, if full { VERMILLION } else { t.muted }, Align::Left);
        }
    }

    fn topic(&mut self, r: Rect, parts: &[PartitionView]) {
        let t = *self.pen.theme;
        let title_l = format!("Topic · {} partitions", parts.len());
        let title_m = format!("Topic ({})", parts.len());
        let y = self.frame(r, &[&title_l, &title_m, "Topic"], t.muted, 1.5);
        let lag: u64 = parts.iter().map(|p| p.lag).sum();
        let lag_l = format!("lag {} (log end − committed)", format::count(lag as f64));
        let lag_s = format!("lag {}", format::count(lag as f64));
        let footer = 34.0;
        let region = Rect::new(r.x + 8.0, y, r.w - 16.0, (r.bottom() - footer - y).max(0.0));
        let n = parts.len().max(1);
        let lane_h = (region.h / n as f64).min(26.0);
        // Too many to draw: a row at the bottom says how many are left out.
        let region = if lane_h >= 4.0 { region } else { Rect::new(region.x, region.y, region.w, (region.h - 14.0).max(0.0)) };
        let shown = if lane_h >= 4.0 { n } else { (region.h / 4.0).floor() as usize };
        let lane_h = if shown > 0 { (region.h / shown as f64).min(26.0) } else { 0.0 };
        let labels = lane_h >= 12.0;
        let members = self.snap.consumer.members.len();
        let scale = self.d.lane_scale.max(1.0);
        let stuck = self.d.slow.as_ref().map(|s| s.stuck.clone()).unwrap_or_default();
        // Label columns: partition name, lag figure, owner.
        let name_w = if labels { self.pen.width(&format!("p{}", n - 1), SMALL.px, false) + 6.0 } else { 0.0 };
        let lag_w = if labels { self.pen.width("888.8 k ↑", SMALL.px, false) + 4.0 } else { 0.0 };
        let own_w = if labels && members > 1 { self.pen.width("m8", SMALL.px, false) + 14.0 } else { 0.0 };
        let mut bar_w = region.w - name_w - lag_w - own_w;
        let (name_w, lag_w) = if bar_w < 40.0 && labels {
            // Too narrow for names: keep the lag figures.
            bar_w = region.w - lag_w - own_w;
            (0.0, lag_w)
        } else {
            (name_w, lag_w)
        };
        let data = self.data_color();
        for (i, p) in parts.iter().take(shown).enumerate() {
            let ly = region.y + i as f64 * lane_h;
            let bh = (lane_h - if lane_h >= 6.0 { 3.0 } else { 1.0 }).max(1.0);
            let mid = ly + bh / 2.0;
            let bx = region.x + name_w;
            let is_stuck = stuck.contains(&i);
            if name_w > 0.0 {
                self.pen.text(&format!("p{i}"), region.x, mid, SMALL, t.muted, Align::Left);
            }
            self.pen.fill_rect(Rect::new(bx, ly, bar_w, bh), t.grid, 1.0);
            // committed .. log start: deleted by retention before anyone processed it.
            let start = p.log_start.max(p.committed);
            let deleted = ((start - p.committed) as f64 / scale * bar_w).min(bar_w);
            let fetched = (p.position.saturating_sub(start)) as f64 / scale * bar_w;
            let waiting = (p.log_end.saturating_sub(p.position.max(start))) as f64 / scale * bar_w;
            let fetched = fetched.min(bar_w - deleted);
            let waiting = waiting.min(bar_w - deleted - fetched);
            if deleted > 0.0 {
                let d = Rect::new(bx, ly, deleted, bh);
                self.pen.fill_rect(d, VERMILLION, 0.35);
                self.pen.hatch(d, VERMILLION, 0.9);
            }
            self.pen.fill_rect(Rect::new(bx + deleted, ly, fetched, bh), PURPLE, 1.0);
            self.pen.fill_rect(Rect::new(bx + deleted + fetched, ly, waiting, bh), data, 1.0);
            if is_stuck {
                self.pen.round_rect(Rect::new(bx - 1.0, ly - 1.0, bar_w + 2.0, bh + 2.0), 2.0, None, Some((VERMILLION, 2.0)));
            }
            if labels {
                let trend = self.d.parts.get(i).map_or(0, |h| h.trend);
                let arrow = match trend {
                    1 => " ↑",
                    -1 => " ↓",
                    _ => "",
                };
                let fig = format!("{}{arrow}", format::count(p.lag as f64));
                let color = if is_stuck { VERMILLION } else { t.fg };
                self.pen.fit(&[&fig, &format::count(p.lag as f64)], bx + bar_w + lag_w, mid, lag_w - 2.0, SMALL, color, Align::Right);
                if own_w > 0.0 {
                    let ox = bx + bar_w + lag_w + 4.0;
                    match p.owner {
                        Some(o) => {
                            self.pen.fill_rect(Rect::new(ox, mid - 3.5, 7.0, 7.0), MEMBER_COLORS[o as usize % MEMBER_COLORS.len()], 1.0);
                            self.pen.text(&format!("m{o}"), ox + 9.0, mid, SMALL, t.muted, Align::Left);
                        }
                        None => self.pen.text("–", ox + 2.0, mid, SMALL, t.muted, Align::Left),
                    }
                }
            }
        }
        if shown < parts.len() {
            let more = format!("+{} more partitions", parts.len() - shown);
            self.pen.fit(
                &[&more, &format!("+{}", parts.len() - shown)],
                region.x,
                region.bottom() + 7.0,
                region.w,
                SMALL,
                t.muted,
                Align::Left,
            );
        }
        let stuck_note = stuck.first().map(|p| format!("p{p} held up by a slow message"));
        let fy = r.bottom() - 26.0;
        match &stuck_note {
            Some(note) => {
                let short = format!("p{} held up", stuck[0]);
                self.pen.fit(&[note, &short, "held up"], r.x + 8.0, fy, r.w - 16.0, LABEL, VERMILLION, Align::Left);
            }
            None => {
                self.pen.fit(&[&lag_l, &lag_s], r.x + 8.0, fy, r.w - 16.0, VALUE, t.fg, Align::Left);
            }
        }
        // Legend: long labels when all fit, else short ones.
        let ly = r.bottom() - 10.0;
        let room = r.w - 16.0;
        let mut entries: Vec<(RGBColor, &str, &str)> =
            vec![(PURPLE, "fetched, uncommitted", "fetched"), (data, "not fetched yet", "unfetched")];
        if parts.iter().any(|p| p.log_start > p.committed) {
            entries.push((VERMILLION, "deleted unread", "deleted"));
        }
        let need = |s: &mut Self, long: bool| {
            entries.iter().map(|e| 21.0 + s.pen.width(if long { e.1 } else { e.2 }, SMALL.px, false)).sum::<f64>() - 10.0
        };
        let long = need(self, true) <= room;
        if long || need(self, false) <= room {
            let mut x = r.x + 8.0;
            for (c, l, sh) in entries.iter().copied() {
                let label = if long { l } else { sh };
                self.pen.fill_rect(Rect::new(x, ly - 4.0, 8.0, 8.0), c, 1.0);
                self.pen.text(label, x + 11.0, ly, SMALL, t.muted, Align::Left);
                x += 21.0 + self.pen.width(label, SMALL.px, false);
            }
        }
    }

    fn consumer(&mut self, r: Rect) {
        let g = self.snap.consumer.clone();
        let t = *self.pen.theme;
        let rebalancing = g.rebalancing || self.now < self.d.rebalance_until;
        let n = g.members.len();
        let title_l = if n > 1 { format!("Consumer group · {n} members") } else { "Consumer".to_string() };
        let title_s = if n > 1 { format!("Group ({n})") } else { "Consumer".to_string() };
        self.frame(r, &[&title_l, &title_s, "Cons."], if rebalancing { ORANGE } else { t.muted }, if rebalancing { 3.0 } else { 1.5 });
        let mode = match (g.mode, g.polls) {
            (Mode::Sync, true) => ["poll, process, poll", "sync"],
            (Mode::Async, true) => ["poll, hand off async", "async"],
            (Mode::Sync, false) => ["pushed to; processes in turn", "pushed, sync"],
            (Mode::Async, false) => ["pushed to; hands off async", "pushed, async"],
        };
        let commit = match g.commit {
            Commit::Auto => ["auto-commit", "auto"],
            Commit::Sync => ["commit after processing", "commit after"],
            Commit::Async => ["commitAsync after processing", "commitAsync"],
        };
        let has_topic = topic(self.snap).is_some();
        let line_y = r.y + 30.0;
        if g.rebalancing {
            self.pen.fit(
                &["REBALANCING: partitions paused", "REBALANCING", "rebal."],
                r.x + 8.0,
                line_y,
                r.w - 16.0,
                LABEL,
                ORANGE,
                Align::Left,
            );
        } else {
            let full = if has_topic { format!("{} · {}", mode[0], commit[0]) } else { mode[0].to_string() };
            let mid = if has_topic { format!("{} · {}", mode[1], commit[1]) } else { mode[1].to_string() };
            self.pen.fit(&[&full, &mid, mode[1]], r.x + 8.0, line_y, r.w - 16.0, SMALL, t.muted, Align::Left);
        }
        for (i, m) in g.members.iter().enumerate() {
            if let Some(card) = self.lay.members.get(i).copied() {
                self.member(i, card, m, n > 1);
            }
        }
    }

    fn member(&mut self, i: usize, r: Rect, m: &MemberView, named: bool) {
        let t = *self.pen.theme;
        let g = &self.snap.consumer;
        let marks = self.d.marks.get(i).copied().unwrap_or_default();
        let flashing = !self.d.reduced_motion && self.now < marks.flash_until;
        let down = !m.up;
        let border = if down || m.evicted {
            VERMILLION
        } else if m.paused {
            ORANGE
        } else {
            t.grid
        };
        let fill_alpha = if flashing {
            0.25 + 0.2 * ((self.now * 12.0).sin() * 0.5 + 0.5)
        } else if down {
            0.10
        } else {
            0.0
        };
        self.pen.round_rect(
            r,
            6.0,
            Some((if fill_alpha > 0.0 { VERMILLION } else { t.bg }, if fill_alpha > 0.0 { fill_alpha } else { 1.0 })),
            Some((border, if down { 2.5 } else { 1.0 })),
        );
        if down {
            self.pen.hatch(r.inset(1.0, 1.0), VERMILLION, 0.15);
        }
        let (x, w) = (r.x + 6.0, r.w - 12.0);
        if r.h < 15.0 {
            // Too many members for text: a strip per member, its colour and state only
            // (down and evicted are striped and outlined above).
            self.pen.fill_rect(Rect::new(r.x + 2.0, r.y + 1.0, 6.0, (r.h - 2.0).max(1.0)), MEMBER_COLORS[i % MEMBER_COLORS.len()], 1.0);
            let heap = m.heap_bytes as f64 / g.heap_limit_bytes.max(1) as f64;
            self.pen.bar(
                Rect::new(r.x + 12.0, r.y + r.h * 0.3, (r.w - 18.0).max(0.0), (r.h * 0.4).max(1.0)),
                heap,
                if heap > 0.85 { VERMILLION } else { GREEN },
            );
            return;
        }
        // Tall cards spread their rows out.
        let sp = ((r.h - 100.0) / 5.0).clamp(0.0, 9.0);
        let mut y = r.y + 10.0 + sp * 0.5;
        // Status row: colour swatch and name, then the state.
        let mut sx = x;
        if named {
            self.pen.fill_rect(Rect::new(sx, y - 4.5, 9.0, 9.0), MEMBER_COLORS[i % MEMBER_COLORS.len()], 1.0);
            sx += 12.0;
            let nw = self.pen.fit(&[&format!("m{i}")], sx, y, w, LABEL, t.fg, Align::Left);
            sx += nw + 6.0;
        }
        let restart = m.restart_in_s.map(format::secs).unwrap_or_default();
        let slow_here = self.d.slow.as_ref().is_some_and(|s| s.member as usize == i && (!s.stuck.is_empty() || (self.now - s.wall) < 3.0));
        let (state, color): (Vec<String>, RGBColor) = if down {
            let what = if marks.kill.is_some() { "OOM-KILLED" } else { "DOWN" };
            (vec![format!("{what} · restart in {restart}"), format!("{what} · {restart}"), what.to_string()], VERMILLION)
        } else if m.evicted {
            (vec!["EVICTED: poll interval exceeded".into(), "EVICTED".into()], VERMILLION)
        } else if g.rebalancing {
            (vec!["waiting for rebalance".into(), "rebalancing".into()], ORANGE)
        } else if m.paused {
            (vec!["PAUSED: too much in flight".into(), "PAUSED".into()], ORANGE)
        } else if slow_here {
            (vec!["slow message: head of line".into(), "slow message".into(), "slow".into()], VERMILLION)
        } else if m.waiting_for_batch {
            (vec!["processing its batch".into(), "processing".into()], t.muted)
        } else if g.polls {
            (vec!["polling".into()], t.muted)
        } else {
            (vec!["receiving".into()], t.muted)
        };
        let opts: Vec<&str> = state.iter().map(|s| s.as_str()).collect();
        let bold = if color == t.muted { LABEL } else { Font::new(12.0, true) };
        self.pen.fit(&opts, sx, y, r.right() - 6.0 - sx, bold, color, Align::Left);
        y += 16.0 + sp;
        let full = r.h >= 92.0;
        let heap_frac = m.heap_bytes as f64 / g.heap_limit_bytes.max(1) as f64;
        let heap_color = if heap_frac > 0.85 {
            VERMILLION
        } else if heap_frac > 0.6 {
            ORANGE
        } else {
            GREEN
        };
        let heap_l = format!("heap {} / {}", format::bytes(m.heap_bytes as f64), format::bytes(g.heap_limit_bytes as f64));
        let heap_m = format!("heap {:.0}%", heap_frac * 100.0);
        if down {
            if let Some((inflight, lost)) = marks.kill {
                let l = format!("killed with {} in flight; {} lost", format::count(inflight as f64), format::count(lost as f64));
                let s = format!("lost {}", format::count(lost as f64));
                if y + 6.0 <= r.bottom() {
                    self.pen.fit(&[&l, &s], x, y, w, SMALL, t.fg, Align::Left);
                }
            }
            return;
        }
        if full {
            self.pen.fit(&[&heap_l, &heap_m], x, y, w, SMALL, t.fg, Align::Left);
            y += 11.0;
            self.pen.bar(Rect::new(x, y - 3.0, w, 7.0 + sp * 0.4), heap_frac, heap_color);
            y += 12.0 + sp * 1.4;
        } else if y + 6.0 <= r.bottom() {
            let lw = self.pen.fit(&[&heap_m, "heap"], x, y, w * 0.45, SMALL, t.fg, Align::Left);
            if lw > 0.0 {
                self.pen.bar(Rect::new(x + lw + 6.0, y - 3.5, (w - lw - 6.0).max(0.0), 7.0), heap_frac, heap_color);
            }
            y += 15.0;
        }
        // Workers.
        if y + 6.0 <= r.bottom() {
            y = self.workers(i, Rect::new(x, y, w, (r.bottom() - y).max(0.0)), m, full, marks, sp);
        }
        if y + 6.0 <= r.bottom() {
            let inflight = format!("in flight {}", format::count(m.in_flight as f64));
            let both = format!("{inflight} · cache {}", format::count(m.fetch_cache as f64));
            let opts: Vec<&str> = if m.fetch_cache > 0 { vec![&both, &inflight] } else { vec![&inflight] };
            self.pen.fit(&opts, x, y, w, SMALL, t.fg, Align::Left);
        }
    }

    /// The worker pool: a square per worker when they fit, else a bar. Busy workers are
    /// filled, those waiting for the downstream filled orange and striped, idle ones open.
    /// Returns the y below.
    fn workers(&mut self, _i: usize, r: Rect, m: &MemberView, full: bool, marks: Marks, sp: f64) -> f64 {
        let t = *self.pen.theme;
        let total = self.snap.consumer.workers.max(1);
        let busy = m.busy_workers.min(total);
        let waiting = m.waiting_workers.min(busy);
        let working = busy - waiting;
        let limit = m.limit;
        let limited = limit < total;
        let idle = total - busy;
        let text_l = if waiting > 0 {
            format!("workers {working} busy · {waiting} waiting · {idle} idle")
        } else {
            format!("workers {busy}/{total} busy")
        };
        let text_m =
            if waiting > 0 { format!("{working} busy · {waiting} waiting · {idle} idle") } else { format!("{busy}/{total} busy") };
        let text_w2 = if waiting > 0 { format!("{working} busy · {waiting} wait") } else { format!("{busy}/{total} busy") };
        let text_s = if waiting > 0 { format!("{working}+{waiting}w/{total}") } else { format!("{busy}/{total} busy") };
        let limit_l = format!("limit {limit}");
        let data = self.data_color();
        let mut y = r.y;
        let cell = 9.0 + sp * 0.5;
        let per_row = ((r.w + 3.0) / (cell + 3.0)).floor().max(1.0) as u32;
        let squares = total <= per_row * 2 && total <= 48;
        let glyph_h = if squares {
            if total > per_row {
                2.0 * cell + 3.0
            } else {
                cell
            }
        } else {
            8.0
        };
        let compact = !full;
        // Compact: glyphs (or bar) left, figure right, one row.
        let text_c = if limited { format!("{text_s} · {limit_l}") } else { text_s.clone() };
        let text_w = if compact {
            let wc = self.pen.width(&text_c, SMALL.px, false);
            if wc <= r.w * 0.6 {
                wc
            } else {
                self.pen.width(&text_s, SMALL.px, false).min(r.w * 0.5)
            }
        } else {
            0.0
        };
        let gw = if compact { (r.w - text_w - 8.0).max(20.0) } else { r.w };
        if squares && compact && total > ((gw + 3.0) / (cell + 3.0)).floor() as u32 {
            // Not enough room on one row: fall through to the bar.
        }
        let per_row_g = ((gw + 3.0) / (cell + 3.0)).floor().max(1.0) as u32;
        let squares = squares && (!compact || total <= per_row_g);
        let top = y - if compact { 4.5 } else { 0.0 };
        if squares {
            for k in 0..total {
                let (cx, cy) = (r.x + (k % per_row_g) as f64 * (cell + 3.0), top + (k / per_row_g) as f64 * (cell + 3.0));
                let c = Rect::new(cx, cy, cell, cell);
                if k < working {
                    self.pen.fill_rect(c, data, 1.0);
                } else if k < busy {
                    self.pen.fill_rect(c, ORANGE, 1.0);
                    self.pen.hatch(c, t.bg, 0.6);
                } else {
                    self.pen.round_rect(c, 1.0, None, Some((t.muted, 1.0)));
                }
                if limited && k + 1 == limit {
                    let lx = cx + cell + 1.5;
                    let flash = self.now < marks.limit_flash_until;
                    self.pen.line((lx, cy - 2.0), (lx, cy + cell + 2.0), if flash { ORANGE } else { t.fg }, 2.0, false);
                }
            }
        } else {
            let bar = Rect::new(r.x, top, gw, 8.0);
            self.pen.fill_rect(bar, t.grid, 1.0);
            let f = |k: u32| k as f64 / total as f64 * gw;
            self.pen.fill_rect(Rect::new(bar.x, bar.y, f(working), bar.h), data, 1.0);
            let wr = Rect::new(bar.x + f(working), bar.y, f(waiting), bar.h);
            self.pen.fill_rect(wr, ORANGE, 1.0);
            self.pen.hatch(wr, t.bg, 0.6);
            if limited {
                let lx = bar.x + f(limit);
                let flash = self.now < marks.limit_flash_until;
                self.pen.line((lx, bar.y - 3.0), (lx, bar.bottom() + 3.0), if flash { ORANGE } else { t.fg }, 2.0, false);
            }
        }
        if compact {
            self.pen.fit(&[&text_c, &text_w2, &text_s], r.right(), y, text_w.max(r.w - gw - 6.0), SMALL, t.fg, Align::Right);
            y += 15.0;
        } else {
            y += glyph_h + 9.0;
            if y + 4.0 <= r.bottom() {
                let a = format!("{text_l} · {limit_l}");
                let b = format!("{text_m} · {limit_l}");
                let one_row = limited && self.pen.width(&b, SMALL.px, false) <= r.w;
                let opts: Vec<&str> = if one_row { vec![&a, &b] } else { vec![&text_l, &text_m, &text_w2, &text_s] };
                self.pen.fit(&opts, r.x, y, r.w, SMALL, t.fg, Align::Left);
                y += 15.0 + sp;
                if limited && !one_row && y + 4.0 <= r.bottom() {
                    let l = format!("concurrency limit {limit}");
                    self.pen.fit(&[&l, &limit_l], r.x, y, r.w, Font::new(11.0, true), t.fg, Align::Left);
                    y += 15.0 + sp;
                }
            }
        }
        y
    }

    fn downstream(&mut self, r: Rect) {
        let t = *self.pen.theme;
        let Some((busy, queued, slots)) = self.snap.consumer.downstream else { return };
        let full = busy >= slots;
        let y = self.frame(r, &["Downstream service", "Downstream", "Dep."], if full { ORANGE } else { t.muted }, 1.5);
        let data = self.data_color();
        let (x, w) = (r.x + 8.0, r.w - 16.0);
        let cell = 10.0;
        let per_row = ((w + 3.0) / (cell + 3.0)).floor().max(1.0) as u32;
        let mut yy = y + 2.0;
        if slots <= per_row * 2 {
            for k in 0..slots {
                let c = Rect::new(x + (k % per_row) as f64 * (cell + 3.0), yy + (k / per_row) as f64 * (cell + 3.0), cell, cell);
                if k < busy {
                    self.pen.fill_rect(c, data, 1.0);
                } else {
                    self.pen.round_rect(c, 1.0, None, Some((t.muted, 1.0)));
                }
            }
            yy += if slots > per_row { 2.0 * cell + 3.0 } else { cell } + 10.0;
        } else {
            self.pen.bar(Rect::new(x, yy, w, 8.0), busy as f64 / slots.max(1) as f64, data);
            yy += 18.0;
        }
        let slots_l = format!("{busy}/{slots} slots busy");
        let slots_s = format!("{busy}/{slots}");
        self.pen.fit(&[&slots_l, &slots_s], x, yy, w, SMALL, t.fg, Align::Left);
        yy += 15.0;
        if yy + 4.0 <= r.bottom() {
            let q_l = format!("{} calls queued", format::count(queued as f64));
            let q_s = format!("queue {}", format::count(queued as f64));
            self.pen.fit(
                &[&q_l, &q_s, &format::count(queued as f64)],
                x,
                yy,
                w,
                if queued > 0 { Font::new(11.0, true) } else { SMALL },
                if queued > 0 { ORANGE } else { t.muted },
                Align::Left,
            );
            yy += 9.0;
        }
        // The queue as a bar against the pool's size, when there is room.
        if queued > 0 && yy + 8.0 <= r.bottom() - 4.0 {
            self.pen.bar(Rect::new(x, yy, w, 6.0), queued as f64 / (queued as f64 + slots as f64 * 4.0), ORANGE);
        }
    }

    // ---- links ------------------------------------------------------------------------

    fn lanes(&self, j: usize, member: Option<usize>) -> layout::Lanes {
        self.lay.lanes(j, member)
    }

    /// Link `j` with its arrows and labels; a fan to every member for a pull link into a
    /// consumer group.
    fn link(&mut self, j: usize) {
        let t = *self.pen.theme;
        let kind = self.link_kind(j);
        let consumer = j == self.consumer_node();
        let members = self.snap.consumer.members.len();
        let fan = consumer && kind == LinkKind::Pull && members > 1 && !self.lay.vertical;
        let data = self.data_color();
        let rate = match kind {
            LinkKind::Pull => self.d.rates.sum(|p| matches!(p, Path::Batch { .. })),
            _ => self.d.rates.get(Path::Push { link: j as u16 }),
        };
        let width = (1.5 + 0.45 * (rate + 1.0).log10()).min(4.5);
        let blocked_here = self.snap.producer.blocked && self.sender(j) == 0 && j == 1;
        let targets: Vec<Option<usize>> = if fan { (0..members).map(Some).collect() } else { vec![if consumer { Some(0) } else { None }] };
        for m in &targets {
            let l = self.lanes(j, *m);
            let member_down = m.and_then(|m| self.snap.consumer.members.get(m)).is_some_and(|mv| !mv.up);
            let c = if member_down { t.grid } else { t.muted };
            self.pen.arrow(l.fwd.0, l.fwd.1, c, if fan { width.min(2.5) } else { width }, false);
            match kind {
                LinkKind::Pull => self.pen.arrow(l.back.0, l.back.1, if member_down { t.grid } else { ORANGE }, 1.5, true),
                LinkKind::Window => self.pen.arrow(l.back.0, l.back.1, PURPLE, 1.5, true),
                LinkKind::Push => {}
            }
        }
        // Demand and credits pass through map and filter: their tokens travel on to the
        // sender upstream of them.
        if kind == LinkKind::Window {
            let s = self.sender(j);
            for k in s + 1..j {
                let lk = self.lanes(k, None);
                let next = self.lanes(k + 1, None);
                // Across operator `k`, then back over link `k`.
                self.pen.line(next.back.1, lk.back.0, PURPLE, 1.0, true);
                if k == s + 1 {
                    self.pen.arrow(lk.back.0, lk.back.1, PURPLE, 1.5, true);
                } else {
                    self.pen.line(lk.back.0, lk.back.1, PURPLE, 1.5, true);
                }
            }
        }
        // A closed gate where the blocked producer waits.
        if blocked_here {
            let l = self.lanes(j, targets[0]);
            let (gx, gy) = l.fwd.0;
            if self.lay.vertical {
                self.pen.line((gx - 12.0, gy + 5.0), (gx + 12.0, gy + 5.0), VERMILLION, 4.0, false);
            } else {
                self.pen.line((gx + 5.0, gy - 12.0), (gx + 5.0, gy + 12.0), VERMILLION, 4.0, false);
            }
        }
        // Labels.
        let (top_opts, top_color): (Vec<String>, RGBColor) = match kind {
            LinkKind::Push => (vec!["push".into()], t.muted),
            LinkKind::Pull => {
                let mpr = self.snap.consumer.max_poll_records;
                if topic(self.snap).is_some() && consumer {
                    (vec!["poll / fetch".into(), "poll".into()], ORANGE)
                } else {
                    (vec![format!("poll({mpr})"), "poll".into()], ORANGE)
                }
            }
            LinkKind::Window => {
                let w = self.window(j).cloned().unwrap_or_default();
                if w.request {
                    (
                        vec![
                            format!("request(n) · {} in transit", format::count(w.in_transit as f64)),
                            "request(n)".into(),
                            "req(n)".into(),
                        ],
                        PURPLE,
                    )
                } else {
                    (vec![format!("credits · {} in transit", format::count(w.in_transit as f64)), "credits".into(), "cred.".into()], PURPLE)
                }
            }
        };
        let rate_opts: Vec<String> = if rate > 0.0 {
            vec![abbrev_rate(rate), rate_figure(rate), compact(rate)]
        } else if blocked_here {
            vec!["blocked".into(), "stop".into()]
        } else {
            vec!["0/s".into(), "0".into()]
        };
        let rate_s: Vec<&str> = rate_opts.iter().map(|s| s.as_str()).collect();
        let rate_color = if blocked_here { VERMILLION } else { data };
        let top: Vec<&str> = top_opts.iter().map(|s| s.as_str()).collect();
        let (a, b) = (self.lay.nodes[j - 1], self.lay.nodes[j]);
        if self.lay.vertical {
            let l = self.lanes(j, None);
            let lx = l.fwd.0 .0 + 14.0;
            let bin_left = self.lay.bins[j].x - 6.0;
            let room = bin_left - lx;
            let y0 = a.bottom();
            self.pen.fit_halo(&top, lx, y0 + 10.0, room, SMALL, top_color, Align::Left);
            self.pen.fit_halo(&rate_s, lx, y0 + 24.0, room, Font::new(11.0, true), rate_color, Align::Left);
        } else {
            let (x0, x1) = (a.right(), b.x);
            let gap = x1 - x0 - 6.0;
            let cx = (x0 + x1) / 2.0;
            let ly = a.mid_y();
            if fan {
                self.pen.fit_halo(&top, cx, a.y + 10.0, gap, SMALL, top_color, Align::Center);
                self.pen.fit_halo(&rate_s, cx, a.y + 24.0, gap, Font::new(11.0, true), rate_color, Align::Center);
            } else {
                self.pen.fit_halo(&top, cx, ly - 22.0, gap, SMALL, top_color, Align::Center);
                self.pen.fit_halo(&rate_s, cx, ly + 22.0, gap, Font::new(11.0, true), rate_color, Align::Center);
            }
        }
        // The permits the sender holds.
        if kind == LinkKind::Window {
            let w = self.window(j).cloned().unwrap_or_default();
            let pulse = self.now - self.d.arrived.get(j).copied().unwrap_or(f64::NEG_INFINITY) < 0.3 && !self.d.reduced_motion;
            let what = if w.request { "demand" } else { "credits" };
            let held_l = format!("{what} held {}", format::count(w.permits as f64));
            let held_s = format!("◆ {}", format::count(w.permits as f64));
            let held_xs = format!("◆{}", compact(w.permits as f64));
            let color = if w.permits == 0 { VERMILLION } else { PURPLE };
            let font = if pulse { Font::new(12.0, true) } else { Font::new(11.0, true) };
            if self.lay.vertical {
                let l = self.lanes(j, None);
                let lx = l.fwd.0 .0 + 14.0;
                let room = self.lay.bins[j].x - 6.0 - lx;
                self.pen.fit_halo(&[&held_l, &held_s, &held_xs], lx, a.bottom() + 38.0, room, font, color, Align::Left);
            } else {
                let (x0, x1) = (a.right(), b.x);
                let ly = a.mid_y();
                self.pen.fit_halo(&[&held_l, &held_s, &held_xs], (x0 + x1) / 2.0, ly + 38.0, x1 - x0 - 6.0, font, color, Align::Center);
            }
        }
    }

    /// Calls from the consumer to the downstream dependency, and their replies.
    fn calls(&mut self) {
        let t = *self.pen.theme;
        let Some(ds) = self.lay.downstream else { return };
        let c = self.lay.consumer();
        let rate = self.d.rates.sum(|p| matches!(p, Path::Done { .. }));
        let (fwd, back) = self.call_lanes();
        self.pen.arrow(fwd.0, fwd.1, t.muted, 2.0, false);
        self.pen.arrow(back.0, back.1, GREEN, 1.5, true);
        let l = format!("replies {}", abbrev_rate(rate));
        let m = abbrev_rate(rate);
        let f = rate_figure(rate);
        let s = compact(rate);
        if self.lay.vertical {
            let x = fwd.0 .0 + 14.0;
            self.pen.fit_halo(&["calls ⇣ replies ⇡", "calls"], x, (c.bottom() + ds.y) / 2.0 - 8.0, c.w - 70.0, SMALL, t.muted, Align::Left);
            self.pen.fit_halo(&[&l, &m, &f, &s], x, (c.bottom() + ds.y) / 2.0 + 8.0, c.w - 70.0, Font::new(11.0, true), GREEN, Align::Left);
        } else {
            let cx = (c.right() + ds.x) / 2.0;
            let gap = ds.x - c.right() - 6.0;
            self.pen.fit_halo(&["calls", "call"], cx, fwd.0 .1 - 15.0, gap, SMALL, t.muted, Align::Center);
            self.pen.fit_halo(&[&l, &m, &f, &s], cx, back.0 .1 + 15.0, gap, Font::new(11.0, true), GREEN, Align::Center);
        }
    }

    fn call_lanes(&self) -> ((P, P), (P, P)) {
        let c = self.lay.consumer();
        let ds = self.lay.downstream.unwrap_or_default();
        if self.lay.vertical {
            let x = c.x + LANE_X_V;
            (((x + 6.0, c.bottom() + 2.0), (x + 6.0, ds.y - 2.0)), ((x - 6.0, ds.y - 2.0), (x - 6.0, c.bottom() + 2.0)))
        } else {
            let y = ds.mid_y();
            (((c.right() + 2.0, y - 7.0), (ds.x - 2.0, y - 7.0)), ((ds.x - 2.0, y + 7.0), (c.right() + 2.0, y + 7.0)))
        }
    }

    /// The throttle's feedback: the topic's lag sets the producer's rate (a dashed line
    /// over the boxes, left to right; top to bottom the producer's title says it).
    fn throttle_loop(&mut self) {
        let Some(ti) = self.snap.stages.iter().position(|s| matches!(s, StageView::Topic { .. })) else { return };
        if self.lay.vertical {
            return;
        }
        let (p, tp) = (self.lay.nodes[0], self.lay.nodes[ti + 1]);
        let top = (p.y - 5.0).max(2.0);
        let (x0, x1) = (tp.mid_x(), p.mid_x());
        self.pen.line((x0, tp.y), (x0, top), PURPLE, 1.5, true);
        self.pen.line((x0, top), (x1, top), PURPLE, 1.5, true);
        self.pen.arrow((x1, top), (x1, p.y), PURPLE, 1.5, false);
        let b = self.lay.nodes[1];
        let cx = (p.right() + b.x) / 2.0;
        self.pen.fit_halo(&["lag sets the rate", "lag → rate", "lag"], cx, p.y + 12.0, b.x - p.right() - 6.0, SMALL, PURPLE, Align::Center);
    }

    /// Where node `node`'s bin goes: left to right, the consumer shares its strip with the
    /// processed count and takes the right half.
    fn bin_rect(&self, node: usize) -> Rect {
        let r = self.lay.bins[node];
        if !self.lay.vertical && node == self.consumer_node() {
            Rect::new(r.x + r.w / 2.0, r.y, r.w / 2.0, r.h)
        } else {
            r
        }
    }

    fn bin(&mut self, node: usize, count: u64) {
        let t = *self.pen.theme;
        let r = self.bin_rect(node);
        if r.w < 40.0 || r.h < 14.0 {
            return;
        }
        let cause = self.d.drop_cause.get(node).copied().flatten();
        let is_filter = matches!(self.snap.stages.get(node.wrapping_sub(1)), Some(StageView::Filter { .. }));
        let dropped_by = &self.snap.summary.dropped_by;
        let consumer = node == self.consumer_node();
        let why = if is_filter {
            "filtered out"
        } else {
            match cause {
                Some(DropCause::DropNewest) => "dropped (newest)",
                Some(DropCause::DropOldest) => "dropped (oldest)",
                Some(DropCause::Fail) => "send failed",
                Some(DropCause::BlockTimeout) => "timed out",
                Some(DropCause::Filter) => "filtered out",
                Some(DropCause::ShedQueueLength) | Some(DropCause::ShedDeadline) | Some(DropCause::ShedRed) => "shed",
                None if consumer && dropped_by.shed_queue_length + dropped_by.shed_deadline + dropped_by.shed_red > 0 => "shed",
                None => "dropped",
            }
        };
        // A tray: open at the top.
        let tray = Rect::new(r.x + 2.0, r.y + 2.0, r.w - 4.0, r.h - 4.0);
        let color = if count > 0 && !is_filter { VERMILLION } else { t.muted };
        let ctx = self.pen.ctx;
        ctx.begin_path();
        ctx.move_to(tray.x, tray.y);
        ctx.line_to(tray.x + 4.0, tray.bottom());
        ctx.line_to(tray.right() - 4.0, tray.bottom());
        ctx.line_to(tray.right(), tray.y);
        ctx.set_stroke_style_str(&css(color, 1.0));
        ctx.set_line_width(1.5);
        ctx.stroke();
        let fig = format::count(count as f64);
        let l = format!("{fig} {why}");
        let s = format!("✕ {fig}");
        if tray.w >= 110.0 {
            // Right of the spot where the drops fall in.
            self.pen.fit(
                &[&l, &s, &fig],
                tray.right() - 6.0,
                tray.mid_y() + 1.0,
                tray.w - 30.0,
                Font::new(11.0, true),
                color,
                Align::Right,
            );
        } else {
            // A narrow bin (a filter's): right of the drop spot, the figure may reach into
            // the gap on the right.
            self.pen.fit_halo(
                &[&l, &s, &fig],
                tray.right() + 16.0,
                tray.mid_y() + 1.0,
                tray.w - 4.0,
                Font::new(11.0, true),
                color,
                Align::Right,
            );
        }
    }

    /// Processed messages leaving, and losses, under (or right of) the consumer.
    fn exit(&mut self) {
        let c = self.lay.consumer();
        let s = &self.snap.summary;
        let done = format!("✓ processed {}", format::count(s.consumed as f64));
        let done_s = format!("✓ {}", format::count(s.consumed as f64));
        let lost = format!("lost {}", format::count(s.lost as f64));
        let (x, y, w) = if self.lay.vertical {
            match self.lay.downstream {
                Some(ds) => (ds.x + 8.0, ds.bottom() + 12.0, ds.w - 16.0),
                None => (c.x + LANE_X_V + 16.0, c.bottom() + 14.0, c.w - LANE_X_V - 16.0),
            }
        } else {
            // The consumer's strip holds its bin on the right half when it sheds.
            let bin_w = if self.d.drop_counts(self.snap).last().copied().unwrap_or(0) > 0 { c.w / 2.0 + 4.0 } else { 0.0 };
            (c.x + 4.0, self.lay.bins[self.lay.nodes.len() - 1].mid_y() + 1.0, c.w - 8.0 - bin_w)
        };
        if self.lay.vertical && self.lay.downstream.is_some() && y > self.lay.h - 6.0 {
            return;
        }
        let font = Font::new(11.0, true);
        let lost_s = format!("✕ {}", format::count(s.lost as f64));
        let mut pairs: Vec<(&str, Option<&str>)> = Vec::new();
        if s.lost > 0 {
            pairs.extend([
                (done.as_str(), Some(lost.as_str())),
                (done_s.as_str(), Some(lost.as_str())),
                (done_s.as_str(), Some(lost_s.as_str())),
            ]);
        }
        pairs.extend([(done.as_str(), None), (done_s.as_str(), None)]);
        // The first pair that fits whole; losses are never cut to an ellipsis.
        let fits = |sc: &mut Self, (d, l): (&str, Option<&str>)| {
            sc.pen.width(d, font.px, font.bold) + l.map_or(0.0, |l| 10.0 + sc.pen.width(l, font.px, font.bold)) <= w
        };
        if let Some((d, l)) = pairs.iter().copied().find(|p| fits(self, *p)) {
            self.pen.text(d, x, y, font, GREEN, Align::Left);
            if let Some(l) = l {
                let dw = self.pen.width(d, font.px, font.bold);
                self.pen.text(l, x + dw + 10.0, y, font, VERMILLION, Align::Left);
            }
        }
    }

    // ---- motion -----------------------------------------------------------------------

    /// The polyline a path's dots travel.
    fn path_points(&self, p: Path) -> Option<Vec<P>> {
        let n = self.lay.nodes.len();
        let cn = n - 1;
        let members = self.snap.consumer.members.len();
        let member_lane = |m: u16| if members > 1 && !self.lay.vertical { Some((m as usize).min(members - 1)) } else { Some(0) };
        match p {
            Path::Push { link } => {
                let j = link as usize;
                if j == 0 || j >= n {
                    return None;
                }
                let l = self.lanes(j, if j == cn { Some(0) } else { None });
                Some(vec![l.fwd.0, l.fwd.1])
            }
            Path::Token { link, .. } => {
                let j = link as usize;
                if j == 0 || j >= n {
                    return None;
                }
                let s = self.sender(j);
                let mut pts = Vec::new();
                for k in (s + 1..=j).rev() {
                    let l = self.lanes(k, if k == cn { Some(0) } else { None });
                    pts.push(l.back.0);
                    pts.push(l.back.1);
                }
                Some(pts)
            }
            Path::Poll { member } | Path::Commit { member } => {
                if self.snap.stages.is_empty() {
                    return None;
                }
                let l = self.lanes(cn, member_lane(member));
                Some(vec![l.back.0, l.back.1])
            }
            Path::Batch { member } => {
                if self.snap.stages.is_empty() {
                    return None;
                }
                let l = self.lanes(cn, member_lane(member));
                Some(vec![l.fwd.0, l.fwd.1])
            }
            Path::Drop { node } => {
                let i = node as usize;
                if i == 0 || i >= n {
                    return None;
                }
                let bin = self.bin_rect(i);
                let b = self.lay.nodes[i];
                let filter = matches!(self.snap.stages.get(i - 1), Some(StageView::Filter { .. }));
                let inside = matches!(
                    self.d.drop_cause.get(i).copied().flatten(),
                    Some(DropCause::DropOldest | DropCause::ShedQueueLength | DropCause::ShedRed | DropCause::ShedDeadline)
                );
                let spot = (bin.x + if bin.w >= 110.0 { 14.0 } else { 9.0 }, bin.mid_y() + 2.0);
                if self.lay.vertical {
                    // Below the link's labels, then up into the bin.
                    if filter || inside {
                        Some(vec![(spot.0, b.y + 4.0), spot])
                    } else {
                        let l = self.lanes(i, None);
                        let y = b.y - 6.0;
                        Some(vec![(l.fwd.0 .0, y), (spot.0, y), spot])
                    }
                } else if filter || inside {
                    Some(vec![(spot.0, b.bottom() - 1.0), spot])
                } else {
                    let l = self.lanes(i, if i == cn { Some(0) } else { None });
                    let (x, y) = l.fwd.1;
                    Some(vec![(x - 4.0, y), (x - 4.0, bin.mid_y()), spot])
                }
            }
            Path::Done { member } => {
                let c = self.lay.consumer();
                let card = self.lay.members.get(member as usize).copied().unwrap_or(c);
                if self.lay.downstream.is_some() {
                    let (_, back) = self.call_lanes();
                    return Some(vec![back.0, back.1]);
                }
                if self.lay.vertical {
                    let x = c.x + LANE_X_V;
                    Some(vec![(x, c.bottom() - 2.0), (x, c.bottom() + 24.0)])
                } else {
                    let y = card.mid_y();
                    Some(vec![(c.right() - 2.0, y), (c.right() + 26.0, y)])
                }
            }
        }
    }

    fn dots(&mut self) {
        let data = self.data_color();
        let dots = self.d.flow.dots.clone();
        for d in &dots {
            let Some(pts) = self.path_points(d.path) else { continue };
            let len: f64 = pts.windows(2).map(|w| ((w[1].0 - w[0].0).powi(2) + (w[1].1 - w[0].1).powi(2)).sqrt()).sum();
            let f = d.progress(self.now, flow::travel_s(len));
            if f >= 1.0 {
                continue;
            }
            let (pos, dir) = along(&pts, f);
            match d.path {
                Path::Push { .. } | Path::Batch { .. } => self.pen.circle(pos, flow::radius(d.n), data, 0.85),
                Path::Token { .. } => self.pen.diamond(pos, flow::radius(d.n).max(4.0), PURPLE),
                Path::Poll { .. } => self.pen.triangle(pos, 3.5 + 0.5 * (d.n as f64).log10().min(3.0), dir, ORANGE),
                Path::Commit { .. } => self.pen.square(pos, 3.0, GREEN),
                Path::Drop { .. } => self.pen.circle(pos, flow::radius(d.n).min(5.0), VERMILLION, 0.9),
                Path::Done { .. } => {
                    // Leaving: fades out on its way.
                    self.pen.circle(pos, flow::radius(d.n).min(6.0), GREEN, 0.9 * (1.0 - f))
                }
            }
        }
    }

    /// Reduced motion: fixed chevrons on every path that carries something now.
    fn chevrons(&mut self) {
        let data = self.data_color();
        let mut paths: Vec<Path> = Vec::new();
        let n = self.lay.nodes.len();
        for j in 1..n {
            paths.push(Path::Push { link: j as u16 });
            paths.push(Path::Token { link: j as u16, request: false });
            paths.push(Path::Token { link: j as u16, request: true });
            paths.push(Path::Drop { node: j as u16 });
        }
        for m in 0..self.snap.consumer.members.len() as u16 {
            paths.extend([Path::Poll { member: m }, Path::Batch { member: m }, Path::Done { member: m }]);
        }
        for p in paths {
            if self.d.rates.get(p) <= 0.0 {
                continue;
            }
            let Some(pts) = self.path_points(p) else { continue };
            let color = match p {
                Path::Push { .. } | Path::Batch { .. } => data,
                Path::Token { .. } => PURPLE,
                Path::Poll { .. } => ORANGE,
                Path::Drop { .. } => VERMILLION,
                Path::Done { .. } | Path::Commit { .. } => GREEN,
            };
            for f in [0.3, 0.55, 0.8] {
                let (pos, dir) = along(&pts, f);
                self.pen.triangle(pos, 4.5, dir, color);
            }
        }
    }
}
