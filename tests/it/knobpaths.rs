//! The page's serde-free link applier and differ (`bplab_app::knobs::paths`) against the
//! engine's serde one (`bplab_engine::experiment`): every knob of every preset set through
//! a path gives the scenario `--set` gives, `changes` round-trips through `apply` and writes
//! the leaves the engine writes, bad values are named, and every lesson and challenge link
//! applies as `bplab run --link` applies it.

use bplab_app::knobs::{paths, Field, FIELDS};
use bplab_engine::experiment::{self, Change, Problem};
use bplab_engine::{preset, Scenario, PRESETS};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn parse(text: &str) -> Option<f64> {
    text.parse().ok()
}

/// The test's `flatten`: a JSON object's leaves with dotted keys (arrays' elements by index),
/// through serde_json, as the page's `JSON.parse` walk does.
fn flatten(text: &str) -> Option<Vec<(String, String)>> {
    fn walk(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
        let members: Vec<(String, &Value)> = match v {
            Value::Object(map) => map.iter().map(|(k, c)| (k.clone(), c)).collect(),
            Value::Array(items) => items.iter().enumerate().map(|(i, c)| (i.to_string(), c)).collect(),
            _ => return,
        };
        for (k, c) in members {
            let key = if prefix.is_empty() { k } else { format!("{prefix}.{k}") };
            match c {
                Value::Object(_) | Value::Array(_) => walk(&key, c, out),
                _ => out.push((key, c.to_string())),
            }
        }
    }
    let v: Value = serde_json::from_str(text).ok()?;
    if !v.is_object() {
        return None;
    }
    let mut out = Vec::new();
    walk("", &v, &mut out);
    Some(out)
}

fn apply(base: &Scenario, changes: &[Change]) -> (Scenario, Vec<Problem>) {
    paths::apply(base, changes, parse, flatten)
}

fn change(path: &str, value: &str) -> Change {
    Change { path: path.to_string(), value: value.to_string() }
}

/// Every path a knob field has in `s` (leaves; a switch's tag as `path.kind`).
fn knob_paths(s: &Scenario) -> Vec<String> {
    let mut out = Vec::new();
    for f in FIELDS {
        for i in paths::indices(s, f.scope()) {
            let p = paths::path(f, s, i);
            if f.path().ends_with(".kind") {
                out.push(format!("{p}.kind"));
            }
            out.push(p);
        }
    }
    out
}

/// A value as a link holds it, read as the engine reads it (numbers as f64).
fn read(raw: &str) -> Value {
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Number(n)) => Value::from(n.as_f64().unwrap()),
        Ok(v) => v,
        Err(_) => Value::String(raw.to_string()),
    }
}

/// Changes as (path, value) leaves: objects flattened under their path.
fn leaves(changes: &[Change]) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for c in changes {
        match flatten(&c.value) {
            Some(members) => {
                for (k, v) in members {
                    out.insert(format!("{}.{k}", c.path), read(&v));
                }
            }
            None => {
                out.insert(c.path.clone(), read(&c.value));
            }
        }
    }
    out
}

/// What the engine makes of one change: `set`, then its validation.
fn engine(base: &Scenario, path: &str, value: &str) -> Option<Scenario> {
    experiment::set(base, path, value).ok().filter(|s| s.validate().is_ok())
}

/// One change through both; the same scenario, and a problem exactly when the engine
/// refuses it (besides members of an object that no knob has, named one by one).
fn same_as_engine(id: &str, base: &Scenario, path: &str, value: &str) {
    let (got, problems) = apply(base, &[change(path, value)]);
    let unknown: Vec<String> = flatten(value)
        .unwrap_or_default()
        .into_iter()
        .map(|(k, _)| format!("{path}.{k}"))
        .filter(|p| !knob_paths(&got).contains(p) && !knob_paths(base).contains(p))
        .collect();
    match engine(base, path, value) {
        Some(want) => {
            assert_eq!(got, want, "{id}: {path}={value}: {problems:?}");
            let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
            assert_eq!(keys, unknown, "{id}: {path}={value}: {problems:?}");
        }
        None => {
            assert_eq!(got, *base, "{id}: {path}={value} is refused by the engine");
            assert_eq!(problems.len(), 1, "{id}: {path}={value}: {problems:?}");
            assert_eq!(problems[0].key, path, "{id}: {path}={value}: {problems:?}");
        }
    }
}

