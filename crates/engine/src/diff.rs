//! The diff of two experiments: what differs between them, what it does to the run, and
//! which change (or pair of changes) is the one that matters.
//!
//! Given scenarios A and B, [`diff`] lists the parameters that differ (the codec's change
//! list, `experiment::changes`: `--set` paths and values that turn A into B), runs both,
//! puts their summary metrics side by side with the deltas, and finds the first sample at
//! which their series part (the first sample time, present in both, where any column
//! differs beyond float equality, naming the columns). Then "what mattered": A is run
//! again with each change applied alone and, for up to [`MAX_LEAVE_OUT`] changes, with
//! every change but one; a change *flips* an outcome (OOM or not, losing or not, meeting a
//! p99 target or not) when alone it turns A's outcome into B's, and is *needed* for it when
//! leaving it out keeps A's. When no single change flips an outcome, pairs are tried.

use crate::experiment::{self, Change, Problem};
use crate::scenario::Scenario;
use crate::series::Series;
use crate::sim::Simulation;
use crate::snapshot::Summary;
use crate::sweep::metric_value;
use serde::Serialize;
use serde_json::Value;

/// Up to this many changes, each is also left out alone (and pairs are tried).
pub const MAX_LEAVE_OUT: usize = 6;

/// The summary metrics a diff shows side by side.
pub const METRICS: &[&str] = &[
    "produced",
    "consumed",
    "dropped",
    "dropped_pct",
    "lost",
    "duplicated",
    "oom_kills",
    "first_oom_s",
    "producer_oom_kills",
    "max_heap_bytes",
    "max_producer_heap_bytes",
    "max_lag",
    "latency_p50_s",
    "latency_p99_s",
    "throughput_msgs_per_s",
    "producer_blocked_pct",
];

/// One metric of both runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricRow {
    pub name: String,
    pub a: Value,
    pub b: Value,
    /// `b − a`, when both are numbers.
    pub delta: Option<f64>,
}

/// Where the two runs' series first differ (over the shorter run's length when their
/// lengths differ).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Parting {
    /// The sample's simulated time, seconds.
    pub t_s: f64,
    /// The columns that differ there (`lag_p3` and `stage0_depth` for the per-partition and
    /// per-stage columns).
    pub series: Vec<String>,
}

/// What a run came to, in the terms "what mattered" judges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// A process (consumer or producer) was OOM-killed.
    pub oom: bool,
    /// Messages were lost.
    pub losing: bool,
    /// p99 latency within the target (`None` without a target, or when nothing was processed).
    pub meets_p99: Option<bool>,
}

impl Verdict {
    pub fn of(s: &Summary, p99_target_s: Option<f64>) -> Verdict {
        Verdict {
            oom: s.oom_kills > 0 || s.producer_oom_kills > 0,
            losing: s.lost > 0,
            meets_p99: p99_target_s.and_then(|t| s.latency_p99_s.map(|p| p <= t)),
        }
    }

    /// The outcomes that differ between `self` and `other`, by name (`oom`, `losing`, `p99`).
    pub fn differs(&self, other: &Verdict) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.oom != other.oom {
            out.push("oom");
        }
        if self.losing != other.losing {
            out.push("losing");
        }
        if self.meets_p99 != other.meets_p99 && self.meets_p99.is_some() && other.meets_p99.is_some() {
            out.push("p99");
        }
        out
    }

    fn get(&self, outcome: &str) -> Option<bool> {
        match outcome {
            "oom" => Some(self.oom),
            "losing" => Some(self.losing),
            _ => self.meets_p99,
        }
    }
}

/// A re-run of A with some of the changes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trial {
    /// `alone`: A with only these changes; `left_out`: A with every change but these.
    pub kind: &'static str,
    /// Indices into [`Diff::changes`].
    pub changes: Vec<usize>,
    /// The run's verdict, or why the scenario could not run (a change valid only together
    /// with another).
    pub verdict: Result<Verdict, Problem>,
}

/// Which change decides one outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Mattered {
    /// `oom`, `losing` or `p99`.
    pub outcome: &'static str,
    /// Changes that alone turn A's outcome into B's (indices into [`Diff::changes`]).
    pub flips_alone: Vec<usize>,
    /// Changes without which B keeps A's outcome (tried for up to [`MAX_LEAVE_OUT`] changes).
    pub needed: Vec<usize>,
    /// When no change flips it alone: pairs that do.
    pub flipping_pairs: Vec<(usize, usize)>,
    /// One sentence.
    pub sentence: String,
}

/// The whole comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diff {
    /// The parameters that differ: `--set` paths and values that turn A into B.
    pub changes: Vec<Change>,
    pub metrics: Vec<MetricRow>,
    /// `None` when the series are equal at every common sample time.
    pub parting: Option<Parting>,
    pub verdict_a: Verdict,
    pub verdict_b: Verdict,
    pub trials: Vec<Trial>,
    /// One entry per outcome that differs between A and B.
    pub mattered: Vec<Mattered>,
}

