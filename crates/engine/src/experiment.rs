//! Links: a whole experiment as a URL query, read and written by the page and the CLI alike.
//!
//! A link is the preset an experiment starts from, the changes made to it and the view it
//! is looked at with: `v=1&preset=incident-106&consumer.mode=sync&stages.0.capacity=100&t=60`.
//! A change is written exactly as `bplab run --set` takes it: a dotted path into the
//! scenario and a value, read as JSON when it parses as JSON and as a plain string
//! otherwise (`consumer.mode=sync`, `stages=[{"kind":"topic"}]`). The view keys (`t`,
//! `speed`, `play`, `view`, `window`, `chart`, `theme`, `embed`, `lesson`, `step`,
//! `challenge`, `present`) never clash with a scenario path. `docs/links.md` gives the rules.
//!
//! [`encode`] writes the fewest changes that rebuild the scenario from its preset;
//! [`decode`] never fails: every key that is malformed, unknown or out of range becomes a
//! [`Problem`] naming it, what was wrong and what was used instead, and the rest of the
//! link still applies. `decode(encode(x)) == x` for every valid scenario (a property test).

pub mod file;

use crate::presets::{preset, PRESETS};
use crate::scenario::{limits, Scenario};
use serde_json::Value;
use std::fmt;

/// The link format this code writes; a link without `v` is read as this version.
pub const VERSION: &str = "1";

/// Speeds a link may ask for (simulated seconds per wall second), as the page's slider.
pub const SPEED: (f64, f64) = (0.1, 1000.0);

/// The charts a link can pick with `chart=` (the page's charts, by id).
pub const CHARTS: &[&str] = &["counts", "rates", "memory", "backlog", "latency", "producer", "losses", "partitions", "control"];

/// At most this many problems are listed one by one; the rest are counted.
pub const MAX_PROBLEMS: usize = 20;

/// One key of a link that could not be used as given.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Problem {
    /// The key as written in the link (`consumer.workers`, `speed`).
    pub key: String,
    /// What was wrong, the allowed values and what was used instead.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Light or dark; no theme in a link follows the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

/// How an experiment is looked at: everything in a link that is not the scenario. `None`
/// and `false` are the page's defaults and are not written.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ViewState {
    /// The simulated moment to open at, paused there.
    pub t_s: Option<f64>,
    pub speed: Option<f64>,
    pub play: bool,
    /// The comparison view rather than the simulator.
    pub compare: bool,
    /// Charts show the last this many simulated seconds (`None`: the whole run).
    pub window_s: Option<f64>,
    /// The chart an embed shows (one of [`CHARTS`]).
    pub chart: Option<String>,
    pub theme: Option<Theme>,
    /// The compact layout for an iframe.
    pub embed: bool,
    /// A lesson to open beside the simulator: a shipped lesson's id or a same-origin
    /// `.json` path (`lesson=incident-106`).
    pub lesson: Option<String>,
    /// The lesson's step to open at, counted from 1.
    pub step: Option<usize>,
    /// A challenge to open beside the simulator: a shipped id or a same-origin `.json` path.
    pub challenge: Option<String>,
    /// Presenter mode: large type, controls tucked away, keys to step through a lesson.
    pub present: bool,
}

/// One change to a scenario, as `--set` takes it: `path=value`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Change {
    pub path: String,
    pub value: String,
}

/// What a link holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Experiment {
    /// The preset it starts from.
    pub preset: String,
    /// The preset with the link's changes applied (valid).
    pub scenario: Scenario,
    pub view: ViewState,
}

/// A link read: the experiment and every problem met on the way.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    pub experiment: Experiment,
    pub problems: Vec<Problem>,
}

/// The link's query (without `?`) for `scenario` started from preset `preset_id`, looked at
/// with `view`.
pub fn encode(preset_id: &str, scenario: &Scenario, view: &ViewState) -> String {
    let base = preset(preset_id).unwrap_or_default();
    write(preset_id, &changes(&base, scenario), view)
}

/// The link's query (without `?`) for preset `preset_id` with `changes` (as [`changes`]
/// writes them), looked at with `view`. Needs no (de)serialisation of the scenario.
pub fn write(preset_id: &str, changes: &[Change], view: &ViewState) -> String {
    write_with(preset_id, changes, view, Numbers::RUST)
}

