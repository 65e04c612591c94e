//! The live sequence diagram of a flow-controlled link: the reference story's credit
//! sequence ("initial credits 1000; send 100 (credit: 900) … credits low: stop; grant 500;
//! resume"), drawn from the engine's real sends, grants and requests.
//!
//! One lifeline per node at either end of a link with credits or `request(n)` (a map or
//! filter in between passes demand through, so the producer upstream of them is the
//! sender); time flows down; the most recent rows that fit are shown. Every row is one
//! real event, never a sum: one send with its size, one grant or `request(n)` with its n,
//! its arrival, the producer stopping or resuming, the receiver restarting. The driver keeps
//! a frame's newest events ([`protocol::KEEP`](crate::driver::protocol::KEEP)) and counts
//! them all; when it left some out, the top row says so ("newest 20 of 1,480 events in
//! 16.7 s") and rows from before are dropped, being no longer continuous. The balance after
//! each row is counted back from the snapshot's permits at the end of its frame, which the
//! events change exactly (a send spends, an arrival adds), so it is right at any speed and
//! when the diagram starts mid-run.
//!
//! The model ([`Model`]) is pure Rust and tested natively against real runs through the
//! driver at 1×, 100× and 1000×.

use crate::canvas::text::{self, Font};
use crate::canvas::{context, fit, text_check, Align, Measure, Pen, Rect, WidthCache};
use crate::driver::protocol::ProtocolFrame;
use crate::format;
use crate::theme::{css, Theme, BLUE, GREEN, PURPLE, SKY, VERMILLION};
use bplab_engine::{Snapshot, StageView, TraceEvent, TraceKind};
use plotters::style::RGBColor;
use std::collections::VecDeque;
use web_sys::HtmlCanvasElement;

/// Rows kept (more than ever fit on screen).
const KEEP: usize = 400;
const ROW_H: f64 = 21.0;
/// Height of the lifelines' heads.
const HEAD_H: f64 = 46.0;

/// A flow-controlled link: `j` enters node `j`; `sender` is the node that spends its
/// permits (upstream of any map or filter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkInfo {
    pub j: usize,
    pub sender: usize,
    pub request: bool,
}

/// The structure the diagram needs from a snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cast {
    pub links: Vec<LinkInfo>,
    /// Lifelines: node indices, upstream first.
    pub lifelines: Vec<usize>,
    pub consumer: usize,
    /// Names of the lifelines.
    pub names: Vec<String>,
}

impl Cast {
    pub fn of(snap: &Snapshot) -> Cast {
        let consumer = snap.stages.len() + 1;
        let mut links = Vec::new();
        for (j, l) in snap.links.iter().enumerate() {
            let Some(w) = l else { continue };
            if j == 0 {
                continue;
            }
            let mut s = j - 1;
            while s >= 1 && matches!(snap.stages[s - 1], StageView::Map | StageView::Filter { .. }) {
                s -= 1;
            }
            links.push(LinkInfo { j, sender: s, request: w.request });
        }
        // Every node that sends or receives on a link, upstream first (a scan of the few
        // nodes rather than a sort, which would be one more sort instance in the download).
        let lifelines: Vec<usize> = (0..snap.links.len()).filter(|&n| links.iter().any(|l| l.sender == n || l.j == n)).collect();
        let request = links.iter().any(|l| l.request);
        let names = lifelines
            .iter()
            .map(|&i| {
                if i == 0 {
                    let ops: Vec<&str> = links
                        .iter()
                        .filter(|l| l.sender == 0)
                        .flat_map(|l| (1..l.j).map(|k| &snap.stages[k - 1]))
                        .map(|s| if matches!(s, StageView::Map) { "map" } else { "filter" })
                        .collect();
                    let base = if request { "Publisher" } else { "Producer" };
                    if ops.is_empty() {
                        base.to_string()
                    } else {
                        format!("{base} → {}", ops.join(" → "))
                    }
                } else if i == consumer {
                    if request {
                        "Subscriber".into()
                    } else {
                        "Consumer".into()
                    }
                } else {
                    match &snap.stages[i - 1] {
                        StageView::Channel { capacity: Some(c), .. } => format!("Buffer ({})", format::count(*c as f64)),
                        StageView::Channel { .. } => "Buffer".into(),
                        StageView::KafkaProducer { .. } => "Kafka client".into(),
                        StageView::Topic { .. } => "Topic".into(),
                        StageView::Map => "map".into(),
                        StageView::Filter { .. } => "filter".into(),
                    }
                }
            })
            .collect();
        Cast { links, lifelines, consumer, names }
    }

