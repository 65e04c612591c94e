//! Sweeps: one scenario run over a grid of one or two knobs, each point read out as a few
//! metrics and a region (stable, lagging, blocking, shedding, losing, OOM).
//!
//! A sweep is a base scenario (a preset and its changes, as a link holds them), one or two
//! axes (`vary`: a dotted path as `--set` takes it, from, to, steps, linear or log) and the
//! metrics to read from each point's [`Summary`]. The run length is the base scenario's
//! `duration_s`. Points are built with [`experiment::set`], the `--set` vocabulary, so a
//! point is exactly the scenario `bplab run --set PATH=VALUE` runs; an integer field
//! (`consumer.workers`) takes the nearest whole number, and the plan says so. A point that
//! does not validate (`consumer.workers=0`) is reported as such, naming the field.
//!
//! [`Sweep::run`] runs one point (the CLI runs points on threads, the page in budgeted
//! slices: [`Sweep::start`] and [`Sweep::finish`] split a point's run too); nothing here
//! keeps state between points, so the results do not depend on the order or the number of
//! threads. A sweep is a link: the codec's query plus `vary=PATH:FROM:TO:STEPS[:log]` (once
//! per axis) and `metric=NAME,NAME`; [`decode`] reads back exactly what [`encode`] wrote.
//! `docs/sweeps.md` gives the rules.

use crate::experiment::{self, Problem, ViewState};
use crate::presets::preset;
use crate::scenario::Scenario;
use crate::sim::Simulation;
use crate::snapshot::Summary;
use serde::Serialize;
use serde_json::Value;

/// At most this many points in one sweep.
pub const MAX_POINTS: usize = 100_000;

/// Steps on one axis: from 1 (just `from`) to this.
pub const MAX_STEPS: u32 = 1_000;

/// Metrics written when a sweep names none.
pub const DEFAULT_METRICS: &[&str] = &["first_oom_s", "lost", "dropped_pct", "latency_p99_s"];

/// Friendly names for metrics, and the name each stands for.
pub const ALIASES: &[(&str, &str)] = &[
    ("oom", "first_oom_s"),
    ("first_oom", "first_oom_s"),
    ("time_to_oom", "first_oom_s"),
    ("loss", "lost"),
    ("dropped%", "dropped_pct"),
    ("drop_pct", "dropped_pct"),
    ("p99", "latency_p99_s"),
    ("latency_p99", "latency_p99_s"),
    ("p50", "latency_p50_s"),
    ("heap", "max_heap_bytes"),
    ("max_heap", "max_heap_bytes"),
    ("throughput", "throughput_msgs_per_s"),
    ("blocked", "producer_blocked_pct"),
    ("blocked%", "producer_blocked_pct"),
    ("blocked_pct", "producer_blocked_pct"),
    ("kills", "oom_kills"),
];

/// Metrics computed from the summary (every other metric is a number field of [`Summary`]).
pub const DERIVED: &[(&str, &str)] = &[
    ("dropped_pct", "dropped as a percentage of produced (null when nothing was produced)"),
    ("producer_blocked_pct", "producer_blocked_s as a percentage of the run (t_s)"),
];

/// How the steps of an axis are spaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    Linear,
    /// Equal ratios: `from · (to/from)^(i/(steps−1))`; both ends above zero.
    Log,
}

/// One knob varied: `path` from `from` to `to` (both included) in `steps` points.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Axis {
    pub path: String,
    pub from: f64,
    pub to: f64,
    pub steps: u32,
    pub scale: Scale,
}

