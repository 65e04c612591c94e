//! Experiment files: an experiment as a small JSON file with the same keys and values as its
//! link (docs/links.md), one member a key:
//!
//! ```json
//! {
//!   "v": 1,
//!   "preset": "incident-106",
//!   "consumer.mode": "sync",
//!   "stages.0.capacity": 100
//! }
//! ```
//!
//! The page downloads one ("Experiment file" in its Share dialog) and opens one (file picker
//! or drop); `bplab run FILE` (and every command that takes a scenario file) runs one, and
//! `bplab link … --format file` writes one. A JSON file with a `preset` member is an
//! experiment file; one without is a whole scenario (`bplab show`), which only the CLI reads.
//!
//! A member's value is a change's value as `--set` takes it: a JSON string stands for its
//! text (`"sync"` is `consumer.mode=sync`), any other JSON value for its JSON
//! (`"producer.throttle": {"kind": "aimd"}`). Unlike a link, a file with any problem is
//! refused whole, each problem named: opening a file changes nothing or everything.
//!
//! Reading needs a JSON parser: [`entries`] uses serde_json (the CLI, tests); the page hands
//! [`read_with`] the same entries from the browser's `JSON.parse`, which costs its download
//! nothing.

use super::{json_number, known_presets, problem, quote, read_pairs, Change, Numbers, Problem, Query, VERSION};
use crate::presets::preset;

/// The experiment file of preset `preset_id` with `changes` (as a link carries them).
pub fn write(preset_id: &str, changes: &[Change]) -> String {
    let mut out = format!("{{\n  \"v\": {VERSION},\n  \"preset\": {}", string(preset_id));
    for c in changes {
        out.push_str(",\n  ");
        out.push_str(&string(&c.path));
        out.push_str(": ");
        out.push_str(&value(&c.value));
    }
    out.push_str("\n}\n");
    out
}

/// A change's value as a member's: JSON as it is (numbers, `true`, `false`, `null`, and the
/// objects and arrays a link writes), any other text as a JSON string.
fn value(raw: &str) -> String {
    let json = json_number(raw) || matches!(raw, "true" | "false" | "null") || raw.starts_with('{') || raw.starts_with('[');
    if json {
        raw.to_string()
    } else {
        string(raw)
    }
}

/// `text` as a JSON string.
fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An experiment file's members, as (key, value) in the file's order: a string member's
/// text, any other member's JSON (compact). The file must be a JSON object. A key given
/// twice keeps its first place and its last value, as the browser's `JSON.parse` does.
pub fn entries(text: &str) -> Result<Vec<(String, String)>, Problem> {
    let members: Members = serde_json::from_str(text).map_err(|e| {
        let message = if e.is_data() { "must be a JSON object".into() } else { format!("not JSON: {e}") };
        problem("(file)", message)
    })?;
    Ok(members.0)
}

