//! What a run is exported as: the summary and series as JSON, the series as CSV, the
//! ledger as CSV. One code for `bplab run --format json|csv|ledger-csv` and the page's
//! downloads, so a file from the page equals the CLI's output for the same link, byte for
//! byte.

use crate::series::Series;
use crate::sim::Simulation;
use serde_json::{json, Map, Value};

/// The series' columns, in output order: every field of a point (a test checks that this
/// list and `Point`'s fields are the same set). CSV adds one column per partition's lag
/// (`lag_p0`, ...) and per stage's depth (`stage0_depth`, ...) after these.
pub const COLUMNS: &[&str] = &[
    "t_s",
    "produced",
    "consumed",
    "dropped",
    "lost",
    "duplicated",
    "channel_depth",
    "lag",
    "unfetched",
    "fetch_cache",
    "in_flight",
    "heap_bytes",
    "permits",
    "concurrency_limit",
    "producer_rate_per_s",
    "oom_kills",
    "producer_heap_bytes",
    "producer_oom_kills",
    "producer_blocked_s",
    "latency_p50_s",
    "latency_p95_s",
    "latency_p99_s",
    "call_rtt_p99_s",
];

/// The fields of a plain struct (a series point, a ledger) by name.
fn fields_of<T: serde::Serialize>(v: &T) -> Map<String, Value> {
    match serde_json::to_value(v).expect("plain data serializes") {
        Value::Object(map) => map,
        _ => unreachable!("a struct serializes to an object"),
    }
}

/// Columns: `{"t_s": [...], "produced": [...], ..., "partition_lag": [[p0, p1, ...], ...]}`.
pub fn series_json(series: &Series) -> Value {
    let mut cols: Map<String, Value> = COLUMNS.iter().map(|c| (c.to_string(), Value::Array(Vec::new()))).collect();
    for p in &series.points {
        for (k, v) in fields_of(p) {
            if let Some(Value::Array(col)) = cols.get_mut(&k) {
                col.push(v);
            }
        }
    }
    let lags: Vec<Value> =
        (0..series.points.len()).map(|i| json!((0..series.partitions).map(|p| series.lag_of(i, p)).collect::<Vec<_>>())).collect();
    cols.insert("partition_lag".into(), Value::Array(lags));
    let depths: Vec<Value> =
        (0..series.points.len()).map(|i| json!((0..series.stages).map(|k| series.depth_of(i, k)).collect::<Vec<_>>())).collect();
    cols.insert("stage_depth".into(), Value::Array(depths));
    cols.insert("interval_s".into(), json!(series.interval_s));
    Value::Object(cols)
}

pub fn series_csv(series: &Series) -> String {
    let mut out = COLUMNS.join(",");
    for p in 0..series.partitions {
        out.push_str(&format!(",lag_p{p}"));
    }
    for k in 0..series.stages {
        out.push_str(&format!(",stage{k}_depth"));
    }
    out.push('\n');
    for (i, point) in series.points.iter().enumerate() {
        let fields = fields_of(point);
        let row: Vec<String> = COLUMNS
            .iter()
            .map(|c| match &fields[*c] {
                Value::Null => String::new(),
                v => v.to_string(),
            })
            .chain((0..series.partitions).map(|p| series.lag_of(i, p).to_string()))
            .chain((0..series.stages).map(|k| series.depth_of(i, k).to_string()))
            .collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// The ledger's columns, in output order: every field of `Ledger` (a test checks it).
pub const LEDGER_COLUMNS: &[&str] = &[
    "generated",
    "produced",
    "producer_pending",
    "in_channels",
    "in_topic",
    "in_cache",
    "in_flight",
    "processed",
    "dropped",
    "lost",
    "lost_producer_oom",
    "duplicated",
];

/// Runs to the end, writing the ledger at every sample interval (coarser when needed so
/// that there are at most `max_points` rows after the one at 0). The series cannot carry
/// it: its points are merged as it halves itself (peaks kept), so its stocks come from
/// different instants and need not add up, while each ledger row is one exact instant.
pub fn ledger_csv(sim: &mut Simulation) -> String {
    let s = sim.scenario().clone();
    let end = s.duration_s;
    let step = (s.sim.sample_interval_ms / 1_000.0).max(end / s.sim.max_points as f64);
    let mut out = format!("t_s,{}\n", LEDGER_COLUMNS.join(","));
    let mut k = 0u64;
    loop {
        let t = (k as f64 * step).min(end);
        sim.run_until(t, u64::MAX);
        let fields = fields_of(&sim.ledger());
        let row: Vec<String> = LEDGER_COLUMNS.iter().map(|c| fields[*c].to_string()).collect();
        out.push_str(&format!("{},{}\n", json!(sim.now_s()), row.join(",")));
        if t >= end {
            return out;
        }
        k += 1;
    }
}

/// `{"summary": ..., "series": ...}`, pretty-printed, with a final newline: what
/// `bplab run --format json` prints for a run that has reached its end.
pub fn run_json(sim: &Simulation) -> String {
    let doc = json!({ "summary": sim.summary(), "series": series_json(sim.series()) });
    let mut text = serde_json::to_string_pretty(&doc).expect("plain data serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Ledger, Point};
    use std::collections::BTreeSet;

    #[test]
    fn columns_are_exactly_the_fields_of_a_point() {
        let fields: BTreeSet<String> = fields_of(&Point::default()).keys().cloned().collect();
        let columns: BTreeSet<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
        assert_eq!(columns.len(), COLUMNS.len(), "a column is listed twice: {COLUMNS:?}");
        assert_eq!(columns, fields, "COLUMNS and the fields of bplab_engine::Point differ");
    }

    #[test]
    fn ledger_columns_are_exactly_the_fields_of_a_ledger() {
        let fields: BTreeSet<String> = fields_of(&Ledger::default()).keys().cloned().collect();
        let columns: BTreeSet<String> = LEDGER_COLUMNS.iter().map(|c| c.to_string()).collect();
        assert_eq!(columns.len(), LEDGER_COLUMNS.len(), "a column is listed twice: {LEDGER_COLUMNS:?}");
        assert_eq!(columns, fields, "LEDGER_COLUMNS and the fields of bplab_engine::Ledger differ");
    }
}