impl Axis {
    /// Reads `FROM:TO:STEPS[:log|:linear]` for `path` (the CLI's `PATH=…`, a link's `PATH:…`).
    pub fn parse(path: &str, range: &str) -> Result<Axis, Problem> {
        let bad = |m: &str| Problem { key: path.to_string(), message: m.to_string() };
        let path = path.trim();
        if path.is_empty() {
            return Err(Problem { key: "vary".into(), message: "no field to vary (PATH=FROM:TO:STEPS[:log])".into() });
        }
        let parts: Vec<&str> = range.split(':').map(str::trim).collect();
        if !(3..=4).contains(&parts.len()) {
            return Err(bad("expected FROM:TO:STEPS or FROM:TO:STEPS:log"));
        }
        let num = |s: &str, what: &str| {
            serde_json::from_str::<f64>(s)
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| bad(&format!("{what} must be a number (got \"{s}\")")))
        };
        let (from, to) = (num(parts[0], "FROM")?, num(parts[1], "TO")?);
        let steps = parts[2]
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_STEPS).contains(n))
            .ok_or_else(|| bad(&format!("STEPS must be a whole number from 1 to {MAX_STEPS} (got \"{}\")", parts[2])))?;
        let scale = match parts.get(3).copied() {
            None | Some("lin") | Some("linear") => Scale::Linear,
            Some("log") => Scale::Log,
            Some(other) => return Err(bad(&format!("scale must be log or linear (got \"{other}\")"))),
        };
        if scale == Scale::Log && (from <= 0.0 || to <= 0.0) {
            return Err(bad("a log axis needs FROM and TO above zero"));
        }
        Ok(Axis { path: path.to_string(), from, to, steps, scale })
    }

    /// `FROM:TO:STEPS[:log]`, as [`Axis::parse`] reads it.
    pub fn range_text(&self) -> String {
        let log = if self.scale == Scale::Log { ":log" } else { "" };
        format!("{}:{}:{}{log}", experiment::number(self.from), experiment::number(self.to), self.steps)
    }

    /// The axis' values before rounding: the ends exact, the steps between them equal
    /// (linear) or in equal ratios (log).
    pub fn raw_values(&self) -> Vec<f64> {
        let n = self.steps as usize;
        (0..n)
            .map(|i| {
                if i == 0 || n == 1 {
                    return self.from;
                }
                if i == n - 1 {
                    return self.to;
                }
                let f = i as f64 / (n - 1) as f64;
                match self.scale {
                    Scale::Linear => self.from + (self.to - self.from) * f,
                    Scale::Log => (self.from.ln() + (self.to.ln() - self.from.ln()) * f).exp(),
                }
            })
            .collect()
    }
}

/// What to sweep: the base experiment, the axes and the metrics.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSpec {
    /// The preset the base scenario's link starts from.
    pub preset: String,
    /// The scenario every point starts from (its `duration_s` is the run length).
    pub base: Scenario,
    /// One or two.
    pub axes: Vec<Axis>,
    /// Canonical metric names ([`metric_name`]), in output order.
    pub metrics: Vec<String>,
}

/// The metric a name (or alias) stands for, or a problem listing what is known.
pub fn metric_name(name: &str) -> Result<String, Problem> {
    let name = name.trim();
    let canonical = ALIASES.iter().find(|(a, _)| *a == name).map_or(name, |(_, c)| c);
    if known_metrics().iter().any(|m| m == canonical) {
        Ok(canonical.to_string())
    } else {
        let aliases: Vec<String> = ALIASES.iter().map(|(a, c)| format!("{a} = {c}")).collect();
        Err(Problem {
            key: "metric".into(),
            message: format!("unknown metric \"{name}\" (known: {}; aliases: {})", known_metrics().join(", "), aliases.join(", ")),
        })
    }
}

/// Every metric name: the derived ones, then every number field of [`Summary`] (fields
/// that may be null, such as `first_oom_s`, included).
pub fn known_metrics() -> Vec<String> {
    let mut out: Vec<String> = DERIVED.iter().map(|(n, _)| n.to_string()).collect();
    if let Value::Object(map) = summary_value(&Summary::default()) {
        out.extend(map.iter().filter(|(_, v)| v.is_number() || v.is_null()).map(|(k, _)| k.clone()));
    }
    out
}

fn summary_value(s: &Summary) -> Value {
    serde_json::to_value(s).expect("plain data serializes")
}

/// The value of metric `name` (canonical) in a run's summary, as the run's JSON writes it
/// (integers stay integers); `null` where it is undefined (no OOM kill: no `first_oom_s`).
pub fn metric_value(summary: &Summary, name: &str) -> Value {
    let pct = |part: f64, whole: f64| if whole > 0.0 { Value::from(100.0 * part / whole) } else { Value::Null };
    match name {
        "dropped_pct" => pct(summary.dropped as f64, summary.produced as f64),
        "producer_blocked_pct" => pct(summary.producer_blocked_s, summary.t_s),
        _ => summary_value(summary).get(name).cloned().unwrap_or(Value::Null),
    }
}