#[test]
fn every_knob_of_every_preset_sets_what_the_engine_sets() {
    let mut checked = 0;
    for p in PRESETS {
        let base = p.scenario();
        for f in FIELDS {
            for i in paths::indices(&base, f.scope()) {
                if !f.applies(&base, i) {
                    continue;
                }
                let path = paths::path(f, &base, i);
                match f {
                    Field::Num(k) => {
                        for v in [k.hard.0, k.hard.1, k.from_pos(500.0), k.min, k.max] {
                            same_as_engine(p.id, &base, &path, &experiment::number(v));
                            checked += 1;
                        }
                    }
                    Field::Pick(c) => {
                        for (o, _) in c.options {
                            let mut t = base.clone();
                            (c.set)(&mut t, i, o);
                            // The option as the engine writes it at the field's path: a
                            // string, a boolean, null or (a switched option) its object.
                            let value = experiment::to_value(&t);
                            let node = path.split('.').fold(&value, |v, key| match v {
                                Value::Array(items) => &items[key.parse::<usize>().unwrap()],
                                _ => &v[key],
                            });
                            let text = match node {
                                Value::String(s) => s.clone(),
                                other => other.to_string(),
                            };
                            // An option that turns a number on (bounded, a retention time) is
                            // that number.
                            same_as_engine(p.id, &base, &path, &text);
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    println!("{checked} knob values set through both appliers");
}

/// Scenarios made by turning many knobs of a preset, in the table's order (a switch before
/// the fields it shows), each kept when it validates.
fn turned(base: &Scenario, variant: usize) -> Scenario {
    let mut s = base.clone();
    for (n, f) in FIELDS.iter().enumerate() {
        if !(n + variant).is_multiple_of(3) {
            continue;
        }
        for i in paths::indices(&s, f.scope()) {
            if !f.applies(&s, i) {
                continue;
            }
            let mut next = s.clone();
            match f {
                Field::Num(k) => (k.set)(&mut next, i, k.from_pos([137.0, 611.0, 893.0][variant % 3])),
                Field::Pick(c) => {
                    let cur = (c.get)(&s, i);
                    let others: Vec<&str> = c.options.iter().map(|o| o.0).filter(|o| Some(*o) != cur).collect();
                    (c.set)(&mut next, i, others[variant % others.len()]);
                }
            }
            if next.validate().is_ok() {
                s = next;
            }
        }
    }
    s.seed = base.seed + variant as u64;
    s
}

#[test]
fn changes_round_trip_and_write_the_leaves_the_engine_writes() {
    for p in PRESETS {
        let base = p.scenario();
        for variant in 0..6 {
            let s = turned(&base, variant);
            let ours = paths::changes(&base, &s, experiment::number);
            let (back, problems) = apply(&base, &ours);
            assert_eq!(problems, vec![], "{} #{variant}: {ours:?}", p.id);
            assert_eq!(back, s, "{} #{variant}: {ours:?}", p.id);
            assert_eq!(paths::changes(&base, &back, experiment::number), ours, "{} #{variant}: canonical", p.id);
            // The engine's leaves, but for members no knob has (a Vegas limiter's
            // probe_multiplier), which a switched option leaves at the default.
            let known = knob_paths(&s);
            let engine: BTreeMap<String, Value> =
                leaves(&experiment::changes(&base, &s)).into_iter().filter(|(k, _)| k == "seed" || known.contains(k)).collect();
            assert_eq!(leaves(&ours), engine, "{} #{variant}", p.id);
            // The page's link reads back through the engine (`bplab run --link`) ...
            let link = experiment::write(p.id, &ours, &experiment::ViewState::default());
            let d = experiment::decode(&link);
            assert_eq!(d.problems, vec![], "{link}");
            assert_eq!(d.experiment.scenario, s, "{link}");
            // ... and the engine's link through the page, but for members no knob has (named).
            let (back, problems) = apply(&base, &experiment::changes(&base, &s));
            assert_eq!(back, s, "{} #{variant}: {problems:?}", p.id);
            for problem in problems {
                assert!(!known.contains(&problem.key) && problem.message.contains("no knob"), "{} #{variant}: {problem}", p.id);
            }
        }
    }
}

#[test]
fn bad_values_are_one_problem_each_naming_the_key() {
    let base = preset("incident-106").unwrap();
    let bad = [
        ("consumer.workers", "0", "from 1"),
        ("consumer.workers", "2.5", "whole number"),
        ("producer.rate_per_s", "NaN", "a number"),
        ("producer.rate_per_s", "1e999", "a number"),
        ("producer.rate_per_s", "fast", "a number"),
        ("producer.rate_per_s", "0x10", "a number"),
        ("consumer.nope", "1", "no knob"),
        ("consumer.mode", "turbo", "sync, async"),
        ("consumer.workers", "[1]", "a whole number"),
        ("consumer.shed", "[1,2]", "JSON object or null"),
        ("seed", "-1", "whole number"),
        ("stages", r#"[{"kind":"pipe"}]"#, "must be one of channel, map"),
        ("stages", r#"{"kind":"topic"}"#, "a JSON array of stages"),
        ("stages", r#"[{"capacity":1}]"#, "needs a \"kind\""),
        ("stages.0.kind", "pipe", "must be one of channel, map"),
        ("producer.throttle", r#"{"kind":"bogus"}"#, "aimd, pid"),
        ("consumer.pause.high", "100", "not in this scenario"),
    ];
    for (path, value, says) in bad {
        let (got, problems) = apply(&base, &[change(path, value)]);
        assert_eq!(got, base, "{path}={value}");
        assert_eq!(problems.len(), 1, "{path}={value}: {problems:?}");
        assert_eq!(problems[0].key, path);
        assert!(problems[0].message.contains(says), "{path}={value}: {}", problems[0].message);
    }
    // The rest of a link still applies, and a rule between fields takes back the change
    // it names, as the engine does.
    let l = base.consumer.memory.heap_limit_mib;
    let link =
        [change("consumer.workers", "four"), change("consumer.memory.baseline_mib", &experiment::number(l + 100.0)), change("seed", "9")];
    let (got, problems) = apply(&base, &link);
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["consumer.workers", "consumer.memory.baseline_mib"], "{problems:?}");
    assert!(problems[1].message.contains("kept 64"), "{}", problems[1]);
    assert_eq!(got, Scenario { seed: 9, ..base.clone() });
    let together = [
        change("consumer.memory.baseline_mib", &experiment::number(l + 100.0)),
        change("consumer.memory.heap_limit_mib", &experiment::number(l + 200.0)),
    ];
    let (got, problems) = apply(&base, &together);
    assert_eq!(problems, vec![]);
    assert_eq!(got.consumer.memory.baseline_mib, l + 100.0);
}

#[test]
fn objects_and_null_switch_options_as_the_engine_does() {
    let base = preset("fix-sync-poll").unwrap();
    for (path, value) in [
        (
            "producer.throttle",
            r#"{"kind":"aimd","target_lag":50000,"increase_per_s":50,"decrease_factor":0.5,"interval_ms":1000,"min_rate_per_s":1}"#,
        ),
        ("consumer.shed", r#"{"kind":"queue_length","max_queue":5000}"#),
        ("consumer.pause", r#"{"high":20000,"low":10000}"#),
        ("consumer.downstream", r#"{"slots":4,"rate_per_slot":50,"service":{"kind":"lognormal","sigma":0.7}}"#),
        (
            "consumer.limiter",
            r#"{"kind":"gradient2","initial_limit":20,"min_limit":1,"max_concurrency":200,"smoothing":0.2,"queue_size":4,"long_window":600,"rtt_tolerance":1.5}"#,
        ),
        ("producer.pattern", r#"{"kind":"sine","period_s":60,"amplitude":0.5}"#),
        ("stages.0.capacity", "null"),
        ("producer.memory.heap_limit_mib", "300"),
    ] {
        same_as_engine("fix-sync-poll", &base, path, value);
    }
    let (got, problems) = apply(&base, &[change("consumer.pause", r#"{"high":20000,"low":10000}"#), change("consumer.pause", "null")]);
    assert_eq!((got, problems), (base, vec![]));
}

/// Every link of the shipped lessons and challenges (`preset=` in content/**/*.toml).
fn content_links() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("content");
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "toml") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (at, _) in text.match_indices("preset=") {
                    let start = text[..at].rfind(['"', '\'']).unwrap();
                    let quote = &text[start..=start];
                    let end = at + text[at..].find(quote).unwrap();
                    out.push((path.display().to_string(), text[start + 1..end].to_string()));
                }
            }
        }
    }
    out
}

#[test]
fn every_lesson_and_challenge_link_applies_as_the_engine_applies_it() {
    let links = content_links();
    assert!(links.len() > 20, "{} links", links.len());
    for (file, link) in links {
        let q = experiment::read(&link);
        assert_eq!(q.problems, vec![], "{file}: {link}");
        let (got, problems) = apply(&preset(&q.preset).unwrap(), &q.changes);
        let d = experiment::decode(&link);
        assert_eq!(d.problems, vec![], "{file}: {link}");
        assert_eq!(problems, vec![], "{file}: {link}");
        assert_eq!(got, d.experiment.scenario, "{file}: {link}");
    }
}

#[test]
fn structural_changes_build_the_pipeline_the_engine_builds() {
    let cases = [
        ("incident-106", r#"stages=[{"kind":"channel","capacity":100},{"kind":"topic","partitions":4}]"#),
        ("fix-blocking-channel", r#"stages.0={"kind":"topic","partitions":3}"#),
        ("fix-blocking-channel", r#"stages=[{"kind":"map"},{"kind":"filter","pass_ratio":0.25},{"kind":"channel","capacity":50}]"#),
        ("incident-106", "stages=[]"),
        ("fix-blocking-channel", "stages.0.kind=channel"),
    ];
    for (id, change_text) in cases {
        let base = preset(id).unwrap();
        let link = format!("preset={id}&{change_text}");
        let d = experiment::decode(&link);
        assert!(d.problems.is_empty(), "{link}: the engine says {:?}", d.problems);
        let q = experiment::read(&link);
        let (got, problems) = apply(&base, &q.changes);
        assert!(problems.is_empty(), "{link}: {problems:?}");
        assert_eq!(got, d.experiment.scenario, "{link}");
        // The engine's own link for it (whole stages as JSON) applies the same.
        let canonical = experiment::encode(id, &got, &Default::default());
        let (again, problems) = apply(&base, &experiment::read(&canonical).changes);
        assert!(problems.is_empty(), "{canonical}: {problems:?}");
        assert_eq!(again, got, "{canonical}");
        // And the page writes it back: the kinds, then the knobs.
        let written = paths::changes(&base, &got, experiment::number);
        let (back, problems) = apply(&base, &written);
        assert!(problems.is_empty(), "{written:?}: {problems:?}");
        assert_eq!(back, got, "{written:?}");
        let engine_reads = experiment::decode(&experiment::write(id, &written, &Default::default()));
        assert_eq!(engine_reads.experiment.scenario, got, "{written:?}: {:?}", engine_reads.problems);
    }
}
