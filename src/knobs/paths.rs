//! `--set` changes without serde: a link's changes applied to a scenario, and the changes
//! between two scenarios written, through the knob table alone. The shipped page cannot
//! afford the scenario's (de)serialisation (`bplab_engine::experiment::decode`), so it reads
//! and writes links with this module. Pure.
//!
//! Every field of the table has the path `--set` writes it at (`Knob::path`,
//! `Choice::path`): `*` stands for `stages.{i}`, or `consumer` for the consumer's link and
//! shedding ([`CONSUMER`]); a segment marked `?` is an `Option` that is `null` when the
//! choice is off (`none`, `off`, `forever`, `unlimited`, `unbounded`); a path ending in
//! `.kind` is the tag of a `kind`-tagged enum; a trailing `!` marks a boolean (the first
//! option is `false`); `a|b` is `a` for an AIMD limiter and `b` for the others
//! (`max_limit`, `max_concurrency`).
//!
//! [`apply`] applies a link's changes in order, as the engine does: each change whose path
//! is no field of the table, whose field does not exist in the scenario as it is, or whose
//! value is not a number in the field's range (or one of the choice's options), is a
//! [`Problem`] naming it; then, while the result does not validate, the change an error is
//! about is taken back. A JSON object (`producer.throttle={"kind":"aimd",…}`) switches the
//! option (to the page's defaults, which are the engine's) and then applies its members; a
//! member without a knob (`probe_multiplier`) is a problem. Structural changes (the whole
//! pipeline, `stages=[…]`; a stage replaced, `stages.1={…}`, or of another kind) build each
//! new stage from its kind's defaults, the engine's, then apply its members. Where the engine
//! refuses a change for its shape the page is more lenient: a tag alone
//! (`producer.throttle.kind=pid`) or an object short of a member switches to the page's
//! defaults for the rest.
//!
//! [`changes`] writes the changes from one scenario to another over every field the table
//! has, plus the seed, sorted by path: another pipeline as its stages' kinds
//! (`stages=[{"kind":"channel"},{"kind":"topic"}]`, then the stages' knobs leaf by leaf), a switched option as a whole JSON object (or
//! `null`), as the engine reads it, other fields leaf by leaf. A field the page hides in the
//! scenario (the consumer's link under a topic, the auto-commit interval without
//! auto-commit …) is not written. `apply(base, &changes(base, s)) == s` whenever `s`
//! differs from `base` only in fields the page shows.

use super::field::{Choice, Scope, StageKind, CONSUMER};
use super::{Field, FIELDS};
use crate::format;
use bplab_engine::experiment::{json_number, number_with, take_back, Change, Problem};
use bplab_engine::{LimiterSpec, Scenario, StageSpec};

/// Choice options that mean an `Option` field is `null`.
const OFF: [&str; 5] = ["none", "off", "forever", "unlimited", "unbounded"];

/// Reads a number in JSON syntax (the page: `parseFloat`).
pub type Parse = fn(&str) -> Option<f64>;
/// A JSON object's leaf members as (dotted key, raw JSON value; an array's elements keyed by
/// their index: `stages.0.kind`), `None` when the text is not a JSON object.
pub type Flatten = fn(&str) -> Option<Vec<(String, String)>>;

/// `base` with the link's `changes` applied in order, and a problem for each change that
/// could not be; the result always validates (when `base` does).
pub fn apply(base: &Scenario, changes: &[Change], parse: Parse, flatten: Flatten) -> (Scenario, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut s = base.clone();
    let mut kept: Vec<&Change> = Vec::new();
    for c in changes {
        match one(&s, &c.path, &c.value, parse, flatten, &mut problems) {
            Ok(next) => {
                s = next;
                kept.push(c);
            }
            Err(message) => problems.push(problem(&c.path, message)),
        }
    }
    loop {
        let Err(e) = s.validate() else { return (s, problems) };
        if kept.is_empty() {
            return (base.clone(), problems);
        }
        let (index, message) = take_back(&e, &kept, |path| value_text(base, path));
        let dropped = kept.remove(index);
        problems.push(problem(&dropped.path, message));
        s = base.clone();
        for c in &kept {
            if let Ok(next) = one(&s, &c.path, &c.value, parse, flatten, &mut Vec::new()) {
                s = next;
            }
        }
    }
}