/// Where a point lies: what its run did to the messages, judged from its summary in this
/// order (the first that applies).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Region {
    /// A process (the consumer's or the producer's) was OOM-killed.
    Oom,
    /// Messages were lost by accident (retention, a crash after commit, a dead consumer).
    Losing,
    /// Messages were dropped on purpose (overflow, timeouts, shedding; not `filter`).
    Shedding,
    /// The producer was held back: blocked for at least 1 % of the run.
    Blocking,
    /// Nothing lost or dropped, but the backlog at the end is over 5 % of what was generated
    /// (and over 100 messages): the pipeline is falling behind.
    Lagging,
    /// None of the above.
    Stable,
}

impl Region {
    pub fn name(self) -> &'static str {
        match self {
            Region::Oom => "oom",
            Region::Losing => "losing",
            Region::Shedding => "shedding",
            Region::Blocking => "blocking",
            Region::Lagging => "lagging",
            Region::Stable => "stable",
        }
    }

    /// The region of a finished run.
    pub fn of(s: &Summary) -> Region {
        let l = &s.ledger;
        let backlog = l.producer_pending + l.in_channels + l.in_topic + l.in_cache + l.in_flight;
        if s.oom_kills > 0 || s.producer_oom_kills > 0 {
            Region::Oom
        } else if s.lost > 0 {
            Region::Losing
        } else if s.dropped > s.dropped_by.filter {
            Region::Shedding
        } else if s.t_s > 0.0 && s.producer_blocked_s >= 0.01 * s.t_s {
            Region::Blocking
        } else if backlog > 100 && backlog as f64 > 0.05 * l.generated as f64 {
            Region::Lagging
        } else {
            Region::Stable
        }
    }
}

/// A finished point's figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Outcome {
    /// One per metric of the sweep, in its order.
    pub metrics: Vec<Value>,
    pub region: Region,
    pub summary: Summary,
}

/// One point of a sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct PointResult {
    /// Row-major over the axes: the last axis varies fastest.
    pub index: usize,
    /// The point's value on each axis (rounded on integer fields).
    pub at: Vec<f64>,
    /// The run's figures, or why the point could not run (the field named).
    pub outcome: Result<Outcome, Problem>,
}

/// A sweep ready to run: its spec checked and every axis' values worked out.
#[derive(Clone, Debug)]
pub struct Sweep {
    pub spec: SweepSpec,
    /// Each axis' values, rounded on integer fields.
    pub values: Vec<Vec<f64>>,
    /// Whether each axis' field holds whole numbers (its values are rounded).
    pub integer: Vec<bool>,
    /// What the reader should know: rounding, repeated values after rounding.
    pub notes: Vec<String>,
}

impl Sweep {
    /// Checks the spec (one or two axes on distinct number fields of the base scenario, at
    /// least one metric, at most [`MAX_POINTS`] points) and works out the axes' values.
    pub fn new(spec: SweepSpec) -> Result<Sweep, Problem> {
        let fail = |key: &str, message: String| Err(Problem { key: key.to_string(), message });
        if spec.axes.is_empty() || spec.axes.len() > 2 {
            return fail("vary", format!("a sweep varies one or two fields (got {})", spec.axes.len()));
        }
        if spec.axes.len() == 2 && spec.axes[0].path == spec.axes[1].path {
            return fail(&spec.axes[0].path, "varied twice".into());
        }
        if spec.metrics.is_empty() {
            return fail("metric", "no metric to read".into());
        }
        for m in &spec.metrics {
            if metric_name(m)? != *m {
                return fail("metric", format!("\"{m}\" is an alias; use {}", metric_name(m)?));
            }
        }
        spec.base.validate().map_err(|e| Problem { key: e.errors[0].field.clone(), message: e.errors[0].message.clone() })?;
        let points: usize = spec.axes.iter().map(|a| a.steps as usize).product();
        if points > MAX_POINTS {
            return fail("vary", format!("{points} points; at most {MAX_POINTS}"));
        }
        let mut values = Vec::new();
        let mut integer = Vec::new();
        let mut notes = Vec::new();
        for a in &spec.axes {
            let takes = |raw: &str| experiment::set(&spec.base, &a.path, raw).is_ok();
            let (whole, fraction) = (takes("1"), takes("0.5"));
            if !whole && !fraction {
                let message = match experiment::set(&spec.base, &a.path, "1") {
                    Err(p) if p.message == "no such field in the scenario" => {
                        "no such field in the scenario (bplab show --preset ID lists them)".into()
                    }
                    _ => "not a number field: a sweep varies numbers".to_string(),
                };
                return fail(&a.path, message);
            }
            let is_int = whole && !fraction;
            let mut v = a.raw_values();
            if is_int {
                v.iter_mut().for_each(|x| *x = x.round());
                let mut distinct = v.clone();
                distinct.dedup();
                let repeats = v.len() - distinct.len();
                let also = if repeats > 0 { format!("; {repeats} of its {} steps repeat a value", v.len()) } else { String::new() };
                notes.push(format!("{} holds whole numbers: its values are rounded to the nearest{also}", a.path));
            }
            values.push(v);
            integer.push(is_int);
        }
        Ok(Sweep { spec, values, integer, notes })
    }