    fn link(&self, j: usize) -> Option<&LinkInfo> {
        self.links.iter().find(|l| l.j == j)
    }
}

/// One row of the diagram: one real message of the protocol, or the sender stopping,
/// resuming, the receiver restarting.
#[derive(Clone, Debug, PartialEq)]
pub enum Msg {
    /// The receiver's initial credits (or first request) on link `j`.
    Initial {
        j: usize,
        n: u64,
    },
    /// One send of `n` messages over link `j`.
    Send {
        j: usize,
        n: u64,
    },
    /// The receiver granted (or requested) `n` on link `j`; `arrived` once it reached the
    /// sender with nothing in between (then it is drawn as one message).
    Grant {
        j: usize,
        n: u64,
        id: u64,
        arrived: bool,
    },
    /// A grant reached the sender of link `j` (`of` is the grant's id when it is known).
    Arrive {
        j: usize,
        n: u64,
        of: Option<u64>,
    },
    /// The producer blocked (no credits, no demand, or a full receiver).
    Stop,
    Resume,
    /// The receiver of link `j` restarted: it opens a fresh window.
    Reopen {
        j: usize,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Simulated time.
    pub t: f64,
    pub msg: Msg,
    /// The balance (credits or demand the sender holds) on the row's link just after it;
    /// `None` where it cannot be known (before a restart in the same frame).
    pub bal: Option<i64>,
}

/// Rows were left out: what is drawn are the newest of `total` protocol events since
/// `from_t`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gap {
    pub total: u64,
    pub from_t: f64,
}

/// The rows, built frame by frame from the driver's protocol events.
#[derive(Clone, Debug, Default)]
pub struct Model {
    pub cast: Option<Cast>,
    pub rows: VecDeque<Row>,
    /// Set once a frame had more events than the driver kept; grows with every frame after.
    pub gap: Option<Gap>,
    next_id: u64,
    /// Grants not yet arrived, per link, oldest first: (link, id).
    open: Vec<(usize, u64)>,
    pub last_t: f64,
}

impl Model {
    /// Starts over with `cast`.
    pub fn reset(&mut self, cast: Cast) {
        *self = Model { cast: Some(cast), ..Model::default() };
    }

    fn push(&mut self, t: f64, msg: Msg, bal: Option<i64>) {
        self.rows.push_back(Row { t, msg, bal });
        while self.rows.len() > KEEP {
            self.rows.pop_front();
        }
    }

    /// Adds one frame's protocol events; `permits` are the senders' balances at the end of
    /// the frame, per link `j`.
    pub fn add(&mut self, frame: &ProtocolFrame, permits: &[(usize, u64)]) {
        let Some(cast) = self.cast.clone() else { return };
        if frame.total == 0 {
            return;
        }
        if frame.total > frame.events.len() as u64 {
            // Older events of the frame were left out: what came before is not continuous.
            self.rows.clear();
            self.open.clear();
            self.gap = Some(Gap { total: frame.total, from_t: frame.first_t });
        } else if let Some(g) = &mut self.gap {
            g.total += frame.total;
        }
        let bals = balances(&cast, &frame.events, permits);
        let stop_link = cast.links.iter().find(|l| l.sender == 0).map(|l| l.j);
        let producer_lifeline = cast.lifelines.first() == Some(&0);
        for (ev, bal) in frame.events.iter().zip(bals) {
            let t = ev.t_s;
            self.last_t = self.last_t.max(t);
            match ev.kind {
                TraceKind::Moved { to, n, .. } if cast.link(to as usize).is_some() => self.push(t, Msg::Send { j: to as usize, n }, bal),
                TraceKind::Granted { link, n } | TraceKind::Requested { link, n } if cast.link(link as usize).is_some() => {
                    let (j, id) = (link as usize, self.next_id);
                    self.next_id += 1;
                    self.open.push((j, id));
                    self.push(t, Msg::Grant { j, n, id, arrived: false }, bal);
                }
                TraceKind::PermitsArrived { link, n } if cast.link(link as usize).is_some() => {
                    let j = link as usize;
                    let of = self.open.iter().position(|o| o.0 == j).map(|i| self.open.remove(i).1);
                    // Straight after its own grant: one message, with the balance it leaves.
                    if let (Some(id), Some(row)) = (of, self.rows.back_mut()) {
                        if let Msg::Grant { id: gid, arrived, .. } = &mut row.msg {
                            if *gid == id {
                                *arrived = true;
                                row.bal = bal;
                                continue;
                            }
                        }
                    }
                    self.push(t, Msg::Arrive { j, n, of }, bal);
                }
                TraceKind::Blocked if producer_lifeline => self.push(t, Msg::Stop, bal),
                TraceKind::Unblocked if producer_lifeline => {
                    // The retry that unblocks sends first: "resume" goes before its sends,
                    // with the balance before them.
                    let mut at = self.rows.len();
                    let mut before = bal;
                    while at > 0 {
                        let r = &self.rows[at - 1];
                        match r.msg {
                            Msg::Send { j, n } if Some(j) == stop_link && (r.t - t).abs() < 1e-12 => {
                                before = r.bal.map(|b| b + n as i64);
                                at -= 1;
                            }
                            _ => break,
                        }
                    }
                    self.rows.insert(at, Row { t, msg: Msg::Resume, bal: before });
                    while self.rows.len() > KEEP {
                        self.rows.pop_front();
                    }
                }
                TraceKind::Restarted { .. } if cast.link(cast.consumer).is_some() => {
                    self.push(t, Msg::Reopen { j: cast.consumer }, bal);
                }
                _ => {}
            }
        }
    }

