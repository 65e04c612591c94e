//! Goals: conditions on a finished run, as teachers write them (`lost == 0`,
//! `throughput_msgs_per_s >= 4500`, `heap_bytes <= 512 MiB`, `lag <= 10k`), parsed, checked
//! and explained: pass or fail, the value measured, the margin, and when it first broke.
//!
//! A goal is `[at_end | at_all_times] METRIC OP VALUE [UNIT]`. A metric is either a field
//! of the run's [`Summary`] (nested ones with dots: `lost_by_cause.after_commit`), read
//! **at the end** of the run, or a column of its [`Series`], checked **at all times** (at
//! every recorded point; a point's gauges are the largest over the samples it stands for,
//! so peaks are not missed). Without a prefix a name picks its own kind: the gauges that go
//! up and down (`lag`, `heap_bytes`, `in_flight`, ...: [`GAUGES`]) are checked at all
//! times, everything else (counters, percentiles over the run, rates) at the end.
//! `docs/challenges.md` lists every name with its kind and unit.
//!
//! Units are what a name ends with: `_bytes` bytes, `_per_s` messages per second, `_s`
//! seconds, `_fraction` a share of what was produced, anything else a count. A value may
//! carry a unit written as people write it (`512 MiB`, `2 s`, `250 ms`, `10k`, `4.5k msg/s`,
//! `5 %`); a unit that does not fit the metric is an error naming both.
//!
//! Evaluation is a pass over the series' points (at most `max_points`), nothing per message.

use crate::experiment::{json_number, Numbers};
use crate::series::{Point, Series};
use crate::snapshot::Summary;
use serde::Serialize;
use std::fmt;

/// A comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Cmp {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = "!=")]
    Ne,
}

impl Cmp {
    pub fn symbol(self) -> &'static str {
        match self {
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Eq => "==",
            Cmp::Ge => ">=",
            Cmp::Gt => ">",
            Cmp::Ne => "!=",
        }
    }

    /// Whether `value OP target` holds.
    pub fn holds(self, value: f64, target: f64) -> bool {
        match self {
            Cmp::Lt => value < target,
            Cmp::Le => value <= target,
            Cmp::Eq => value == target,
            Cmp::Ge => value >= target,
            Cmp::Gt => value > target,
            Cmp::Ne => value != target,
        }
    }

    /// How far `value` is on the passing side of `target` (negative: by how much it
    /// missed), in the metric's unit.
    pub fn margin(self, value: f64, target: f64) -> f64 {
        match self {
            Cmp::Lt | Cmp::Le => target - value,
            Cmp::Ge | Cmp::Gt => value - target,
            Cmp::Eq => 0.0 - (value - target).abs(),
            Cmp::Ne => (value - target).abs(),
        }
    }
}

/// What a metric measures, from the end of its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dim {
    Count,
    Bytes,
    Seconds,
    /// Messages per second.
    Rate,
    /// A share (0 to 1) of the messages produced.
    Fraction,
}

impl Dim {
    pub fn of(name: &str) -> Dim {
        if name.ends_with("_bytes") {
            Dim::Bytes
        } else if name.ends_with("_per_s") {
            Dim::Rate
        } else if name.ends_with("_s") {
            Dim::Seconds
        } else if name.ends_with("_fraction") {
            Dim::Fraction
        } else {
            Dim::Count
        }
    }

    /// The units a value of this kind may be written with.
    pub fn units(self) -> &'static str {
        match self {
            Dim::Count => "k, M (10k = 10,000)",
            Dim::Bytes => "B, KB, MB, GB, KiB, MiB, GiB",
            Dim::Seconds => "ms, s, min, h",
            Dim::Rate => "k, M, /s, msg/s (4.5k msg/s)",
            Dim::Fraction => "% (5 % = 0.05)",
        }
    }
}

/// When a goal is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum When {
    /// The summary's value at the end of the run.
    AtEnd,
    /// The series' value at every recorded point.
    AtAllTimes,
}

