//! Live charts drawn with plotters on canvases. One chart, one draw function; each reads
//! only the recorded [`Series`] (plain data) and draws at the canvas's device-pixel size,
//! so charts stay crisp on high-DPI screens and readable when exported at 800×400.

use crate::format;
use crate::theme::{Theme, BLUE, GREEN, ORANGE, PURPLE, SKY, VERMILLION};
use bplab_engine::{Point, Series};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

type Area = DrawingArea<CanvasBackend, Shift>;
type Res = Result<(), String>;

/// A legend entry: label, colour, dashed.
type Entry = (String, RGBColor, bool);

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

fn area(canvas: &HtmlCanvasElement, theme: &Theme) -> Result<(Area, f64), String> {
    let dpr = fit(canvas);
    let backend = CanvasBackend::with_canvas_object(canvas.clone()).ok_or("canvas has no 2d context")?;
    let root = backend.into_drawing_area();
    root.fill(&theme.bg).map_err(err)?;
    Ok((root, dpr))
}

fn font(dpr: f64, size: f64, theme: &Theme) -> TextStyle<'static> {
    ("sans-serif", size * dpr).into_font().color(&theme.fg)
}

fn line(color: RGBColor, dpr: f64) -> ShapeStyle {
    ShapeStyle { color: color.to_rgba(), filled: false, stroke_width: (2.0 * dpr).round() as u32 }
}

fn thin(color: RGBColor, dpr: f64) -> ShapeStyle {
    ShapeStyle { color: color.mix(0.8), filled: false, stroke_width: dpr.round() as u32 }
}

/// The chart's title and legend, drawn above the plot so no legend box hides data;
/// returns the area left for the plot. Entries wrap onto more rows when needed.
fn header(root: &Area, title: &str, entries: &[Entry], dpr: f64, theme: &Theme) -> Result<Area, String> {
    let px = |v: f64| (v * dpr) as i32;
    let width = root.dim_in_pixel().0 as i32;
    let label_font = font(dpr, 12.0, theme);
    let swatch = px(18.0);
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
        x += need + px(18.0);
    }
    let (top, body) = root.split_vertically(px(34.0) + (row + 1) * px(18.0));
    top.draw(&Text::new(title.to_string(), (px(12.0), px(8.0)), font(dpr, 14.0, theme))).map_err(err)?;
    for (x, row, label, color, dashed) in placed {
        let y = px(40.0) + row * px(18.0);
        if dashed {
            for k in 0..3 {
                let x0 = x + k * swatch / 3;
                top.draw(&PathElement::new(vec![(x0, y), (x0 + swatch / 5, y)], line(color, dpr))).map_err(err)?;
            }
        } else {
            top.draw(&PathElement::new(vec![(x, y), (x + swatch, y)], line(color, dpr))).map_err(err)?;
        }
        let style = label_font.clone().pos(Pos::new(HPos::Left, VPos::Center));
        top.draw(&Text::new(label, (x + swatch + px(5.0), y), style)).map_err(err)?;
    }
    Ok(body)
}

/// Times (s) at which an OOM kill happened, from the cumulative counter.
fn oom_times(points: &[Point]) -> Vec<f64> {
    points.windows(2).filter(|w| w[1].oom_kills > w[0].oom_kills).map(|w| w[1].t_s).collect()
}

fn x_range(points: &[Point]) -> std::ops::Range<f64> {
    let end = points.last().map_or(0.0, |p| p.t_s);
    0.0..end.max(1.0)
}

macro_rules! mesh {
    ($chart:expr, $dpr:expr, $theme:expr, $y_desc:expr, $y_fmt:expr) => {
        $chart
            .configure_mesh()
            .x_desc("simulated time (s)")
            .y_desc($y_desc)
            .y_label_formatter($y_fmt)
            .x_label_formatter(&|v: &f64| format::plain(*v))
            .label_style(font($dpr, 11.0, $theme))
            .axis_desc_style(font($dpr, 12.0, $theme))
            .bold_line_style($theme.grid)
            .light_line_style($theme.grid.mix(0.4))
            .axis_style($theme.muted)
            .x_labels(6)
            .y_labels(6)
            .draw()
            .map_err(err)?
    };
}

/// Plots several cumulative or gauge curves of the series against time.
fn curves(
    canvas: &HtmlCanvasElement,
    series: &Series,
    theme: &Theme,
    title: &str,
    curves: &[(&str, RGBColor, fn(&Point) -> u64)],
) -> Res {
    let (root, dpr) = area(canvas, theme)?;
    let pts = &series.points;
    let y_max = pts.iter().flat_map(|p| curves.iter().map(move |c| (c.2)(p))).max().unwrap_or(0).max(10) as f64 * 1.08;
    let entries: Vec<Entry> = curves.iter().map(|(l, c, _)| (l.to_string(), *c, false)).collect();
    let body = header(&root, title, &entries, dpr, theme)?;
    let mut chart = ChartBuilder::on(&body)
        .margin((10.0 * dpr) as i32)
        .x_label_area_size((36.0 * dpr) as i32)
        .y_label_area_size((62.0 * dpr) as i32)
        .build_cartesian_2d(x_range(pts), 0.0..y_max)
        .map_err(err)?;
    mesh!(chart, dpr, theme, "messages", &|v: &f64| format::count(*v));
    for (_, color, get) in curves {
        chart.draw_series(LineSeries::new(pts.iter().map(|p| (p.t_s, get(p) as f64)), line(*color, dpr))).map_err(err)?;
    }
    root.present().map_err(err)
}