/// The changes from `base` to `s` over the knob table's fields and the seed, sorted by
/// path; numbers written with [`number_with`] and `show`.
pub fn changes(base: &Scenario, s: &Scenario, show: fn(f64) -> String) -> Vec<Change> {
    let mut out = Vec::new();
    let mut r = base.clone();
    // Another pipeline: its stages' kinds, each from its defaults; the knobs say the rest.
    let kinds: Vec<&str> = s.stages.iter().map(kind_name).collect();
    if kinds != base.stages.iter().map(kind_name).collect::<Vec<_>>() {
        r.stages = kinds.iter().filter_map(|k| default_stage(k)).collect();
        let list: Vec<String> = kinds.iter().map(|k| format!("{{\"kind\":\"{k}\"}}")).collect();
        out.push(Change { path: "stages".into(), value: format!("[{}]", list.join(",")) });
    }
    // Switched options first, outer before inner (`consumer.downstream` before
    // `consumer.downstream.service`): an object or `null`.
    let mut switches: Vec<(String, &Choice, usize)> = Vec::new();
    for f in FIELDS {
        if let Field::Pick(c) = f {
            if is_switch(c) {
                for i in indices(s, c.scope) {
                    switches.push((object_path(c, s, i), c, i));
                }
            }
        }
    }
    let order = by_path(&switches.iter().map(|w| w.0.clone()).collect::<Vec<_>>());
    for (p, c, i) in order.into_iter().map(|k| switches[k].clone()) {
        let Some(want) = (c.get)(s, i) else { continue };
        if (c.get)(&r, i) == Some(want) {
            continue;
        }
        if nullable(c) && OFF.contains(&want) {
            // Hidden in `r` (a block timeout while dropping), it may be null already.
            let mut t = r.clone();
            set_off(&mut t, c, i, want);
            if t != r {
                r = t;
                out.push(Change { path: p, value: "null".into() });
            }
        } else if !has_number(c) {
            reset(&mut r, c, i, want);
            let mut members = Vec::new();
            for (f, rel) in under(s, &p, i) {
                let text = match f {
                    Field::Num(k) => (k.get)(s, i).map(|v| {
                        (k.set)(&mut r, i, v);
                        number_with(v, show)
                    }),
                    Field::Pick(o) => (o.get)(s, i).map(|v| {
                        (o.set)(&mut r, i, v);
                        json_option(o, v)
                    }),
                };
                if let Some(text) = text {
                    members.push((rel, text));
                }
            }
            // Keys in alphabetical order, as the engine writes an object's JSON: the same
            // canonical link (and run digest) from the page and from `bplab`.
            let order = by_key(&members.iter().map(|m| m.0.clone()).collect::<Vec<_>>(), false);
            let members: Vec<(String, String)> = order.into_iter().map(|k| members[k].clone()).collect();
            out.push(Change { path: p, value: object(&members) });
        }
    }
    // Then every other field, leaf by leaf.
    for f in FIELDS {
        if matches!(f, Field::Pick(c) if is_switch(c)) {
            continue;
        }
        for i in indices(s, f.scope()) {
            let path = concrete(f.path(), s, i);
            match f {
                Field::Num(k) => {
                    if let Some(v) = (k.get)(s, i).filter(|v| (k.get)(&r, i) != Some(*v)) {
                        (k.set)(&mut r, i, v);
                        out.push(Change { path, value: number_with(v, show) });
                    }
                }
                Field::Pick(c) => {
                    if let Some(v) = (c.get)(s, i).filter(|v| (c.get)(&r, i) != Some(*v)) {
                        (c.set)(&mut r, i, v);
                        let value = if boolean(c) { json_option(c, v) } else { v.to_string() };
                        out.push(Change { path, value });
                    }
                }
            }
        }
    }
    if s.seed != base.seed {
        out.push(Change { path: "seed".into(), value: s.seed.to_string() });
    }
    let order = by_path(&out.iter().map(|c| c.path.clone()).collect::<Vec<_>>());
    order.into_iter().map(|k| out[k].clone()).collect()
}