    /// The rows on show when `fit` rows fit: the index of the first one, and the caption
    /// that takes the top row when rows were left out (shown, out of how many events, over
    /// how long).
    pub fn visible(&self, fit: usize) -> (usize, Option<(usize, u64, f64)>) {
        let total = self.rows.len();
        match self.gap {
            Some(g) => {
                let shown = total.min(fit.saturating_sub(1).max(1));
                (total - shown, Some((shown, g.total, (self.last_t - g.from_t).max(0.0))))
            }
            None => (total.saturating_sub(fit), None),
        }
    }
}

/// Per event, the balance on its link just after it, counted back from `permits` (the
/// senders' balances at the end of the frame, which the events are the newest of): a send
/// spent its size, an arrival added its size. Before a restart of the receiver (which
/// reopens its window) in the same frame the balance is unknown.
fn balances(cast: &Cast, events: &[TraceEvent], permits: &[(usize, u64)]) -> Vec<Option<i64>> {
    let mut cur: Vec<(usize, Option<i64>)> = permits.iter().map(|&(j, p)| (j, Some(p as i64))).collect();
    let stop_link = cast.links.iter().find(|l| l.sender == 0).map(|l| l.j);
    let mut out = vec![None; events.len()];
    for (i, ev) in events.iter().enumerate().rev() {
        let (link, change) = match ev.kind {
            TraceKind::Moved { to, n, .. } => (Some(to as usize), Some(n as i64)),
            TraceKind::PermitsArrived { link, n } => (Some(link as usize), Some(-(n as i64))),
            TraceKind::Granted { link, .. } | TraceKind::Requested { link, .. } => (Some(link as usize), Some(0)),
            TraceKind::Restarted { .. } => (Some(cast.consumer), None),
            TraceKind::Blocked | TraceKind::Unblocked => (stop_link, Some(0)),
            _ => (None, Some(0)),
        };
        let Some(c) = link.and_then(|j| cur.iter_mut().find(|c| c.0 == j)) else { continue };
        out[i] = c.1;
        c.1 = match change {
            Some(d) => c.1.map(|b| b + d),
            None => None,
        };
    }
    out
}

/// Rows that fit under the heads on a canvas `h` tall.
fn rows_fit(h: f64) -> usize {
    ((h - HEAD_H - 6.0) / ROW_H).floor().max(1.0) as usize
}

/// The rows on show as text, one per line (`kind link n balance`, `-` for none; the
/// caption as `gap shown total`): the canvas's `data-rows`, which tests read.
fn rows_text(model: &Model, fit: usize) -> String {
    let (first, caption) = model.visible(fit);
    let mut out = String::new();
    if let Some((shown, total, _)) = caption {
        out.push_str(&format!("gap {shown} {total}\n"));
    }
    for row in model.rows.iter().skip(first) {
        let (kind, j, n) = match row.msg {
            Msg::Initial { j, n } => ("initial", j, n),
            Msg::Send { j, n } => ("send", j, n),
            Msg::Grant { j, n, arrived: true, .. } => ("grant-arrived", j, n),
            Msg::Grant { j, n, .. } => ("grant", j, n),
            Msg::Arrive { j, n, .. } => ("arrive", j, n),
            Msg::Stop => ("stop", 0, 0),
            Msg::Resume => ("resume", 0, 0),
            Msg::Reopen { j } => ("reopen", j, 0),
        };
        match row.bal {
            Some(b) => out.push_str(&format!("{kind} {j} {n} {b}\n")),
            None => out.push_str(&format!("{kind} {j} {n} -\n")),
        }
    }
    out
}