/// A parsed goal.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Goal {
    /// The goal as written.
    pub text: String,
    pub metric: String,
    pub when: When,
    pub cmp: Cmp,
    /// The target in the metric's base unit (bytes, seconds, messages, msg/s, a fraction).
    pub target: f64,
    pub dim: Dim,
}

/// Series columns that go up and down: a goal on one of these names is checked at all
/// times unless it says `at_end`.
pub const GAUGES: &[&str] = &[
    "channel_depth",
    "lag",
    "unfetched",
    "fetch_cache",
    "in_flight",
    "heap_bytes",
    "permits",
    "concurrency_limit",
    "producer_rate_per_s",
    "producer_heap_bytes",
];

/// How a series column is read from a point.
pub type Read = fn(&Point) -> Option<f64>;

/// A series column and how to read it from a point (every field of [`Point`] but `t_s`; a
/// test checks the list against the struct).
pub const SERIES: &[(&str, Read)] = &[
    ("produced", |p| Some(p.produced as f64)),
    ("consumed", |p| Some(p.consumed as f64)),
    ("dropped", |p| Some(p.dropped as f64)),
    ("lost", |p| Some(p.lost as f64)),
    ("duplicated", |p| Some(p.duplicated as f64)),
    ("channel_depth", |p| Some(p.channel_depth as f64)),
    ("lag", |p| Some(p.lag as f64)),
    ("unfetched", |p| Some(p.unfetched as f64)),
    ("fetch_cache", |p| Some(p.fetch_cache as f64)),
    ("in_flight", |p| Some(p.in_flight as f64)),
    ("heap_bytes", |p| Some(p.heap_bytes as f64)),
    ("permits", |p| Some(p.permits as f64)),
    ("concurrency_limit", |p| Some(p.concurrency_limit as f64)),
    ("producer_rate_per_s", |p| Some(p.producer_rate_per_s)),
    ("oom_kills", |p| Some(p.oom_kills as f64)),
    ("producer_heap_bytes", |p| Some(p.producer_heap_bytes as f64)),
    ("producer_oom_kills", |p| Some(p.producer_oom_kills as f64)),
    ("producer_blocked_s", |p| Some(p.producer_blocked_s)),
    ("latency_p50_s", |p| p.latency_p50_s),
    ("latency_p95_s", |p| p.latency_p95_s),
    ("latency_p99_s", |p| p.latency_p99_s),
    ("call_rtt_p99_s", |p| p.call_rtt_p99_s),
];

/// Summary fields whose running value the series records: the same counter, or the
/// largest of a gauge so far. An end goal on one of these says when it first broke for
/// good; on any other, "at the end".
const RUNNING: &[(&str, &str, bool)] = &[
    ("produced", "produced", false),
    ("consumed", "consumed", false),
    ("dropped", "dropped", false),
    ("lost", "lost", false),
    ("duplicated", "duplicated", false),
    ("oom_kills", "oom_kills", false),
    ("producer_oom_kills", "producer_oom_kills", false),
    ("producer_blocked_s", "producer_blocked_s", false),
    ("max_heap_bytes", "heap_bytes", true),
    ("max_in_flight", "in_flight", true),
    ("max_lag", "lag", true),
    ("max_producer_heap_bytes", "producer_heap_bytes", true),
];

/// Derived end metrics (not fields of the summary): shares of what was produced.
pub const DERIVED: &[&str] = &["dropped_fraction", "lost_fraction", "consumed_fraction"];

