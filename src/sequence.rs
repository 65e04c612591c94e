//! The live sequence diagram of a flow-controlled link: the reference story's credit
//! sequence ("initial credits 1000; send 100 (credit: 900) … credits low: stop; process
//! 500; grant 500; resume"), drawn from the engine's real grants, requests and sends.
//!
//! One lifeline per node at either end of a link with credits or `request(n)` (a map or
//! filter in between passes demand through, so the producer upstream of them is the
//! sender); time flows down; the most recent messages that fit are shown. Consecutive
//! sends (and consecutive processing) merge into one message. The credit (or demand)
//! balance after each message is computed backwards from the snapshot's current permits,
//! which the trace changes exactly (a send spends, an arrival adds), so it is right even
//! when the diagram starts mid-run.
//!
//! The model ([`Model`]) is pure Rust and tested natively against real runs.

use crate::canvas::text::{self, Font};
use crate::canvas::{context, fit, text_check, Align, Measure, Pen, Rect, WidthCache};
use crate::format;
use crate::theme::{css, Theme, BLUE, GREEN, PURPLE, SKY, VERMILLION};
use bplab_engine::{Snapshot, StageView, TraceEvent, TraceKind};
use plotters::style::RGBColor;
use std::collections::VecDeque;
use web_sys::HtmlCanvasElement;

/// Messages kept (more than ever fit on screen).
const KEEP: usize = 400;
/// The engine keeps at most this many trace events between two drains.
const TRACE_CAP: usize = 4_096;
const ROW_H: f64 = 21.0;

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

/// One message on the diagram.
#[derive(Clone, Debug, PartialEq)]
pub enum Msg {
    /// The receiver's initial credits (or first request) on link `j`.
    Initial {
        j: usize,
        n: u64,
    },
    /// The sender sent `n` messages over link `j` in `sends` sends.
    Send {
        j: usize,
        n: u64,
        sends: u32,
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
    /// The consumer processed `n`.
    Process {
        n: u64,
    },
    /// Some messages were skipped (the trace was cut short at high speed).
    Gap,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Simulated time of its first event.
    pub t: f64,
    pub msg: Msg,
}

/// The messages, built from the trace.
#[derive(Clone, Debug, Default)]
pub struct Model {
    pub cast: Option<Cast>,
    pub rows: VecDeque<Row>,
    next_id: u64,
    /// Rows pushed since the start (row `k` of `rows` is number `pushed - rows.len() + k`).
    pushed: u64,
    /// Since the last grant, arrival, stop or resume: the open send row per link and the
    /// open process row (by number), which later sends and processing merge into.
    phase: Vec<(Option<usize>, u64)>,
    /// Grants not yet arrived, per link, oldest first: (id, n).
    open: Vec<(usize, u64, u64)>,
    pub last_t: f64,
}

impl Model {
    /// Starts over with `cast`.
    pub fn reset(&mut self, cast: Cast) {
        *self = Model { cast: Some(cast), ..Model::default() };
    }

    fn push(&mut self, t: f64, msg: Msg) {
        let key = match msg {
            Msg::Send { j, .. } => Some(Some(j)),
            Msg::Process { .. } => Some(None),
            _ => None,
        };
        match key {
            Some(k) => self.phase.push((k, self.pushed)),
            // Anything else closes the phase: what follows is a new message.
            None => self.phase.clear(),
        }
        self.rows.push_back(Row { t, msg });
        self.pushed += 1;
        while self.rows.len() > KEEP {
            self.rows.pop_front();
        }
    }

    /// The open row of this phase for `key` (a link's sends, or processing).
    fn open_row(&mut self, key: Option<usize>) -> Option<&mut Row> {
        let number = self.phase.iter().find(|p| p.0 == key)?.1;
        let first = self.pushed - self.rows.len() as u64;
        if number < first {
            return None;
        }
        self.rows.get_mut((number - first) as usize)
    }