/// A JSON object's members in order (serde_json's own map sorts them).
struct Members(Vec<(String, String)>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut out: Vec<(String, String)> = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, serde_json::Value>()? {
                    let value = match value {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    match out.iter_mut().find(|(k, _)| *k == key) {
                        Some(member) => member.1 = value,
                        None => out.push((key, value)),
                    }
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// A problem as a refused file states it: a link's problem ends with what was used instead
/// (`; ignored`, `; kept 1`), which does not hold when nothing is opened.
pub fn refusal(p: &Problem) -> String {
    const FALLBACKS: [&str; 9] = ["ignored", "used", "kept", "started", "opened", "showed", "followed", "the last", "read as"];
    // A char pattern, not "; ": the page's download has no backwards substring search.
    let message = match p.message.rsplit_once(';') {
        Some((head, tail)) if FALLBACKS.iter().any(|f| tail.trim_start().starts_with(f)) => head,
        _ => &p.message,
    };
    format!("{}: {message}", p.key)
}

/// Whether a JSON text is an experiment file (an object with a `preset` member) rather
/// than a whole scenario.
pub fn is_experiment(text: &str) -> bool {
    entries(text).is_ok_and(|m| m.iter().any(|(k, _)| k == "preset"))
}

/// An experiment file's members (see [`entries`]) read as a link's keys: its preset (it must
/// name a known one), its changes, its view (`t`, `speed`… are read as a link's) and every
/// problem. Apply it with [`super::apply_query`]; a file with problems is not to be opened.
pub fn read_with(members: Vec<(String, String)>, numbers: Numbers) -> Query {
    let (preset_id, mut query) = read_pairs(members, numbers);
    match preset_id {
        Some(id) if preset(&id).is_some() => query.preset = id,
        Some(id) => {
            query.problems.insert(0, problem("preset", format!("no preset {} (known: {})", quote(&id), known_presets())));
            query.preset = crate::presets::PRESETS[0].id.to_string();
        }
        None => {
            // A whole scenario, most likely: its members are not changes, and one problem says so.
            let message = "missing: an experiment file names its preset (bplab link FILE --format file makes one of a scenario file)";
            query =
                Query { preset: crate::presets::PRESETS[0].id.to_string(), changes: Vec::new(), view: query.view, problems: Vec::new() };
            query.problems.push(problem("preset", message.into()));
        }
    }
    query
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::{apply_query, changes, Numbers};

    fn read(text: &str) -> Query {
        read_with(entries(text).expect("an object"), Numbers::RUST)
    }

    #[test]
    fn a_file_reads_back_as_the_scenario_it_was_written_from() {
        for p in crate::presets::PRESETS {
            let base = preset(p.id).expect("a preset");
            let mut s = base.clone();
            s.seed = 7;
            s.consumer.workers += 1;
            s.producer.rate_per_s *= 1.5;
            s.validate().expect("still valid");
            let text = write(p.id, &changes(&base, &s));
            assert!(is_experiment(&text));
            let d = apply_query(read(&text));
            assert!(d.problems.is_empty(), "{}: {:?}\n{text}", p.id, d.problems);
            assert_eq!(d.experiment.scenario, s, "{}", p.id);
            assert_eq!(d.experiment.preset, p.id);
        }
    }

    #[test]
    fn values_are_written_as_json_and_strings_as_their_text() {
        let c = |path: &str, value: &str| Change { path: path.into(), value: value.into() };
        let text = write(
            "incident-106",
            &[c("consumer.mode", "sync"), c("seed", "7"), c("producer.throttle", "{\"kind\":\"aimd\"}"), c("name", "a \"b\"\\\n")],
        );
        assert_eq!(
            text,
            "{\n  \"v\": 1,\n  \"preset\": \"incident-106\",\n  \"consumer.mode\": \"sync\",\n  \"seed\": 7,\n  \
             \"producer.throttle\": {\"kind\":\"aimd\"},\n  \"name\": \"a \\\"b\\\"\\\\\\n\"\n}\n"
        );
        let back = entries(&text).expect("JSON");
        assert_eq!(back[2], ("consumer.mode".into(), "sync".into()));
        assert_eq!(back[3], ("seed".into(), "7".into()));
        assert_eq!(back[4], ("producer.throttle".into(), "{\"kind\":\"aimd\"}".into()));
        assert_eq!(back[5], ("name".into(), "a \"b\"\\\n".into()));
    }

    #[test]
    fn every_problem_is_named_and_a_whole_scenario_is_not_an_experiment() {
        let q = read("{\"consumer.mode\": \"sync\", \"speed\": \"x\"}");
        assert_eq!(q.problems.len(), 1, "{:?}", q.problems);
        assert_eq!(q.problems[0].key, "preset");
        assert!(q.problems[0].message.starts_with("missing"), "{:?}", q.problems);
        let q = read("{\"preset\": \"nope\"}");
        assert!(q.problems[0].message.contains("no preset \"nope\""), "{:?}", q.problems);
        let d = apply_query(read("{\"preset\": \"incident-106\", \"consumer.workers\": 0, \"consumer.colour\": 3, \"speed\": \"x\"}"));
        let keys: Vec<&str> = d.problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["speed", "consumer.colour", "consumer.workers"], "{:?}", d.problems);
        assert!(entries("[1]").is_err());
        assert!(entries("{\"preset\": ").unwrap_err().message.starts_with("not JSON"));
        let whole = serde_json::to_string(&preset("incident-106").expect("a preset")).expect("serializes");
        assert!(!is_experiment(&whole));
        let refused: Vec<String> = d.problems.iter().map(refusal).collect();
        assert_eq!(refused[1], "consumer.colour: no such field in this preset's scenario (bplab show --preset ID lists them)");
        assert!(refused[2].starts_with("consumer.workers: must be a whole number from 1") && !refused[2].contains("kept"), "{refused:?}");
    }
}