fn series_column(name: &str) -> Option<Read> {
    SERIES.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// The summary's numeric fields by dotted name (nested tables flattened:
/// `lost_by_cause.after_commit`, `ledger.in_topic`), in alphabetical order, then the
/// derived ones.
pub fn end_metric_names() -> Vec<String> {
    let mut out = Vec::new();
    Summary::default().metrics(&mut |k, _| out.push(k.to_string()));
    out.sort_unstable();
    out.extend(DERIVED.iter().map(|d| d.to_string()));
    out
}

/// Every metric name a goal may use: the summary's (at the end) and the series' (at all
/// times), each once.
pub fn metric_names() -> Vec<String> {
    let mut names = end_metric_names();
    for (n, _) in SERIES {
        if !names.iter().any(|x| x == n) {
            names.push(n.to_string());
        }
    }
    names
}

/// The value of an end metric in a summary (`None`: the summary has no value, as a
/// latency before anything was processed, or no such metric).
pub fn end_value(summary: &Summary, metric: &str) -> Option<f64> {
    let share = |n: u64| (summary.produced > 0).then(|| n as f64 / summary.produced as f64);
    match metric {
        "dropped_fraction" => return share(summary.dropped),
        "lost_fraction" => return share(summary.lost),
        "consumed_fraction" => return share(summary.consumed),
        _ => {}
    }
    let mut found = None;
    summary.metrics(&mut |k, v| {
        if k == metric {
            found = v;
        }
    });
    found
}

/// A goal that could not be read: what was wrong, in one line.
#[derive(Clone, Debug, PartialEq)]
pub struct GoalError(pub String);

impl fmt::Display for GoalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads a goal. Errors say what was wrong; an unknown metric lists the known ones.
pub fn parse(text: &str) -> Result<Goal, GoalError> {
    parse_with(text, Numbers::RUST.parse)
}

/// [`parse`], with its numbers read by `number` (JSON's number syntax is checked first):
/// the page passes the browser's own parser, which costs its download nothing.
pub fn parse_with(text: &str, number: fn(&str) -> Option<f64>) -> Result<Goal, GoalError> {
    let err = |m: String| Err(GoalError(m));
    let t = text.trim();
    let (when, rest) = split_when(t);
    const OPS: [(&str, Cmp); 6] = [("<=", Cmp::Le), (">=", Cmp::Ge), ("==", Cmp::Eq), ("!=", Cmp::Ne), ("<", Cmp::Lt), (">", Cmp::Gt)];
    let Some(at) = rest.find(['<', '>', '=', '!']) else {
        return err(format!("\"{t}\": no comparison; write METRIC OP VALUE with OP one of <, <=, ==, >=, >, != (lost == 0)"));
    };
    let (metric, tail) = (rest[..at].trim(), &rest[at..]);
    let Some((sym, cmp)) = OPS.iter().find(|(s, _)| tail.starts_with(s)) else {
        return err(format!("\"{t}\": unknown comparison; use <, <=, ==, >=, > or != (= alone is not one: write ==)"));
    };
    let value = tail[sym.len()..].trim();
    if metric.is_empty() {
        return err(format!("\"{t}\": no metric before {sym}"));
    }
    let (when, dim) = metric_kind(metric, when)?;
    let target = parse_value_with(value, dim, number).map_err(|m| GoalError(format!("{metric}: {m}")))?;
    Ok(Goal { text: t.to_string(), metric: metric.to_string(), when, cmp: *cmp, target, dim })
}

/// What a metric name is: when it is read (as asked, or its own default) and its unit.
/// Errors say what was wrong; an unknown name lists the known ones.
pub fn metric_kind(metric: &str, asked: Option<When>) -> Result<(When, Dim), GoalError> {
    let err = |m: String| Err(GoalError(m));
    let in_series = series_column(metric).is_some();
    let at_end = end_metric_names().iter().any(|n| n == metric);
    let when = match asked {
        Some(When::AtAllTimes) if !in_series => {
            let cols: Vec<&str> = SERIES.iter().map(|(n, _)| *n).collect();
            return err(format!("\"{metric}\" is not recorded over time; at_all_times takes a series column: {}", cols.join(", ")));
        }
        Some(When::AtEnd) if !at_end => {
            return err(format!("\"{metric}\" has no end value; at_end takes a summary field: {}", end_metric_names().join(", ")));
        }
        Some(w) => w,
        None if in_series && (GAUGES.contains(&metric) || !at_end) => When::AtAllTimes,
        None if at_end => When::AtEnd,
        None => return err(format!("unknown metric \"{metric}\"; known: {}", metric_names().join(", "))),
    };
    Ok((when, Dim::of(metric)))
}

/// Splits an optional `at_end ` / `at_all_times ` prefix off a goal or metric.
pub fn split_when(text: &str) -> (Option<When>, &str) {
    let t = text.trim();
    if let Some(r) = t.strip_prefix("at_end ") {
        (Some(When::AtEnd), r.trim_start())
    } else if let Some(r) = t.strip_prefix("at_all_times ") {
        (Some(When::AtAllTimes), r.trim_start())
    } else {
        (None, t)
    }
}

/// A metric's value in a run: the end value (at the end), or its peak over the run (at all
/// times), with the time it was recorded.
pub fn measure(metric: &str, when: When, summary: &Summary, series: &Series) -> Option<(f64, f64)> {
    match when {
        When::AtEnd => end_value(summary, metric).map(|v| (v, summary.t_s)),
        When::AtAllTimes => {
            let f = series_column(metric)?;
            let mut best: Option<(f64, f64)> = None;
            for p in &series.points {
                if let Some(v) = f(p) {
                    if best.is_none_or(|(b, _)| v > b) {
                        best = Some((v, p.t_s));
                    }
                }
            }
            best
        }
    }
}

/// A number with an optional unit, in `dim`'s base unit: `512 MiB` → 536870912, `250 ms` →
/// 0.25, `10k` → 10000, `5 %` → 0.05. Thousands may be grouped with `_` or `,`.
pub fn parse_value(text: &str, dim: Dim) -> Result<f64, String> {
    parse_value_with(text, dim, Numbers::RUST.parse)
}

/// [`parse_value`], with the number read by `number` (see [`parse_with`]).
pub fn parse_value_with(text: &str, dim: Dim, number: fn(&str) -> Option<f64>) -> Result<f64, String> {
    let t = text.trim();
    let end = number_end(t);
    let digits: String = t[..end].chars().filter(|c| *c != '_' && *c != ',').collect();
    let Some(x) = json_number(&digits).then(|| number(&digits)).flatten().filter(|x| x.is_finite()) else {
        return Err(format!("\"{t}\" is not a number with a unit (units here: {})", dim.units()));
    };
    let unit = t[end..].trim();
    let scale = match (dim, unit) {
        (_, "") => Some(1.0),
        (Dim::Count | Dim::Rate, "k") => Some(1e3),
        (Dim::Count | Dim::Rate, "M") => Some(1e6),
        (Dim::Count, "msg" | "messages") => Some(1.0),
        (Dim::Rate, "/s" | "msg/s") => Some(1.0),
        (Dim::Rate, "k/s" | "k msg/s") => Some(1e3),
        (Dim::Rate, "M/s" | "M msg/s") => Some(1e6),
        (Dim::Bytes, "B") => Some(1.0),
        (Dim::Bytes, "KB") => Some(1e3),
        (Dim::Bytes, "MB") => Some(1e6),
        (Dim::Bytes, "GB") => Some(1e9),
        (Dim::Bytes, "KiB") => Some(1024.0),
        (Dim::Bytes, "MiB") => Some(1024.0 * 1024.0),
        (Dim::Bytes, "GiB") => Some(1024.0 * 1024.0 * 1024.0),
        (Dim::Seconds, "ms") => Some(1e-3),
        (Dim::Seconds, "s") => Some(1.0),
        (Dim::Seconds, "min") => Some(60.0),
        (Dim::Seconds, "h") => Some(3600.0),
        (Dim::Fraction, "%") => Some(0.01),
        _ => None,
    };
    match scale {
        Some(s) => Ok(x * s),
        None => Err(format!("unit \"{unit}\" does not fit: this metric is {} (units: {})", dim_word(dim), dim.units())),
    }
}

fn dim_word(dim: Dim) -> &'static str {
    match dim {
        Dim::Count => "a count of messages",
        Dim::Bytes => "in bytes",
        Dim::Seconds => "in seconds",
        Dim::Rate => "messages per second",
        Dim::Fraction => "a share of what was produced",
    }
}