    /// Points in the sweep.
    pub fn len(&self) -> usize {
        self.values.iter().map(Vec::len).product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Point `index`'s value on each axis (row-major: the last axis varies fastest).
    pub fn at(&self, index: usize) -> Vec<f64> {
        let mut rest = index;
        let mut out = vec![0.0; self.values.len()];
        for (k, v) in self.values.iter().enumerate().rev() {
            out[k] = v[rest % v.len()];
            rest /= v.len();
        }
        out
    }

    /// Point `index`'s changes, as `--set PATH=VALUE` takes them.
    pub fn changes(&self, index: usize) -> Vec<experiment::Change> {
        self.spec
            .axes
            .iter()
            .zip(self.at(index))
            .map(|(a, x)| experiment::Change { path: a.path.clone(), value: experiment::number(x) })
            .collect()
    }

    /// Point `index`'s scenario: the base with its changes set, validated.
    pub fn scenario(&self, index: usize) -> Result<Scenario, Problem> {
        let mut s = self.spec.base.clone();
        for c in self.changes(index) {
            s = experiment::set(&s, &c.path, &c.value)?;
        }
        s.validate().map_err(|e| {
            let first = &e.errors[0];
            let more: Vec<String> = e.errors[1..].iter().map(|f| format!("; {}: {}", f.field, f.message)).collect();
            Problem { key: first.field.clone(), message: format!("{}{}", first.message, more.concat()) }
        })?;
        Ok(s)
    }

    /// Point `index`'s simulation at time 0, untraced, for a caller that steps it itself
    /// (the page, in budgeted slices) and then calls [`Sweep::finish`].
    pub fn start(&self, index: usize) -> Result<Simulation, Problem> {
        let s = self.scenario(index)?;
        Simulation::new(&s).map_err(|e| Problem { key: e.errors[0].field.clone(), message: e.errors[0].message.clone() })
    }

    /// The figures of point `index` from its simulation run to its end (`run_to_end`).
    pub fn finish(&self, index: usize, sim: &Simulation) -> PointResult {
        let summary = sim.summary();
        let metrics = self.spec.metrics.iter().map(|m| metric_value(&summary, m)).collect();
        PointResult { index, at: self.at(index), outcome: Ok(Outcome { metrics, region: Region::of(&summary), summary }) }
    }

    /// Runs point `index` to its end: the same figures as `bplab run` with the point's
    /// changes as `--set`.
    pub fn run(&self, index: usize) -> PointResult {
        match self.start(index) {
            Ok(mut sim) => {
                sim.run_to_end();
                self.finish(index, &sim)
            }
            Err(p) => PointResult { index, at: self.at(index), outcome: Err(p) },
        }
    }

    /// Every point, in order, on this thread.
    pub fn run_all(&self) -> Vec<PointResult> {
        (0..self.len()).map(|i| self.run(i)).collect()
    }
}

/// The sweep as a link's query: the base experiment's (the codec's `encode`, no view keys)
/// then `vary=PATH:FROM:TO:STEPS[:log]` per axis and `metric=NAME,NAME`.
pub fn encode(spec: &SweepSpec) -> String {
    let mut q = experiment::encode(&spec.preset, &spec.base, &ViewState::default());
    let mut extra = form_urlencoded::Serializer::new(String::new());
    for a in &spec.axes {
        extra.append_pair("vary", &format!("{}:{}", a.path, a.range_text()));
    }
    extra.append_pair("metric", &spec.metrics.join(","));
    q.push('&');
    // Colons and commas stay legible, as the codec leaves them.
    q.push_str(&extra.finish().replace("%3A", ":").replace("%2C", ","));
    q
}

/// Reads a sweep link (a whole URL or its query). The experiment's keys go through the
/// codec's `decode`; `vary` and `metric` are the sweep's. Every key that cannot be used is
/// a problem naming it (the codec's included); without a `metric`, [`DEFAULT_METRICS`].
pub fn decode(link: &str) -> (SweepSpec, Vec<Problem>) {
    let query = link.split_once('?').map_or(link, |(_, q)| q);
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    let mut rest = form_urlencoded::Serializer::new(String::new());
    let mut axes = Vec::new();
    let mut metrics: Option<Vec<String>> = None;
    let mut problems = Vec::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.trim() {
            "vary" => match value.split_once(':') {
                Some((path, range)) => match Axis::parse(path, range) {
                    Ok(a) => axes.push(a),
                    Err(p) => problems.push(Problem { key: format!("vary {}", p.key), message: p.message }),
                },
                None => {
                    problems.push(Problem { key: "vary".into(), message: format!("expected PATH:FROM:TO:STEPS[:log] (got \"{value}\")") })
                }
            },
            "metric" => {
                let list = metrics.get_or_insert_with(Vec::new);
                for name in value.split(',').filter(|n| !n.trim().is_empty()) {
                    match metric_name(name) {
                        Ok(m) if !list.contains(&m) => list.push(m),
                        Ok(_) => {}
                        Err(p) => problems.push(p),
                    }
                }
            }
            _ => {
                rest.append_pair(&key, &value);
            }
        }
    }
    let d = experiment::decode(&rest.finish());
    problems.extend(d.problems);
    let metrics = metrics.unwrap_or_else(|| DEFAULT_METRICS.iter().map(|m| m.to_string()).collect());
    (SweepSpec { preset: d.experiment.preset, base: d.experiment.scenario, axes, metrics }, problems)
}