/// One change applied to `s`: the new scenario, or what was wrong. An object's members
/// without a knob are left at the page's defaults, each a problem in `notes`.
fn one(s: &Scenario, key: &str, raw: &str, parse: Parse, flatten: Flatten, notes: &mut Vec<Problem>) -> Result<Scenario, String> {
    let text = raw.trim();
    if key == "seed" {
        return match text.bytes().all(|b| b.is_ascii_digit()).then(|| text.parse::<u64>().ok()).flatten() {
            Some(seed) => Ok(Scenario { seed, ..s.clone() }),
            None => Err(format!("must be a whole number from 0 to {} (got {}); kept {}", u64::MAX, quote(raw), s.seed)),
        };
    }
    if let Some(restaged) = restage(s, key, text, parse, flatten, notes) {
        return restaged;
    }
    let mut next = s.clone();
    if text == "null" {
        let (c, i) = switch_at(s, key).filter(|(c, _)| nullable(c)).ok_or_else(|| no_knob(s, key))?;
        let off = c.options.iter().map(|o| o.0).find(|o| OFF.contains(o)).unwrap_or(c.options[0].0);
        set_off(&mut next, c, i, off);
        return Ok(next);
    }
    if text.starts_with('{') {
        let members = flatten(text).ok_or_else(|| format!("is not a JSON object (got {}); kept {}", quote(raw), value_text(s, key)))?;
        let (c, i) = switch_at(s, key).filter(|(c, _)| !has_number(c)).ok_or_else(|| no_knob(s, key))?;
        let order = by_path(&members.iter().map(|m| m.0.clone()).collect::<Vec<_>>());
        let members: Vec<(String, String)> = order.into_iter().map(|k| members[k].clone()).collect();
        let kind = c.path.ends_with(".kind");
        let on = if kind {
            let (_, k) =
                members.iter().find(|(k, _)| k == "kind").ok_or_else(|| format!("needs a \"kind\"; kept {}", value_text(s, key)))?;
            unquote(k)
        } else {
            c.options.iter().map(|o| o.0).find(|o| !OFF.contains(o)).unwrap_or(c.options[0].0)
        };
        if !c.options.iter().any(|o| o.0 == on) || nullable(c) && OFF.contains(&on) {
            return Err(format!("kind must be one of {} (got {}); kept {}", options(c), quote(on), value_text(s, key)));
        }
        reset(&mut next, c, i, on);
        for (k, v) in members.iter().filter(|(k, _)| !(kind && k == "kind")) {
            let path = format!("{key}.{k}");
            if matching(&next, &path, false).is_empty() && matching(&next, &path, true).is_empty() && !path.ends_with(".kind") {
                let message = format!("the page has no knob for it; kept the default (got {})", quote(v));
                notes.push(problem(&path, message));
                continue;
            }
            next = one(&next, &path, v, parse, flatten, notes).map_err(|m| format!("{k}: {m}"))?;
        }
        return Ok(next);
    }
    let (f, i) = leaf_at(s, key)?;
    match f {
        Field::Num(k) => {
            let (lo, hi) = k.hard;
            let range = format!(
                "{} from {} to {}{}{}",
                if k.integer { "a whole number" } else { "a number" },
                format::plain(lo),
                format::plain(hi),
                if k.unit.is_empty() { "" } else { " " },
                k.unit
            );
            let v = json_number(text).then(|| parse(text)).flatten().filter(|v| v.is_finite());
            match v {
                Some(v) if v >= lo && v <= hi && (!k.integer || v.fract() == 0.0) => (k.set)(&mut next, i, v),
                _ => return Err(format!("must be {range} (got {}); kept {}", quote(raw), value_text(s, key))),
            }
        }
        Field::Pick(c) => {
            let v = if boolean(c) {
                match text {
                    "false" => c.options[0].0,
                    "true" => c.options[1].0,
                    _ => return Err(format!("must be true or false (got {}); kept {}", quote(raw), value_text(s, key))),
                }
            } else {
                let v = unquote(text);
                c.options
                    .iter()
                    .map(|o| o.0)
                    .find(|o| *o == v)
                    .ok_or_else(|| format!("must be one of {} (got {}); kept {}", options(c), quote(raw), value_text(s, key)))?
            };
            (c.set)(&mut next, i, v);
        }
    }
    Ok(next)
}