    /// Adds what `trace` did to the lifelines. `cut` says the trace may have lost its
    /// oldest events.
    pub fn add(&mut self, trace: &[TraceEvent], cut: bool) {
        let Some(cast) = self.cast.clone() else { return };
        if cut && !trace.is_empty() {
            // What came before is no longer continuous with what follows.
            self.rows.clear();
            self.open.clear();
            self.push(trace[0].t_s, Msg::Gap);
        }
        let producer_lifeline = cast.lifelines.first() == Some(&0);
        let consumer_lifeline = cast.lifelines.contains(&cast.consumer);
        for ev in trace {
            let t = ev.t_s;
            self.last_t = self.last_t.max(t);
            match ev.kind {
                TraceKind::Moved { to, n, .. } => {
                    let j = to as usize;
                    if cast.link(j).is_none() {
                        continue;
                    }
                    if let Some(Row { msg: Msg::Send { n: ln, sends, .. }, .. }) = self.open_row(Some(j)) {
                        *ln += n;
                        *sends += 1;
                        continue;
                    }
                    self.push(t, Msg::Send { j, n, sends: 1 });
                }
                TraceKind::Granted { link, n } | TraceKind::Requested { link, n } => {
                    let j = link as usize;
                    if cast.link(j).is_none() {
                        continue;
                    }
                    let id = self.next_id;
                    self.next_id += 1;
                    self.open.push((j, id, n));
                    self.push(t, Msg::Grant { j, n, id, arrived: false });
                }
                TraceKind::PermitsArrived { link, n } => {
                    let j = link as usize;
                    if cast.link(j).is_none() {
                        continue;
                    }
                    let of = self.open.iter().position(|o| o.0 == j).map(|i| self.open.remove(i).1);
                    // Straight after its own grant: one message.
                    if let (Some(id), Some(Row { msg: Msg::Grant { id: gid, arrived, .. }, .. })) = (of, self.rows.back_mut()) {
                        if *gid == id {
                            *arrived = true;
                            continue;
                        }
                    }
                    self.push(t, Msg::Arrive { j, n, of });
                }
                TraceKind::Blocked if producer_lifeline => self.push(t, Msg::Stop),
                TraceKind::Unblocked if producer_lifeline => {
                    // The retry that unblocks sends first: show "resume" before that send.
                    let send_now = matches!(self.rows.back(), Some(Row { t: lt, msg: Msg::Send { .. } }) if (*lt - t).abs() < 1e-12);
                    if send_now {
                        let row = self.rows.pop_back().expect("a row");
                        self.pushed -= 1;
                        self.push(t, Msg::Resume);
                        self.push(row.t, row.msg);
                    } else {
                        self.push(t, Msg::Resume);
                    }
                }
                TraceKind::Processed { n, .. } if consumer_lifeline => {
                    if let Some(Row { msg: Msg::Process { n: ln }, .. }) = self.open_row(None) {
                        *ln += n;
                        continue;
                    }
                    self.push(t, Msg::Process { n });
                }
                _ => {}
            }
        }
    }

    /// Per row, the balance on its link after it, counted back from `permits` (the
    /// senders' permits now, per link `j`). `None` for rows without a link, or before a gap.
    pub fn balances(&self, permits: &[(usize, u64)]) -> Vec<Option<u64>> {
        let mut cur: Vec<(usize, i128)> = permits.iter().map(|&(j, p)| (j, p as i128)).collect();
        let mut out = vec![None; self.rows.len()];
        let stop_link = self.cast.as_ref().and_then(|c| c.links.iter().find(|l| l.sender == 0)).map(|l| l.j);
        for (i, row) in self.rows.iter().enumerate().rev() {
            let get = |cur: &Vec<(usize, i128)>, j: usize| cur.iter().find(|c| c.0 == j).map(|c| c.1);
            match &row.msg {
                Msg::Send { j, n, .. } => {
                    out[i] = get(&cur, *j).map(|b| b.max(0) as u64);
                    if let Some(c) = cur.iter_mut().find(|c| c.0 == *j) {
                        c.1 += *n as i128;
                    }
                }
                Msg::Arrive { j, n, .. } => {
                    out[i] = get(&cur, *j).map(|b| b.max(0) as u64);
                    if let Some(c) = cur.iter_mut().find(|c| c.0 == *j) {
                        c.1 -= *n as i128;
                    }
                }
                Msg::Grant { j, n, arrived: true, .. } => {
                    out[i] = get(&cur, *j).map(|b| b.max(0) as u64);
                    if let Some(c) = cur.iter_mut().find(|c| c.0 == *j) {
                        c.1 -= *n as i128;
                    }
                }
                Msg::Initial { j, .. } => out[i] = get(&cur, *j).map(|b| b.max(0) as u64),
                Msg::Stop | Msg::Resume => out[i] = stop_link.and_then(|j| get(&cur, j)).map(|b| b.max(0) as u64),
                Msg::Gap => break,
                _ => {}
            }
        }
        out
    }
}

/// The live sequence diagram on its canvas.
pub struct SequenceDiagram {
    model: Model,
    /// Events received since the last draw (the snapshot says which links matter).
    pending: Vec<TraceEvent>,
    pending_cut: bool,
    widths: WidthCache,
}

impl Default for SequenceDiagram {
    fn default() -> Self {
        SequenceDiagram::new()
    }
}

impl SequenceDiagram {
    pub fn new() -> SequenceDiagram {
        SequenceDiagram { model: Model::default(), pending: Vec::new(), pending_cut: false, widths: Default::default() }
    }

