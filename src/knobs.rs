//! The page's knob table: every scenario field worth turning, with its section, unit,
//! slider range and scale, and the exact range typed values may take (the engine's own
//! `limits`). Pure data and functions, so the mapping is tested natively; `controls` only
//! renders it.
//!
//! A field reads and writes the scenario through plain `fn`s. It is *scoped*: global
//! fields take no index; stage fields take the stage's index and apply only to stages of
//! their kind; link and shedding fields apply to a stage's link (or, with [`CONSUMER`], to
//! the consumer's). A getter returns `None` when the field does not apply to the scenario
//! as it is (a knob of an option that is off, a Kafka setting without a topic): the page
//! hides it.
//!
//! The types are in `field`, the table in `table`; this module finds fields in it, and
//! `paths` applies and writes a link's `--set` changes through it (without serde).

mod field;
pub mod paths;
mod table;

pub use field::{testid, Choice, Field, Knob, Scale, Scope, Section, StageKind, CONSUMER, SLIDER_STEPS};
pub use table::FIELDS;

/// The numeric knob with this id.
pub fn knob(id: &str) -> Option<&'static Knob> {
    FIELDS.iter().find_map(|f| match f {
        Field::Num(k) if k.id == id => Some(k),
        _ => None,
    })
}

/// The choice with this id.
pub fn choice(id: &str) -> Option<&'static Choice> {
    FIELDS.iter().find_map(|f| match f {
        Field::Pick(c) if c.id == id => Some(c),
        _ => None,
    })
}

/// Scenario fields named in errors that involve two fields, and the knob each one is: the
/// page says the knobs' labels, not the engine's dotted paths (a path ending matches).
const NAMED: &[(&str, &str)] = &[
    ("consumer.memory.baseline_mib", "baseline"),
    ("consumer.memory.heap_limit_mib", "heap-limit"),
    ("producer.memory.baseline_mib", "producer-baseline"),
    ("producer.memory.heap_limit_mib", "producer-heap-limit"),
    ("consumer.pause.low", "pause-low"),
    ("consumer.pause.high", "pause-high"),
    ("shed.min_queue", "red-min-queue"),
    ("shed.max_queue", "red-max-queue"),
    ("max_queue", "red-max-queue"),
];

fn label_of(path: &str) -> Option<&'static str> {
    NAMED.iter().find(|(p, _)| path.ends_with(p)).and_then(|(_, id)| knob(id)).map(|k| k.label)
}

/// A validation error as the knobs say it: "Baseline heap: must be below Heap limit
/// (512 MiB), …" rather than `consumer.memory.baseline_mib: must be below
/// consumer.memory.heap_limit_mib …`. Fields without a knob keep their path.
pub fn explain(e: &bplab_engine::ScenarioError) -> String {
    let mut out = String::new();
    for (i, fe) in e.errors.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        out.push_str(label_of(&fe.field).unwrap_or(&fe.field));
        out.push_str(": ");
        let mut message = fe.message.clone();
        for (path, _) in NAMED {
            if let Some(label) = label_of(path).filter(|_| message.contains(path)) {
                message = message.replace(path, label);
            }
        }
        out.push_str(&message);
    }
    out
}

/// Whether the seed changes anything in this scenario: Poisson arrivals, a random on/off
/// pattern, a service time that is not fixed (the consumer's or a downstream's), random
/// early detection. Without any of them every seed gives the very same run ("New seed"
/// says so). Checked against the engine on every preset.
pub fn uses_randomness(s: &bplab_engine::Scenario) -> bool {
    use bplab_engine::{Arrivals, Pattern, ServiceDist, ShedSpec, StageSpec};
    let random = |d: &ServiceDist| !matches!(d, ServiceDist::Deterministic {});
    let red = |sh: &Option<ShedSpec>| matches!(sh, Some(ShedSpec::Red { .. }));
    matches!(s.producer.arrivals, Arrivals::Poisson)
        || matches!(s.producer.pattern, Pattern::OnOff { random: true, .. })
        || random(&s.consumer.service)
        || s.consumer.downstream.as_ref().is_some_and(|d| random(&d.service))
        || red(&s.consumer.shed)
        || s.stages.iter().any(|st| matches!(st, StageSpec::Channel(c) if red(&c.shed)))
}

