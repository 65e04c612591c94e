//! Live charts drawn with plotters on canvases. One chart, one draw function; each reads
//! only the recorded [`Series`] (plain data, through `plotdata`) and draws at the canvas's
//! device-pixel size, so charts stay crisp on high-DPI screens. Every chart can also be
//! drawn on a detached 800×400 canvas for a PNG download: titles, legends and axes with
//! units are sized to be read at that size.
//!
//! Lines that may coincide are told apart by more than colour: produced is dashed and
//! drawn over consumed; percentiles and maxima have their own dash patterns. Gauges that
//! swing within a sample (in-flight under synchronous polling) are drawn as a faint
//! min–max band behind the lines, never as a solid block.

use crate::format::{self, Ticks};
use crate::plotdata::{self as pd, View};
use crate::theme::{Theme, BLUE, GREEN, ORANGE, PURPLE, SKY, VERMILLION};
use bplab_engine::{FlowControl, Point, Scenario, Series, StageSpec};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

type Area = DrawingArea<CanvasBackend, Shift>;
type Res = Result<(), String>;

/// Size of an exported chart (PNG download), CSS pixels.
pub const EXPORT_SIZE: (u32, u32) = (800, 400);

/// What every chart needs besides its canvas.
pub struct Ctx<'a> {
    pub series: &'a Series,
    /// Show only the last this many seconds; `None`: the whole run.
    pub window_s: Option<f64>,
    pub heap_limit_bytes: u64,
    /// Stages whose depth is plotted: (stage index, label).
    pub stages: &'a [(usize, String)],
    pub theme: &'a Theme,
    /// Drawing on a detached canvas at its own size (export), not at the on-screen size.
    pub export: bool,
}

/// The charts of the page, in display order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chart {
    Counts,
    Rates,
    Backlog,
    Partitions,
    Memory,
    Latency,
    Producer,
    Losses,
    Control,
}

impl Chart {
    pub const ALL: [Chart; 9] = [
        Chart::Counts,
        Chart::Rates,
        Chart::Memory,
        Chart::Backlog,
        Chart::Latency,
        Chart::Producer,
        Chart::Losses,
        Chart::Partitions,
        Chart::Control,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Chart::Counts => "counts",
            Chart::Rates => "rates",
            Chart::Backlog => "backlog",
            Chart::Partitions => "partitions",
            Chart::Memory => "memory",
            Chart::Latency => "latency",
            Chart::Producer => "producer",
            Chart::Losses => "losses",
            Chart::Control => "control",
        }
    }

    /// What the chart shows, for its accessible name.
    pub fn description(self) -> &'static str {
        match self {
            Chart::Counts => "Chart: cumulative messages produced and consumed over time",
            Chart::Rates => "Chart: produced, consumed and dropped messages per second over time",
            Chart::Backlog => "Chart: messages held in each stage (channel depth, topic lag) and in the consumer over time",
            Chart::Partitions => "Chart: lag per partition over time: largest, median and the spread",
            Chart::Memory => "Chart: consumer heap against its limit with OOM kills marked, and in-flight messages",
            Chart::Latency => "Chart: produce-to-processed latency percentiles p50, p95 and p99 over time",
            Chart::Producer => "Chart: the producer's rate and the share of time it spends blocked",
            Chart::Losses => "Chart: cumulative messages dropped, lost and duplicated",
            Chart::Control => "Chart: credits or demand held by senders, concurrency limit and downstream round trip",
        }
    }

    /// Whether the chart has something to say about this pipeline.
    pub fn applies(self, s: &Scenario) -> bool {
        match self {
            Chart::Partitions => s.topic().is_some(),
            Chart::Control => {
                let windowed = |c: &FlowControl| !matches!(c, FlowControl::None);
                s.consumer.limiter.is_some()
                    || s.consumer.downstream.is_some()
                    || windowed(&s.consumer.link.control)
                    || s.stages.iter().any(|st| match st {
                        StageSpec::Channel(c) => windowed(&c.link.control),
                        StageSpec::Map(m) => windowed(&m.link.control),
                        StageSpec::Filter(f) => windowed(&f.link.control),
                        _ => false,
                    })
            }
            _ => true,
        }
    }

    pub fn draw(self, canvas: &HtmlCanvasElement, c: &Ctx) -> Res {
        match self {
            Chart::Counts => draw_counts(canvas, c),
            Chart::Rates => draw_rates(canvas, c),
            Chart::Backlog => draw_backlog(canvas, c),
            Chart::Partitions => draw_partitions(canvas, c),
            Chart::Memory => draw_memory(canvas, c),
            Chart::Latency => draw_latency(canvas, c),
            Chart::Producer => draw_producer(canvas, c),
            Chart::Losses => draw_losses(canvas, c),
            Chart::Control => draw_control(canvas, c),
        }
    }
}

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

fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// A legend entry: label, colour, dashed.
type Entry = (String, RGBColor, bool);

/// Everything a chart draws into, once its header is drawn.
struct Plot {
    root: Area,
    body: Area,
    dpr: f64,
    /// Narrow (a phone): fewer tick labels.
    narrow: bool,
    /// Bucket count for this width: about one per two device pixels.
    buckets: usize,
    view: View,
    /// Seconds per unit of the x axis (1, or 60 on long runs).
    x_div: f64,
}

impl Plot {
    fn px(&self, v: f64) -> i32 {
        (v * self.dpr).round() as i32
    }

    fn x(&self, t: f64) -> f64 {
        t / self.x_div
    }

    fn x_range(&self) -> std::ops::Range<f64> {
        self.x(self.view.x.start)..self.x(self.view.x.end)
    }

    fn x_desc(&self) -> &'static str {
        if self.x_div > 1.0 {
            "simulated time (min)"
        } else {
            "simulated time (s)"
        }
    }

    fn buckets(&self) -> Vec<std::ops::Range<usize>> {
        pd::buckets(self.view.lo, self.view.hi, self.buckets)
    }
}

fn font(dpr: f64, size: f64, theme: &Theme) -> TextStyle<'static> {
    ("sans-serif", size * dpr).into_font().color(&theme.fg)
}

fn line(color: RGBColor, dpr: f64, width: f64) -> ShapeStyle {
    ShapeStyle { color: color.to_rgba(), filled: false, stroke_width: (width * dpr).round().max(1.0) as u32 }
}

/// Clears the canvas, draws the title and the legend (above the plot, so no legend box
/// hides data) and returns the plot area. Legend entries wrap onto more rows when needed.
fn begin(canvas: &HtmlCanvasElement, c: &Ctx, title: &str, entries: &[Entry]) -> Result<Plot, String> {
    let dpr = if c.export { 1.0 } else { fit(canvas) };
    let backend = CanvasBackend::with_canvas_object(canvas.clone()).ok_or("canvas has no 2d context")?;
    let root = backend.into_drawing_area();
    root.fill(&c.theme.bg).map_err(err)?;
    let width = root.dim_in_pixel().0 as i32;
    let px = |v: f64| (v * dpr) as i32;
    let label_font = font(dpr, 12.0, c.theme);
    let swatch = px(20.0);
    let mut placed = Vec::new();
    let (mut x, mut row) = (px(12.0), 0);
    for (label, color, dashed) in entries {
        let w = root.estimate_text_size(label, &label_font).map(|(w, _)| w as i32).unwrap_or(px(80.0));
        let need = swatch + px(5.0) + w;
        if x + need > width - px(8.0) && x > px(12.0) {
            row += 1;
            x = px(12.0);
        }
        placed.push((x, row, label.clone(), *color, *dashed));
        x += need + px(16.0);
    }
    let (top, body) = root.split_vertically(px(30.0) + (row + 1) * px(17.0));
    top.draw(&Text::new(title.to_string(), (px(12.0), px(7.0)), ("sans-serif", 14.0 * dpr, FontStyle::Bold).into_font().color(&c.theme.fg)))
        .map_err(err)?;
    for (x, row, label, color, dashed) in placed {
        let y = px(37.0) + row * px(17.0);
        if dashed {
            for k in 0..3 {
                let x0 = x + k * swatch / 3;
                top.draw(&PathElement::new(vec![(x0, y), (x0 + swatch / 5, y)], line(color, dpr, 2.5))).map_err(err)?;
            }
        } else {
            top.draw(&PathElement::new(vec![(x, y), (x + swatch, y)], line(color, dpr, 2.5))).map_err(err)?;
        }
        let style = label_font.clone().pos(Pos::new(HPos::Left, VPos::Center));
        top.draw(&Text::new(label, (x + swatch + px(5.0), y), style)).map_err(err)?;
    }
    let css_width = width as f64 / dpr;
    let view = pd::view(c.series, c.window_s);
    let x_div = if view.x.end - view.x.start > 1_200.0 { 60.0 } else { 1.0 };
    Ok(Plot { root, body, dpr, narrow: css_width < 520.0, buckets: ((css_width / 2.5) as usize).clamp(40, 600), view, x_div })
}