    /// Whether the scenario has a link with credits or request(n) (the page shows the
    /// canvas only then).
    pub fn applies(snap: &Snapshot) -> bool {
        snap.links.iter().skip(1).any(|l| l.is_some())
    }

    /// Takes one frame's trace (simulated times are in `TraceEvent.t_s`).
    pub fn ingest(&mut self, trace: &[TraceEvent]) {
        if trace.len() >= TRACE_CAP {
            self.pending.clear();
            self.pending_cut = true;
        }
        let keep = |e: &&TraceEvent| {
            matches!(
                e.kind,
                TraceKind::Moved { .. }
                    | TraceKind::Granted { .. }
                    | TraceKind::Requested { .. }
                    | TraceKind::PermitsArrived { .. }
                    | TraceKind::Blocked
                    | TraceKind::Unblocked
                    | TraceKind::Processed { .. }
            )
        };
        self.pending.extend(trace.iter().filter(keep).copied());
        if self.pending.len() > 2 * TRACE_CAP {
            // Drawn rarely (the canvas is hidden): keep the newest.
            let cut = self.pending.len() - TRACE_CAP;
            self.pending.drain(..cut);
            self.pending_cut = true;
        }
    }

    /// Brings the model up to `snap`: a new run or scenario starts over.
    fn update(&mut self, snap: &Snapshot) {
        let cast = Cast::of(snap);
        let restarted = snap.t_s + 1e-9 < self.model.last_t || self.pending.first().is_some_and(|e| e.t_s + 1e-9 < self.model.last_t);
        if self.model.cast.as_ref() != Some(&cast) || restarted {
            self.model.reset(cast.clone());
        }
        // At time zero the window is the receiver's initial grant.
        let initial_only = self.model.rows.iter().all(|r| matches!(r.msg, Msg::Initial { .. }));
        if snap.t_s == 0.0 && initial_only && self.pending.is_empty() {
            self.model.reset(cast.clone());
            for l in &cast.links {
                let n = snap.links[l.j].as_ref().map_or(0, |w| w.permits + w.in_transit);
                self.model.push(0.0, Msg::Initial { j: l.j, n });
            }
        }
        let pending = std::mem::take(&mut self.pending);
        self.model.add(&pending, self.pending_cut);
        self.pending_cut = false;
        self.model.last_t = self.model.last_t.max(snap.t_s);
    }