/// The fields of a global section, in order.
pub fn section_fields(section: Section) -> impl Iterator<Item = &'static Field> {
    FIELDS.iter().filter(move |f| match f.scope() {
        Scope::Global(s) => s == section,
        Scope::Link => section == Section::ConsumerLink,
        Scope::Shed => section == Section::Protection,
        Scope::Stage(_) => false,
    })
}

/// The fields of a stage of kind `kind`, in order: its own, then its link's and shedding's.
pub fn stage_fields(kind: StageKind) -> impl Iterator<Item = &'static Field> {
    FIELDS.iter().filter(move |f| match f.scope() {
        Scope::Stage(k) => k == kind,
        Scope::Link => kind.has_link(),
        Scope::Shed => kind == StageKind::Channel,
        Scope::Global(_) => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format;
    use bplab_engine::{preset, Scenario, PRESETS};

    /// Every index a field of this scope may take in `s`.
    fn indices(s: &Scenario, scope: Scope) -> Vec<usize> {
        match scope {
            Scope::Global(Section::ConsumerLink | Section::Protection) | Scope::Link | Scope::Shed => {
                let mut v: Vec<usize> = (0..s.stages.len()).collect();
                v.push(CONSUMER);
                v
            }
            Scope::Global(_) => vec![0],
            Scope::Stage(_) => (0..s.stages.len()).collect(),
        }
    }

    /// The spec a field at dotted `path` belongs to: `consumer.limiter` for
    /// `consumer.limiter.min_limit`.
    fn parent(path: &str) -> &str {
        path.rsplit_once('.').map_or("", |(p, _)| p)
    }

    /// The dotted paths (as `--set` takes them) of the fields that differ between `a` and `b`.
    fn changed_fields(a: &Scenario, b: &Scenario) -> Vec<String> {
        fn walk(path: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
            use serde_json::Value;
            let join = |k: &str| if path.is_empty() { k.to_string() } else { format!("{path}.{k}") };
            match (a, b) {
                (Value::Object(x), Value::Object(y)) => {
                    let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                    for k in keys {
                        let null = Value::Null;
                        walk(&join(k), x.get(k).unwrap_or(&null), y.get(k).unwrap_or(&null), out);
                    }
                }
                (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                    for (i, (p, q)) in x.iter().zip(y).enumerate() {
                        walk(&join(&i.to_string()), p, q, out);
                    }
                }
                _ if a != b => out.push(path.to_string()),
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk("", &serde_json::to_value(a).unwrap(), &serde_json::to_value(b).unwrap(), &mut out);
        out
    }

    #[test]
    fn a_scenario_uses_randomness_exactly_when_another_seed_gives_another_run() {
        let run = |s: &Scenario, seed: u64| {
            let mut s = s.clone();
            s.seed = seed;
            let mut sim = bplab_engine::Simulation::new(&s).unwrap();
            sim.run_until(40.0, u64::MAX);
            (sim.summary(), sim.series().clone())
        };
        let mut random = 0;
        for p in PRESETS {
            let s = p.scenario();
            let differs = run(&s, 1) != run(&s, 2);
            assert_eq!(
                super::uses_randomness(&s),
                differs,
                "{}: the seed {} the run",
                p.id,
                if differs { "changes" } else { "does not change" }
            );
            random += differs as usize;
        }
        assert!(random > 0 && random < PRESETS.len(), "{random} of {} presets use randomness", PRESETS.len());
    }

    #[test]
    fn errors_between_two_fields_name_the_knobs_labels() {
        let mut s = preset("incident-106").unwrap();
        s.consumer.memory.baseline_mib = 600.0;
        let text = super::explain(&s.validate().unwrap_err());
        assert!(text.starts_with("Baseline heap: must be below Heap limit (512 MiB)"), "{text}");
        assert!(!text.contains("consumer."), "{text}");
        let mut s = preset("pause-resume").unwrap();
        if let Some(p) = &mut s.consumer.pause {
            p.low = p.high + 1;
        }
        let text = super::explain(&s.validate().unwrap_err());
        assert!(text.starts_with("Resume at: must be below Pause at ("), "{text}");
        let mut s = preset("buffer-bloat").unwrap();
        s.producer.memory.baseline_mib = 600.0;
        let text = super::explain(&s.validate().unwrap_err());
        assert!(text.starts_with("Producer baseline heap: must be below Producer heap limit (512 MiB)"), "{text}");
        assert!(!text.contains("producer."), "{text}");
        let mut s = preset("shed-red").unwrap();
        let (lo, hi) = (super::knob("red-min-queue").unwrap(), super::knob("red-max-queue").unwrap());
        let i = indices(&s, lo.scope).into_iter().find(|&i| (lo.get)(&s, i).is_some()).expect("a RED stage");
        let max = (hi.get)(&s, i).unwrap();
        (lo.set)(&mut s, i, max + 1.0);
        let text = super::explain(&s.validate().unwrap_err());
        assert!(text.starts_with("RED: start dropping at: must be below RED: max_p reached at ("), "{text}");
    }

    /// Ten knobs changed on any preset (numbers to an odd value near the slider's top,
    /// choices to another option, structural ones such as the rate pattern included) make a
    /// link under 2,000 characters that reads back as the same scenario.
    #[test]
    fn ten_changed_knobs_make_a_short_link_that_round_trips() {
        use bplab_engine::experiment::{decode, encode, ViewState};
        let view = ViewState { t_s: Some(1234.567), speed: Some(333.0), window_s: Some(60.0), ..ViewState::default() };
        let mut longest = (0, "");
        for p in PRESETS {
            let mut s = p.scenario();
            let mut changed = 0;
            for f in FIELDS.iter().rev() {
                for i in indices(&s, f.scope()) {
                    if changed == 10 || !f.applies(&s, i) {
                        continue;
                    }
                    let mut next = s.clone();
                    match f {
                        Field::Num(k) => (k.set)(&mut next, i, if k.integer { (k.max * 0.97).round() } else { k.max * 0.9731 }),
                        Field::Pick(c) => {
                            let cur = (c.get)(&s, i);
                            if let Some((v, _)) = c.options.iter().find(|(v, _)| Some(*v) != cur) {
                                (c.set)(&mut next, i, v);
                            }
                        }
                    }
                    if next != s && next.validate().is_ok() {
                        s = next;
                        changed += 1;
                    }
                }
            }
            assert_eq!(changed, 10, "{}: only {changed} knobs could change", p.id);
            let link = encode(p.id, &s, &view);
            assert!(link.len() <= 2_000, "{}: {} characters: {link}", p.id, link.len());
            let d = decode(&link);
            assert!(d.problems.is_empty(), "{}: {:?}", p.id, d.problems);
            assert_eq!(d.experiment.scenario, s, "{}", p.id);
            if link.len() > longest.0 {
                longest = (link.len(), p.id);
            }
        }
        println!("longest link with ten changed knobs: {} characters ({})", longest.0, longest.1);
    }

    #[test]
    fn ids_are_unique_and_every_slider_range_is_inside_the_engines() {
        let mut ids: Vec<&str> = FIELDS.iter().map(Field::id).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate field ids");
        for f in FIELDS {
            if let Field::Num(k) = f {
                assert!(k.min < k.max, "{}", k.id);
                assert!(k.min >= k.hard.0 && k.max <= k.hard.1, "{}: slider {}..{} outside {:?}", k.id, k.min, k.max, k.hard);
                if k.scale != Scale::Linear {
                    assert!(k.min > 0.0, "{}: a log scale needs a positive minimum", k.id);
                }
            }
        }
    }

    #[test]
    fn every_knob_of_every_preset_round_trips_and_writes_a_valid_scenario() {
        for p in PRESETS {
            let base = p.scenario();
            for f in FIELDS {
                for i in indices(&base, f.scope()) {
                    match f {
                        Field::Num(k) => {
                            let Some(v) = (k.get)(&base, i) else { continue };
                            // The number box shows the value as `format::plain` writes it: that
                            // text is accepted and reads back as the value, to its precision.
                            let shown = format::plain(v);
                            let back = k.parse(&shown).unwrap_or_else(|e| panic!("{} {}: {shown} (for {v}) rejected: {e}", p.id, k.id));
                            assert_eq!(format::plain(back), shown, "{} {}", p.id, k.id);
                            assert!((back - v).abs() <= 5e-4 * v.abs(), "{} {}: {shown} reads as {back}, not {v}", p.id, k.id);
                            for pos in [0.0, 1.0, 250.0, 500.0, 1000.0] {
                                let value = k.from_pos(pos);
                                let mut s = base.clone();
                                (k.set)(&mut s, i, value);
                                assert_eq!((k.get)(&s, i), Some(value), "{} {}", p.id, k.id);
                                assert!((k.to_pos(value) - pos).abs() <= 25.0, "{} pos {pos} -> {value} -> {}", k.id, k.to_pos(value));
                                // A knob writes its one field and nothing else ...
                                let changed = changed_fields(&base, &s);
                                assert!(changed.len() <= 1, "{} {} = {value} changed {changed:?}", p.id, k.id);
                                // ... so anything invalid is about this field or a rule tying it
                                // to another field of the same spec (a limit's initial value
                                // between its minimum and maximum).
                                if let Err(e) = s.validate() {
                                    for fe in &e.errors {
                                        assert!(
                                            !fe.message.is_empty()
                                                && changed.iter().any(|c| fe.field == *c || parent(&fe.field) == parent(c)),
                                            "{} {} = {value}: an error about {}, while {changed:?} changed: {e}",
                                            p.id,
                                            k.id,
                                            fe.field
                                        );
                                    }
                                }
                            }
                        }
                        Field::Pick(c) => {
                            let Some(v) = (c.get)(&base, i) else { continue };
                            assert!(c.options.iter().any(|o| o.0 == v), "{} {}: {v} is not an option", p.id, c.id);
                            for (opt, _) in c.options {
                                let mut s = base.clone();
                                (c.set)(&mut s, i, opt);
                                assert_eq!((c.get)(&s, i), Some(*opt), "{} {} -> {opt}", p.id, c.id);
                                // Switching an option on gives defaults that validate (drop_oldest
                                // on an unbounded receiver is the one rule a choice can break).
                                if *opt != "drop_oldest" {
                                    s.validate().unwrap_or_else(|e| panic!("{} {} = {opt}: {e}", p.id, c.id));
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn typed_values_are_checked_against_the_engines_range_with_a_clear_message() {
        let k = knob("max-poll-records").unwrap();
        assert_eq!(k.parse(" 500 "), Ok(500.0));
        let e = k.parse("0").unwrap_err();
        assert_eq!(e, "max.poll.records: 0 is out of range; enter a whole number from 1 to 1000000 records");
        assert!(k.parse("abc").unwrap_err().starts_with("max.poll.records: enter a whole number"));
        assert!(k.parse("2.5").is_err());
        assert!(knob("producer-rate").unwrap().parse("NaN").is_err());
        // Typed values may leave the slider's range, within the engine's.
        assert_eq!(knob("producer-rate").unwrap().parse("5000000"), Ok(5_000_000.0));
    }

    #[test]
    fn log_zero_sliders_reach_zero_and_keep_decades_apart() {
        let k = knob("commit-latency").unwrap();
        assert_eq!(k.from_pos(0.0), 0.0);
        assert_eq!(k.to_pos(0.0), 0.0);
        assert_eq!(k.from_pos(1.0), k.min);
        assert_eq!(k.from_pos(SLIDER_STEPS), k.max);
        let mid = k.from_pos(SLIDER_STEPS / 2.0);
        assert!(mid > 1.0 && mid < 1_000.0, "{mid}");
    }

    #[test]
    fn fields_that_do_not_apply_are_absent() {
        let s = preset("fix-blocking-channel").unwrap();
        let applies = |id: &str, i: usize| FIELDS.iter().find(|f| f.id() == id).unwrap().applies(&s, i);
        assert!(!applies("partitions", 0));
        assert!(applies("capacity", 0));
        assert!(!applies("members", 0), "a group needs a topic");
        assert!(!applies("credit-initial", 0), "no credits on this link");
        assert!(applies("flow-control", CONSUMER), "without a topic the consumer's link is a knob");
        let incident = preset("incident-106").unwrap();
        assert!(!FIELDS.iter().find(|f| f.id() == "flow-control").unwrap().applies(&incident, CONSUMER));
        assert_eq!((knob("capacity").unwrap().get)(&s, 0), Some(100.0));
    }

    #[test]
    fn every_stage_kind_and_section_has_fields() {
        for kind in [StageKind::Channel, StageKind::Map, StageKind::Filter, StageKind::KafkaProducer, StageKind::Topic] {
            assert!(stage_fields(kind).count() > 0, "{kind:?}");
        }
        for s in Section::ALL {
            assert!(section_fields(s).count() > 0, "{s:?}");
        }
    }
}