/// Axes, grid and tick labels of a chart with one y axis.
macro_rules! mesh {
    ($chart:expr, $p:expr, $theme:expr, $y_desc:expr, $y_fmt:expr) => {{
        let x_ticks = Ticks::for_max($p.x($p.view.x.end));
        $chart
            .configure_mesh()
            .x_desc($p.x_desc())
            .y_desc($y_desc)
            .y_label_formatter($y_fmt)
            .x_label_formatter(&move |v: &f64| x_ticks.label(*v))
            .label_style(font($p.dpr, 11.5, $theme))
            .axis_desc_style(font($p.dpr, 12.0, $theme))
            .bold_line_style($theme.grid)
            .light_line_style($theme.grid.mix(0.35))
            .axis_style($theme.muted)
            .x_labels(if $p.narrow { 4 } else { 7 })
            .y_labels(if $p.narrow { 4 } else { 6 })
            .draw()
            .map_err(err)?
    }};
}

fn builder<'a>(p: &'a Plot, right_axis: bool) -> ChartBuilder<'a, 'a, CanvasBackend> {
    let mut b = ChartBuilder::on(&p.body);
    b.margin_left(p.px(8.0))
        .margin_right(p.px(if right_axis { 4.0 } else { 16.0 }))
        .margin_top(p.px(6.0))
        .margin_bottom(p.px(4.0))
        .x_label_area_size(p.px(38.0))
        .y_label_area_size(p.px(64.0));
    if right_axis {
        b.right_y_label_area_size(p.px(64.0));
    }
    b
}

/// A note in the middle of an empty plot.
fn note(p: &Plot, theme: &Theme, text: &str) -> Res {
    let (w, h) = p.body.dim_in_pixel();
    let style = font(p.dpr, 12.5, theme).color(&theme.muted).pos(Pos::new(HPos::Center, VPos::Center));
    p.body.draw(&Text::new(text.to_string(), (w as i32 / 2, h as i32 / 2), style)).map_err(err)
}

fn oom_marks<DB, CT>(chart: &mut ChartContext<'_, DB, CT>, p: &Plot, y_top: f64, theme: &Theme, pts: &[Point]) -> Res
where
    DB: DrawingBackend,
    CT: CoordTranslate<From = (f64, f64)>,
{
    let times = pd::oom_times(pts, p.view.lo, p.view.hi);
    let span = p.x(p.view.x.end) - p.x(p.view.x.start);
    let mut last_label = f64::NEG_INFINITY;
    for t in times {
        let x = p.x(t);
        chart.draw_series([PathElement::new(vec![(x, 0.0), (x, y_top)], line(VERMILLION, p.dpr, 1.0))]).map_err(err)?;
        // Label only the kills far enough apart to read.
        if x - last_label >= span * 0.09 {
            last_label = x;
            let style = font(p.dpr, 11.0, theme).color(&VERMILLION).pos(Pos::new(HPos::Right, VPos::Top));
            chart.draw_series([Text::new("OOM ", (x, y_top), style)]).map_err(err)?;
        }
    }
    Ok(())
}

fn dashed<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'_, DB, CT>,
    p: &Plot,
    pts: Vec<(f64, f64)>,
    color: RGBColor,
    width: f64,
) -> Res {
    let (dash, gap) = ((7.0 * p.dpr) as i32, (5.0 * p.dpr) as i32);
    chart.draw_series(DashedLineSeries::new(pts, dash, gap, line(color, p.dpr, width))).map_err(err)?;
    Ok(())
}