/// [`write`], with the view's numbers written by `numbers`.
pub fn write_with(preset_id: &str, changes: &[Change], view: &ViewState, numbers: Numbers) -> String {
    let number = |x: f64| number_with(x, numbers.show);
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("v", VERSION);
    q.append_pair("preset", preset_id);
    for c in changes {
        q.append_pair(&c.path, &c.value);
    }
    if let Some(t) = view.t_s {
        q.append_pair("t", &number(t));
    }
    if let Some(s) = view.speed {
        q.append_pair("speed", &number(s));
    }
    if view.play {
        q.append_pair("play", "1");
    }
    if view.compare {
        q.append_pair("view", "compare");
    }
    if let Some(w) = view.window_s {
        q.append_pair("window", &number(w));
    }
    if let Some(c) = &view.chart {
        q.append_pair("chart", c);
    }
    match view.theme {
        Some(Theme::Light) => q.append_pair("theme", "light"),
        Some(Theme::Dark) => q.append_pair("theme", "dark"),
        None => &mut q,
    };
    if view.embed {
        q.append_pair("embed", "1");
    }
    if let Some(l) = &view.lesson {
        q.append_pair("lesson", l);
    }
    if let Some(n) = view.step {
        q.append_pair("step", &n.to_string());
    }
    if let Some(c) = &view.challenge {
        q.append_pair("challenge", c);
    }
    if view.present {
        q.append_pair("present", "1");
    }
    readable(q.finish())
}

/// Brackets, braces, colons and commas left as they are: JSON values stay legible in a link
/// (they need no escaping in a query, in HTML attributes or in Markdown; quotes still do).
fn readable(query: String) -> String {
    const KEPT: [(&str, &str); 6] = [("%5B", "["), ("%5D", "]"), ("%7B", "{"), ("%7D", "}"), ("%3A", ":"), ("%2C", ",")];
    KEPT.iter().fold(query, |q, (from, to)| q.replace(from, to))
}

/// The changes that turn `base` into `scenario`, as `--set` would write them: objects of the
/// same shape (and the same `kind`) and arrays of the same length are compared member by
/// member, anything else is replaced whole with its JSON.
pub fn changes(base: &Scenario, scenario: &Scenario) -> Vec<Change> {
    let mut out = Vec::new();
    let (a, b) = (to_value(base), to_value(scenario));
    diff(&a, &b, &mut String::new(), &mut out);
    out
}

/// The preset a scenario needs the fewest changes from (the first of equals): the base of
/// its shortest link.
pub fn closest_preset(scenario: &Scenario) -> &'static str {
    PRESETS.iter().min_by_key(|p| changes(&preset(p.id).expect("a preset"), scenario).len()).map(|p| p.id).expect("presets exist")
}

/// `base` with `path` set to `raw` (read as JSON, or as a string when it is not JSON), as
/// `bplab run --set path=raw` does. Errors name the field; the result is not validated.
pub fn set(base: &Scenario, path: &str, raw: &str) -> Result<Scenario, Problem> {
    let mut doc = to_value(base);
    let node = locate(&mut doc, path).ok_or_else(|| Problem { key: path.to_string(), message: "no such field in the scenario".into() })?;
    *node = read_value(raw);
    from_value(doc).map_err(|(field, message)| Problem { key: path.to_string(), message: at_field(path, &field, &message) })
}

/// A link read but not yet applied: the preset (a known one), the changes as given, the
/// view, and the problems met so far.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub preset: String,
    pub changes: Vec<Change>,
    pub view: ViewState,
    pub problems: Vec<Problem>,
}

/// Reads a link: a whole URL, a query with or without its `?`, or nothing. Never fails.
pub fn decode(link: &str) -> Decoded {
    apply_query(read(link))
}

/// The second half of [`decode`]: a read link's (or experiment file's) changes applied to
/// its preset, with every problem met.
pub fn apply_query(query: Query) -> Decoded {
    let Query { preset: id, changes, view, mut problems } = query;
    let base = preset(&id).expect("a known preset");
    let scenario = apply(&base, &changes, &mut problems);
    limit(&mut problems);
    Decoded { experiment: Experiment { preset: id, scenario, view }, problems }
}

/// At most [`MAX_PROBLEMS`] problems, the last saying how many more there were.
pub fn limit(problems: &mut Vec<Problem>) {
    if problems.len() > MAX_PROBLEMS {
        let more = problems.len() - MAX_PROBLEMS + 1;
        problems.truncate(MAX_PROBLEMS - 1);
        problems.push(problem("(link)", format!("{more} more problems not listed")));
    }
}

