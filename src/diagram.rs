//! The animated pipeline diagram: producer → stages → consumer, drawn on a canvas from a
//! [`Snapshot`] (fill levels, lag per partition, heap, workers) and animated from the
//! engine's trace (what moved where), never from a separate fake animation.
//!
//! Movement is shown as flow density: per frame and per link at most one dot is spawned,
//! sized by how many messages it stands for, so the picture reads the same at 1,000 and
//! at 1,000,000 msg/s.

use crate::format;
use crate::theme::{css, Theme, BLUE, GREEN, ORANGE, PURPLE, SKY, VERMILLION};
use bplab_engine::{Mode, Snapshot, StageView, TraceEvent, TraceKind};
use plotters::style::RGBColor;
use wasm_bindgen::JsValue;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// Seconds (wall clock) a dot takes to cross a link.
const TRAVEL_S: f64 = 0.7;
const MAX_DOTS: usize = 400;
/// Partition lanes drawn before the rest are summarised.
const MAX_LANES: usize = 12;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    /// Along the link from node `i` to node `i + 1`.
    Push(usize),
    /// A poll request travelling upstream over the link into the consumer.
    Request,
    /// Records returned by a poll, downstream over the link into the consumer.
    Batch,
    /// Out of the consumer, processed.
    Done,
}

#[derive(Clone, Copy, Debug)]
struct Dot {
    path: Path,
    born: f64,
    radius: f64,
    color: RGBColor,
}

/// Seconds (wall clock) between two dots on the same path: volume shows in their size.
const SPAWN_EVERY_S: f64 = 0.09;

/// Animation state that outlives a frame: moving dots, what each path has carried since
/// its last dot, the lanes' scale and the OOM flash.
#[derive(Default)]
pub struct Diagram {
    dots: Vec<Dot>,
    /// Per path: messages not yet shown, and when the last dot left.
    carried: Vec<(PathKey, u64, f64)>,
    lane_scale: f64,
    flash_until: f64,
    /// Draw still pictures only (`prefers-reduced-motion`).
    pub reduced_motion: bool,
}

type PathKey = Path;

fn radius_for(n: u64) -> f64 {
    (2.5 + 1.3 * ((n as f64) + 1.0).log10()).min(9.0)
}

impl Diagram {
    pub fn new(reduced_motion: bool) -> Diagram {
        Diagram { reduced_motion, ..Diagram::default() }
    }

    /// Turns the trace of one frame into dots (at most one per path) at wall time `now`.
    pub fn ingest(&mut self, trace: &[TraceEvent], now: f64) {
        let mut push: Vec<u64> = Vec::new();
        let (mut polled, mut polls, mut done) = (0u64, 0u64, 0u64);
        for ev in trace {
            match ev.kind {
                TraceKind::Moved { from, n, .. } => {
                    let i = from as usize;
                    if push.len() <= i {
                        push.resize(i + 1, 0);
                    }
                    push[i] += n;
                }
                TraceKind::Polled { n, .. } => {
                    polls += 1;
                    polled += n;
                }
                TraceKind::Processed { n, .. } => done += n,
                TraceKind::OomKill { .. } => self.flash_until = now + 1.5,
                _ => {}
            }
        }
        if self.reduced_motion {
            return;
        }
        let mut wanted: Vec<(Path, u64, RGBColor)> =
            push.iter().enumerate().map(|(i, &n)| (Path::Push(i), n, BLUE)).collect();
        wanted.push((Path::Request, polls, ORANGE));
        wanted.push((Path::Batch, polled, SKY));
        wanted.push((Path::Done, done, GREEN));
        for (path, n, color) in wanted {
            if n == 0 {
                continue;
            }
            let slot = match self.carried.iter().position(|c| c.0 == path) {
                Some(i) => i,
                None => {
                    self.carried.push((path, 0, f64::NEG_INFINITY));
                    self.carried.len() - 1
                }
            };
            let entry = &mut self.carried[slot];
            entry.1 += n;
            if now - entry.2 >= SPAWN_EVERY_S && self.dots.len() < MAX_DOTS {
                let shown = if path == Path::Request { 1 } else { entry.1 };
                self.dots.push(Dot { path, born: now, radius: radius_for(shown), color });
                entry.1 = 0;
                entry.2 = now;
            }
        }
        self.dots.retain(|d| now - d.born < TRAVEL_S);
    }