fn solid<DB: DrawingBackend, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'_, DB, CT>,
    p: &Plot,
    pts: Vec<(f64, f64)>,
    color: RGBColor,
    width: f64,
) -> Res {
    chart.draw_series(LineSeries::new(pts, line(color, p.dpr, width))).map_err(err)?;
    Ok(())
}

fn scaled(p: &Plot, v: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    v.into_iter().map(|(t, y)| (p.x(t), y)).collect()
}

fn max_y(series: &[&[(f64, f64)]]) -> f64 {
    series.iter().flat_map(|s| s.iter().map(|p| p.1)).fold(0.0, f64::max)
}

/// Cumulative produced and consumed: the gap between them is everything still in the
/// system (or dropped, or lost). Produced is dashed and on top: when the two coincide
/// (a blocking producer), both stay visible.
pub fn draw_counts(canvas: &HtmlCanvasElement, c: &Ctx) -> Res {
    let entries = [("consumed (processed once)".into(), GREEN, false), ("produced".into(), BLUE, true)];
    let p = begin(canvas, c, "Messages produced vs consumed (cumulative)", &entries)?;
    let pts = &c.series.points;
    let bs = p.buckets();
    let produced = scaled(&p, pd::last(pts, &bs, |q| q.produced as f64));
    let consumed = scaled(&p, pd::last(pts, &bs, |q| q.consumed as f64));
    let top = pd::top(max_y(&[&produced, &consumed]), 10.0);
    let ticks = Ticks::for_max(top);
    let mut chart = builder(&p, false).build_cartesian_2d(p.x_range(), 0.0..top).map_err(err)?;
    mesh!(chart, p, c.theme, "messages", &move |v: &f64| ticks.label(*v));
    solid(&mut chart, &p, consumed, GREEN, 3.5)?;
    dashed(&mut chart, &p, produced, BLUE, 2.0)?;
    p.root.present().map_err(err)
}

/// Rates derived from consecutive cumulative counts: what goes in, what comes out, what
/// is dropped.
pub fn draw_rates(canvas: &HtmlCanvasElement, c: &Ctx) -> Res {
    let pts = &c.series.points;
    let view = pd::view(c.series, c.window_s);
    let any_drop = pts.get(view.hi.saturating_sub(1)).is_some_and(|q| q.dropped > pts.get(view.lo).map_or(0, |f| f.dropped))
        || pts.last().is_some_and(|q| q.dropped > 0);
    let mut entries = vec![("consumed/s".to_string(), GREEN, false), ("produced/s".to_string(), BLUE, true)];
    if any_drop {
        entries.push(("dropped/s".into(), ORANGE, false));
    }
    let p = begin(canvas, c, "Rates (messages per second)", &entries)?;
    let bs = pd::buckets(p.view.lo, p.view.hi, p.buckets.min(150));
    let produced = scaled(&p, pd::rate(pts, &bs, |q| q.produced as f64));
    let consumed = scaled(&p, pd::rate(pts, &bs, |q| q.consumed as f64));
    let dropped = if any_drop { scaled(&p, pd::rate(pts, &bs, |q| q.dropped as f64)) } else { Vec::new() };
    let top = pd::top(max_y(&[&produced, &consumed, &dropped]), 10.0);
    let ticks = Ticks::for_max(top);
    let mut chart = builder(&p, false).build_cartesian_2d(p.x_range(), 0.0..top).map_err(err)?;
    mesh!(chart, p, c.theme, "messages / s", &move |v: &f64| ticks.label(*v));
    solid(&mut chart, &p, consumed, GREEN, 3.0)?;
    if any_drop {
        solid(&mut chart, &p, dropped, ORANGE, 2.0)?;
    }
    dashed(&mut chart, &p, produced, BLUE, 2.0)?;
    p.root.present().map_err(err)
}