/// The first half of [`decode`]: the link's keys sorted into its preset, its changes (not
/// applied, not checked) and its view. Needs no (de)serialisation of the scenario.
pub fn read(link: &str) -> Query {
    read_with(link, Numbers::RUST)
}

/// How the view's numbers are read and written. The page passes the browser's own (its
/// `parseFloat` and `Number.toString`), which cost its download nothing: Rust's float
/// parser and shortest formatting add some 20 KB of code and tables. `parse` must give the
/// correctly rounded value of JSON's number syntax (checked before it is called); `show`
/// the shortest text that reads back as the same float.
#[derive(Clone, Copy)]
pub struct Numbers {
    pub parse: fn(&str) -> Option<f64>,
    pub show: fn(f64) -> String,
}

impl Numbers {
    /// Rust's float parser and formatting.
    pub const RUST: Numbers = Numbers { parse: |text| text.parse().ok(), show: rust_show };
}

/// [`read`], with the view's numbers read by `numbers`.
pub fn read_with(link: &str, numbers: Numbers) -> Query {
    let query = link.split_once('?').map_or(link, |(_, q)| q);
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    let pairs = form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let (preset_id, mut query) = read_pairs(pairs, numbers);
    query.preset = match preset_id {
        Some(id) if preset(&id).is_some() => id,
        Some(id) => {
            let message = format!("no preset {}; started from {} (known: {})", quote(&id), PRESETS[0].id, known_presets());
            query.problems.push(problem("preset", message));
            PRESETS[0].id.to_string()
        }
        None => PRESETS[0].id.to_string(),
    };
    query
}

/// The preset ids, comma-separated.
pub(crate) fn known_presets() -> String {
    PRESETS.iter().map(|p| p.id).collect::<Vec<_>>().join(", ")
}

/// The keys and values of a link (or of an experiment file, `file`) sorted into its changes,
/// its view and its problems; the preset named, if any, is returned as given (the query's
/// `preset` is left empty for the caller to decide). Not generic: one copy in the page.
pub(crate) fn read_pairs(pairs: Vec<(String, String)>, numbers: Numbers) -> (Option<String>, Query) {
    let mut problems = Vec::new();
    let mut preset_id: Option<String> = None;
    let mut view = ViewState::default();
    let mut given: Vec<Change> = Vec::new();
    let mut seen: Vec<(String, usize)> = Vec::new();

    for (key, value) in pairs {
        let key = key.trim().to_string();
        if key.is_empty() {
            if !value.is_empty() {
                problems.push(problem("(empty key)", format!("a value without a key ({}); ignored", quote(&value))));
            }
            continue;
        }
        match seen.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => seen.push((key.clone(), 1)),
        }
        match key.as_str() {
            "v" => {
                if value != VERSION {
                    problems.push(problem("v", format!("unknown link version {}; read as version {VERSION}", quote(&value))));
                }
            }
            "preset" => preset_id = Some(value),
            "t" => view.t_s = read_number(&key, &value, limits::TIME_S, "s", numbers, &mut problems).or(view.t_s),
            "speed" => view.speed = read_number(&key, &value, SPEED, "×", numbers, &mut problems).or(view.speed),
            "window" => {
                view.window_s = if value == "all" {
                    None
                } else {
                    read_number(&key, &value, (1.0, limits::TIME_S.1), "s", numbers, &mut problems).or(view.window_s)
                }
            }
            "play" => view.play = read_flag(&key, &value, &mut problems).unwrap_or(view.play),
            "embed" => view.embed = read_flag(&key, &value, &mut problems).unwrap_or(view.embed),
            "present" => view.present = read_flag(&key, &value, &mut problems).unwrap_or(view.present),
            "lesson" | "challenge" => match content_ref(&value) {
                Ok(r) if key == "lesson" => view.lesson = Some(r),
                Ok(r) => view.challenge = Some(r),
                Err(why) => problems.push(problem(&key, format!("{why} (got {}); ignored", quote(&value)))),
            },
            "step" => match value.parse::<usize>() {
                Ok(n) if n >= 1 => view.step = Some(n),
                _ => problems.push(problem(&key, format!("must be a step number from 1 (got {}); opened the first step", quote(&value)))),
            },
            "view" => match value.as_str() {
                "compare" => view.compare = true,
                "simulator" | "sim" => view.compare = false,
                _ => problems.push(problem(&key, format!("must be simulator or compare (got {}); showed the simulator", quote(&value)))),
            },
            "theme" => match value.as_str() {
                "light" => view.theme = Some(Theme::Light),
                "dark" => view.theme = Some(Theme::Dark),
                "auto" | "system" => view.theme = None,
                _ => problems.push(problem(&key, format!("must be light, dark or auto (got {}); followed the system", quote(&value)))),
            },
            "chart" => {
                if CHARTS.contains(&value.as_str()) {
                    view.chart = Some(value);
                } else {
                    problems.push(problem(&key, format!("must be one of {} (got {}); used the default", CHARTS.join(", "), quote(&value))));
                }
            }
            _ => given.push(Change { path: key, value }),
        }
    }
    for (key, n) in seen.iter().filter(|(_, n)| *n > 1) {
        problems.push(problem(key, format!("given {n} times; the last one was used")));
    }

    (preset_id, Query { preset: String::new(), changes: given, view, problems })
}