/// A choice that switches an option on or off, or an enum's kind: its value is an object
/// (or `null`) at [`object_path`].
fn is_switch(c: &Choice) -> bool {
    c.path.ends_with(".kind") || c.path.ends_with('?')
}

fn nullable(c: &Choice) -> bool {
    c.path.contains('?')
}

fn boolean(c: &Choice) -> bool {
    c.path.ends_with('!')
}

/// An `Option` number with a choice of its own (`capacity`, `retention_ms`): the number
/// turns it on, `null` off.
fn has_number(c: &Choice) -> bool {
    c.path.ends_with('?') && FIELDS.iter().any(|f| matches!(f, Field::Num(k) if k.path == c.path.trim_end_matches('?')))
}

/// Where a switch's object goes: `producer.throttle` for `producer.throttle?.kind`.
fn object_path(c: &Choice, s: &Scenario, i: usize) -> String {
    let p = concrete(c.path, s, i);
    p.strip_suffix(".kind").map(str::to_string).unwrap_or(p)
}

/// Where a field at index `i` of `s` is written: a switch's object (`producer.throttle`,
/// `stages.0.capacity` for null), any other field's leaf (`consumer.link.control.initial`).
pub fn path(f: &Field, s: &Scenario, i: usize) -> String {
    match f {
        Field::Pick(c) if is_switch(c) => object_path(c, s, i),
        _ => concrete(f.path(), s, i),
    }
}

/// A marked path at index `i` of `s`, as `--set` writes it.
fn concrete(path: &str, s: &Scenario, i: usize) -> String {
    let mut p = path.replace(['?', '!'], "");
    if let Some((a, b)) = p.split_once('|') {
        p = if matches!(s.consumer.limiter, Some(LimiterSpec::Aimd(_))) {
            a.to_string()
        } else {
            format!("{}{b}", &a[..a.rfind('.').map_or(0, |d| d + 1)])
        };
    }
    match (p.strip_prefix('*'), i) {
        (Some(rest), CONSUMER) => format!("consumer{rest}"),
        (Some(rest), i) => format!("stages.{i}{rest}"),
        (None, _) => p,
    }
}

/// Every index a field of this scope has in `s`.
pub fn indices(s: &Scenario, scope: Scope) -> Vec<usize> {
    let kinds = s.stages.iter().map(StageKind::of).enumerate();
    match scope {
        Scope::Global(_) => vec![0],
        Scope::Stage(kind) => kinds.filter(|(_, k)| *k == kind).map(|(i, _)| i).collect(),
        Scope::Link => kinds.filter(|(_, k)| k.has_link()).map(|(i, _)| i).chain([CONSUMER]).collect(),
        Scope::Shed => kinds.filter(|(_, k)| *k == StageKind::Channel).map(|(i, _)| i).chain([CONSUMER]).collect(),
    }
}

/// Whether the field is in `s` at `i`, shown or not: its getter reads it, or its setter
/// changes something (the auto-commit interval under commitSync, a channel's capacity
/// while unbounded).
fn exists(f: &Field, s: &Scenario, i: usize) -> bool {
    let changes = |set: &dyn Fn(&mut Scenario)| {
        let mut t = s.clone();
        set(&mut t);
        t != *s
    };
    match f {
        Field::Num(k) => (k.get)(s, i).is_some() || [k.hard.0, k.hard.1].iter().any(|v| changes(&|t| (k.set)(t, i, *v))),
        Field::Pick(c) => (c.get)(s, i).is_some() || c.options.iter().any(|o| changes(&|t| (c.set)(t, i, o.0))),
    }
}