/// The live sequence diagram on its canvas.
pub struct SequenceDiagram {
    model: Model,
    widths: WidthCache,
    /// The `data-rows` last written.
    rows_text: String,
}

impl Default for SequenceDiagram {
    fn default() -> Self {
        SequenceDiagram::new()
    }
}

impl SequenceDiagram {
    pub fn new() -> SequenceDiagram {
        SequenceDiagram { model: Model::default(), widths: Default::default(), rows_text: String::new() }
    }

    /// Whether the scenario has a link with credits or request(n) (the page shows the
    /// canvas only then).
    pub fn applies(snap: &Snapshot) -> bool {
        snap.links.iter().skip(1).any(|l| l.is_some())
    }

    /// Takes one frame's protocol events, with the snapshot at the frame's end (every
    /// frame, drawn or not).
    pub fn ingest(&mut self, frame: &ProtocolFrame, snap: &Snapshot) {
        let cast = Cast::of(snap);
        let restarted = snap.t_s + 1e-9 < self.model.last_t || frame.events.first().is_some_and(|e| e.t_s + 1e-9 < self.model.last_t);
        if self.model.cast.as_ref() != Some(&cast) || restarted {
            self.model.reset(cast.clone());
        }
        // At time zero the window is the receiver's initial grant.
        let initial_only = self.model.rows.iter().all(|r| matches!(r.msg, Msg::Initial { .. }));
        if snap.t_s == 0.0 && initial_only && frame.total == 0 {
            self.model.reset(cast.clone());
            for l in &cast.links {
                let n = snap.links[l.j].as_ref().map_or(0, |w| w.permits + w.in_transit);
                self.model.push(0.0, Msg::Initial { j: l.j, n }, Some(n as i64));
            }
        }
        let permits: Vec<(usize, u64)> = cast.links.iter().map(|l| (l.j, snap.links[l.j].as_ref().map_or(0, |w| w.permits))).collect();
        self.model.add(frame, &permits);
        self.model.last_t = self.model.last_t.max(snap.t_s);
    }

    pub fn draw(&mut self, canvas: &HtmlCanvasElement, snap: &Snapshot, theme: &Theme) {
        let Some(ctx) = context(canvas) else { return };
        let dpr = fit(canvas);
        let (w, h) = (canvas.width() as f64 / dpr, canvas.height() as f64 / dpr);
        ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0).ok();
        ctx.set_fill_style_str(&css(theme.bg, 1.0));
        ctx.fill_rect(0.0, 0.0, w, h);
        let check = text_check();
        let mut p = Pen::new(&ctx, theme, &mut self.widths);
        p.check = check;
        paint(&mut p, &self.model, snap, w, h);
        // The local, not `p.check`: known false in release, so this is compiled out.
        if check {
            for (a, b) in p.overlaps() {
                leptos::logging::warn!("sequence: labels overlap: {a:?} / {b:?} ({w}×{h})");
            }
        }
        let text = rows_text(&self.model, rows_fit(h));
        if text != self.rows_text {
            canvas.set_attribute("data-rows", &text).ok();
            self.rows_text = text;
        }
    }
}

/// The sequence diagram's arrowheads: a fixed length, narrower than the diagram's.
const HEAD: (f64, f64) = (7.0, 0.5);

/// Seconds with millisecond precision: "12.345 s".
fn stamp(t: f64) -> String {
    format!("{t:.3} s")
}

