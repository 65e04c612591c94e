//! What a run is exported as: the summary and series as JSON, the series as CSV, the
//! ledger as CSV. One code for `bplab run --format json|csv|ledger-csv` and the page's
//! downloads, so a file from the page equals the CLI's output for the same link, byte for
//! byte.
//!
//! Written without serde (the page's download has no room for a serialiser): the fields
//! come from `Point::fields`, `Summary::fields` and `Ledger::columns`, numbers are written
//! as serde_json writes them ([`json_f64`]), and the JSON is laid out as serde_json's
//! pretty printer lays it out (keys in order, two spaces a level). The tests hold the
//! output to the serde_json output it replaced: the same bytes, but for a rare 17-digit
//! number that has two shortest texts, where Rust's formatting may pick the other one.

use crate::series::{Num, Series};
use crate::sim::Simulation;
use crate::snapshot::Summary;

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

/// `x` as serde_json writes an `f64` (the shortest text that reads back as `x`, laid out
/// as serde_json lays it out: `1.0`, `0.25`, `1e-7`, `1.5e+16`), `null` when it is not
/// finite. Built on Rust's own shortest formatting (`Display`), which the page carries
/// anyway; where a 17-digit value has two shortest texts it may pick the other one
/// (both read back as `x`).
pub fn json_f64(x: f64) -> String {
    if !x.is_finite() {
        return "null".into();
    }
    // Display writes the shortest round-trip digits in plain positional form.
    let plain = format!("{}", x.abs());
    let (int, frac) = plain.split_once('.').unwrap_or((&plain, ""));
    let all: String = [int, frac].concat();
    let lead = all.len() - all.trim_start_matches('0').len();
    let digits = all.trim_matches('0');
    let mut out = String::from(if x.is_sign_negative() { "-" } else { "" });
    if digits.is_empty() {
        out.push_str("0.0");
        return out;
    }
    let n = digits.len() as i32;
    // The value is 0.DIGITS × 10^point.
    let point = int.len() as i32 - lead as i32;
    let zeros = |k: i32| "0".repeat(k.max(0) as usize);
    if point >= n && point <= 16 {
        out.push_str(digits);
        out.push_str(&zeros(point - n));
        out.push_str(".0");
    } else if point > 0 && point <= 16 {
        let (a, b) = digits.split_at(point as usize);
        out.push_str(a);
        out.push('.');
        out.push_str(b);
    } else if point > -5 && point <= 0 {
        out.push_str("0.");
        out.push_str(&zeros(-point));
        out.push_str(digits);
    } else {
        let (a, b) = digits.split_at(1);
        out.push_str(a);
        if !b.is_empty() {
            out.push('.');
            out.push_str(b);
        }
        out.push('e');
        if point > 0 {
            out.push('+');
        }
        out.push_str(&(point - 1).to_string());
    }
    out
}

/// A figure as JSON: a count as a whole number, a value by [`json_f64`], none as `null`.
pub fn json_num(n: Num) -> String {
    match n {
        Num::Count(c) => c.to_string(),
        Num::Value(Some(v)) => json_f64(v),
        Num::Value(None) => "null".into(),
    }
}

/// A figure in a CSV cell: as in JSON, but none is an empty cell.
fn csv_num(n: Num) -> String {
    match n {
        Num::Value(None) => String::new(),
        n => json_num(n),
    }
}