/// The fields whose path is `key` in `s`, with their index.
fn matching(s: &Scenario, key: &str, object: bool) -> Vec<(&'static Field, usize)> {
    let mut out = Vec::new();
    for f in FIELDS {
        for i in indices(s, f.scope()) {
            let hit = match f {
                Field::Pick(c) if is_switch(c) => object && object_path(c, s, i) == key,
                _ => !object && concrete(f.path(), s, i) == key,
            };
            if hit {
                out.push((f, i));
            }
        }
    }
    out
}

fn switch_at(s: &Scenario, key: &str) -> Option<(&'static Choice, usize)> {
    matching(s, key, true).into_iter().find_map(|(f, i)| match f {
        Field::Pick(c) if exists(f, s, i) => Some((c, i)),
        _ => None,
    })
}

fn leaf_at(s: &Scenario, key: &str) -> Result<(&'static Field, usize), String> {
    let mut found = matching(s, key, false);
    // A switch's tag as a leaf (`producer.throttle.kind=pid`) switches it.
    found.extend(matching(s, key.strip_suffix(".kind").unwrap_or(""), true).into_iter().filter(|(f, _)| f.path().ends_with(".kind")));
    if found.is_empty() {
        return Err(if matching(s, key, true).is_empty() {
            no_knob(s, key)
        } else {
            "is a JSON object or null (bplab run --link applies other values); ignored".into()
        });
    }
    found
        .into_iter()
        .find(|(f, i)| exists(f, s, *i))
        .ok_or_else(|| "is not in this scenario as it is (switch its option on first, or bplab run --link applies it); ignored".to_string())
}

fn no_knob(s: &Scenario, key: &str) -> String {
    let structural = key == "stages" || key.ends_with(".kind") && key.starts_with("stages.") || !matching(s, key, true).is_empty();
    if structural {
        "the page cannot apply this change (a structural one; bplab run --link applies it); ignored".into()
    } else {
        "the page has no knob for this path in this scenario (bplab run --link applies every change); ignored".into()
    }
}

/// A stage's kind as the engine names it (`kafka_producer`).
fn kind_name(stage: &StageSpec) -> &'static str {
    match stage {
        StageSpec::Channel(_) => "channel",
        StageSpec::Map(_) => "map",
        StageSpec::Filter(_) => "filter",
        StageSpec::KafkaProducer(_) => "kafka_producer",
        StageSpec::Topic(_) => "topic",
    }
}

/// A stage of kind `name` with the engine's defaults.
fn default_stage(name: &str) -> Option<StageSpec> {
    Some(match name {
        "channel" => StageSpec::Channel(Default::default()),
        "map" => StageSpec::Map(Default::default()),
        "filter" => StageSpec::Filter(Default::default()),
        "kafka_producer" => StageSpec::KafkaProducer(Default::default()),
        "topic" => StageSpec::Topic(Default::default()),
        _ => return None,
    })
}

