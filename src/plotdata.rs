//! What the charts plot, derived from the recorded [`Series`]: the window of points on
//! show, points bucketed to about the plot's width (cumulative curves keep their last
//! value, gauges their peak, bands their min–max envelope), rates from consecutive
//! cumulative counts, the producer's blocked share, latency percentiles, per-stage depth
//! and the spread of lag over partitions, and the labels of the stages plotted. Pure
//! functions, tested natively; `charts` only draws what they return.

use bplab_engine::{Point, Scenario, Series, StageSpec};
use std::ops::Range;

/// The part of the run a chart shows.
#[derive(Clone, Debug, PartialEq)]
pub struct View {
    /// Points `lo..hi` of the series are on show.
    pub lo: usize,
    pub hi: usize,
    /// The x axis, simulated seconds.
    pub x: Range<f64>,
}

/// Points on show: the whole run, or its last `last_s` seconds (the axis then spans a
/// full window even while the run is shorter, so the picture scrolls rather than
/// stretches).
pub fn view(series: &Series, last_s: Option<f64>) -> View {
    let pts = &series.points;
    let end = pts.last().map_or(0.0, |p| p.t_s);
    match last_s {
        None => View { lo: 0, hi: pts.len(), x: 0.0..end.max(1.0) },
        Some(w) => {
            let from = (end - w).max(0.0);
            // One point before the window, so lines enter from the left edge.
            let lo = pts.partition_point(|p| p.t_s < from).saturating_sub(1);
            View { lo, hi: pts.len(), x: from..(from + w).max(end).max(from + 1.0) }
        }
    }
}

/// Splits `lo..hi` into at most `n` consecutive, non-empty index ranges.
pub fn buckets(lo: usize, hi: usize, n: usize) -> Vec<Range<usize>> {
    let len = hi.saturating_sub(lo);
    let n = n.max(1).min(len);
    (0..n).map(|k| lo + k * len / n..lo + (k + 1) * len / n).filter(|r| !r.is_empty()).collect()
}

/// A cumulative counter: its last value in each bucket.
pub fn last(points: &[Point], bs: &[Range<usize>], f: fn(&Point) -> f64) -> Vec<(f64, f64)> {
    bs.iter()
        .map(|b| {
            let p = &points[b.end - 1];
            (p.t_s, f(p))
        })
        .collect()
}

/// A gauge: its peak in each bucket, at the time of the peak.
/// (`dyn`: one copy of this in the download, not one per chart's closure.)
pub fn peak(points: &[Point], bs: &[Range<usize>], f: &dyn Fn(usize, &Point) -> f64) -> Vec<(f64, f64)> {
    bs.iter()
        .map(|b| {
            let mut best = (points[b.start].t_s, f(b.start, &points[b.start]));
            for i in b.clone() {
                let v = f(i, &points[i]);
                if v > best.1 {
                    best = (points[i].t_s, v);
                }
            }
            best
        })
        .collect()
}

/// A gauge's envelope: (time, min, max) per bucket, for a faint band behind the lines.
pub fn envelope(points: &[Point], bs: &[Range<usize>], f: fn(&Point) -> f64) -> Vec<(f64, f64, f64)> {
    bs.iter()
        .map(|b| {
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for p in &points[b.clone()] {
                let v = f(p);
                lo = lo.min(v);
                hi = hi.max(v);
            }
            (points[b.end - 1].t_s, lo, hi)
        })
        .collect()
}

/// The rate of a cumulative counter (per second), over each bucket: the difference
/// between the bucket's last point and the previous bucket's, over the time between them.
pub fn rate(points: &[Point], bs: &[Range<usize>], f: fn(&Point) -> f64) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(bs.len());
    let mut prev = bs.first().map(|b| b.start.saturating_sub(1));
    for b in bs {
        let e = b.end - 1;
        if let Some(p) = prev {
            let (a, z) = (&points[p], &points[e]);
            let dt = z.t_s - a.t_s;
            if dt > 0.0 {
                out.push((z.t_s, ((f(z) - f(a)) / dt).max(0.0)));
            }
        }
        prev = Some(e);
    }
    out
}

/// The share of time the producer spent blocked, in percent, per bucket.
pub fn blocked_percent(points: &[Point], bs: &[Range<usize>]) -> Vec<(f64, f64)> {
    rate(points, bs, |p| p.producer_blocked_s).into_iter().map(|(t, r)| (t, (r * 100.0).clamp(0.0, 100.0))).collect()
}

/// A latency percentile: its worst value per bucket; `None` where nothing was processed
/// (the line breaks there).
pub fn latency(points: &[Point], bs: &[Range<usize>], f: fn(&Point) -> Option<f64>) -> Vec<Option<(f64, f64)>> {
    bs.iter()
        .map(|b| {
            points[b.clone()].iter().filter_map(|p| f(p).map(|v| (p.t_s, v))).fold(None, |acc: Option<(f64, f64)>, x| match acc {
                Some(a) if a.1 >= x.1 => Some(a),
                _ => Some(x),
            })
        })
        .collect()
}