fn run(s: &Scenario) -> Result<Simulation, Problem> {
    let mut sim = Simulation::new(s).map_err(|e| Problem { key: e.errors[0].field.clone(), message: e.errors[0].message.clone() })?;
    sim.run_to_end();
    Ok(sim)
}

/// A with the changes whose indices `keep` says, in their order.
fn with(a: &Scenario, changes: &[Change], keep: impl Fn(usize) -> bool) -> Result<Scenario, Problem> {
    let mut s = a.clone();
    for (_, c) in changes.iter().enumerate().filter(|(i, _)| keep(*i)) {
        s = experiment::set(&s, &c.path, &c.value)?;
    }
    s.validate().map_err(|e| Problem { key: e.errors[0].field.clone(), message: e.errors[0].message.clone() })?;
    Ok(s)
}

/// Every column of sample `i`, by name, as the CSV export names them.
fn columns(series: &Series, i: usize) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = match serde_json::to_value(series.points[i]).expect("plain data serializes") {
        Value::Object(map) => map.into_iter().filter(|(k, _)| k != "t_s").collect(),
        _ => unreachable!("a point is an object"),
    };
    out.extend((0..series.partitions).map(|p| (format!("lag_p{p}"), Value::from(series.lag_of(i, p)))));
    out.extend((0..series.stages).map(|k| (format!("stage{k}_depth"), Value::from(series.depth_of(i, k)))));
    out
}

/// The first sample time present in both series where any column differs.
pub fn parting(a: &Series, b: &Series) -> Option<Parting> {
    let (mut i, mut j) = (0, 0);
    while i < a.points.len() && j < b.points.len() {
        let (ta, tb) = (a.points[i].t_s, b.points[j].t_s);
        if ta < tb {
            i += 1;
        } else if tb < ta {
            j += 1;
        } else {
            let (x, y) = (columns(a, i), columns(b, j));
            let mut differ: Vec<String> =
                x.iter().filter(|(k, v)| y.iter().find(|(l, _)| l == k).map(|(_, w)| w) != Some(v)).map(|(k, _)| k.clone()).collect();
            differ.extend(y.iter().filter(|(k, _)| !x.iter().any(|(l, _)| l == k)).map(|(k, _)| k.clone()));
            if !differ.is_empty() {
                return Some(Parting { t_s: ta, series: differ });
            }
            i += 1;
            j += 1;
        }
    }
    None
}