/// Where the backlog sits: each stage's depth (channel, producer client, topic lag), then
/// the consumer's fetch cache and in-flight work.
pub fn draw_backlog(canvas: &HtmlCanvasElement, c: &Ctx) -> Res {
    const STAGE_COLORS: [(RGBColor, bool); 4] = [(SKY, false), (BLUE, false), (SKY, true), (BLUE, true)];
    let pts = &c.series.points;
    let mut entries: Vec<Entry> = c
        .stages
        .iter()
        .enumerate()
        .map(|(k, (_, label))| {
            let (col, d) = STAGE_COLORS[k % STAGE_COLORS.len()];
            (label.clone(), col, d)
        })
        .collect();
    let has_cache = pts.iter().any(|q| q.fetch_cache > 0);
    if has_cache {
        entries.push(("consumer fetch cache".into(), GREEN, true));
    }
    entries.push(("consumer in flight".into(), PURPLE, false));
    let p = begin(canvas, c, "Where the backlog sits (messages held)", &entries)?;
    let bs = p.buckets();
    let mut lines: Vec<(Vec<(f64, f64)>, RGBColor, bool)> = c
        .stages
        .iter()
        .enumerate()
        .map(|(k, (stage, _))| {
            let (col, d) = STAGE_COLORS[k % STAGE_COLORS.len()];
            (scaled(&p, pd::stage_depth(c.series, &bs, *stage)), col, d)
        })
        .collect();
    if has_cache {
        lines.push((scaled(&p, pd::peak(pts, &bs, |_, q| q.fetch_cache as f64)), GREEN, true));
    }
    lines.push((scaled(&p, pd::peak(pts, &bs, |_, q| q.in_flight as f64)), PURPLE, false));
    let top = pd::top(lines.iter().flat_map(|l| l.0.iter().map(|q| q.1)).fold(0.0, f64::max), 10.0);
    let ticks = Ticks::for_max(top);
    let mut chart = builder(&p, false).build_cartesian_2d(p.x_range(), 0.0..top).map_err(err)?;
    mesh!(chart, p, c.theme, "messages", &move |v: &f64| ticks.label(*v));
    for (pts, col, d) in lines {
        if d {
            dashed(&mut chart, &p, pts, col, 2.0)?;
        } else {
            solid(&mut chart, &p, pts, col, 2.5)?;
        }
    }
    p.root.present().map_err(err)
}

/// Lag per partition: the spread (smallest to largest) as a band, the median and the
/// largest. One partition pulling away is head-of-line blocking or an unfair assignment.
pub fn draw_partitions(canvas: &HtmlCanvasElement, c: &Ctx) -> Res {
    let n = c.series.partitions;
    let entries = [
        ("largest partition".into(), VERMILLION, true),
        ("median partition".into(), BLUE, false),
        ("smallest to largest".into(), SKY, false),
    ];
    let p = begin(canvas, c, &format!("Lag per partition ({n} partitions)"), &entries)?;
    let bs = p.buckets();
    let spread = pd::partition_spread(c.series, &bs);
    let top = pd::top(spread.iter().map(|q| q.3).fold(0.0, f64::max), 10.0);
    let ticks = Ticks::for_max(top);
    let mut chart = builder(&p, false).build_cartesian_2d(p.x_range(), 0.0..top).map_err(err)?;
    mesh!(chart, p, c.theme, "lag (records)", &move |v: &f64| ticks.label(*v));
    if spread.is_empty() {
        return p.root.present().map_err(err);
    }
    let mut band: Vec<(f64, f64)> = spread.iter().map(|q| (p.x(q.0), q.3)).collect();
    band.extend(spread.iter().rev().map(|q| (p.x(q.0), q.1)));
    chart.draw_series([Polygon::new(band, SKY.mix(0.22).filled())]).map_err(err)?;
    solid(&mut chart, &p, spread.iter().map(|q| (p.x(q.0), q.2)).collect(), BLUE, 2.5)?;
    dashed(&mut chart, &p, spread.iter().map(|q| (p.x(q.0), q.3)).collect(), VERMILLION, 2.0)?;
    p.root.present().map_err(err)
}