/// A structural change, which no knob makes: the whole pipeline (`stages=[{"kind":"channel",
/// "capacity":100},{"kind":"topic"}]`), a stage replaced (`stages.1={"kind":"topic",…}`) or
/// given another kind (`stages.1.kind=topic`; its own kind again changes nothing). Each new
/// stage starts from its kind's defaults (the engine's), then its members apply as changes of
/// their own; a member without a knob is a problem in `notes`. `None`: not such a change.
fn restage(
    s: &Scenario,
    key: &str,
    text: &str,
    parse: Parse,
    flatten: Flatten,
    notes: &mut Vec<Problem>,
) -> Option<Result<Scenario, String>> {
    let whole = key == "stages";
    let leaves: Vec<(String, String)> = if whole {
        // An array's elements flatten as members "0", "1", …
        let leaves = flatten(&format!("{{\"stages\":{text}}}")).filter(|_| text.starts_with('['));
        match leaves {
            Some(l) => l,
            None => return Some(Err(format!("must be a JSON array of stages (got {}); ignored", quote(text)))),
        }
    } else {
        let (n, tail) = key.strip_prefix("stages.")?.split_once('.').map_or((&key[7..], ""), |(n, t)| (n, t));
        let n: usize = n.parse().ok().filter(|n| *n < s.stages.len())?;
        match tail {
            "" if text.starts_with('{') => flatten(text)?.into_iter().map(|(k, v)| (format!("stages.{n}.{k}"), v)).collect(),
            "kind" if unquote(text) == kind_name(&s.stages[n]) => return Some(Ok(s.clone())),
            "kind" => vec![(key.to_string(), text.to_string())],
            _ => return None,
        }
    };
    let mut next = s.clone();
    if whole {
        next.stages.clear();
    }
    let kind_of = |k: &str| k.strip_suffix(".kind").and_then(|k| k.strip_prefix("stages.")).and_then(|i| i.parse::<usize>().ok());
    for (k, v) in &leaves {
        let Some(i) = kind_of(k) else { continue };
        let Some(stage) = default_stage(unquote(v)) else {
            return Some(Err(format!("{k}: must be one of channel, map, filter, kafka_producer, topic (got {}); ignored", quote(v))));
        };
        if whole && i == next.stages.len() {
            next.stages.push(stage);
        } else if !whole && i < next.stages.len() {
            next.stages[i] = stage;
        } else {
            return Some(Err(format!("{k}: out of order; ignored")));
        }
    }
    let counted = leaves.iter().filter_map(|(k, _)| k.strip_prefix("stages.")?.split('.').next()?.parse::<usize>().ok()).max();
    if whole && counted.map_or(0, |n| n + 1) != next.stages.len() {
        return Some(Err("each stage needs a \"kind\"; ignored".into()));
    }
    let order = by_path(&leaves.iter().map(|l| l.0.clone()).collect::<Vec<_>>());
    for (k, v) in order.into_iter().map(|i| &leaves[i]).filter(|(k, _)| kind_of(k).is_none()) {
        if matching(&next, k, false).is_empty() && matching(&next, k, true).is_empty() && !k.ends_with(".kind") {
            notes.push(problem(k, format!("the page has no knob for it; kept the default (got {})", quote(v))));
            continue;
        }
        match one(&next, k, v, parse, flatten, notes) {
            Ok(t) => next = t,
            Err(m) => return Some(Err(format!("{k}: {m}"))),
        }
    }
    Some(Ok(next))
}

/// Sets a switch to `on` from its defaults: off (or another kind) first.
fn reset(s: &mut Scenario, c: &Choice, i: usize, on: &str) {
    let other = c.options.iter().map(|o| o.0).find(|o| *o != on).unwrap_or(on);
    (c.set)(s, i, other);
    (c.set)(s, i, on);
}

/// Turns an option off and nothing else (a choice that also fixes another field, as an
/// unbounded channel's `drop_oldest`, has that field put back).
fn set_off(s: &mut Scenario, c: &Choice, i: usize, off: &str) {
    let before = s.clone();
    (c.set)(s, i, off);
    let p = object_path(c, &before, i);
    for f in FIELDS {
        for j in indices(s, f.scope()) {
            let q = concrete(f.path(), s, j);
            if q == p || q.starts_with(&format!("{p}.")) {
                continue;
            }
            match f {
                Field::Num(k) => {
                    if let Some(v) = (k.get)(&before, j).filter(|v| (k.get)(s, j) != Some(*v)) {
                        (k.set)(s, j, v);
                    }
                }
                Field::Pick(o) => {
                    if let Some(v) = (o.get)(&before, j).filter(|v| (o.get)(s, j) != Some(*v)) {
                        (o.set)(s, j, v);
                    }
                }
            }
        }
    }
}