/// A lesson or challenge a link names: a shipped one's id (`incident-106`) or a path to a
/// `.json` file on the page's own site (`my-class/week-3.json`): relative, with no scheme,
/// no `..` and no leading `/` or `\\`, so a link can never make the page fetch from elsewhere.
pub fn content_ref(value: &str) -> Result<String, &'static str> {
    let id = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let path_ok = value.ends_with(".json")
        && value.split('/').all(|part| !part.is_empty() && part != ".." && part.chars().all(|c| id(c) || c == '.'))
        && !value.starts_with('.');
    if (!value.is_empty() && value.len() <= 200 && value.chars().all(id)) || (value.len() <= 200 && path_ok) {
        Ok(value.to_string())
    } else {
        Err("must be a shipped id (letters, digits, - and _) or a relative path to a .json file on this site")
    }
}

/// `base` with every usable change applied in order. A change whose path does not exist or
/// whose value has the wrong type is skipped at once; then, while the result does not
/// validate, the change an error names (or, for a rule between fields, the last one) is
/// taken back. The result is always valid, since `base` is.
fn apply(base: &Scenario, given: &[Change], problems: &mut Vec<Problem>) -> Scenario {
    let start = to_value(base);
    let mut doc = start.clone();
    let mut kept: Vec<&Change> = Vec::new();
    for c in given {
        let Some(node) = locate(&mut doc, &c.path) else {
            let message = if c.path.contains('.') || is_field(&start, &c.path) {
                "no such field in this preset's scenario (bplab show --preset ID lists them); ignored"
            } else {
                "unknown parameter; ignored"
            };
            problems.push(problem(&c.path, message.to_string()));
            continue;
        };
        let old = std::mem::replace(node, read_value(&c.value));
        match from_value(doc.clone()) {
            // With every default filled in, as `--set` leaves it: a later change may name a
            // member an object given in part left out (`stages=[{"kind":"topic"}]`, then
            // `stages.0.partitions=3`).
            Ok(s) => doc = to_value(&s),
            Err((field, message)) => {
                let node = locate(&mut doc, &c.path).expect("just found");
                let kept_text = text_of(&old);
                *node = old;
                problems.push(problem(&c.path, format!("{}; kept {kept_text}", at_field(&c.path, &field, &message))));
                continue;
            }
        }
        kept.push(c);
    }
    loop {
        let scenario = from_value(doc.clone()).expect("every kept change deserialises");
        let Err(e) = scenario.validate() else { return scenario };
        let (index, message) = take_back(&e, &kept, |path| {
            let mut old = start.clone();
            locate(&mut old, path).map(|v| text_of(v)).unwrap_or_default()
        });
        let dropped = kept.remove(index);
        problems.push(problem(&dropped.path, message));
        doc = start.clone();
        let mut still = Vec::new();
        for c in kept {
            // A change into what a change taken back had made (a stage it added) goes too.
            let Some(node) = locate(&mut doc, &c.path) else {
                problems.push(problem(&c.path, format!("no such field once {} was taken back; ignored", dropped.path)));
                continue;
            };
            let old = std::mem::replace(node, read_value(&c.value));
            match from_value(doc.clone()) {
                Ok(s) => {
                    doc = to_value(&s);
                    still.push(c);
                }
                Err(_) => {
                    *locate(&mut doc, &c.path).expect("just found") = old;
                    problems.push(problem(&c.path, format!("does not apply once {} was taken back; ignored", dropped.path)));
                }
            }
        }
        kept = still;
    }
}