/// The consumer's heap against its limit, OOM kills marked; in-flight messages on the
/// right-hand axis as a faint min–max band, so a count swinging with every poll reads as a
/// band behind the heap line, not as a block over it.
pub fn draw_memory(canvas: &HtmlCanvasElement, c: &Ctx) -> Res {
    let entries = [
        ("heap (largest member)".to_string(), ORANGE, false),
        (format!("heap limit {}", format::bytes(c.heap_limit_bytes as f64)), VERMILLION, true),
        ("in flight (right axis)".to_string(), PURPLE, false),
    ];
    let p = begin(canvas, c, "Consumer heap and in-flight messages", &entries)?;
    let pts = &c.series.points;
    let bs = p.buckets();
    let mib = |b: f64| b / 1_048_576.0;
    let limit = mib(c.heap_limit_bytes as f64);
    let heap = scaled(&p, pd::peak(pts, &bs, |_, q| mib(q.heap_bytes as f64)));
    let env = pd::envelope(pts, &bs, |q| q.in_flight as f64);
    let heap_top = pd::top(max_y(&[&heap]).max(limit), 1.0);
    let flight_top = pd::top(env.iter().map(|e| e.2).fold(0.0, f64::max), 10.0);
    let x = p.x_range();
    let flight_ticks = Ticks::for_max(flight_top);
    let heap_ticks = Ticks::for_max(heap_top);
    let mut chart = builder(&p, true)
        .build_cartesian_2d(x.clone(), 0.0..heap_top)
        .map_err(err)?
        .set_secondary_coord(x.clone(), 0.0..flight_top);
    mesh!(chart, p, c.theme, "heap (MiB)", &move |v: &f64| heap_ticks.label(*v));
    chart
        .configure_secondary_axes()
        .y_desc("in-flight messages")
        .y_label_formatter(&move |v: &f64| flight_ticks.label(*v))
        .label_style(font(p.dpr, 11.5, c.theme))
        .axis_desc_style(font(p.dpr, 12.0, c.theme))
        .axis_style(c.theme.muted)
        .y_labels(if p.narrow { 4 } else { 6 })
        .draw()
        .map_err(err)?;
    if !env.is_empty() {
        let mut band: Vec<(f64, f64)> = env.iter().map(|e| (p.x(e.0), e.2)).collect();
        band.extend(env.iter().rev().map(|e| (p.x(e.0), e.1)));
        chart.draw_secondary_series([Polygon::new(band, PURPLE.mix(0.18).filled())]).map_err(err)?;
        chart
            .draw_secondary_series(LineSeries::new(env.iter().map(|e| (p.x(e.0), e.2)), PURPLE.mix(0.75).stroke_width(p.px(1.0).max(1) as u32)))
            .map_err(err)?;
    }
    dashed(&mut chart, &p, vec![(x.start, limit), (x.end, limit)], VERMILLION, 2.0)?;
    oom_marks(&mut chart, &p, heap_top, c.theme, pts)?;
    solid(&mut chart, &p, heap, ORANGE, 3.0)?;
    p.root.present().map_err(err)
}