fn paint(p: &mut Pen, model: &Model, snap: &Snapshot, w: f64, h: f64) {
    let theme = *p.theme;
    let dark = (theme.bg.0 as u32 + theme.bg.1 as u32 + theme.bg.2 as u32) < 384;
    let data = if dark { SKY } else { BLUE };
    let Some(cast) = model.cast.clone() else { return };
    if cast.links.is_empty() {
        p.fit_halo(
            &["No link with credits or request(n) in this scenario.", "No flow-controlled link."],
            w / 2.0,
            h / 2.0,
            w - 16.0,
            text::LABEL,
            theme.muted,
            Align::Center,
        );
        return;
    }
    let request = cast.links.iter().any(|l| l.request);
    let unit = if request { "demand" } else { "credit" };
    // Gutter for the times.
    let gutter = p.width("8888.888 s", text::SMALL.px, false) + 14.0;
    let (left, right) = (gutter, w - 8.0);
    let n = cast.lifelines.len().max(1);
    let col = (right - left) / n as f64;
    let xs: Vec<f64> = (0..n).map(|i| left + col * (i as f64 + 0.5)).collect();
    let x_of = |node: usize| cast.lifelines.iter().position(|&l| l == node).map(|i| xs[i]);
    // Heads: name and, for senders, what they hold now.
    let head_h = HEAD_H;
    for (i, &node) in cast.lifelines.iter().enumerate() {
        let x = xs[i];
        let name = &cast.names[i];
        let box_w = (col - 10.0).min(220.0);
        p.round_rect(Rect::new(x - box_w / 2.0, 6.0, box_w, 22.0), 6.0, Some((theme.panel, 1.0)), Some((theme.muted, 1.0)));
        let short = name.split(' ').next().unwrap_or(name).to_string();
        let tiny: String = if short.chars().count() > 6 { short.chars().take(4).collect::<String>() + "." } else { short.clone() };
        p.fit_halo(&[name, &short, &tiny], x, 17.0, box_w - 8.0, text::TITLE, theme.fg, Align::Center);
        // What this node holds as a sender.
        let held: Vec<(String, String, String)> = cast
            .links
            .iter()
            .filter(|l| l.sender == node)
            .filter_map(|l| snap.links[l.j].as_ref().map(|wv| (l, wv)))
            .map(|(l, wv)| {
                let u = if l.request { "demand" } else { "credits" };
                let held = format!("holds {} {u}", format::count(wv.permits as f64));
                let full =
                    if wv.in_transit > 0 { format!("{held} · {} coming", format::count(wv.in_transit as f64)) } else { held.clone() };
                (full, held, format!("◆ {}", format::count(wv.permits as f64)))
            })
            .collect();
        if let Some((a, b, c)) = held.first() {
            p.fit_halo(&[a, b, c], x, 37.0, col - 6.0, Font::new(11.0, true), PURPLE, Align::Center);
        }
    }
    // Lifelines.
    for &x in &xs {
        p.line((x, head_h - 4.0), (x, h - 4.0), theme.grid, 2.0, false);
    }
    let (first, caption) = model.visible(rows_fit(h));
    let top = caption.is_some() as usize;
    let total = model.rows.len();
    let y_of = |i: usize| head_h + 4.0 + (i + top - first) as f64 * ROW_H + ROW_H / 2.0;
    if let Some((shown, all, span)) = caption {
        // What is left out, said once, across the top row.
        let y = head_h + 4.0 + ROW_H / 2.0;
        let (sh, al) = (format::count(shown as f64), format::count(all as f64));
        let a = format!("newest {sh} of {al} events in {}", format::moment(span));
        let b = format!("newest {sh} of {al} events");
        let c = format!("{sh} of {al}");
        let tw = p.fit_halo(&[&a, &b, &c], w / 2.0, y, w - 16.0, text::SMALL, theme.muted, Align::Center);
        let half = tw / 2.0 + 8.0;
        p.line((8.0, y), (w / 2.0 - half, y), theme.muted, 1.0, true);
        p.line((w / 2.0 + half, y), (w - 8.0, y), theme.muted, 1.0, true);
    }
    let stop_link = cast.links.iter().find(|l| l.sender == 0).map(|l| l.j);
    let stop_request = stop_link.and_then(|j| cast.link(j)).is_some_and(|l| l.request);
    for (i, row) in model.rows.iter().enumerate().skip(first) {
        let y = y_of(i);
        let bal = row.bal.map(|b| format::count(b as f64));
        p.fit_halo(&[&stamp(row.t)], gutter - 8.0, y, gutter - 10.0, text::SMALL, theme.muted, Align::Right);
        match &row.msg {
            Msg::Initial { j, n } => {
                let Some(l) = cast.link(*j) else { continue };
                let (Some(xs_), Some(xr)) = (x_of(l.sender), x_of(l.j)) else { continue };
                p.arrow_with((xr, y + 4.0), (xs_, y + 4.0), PURPLE, 1.8, true, HEAD);
                let a = if l.request {
                    format!("request({})", format::count(*n as f64))
                } else {
                    format!("initial credits {}", format::count(*n as f64))
                };
                let b = format::count(*n as f64).to_string();
                p.fit_halo(&[&a, &b], (xs_ + xr) / 2.0, y - 5.0, (xr - xs_).abs() - 12.0, text::LABEL, PURPLE, Align::Center);
            }
            Msg::Send { j, n } => {
                let Some(l) = cast.link(*j) else { continue };
                let (Some(xs_), Some(xr)) = (x_of(l.sender), x_of(l.j)) else { continue };
                p.arrow_with((xs_, y + 4.0), (xr, y + 4.0), data, 1.8, false, HEAD);
                let u = if l.request { "demand" } else { "credit" };
                let nn = format::count(*n as f64);
                let (a, b, c) = match &bal {
                    Some(b) => (format!("send {nn} ({u}: {b})"), format!("send {nn} ◆{b}"), format!("{nn} ◆{b}")),
                    None => (format!("send {nn}"), nn.clone(), nn.clone()),
                };
                p.fit_halo(&[&a, &b, &c, &nn], (xs_ + xr) / 2.0, y - 5.0, (xr - xs_).abs() - 12.0, text::LABEL, theme.fg, Align::Center);
            }
            Msg::Grant { j, n, id, arrived } => {
                let Some(l) = cast.link(*j) else { continue };
                let (Some(xs_), Some(xr)) = (x_of(l.sender), x_of(l.j)) else { continue };
                // Where it arrives: this row, a later row, or (still travelling) the bottom.
                let end_y = if *arrived {
                    y + 4.0
                } else {
                    let later = (i + 1..total).find(|&k| matches!(model.rows[k].msg, Msg::Arrive { of: Some(o), .. } if o == *id));
                    match later {
                        Some(k) => y_of(k) + 4.0,
                        None => h - 6.0,
                    }
                };
                p.arrow_with((xr, y + 4.0), (xs_, end_y), PURPLE, 1.8, true, HEAD);
                let nn = format::count(*n as f64);
                let what = if l.request { format!("request({nn})") } else { format!("grant {nn}") };
                let full = match (&bal, arrived) {
                    (Some(b), true) => format!("{what} ({unit}: {b})"),
                    _ => what.clone(),
                };
                p.fit_halo(&[&full, &what, &nn], (xs_ + xr) / 2.0, y - 5.0, (xr - xs_).abs() - 12.0, text::LABEL, PURPLE, Align::Center);
            }
            Msg::Arrive { j, n, .. } => {
                let Some(l) = cast.link(*j) else { continue };
                let (Some(xs_), Some(xr)) = (x_of(l.sender), x_of(l.j)) else { continue };
                // The grant's arrow ends here; label the sender's new balance.
                let dir = if xr > xs_ { 1.0 } else { -1.0 };
                let nn = format::count(*n as f64);
                let a = match &bal {
                    Some(b) => format!("+{nn} arrived ({unit}: {b})"),
                    None => format!("+{nn} arrived"),
                };
                let b = match &bal {
                    Some(b) => format!("+{nn} ({b})"),
                    None => format!("+{nn}"),
                };
                let room = (xr - xs_).abs() - 12.0;
                let align = if dir > 0.0 { Align::Left } else { Align::Right };
                p.fit_halo(&[&a, &b, &nn], xs_ + dir * 8.0, y + 4.0, room, text::SMALL, PURPLE, align);
            }
            Msg::Stop => {
                let Some(x) = x_of(0) else { continue };
                let low = if stop_request { "no demand" } else { "credits low" };
                let a = match &bal {
                    Some(b) => format!("{low} ({b}): stop"),
                    None => "blocked: stop".into(),
                };
                note(p, x, y, &[&a, "stop"], VERMILLION, col);
            }
            Msg::Resume => {
                let Some(x) = x_of(0) else { continue };
                let a = match &bal {
                    Some(b) => format!("resume ({unit}: {b})"),
                    None => "resume".into(),
                };
                note(p, x, y, &[&a, "resume"], GREEN, col);
            }
            Msg::Reopen { j } => {
                let Some(x) = x_of(*j) else { continue };
                let a = match &bal {
                    Some(b) => format!("restarted: window {b}"),
                    None => "restarted".into(),
                };
                note(p, x, y, &[&a, "restarted"], PURPLE, col);
            }
        }
    }
}

