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

use crate::canvas::fit;
use crate::format::{self, Ticks};
use crate::plotdata::{self as pd, View};
use crate::theme::{Theme, BLUE, GREEN, ORANGE, PURPLE, SKY, VERMILLION};
use bplab_engine::{FlowControl, Scenario, Series, StageSpec};
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
    /// The producer's heap limit (`producer.memory.heap_limit_mib`), if it has one.
    pub producer_heap_limit_bytes: Option<u64>,
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
            Chart::Memory => {
                "Chart: consumer and producer heaps against their limits with OOM kills marked, and the consumer's in-flight messages"
            }
            Chart::Latency => "Chart: produce-to-processed latency percentiles p50, p95 and p99 over time",
            Chart::Producer => {
                "Chart: messages the producer sent per second, the rate its source asks for, and the share of time it spends blocked"
            }
            Chart::Losses => "Chart: cumulative messages dropped, lost and duplicated",
            Chart::Control => "Chart: credits or demand held by senders, concurrency limit and downstream round trip",
        }
    }

    /// Whether the chart has something to say about this pipeline.
    /// The chart an embed shows: the one a link asks for, else the one that tells the
    /// preset's family's story (heap for the incident, backlog for buffers, flow-control
    /// signals for credits and feedback, losses for shedding, lag per partition for Kafka),
    /// else the first that applies.
    pub fn for_embed(asked: Option<&str>, family: Option<bplab_engine::Family>, s: &Scenario) -> Chart {
        use bplab_engine::Family;
        let by_family = family.map(|f| match f {
            Family::Incident => Chart::Memory,
            Family::Buffers => Chart::Backlog,
            Family::Demand | Family::Adaptive => Chart::Control,
            Family::Shedding => Chart::Losses,
            Family::Kafka => Chart::Partitions,
        });
        let asked = asked.and_then(|id| Chart::ALL.into_iter().find(|c| c.id() == id));
        [asked, by_family, Some(Chart::Backlog)].into_iter().flatten().find(|c| c.applies(s)).unwrap_or(Chart::Counts)
    }

    pub fn applies(self, s: &Scenario) -> bool {
        match self {
            Chart::Partitions => s.topic().is_some(),
            Chart::Control => {
                let windowed = |c: &FlowControl| !matches!(c, FlowControl::None {});
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
    (FontFamily::SansSerif, size * dpr).into_font().color(&theme.fg)
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
    let title_font = (FontFamily::SansSerif, 14.0 * dpr, FontStyle::Bold).into_font().color(&c.theme.fg);
    // On a narrow canvas the title drops its parenthesis rather than run off the edge.
    let fits = |t: &str| root.estimate_text_size(t, &title_font).is_ok_and(|(w, _)| (w as i32) <= width - px(20.0));
    let title = match title.find(" (") {
        Some(cut) if !fits(title) => &title[..cut],
        _ => title,
    };
    top.draw(&Text::new(title.to_string(), (px(12.0), px(7.0)), title_font)).map_err(err)?;
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

/// How an axis labels its ticks.
#[derive(Clone, Copy)]
enum Axis {
    Count(Ticks),
    Percent,
    /// The axis holds log10 of seconds.
    LogSecs,
}

impl Axis {
    fn label(self, v: f64) -> String {
        match self {
            Axis::Count(t) => t.label(v),
            Axis::Percent => format::percent(v),
            Axis::LogSecs => format::secs_tick(10f64.powf(v)),
        }
    }
}

/// A polyline on the left (or right) axis.
struct Line {
    pts: Vec<(f64, f64)>,
    color: RGBColor,
    width: f64,
    dashed: bool,
    /// Dashed with short dashes far apart (dotted), to show beside a dashed line it may meet.
    dots: bool,
    right: bool,
}

/// `color` mixed towards `bg`: a wide, light ribbon that a dashed line on top stays
/// visible on (produced over consumed when the two coincide).
fn ribbon(color: RGBColor, bg: RGBColor) -> RGBColor {
    let mix = |a: u8, b: u8| ((a as f64) * 0.45 + (b as f64) * 0.55).round() as u8;
    RGBColor(mix(color.0, bg.0), mix(color.1, bg.1), mix(color.2, bg.2))
}

fn solid(pts: Vec<(f64, f64)>, color: RGBColor, width: f64) -> Line {
    Line { pts, color, width, dashed: false, right: false, dots: false }
}

fn dashed(pts: Vec<(f64, f64)>, color: RGBColor, width: f64) -> Line {
    Line { pts, color, width, dashed: true, right: false, dots: false }
}

/// A filled polygon (a band, or an area down to 0), faint, behind the lines.
struct Band {
    pts: Vec<(f64, f64)>,
    color: RGBColor,
    alpha: f64,
    right: bool,
}

/// A band between `lo` and `hi` over the same times.
fn band(upper: impl Iterator<Item = (f64, f64)>, lower: Vec<(f64, f64)>, color: RGBColor, alpha: f64) -> Band {
    let mut pts: Vec<(f64, f64)> = upper.collect();
    pts.extend(lower.into_iter().rev());
    Band { pts, color, alpha, right: false }
}

/// One plot area: the y axis (and maybe a right one), bands, lines, OOM marks and a note.
struct Panel<'a> {
    y_desc: &'a str,
    y: (std::ops::Range<f64>, Axis),
    right: Option<(&'a str, std::ops::Range<f64>, Axis)>,
    bands: Vec<Band>,
    lines: Vec<Line>,
    /// Mark the consumer's and the producer's OOM kills with vertical lines (one labelled each).
    oom: bool,
    /// Labels of horizontal lines (limits), at the right end: height, text, colour.
    labels: Vec<(f64, String, RGBColor)>,
    note: Option<&'a str>,
    x_labels: bool,
    y_labels: usize,
}

impl Panel<'_> {
    fn new(y_desc: &str, y: std::ops::Range<f64>, axis: Axis) -> Panel<'_> {
        Panel {
            y_desc,
            y: (y, axis),
            right: None,
            bands: Vec::new(),
            lines: Vec::new(),
            oom: false,
            labels: Vec::new(),
            note: None,
            x_labels: true,
            y_labels: 6,
        }
    }
}

/// Draws a panel: every chart goes through here, so every chart shares one plotters
/// coordinate type (a dual-axis cartesian chart; the right axis is hidden when unused).
fn panel(area: &Area, p: &Plot, c: &Ctx, pn: Panel) -> Res {
    let theme = c.theme;
    let (y_range, y_axis) = pn.y.clone();
    let (right_desc, right_range, right_axis) = match &pn.right {
        Some((d, r, a)) => (Some(*d), r.clone(), *a),
        None => (None, y_range.clone(), y_axis),
    };
    let x = p.x_range();
    let mut chart = ChartBuilder::on(area)
        .margin_left(p.px(8.0))
        .margin_right(p.px(if right_desc.is_some() { 4.0 } else { 16.0 }))
        .margin_top(p.px(6.0))
        .margin_bottom(p.px(4.0))
        .x_label_area_size(if pn.x_labels { p.px(38.0) } else { 0 })
        .y_label_area_size(p.px(64.0))
        .right_y_label_area_size(if right_desc.is_some() { p.px(64.0) } else { 0 })
        .build_cartesian_2d(x.clone(), y_range.clone())
        .map_err(err)?
        .set_secondary_coord(x.clone(), right_range.clone());
    let x_ticks = Ticks::for_max(p.x(p.view.x.end));
    let y_labels = if p.narrow { pn.y_labels.min(4) } else { pn.y_labels };
    chart
        .configure_mesh()
        .x_desc(if pn.x_labels { p.x_desc() } else { "" })
        .y_desc(pn.y_desc)
        .y_label_formatter(&move |v: &f64| y_axis.label(*v))
        .x_label_formatter(&move |v: &f64| x_ticks.label(*v))
        .label_style(font(p.dpr, 11.5, theme))
        .axis_desc_style(font(p.dpr, 12.0, theme))
        .bold_line_style(theme.grid)
        .max_light_lines(0)
        .axis_style(theme.muted)
        .x_labels(if p.narrow { 4 } else { 7 })
        .y_labels(y_labels)
        .draw()
        .map_err(err)?;
    if let Some(desc) = right_desc {
        chart
            .configure_secondary_axes()
            .y_desc(desc)
            .y_label_formatter(&move |v: &f64| right_axis.label(*v))
            .label_style(font(p.dpr, 11.5, theme))
            .axis_desc_style(font(p.dpr, 12.0, theme))
            .axis_style(theme.muted)
            .y_labels(y_labels)
            .draw()
            .map_err(err)?;
    }
    for b in pn.bands {
        if b.pts.len() < 3 {
            continue;
        }
        let poly = Polygon::new(b.pts.into_iter().map(|(t, y)| (p.x(t), y)).collect::<Vec<_>>(), b.color.mix(b.alpha).filled());
        if b.right {
            chart.draw_secondary_series([poly]).map_err(err)?;
        } else {
            chart.draw_series([poly]).map_err(err)?;
        }
    }
    // Data units per pixel of height, to place labels a text row apart.
    let per_px = (y_range.end - y_range.start) / (chart.plotting_area().dim_in_pixel().1.max(1) as f64);
    // Labels drawn after the lines, each on a patch of the background.
    let mut patched: Vec<(f64, f64, String, RGBColor, HPos, VPos)> = Vec::new();
    if pn.oom {
        let (pts, lo, hi) = (&c.series.points, p.view.lo, p.view.hi);
        let consumer = pd::oom_times(pts, lo, hi, |q| q.oom_kills);
        let producer = pd::oom_times(pts, lo, hi, |q| q.producer_oom_kills);
        let both = !consumer.is_empty() && !producer.is_empty();
        let marks = [(consumer, if both { "consumer OOM kill" } else { "OOM kill" }, VERMILLION), (producer, "producer OOM kill", BLUE)];
        for (row, (times, what, color)) in marks.into_iter().filter(|m| !m.0.is_empty()).enumerate() {
            // The producer's label a row below the consumer's: they never cover each other.
            let top = y_range.end - row as f64 * p.px(15.0) as f64 * per_px;
            let n = times.len();
            for (k, t) in times.into_iter().enumerate() {
                let xt = p.x(t);
                chart
                    .draw_series([PathElement::new(vec![(xt, y_range.start), (xt, y_range.end)], line(color, p.dpr, 1.0))])
                    .map_err(err)?;
                // One label says what the lines are; more would collide.
                if k == 0 {
                    let text = if n > 1 { format!("{what} (×{n})") } else { what.to_string() };
                    // Right of the line, or left of it where it would run off the plot.
                    let w = chart.plotting_area().estimate_text_size(&text, &font(p.dpr, 11.0, theme)).map_or(0, |s| s.0 as i32);
                    let right_edge = chart.plotting_area().get_pixel_range().0.end;
                    let h = if chart.backend_coord(&(xt, top)).0 + p.px(4.0) + w > right_edge { HPos::Right } else { HPos::Left };
                    let nudge = p.px(3.0) as f64 * (x.end - x.start) / chart.plotting_area().dim_in_pixel().0.max(1) as f64;
                    let xl = if matches!(h, HPos::Right) { xt - nudge } else { xt + nudge };
                    patched.push((xl, top, text, color, h, VPos::Top));
                }
            }
        }
    }
    for l in pn.lines {
        let style = line(l.color, p.dpr, l.width);
        let pts: Vec<(f64, f64)> = l.pts.into_iter().map(|(t, y)| (p.x(t), y)).collect();
        let (dash, gap) = if l.dots { (p.px(3.0), p.px(6.0)) } else { (p.px(7.0), p.px(5.0)) };
        match (l.dashed, l.right) {
            (false, false) => chart.draw_series(LineSeries::new(pts, style)).map(|_| ()),
            (false, true) => chart.draw_secondary_series(LineSeries::new(pts, style)).map(|_| ()),
            (true, false) => chart.draw_series(DashedLineSeries::new(pts, dash, gap, style)).map(|_| ()),
            (true, true) => chart.draw_secondary_series(DashedLineSeries::new(pts, dash, gap, style)).map(|_| ()),
        }
        .map_err(err)?;
    }
    // Limits' labels above their lines, at the right end, or the left where two coincide.
    let ys: Vec<f64> = pn.labels.iter().map(|l| chart.backend_coord(&(x.end, l.0)).1 as f64).collect();
    let places = pd::line_labels(&ys, p.px(14.0) as f64);
    let inset = p.px(4.0) as f64 * (x.end - x.start) / chart.plotting_area().dim_in_pixel().0.max(1) as f64;
    for ((y, text, color), place) in pn.labels.into_iter().zip(places) {
        let v = if place.below { VPos::Top } else { VPos::Bottom };
        let y = if place.below { y - p.px(3.0) as f64 * per_px } else { y + p.px(3.0) as f64 * per_px };
        let (xl, h) = if place.left_end { (x.start + inset, HPos::Left) } else { (x.end, HPos::Right) };
        patched.push((xl, y, text, color, h, v));
    }
    for (xl, yl, text, color, h, v) in patched {
        let style = font(p.dpr, 11.0, theme).color(&color).pos(Pos::new(h, v));
        let (w, th) = chart.plotting_area().estimate_text_size(&text, &style).map_or((0, 0), |s| (s.0 as i32, s.1 as i32));
        let m = p.px(2.0);
        let x0 = if matches!(h, HPos::Right) { -w - m } else { -m };
        let y0 = if matches!(v, VPos::Bottom) { -th - m } else { -m };
        let patch = Rectangle::new([(x0, y0), (x0 + w + 2 * m, y0 + th + 2 * m)], theme.bg.mix(0.85).filled());
        chart.draw_series([EmptyElement::at((xl, yl)) + patch + Text::new(text, (0, 0), style)]).map_err(err)?;
    }
    if let Some(text) = pn.note {
        let (w, h) = area.dim_in_pixel();
        let style = font(p.dpr, 12.5, theme).color(&theme.muted).pos(Pos::new(HPos::Center, VPos::Center));
        area.draw(&Text::new(text.to_string(), (w as i32 / 2, h as i32 / 2), style)).map_err(err)?;
    }
    Ok(())
}

fn max_y(series: &[&[(f64, f64)]]) -> f64 {
    series.iter().flat_map(|s| s.iter().map(|p| p.1)).fold(0.0, f64::max)
}

fn count_axis(top: f64) -> Axis {
    Axis::Count(Ticks::for_max(top))
}

/// Cumulative produced and consumed: the gap between them is everything still in the
/// system (or dropped, or lost). Produced is dashed and on top: when the two coincide
/// (a blocking producer), both stay visible.
pub fn draw_counts(canvas: &HtmlCanvasElement, c: &Ctx) -> Res {
    let entries = [("consumed (processed once)".into(), ribbon(GREEN, c.theme.bg), false), ("produced".into(), BLUE, true)];
    let p = begin(canvas, c, "Messages produced vs consumed (cumulative)", &entries)?;
    let pts = &c.series.points;
    let bs = p.buckets();
    let produced = pd::last(pts, &bs, |q| q.produced as f64);
    let consumed = pd::last(pts, &bs, |q| q.consumed as f64);
    let top = pd::top(max_y(&[&produced, &consumed]), 10.0);
    let mut pn = Panel::new("messages", 0.0..top, count_axis(top));
    pn.lines = vec![solid(consumed, ribbon(GREEN, c.theme.bg), 7.0), dashed(produced, BLUE, 2.5)];
    panel(&p.body, &p, c, pn)?;
    p.root.present().map_err(err)
}

/// Rates derived from consecutive cumulative counts: what goes in, what comes out, what
/// is dropped.
pub fn draw_rates(canvas: &HtmlCanvasElement, c: &Ctx) -> Res {
    let pts = &c.series.points;
    let any_drop = pts.last().is_some_and(|q| q.dropped > 0);
    let mut entries = vec![("consumed/s".to_string(), ribbon(GREEN, c.theme.bg), false), ("produced/s".to_string(), BLUE, true)];
    if any_drop {
        entries.push(("dropped/s".into(), ORANGE, false));
    }
    let p = begin(canvas, c, "Rates (messages per second)", &entries)?;
    let bs = pd::buckets(p.view.lo, p.view.hi, p.buckets.min(150));
    let produced = pd::rate(pts, &bs, |q| q.produced as f64);
    let consumed = pd::rate(pts, &bs, |q| q.consumed as f64);
    let dropped = if any_drop { pd::rate(pts, &bs, |q| q.dropped as f64) } else { Vec::new() };
    let top = pd::top(max_y(&[&produced, &consumed, &dropped]), 10.0);
    let mut pn = Panel::new("messages / s", 0.0..top, count_axis(top));
    pn.lines = vec![solid(consumed, ribbon(GREEN, c.theme.bg), 5.0), solid(dropped, ORANGE, 2.0), dashed(produced, BLUE, 2.5)];
    panel(&p.body, &p, c, pn)?;
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
    let mut lines: Vec<Line> = c
        .stages
        .iter()
        .enumerate()
        .map(|(k, (stage, _))| {
            let (col, d) = STAGE_COLORS[k % STAGE_COLORS.len()];
            Line {
                pts: pd::stage_depth(c.series, &bs, *stage),
                color: col,
                width: if d { 2.0 } else { 2.5 },
                dashed: d,
                right: false,
                dots: false,
            }
        })
        .collect();
    if has_cache {
        lines.push(dashed(pd::peak(pts, &bs, &|_, q| q.fetch_cache as f64), GREEN, 2.0));
    }
    lines.push(solid(pd::peak(pts, &bs, &|_, q| q.in_flight as f64), PURPLE, 2.5));
    let top = pd::top(lines.iter().flat_map(|l| l.pts.iter().map(|q| q.1)).fold(0.0, f64::max), 10.0);
    let mut pn = Panel::new("messages", 0.0..top, count_axis(top));
    pn.lines = lines;
    panel(&p.body, &p, c, pn)?;
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
    let mut pn = Panel::new("lag (records)", 0.0..top, count_axis(top));
    pn.bands = vec![band(spread.iter().map(|q| (q.0, q.3)), spread.iter().map(|q| (q.0, q.1)).collect(), SKY, 0.22)];
    pn.lines = vec![
        solid(spread.iter().map(|q| (q.0, q.2)).collect(), BLUE, 2.5),
        dashed(spread.iter().map(|q| (q.0, q.3)).collect(), VERMILLION, 2.0),
    ];
    panel(&p.body, &p, c, pn)?;
    p.root.present().map_err(err)
}

/// The consumer's heap and the producer's against their limits, OOM kills marked (upper
/// panel: each limit labelled on its line, the labels apart when the limits coincide), and
/// the messages the consumer holds in flight (lower panel, same time axis): a faint min–max
/// band with its peak line, so a count swinging with every poll (synchronous polling) reads
/// as a band of its own instead of a block over the heap line.
pub fn draw_memory(canvas: &HtmlCanvasElement, c: &Ctx) -> Res {
    let entries = [
        ("consumer heap (largest member)".to_string(), ORANGE, false),
        ("producer heap (its channels)".to_string(), BLUE, true),
        ("in flight: peak, and min–max band".to_string(), PURPLE, false),
    ];
    let p = begin(canvas, c, "Heaps (consumer, producer) and in-flight messages", &entries)?;
    let pts = &c.series.points;
    let bs = p.buckets();
    let mib = |b: f64| b / 1_048_576.0;
    let limit = mib(c.heap_limit_bytes as f64);
    let producer_limit = c.producer_heap_limit_bytes.map(|b| mib(b as f64));
    let heap = pd::peak(pts, &bs, &|_, q| mib(q.heap_bytes as f64));
    let producer_heap = pd::peak(pts, &bs, &|_, q| mib(q.producer_heap_bytes as f64));
    let env = pd::envelope(pts, &bs, |q| q.in_flight as f64);
    let flight_top = pd::top(env.iter().map(|e| e.2).fold(0.0, f64::max), 10.0);
    let h = p.body.dim_in_pixel().1 as f64;
    let (upper, lower) = p.body.split_vertically((h * 0.56) as i32);
    // Headroom above the limit lines: two rows of OOM labels at the top, then the limits'
    // labels above their lines, clear of them.
    let plot_h = (h * 0.56 - p.px(10.0) as f64).max(1.0);
    let room = (p.px(48.0) as f64 / plot_h).min(0.6);
    let limits = limit.max(producer_limit.unwrap_or(0.0));
    let heap_top = (max_y(&[&heap, &producer_heap]) * 1.1).max(limits / (1.0 - room)).max(1.0);

    let mut top = Panel::new("heap (MiB)", 0.0..heap_top, count_axis(heap_top));
    let x = &p.view.x;
    top.lines = vec![dashed(vec![(x.start, limit), (x.end, limit)], VERMILLION, 2.0)];
    top.labels = vec![(limit, format!("consumer limit {}", format::bytes(c.heap_limit_bytes as f64)), VERMILLION)];
    if let (Some(l), Some(b)) = (producer_limit, c.producer_heap_limit_bytes) {
        // Dotted, so that a limit equal to the consumer's still shows beside its dashes.
        top.lines.push(Line { pts: vec![(x.start, l), (x.end, l)], color: BLUE, width: 2.0, dashed: true, right: false, dots: true });
        top.labels.push((l, format!("producer limit {}", format::bytes(b as f64)), BLUE));
    }
    top.lines.push(solid(heap, ORANGE, 3.0));
    top.lines.push(dashed(producer_heap, BLUE, 2.0));
    top.oom = true;
    top.x_labels = false;
    top.y_labels = 4;
    panel(&upper, &p, c, top)?;

    let mut low = Panel::new("in flight", 0.0..flight_top, count_axis(flight_top));
    low.bands = vec![band(env.iter().map(|e| (e.0, e.2)), env.iter().map(|e| (e.0, e.1)).collect(), PURPLE, 0.2)];
    low.lines = vec![solid(env.iter().map(|e| (e.0, e.2)).collect(), PURPLE, 1.5)];
    low.y_labels = 3;
    panel(&lower, &p, c, low)?;
    p.root.present().map_err(err)
}

/// Produce-to-processed latency percentiles, on a logarithmic axis (they span
/// milliseconds to minutes; the axis holds log10 of seconds, labelled as durations).
/// Where nothing was processed the lines break.
pub fn draw_latency(canvas: &HtmlCanvasElement, c: &Ctx) -> Res {
    let entries = [("p50".into(), GREEN, false), ("p95".into(), ORANGE, true), ("p99".into(), VERMILLION, false)];
    let p = begin(canvas, c, "Latency, produced → processed (percentiles)", &entries)?;
    let pts = &c.series.points;
    let bs = p.buckets();
    let log = |v: Vec<Option<(f64, f64)>>| -> Vec<Option<(f64, f64)>> {
        v.into_iter().map(|o| o.map(|(t, s)| (t, s.max(1e-6).log10()))).collect()
    };
    let p50 = log(pd::latency(pts, &bs, |q| q.latency_p50_s));
    let p95 = log(pd::latency(pts, &bs, |q| q.latency_p95_s));
    let p99 = log(pd::latency(pts, &bs, |q| q.latency_p99_s));
    let all = || p50.iter().chain(&p95).chain(&p99).flatten().map(|q| q.1);
    let lo = all().fold(f64::INFINITY, f64::min);
    let hi = all().fold(f64::NEG_INFINITY, f64::max);
    // Whole decades, at least two, so the axis has three labelled ticks.
    let (lo, hi) = if lo.is_finite() { (lo.floor(), hi.ceil().max(lo.floor() + 1.0)) } else { (-3.0, 1.0) };
    let (lo, hi) = if hi - lo < 2.0 { (lo - 1.0, hi) } else { (lo, hi) };
    let mut pn = Panel::new("latency (log scale)", lo..hi, Axis::LogSecs);
    pn.y_labels = (hi - lo) as usize + 1;
    if all().next().is_none() {
        pn.note = Some("nothing processed yet");
    }
    // Percentiles often coincide: p50 wide underneath, p95 dashed, p99 thin on top, so
    // all three stay visible when they do.
    for (v, col, is_dashed, w) in [(&p50, GREEN, false, 5.0), (&p95, ORANGE, true, 3.0), (&p99, VERMILLION, false, 1.5)] {
        for seg in pd::segments(v) {
            pn.lines.push(Line { pts: seg, color: col, width: w, dashed: is_dashed, right: false, dots: false });
        }
    }
    panel(&p.body, &p, c, pn)?;
    p.root.present().map_err(err)
}

/// The producer: what it sent per second (from its cumulative count), the rate its source
/// asks for (pattern × throttle; the peak of each interval), and on the right axis the
/// share of time it spent blocked: backpressure reaching the source.
pub fn draw_producer(canvas: &HtmlCanvasElement, c: &Ctx) -> Res {
    let entries = [
        ("sent/s".into(), BLUE, false),
        ("source rate (pattern × throttle)".into(), SKY, true),
        ("time blocked (right axis)".into(), VERMILLION, false),
    ];
    let p = begin(canvas, c, "Producer: rate and time blocked", &entries)?;
    let pts = &c.series.points;
    let bs = pd::buckets(p.view.lo, p.view.hi, p.buckets.min(150));
    let sent = pd::rate(pts, &bs, |q| q.produced as f64);
    let source = pd::peak(pts, &bs, &|_, q| q.producer_rate_per_s);
    let blocked = pd::blocked_percent(pts, &bs);
    let top = pd::top(max_y(&[&sent, &source]), 10.0);
    let mut pn = Panel::new("messages / s", 0.0..top, count_axis(top));
    pn.right = Some(("time blocked (%)", 0.0..105.0, Axis::Percent));
    if let (Some(first), Some(last)) = (blocked.first(), blocked.last()) {
        let floor = vec![(first.0, 0.0), (last.0, 0.0)];
        let mut area = band(blocked.iter().copied(), floor, VERMILLION, 0.16);
        area.right = true;
        pn.bands.push(area);
    }
    pn.lines = vec![
        Line { pts: blocked, color: VERMILLION, width: 1.5, dashed: false, right: true, dots: false },
        dashed(source, SKY, 2.0),
        solid(sent, BLUE, 2.5),
    ];
    panel(&p.body, &p, c, pn)?;
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
    let dropped = pd::last(pts, &bs, |q| q.dropped as f64);
    let lost = pd::last(pts, &bs, |q| q.lost as f64);
    let dup = pd::last(pts, &bs, |q| q.duplicated as f64);
    let m = max_y(&[&dropped, &lost, &dup]);
    let top = pd::top(m, 10.0);
    let mut pn = Panel::new("messages", 0.0..top, count_axis(top));
    pn.oom = true;
    pn.lines = vec![solid(dropped, ORANGE, 2.5), solid(lost, VERMILLION, 3.0), dashed(dup, PURPLE, 2.0)];
    if m == 0.0 {
        pn.note = Some("nothing dropped, lost or duplicated so far");
    }
    panel(&p.body, &p, c, pn)?;
    p.root.present().map_err(err)
}

/// The control signals: credits or demand held by senders, the consumers' concurrency
/// limit (when it moves), and the downstream call round trip (p99, right axis, when there
/// is a downstream).
pub fn draw_control(canvas: &HtmlCanvasElement, c: &Ctx) -> Res {
    let pts = &c.series.points;
    let view = pd::view(c.series, c.window_s);
    let shown = &pts[view.lo..view.hi];
    let has_permits = shown.iter().any(|q| q.permits > 0);
    let limit_moves = shown.windows(2).any(|w| w[0].concurrency_limit != w[1].concurrency_limit);
    let has_rtt = shown.iter().any(|q| q.call_rtt_p99_s.is_some());
    let mut entries: Vec<Entry> = Vec::new();
    if has_permits {
        entries.push(("credits / demand held by senders".into(), SKY, false));
    }
    if limit_moves || has_rtt {
        entries.push(("concurrency limit".into(), GREEN, true));
    }
    if has_rtt {
        entries.push(("call round trip p99 (right axis)".into(), VERMILLION, false));
    }
    let p = begin(canvas, c, "Flow-control signals", &entries)?;
    let bs = p.buckets();
    let permits = if has_permits { pd::peak(pts, &bs, &|_, q| q.permits as f64) } else { Vec::new() };
    let limit = if limit_moves || has_rtt { pd::peak(pts, &bs, &|_, q| q.concurrency_limit as f64) } else { Vec::new() };
    let top = pd::top(max_y(&[&permits, &limit]), 10.0);
    let mut pn = Panel::new(if has_permits { "credits, calls" } else { "calls in flight" }, 0.0..top, count_axis(top));
    if has_rtt {
        let rtt = pd::latency(pts, &bs, |q| q.call_rtt_p99_s.map(|s| s * 1e3));
        let rtt_top = pd::top(rtt.iter().flatten().map(|q| q.1).fold(0.0, f64::max), 10.0);
        pn.right = Some(("round trip p99 (ms)", 0.0..rtt_top, count_axis(rtt_top)));
        for seg in pd::segments(&rtt) {
            pn.lines.push(Line { pts: seg, color: VERMILLION, width: 1.5, dashed: false, right: true, dots: false });
        }
    }
    pn.lines.push(solid(permits, SKY, 2.5));
    pn.lines.push(dashed(limit, GREEN, 2.0));
    panel(&p.body, &p, c, pn)?;
    p.root.present().map_err(err)
}

#[cfg(test)]
mod tests {
    /// A link's `chart=` names exactly the page's charts.
    #[test]
    fn links_know_every_chart() {
        let ids: Vec<&str> = super::Chart::ALL.iter().map(|c| c.id()).collect();
        assert_eq!(ids, bplab_engine::experiment::CHARTS);
    }
}