    /// Draws the whole diagram for `snap` at wall time `now`.
    pub fn draw(&mut self, canvas: &HtmlCanvasElement, snap: &Snapshot, theme: &Theme, now: f64) {
        let Some(ctx) = context(canvas) else { return };
        let dpr = crate::charts::fit(canvas);
        let (w, h) = (canvas.width() as f64 / dpr, canvas.height() as f64 / dpr);
        ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0).ok();
        ctx.set_fill_style_str(&css(theme.bg, 1.0));
        ctx.fill_rect(0.0, 0.0, w, h);
        self.dots.retain(|d| now - d.born < TRAVEL_S);

        let layout = Layout::new(snap, w, h);
        for (i, b) in layout.boxes.iter().enumerate() {
            let node = Node { ctx: &ctx, b: *b, theme };
            if i == 0 {
                node.producer(snap);
            } else if i == layout.boxes.len() - 1 {
                node.consumer(snap, now < self.flash_until);
            } else {
                match &snap.stages[i - 1] {
                    StageView::Channel { depth, capacity, .. } => node.channel(*depth, *capacity),
                    StageView::KafkaProducer { depth, capacity, .. } => node.channel(*depth, Some(*capacity)),
                    StageView::Map => node.operator("map", ""),
                    StageView::Filter { pass_ratio, dropped } => node.operator(
                        "filter",
                        &format!("passes {:.0}% · dropped {}", pass_ratio * 100.0, format::count(*dropped as f64)),
                    ),
                    StageView::Topic { partitions } => {
                        let max_lag = partitions.iter().map(|p| p.log_end - p.committed).max().unwrap_or(0) as f64;
                        // The scale follows growth at once and shrinks slowly, so bars mean something.
                        self.lane_scale = max_lag.max(self.lane_scale * 0.995).max(1.0);
                        node.topic(partitions, self.lane_scale)
                    }
                }
            }
        }
        let pull_from_topic = matches!(snap.stages.last(), Some(StageView::Topic { .. }));
        for i in 0..layout.boxes.len() - 1 {
            let (a, b) = (layout.boxes[i], layout.boxes[i + 1]);
            let last = i + 2 == layout.boxes.len();
            let label = if last && !snap.stages.is_empty() {
                if pull_from_topic {
                    format!("poll({})", snap.consumer.max_poll_records)
                } else {
                    "take".to_string()
                }
            } else {
                "push".to_string()
            };
            link(&ctx, a, b, &label, last && !snap.stages.is_empty(), theme);
        }
        // Processed messages leave the consumer at the bottom right.
        let c = *layout.boxes.last().expect("a consumer");
        for d in &self.dots {
            let f = ((now - d.born) / TRAVEL_S).clamp(0.0, 1.0);
            let (x0, y0, x1, y1) = match d.path {
                Path::Push(i) if i + 1 < layout.boxes.len() => {
                    let (a, b) = (layout.boxes[i], layout.boxes[i + 1]);
                    (a.right(), a.mid_y(), b.x, b.mid_y())
                }
                Path::Push(_) => continue,
                Path::Request | Path::Batch if layout.boxes.len() >= 2 => {
                    let a = layout.boxes[layout.boxes.len() - 2];
                    if let Path::Request = d.path {
                        (c.x, c.mid_y() - 14.0, a.right(), a.mid_y() - 14.0)
                    } else {
                        (a.right(), a.mid_y() + 8.0, c.x, c.mid_y() + 8.0)
                    }
                }
                Path::Done => (c.right(), c.mid_y() + 8.0, c.right() + 26.0, c.mid_y() + 8.0),
                _ => continue,
            };
            let (x, y) = (x0 + (x1 - x0) * f, y0 + (y1 - y0) * f);
            ctx.begin_path();
            ctx.set_fill_style_str(&css(d.color, 0.75));
            ctx.arc(x, y, d.radius, 0.0, std::f64::consts::TAU).ok();
            ctx.fill();
        }
    }
}

fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    use wasm_bindgen::JsCast;
    canvas.get_context("2d").ok()??.dyn_into().ok()
}

#[derive(Clone, Copy, Debug)]
struct BoxRect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl BoxRect {
    fn right(&self) -> f64 {
        self.x + self.w
    }
    fn bottom(&self) -> f64 {
        self.y + self.h
    }
    fn mid_y(&self) -> f64 {
        self.y + self.h / 2.0
    }
}

struct Layout {
    boxes: Vec<BoxRect>,
}