/// Where a number's text ends: digits, `.`, `_`, `,`, a leading sign and an exponent
/// (`e` followed by a digit or a sign).
fn number_end(t: &str) -> usize {
    let b = t.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b'_' || b[i] == b',') {
        i += 1;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'-' || b[j] == b'+') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            i = j;
        }
    }
    i
}

/// A goal checked against a finished run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    /// The goal as written.
    pub goal: String,
    pub metric: String,
    pub when: When,
    pub dim: Dim,
    pub pass: bool,
    /// The end value (at the end), or the worst value over the run (at all times); `None`
    /// when the run has none (a latency when nothing was processed: the goal fails).
    pub measured: Option<f64>,
    /// When the worst value was recorded (at all times) or the end (at the end), seconds.
    pub measured_at_s: Option<f64>,
    /// How far the measured value is on the passing side of the target: negative is by how
    /// much it missed, in the metric's unit.
    pub margin: Option<f64>,
    /// The simulated time it first broke: at all times, the first point that broke it; at
    /// the end, for a failed goal whose running value the series records, the time from
    /// which it stayed broken to the end. `None` when it never broke or the series does not
    /// record it (then it broke "at the end").
    pub first_violation_s: Option<f64>,
}

impl Outcome {
    /// The outcome in words, as the page and `bplab check` both say it: the value with its
    /// unit, the margin (or how much it missed by), and when it first broke
    /// (`worst 512 MiB at 48.3 s; missed by 412 MiB; first broke at 3.9 s`).
    pub fn describe(&self, duration_s: f64) -> String {
        let v = |x: f64| format_value(x, self.dim);
        let measured = match (self.measured, self.when) {
            (None, _) => "no value in this run".to_string(),
            (Some(m), When::AtEnd) => format!("{} at the end", v(m)),
            (Some(m), When::AtAllTimes) => format!("worst {} at {}", v(m), format_value(self.measured_at_s.unwrap_or(0.0), Dim::Seconds)),
        };
        let margin = match self.margin {
            Some(m) if self.pass => format!("; margin {}", v(m)),
            Some(m) => format!("; missed by {}", v(m.abs())),
            None => String::new(),
        };
        let broke = match (self.pass, self.first_violation_s) {
            (true, _) => String::new(),
            (false, Some(t)) => format!("; first broke at {}", format_value(t, Dim::Seconds)),
            (false, None) => format!("; broke at the end ({})", format_value(duration_s, Dim::Seconds)),
        };
        format!("{measured}{margin}{broke}")
    }
}