/// Which of the `kept` changes (applied in order) a scenario's validation errors are about,
/// to be taken back: the last one on an error's path or under it (for a rule between
/// fields, the last change of all); and the problem's message, ending with what was kept
/// (`was(path)`: the base's value there). The page's knob-table applier follows the same rule.
pub fn take_back(e: &crate::ScenarioError, kept: &[&Change], was: impl Fn(&str) -> String) -> (usize, String) {
    let related = |c: &&Change, field: &str| {
        c.path == field || field.starts_with(&format!("{}.", c.path)) || c.path.starts_with(&format!("{field}."))
    };
    let (index, error) = e
        .errors
        .iter()
        .find_map(|err| kept.iter().rposition(|c| related(c, &err.field)).map(|i| (i, err)))
        .unwrap_or((kept.len() - 1, &e.errors[0]));
    let path = &kept[index].path;
    let was = was(path);
    let message = if error.field == *path {
        format!("{}; kept {was}", error.message)
    } else {
        format!("{}: {}; kept {was}", error.field, error.message)
    };
    (index, message)
}

/// A problem with `key`; keys and messages (which may quote a value) are cut short.
pub(crate) fn problem(key: &str, message: String) -> Problem {
    Problem { key: cut(key, 80), message: cut(&message, 300) }
}

fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// A deserialisation error at `field` about a change at `path`: the field is named only
/// when it is not the change's own.
fn at_field(path: &str, field: &str, message: &str) -> String {
    if field.is_empty() || field == path || field == "(scenario)" {
        message.to_string()
    } else {
        format!("{field}: {message}")
    }
}

fn is_field(doc: &Value, key: &str) -> bool {
    matches!(doc, Value::Object(map) if map.contains_key(key))
}

/// The scenario as a JSON value (keys in alphabetical order).
pub fn to_value(s: &Scenario) -> Value {
    serde_json::to_value(s).expect("plain data serializes")
}

/// The scenario a JSON document holds, or the key where it goes wrong (when the message
/// names one) and why. One deserialiser (`serde_json::Value`) for links and `--set`, without
/// a path-tracking wrapper: the `share` build pays for the scenario's deserialisation code
/// once (the wrapper alone was ~50 KB of its download). The caller knows the path of what it
/// changed.
fn from_value(doc: Value) -> Result<Scenario, (String, String)> {
    serde_json::from_value(doc).map_err(|e| Scenario::error_field("", &e.to_string()))
}

/// The node at a dotted path (object keys, array indices), if there is one.
fn locate<'a>(doc: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    let mut node = doc;
    for key in path.split('.') {
        node = match node {
            Value::Object(map) => map.get_mut(key)?,
            Value::Array(items) => items.get_mut(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// A value as `--set` reads it: JSON when it parses as JSON, else the text as a string.
fn read_value(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()))
}

/// A value as a link writes it: the inverse of [`read_value`] (a string is written bare
/// unless bare it would read as something else).
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) if serde_json::from_str::<Value>(s).is_err() => s.clone(),
        // Whole numbers without a fraction (`200`, not `200.0`), also inside objects and
        // arrays: the page writes numbers so too, and a canonical link (a run digest's
        // input) must be the same from both.
        Value::Number(_) | Value::Object(_) | Value::Array(_) => {
            let mut out = String::new();
            compact(v, &mut out);
            out
        }
        _ => v.to_string(),
    }
}

/// `v` as compact JSON (keys in order, as the map keeps them), whole numbers written
/// without a fraction.
fn compact(v: &Value, out: &mut String) {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => out.push_str(&number(x)),
            _ => out.push_str(&n.to_string()),
        },
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                compact(x, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, x)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                compact(x, out);
            }
            out.push('}');
        }
        _ => out.push_str(&v.to_string()),
    }
}

fn diff(a: &Value, b: &Value, path: &mut String, out: &mut Vec<Change>) {
    if a == b {
        return;
    }
    let same_shape = match (a, b) {
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.keys().all(|k| y.contains_key(k)) && x.get("kind") == y.get("kind"),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len(),
        _ => false,
    };
    if !same_shape || path.is_empty() && !matches!(a, Value::Object(_)) {
        out.push(Change { path: path.clone(), value: text_of(b) });
        return;
    }
    let mut child = |key: &str, x: &Value, y: &Value| {
        let len = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
        diff(x, y, path, out);
        path.truncate(len);
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                child(k, v, &y[k]);
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                child(&i.to_string(), v, w);
            }
        }
        _ => unreachable!("same shape"),
    }
}