impl Layout {
    fn new(snap: &Snapshot, w: f64, h: f64) -> Layout {
        let mut weights = vec![1.0];
        for s in &snap.stages {
            weights.push(match s {
                StageView::Channel { .. } | StageView::KafkaProducer { .. } => 1.0,
                StageView::Map | StageView::Filter { .. } => 0.7,
                StageView::Topic { .. } => 1.7,
            });
        }
        weights.push(1.5);
        let gap = (w * 0.06).clamp(28.0, 70.0);
        let margin = 10.0;
        let usable = w - 2.0 * margin - gap * (weights.len() - 1) as f64 - 30.0;
        let total: f64 = weights.iter().sum();
        let (top, height) = (28.0, h - 64.0);
        let mut x = margin;
        let boxes = weights
            .iter()
            .map(|wt| {
                let bw = usable * wt / total;
                let b = BoxRect { x, y: top, w: bw, h: height };
                x += bw + gap;
                b
            })
            .collect();
        Layout { boxes }
    }
}

struct Node<'a> {
    ctx: &'a CanvasRenderingContext2d,
    b: BoxRect,
    theme: &'a Theme,
}

impl Node<'_> {
    fn frame(&self, title: &str, border: RGBColor, fill: RGBColor, fill_alpha: f64) {
        let (ctx, b) = (self.ctx, self.b);
        ctx.begin_path();
        ctx.round_rect_with_f64(b.x, b.y, b.w, b.h, 8.0).ok();
        ctx.set_fill_style_str(&css(fill, fill_alpha));
        ctx.fill();
        ctx.set_line_width(2.0);
        ctx.set_stroke_style_str(&css(border, 1.0));
        ctx.stroke();
        self.text(title, b.x + 8.0, b.y - 8.0, 13.0, true, self.theme.fg);
    }

    fn text(&self, s: &str, x: f64, y: f64, size: f64, bold: bool, color: RGBColor) {
        let ctx = self.ctx;
        ctx.set_font(&format!("{}{}px system-ui, sans-serif", if bold { "600 " } else { "" }, size));
        ctx.set_fill_style_str(&css(color, 1.0));
        ctx.set_text_align("left");
        ctx.fill_text_with_max_width(s, x, y, (self.b.w - 10.0).max(20.0)).ok();
    }

    fn bar(&self, x: f64, y: f64, w: f64, h: f64, frac: f64, color: RGBColor) {
        let ctx = self.ctx;
        ctx.set_fill_style_str(&css(self.theme.grid, 1.0));
        ctx.fill_rect(x, y, w, h);
        ctx.set_fill_style_str(&css(color, 1.0));
        ctx.fill_rect(x, y, w * frac.clamp(0.0, 1.0), h);
    }

    fn producer(&self, snap: &Snapshot) {
        let p = &snap.producer;
        let t = self.theme;
        let border = if p.blocked { VERMILLION } else { t.muted };
        self.frame("Producer", border, t.panel, 1.0);
        let (x, y) = (self.b.x + 10.0, self.b.y + 22.0);
        self.text(&format!("{} msg/s", format::count(p.rate_per_s)), x, y, 15.0, true, BLUE);
        self.text(&format!("sent {}", format::count(p.produced as f64)), x, y + 20.0, 12.0, false, t.fg);
        self.text("pushes; waits only on a full channel", x, self.b.bottom() - 26.0, 10.0, false, t.muted);
        self.text("pushes; waits only on a full channel", x, self.b.bottom() - 26.0, 10.0, false, t.muted);
        if p.blocked {
            self.text("BLOCKED: send waits", x, y + 42.0, 12.0, true, VERMILLION);
            self.text(&format!("holding {}", format::count(p.pending as f64)), x, y + 58.0, 12.0, false, t.fg);
        }
        let pct = if snap.t_s > 0.0 { 100.0 * p.blocked_s / snap.t_s } else { 0.0 };
        self.text(&format!("blocked {pct:.0}% of the time"), x, self.b.bottom() - 10.0, 11.0, false, t.muted);
    }

    fn operator(&self, name: &str, detail: &str) {
        let t = self.theme;
        self.frame(name, t.muted, t.panel, 1.0);
        self.text(detail, self.b.x + 8.0, self.b.y + 22.0, 11.0, false, t.fg);
    }

    fn channel(&self, depth: u64, capacity: Option<u64>) {
        let t = self.theme;
        let full = capacity.is_some_and(|c| depth >= c);
        let capacity = capacity.unwrap_or(u64::MAX);
        self.frame("Channel (bounded)", if full { VERMILLION } else { t.muted }, t.panel, 1.0);
        let b = self.b;
        let (x, w) = (b.x + 10.0, b.w - 20.0);
        let frac = if capacity == u64::MAX { 0.0 } else { depth as f64 / capacity.max(1) as f64 };
        // A tank that fills from the bottom.
        let (tank_top, tank_h) = (b.y + 14.0, b.h - 58.0);
        self.ctx.set_fill_style_str(&css(t.grid, 1.0));
        self.ctx.fill_rect(x, tank_top, w, tank_h);
        self.ctx.set_fill_style_str(&css(if full { VERMILLION } else { SKY }, 1.0));
        let fh = tank_h * frac.clamp(0.0, 1.0);
        self.ctx.fill_rect(x, tank_top + tank_h - fh, w, fh);
        self.text(
            &if capacity == u64::MAX {
                format!("{} / ∞", format::count(depth as f64))
            } else {
                format!("{} / {}", format::count(depth as f64), format::count(capacity as f64))
            },
            x,
            b.bottom() - 26.0,
            13.0,
            true,
            t.fg,
        );
        self.text(if full { "full: senders block" } else { "depth / capacity" }, x, b.bottom() - 10.0, 11.0, false, t.muted);
    }

    fn topic(&self, parts: &[bplab_engine::PartitionView], max_lag: f64) {
        let t = self.theme;
        self.frame(&format!("Topic · {} partitions", parts.len()), t.muted, t.panel, 1.0);
        let b = self.b;
        let shown = parts.len().min(MAX_LANES);
        let (x, w) = (b.x + 10.0, b.w - 20.0 - 46.0);
        let lanes_top = b.y + 10.0;
        let lanes_h = b.h - 52.0;
        let lane_h = (lanes_h / shown.max(1) as f64).min(22.0);
        for (i, p) in parts.iter().take(shown).enumerate() {
            let y = lanes_top + i as f64 * lane_h;
            let bh = (lane_h - 4.0).max(2.0);
            self.ctx.set_fill_style_str(&css(t.grid, 1.0));
            self.ctx.fill_rect(x, y, w, bh);
            // committed ..position (fetched, uncommitted) .. log end (not fetched yet)
            let fetched = (p.position - p.committed) as f64 / max_lag * w;
            let waiting = (p.log_end - p.position) as f64 / max_lag * w;
            self.ctx.set_fill_style_str(&css(PURPLE, 1.0));
            self.ctx.fill_rect(x, y, fetched, bh);
            self.ctx.set_fill_style_str(&css(BLUE, 1.0));
            self.ctx.fill_rect(x + fetched, y, waiting, bh);
            if lane_h >= 12.0 {
                self.text(&format::count(p.lag as f64), x + w + 4.0, y + bh - 1.0, 10.0, false, t.fg);
            }
        }
        if parts.len() > shown {
            self.text(&format!("+{} more", parts.len() - shown), x, lanes_top + lanes_h + 2.0, 10.0, false, t.muted);
        }
        let lag: u64 = parts.iter().map(|p| p.lag).sum();
        self.text(&format!("lag {} (log end − committed)", format::count(lag as f64)), x, b.bottom() - 24.0, 12.0, true, t.fg);
        let legend_y = b.bottom() - 8.0;
        self.ctx.set_fill_style_str(&css(PURPLE, 1.0));
        self.ctx.fill_rect(x, legend_y - 8.0, 8.0, 8.0);
        self.text("fetched, uncommitted", x + 11.0, legend_y, 10.0, false, t.muted);
        let x2 = x + (b.w * 0.52).min(140.0);
        self.ctx.set_fill_style_str(&css(BLUE, 1.0));
        self.ctx.fill_rect(x2, legend_y - 8.0, 8.0, 8.0);
        self.text("not fetched", x2 + 11.0, legend_y, 10.0, false, t.muted);
    }

    fn consumer(&self, snap: &Snapshot, flash: bool) {
        let g = &snap.consumer;
        let first = g.members.first().cloned().unwrap_or_default();
        let c = Member { up: first.up, restart_in_s: first.restart_in_s, heap_bytes: first.heap_bytes,
            heap_limit_bytes: g.heap_limit_bytes, in_flight: first.in_flight, waiting_for_batch: first.waiting_for_batch,
            workers: g.workers, busy_workers: first.busy_workers, mode: g.mode };
        let t = self.theme;
        let b = self.b;
        let title = match c.mode {
            Mode::Async => "Consumer · async hand-off",
            Mode::Sync => "Consumer · sync",
        };
        if !c.up {
            self.frame(title, VERMILLION, VERMILLION, if flash { 0.35 } else { 0.12 });
        } else {
            self.frame(title, t.muted, t.panel, 1.0);
        }
        let (x, w) = (b.x + 10.0, b.w - 20.0);
        let mut y = b.y + 22.0;
        if !c.up {
            self.text("OOM-KILLED", x, y, 15.0, true, VERMILLION);
            y += 18.0;
            self.text(
                &format!("restart in {}", format::secs(c.restart_in_s.unwrap_or(0.0))),
                x,
                y,
                12.0,
                false,
                t.fg,
            );
        } else {
            let frac = c.heap_bytes as f64 / c.heap_limit_bytes.max(1) as f64;
            let color = if frac > 0.85 { VERMILLION } else if frac > 0.6 { ORANGE } else { GREEN };
            self.text(
                &format!("heap {} / {}", format::bytes(c.heap_bytes as f64), format::bytes(c.heap_limit_bytes as f64)),
                x,
                y,
                12.0,
                true,
                t.fg,
            );
            self.bar(x, y + 6.0, w, 12.0, frac, color);
            y += 38.0;
            self.text(&format!("in flight {}", format::count(c.in_flight as f64)), x, y, 12.0, false, t.fg);
            y += 18.0;
            let state = if c.waiting_for_batch { "processing its batch" } else { "polling" };
            self.text(state, x, y, 11.0, false, t.muted);
        }
        // Workers: filled = busy.
        let shown = c.workers.min(24) as usize;
        let r = 5.0;
        for i in 0..shown {
            let cx = x + r + (i % 12) as f64 * (2.0 * r + 4.0);
            let cy = b.bottom() - 34.0 + (i / 12) as f64 * (2.0 * r + 3.0);
            self.ctx.begin_path();
            self.ctx.arc(cx, cy, r, 0.0, std::f64::consts::TAU).ok();
            if (i as u32) < c.busy_workers {
                self.ctx.set_fill_style_str(&css(GREEN, 1.0));
                self.ctx.fill();
            } else {
                self.ctx.set_stroke_style_str(&css(t.muted, 1.0));
                self.ctx.set_line_width(1.5);
                self.ctx.stroke();
            }
        }
        let extra = if c.workers as usize > shown { format!(" (+{})", c.workers as usize - shown) } else { String::new() };
        self.text(
            &format!("workers {}/{} busy{extra} · processed {}", c.busy_workers, c.workers, format::count(snap.summary.consumed as f64)),
            x,
            b.bottom() - 8.0,
            11.0,
            false,
            t.muted,
        );
    }
}