/// The fields shown in `s` under `prefix` at `i`, with their paths relative to it, in
/// order (kinds first).
fn under(s: &Scenario, prefix: &str, i: usize) -> Vec<(&'static Field, String)> {
    let mut out: Vec<(&'static Field, String)> = Vec::new();
    for f in FIELDS {
        if matches!(f, Field::Pick(c) if c.path.ends_with('?')) || !f.applies(s, i) || !indices(s, f.scope()).contains(&i) {
            continue;
        }
        if let Some(rel) = concrete(f.path(), s, i).strip_prefix(&format!("{prefix}.")) {
            out.push((f, rel.to_string()));
        }
    }
    let order = by_path(&out.iter().map(|u| u.1.clone()).collect::<Vec<_>>());
    order.into_iter().map(|k| out[k].clone()).collect()
}

/// The order of `paths` (positions into it): segment by segment, each `kind` before its
/// siblings. One sort for every
/// list of paths here: each `sort_by` on another element type would add its own copy of
/// the sorting code to the page's download.
fn by_path(paths: &[String]) -> Vec<usize> {
    by_key(paths, true)
}

/// [`by_path`], with `kind` first among its siblings or (`false`) in its alphabetical place,
/// as the engine's JSON objects (and so its links' object values) keep their keys.
fn by_key(paths: &[String], kind_first: bool) -> Vec<usize> {
    let key = |p: &str| -> Vec<String> {
        p.split('.').map(|seg| if kind_first && seg == "kind" { String::new() } else { seg.to_string() }).collect()
    };
    let mut order: Vec<usize> = (0..paths.len()).collect();
    order.sort_unstable_by(|&a, &b| key(&paths[a]).cmp(&key(&paths[b])).then(a.cmp(&b)));
    order
}

/// A choice's option as a JSON value: a string, or a boolean.
fn json_option(c: &Choice, v: &str) -> String {
    if boolean(c) {
        (v == c.options[1].0).to_string()
    } else {
        format!("\"{v}\"")
    }
}

/// A JSON object from dotted members (sorted, kinds first), nested at the dots.
fn object(members: &[(String, String)]) -> String {
    let mut out = String::from("{");
    let mut k = 0;
    while k < members.len() {
        let (key, value) = &members[k];
        if k > 0 {
            out.push(',');
        }
        match key.split_once('.') {
            Some((head, _)) => {
                let inner: Vec<(String, String)> = members[k..]
                    .iter()
                    .map_while(|(m, v)| m.strip_prefix(&format!("{head}.")).map(|r| (r.to_string(), v.clone())))
                    .collect();
                k += inner.len();
                out.push_str(&format!("\"{head}\":{}", object(&inner)));
            }
            None => {
                out.push_str(&format!("\"{key}\":{value}"));
                k += 1;
            }
        }
    }
    out.push('}');
    out
}

/// The value at `key` in `s` as a message says it.
fn value_text(s: &Scenario, key: &str) -> String {
    if key == "seed" {
        return s.seed.to_string();
    }
    let shown = |(f, i): (&'static Field, usize)| match f {
        Field::Num(k) => (k.get)(s, i).map(format::plain),
        Field::Pick(c) => (c.get)(s, i).map(str::to_string),
    };
    matching(s, key, false).into_iter().chain(matching(s, key, true)).find_map(shown).unwrap_or_else(|| {
        if matching(s, key, true).is_empty() {
            "nothing".into()
        } else {
            "null".into()
        }
    })
}

fn options(c: &Choice) -> String {
    c.options.iter().map(|o| o.0).collect::<Vec<_>>().join(", ")
}

fn unquote(text: &str) -> &str {
    text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text)
}

fn quote(raw: &str) -> String {
    let cut: String = raw.chars().take(40).collect();
    format!("\"{cut}{}\"", if cut.len() < raw.len() { "…" } else { "" })
}

/// A problem with `key` (cut short, as the engine's are).
fn problem(key: &str, message: String) -> Problem {
    let cut: String = key.chars().take(80).collect();
    let more = if cut.len() < key.len() { "…" } else { "" };
    Problem { key: format!("{cut}{more}"), message }
}