/// A JSON document as the exports build it: numbers already written, objects' keys put in
/// order when printed (serde_json's objects are ordered maps).
enum Json {
    Raw(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// serde_json's `to_string_pretty` layout: each member or element on its own line,
    /// indented two spaces a level; empty ones as `[]` and `{}`.
    fn write(&self, indent: usize, out: &mut String) {
        let (open, close, len) = match self {
            Json::Raw(text) => return out.push_str(text),
            Json::Array(items) => ('[', ']', items.len()),
            Json::Object(members) => ('{', '}', members.len()),
        };
        out.push(open);
        if len > 0 {
            let pad = " ".repeat(indent + 2);
            let mut first = true;
            let mut item = |out: &mut String, key: Option<&str>, value: &Json| {
                out.push_str(if first { "\n" } else { ",\n" });
                first = false;
                out.push_str(&pad);
                if let Some(key) = key {
                    out.push('"');
                    out.push_str(key);
                    out.push_str("\": ");
                }
                value.write(indent + 2, out);
            };
            match self {
                Json::Array(items) => items.iter().for_each(|v| item(out, None, v)),
                Json::Object(members) => {
                    let mut sorted: Vec<&(String, Json)> = members.iter().collect();
                    sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
                    sorted.into_iter().for_each(|(k, v)| item(out, Some(k), v));
                }
                Json::Raw(_) => {}
            }
            out.push('\n');
            out.push_str(&" ".repeat(indent));
        }
        out.push(close);
    }
}

/// Columns: `{"t_s": [...], "produced": [...], ..., "partition_lag": [[p0, p1, ...], ...]}`.
fn series_json(series: &Series) -> Json {
    let mut cols: Vec<(String, Json)> = COLUMNS.iter().map(|c| (c.to_string(), Json::Array(Vec::new()))).collect();
    for p in &series.points {
        let mut k = 0;
        p.fields(&mut |_, v| {
            if let Json::Array(col) = &mut cols[k].1 {
                col.push(Json::Raw(json_num(v)));
            }
            k += 1;
        });
    }
    let table = |n: usize, of: &dyn Fn(usize, usize) -> u64| {
        let rows = (0..series.points.len()).map(|i| Json::Array((0..n).map(|j| Json::Raw(of(i, j).to_string())).collect()));
        Json::Array(rows.collect())
    };
    cols.push(("partition_lag".into(), table(series.partitions, &|i, p| series.lag_of(i, p))));
    cols.push(("stage_depth".into(), table(series.stages, &|i, k| series.depth_of(i, k))));
    cols.push(("interval_s".into(), Json::Raw(json_f64(series.interval_s))));
    Json::Object(cols)
}

/// The summary as an object, its dotted figures (`dropped_by.fail`) as nested objects.
fn summary_json(summary: &Summary) -> Json {
    let mut members: Vec<(String, Json)> = Vec::new();
    summary.fields(&mut |name, v| {
        let value = Json::Raw(json_num(v));
        match name.split_once('.') {
            None => members.push((name.into(), value)),
            Some((table, field)) => {
                if !members.iter().any(|(k, _)| k == table) {
                    members.push((table.into(), Json::Object(Vec::new())));
                }
                if let Some((_, Json::Object(inner))) = members.iter_mut().find(|(k, _)| k == table) {
                    inner.push((field.into(), value));
                }
            }
        }
    });
    Json::Object(members)
}

/// The series as CSV: the [`COLUMNS`], then each partition's lag and each stage's depth.
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
        let mut row: Vec<String> = Vec::with_capacity(COLUMNS.len() + series.partitions + series.stages);
        point.fields(&mut |_, v| row.push(csv_num(v)));
        row.extend((0..series.partitions).map(|p| series.lag_of(i, p).to_string()));
        row.extend((0..series.stages).map(|k| series.depth_of(i, k).to_string()));
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
        let row: Vec<String> = sim.ledger().columns().iter().map(|(_, v)| v.to_string()).collect();
        out.push_str(&format!("{},{}\n", json_f64(sim.now_s()), row.join(",")));
        if t >= end {
            return out;
        }
        k += 1;
    }
}