/// Compares A and B (each run for its own `duration_s`); `p99_target_s` adds "meets the p99
/// target" to the outcomes judged.
pub fn diff(a: &Scenario, b: &Scenario, p99_target_s: Option<f64>) -> Result<Diff, Problem> {
    let changes = experiment::changes(a, b);
    let (ra, rb) = (run(a)?, run(b)?);
    let (sa, sb) = (ra.summary(), rb.summary());
    let metrics = METRICS
        .iter()
        .map(|m| {
            let (x, y) = (metric_value(&sa, m), metric_value(&sb, m));
            let delta = x.as_f64().zip(y.as_f64()).map(|(x, y)| y - x);
            MetricRow { name: m.to_string(), a: x, b: y, delta }
        })
        .collect();
    let (va, vb) = (Verdict::of(&sa, p99_target_s), Verdict::of(&sb, p99_target_s));
    let trial = |kind: &'static str, picked: Vec<usize>| {
        let keep = |i: usize| if kind == "alone" { picked.contains(&i) } else { !picked.contains(&i) };
        let verdict = with(a, &changes, keep).and_then(|s| run(&s)).map(|sim| Verdict::of(&sim.summary(), p99_target_s));
        Trial { kind, changes: picked, verdict }
    };
    let differ = va.differs(&vb);
    let mut trials = Vec::new();
    if !differ.is_empty() && !changes.is_empty() {
        trials.extend((0..changes.len()).map(|i| trial("alone", vec![i])));
        if changes.len() <= MAX_LEAVE_OUT && changes.len() > 1 {
            trials.extend((0..changes.len()).map(|i| trial("left_out", vec![i])));
        }
    }
    let flips = |t: &Trial, outcome: &str| t.verdict.as_ref().is_ok_and(|v| v.get(outcome) == vb.get(outcome));
    let keeps = |t: &Trial, outcome: &str| t.verdict.as_ref().is_ok_and(|v| v.get(outcome) == va.get(outcome));
    let mut mattered = Vec::new();
    for outcome in &differ {
        let flips_alone: Vec<usize> =
            trials.iter().filter(|t| t.kind == "alone" && t.changes.len() == 1 && flips(t, outcome)).map(|t| t.changes[0]).collect();
        let needed: Vec<usize> = trials.iter().filter(|t| t.kind == "left_out" && keeps(t, outcome)).map(|t| t.changes[0]).collect();
        let mut flipping_pairs = Vec::new();
        if flips_alone.is_empty() && changes.len() > 1 && changes.len() <= MAX_LEAVE_OUT {
            for i in 0..changes.len() {
                for j in i + 1..changes.len() {
                    let pair = trial("alone", vec![i, j]);
                    if flips(&pair, outcome) {
                        flipping_pairs.push((i, j));
                    }
                    trials.push(pair);
                }
            }
        }
        let name = |i: &usize| format!("{}={}", changes[*i].path, changes[*i].value);
        let what = match *outcome {
            "oom" => {
                if vb.oom {
                    "causes the OOM kill"
                } else {
                    "prevents the OOM kill"
                }
            }
            "losing" => {
                if vb.losing {
                    "causes the losses"
                } else {
                    "stops the losses"
                }
            }
            _ => {
                if vb.meets_p99 == Some(true) {
                    "meets the p99 target"
                } else {
                    "misses the p99 target"
                }
            }
        };
        let sentence = if !flips_alone.is_empty() {
            let names: Vec<String> = flips_alone.iter().map(name).collect();
            format!("{} alone {what}", names.join(" or "))
        } else if !flipping_pairs.is_empty() {
            let names: Vec<String> = flipping_pairs.iter().map(|(i, j)| format!("{} with {}", name(i), name(j))).collect();
            format!("no change alone; together, {} {what}", names.join(", or "))
        } else {
            format!("no single change (or pair) {what}: it takes more of them together")
        };
        mattered.push(Mattered { outcome, flips_alone, needed, flipping_pairs, sentence });
    }
    // Series of runs of different lengths are halved at different times: the parting is
    // looked for over the common length, in runs of that length.
    let parted = if a.duration_s == b.duration_s {
        parting(ra.series(), rb.series())
    } else {
        let common = a.duration_s.min(b.duration_s);
        let (mut a2, mut b2) = (a.clone(), b.clone());
        a2.duration_s = common;
        b2.duration_s = common;
        parting(run(&a2)?.series(), run(&b2)?.series())
    };
    Ok(Diff { changes, metrics, parting: parted, verdict_a: va, verdict_b: vb, trials, mattered })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets::preset;

    #[test]
    fn consumer_mode_is_what_stops_the_incidents_oom() {
        let a = preset("incident-106").unwrap();
        let b = preset("fix-sync-poll").unwrap();
        let d = diff(&a, &b, None).unwrap();
        let paths: Vec<&str> = d.changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["consumer.mode", "duration_s"]);
        assert!(d.verdict_a.oom && !d.verdict_b.oom);
        let oom = d.mattered.iter().find(|m| m.outcome == "oom").expect("the OOM outcome differs");
        assert_eq!(oom.flips_alone, [0], "{}", oom.sentence);
        assert_eq!(oom.needed, [0], "without consumer.mode=sync the longer run still OOMs");
        assert!(oom.sentence.starts_with("consumer.mode=sync alone prevents the OOM kill"), "{}", oom.sentence);
        // Both runs are the same until the async consumer holds more than a sync one can.
        let p = d.parting.expect("the series part");
        assert!(p.t_s > 0.0 && p.t_s < 1.0, "{p:?}");
        assert!(p.series.iter().any(|s| s == "in_flight"), "{p:?}");
        let oom_row = d.metrics.iter().find(|m| m.name == "oom_kills").unwrap();
        assert!(oom_row.a.as_u64().unwrap() > 0 && oom_row.b == 0u64 && oom_row.delta.unwrap() < 0.0);
    }

    #[test]
    fn equal_scenarios_have_no_changes_and_never_part() {
        let mut a = preset("drop-newest").unwrap();
        a.duration_s = 5.0;
        let d = diff(&a, &a, Some(1.0)).unwrap();
        assert!(d.changes.is_empty() && d.parting.is_none() && d.mattered.is_empty() && d.trials.is_empty());
        assert!(d.metrics.iter().all(|m| m.delta.is_none_or(|x| x == 0.0)));
    }

    #[test]
    fn a_pair_is_named_when_no_change_alone_flips_the_outcome() {
        // Neither a longer run nor a faster producer alone reaches the OOM; both together do.
        let mut a = preset("incident-106").unwrap();
        a.duration_s = 30.0;
        a.producer.rate_per_s = 5_000.0;
        let mut b = a.clone();
        b.duration_s = 60.0;
        b.producer.rate_per_s = 10_000.0;
        let d = diff(&a, &b, None).unwrap();
        let oom = d.mattered.iter().find(|m| m.outcome == "oom").unwrap();
        assert!(oom.flips_alone.is_empty(), "{oom:?}");
        assert_eq!(oom.flipping_pairs, [(0, 1)], "{oom:?}");
        assert_eq!(oom.needed.len(), 2, "each is needed");
        assert!(oom.sentence.contains("together"), "{}", oom.sentence);
    }

    #[test]
    fn a_p99_target_is_judged() {
        let mut a = preset("drop-newest").unwrap();
        a.duration_s = 20.0;
        let b = experiment::set(&a, "stages.0.capacity", "100").unwrap();
        let d = diff(&a, &b, Some(0.5)).unwrap();
        assert_eq!((d.verdict_a.meets_p99, d.verdict_b.meets_p99), (Some(false), Some(true)), "2 s to drain 1,000; 0.2 s for 100");
        let p = d.mattered.iter().find(|m| m.outcome == "p99").unwrap();
        assert_eq!(p.flips_alone, [0]);
        assert!(p.sentence.contains("meets the p99 target"), "{}", p.sentence);
    }
}