impl Goal {
    /// Checks the goal against a run's summary and series.
    pub fn evaluate(&self, summary: &Summary, series: &Series) -> Outcome {
        let mut out = Outcome {
            goal: self.text.clone(),
            metric: self.metric.clone(),
            when: self.when,
            dim: self.dim,
            pass: false,
            measured: None,
            measured_at_s: None,
            margin: None,
            first_violation_s: None,
        };
        match self.when {
            When::AtEnd => {
                out.measured = end_value(summary, &self.metric);
                out.measured_at_s = Some(summary.t_s);
                if let Some(v) = out.measured {
                    out.pass = self.cmp.holds(v, self.target);
                    out.margin = Some(self.cmp.margin(v, self.target));
                }
                if !out.pass {
                    out.first_violation_s = self.broken_since(series);
                }
            }
            When::AtAllTimes => {
                let f = series_column(&self.metric).expect("parse checked the column");
                let mut worst: Option<(f64, f64, f64)> = None; // (margin, value, t)
                let mut first = None;
                for p in &series.points {
                    let Some(v) = f(p) else { continue };
                    let m = self.cmp.margin(v, self.target);
                    if first.is_none() && !self.cmp.holds(v, self.target) {
                        first = Some(p.t_s);
                    }
                    if worst.is_none_or(|(wm, _, _)| m < wm) {
                        worst = Some((m, v, p.t_s));
                    }
                }
                if let Some((m, v, t)) = worst {
                    out.measured = Some(v);
                    out.measured_at_s = Some(t);
                    out.margin = Some(m);
                    out.pass = first.is_none();
                }
                out.first_violation_s = first;
            }
        }
        out
    }