/// A sweep spec for a scenario built elsewhere (a file): its link is written against the
/// preset it is closest to, as `bplab link` does.
pub fn spec_for(scenario: Scenario, preset_id: Option<&str>, axes: Vec<Axis>, metrics: Vec<String>) -> SweepSpec {
    let id = preset_id.filter(|id| preset(id).is_some()).unwrap_or_else(|| experiment::closest_preset(&scenario)).to_string();
    SweepSpec { preset: id, base: scenario, axes, metrics }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(link: &str) -> SweepSpec {
        let (s, problems) = decode(link);
        assert_eq!(problems, vec![], "{link}");
        s
    }

    #[test]
    fn a_sweep_link_reads_back_exactly() {
        let mut base = preset("fix-sync-poll").unwrap();
        base.duration_s = 300.0;
        base.consumer.rate_per_worker = 750.5;
        let axes = vec![
            Axis { path: "producer.rate_per_s".into(), from: 1_000.0, to: 20_000.0, steps: 20, scale: Scale::Log },
            Axis { path: "consumer.workers".into(), from: 1.0, to: 64.0, steps: 7, scale: Scale::Linear },
        ];
        let s = SweepSpec { preset: "fix-sync-poll".into(), base, axes, metrics: vec!["first_oom_s".into(), "dropped_pct".into()] };
        let q = encode(&s);
        assert!(
            q.contains("&vary=producer.rate_per_s:1000:20000:20:log&vary=consumer.workers:1:64:7&metric=first_oom_s,dropped_pct"),
            "{q}"
        );
        assert_eq!(spec(&q), s);
        assert_eq!(spec(&format!("https://example.org/lab/?{q}#x")), s);
        // Awkward floats survive too.
        let mut t = s.clone();
        t.axes = vec![Axis { path: "consumer.rate_per_worker".into(), from: 0.1, to: 1.0 / 3.0, steps: 3, scale: Scale::Linear }];
        assert_eq!(spec(&encode(&t)), t);
    }

    #[test]
    fn aliases_become_summary_names_and_bad_keys_are_named() {
        let s = spec("preset=incident-106&vary=consumer.workers:1:4:4&metric=p99,oom,heap,throughput,blocked,dropped%25");
        assert_eq!(
            s.metrics,
            ["latency_p99_s", "first_oom_s", "max_heap_bytes", "throughput_msgs_per_s", "producer_blocked_pct", "dropped_pct"]
        );
        let (_, problems) = decode("vary=consumer.workers:1:x:4&metric=nope&bogus=1&vary=consumer.workers");
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["vary consumer.workers", "metric", "vary", "bogus"], "{problems:?}");
        assert!(problems[1].message.contains("latency_p99_s") && problems[1].message.contains("p99 = latency_p99_s"));
    }

    #[test]
    fn axes_have_exact_ends_and_integer_fields_are_rounded() {
        let a = Axis::parse("consumer.workers", "1:64:7:log").unwrap();
        let raw = a.raw_values();
        assert_eq!((raw[0], raw[6]), (1.0, 64.0));
        assert!((raw[3] - 8.0).abs() < 1e-12, "{raw:?}");
        let sw = Sweep::new(spec("vary=consumer.workers:1:64:20:log&vary=producer.rate_per_s:100:1000:3&metric=lost")).unwrap();
        assert_eq!(sw.len(), 60);
        assert_eq!(sw.integer, [true, false]);
        assert!(sw.values[0].iter().all(|v| v.fract() == 0.0), "{:?}", sw.values[0]);
        assert_eq!(sw.values[1], [100.0, 550.0, 1000.0]);
        assert!(sw.notes[0].contains("consumer.workers holds whole numbers") && sw.notes[0].contains("repeat"), "{:?}", sw.notes);
        assert_eq!(sw.at(4), vec![sw.values[0][1], 550.0]);
        assert_eq!(sw.changes(4)[1].value, "550");
        assert_eq!(sw.scenario(4).unwrap().producer.rate_per_s, 550.0);
    }

    #[test]
    fn bad_axes_are_refused_naming_the_field() {
        let e = Sweep::new(spec("vary=consumer.mode:1:2:2&metric=lost")).unwrap_err();
        assert_eq!(e.key, "consumer.mode");
        assert!(e.message.contains("not a number"), "{e}");
        let e = Sweep::new(spec("vary=consumer.nope:1:2:2&metric=lost")).unwrap_err();
        assert!(e.message.contains("no such field"), "{e}");
        assert!(Axis::parse("producer.rate_per_s", "0:10:3:log").is_err());
        assert!(Axis::parse("producer.rate_per_s", "1:10:0").is_err());
    }

    #[test]
    fn a_point_that_does_not_validate_names_its_field_and_the_rest_run() {
        let mut bad = spec("vary=consumer.workers:0:2:3&metric=lost");
        bad.metrics.push("p99".into());
        assert_eq!(Sweep::new(bad).unwrap_err().key, "metric", "aliases are read by decode, not kept");
        let sw = Sweep::new(spec("vary=consumer.workers:0:2:3&duration_s=5&metric=consumed,lost")).unwrap();
        let r = sw.run_all();
        let e = r[0].outcome.as_ref().unwrap_err();
        assert_eq!(e.key, "consumer.workers", "{e}");
        let one = r[1].outcome.as_ref().unwrap();
        let two = r[2].outcome.as_ref().unwrap();
        assert_eq!(one.metrics[0], Value::from(one.summary.consumed));
        assert!(two.summary.consumed > one.summary.consumed, "two workers process more");
    }

    #[test]
    fn regions_follow_the_summary() {
        let region = |id: &str, secs: f64| {
            let mut s = preset(id).unwrap();
            s.duration_s = secs;
            let mut sim = Simulation::new(&s).unwrap();
            sim.run_to_end();
            Region::of(&sim.summary())
        };
        assert_eq!(region("incident-106", 60.0), Region::Oom);
        assert_eq!(region("fix-sync-poll", 30.0), Region::Lagging);
        assert_eq!(region("fix-blocking-channel", 30.0), Region::Blocking);
        assert_eq!(region("drop-newest", 30.0), Region::Shedding);
        assert_eq!(region("retention-loss", 180.0), Region::Losing);
        assert_eq!(region("bursts-absorbed", 30.0), Region::Stable);
    }

    #[test]
    fn metrics_are_the_summary_fields_as_the_run_writes_them() {
        let mut s = preset("drop-newest").unwrap();
        s.duration_s = 10.0;
        let mut sim = Simulation::new(&s).unwrap();
        sim.run_to_end();
        let sum = sim.summary();
        assert_eq!(metric_value(&sum, "lost"), Value::from(sum.lost));
        assert_eq!(metric_value(&sum, "first_oom_s"), Value::Null);
        let pct = metric_value(&sum, "dropped_pct").as_f64().unwrap();
        assert!(pct > 90.0 && pct < 100.0, "{pct}");
        assert!(known_metrics().contains(&"latency_p99_s".to_string()));
        assert!(!known_metrics().contains(&"ledger".to_string()));
    }
}