/// A note on a lifeline (a self-message): a pill with text.
fn note(p: &mut Pen, x: f64, y: f64, opts: &[&str], color: RGBColor, col: f64) {
    let font = Font::new(11.5, true);
    let Some(s) = text::fit(p, opts, font, col - 12.0, 3) else { return };
    p.pill(&s, x, y, font, color);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::Driver;
    use bplab_engine::{preset, Simulation};

    /// What a link may carry: the size of every send (`None`: up to the window), the size
    /// of every grant or later request, and the window.
    #[derive(Clone, Copy, Debug)]
    struct Rule {
        j: usize,
        send: Option<u64>,
        grant: u64,
        window: u64,
    }

    /// Plays `id` through the driver at `speed` in frames of 1/60 s of wall time until
    /// `secs`, feeding the diagram as the page does, and checks every row after every frame
    /// against `rules`. Returns the diagram and how many frames left events out.
    fn play(id: &str, speed: f64, secs: f64, rules: &[Rule]) -> (SequenceDiagram, usize) {
        let mut d = Driver::new(&preset(id).unwrap()).unwrap();
        let mut seq = SequenceDiagram::new();
        seq.ingest(&ProtocolFrame::default(), &d.sim().snapshot());
        d.set_speed(speed);
        d.set_playing(true);
        let mut cut = 0;
        let mut seen_sends = 0;
        while d.sim().now_s() < secs {
            d.frame(1.0 / 60.0, u64::MAX);
            d.take_trace();
            let frame = d.take_protocol();
            cut += (frame.total > frame.events.len() as u64) as usize;
            assert!(frame.events.len() <= crate::driver::protocol::KEEP);
            seq.ingest(&frame, &d.sim().snapshot());
            let m = &seq.model;
            if let Some(g) = m.gap {
                assert!(g.total >= m.rows.len() as u64, "{id} at {speed}×: {} rows of {} events", m.rows.len(), g.total);
            }
            for row in &m.rows {
                let rule = |j: usize| *rules.iter().find(|r| r.j == j).unwrap_or_else(|| panic!("{id}: a row on link {j}"));
                let at = format!("{id} at {speed}×, t = {}: {row:?}", row.t);
                let bal = row.bal.unwrap_or_else(|| panic!("{at}: no balance (no restarts in these runs)"));
                assert!(bal >= 0, "{at}: negative balance");
                match row.msg {
                    Msg::Initial { j, n } => assert_eq!(n, rule(j).window, "{at}"),
                    Msg::Send { j, n } => {
                        seen_sends += 1;
                        let r = rule(j);
                        match r.send {
                            Some(batch) => assert_eq!(n, batch, "{at}: not one batch"),
                            None => assert!(n >= 1 && n <= r.window, "{at}: more than the window"),
                        }
                        assert!(bal as u64 <= r.window, "{at}: balance above the window");
                    }
                    Msg::Grant { j, n, .. } | Msg::Arrive { j, n, .. } => {
                        assert_eq!(n, rule(j).grant, "{at}: not the configured size");
                        assert!(bal as u64 <= rule(j).window, "{at}: balance above the window");
                    }
                    Msg::Stop => {
                        let r = rules[0];
                        assert!(bal < r.send.unwrap_or(1) as i64, "{at}: stopped holding a send's worth");
                    }
                    Msg::Resume => assert!(bal as u64 <= rules[0].window, "{at}"),
                    Msg::Reopen { .. } => panic!("{at}: no restarts in these runs"),
                }
            }
        }
        assert!(seen_sends > 0, "{id} at {speed}×: no send drawn");
        (seq, cut)
    }

    const CREDITS: [Rule; 1] = [Rule { j: 1, send: Some(100), grant: 500, window: 1_000 }];
    // The stop link first: the buffer's request(256) replenishing 192, then the
    // subscriber's request(64) replenishing 48.
    const REQUEST_N: [Rule; 2] = [Rule { j: 3, send: None, grant: 192, window: 256 }, Rule { j: 4, send: None, grant: 48, window: 64 }];

    #[test]
    fn every_row_is_one_real_message_at_1x_100x_and_1000x() {
        for (speed, secs) in [(1.0, 12.0), (100.0, 120.0), (1_000.0, 300.0)] {
            let (seq, cut) = play("credits", speed, secs, &CREDITS);
            // About ten messages a second: every one is drawn up to 100×.
            if speed <= 100.0 {
                assert_eq!(cut, 0, "credits at {speed}×: events left out");
                assert!(seq.model.gap.is_none());
            } else {
                assert!(cut > 0 && seq.model.gap.is_some(), "credits at 1000×: ~160 events a frame, 64 kept");
                let (first, caption) = seq.model.visible(20);
                let (shown, total, span) = caption.unwrap();
                assert_eq!((first, shown), (seq.model.rows.len() - 19, 19));
                assert!(total > 64 && span > 10.0, "{total} events in {span} s");
            }
            let (seq, _) = play("reactive-request-n", speed, secs.min(60.0), &REQUEST_N);
            assert!(seq.model.rows.iter().any(|r| matches!(r.msg, Msg::Grant { j: 3, .. })) || speed > 1.0);
        }
    }

    #[test]
    fn the_credits_preset_tells_the_reference_story() {
        let (seq, _) = play("credits", 1.0, 3.5, &CREDITS);
        let m = &seq.model;
        let cast = m.cast.clone().unwrap();
        assert_eq!(cast.lifelines, vec![0, 1]);
        assert_eq!(cast.names, vec!["Producer".to_string(), "Consumer".to_string()]);
        let rows: Vec<(&Msg, i64)> = m.rows.iter().map(|r| (&r.msg, r.bal.unwrap())).collect();
        // Initial credits 1000, then ten sends of 100: 900, 800, … 0; stop at 0.
        assert_eq!(rows[0], (&Msg::Initial { j: 1, n: 1_000 }, 1_000));
        for (k, row) in rows.iter().enumerate().skip(1).take(10) {
            assert_eq!(*row, (&Msg::Send { j: 1, n: 100 }, 1_000 - 100 * k as i64), "row {k}");
        }
        assert_eq!(rows[11], (&Msg::Stop, 0));
        // Then: grant 500 (arriving 5 ms later), resume, five sends, stop; over and over.
        let kinds: Vec<&str> = rows
            .iter()
            .map(|(m, _)| match m {
                Msg::Initial { .. } => "init",
                Msg::Send { .. } => "send",
                Msg::Grant { arrived: true, .. } => "grant",
                Msg::Grant { .. } => "grant…",
                Msg::Arrive { .. } => "arrive",
                Msg::Stop => "stop",
                Msg::Resume => "resume",
                Msg::Reopen { .. } => "reopen",
            })
            .collect();
        let story = kinds.join(" ");
        let five = "grant resume send send send send send stop";
        assert!(story.starts_with(&format!("init {}stop {five} {five}", "send ".repeat(10))), "{story}");
        for (m, b) in &rows {
            if let Msg::Grant { arrived: true, .. } = m {
                assert_eq!(*b, 500, "credit after a grant arrives");
            }
            if let Msg::Resume = m {
                assert_eq!(*b, 500, "resumes with the grant's credits");
            }
        }
    }

    #[test]
    fn request_n_through_map_and_filter_has_publisher_buffer_subscriber() {
        let (seq, _) = play("reactive-request-n", 1.0, 2.0, &REQUEST_N);
        let m = &seq.model;
        let cast = m.cast.clone().unwrap();
        assert_eq!(cast.lifelines, vec![0, 3, 4]);
        assert_eq!(cast.names[0], "Publisher → map → filter");
        assert!(cast.names[1].starts_with("Buffer"));
        assert_eq!(cast.names[2], "Subscriber");
        assert!(m.rows.iter().any(|r| matches!(r.msg, Msg::Grant { j: 3, n: 192, .. })));
        assert!(m.rows.iter().any(|r| matches!(r.msg, Msg::Grant { j: 4, n: 48, .. })));
    }

    #[test]
    fn a_frame_with_more_events_than_kept_starts_over_under_a_caption() {
        let mut model = Model::default();
        model.reset(Cast { links: vec![LinkInfo { j: 1, sender: 0, request: false }], lifelines: vec![0, 1], consumer: 1, names: vec![] });
        let ev = |t, kind| TraceEvent { t_s: t, kind };
        let send = |t| ev(t, TraceKind::Moved { from: 0, to: 1, n: 10 });
        model.add(&ProtocolFrame { events: vec![send(0.1)], total: 1, first_t: 0.1 }, &[(1, 90)]);
        assert_eq!(model.rows[0].bal, Some(90));
        assert!(model.gap.is_none());
        // Three kept of 50: the earlier row goes; balances counted back from the frame's end.
        let events = vec![send(0.2), ev(0.3, TraceKind::PermitsArrived { link: 1, n: 50 }), send(0.4)];
        model.add(&ProtocolFrame { events, total: 50, first_t: 0.15 }, &[(1, 40)]);
        let bals: Vec<Option<i64>> = model.rows.iter().map(|r| r.bal).collect();
        assert_eq!(bals, vec![Some(0), Some(50), Some(40)]);
        assert_eq!(model.gap, Some(Gap { total: 50, from_t: 0.15 }));
        // A later frame whose events are all kept adds to the count.
        model.add(&ProtocolFrame { events: vec![send(0.5)], total: 1, first_t: 0.5 }, &[(1, 30)]);
        assert_eq!(model.gap.unwrap().total, 51);
        assert_eq!(model.visible(3), (2, Some((2, 51, 0.5 - 0.15))));
        assert_eq!(rows_text(&model, 3), "gap 2 51\nsend 1 10 40\nsend 1 10 30\n");
    }

    #[test]
    fn applies_only_with_credits_or_request_n() {
        assert!(SequenceDiagram::applies(&Simulation::new(&preset("credits").unwrap()).unwrap().snapshot()));
        assert!(SequenceDiagram::applies(&Simulation::new(&preset("reactive-request-n").unwrap()).unwrap().snapshot()));
        assert!(!SequenceDiagram::applies(&Simulation::new(&preset("incident-106").unwrap()).unwrap().snapshot()));
        assert!(!SequenceDiagram::applies(&Simulation::new(&preset("fix-blocking-channel").unwrap()).unwrap().snapshot()));
    }
}