/// Runs of consecutive `Some`s, each a polyline.
pub fn segments(v: &[Option<(f64, f64)>]) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut cur = Vec::new();
    for x in v {
        match x {
            Some(p) => cur.push(*p),
            None if !cur.is_empty() => out.push(std::mem::take(&mut cur)),
            None => {}
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Depth of stage `stage` (channel or client depth, topic lag), its peak per bucket.
pub fn stage_depth(series: &Series, bs: &[Range<usize>], stage: usize) -> Vec<(f64, f64)> {
    if stage >= series.stages || series.stage_depth.len() < series.points.len() * series.stages {
        return Vec::new();
    }
    peak(&series.points, bs, &|i, _| series.depth_of(i, stage) as f64)
}

/// Lag over the partitions per bucket: (time, smallest, median, largest), each the
/// bucket's peak.
pub fn partition_spread(series: &Series, bs: &[Range<usize>]) -> Vec<(f64, f64, f64, f64)> {
    let n = series.partitions;
    if n == 0 || series.partition_lag.len() < series.points.len() * n {
        return Vec::new();
    }
    let mut lags = vec![0u64; n];
    bs.iter()
        .map(|b| {
            let (mut lo, mut med, mut hi) = (0.0f64, 0.0f64, 0.0f64);
            for i in b.clone() {
                for (k, l) in lags.iter_mut().enumerate() {
                    *l = series.lag_of(i, k);
                }
                let (mut mn, mut mx) = (u64::MAX, 0);
                for l in &lags {
                    mn = mn.min(*l);
                    mx = mx.max(*l);
                }
                let (_, m, _) = lags.select_nth_unstable(n / 2);
                lo = lo.max(mn as f64);
                med = med.max(*m as f64);
                hi = hi.max(mx as f64);
            }
            (series.points[b.end - 1].t_s, lo, med, hi)
        })
        .collect()
}

/// Times (s) at which an OOM kill happened within `lo..hi`, from the cumulative counter
/// `kills` (the consumer's `oom_kills`, the producer's `producer_oom_kills`).
pub fn oom_times(points: &[Point], lo: usize, hi: usize, kills: fn(&Point) -> u64) -> Vec<f64> {
    let from = lo.saturating_sub(1);
    points[from..hi].windows(2).filter(|w| kills(&w[1]) > kills(&w[0])).map(|w| w[1].t_s).collect()
}

/// Where a label of a horizontal line (a limit) goes: at which end of the plot, and on
/// which side of its line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabelPlace {
    pub left_end: bool,
    pub below: bool,
}

/// Where the labels of horizontal lines go, each at its line's height `y` (pixels, growing
/// downwards), `h` tall: above its line, where nothing but an OOM spike ever crosses (the
/// heaps rise from below), at the right end; where that would touch a label already placed
/// (limits often coincide: both at 512 MiB), at the left end; failing that, below its line
/// at the right end.
pub fn line_labels(ys: &[f64], h: f64) -> Vec<LabelPlace> {
    let mut placed: Vec<(LabelPlace, f64, f64)> = Vec::new();
    ys.iter()
        .map(|&y| {
            let clear = |left_end: bool, top: f64| placed.iter().all(|&(p, a, b)| p.left_end != left_end || top + h <= a || top >= b);
            let place = if clear(false, y - h) {
                LabelPlace { left_end: false, below: false }
            } else if clear(true, y - h) {
                LabelPlace { left_end: true, below: false }
            } else {
                LabelPlace { left_end: false, below: true }
            };
            let top = if place.below { y } else { y - h };
            placed.push((place, top, top + h));
            place
        })
        .collect()
}

/// A y-axis top: the largest value plus headroom, never 0.
pub fn top(max: f64, floor: f64) -> f64 {
    if max.is_finite() && max > 0.0 {
        (max * 1.08).max(floor)
    } else {
        floor
    }
}

/// Labels of the stages whose depth the backlog chart plots (operators hold nothing).
pub fn stage_labels(s: &Scenario) -> Vec<(usize, String)> {
    let channels = s.stages.iter().filter(|st| matches!(st, StageSpec::Channel(_))).count();
    let mut k = 0;
    s.stages
        .iter()
        .enumerate()
        .filter_map(|(i, st)| match st {
            StageSpec::Channel(_) => {
                k += 1;
                Some((i, if channels > 1 { format!("channel {k} depth") } else { "channel depth".into() }))
            }
            StageSpec::KafkaProducer(_) => Some((i, "Kafka client buffer".into())),
            StageSpec::Topic(_) => Some((i, "topic lag (log end − committed)".into())),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(n: usize, every: f64) -> Series {
        let mut s = Series::new(every, 100_000, 3, 2);
        for i in 0..n {
            let t = i as f64 * every;
            let p = Point {
                t_s: t,
                produced: (1_000.0 * t) as u64,
                consumed: (500.0 * t) as u64,
                in_flight: if i % 20 < 10 { 1_000 } else { 0 },
                producer_blocked_s: 0.25 * t,
                oom_kills: (t / 40.0) as u64,
                latency_p99_s: (i % 7 != 0).then_some(0.01 * i as f64),
                ..Point::default()
            };
            s.record(p, &[i as u64, 2 * i as u64, 3 * i as u64], &[i as u64 % 5, 7]);
        }
        s
    }

    #[test]
    fn the_window_keeps_the_last_seconds_and_a_full_axis() {
        let s = series(1_000, 0.1); // 0 .. 99.9 s
        let all = view(&s, None);
        assert_eq!((all.lo, all.hi), (0, 1_000));
        assert_eq!(all.x, 0.0..99.9);
        let last = view(&s, Some(60.0));
        assert!((s.points[last.lo].t_s - 39.8).abs() < 1e-9, "one point before 39.9 s");
        assert!((last.x.start - 39.9).abs() < 1e-9 && (last.x.end - 99.9).abs() < 1e-9);
        let short = series(50, 0.1);
        assert_eq!(view(&short, Some(60.0)).x, 0.0..60.0, "a short run shows a whole window");
        assert_eq!(view(&Series::default(), None).x, 0.0..1.0);
    }

    #[test]
    fn buckets_cover_the_range_once() {
        let bs = buckets(10, 1_010, 300);
        assert_eq!(bs.len(), 300);
        assert_eq!(bs[0].start, 10);
        assert_eq!(bs.last().unwrap().end, 1_010);
        assert!(bs.windows(2).all(|w| w[0].end == w[1].start));
        assert_eq!(buckets(0, 5, 300).len(), 5);
        assert!(buckets(3, 3, 10).is_empty());
    }

    #[test]
    fn rates_blocked_share_and_peaks_come_out_right() {
        let s = series(1_000, 0.1);
        let bs = buckets(0, 1_000, 50);
        let r = rate(&s.points, &bs, |p| p.produced as f64);
        assert!(r.iter().skip(1).all(|(_, v)| (v - 1_000.0).abs() < 11.0), "{r:?}");
        let b = blocked_percent(&s.points, &bs);
        assert!(b.iter().skip(1).all(|(_, v)| (v - 25.0).abs() < 1e-6), "{b:?}");
        // A gauge swinging 0 <-> 1000 keeps its peaks and shows as a band from 0 to 1000.
        let env = envelope(&s.points, &bs, |p| p.in_flight as f64);
        assert!(env.iter().all(|(_, lo, hi)| *lo == 0.0 && *hi == 1_000.0));
        let pk = peak(&s.points, &bs, &|_, p| p.in_flight as f64);
        assert!(pk.iter().all(|(_, v)| *v == 1_000.0));
        assert_eq!(oom_times(&s.points, 0, 1_000, |p| p.oom_kills), vec![40.0, 80.0]);
        assert!(oom_times(&s.points, 0, 1_000, |p| p.producer_oom_kills).is_empty());
    }

    #[test]
    fn labels_of_lines_at_one_height_go_to_either_end() {
        let (right, left, below) = (
            LabelPlace { left_end: false, below: false },
            LabelPlace { left_end: true, below: false },
            LabelPlace { left_end: false, below: true },
        );
        // Two limits at the same height: both above their line, at either end.
        assert_eq!(line_labels(&[100.0, 100.0], 14.0), vec![right, left]);
        // Far apart, both at the right end; close, the second at the left end.
        assert_eq!(line_labels(&[100.0, 40.0], 14.0), vec![right, right]);
        assert_eq!(line_labels(&[100.0, 95.0], 14.0), vec![right, left]);
        // A third at the same height: below its line.
        assert_eq!(line_labels(&[100.0, 100.0, 100.0], 14.0), vec![right, left, below]);
    }

    #[test]
    fn latency_breaks_where_nothing_was_processed_and_stages_and_partitions_read_out() {
        let s = series(100, 0.1);
        let bs = buckets(0, 100, 100);
        let l = latency(&s.points, &bs, |p| p.latency_p99_s);
        assert!(l[0].is_none() && l[1].is_some() && l[7].is_none());
        assert_eq!(segments(&l).len(), 15);
        let d = stage_depth(&s, &bs, 1);
        assert!(d.iter().all(|(_, v)| *v == 7.0));
        let spread = partition_spread(&s, &bs);
        assert_eq!(spread[10], (1.0, 10.0, 20.0, 30.0));
    }

    #[test]
    fn stage_labels_name_what_holds_messages() {
        let incident = bplab_engine::preset("incident-106").unwrap();
        let labels = stage_labels(&incident);
        assert!(labels.iter().any(|(_, l)| l == "topic lag (log end − committed)"), "{labels:?}");
        let mut two = incident;
        let channel = bplab_engine::preset("fix-blocking-channel").unwrap().stages[0].clone();
        two.stages = vec![channel.clone(), channel];
        assert_eq!(stage_labels(&two), vec![(0, "channel 1 depth".to_string()), (1, "channel 2 depth".to_string())]);
        two.stages.truncate(1);
        assert_eq!(stage_labels(&two), vec![(0, "channel depth".to_string())]);
    }
}