/// A number as a link writes it: whole numbers without a fraction, others in the shortest
/// text that reads back as the same float (with an exponent when very large or small).
pub fn number(x: f64) -> String {
    number_with(x, rust_show)
}

/// [`number`], the fractions written by `show`.
pub fn number_with(x: f64, show: fn(f64) -> String) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        (x as i64).to_string()
    } else {
        show(x)
    }
}

fn rust_show(x: f64) -> String {
    if x != 0.0 && (x.abs() < 1e-5 || x.abs() >= 1e15) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

/// JSON's number syntax: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
pub fn json_number(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let whole = i;
    if digits(&mut i) == 0 || (b[whole] == b'0' && i - whole > 1) {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

fn read_number(key: &str, raw: &str, (lo, hi): (f64, f64), unit: &str, numbers: Numbers, problems: &mut Vec<Problem>) -> Option<f64> {
    let number = |x: f64| number_with(x, numbers.show);
    let text = raw.trim();
    let parsed = json_number(text).then(|| (numbers.parse)(text)).flatten().filter(|x| x.is_finite());
    match parsed {
        Some(x) if x >= lo && x <= hi => Some(x),
        Some(x) => {
            let used = x.max(lo).min(hi);
            problems.push(problem(
                key,
                format!("must be from {} to {} {unit} (got {}); used {}", number(lo), number(hi), quote(raw), number(used)),
            ));
            Some(used)
        }
        None => {
            problems
                .push(problem(key, format!("must be a number from {} to {} {unit} (got {}); ignored", number(lo), number(hi), quote(raw))));
            None
        }
    }
}

fn read_flag(key: &str, raw: &str, problems: &mut Vec<Problem>) -> Option<bool> {
    match raw {
        "1" | "true" | "" => Some(true),
        "0" | "false" => Some(false),
        _ => {
            problems.push(problem(key, format!("must be 1 or 0 (got {}); ignored", quote(raw))));
            None
        }
    }
}

/// A value from a link, quoted for a message and cut short when long.
pub(crate) fn quote(raw: &str) -> String {
    format!("\"{}\"", cut(raw, 40))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lessons_and_challenges_are_ids_or_same_site_json_paths() {
        let q = read("v=1&preset=credits&lesson=incident-106&step=3&present=1&challenge=class/week_3.json");
        assert!(q.problems.is_empty(), "{:?}", q.problems);
        assert_eq!(q.view.lesson.as_deref(), Some("incident-106"));
        assert_eq!(q.view.step, Some(3));
        assert!(q.view.present);
        assert_eq!(q.view.challenge.as_deref(), Some("class/week_3.json"));
        assert_eq!(read(&write("credits", &[], &q.view)).view, q.view);
        for bad in [
            "https://evil.example/x.json",
            "//evil.example/x.json",
            "../x.json",
            "/x.json",
            "a/../../x.json",
            "x.toml",
            "",
            "a b",
            "javascript:x",
        ] {
            let q = read(&format!("lesson={bad}&challenge={bad}"));
            assert_eq!((q.view.lesson, q.view.challenge), (None, None), "{bad}");
            assert_eq!(q.problems.len(), 2, "{bad}: {:?}", q.problems);
        }
        assert_eq!(read("step=0").problems[0].key, "step");
    }

    #[test]
    fn numbers_are_read_in_json_syntax_and_written_to_read_back_exactly() {
        for ok in ["0", "-0", "7", "60", "0.5", "-12.25", "1e3", "1E-7", "2.5e+10"] {
            assert!(json_number(ok), "{ok}");
        }
        for bad in ["", "-", "+1", "01", "1.", ".5", "1e", "1e+", "NaN", "inf", "0x10", "1 2", "1,5"] {
            assert!(!json_number(bad), "{bad}");
        }
        for x in [0.1, 48.290000000000006, 1.0 / 3.0, 1e-7, 123456.789, 2.5e17, 999.9999999999999] {
            let text = number(x);
            assert_eq!(text.parse::<f64>().unwrap(), x, "{text}");
            assert!(json_number(&text), "{text}");
        }
        assert_eq!(number(60.0), "60");
        assert_eq!(number(0.25), "0.25");
    }

    #[test]
    fn a_preset_and_a_few_changes_is_a_short_readable_link() {
        let mut s = preset("incident-106").unwrap();
        s.consumer.mode = crate::Mode::Sync;
        s.seed = 7;
        let view = ViewState { t_s: Some(60.0), ..ViewState::default() };
        let q = encode("incident-106", &s, &view);
        assert_eq!(q, "v=1&preset=incident-106&consumer.mode=sync&seed=7&t=60");
        let d = decode(&format!("https://example.org/lab/?{q}#x"));
        assert_eq!(d.problems, vec![]);
        assert_eq!(d.experiment, Experiment { preset: "incident-106".into(), scenario: s, view });
    }

    #[test]
    fn structural_changes_are_whole_json_values() {
        let mut s = preset("incident-106").unwrap();
        s.stages.remove(0);
        let q = encode("incident-106", &s, &ViewState::default());
        assert!(q.starts_with("v=1&preset=incident-106&stages=[{%22fetch_latency_ms%22:1,%22kind%22:%22topic%22,"), "{q}");
        let d = decode(&q);
        assert_eq!(d.problems, vec![]);
        assert_eq!(d.experiment.scenario, s);
    }

    #[test]
    fn set_reads_values_as_the_cli_does_and_names_the_field() {
        let s = preset("incident-106").unwrap();
        assert_eq!(set(&s, "consumer.workers", "4").unwrap().consumer.workers, 4);
        let e = set(&s, "consumer.workers", "four").unwrap_err();
        assert_eq!(e.key, "consumer.workers");
        assert!(e.message.contains("invalid type"), "{e}");
        assert_eq!(set(&s, "consumer.nope", "1").unwrap_err().message, "no such field in the scenario");
    }

    #[test]
    fn bad_keys_are_named_and_the_rest_applies() {
        let d = decode("preset=fix-sync-poll&consumer.workers=0&bogus=1&speed=5000&seed=3&t=abc&seed=4&stages.9.capacity=1");
        let keys: Vec<&str> = d.problems.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["speed", "t", "seed", "bogus", "stages.9.capacity", "consumer.workers"], "{:?}", d.problems);
        assert_eq!(d.experiment.preset, "fix-sync-poll");
        assert_eq!(d.experiment.scenario.seed, 4);
        assert_eq!(d.experiment.view.speed, Some(1000.0));
        let workers = &d.problems[5].message;
        assert!(workers.contains("from 1") && workers.contains("kept"), "{workers}");
        assert_eq!(d.experiment.scenario.consumer.workers, preset("fix-sync-poll").unwrap().consumer.workers);
    }

    #[test]
    fn fields_valid_only_together_apply_together() {
        let s = preset("incident-106").unwrap();
        let (b, l) = (s.consumer.memory.baseline_mib, s.consumer.memory.heap_limit_mib);
        let q = format!("consumer.memory.baseline_mib={}&consumer.memory.heap_limit_mib={}", l + 100.0, l + 200.0);
        let d = decode(&q);
        assert_eq!(d.problems, vec![]);
        assert_eq!(d.experiment.scenario.consumer.memory.baseline_mib, l + 100.0);
        // Alone, the baseline above the limit is refused, naming the rule, and the preset's kept.
        let d = decode(&format!("consumer.memory.baseline_mib={}", l + 100.0));
        assert_eq!(d.problems.len(), 1, "{:?}", d.problems);
        assert!(d.problems[0].message.contains(&format!("kept {}", number(b))), "{}", d.problems[0]);
        assert_eq!(d.experiment.scenario, s);
    }

    #[test]
    fn an_unknown_preset_or_version_is_named() {
        let d = decode("v=2&preset=nope&play=1");
        assert_eq!(d.problems.len(), 2);
        assert_eq!(d.problems[0].key, "v");
        assert!(d.problems[1].message.contains("started from incident-106"));
        assert!(d.experiment.view.play);
    }

    #[test]
    fn strings_that_read_as_json_are_quoted() {
        for raw in ["sync", "true", "12", "null", "[1]", " 3", "a&b=c", "é ü"] {
            let v = Value::String(raw.to_string());
            assert_eq!(read_value(&text_of(&v)), v, "{raw}");
        }
    }
}