    /// For an end goal the series records the running value of: the start of the last
    /// stretch of points that break it (it broke then and never recovered).
    fn broken_since(&self, series: &Series) -> Option<f64> {
        let &(_, column, running_max) = RUNNING.iter().find(|(m, _, _)| *m == self.metric)?;
        let f = series_column(column)?;
        let mut since = None;
        let mut peak = f64::NEG_INFINITY;
        for p in &series.points {
            let Some(mut v) = f(p) else { continue };
            if running_max {
                peak = peak.max(v);
                v = peak;
            }
            if self.cmp.holds(v, self.target) {
                since = None;
            } else if since.is_none() {
                since = Some(p.t_s);
            }
        }
        since
    }
}

/// A value with its unit, for people: `448 MiB`, `48.3 s`, `250 ms`, `9,500 msg/s`,
/// `459,000`, `12.5 %`.
pub fn format_value(v: f64, dim: Dim) -> String {
    match dim {
        Dim::Bytes => {
            const K: f64 = 1024.0;
            let a = v.abs();
            if a >= K * K * K {
                format!("{} GiB", sig(v / (K * K * K)))
            } else if a >= K * K {
                format!("{} MiB", sig(v / (K * K)))
            } else if a >= K {
                format!("{} KiB", sig(v / K))
            } else {
                format!("{} B", sig(v))
            }
        }
        Dim::Seconds if v != 0.0 && v.abs() < 1.0 => format!("{} ms", sig(v * 1e3)),
        Dim::Seconds => format!("{} s", sig(v)),
        Dim::Rate => format!("{} msg/s", grouped(v)),
        Dim::Fraction => format!("{} %", sig(v * 100.0)),
        Dim::Count => grouped(v),
    }
}

/// Three significant digits at least, never in exponent form: 48.3, 0.125, 448, 1536.
fn sig(v: f64) -> String {
    let a = v.abs();
    let decimals = if a == 0.0 || a >= 100.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        3
    };
    trim_zeros(fixed(v, decimals))
}

/// `v` with `decimals` digits after the point, rounded half away from zero. Integer
/// arithmetic rather than `format!("{v:.1}")`: the page shows these texts, and Rust's
/// float formatting would add its tables to the download.
fn fixed(v: f64, decimals: u32) -> String {
    let scale = 10u64.pow(decimals);
    let scaled = (v.abs() * scale as f64).round();
    if !scaled.is_finite() || scaled >= 1e18 {
        return (v as i128).to_string();
    }
    let scaled = scaled as u64;
    let sign = if v < 0.0 && scaled != 0 { "-" } else { "" };
    let (int, frac) = (scaled / scale, scaled % scale);
    if decimals == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac:0width$}", width = decimals as usize)
    }
}