    pub fn draw(&mut self, canvas: &HtmlCanvasElement, snap: &Snapshot, theme: &Theme) {
        self.update(snap);
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
    let head_h = 46.0;
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
    let rows_fit = ((h - head_h - 6.0) / ROW_H).floor().max(1.0) as usize;
    let permits: Vec<(usize, u64)> = cast.links.iter().map(|l| (l.j, snap.links[l.j].as_ref().map_or(0, |w| w.permits))).collect();
    let balances = model.balances(&permits);
    let total = model.rows.len();
    let first = total.saturating_sub(rows_fit);
    let y_of = |i: usize| head_h + 4.0 + (i - first) as f64 * ROW_H + ROW_H / 2.0;
    let stop_link = cast.links.iter().find(|l| l.sender == 0).map(|l| l.j);
    let stop_request = stop_link.and_then(|j| cast.link(j)).is_some_and(|l| l.request);
    let consumer_x = x_of(cast.consumer);
    for (i, (row, bal)) in model.rows.iter().zip(&balances).enumerate().skip(first) {
        let y = y_of(i);
        let bal = bal.map(|b| format::count(b as f64));
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
            Msg::Send { j, n, sends } => {
                let Some(l) = cast.link(*j) else { continue };
                let (Some(xs_), Some(xr)) = (x_of(l.sender), x_of(l.j)) else { continue };
                p.arrow_with((xs_, y + 4.0), (xr, y + 4.0), data, 1.8, false, HEAD);
                let u = if l.request { "demand" } else { "credit" };
                let nn = format::count(*n as f64);
                let what = if *sends > 1 { format!("send {nn} in {sends} sends") } else { format!("send {nn}") };
                let (a, b, c, d) = match &bal {
                    Some(b) => {
                        (format!("{what} ({u}: {b})"), format!("send {nn} ({u}: {b})"), format!("send {nn} ◆{b}"), format!("{nn} ◆{b}"))
                    }
                    None => (what.clone(), format!("send {nn}"), nn.clone(), nn.clone()),
                };
                p.fit_halo(
                    &[&a, &b, &c, &d, &nn],
                    (xs_ + xr) / 2.0,
                    y - 5.0,
                    (xr - xs_).abs() - 12.0,
                    text::LABEL,
                    theme.fg,
                    Align::Center,
                );
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
                        Some(k) if k >= first => y_of(k) + 4.0,
                        _ => h - 6.0,
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
            Msg::Process { n } => {
                let Some(x) = consumer_x else { continue };
                let nn = format::count(*n as f64);
                // A self-message: out and back on the consumer's lifeline.
                let dir = if xs.last() == Some(&x) { -1.0 } else { 1.0 };
                let dx = 14.0 * dir;
                p.line((x, y - 5.0), (x + dx, y - 5.0), GREEN, 1.5, false);
                p.line((x + dx, y - 5.0), (x + dx, y + 5.0), GREEN, 1.5, false);
                p.arrow_with((x + dx, y + 5.0), (x + 1.0 * dir, y + 5.0), GREEN, 1.5, false, HEAD);
                let a = format!("process {nn}");
                let align = if dir > 0.0 { Align::Left } else { Align::Right };
                p.fit_halo(&[&a, &nn], x + dx + 5.0 * dir, y, col / 2.0 + 20.0, text::LABEL, theme.fg, align);
            }
            Msg::Gap => {
                p.line((gutter, y), (w - 8.0, y), theme.muted, 1.0, true);
                p.fit_halo(
                    &["… earlier messages skipped (running fast) …", "… skipped …"],
                    (gutter + w) / 2.0,
                    y,
                    w - gutter - 20.0,
                    text::SMALL,
                    theme.muted,
                    Align::Center,
                );
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
    use bplab_engine::{preset, Simulation};

    /// Runs `id` to `t_s` in frames of `dt`, feeding the model as the page would.
    fn run(id: &str, t_s: f64, dt: f64) -> (Model, Snapshot) {
        let mut sim = Simulation::new(&preset(id).unwrap()).unwrap();
        sim.set_tracing(true);
        let mut model = Model::default();
        let snap0 = sim.snapshot();
        model.reset(Cast::of(&snap0));
        for l in model.cast.clone().unwrap().links {
            let w = snap0.links[l.j].clone().unwrap();
            model.push(0.0, Msg::Initial { j: l.j, n: w.permits });
        }
        let mut t = 0.0;
        let mut trace = Vec::new();
        while t < t_s {
            t += dt;
            sim.run_until(t, u64::MAX);
            trace.clear();
            sim.drain_trace(&mut trace);
            model.add(&trace, trace.len() >= TRACE_CAP);
        }
        (model, sim.snapshot())
    }

    fn permits(model: &Model, snap: &Snapshot) -> Vec<(usize, u64)> {
        model.cast.as_ref().unwrap().links.iter().map(|l| (l.j, snap.links[l.j].as_ref().unwrap().permits)).collect()
    }

    #[test]
    fn the_credits_preset_tells_the_reference_story() {
        let (model, snap) = run("credits", 3.0, 0.05);
        let cast = model.cast.clone().unwrap();
        assert_eq!(cast.lifelines, vec![0, 1]);
        assert_eq!(cast.names, vec!["Producer".to_string(), "Consumer".to_string()]);
        let bal = model.balances(&permits(&model, &snap));
        let rows: Vec<(&Msg, Option<u64>)> = model.rows.iter().map(|r| &r.msg).zip(bal.iter().copied()).collect();
        // Initial credits 1000, then sends until the credit is too low to send a batch.
        assert_eq!(rows[0], (&Msg::Initial { j: 1, n: 1_000 }, Some(1_000)));
        let Msg::Send { n, .. } = rows[1].0 else { panic!("{:?}", rows[1]) };
        assert_eq!(rows[1].1, Some(1_000 - n));
        let stop = rows.iter().find(|r| *r.0 == Msg::Stop).expect("the producer stops");
        assert!(stop.1.unwrap() < 100, "stopped with less than a batch of credit: {stop:?}");
        // Then: process, grant 500, resume, send; over and over, balances consistent.
        let kinds: Vec<&str> = rows
            .iter()
            .map(|(m, _)| match m {
                Msg::Initial { .. } => "init",
                Msg::Send { .. } => "send",
                Msg::Grant { .. } => "grant",
                Msg::Arrive { .. } => "arrive",
                Msg::Stop => "stop",
                Msg::Resume => "resume",
                Msg::Process { .. } => "process",
                Msg::Gap => "gap",
            })
            .collect();
        let text = kinds.join(" ");
        // Without the processing (which goes on all the time), the story repeats.
        let story = kinds.iter().filter(|k| **k != "process").copied().collect::<Vec<_>>().join(" ");
        assert!(story.starts_with("init send stop grant arrive resume send stop grant arrive resume send stop"), "{text}");
        // Sends merge within a phase: one send message between a resume and a stop.
        assert!(!story.contains("send send"), "{story}");
        assert!(!text.contains("process process"), "{text}");
        for (m, b) in &rows {
            if let Msg::Grant { n, .. } = m {
                assert_eq!(*n, 500);
            }
            if let (Msg::Arrive { .. }, Some(b)) = (m, b) {
                assert!(*b >= 500, "credit after a grant arrives: {b}");
            }
        }
        // Processing between grants adds up to the grant.
        let mut since = 0;
        for (m, _) in &rows {
            match m {
                Msg::Process { n } => since += n,
                Msg::Grant { .. } => {
                    assert_eq!(since, 500, "{text}");
                    since = 0;
                }
                _ => {}
            }
        }
    }

    #[test]
    fn request_n_through_map_and_filter_has_publisher_buffer_subscriber() {
        let (model, snap) = run("reactive-request-n", 2.0, 0.02);
        let cast = model.cast.clone().unwrap();
        assert_eq!(cast.lifelines, vec![0, 3, 4]);
        assert_eq!(cast.names[0], "Publisher → map → filter");
        assert!(cast.names[1].starts_with("Buffer"));
        assert_eq!(cast.names[2], "Subscriber");
        assert!(model.rows.iter().any(|r| matches!(r.msg, Msg::Grant { j: 3, .. })));
        assert!(model.rows.iter().any(|r| matches!(r.msg, Msg::Grant { j: 4, .. })));
        // Balances never go negative when counted back from now.
        let bal = model.balances(&permits(&model, &snap));
        assert!(bal.iter().flatten().all(|b| *b < 1_000_000));
    }

    #[test]
    fn a_cut_trace_starts_over_with_a_gap() {
        let mut model = Model::default();
        model.reset(Cast { links: vec![LinkInfo { j: 1, sender: 0, request: false }], lifelines: vec![0, 1], consumer: 1, names: vec![] });
        let ev = |t, kind| TraceEvent { t_s: t, kind };
        model.add(&[ev(0.1, TraceKind::Moved { from: 0, to: 1, n: 10 })], false);
        model.add(&[ev(0.2, TraceKind::Moved { from: 0, to: 1, n: 10 }), ev(0.3, TraceKind::Granted { link: 1, n: 5 })], true);
        assert_eq!(model.rows[0].msg, Msg::Gap);
        assert_eq!(model.rows[1].msg, Msg::Send { j: 1, n: 10, sends: 1 });
        // Balances stop at the gap.
        let b = model.balances(&[(1, 40)]);
        assert_eq!(b, vec![None, Some(40), None]);
    }

    #[test]
    fn applies_only_with_credits_or_request_n() {
        assert!(SequenceDiagram::applies(&Simulation::new(&preset("credits").unwrap()).unwrap().snapshot()));
        assert!(SequenceDiagram::applies(&Simulation::new(&preset("reactive-request-n").unwrap()).unwrap().snapshot()));
        assert!(!SequenceDiagram::applies(&Simulation::new(&preset("incident-106").unwrap()).unwrap().snapshot()));
        assert!(!SequenceDiagram::applies(&Simulation::new(&preset("fix-blocking-channel").unwrap()).unwrap().snapshot()));
    }
}