/// Produce-to-processed latency percentiles, on a logarithmic axis (they span
/// milliseconds to minutes). Where nothing was processed the lines break.
pub fn draw_latency(canvas: &HtmlCanvasElement, c: &Ctx) -> Res {
    let entries = [("p50".into(), GREEN, false), ("p95".into(), ORANGE, true), ("p99".into(), VERMILLION, false)];
    let p = begin(canvas, c, "Latency, produced → processed (percentiles)", &entries)?;
    let pts = &c.series.points;
    let bs = p.buckets();
    let p50 = pd::latency(pts, &bs, |q| q.latency_p50_s);
    let p95 = pd::latency(pts, &bs, |q| q.latency_p95_s);
    let p99 = pd::latency(pts, &bs, |q| q.latency_p99_s);
    let all = || p50.iter().chain(&p95).chain(&p99).flatten().map(|q| q.1);
    let lo = all().fold(f64::INFINITY, f64::min);
    let hi = all().fold(0.0, f64::max);
    let (lo, hi) = if lo.is_finite() && hi > 0.0 { ((lo / 2.0).max(1e-4), (hi * 2.0).max(lo * 10.0)) } else { (1e-3, 10.0) };
    let x_ticks = Ticks::for_max(p.x(p.view.x.end));
    let mut chart = builder(&p, false).build_cartesian_2d(p.x_range(), (lo..hi).log_scale()).map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(p.x_desc())
        .y_desc("latency (log scale)")
        .y_label_formatter(&|v: &f64| format::secs(*v))
        .x_label_formatter(&move |v: &f64| x_ticks.label(*v))
        .label_style(font(p.dpr, 11.5, c.theme))
        .axis_desc_style(font(p.dpr, 12.0, c.theme))
        .bold_line_style(c.theme.grid)
        .light_line_style(c.theme.grid.mix(0.35))
        .axis_style(c.theme.muted)
        .x_labels(if p.narrow { 4 } else { 7 })
        .y_labels(if p.narrow { 4 } else { 6 })
        .draw()
        .map_err(err)?;
    if all().next().is_none() {
        note(&p, c.theme, "nothing processed yet")?;
        return p.root.present().map_err(err);
    }
    for (v, col, is_dashed, w) in [(&p50, GREEN, false, 2.5), (&p95, ORANGE, true, 2.0), (&p99, VERMILLION, false, 2.0)] {
        for seg in pd::segments(v) {
            let seg: Vec<(f64, f64)> = seg.into_iter().map(|(t, y)| (p.x(t), y)).collect();
            if is_dashed {
                chart.draw_series(DashedLineSeries::new(seg, p.px(7.0), p.px(5.0), line(col, p.dpr, w))).map_err(err)?;
            } else {
                chart.draw_series(LineSeries::new(seg, line(col, p.dpr, w))).map_err(err)?;
            }
        }
    }
    p.root.present().map_err(err)
}

/// The producer: its rate (after pattern and throttle) and, on the right axis, the share
/// of time it spent blocked: backpressure reaching the source.
pub fn draw_producer(canvas: &HtmlCanvasElement, c: &Ctx) -> Res {
    let entries = [("producer rate".into(), BLUE, false), ("time blocked (right axis)".into(), VERMILLION, false)];
    let p = begin(canvas, c, "Producer: rate and time blocked", &entries)?;
    let pts = &c.series.points;
    let bs = pd::buckets(p.view.lo, p.view.hi, p.buckets.min(200));
    let rate = scaled(&p, pd::peak(pts, &bs, |_, q| q.producer_rate_per_s));
    let blocked = scaled(&p, pd::blocked_percent(pts, &bs));
    let top = pd::top(max_y(&[&rate]), 10.0);
    let ticks = Ticks::for_max(top);
    let x = p.x_range();
    let mut chart = builder(&p, true)
        .build_cartesian_2d(x.clone(), 0.0..top)
        .map_err(err)?
        .set_secondary_coord(x.clone(), 0.0..105.0);
    mesh!(chart, p, c.theme, "producer rate (msg/s)", &move |v: &f64| ticks.label(*v));
    chart
        .configure_secondary_axes()
        .y_desc("time blocked (%)")
        .y_label_formatter(&|v: &f64| format::percent(*v))
        .label_style(font(p.dpr, 11.5, c.theme))
        .axis_desc_style(font(p.dpr, 12.0, c.theme))
        .axis_style(c.theme.muted)
        .y_labels(if p.narrow { 3 } else { 6 })
        .draw()
        .map_err(err)?;
    if !blocked.is_empty() {
        chart
            .draw_secondary_series(AreaSeries::new(blocked.iter().copied(), 0.0, VERMILLION.mix(0.2)).border_style(line(VERMILLION, p.dpr, 1.5)))
            .map_err(err)?;
    }
    solid(&mut chart, &p, rate, BLUE, 2.5)?;
    p.root.present().map_err(err)
}