/// Cumulative produced, consumed and lost messages: the gap between the first two is
/// everything still in the system.
pub fn draw_counts(canvas: &HtmlCanvasElement, series: &Series, theme: &Theme) -> Res {
    curves(
        canvas,
        series,
        theme,
        "Messages produced vs consumed (cumulative)",
        &[
            ("produced", BLUE, |p| p.produced),
            ("consumed (processed once)", GREEN, |p| p.consumed),
            ("lost", VERMILLION, |p| p.lost),
        ],
    )
}

/// Where the backlog sits: in channels, in the topic as lag, or in the consumer's heap.
pub fn draw_backlog(canvas: &HtmlCanvasElement, series: &Series, theme: &Theme) -> Res {
    curves(
        canvas,
        series,
        theme,
        "Where the backlog sits",
        &[
            ("channel depth", SKY, |p| p.channel_depth),
            ("topic lag (log end − committed)", BLUE, |p| p.lag),
            ("in flight in the consumer", PURPLE, |p| p.in_flight),
        ],
    )
}

/// The consumer's heap against its limit, with OOM kills marked, and in-flight messages
/// on the right-hand axis.
pub fn draw_memory(canvas: &HtmlCanvasElement, series: &Series, limit_bytes: u64, theme: &Theme) -> Res {
    let (root, dpr) = area(canvas, theme)?;
    let pts = &series.points;
    let mib = |b: u64| b as f64 / 1_048_576.0;
    let limit = mib(limit_bytes);
    let heap_max = pts.iter().map(|p| mib(p.heap_bytes)).fold(limit, f64::max) * 1.1;
    let flight_max = pts.iter().map(|p| p.in_flight).max().unwrap_or(0).max(10) as f64 * 1.1;
    let entries = [
        ("heap".to_string(), ORANGE, false),
        (format!("limit {}", format::bytes(limit_bytes as f64)), VERMILLION, true),
        ("in flight (right axis)".to_string(), PURPLE, false),
    ];
    let body = header(&root, "Consumer heap and in-flight messages", &entries, dpr, theme)?;
    let x = x_range(pts);
    let mut chart = ChartBuilder::on(&body)
        .margin((10.0 * dpr) as i32)
        .x_label_area_size((36.0 * dpr) as i32)
        .y_label_area_size((62.0 * dpr) as i32)
        .right_y_label_area_size((62.0 * dpr) as i32)
        .build_cartesian_2d(x.clone(), 0.0..heap_max)
        .map_err(err)?
        .set_secondary_coord(x.clone(), 0.0..flight_max);
    mesh!(chart, dpr, theme, "heap (MiB)", &|v: &f64| format::plain(v.round()));
    chart
        .configure_secondary_axes()
        .y_desc("in-flight messages")
        .y_label_formatter(&|v: &f64| format::count(*v))
        .label_style(font(dpr, 11.0, theme))
        .axis_desc_style(font(dpr, 12.0, theme))
        .axis_style(theme.muted)
        .draw()
        .map_err(err)?;

    chart
        .draw_series(DashedLineSeries::new(
            [(x.start, limit), (x.end, limit)],
            (8.0 * dpr) as u32,
            (5.0 * dpr) as u32,
            line(VERMILLION, dpr),
        ))
        .map_err(err)?;
    // Mark every kill; label only those far enough apart to read.
    let min_gap = (x.end - x.start) * 0.08;
    let mut last_label = f64::NEG_INFINITY;
    for t in oom_times(pts) {
        chart.draw_series([PathElement::new(vec![(t, 0.0), (t, heap_max)], thin(VERMILLION, dpr))]).map_err(err)?;
        if t - last_label >= min_gap {
            last_label = t;
            let style = font(dpr, 11.0, theme).color(&VERMILLION).pos(Pos::new(HPos::Right, VPos::Top));
            chart.draw_series([Text::new("OOM", (t, heap_max), style)]).map_err(err)?;
        }
    }
    chart.draw_series(LineSeries::new(pts.iter().map(|p| (p.t_s, mib(p.heap_bytes))), line(ORANGE, dpr))).map_err(err)?;
    chart
        .draw_secondary_series(LineSeries::new(pts.iter().map(|p| (p.t_s, p.in_flight as f64)), thin(PURPLE, dpr)))
        .map_err(err)?;
    root.present().map_err(err)
}