/// `{"summary": ..., "series": ...}`, pretty-printed, with a final newline: what
/// `bplab run --format json` prints for a run that has reached its end.
pub fn run_json(sim: &Simulation) -> String {
    let doc = Json::Object(vec![("summary".into(), summary_json(&sim.summary())), ("series".into(), series_json(sim.series()))]);
    let mut text = String::new();
    doc.write(0, &mut text);
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Ledger, Point};
    use serde_json::{json, Map, Value};

    /// The fields of a plain struct (a series point, a ledger) by name, through serde.
    fn fields_of<T: serde::Serialize>(v: &T) -> Map<String, Value> {
        match serde_json::to_value(v).unwrap() {
            Value::Object(map) => map,
            _ => unreachable!("a struct serializes to an object"),
        }
    }

    /// The serde_json exports these functions replaced: the reference, byte for byte.
    fn series_json_serde(series: &Series) -> Value {
        let mut cols: Map<String, Value> = COLUMNS.iter().map(|c| (c.to_string(), Value::Array(Vec::new()))).collect();
        for p in &series.points {
            for (k, v) in fields_of(p) {
                if let Some(Value::Array(col)) = cols.get_mut(&k) {
                    col.push(v);
                }
            }
        }
        let n = series.points.len();
        let lags: Vec<Value> = (0..n).map(|i| json!((0..series.partitions).map(|p| series.lag_of(i, p)).collect::<Vec<_>>())).collect();
        cols.insert("partition_lag".into(), Value::Array(lags));
        let depths: Vec<Value> = (0..n).map(|i| json!((0..series.stages).map(|k| series.depth_of(i, k)).collect::<Vec<_>>())).collect();
        cols.insert("stage_depth".into(), Value::Array(depths));
        cols.insert("interval_s".into(), json!(series.interval_s));
        Value::Object(cols)
    }

    fn run_json_serde(sim: &Simulation) -> String {
        let doc = json!({ "summary": sim.summary(), "series": series_json_serde(sim.series()) });
        serde_json::to_string_pretty(&doc).unwrap() + "\n"
    }

    fn series_csv_serde(series: &Series) -> String {
        let mut out = COLUMNS.join(",");
        (0..series.partitions).for_each(|p| out.push_str(&format!(",lag_p{p}")));
        (0..series.stages).for_each(|k| out.push_str(&format!(",stage{k}_depth")));
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

    #[test]
    fn columns_are_exactly_the_fields_of_a_point_in_order() {
        let p = Point { t_s: 1.5, lost: 3, latency_p99_s: Some(0.25), ..Point::default() };
        let mut ours = Vec::new();
        p.fields(&mut |k, v| ours.push((k, v.as_f64())));
        assert_eq!(ours.iter().map(|(k, _)| *k).collect::<Vec<_>>(), COLUMNS, "Point::fields and COLUMNS differ");
        let serde = fields_of(&p);
        assert_eq!(serde.len(), COLUMNS.len(), "a field of Point is not a column");
        for (k, v) in ours {
            assert_eq!(serde[k].as_f64(), v, "{k}");
        }
    }

    #[test]
    fn ledger_columns_are_exactly_the_fields_of_a_ledger_in_order() {
        let l = Ledger { generated: 9, in_topic: 4, lost_producer_oom: 2, ..Ledger::default() };
        let serde = fields_of(&l);
        let ours = l.columns();
        assert_eq!(ours.iter().map(|(k, _)| *k).collect::<Vec<_>>(), LEDGER_COLUMNS, "Ledger::columns and LEDGER_COLUMNS differ");
        assert_eq!(serde.len(), LEDGER_COLUMNS.len(), "a field of Ledger is not a column");
        for (k, v) in ours {
            assert_eq!(serde[k].as_u64(), Some(v), "{k}");
        }
    }

    #[test]
    fn numbers_are_written_as_serde_json_writes_them() {
        let mut xs =
            vec![0.0, -0.0, 1.0, -1.0, 0.1, 0.25, 1e-5, 1.5e-5, 1e-4, 0.001234, 9.999e-5, 1e15, 1e16, 1.5e16, 1e17, 123456789012345680.0];
        xs.extend([1e21, 1e22, 5e-324, f64::MAX, f64::MIN_POSITIVE, 48.2897, 1.0 / 3.0, 2f64.powi(53), 1234.5, 0.3]);
        xs.extend([f64::NAN, f64::INFINITY, f64::NEG_INFINITY]);
        // Random bit patterns (every exponent) and random decimals of the sizes runs produce.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..200_000 {
            xs.push(f64::from_bits(next()));
            let scale = 10f64.powi((next() % 40) as i32 - 20);
            xs.push((next() % 1_000_000) as f64 * scale);
        }
        let mut other_digits = 0;
        for x in xs {
            let (ours, theirs) = (json_f64(x), serde_json::to_string(&json!(x)).unwrap());
            if ours != theirs {
                assert_same_number(&ours, &theirs);
                assert_eq!(ours.parse::<f64>().unwrap().to_bits(), x.to_bits(), "{ours} does not read back as {x:e}");
                other_digits += 1;
            }
        }
        // Rare: a 17-digit value with more than one shortest text.
        assert!(other_digits < 100, "{other_digits} of 400,029 numbers written with other digits");
    }

    /// Two texts of one number, laid out alike: equal, or (where a 17-digit value has more
    /// than one shortest text, and Rust's formatting and serde_json's pick different ones)
    /// of the same length, with the point and exponent in the same places, reading back as
    /// the same `f64`.
    fn assert_same_number(ours: &str, theirs: &str) {
        if ours == theirs {
            return;
        }
        let shape = |t: &str| t.chars().map(|c| if c.is_ascii_digit() { '9' } else { c }).collect::<String>();
        assert_eq!(shape(ours), shape(theirs), "{ours} and {theirs} are laid out differently");
        assert_eq!(ours.parse::<f64>().unwrap().to_bits(), theirs.parse::<f64>().unwrap().to_bits(), "{ours} is not {theirs}");
    }

    /// Two outputs, equal line for line but for [`assert_same_number`] differences.
    fn assert_same_output(ours: &str, theirs: &str, what: &str) {
        let (a, b): (Vec<&str>, Vec<&str>) = (ours.split('\n').collect(), theirs.split('\n').collect());
        assert_eq!(a.len(), b.len(), "{what}: line counts differ");
        for (x, y) in a.iter().zip(&b) {
            if x == y {
                continue;
            }
            let (xs, ys): (Vec<&str>, Vec<&str>) = (x.split([',', ' ']).collect(), y.split([',', ' ']).collect());
            assert_eq!(xs.len(), ys.len(), "{what}: {x} / {y}");
            xs.iter().zip(&ys).for_each(|(u, v)| assert_same_number(u, v));
        }
    }

    /// Every preset, with every column, nested table and null the outputs have: the JSON
    /// and the CSV are the serde_json outputs they replaced, byte for byte but for the
    /// digits [`assert_same_number`] allows.
    #[test]
    fn exports_equal_the_serde_json_outputs() {
        for p in crate::PRESETS {
            let mut s = crate::preset(p.id).unwrap();
            s.duration_s = s.duration_s.min(120.0);
            let mut sim = Simulation::new(&s).unwrap();
            sim.run_to_end();
            assert_same_output(&run_json(&sim), &run_json_serde(&sim), &format!("{}: run JSON", p.id));
            assert_same_output(&series_csv(sim.series()), &series_csv_serde(sim.series()), &format!("{}: series CSV", p.id));
        }
    }

    #[test]
    fn the_ledger_csv_writes_each_instant() {
        let mut s = crate::preset("incident-106").unwrap();
        s.duration_s = 2.0;
        let text = ledger_csv(&mut Simulation::new(&s).unwrap());
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(format!("t_s,{}", LEDGER_COLUMNS.join(",")).as_str()));
        let rows: Vec<&str> = lines.collect();
        assert_eq!(rows.first().map(|r| r.split(',').next()), Some(Some("0.0")));
        assert_eq!(rows.last().map(|r| r.split(',').next()), Some(Some("2.0")));
        assert!(rows.iter().all(|r| r.split(',').count() == LEDGER_COLUMNS.len() + 1));
    }
}