/// What the pipeline did not deliver once: dropped on purpose, lost by accident, and
/// delivered twice; OOM kills marked.
pub fn draw_losses(canvas: &HtmlCanvasElement, c: &Ctx) -> Res {
    let entries = [
        ("dropped (a policy)".into(), ORANGE, false),
        ("lost (an accident)".into(), VERMILLION, false),
        ("duplicated".into(), PURPLE, true),
    ];
    let p = begin(canvas, c, "Dropped, lost and duplicated (cumulative)", &entries)?;
    let pts = &c.series.points;
    let bs = p.buckets();
    let dropped = scaled(&p, pd::last(pts, &bs, |q| q.dropped as f64));
    let lost = scaled(&p, pd::last(pts, &bs, |q| q.lost as f64));
    let dup = scaled(&p, pd::last(pts, &bs, |q| q.duplicated as f64));
    let m = max_y(&[&dropped, &lost, &dup]);
    let top = pd::top(m, 10.0);
    let ticks = Ticks::for_max(top);
    let mut chart = builder(&p, false).build_cartesian_2d(p.x_range(), 0.0..top).map_err(err)?;
    mesh!(chart, p, c.theme, "messages", &move |v: &f64| ticks.label(*v));
    oom_marks(&mut chart, &p, top, c.theme, pts)?;
    solid(&mut chart, &p, dropped, ORANGE, 2.5)?;
    solid(&mut chart, &p, lost, VERMILLION, 3.0)?;
    dashed(&mut chart, &p, dup, PURPLE, 2.0)?;
    if m == 0.0 {
        note(&p, c.theme, "nothing dropped, lost or duplicated so far")?;
    }
    p.root.present().map_err(err)
}

/// The control signals: credits or demand held by senders, the consumers' concurrency
/// limit, and the downstream call round trip (p99, right axis).
pub fn draw_control(canvas: &HtmlCanvasElement, c: &Ctx) -> Res {
    let entries = [
        ("credits / demand held".into(), SKY, false),
        ("concurrency limit".into(), GREEN, true),
        ("call round trip p99 (right axis)".into(), VERMILLION, false),
    ];
    let p = begin(canvas, c, "Flow-control signals", &entries)?;
    let pts = &c.series.points;
    let bs = p.buckets();
    let permits = scaled(&p, pd::peak(pts, &bs, |_, q| q.permits as f64));
    let limit = scaled(&p, pd::peak(pts, &bs, |_, q| q.concurrency_limit as f64));
    let rtt: Vec<Option<(f64, f64)>> = pd::latency(pts, &bs, |q| q.call_rtt_p99_s.map(|s| s * 1e3));
    let top = pd::top(max_y(&[&permits, &limit]), 10.0);
    let rtt_top = pd::top(rtt.iter().flatten().map(|q| q.1).fold(0.0, f64::max), 10.0);
    let ticks = Ticks::for_max(top);
    let rtt_ticks = Ticks::for_max(rtt_top);
    let x = p.x_range();
    let mut chart = builder(&p, true)
        .build_cartesian_2d(x.clone(), 0.0..top)
        .map_err(err)?
        .set_secondary_coord(x.clone(), 0.0..rtt_top);
    mesh!(chart, p, c.theme, "credits, calls", &move |v: &f64| ticks.label(*v));
    chart
        .configure_secondary_axes()
        .y_desc("round trip p99 (ms)")
        .y_label_formatter(&move |v: &f64| rtt_ticks.label(*v))
        .label_style(font(p.dpr, 11.5, c.theme))
        .axis_desc_style(font(p.dpr, 12.0, c.theme))
        .axis_style(c.theme.muted)
        .y_labels(if p.narrow { 4 } else { 6 })
        .draw()
        .map_err(err)?;
    for seg in pd::segments(&rtt) {
        chart
            .draw_secondary_series(LineSeries::new(seg.into_iter().map(|(t, y)| (p.x(t), y)), line(VERMILLION, p.dpr, 1.5)))
            .map_err(err)?;
    }
    solid(&mut chart, &p, permits, SKY, 2.5)?;
    dashed(&mut chart, &p, limit, GREEN, 2.0)?;
    p.root.present().map_err(err)
}