fn trim_zeros(text: String) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// A number with thousands grouped (`459,000`, `4,512.5`); fractions of small numbers kept.
fn grouped(v: f64) -> String {
    if v.abs() < 100.0 && v.fract() != 0.0 {
        return sig(v);
    }
    let text = trim_zeros(fixed(v, 1));
    let (int, frac) = text.split_once('.').map_or((text.as_str(), ""), |(i, f)| (i, f));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut out = String::from(sign);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every numeric figure of the JSON summary, by dotted name (the CLI's contract).
    fn json_figures(v: &serde_json::Value, path: &str, out: &mut Vec<(String, Option<f64>)>) {
        for (k, x) in v.as_object().unwrap() {
            let name = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
            match x {
                serde_json::Value::Object(_) => json_figures(x, &name, out),
                serde_json::Value::Number(n) => out.push((name, n.as_f64())),
                serde_json::Value::Null => out.push((name, None)),
                _ => {}
            }
        }
    }

    #[test]
    fn summary_metrics_are_the_json_summary_figures() {
        let mut sim = crate::Simulation::new(&crate::preset("incident-106").unwrap()).unwrap();
        sim.run_until(60.0, u64::MAX);
        let summary = sim.summary();
        let mut json = Vec::new();
        json_figures(&serde_json::to_value(&summary).unwrap(), "", &mut json);
        let mut ours = Vec::new();
        summary.metrics(&mut |k, v| ours.push((k.to_string(), v)));
        json.sort_by(|a, b| a.0.cmp(&b.0));
        ours.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(ours, json);
        assert!(ours.iter().any(|(k, v)| k == "first_oom_s" && v.is_some()));
    }

    fn series(points: &[(f64, u64, u64)]) -> Series {
        let mut s = Series::new(1.0, 1024, 0, 0);
        for &(t, lag, lost) in points {
            s.record(Point { t_s: t, lag, lost, heap_bytes: lag * 1024, ..Point::default() }, &[], &[]);
        }
        s
    }

    #[test]
    fn goals_read_as_written_with_units() {
        let g = parse("heap_bytes <= 512 MiB").unwrap();
        assert_eq!((g.when, g.cmp, g.target, g.dim), (When::AtAllTimes, Cmp::Le, 536_870_912.0, Dim::Bytes));
        let g = parse("lag <= 10k").unwrap();
        assert_eq!((g.when, g.target), (When::AtAllTimes, 10_000.0));
        let g = parse("latency_p99_s <= 250 ms").unwrap();
        assert_eq!((g.when, g.target), (When::AtEnd, 0.25));
        let g = parse("throughput_msgs_per_s >= 4.5k msg/s").unwrap();
        assert_eq!((g.when, g.target, g.dim), (When::AtEnd, 4_500.0, Dim::Rate));
        assert_eq!(parse("lost == 0").unwrap().when, When::AtEnd);
        assert_eq!(parse("dropped_fraction <= 5 %").unwrap().target, 0.05);
        assert_eq!(parse("lost_by_cause.after_commit == 0").unwrap().when, When::AtEnd);
        assert_eq!(
            parse("at_end lag <= 1,000").unwrap(),
            Goal {
                text: "at_end lag <= 1,000".into(),
                metric: "lag".into(),
                when: When::AtEnd,
                cmp: Cmp::Le,
                target: 1000.0,
                dim: Dim::Count
            }
        );
        assert_eq!(parse("at_all_times latency_p99_s < 2").unwrap().when, When::AtAllTimes);
        assert_eq!(parse("first_oom_s > 1e2").unwrap().target, 100.0);
    }

    #[test]
    fn bad_goals_say_what_is_wrong() {
        let e = parse("heap <= 5").unwrap_err().0;
        assert!(e.contains("unknown metric \"heap\"") && e.contains("heap_bytes") && e.contains("throughput_msgs_per_s"), "{e}");
        let e = parse("heap_bytes <= 2 s").unwrap_err().0;
        assert!(e.starts_with("heap_bytes: unit \"s\" does not fit: this metric is in bytes"), "{e}");
        assert!(parse("lost = 0").unwrap_err().0.contains("write =="));
        assert!(parse("lost").unwrap_err().0.contains("no comparison"));
        assert!(parse("lost == lots").unwrap_err().0.contains("not a number"));
        assert!(parse("at_all_times throughput_msgs_per_s >= 1").unwrap_err().0.contains("not recorded over time"));
        assert!(parse("at_end unfetched <= 1").unwrap_err().0.contains("no end value"));
    }

    #[test]
    fn every_point_field_is_a_series_column_and_every_name_has_a_home() {
        let v = serde_json::to_value(Point::default()).unwrap();
        let mut fields: Vec<String> = v.as_object().unwrap().keys().filter(|k| *k != "t_s").cloned().collect();
        let mut cols: Vec<String> = SERIES.iter().map(|(n, _)| n.to_string()).collect();
        fields.sort();
        cols.sort();
        assert_eq!(fields, cols);
        for g in GAUGES {
            assert!(series_column(g).is_some(), "{g}");
        }
        for (m, c, _) in RUNNING {
            assert!(end_metric_names().iter().any(|n| n == m) && series_column(c).is_some(), "{m}");
        }
        for n in metric_names() {
            parse(&format!("{n} >= 0")).unwrap_or_else(|e| panic!("{n}: {e}"));
        }
    }

    #[test]
    fn all_times_goals_give_the_worst_value_and_the_first_violation() {
        let s = series(&[(0.0, 0, 0), (1.0, 5_000, 0), (2.0, 12_000, 0), (3.0, 20_000, 3), (4.0, 8_000, 3)]);
        let o = parse("lag <= 10k").unwrap().evaluate(&Summary::default(), &s);
        assert!(!o.pass);
        assert_eq!((o.measured, o.measured_at_s, o.margin, o.first_violation_s), (Some(20_000.0), Some(3.0), Some(-10_000.0), Some(2.0)));
        let o = parse("lag <= 25k").unwrap().evaluate(&Summary::default(), &s);
        assert!(o.pass && o.first_violation_s.is_none() && o.margin == Some(5_000.0), "{o:?}");
        let o = parse("heap_bytes < 30 MiB").unwrap().evaluate(&Summary::default(), &s);
        assert!(o.pass, "{o:?}");
    }

    #[test]
    fn end_goals_use_the_summary_and_say_since_when_they_broke() {
        let s = series(&[(0.0, 0, 0), (1.0, 0, 0), (2.0, 0, 5), (3.0, 0, 9)]);
        let sum = Summary { t_s: 3.0, lost: 9, produced: 100, dropped: 10, ..Summary::default() };
        let o = parse("lost == 0").unwrap().evaluate(&sum, &s);
        assert!(!o.pass);
        assert_eq!((o.measured, o.margin, o.first_violation_s), (Some(9.0), Some(-9.0), Some(2.0)));
        let o = parse("dropped_fraction <= 5 %").unwrap().evaluate(&sum, &s);
        assert!(!o.pass && o.measured == Some(0.1) && o.first_violation_s.is_none(), "{o:?}");
        // No value: a latency before anything was processed fails the goal.
        let o = parse("latency_p99_s <= 2 s").unwrap().evaluate(&sum, &s);
        assert!(!o.pass && o.measured.is_none());
        assert!(parse("lost <= 9").unwrap().evaluate(&sum, &s).pass);
    }

    #[test]
    fn values_print_with_their_units() {
        assert_eq!(format_value(448.0 * 1024.0 * 1024.0, Dim::Bytes), "448 MiB");
        assert_eq!(format_value(48.3, Dim::Seconds), "48.3 s");
        assert_eq!(format_value(0.25, Dim::Seconds), "250 ms");
        assert_eq!(format_value(459_000.0, Dim::Count), "459,000");
        assert_eq!(format_value(-9_500.0, Dim::Rate), "-9,500 msg/s");
        assert_eq!(format_value(0.125, Dim::Fraction), "12.5 %");
        assert_eq!(format_value(4512.5, Dim::Rate), "4,512.5 msg/s");
    }
}