/// What the consumer box shows (the first member's state).
struct Member {
    up: bool,
    restart_in_s: Option<f64>,
    heap_bytes: u64,
    heap_limit_bytes: u64,
    in_flight: u64,
    waiting_for_batch: bool,
    workers: u32,
    busy_workers: u32,
    mode: Mode,
}

/// An arrow between two boxes; a pull link also shows the request going upstream.
fn link(ctx: &CanvasRenderingContext2d, a: BoxRect, b: BoxRect, label: &str, pull: bool, theme: &Theme) {
    let (x0, x1, y) = (a.right() + 3.0, b.x - 3.0, a.mid_y().min(b.mid_y()));
    ctx.set_line_width(2.0);
    ctx.set_stroke_style_str(&css(theme.muted, 1.0));
    arrow(ctx, x0, y + 8.0, x1, y + 8.0);
    if pull {
        let dash = js_sys::Array::of2(&JsValue::from(5.0), &JsValue::from(4.0));
        ctx.set_line_dash(&dash).ok();
        ctx.set_stroke_style_str(&css(ORANGE, 1.0));
        arrow(ctx, x1, y - 14.0, x0, y - 14.0);
        ctx.set_line_dash(&js_sys::Array::new()).ok();
    }
    ctx.set_font("11px system-ui, sans-serif");
    ctx.set_fill_style_str(&css(if pull { ORANGE } else { theme.muted }, 1.0));
    ctx.set_text_align("center");
    ctx.fill_text_with_max_width(label, (x0 + x1) / 2.0, y - 22.0, (x1 - x0).max(24.0) + 30.0).ok();
    ctx.set_text_align("left");
}

fn arrow(ctx: &CanvasRenderingContext2d, x0: f64, y0: f64, x1: f64, y1: f64) {
    let dir = if x1 >= x0 { 1.0 } else { -1.0 };
    ctx.begin_path();
    ctx.move_to(x0, y0);
    ctx.line_to(x1, y1);
    ctx.move_to(x1 - dir * 7.0, y1 - 5.0);
    ctx.line_to(x1, y1);
    ctx.line_to(x1 - dir * 7.0, y1 + 5.0);
    ctx.stroke();
}
