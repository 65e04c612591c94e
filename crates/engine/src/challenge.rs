//! Challenges: a starting link, the knobs a learner may turn, a run length and goals,
//! checked the same way by the page and by `bplab check` (`docs/challenges.md`).
//!
//! A challenge is plain serde data (a TOML file for teachers, JSON for the page).
//! [`Challenge::validate`] names each bad field by its dotted path (`goals.2`, `free.0`,
//! `link`). [`Task::check`] grades a solution: every change from the starting scenario must lie
//! on a free path (a change to any other path fails, naming it), the scenario runs for the
//! challenge's run length, and every goal is evaluated ([`crate::goal`]). The verdict
//! carries a **run digest**: a hash of the normalised solution (its canonical link), its
//! seed, the engine's version and each goal's pass or fail, the same on every platform.

use crate::experiment::{self, Problem, ViewState};
use crate::goal::{self, Goal, Outcome};
use crate::series::Series;
use crate::sim::Simulation;
use crate::snapshot::Summary;
use crate::validate::{FieldError, ScenarioError};
use crate::Scenario;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The engine's version, part of every digest: a new engine may run a scenario differently.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Run lengths a challenge may ask for, seconds: long enough to show something, short
/// enough to check in a moment.
pub const DURATION_S: (f64, f64) = (1.0, 3_600.0);

/// A goal as a challenge or lesson writes it: the text alone, or a table with the text and
/// why it matters.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum GoalSpec {
    Text(String),
    Explained {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        explanation: Option<String>,
    },
}

/// Read by hand rather than as an untagged enum, whose error ("data did not match any
/// variant") would not say what a goal looks like.
impl<'de> Deserialize<'de> for GoalSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<GoalSpec, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Table {
            text: String,
            #[serde(default)]
            explanation: Option<String>,
        }
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = GoalSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a goal: a string such as \"lost == 0\", or a table with text and an optional explanation")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<GoalSpec, E> {
                Ok(GoalSpec::Text(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<GoalSpec, A::Error> {
                let t = Table::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(GoalSpec::Explained { text: t.text, explanation: t.explanation })
            }
        }
        d.deserialize_any(V)
    }
}

impl GoalSpec {
    pub fn text(&self) -> &str {
        match self {
            GoalSpec::Text(t) | GoalSpec::Explained { text: t, .. } => t,
        }
    }

    pub fn explanation(&self) -> Option<&str> {
        match self {
            GoalSpec::Text(_) => None,
            GoalSpec::Explained { explanation, .. } => explanation.as_deref(),
        }
    }
}

/// A challenge, as its file holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Challenge {
    pub title: String,
    /// The situation, in a small Markdown subset (paragraphs, emphasis, code, lists, links).
    pub story: String,
    /// The starting experiment: a page link or its query (`v=1&preset=buffer-bloat`).
    pub link: String,
    /// Dotted paths the learner may change (and everything under them); every other path
    /// is locked.
    #[serde(default)]
    pub free: Vec<String>,
    /// How long a solution runs, simulated seconds.
    pub duration_s: f64,
    pub goals: Vec<GoalSpec>,
    /// Revealed one by one.
    #[serde(default)]
    pub hints: Vec<String>,
}

/// A task inside a lesson step or a challenge, ready to check: the starting scenario, its
/// preset, the free paths, the run length and the parsed goals.
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    pub preset: String,
    pub start: Scenario,
    pub free: Vec<String>,
    pub duration_s: f64,
    pub goals: Vec<Goal>,
}

impl Challenge {
    /// The challenge ready to check, or every problem with it, each naming its field.
    pub fn validate(&self) -> Result<Task, ScenarioError> {
        let mut errors = Vec::new();
        if self.title.trim().is_empty() {
            errors.push(FieldError { field: "title".into(), message: "must not be empty".into() });
        }
        if self.story.trim().is_empty() {
            errors.push(FieldError { field: "story".into(), message: "must not be empty".into() });
        }
        let task = prepare("", &self.link, &self.free, self.duration_s, &self.goals, &mut errors);
        match task {
            Some(t) if errors.is_empty() => Ok(t),
            _ => Err(ScenarioError { errors }),
        }
    }
}

/// Reads the parts of a task (a challenge's or a lesson step's), pushing an error for each
/// bad field under `prefix` (`steps.2.task`).
pub fn prepare(
    prefix: &str,
    link: &str,
    free: &[String],
    duration_s: f64,
    goals: &[GoalSpec],
    errors: &mut Vec<FieldError>,
) -> Option<Task> {
    let at = |name: &str| if prefix.is_empty() { name.to_string() } else { format!("{prefix}.{name}") };
    let before = errors.len();
    let d = experiment::decode(link);
    for p in &d.problems {
        errors.push(FieldError { field: at("link"), message: format!("{}: {}", p.key, p.message) });
    }
    let start = d.experiment.scenario;
    let doc = experiment::to_value(&start);
    for (i, path) in free.iter().enumerate() {
        if lookup(&doc, path).is_none() {
            errors.push(FieldError {
                field: at(&format!("free.{i}")),
                message: format!("\"{path}\" is not a field of the starting scenario (bplab show --preset ID lists them)"),
            });
        }
    }
    if !(duration_s >= DURATION_S.0 && duration_s <= DURATION_S.1) {
        errors.push(FieldError {
            field: at("duration_s"),
            message: format!(
                "must be a number from {} to {} s (got {})",
                experiment::number(DURATION_S.0),
                experiment::number(DURATION_S.1),
                experiment::number(duration_s)
            ),
        });
    }
    if goals.is_empty() {
        errors.push(FieldError { field: at("goals"), message: "needs at least one goal (lost == 0)".into() });
    }
    let mut parsed = Vec::new();
    for (i, g) in goals.iter().enumerate() {
        match goal::parse(g.text()) {
            Ok(g) => parsed.push(g),
            Err(e) => errors.push(FieldError { field: at(&format!("goals.{i}")), message: e.0 }),
        }
    }
    (errors.len() == before).then(|| Task { preset: d.experiment.preset, start, free: free.to_vec(), duration_s, goals: parsed })
}

fn lookup<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    let mut node = doc;
    for key in path.split('.') {
        node = match node {
            Value::Object(map) => map.get(key)?,
            Value::Array(items) => items.get(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// A change to a locked path.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Locked {
    pub path: String,
    /// The value the solution gave it, as a link writes it.
    pub value: String,
    pub reason: String,
}

/// A solution graded.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    pub pass: bool,
    /// Changes to locked paths (a solution with any fails, whatever its goals).
    pub locked: Vec<Locked>,
    pub goals: Vec<Outcome>,
    /// The solution's canonical link (from the challenge's preset, with the run length).
    pub link: String,
    pub seed: u64,
    pub duration_s: f64,
    pub engine: String,
    /// 16 hex digits: see [`digest`].
    pub digest: String,
}

impl Task {
    /// The solution as the task runs it: with the task's run length.
    pub fn normalise(&self, solution: &Scenario) -> Scenario {
        let mut s = solution.clone();
        s.duration_s = self.duration_s;
        s
    }

    /// The changes from the starting scenario to `solution` that are not on a free path.
    pub fn locked_changes(&self, solution: &Scenario) -> Vec<Locked> {
        let mut start = self.start.clone();
        start.duration_s = self.duration_s;
        locked(&self.free, experiment::changes(&start, &self.normalise(solution)))
    }

    /// Runs a solution for the run length and grades it.
    pub fn check(&self, solution: &Scenario) -> Result<Verdict, ScenarioError> {
        let scenario = self.normalise(solution);
        let (summary, series) = run(&scenario)?;
        Ok(self.grade(&scenario, &summary, &series))
    }

    /// Grades a finished run of `solution` (the page runs it itself and calls this).
    pub fn grade(&self, solution: &Scenario, summary: &Summary, series: &Series) -> Verdict {
        let scenario = self.normalise(solution);
        let locked = self.locked_changes(&scenario);
        let goals: Vec<Outcome> = self.goals.iter().map(|g| g.evaluate(summary, series)).collect();
        let link = experiment::encode(&self.preset, &scenario, &ViewState::default());
        let digest = digest(&link, scenario.seed, &goals);
        Verdict {
            pass: locked.is_empty() && goals.iter().all(|g| g.pass),
            locked,
            goals,
            link,
            seed: scenario.seed,
            duration_s: self.duration_s,
            engine: ENGINE_VERSION.to_string(),
            digest,
        }
    }

    /// Grades a link (the page's, or `bplab check --link`); a link with a problem is
    /// refused, naming its first bad key.
    pub fn check_link(&self, link: &str) -> Result<Verdict, Problem> {
        let d = experiment::decode(link);
        if let Some(p) = d.problems.into_iter().next() {
            return Err(p);
        }
        self.check(&d.experiment.scenario).map_err(|e| Problem { key: e.errors[0].field.clone(), message: e.errors[0].message.clone() })
    }
}

/// Whether a change at `path` is allowed by the free paths `free`: it is one of them or
/// lies under one.
pub fn is_free(free: &[String], path: &str) -> bool {
    free.iter().any(|f| path == f || path.starts_with(&format!("{f}.")))
}

/// The `changes` (from a task's start) that lie on no free path, each with its reason: the
/// rule and the words of `bplab check` and of the page alike.
pub fn locked(free: &[String], changes: Vec<experiment::Change>) -> Vec<Locked> {
    changes
        .into_iter()
        .filter(|c| !is_free(free, &c.path))
        .map(|c| {
            let reason = if free.is_empty() {
                format!("{} is locked: this task has no free knobs", c.path)
            } else {
                format!("{} is locked: only {} may change", c.path, free.join(", "))
            };
            Locked { path: c.path, value: c.value, reason }
        })
        .collect()
}

/// Runs a scenario to its end: the summary and series every grading reads.
pub fn run(scenario: &Scenario) -> Result<(Summary, Series), ScenarioError> {
    let mut sim = Simulation::new(scenario)?;
    sim.run_to_end();
    Ok((sim.summary(), sim.series().clone()))
}

/// The run digest: FNV-1a (64 bits) over explicit bytes, written out here in a few lines
/// rather than taken from a crate: the standard library's hashers are not stable across
/// releases or platforms, and a hash crate would be a dependency for twelve lines. Hashed:
/// a format tag, the canonical link (which holds the whole normalised scenario against its
/// preset, the run length included), the seed (decimal), the engine's version, and each
/// goal's text and pass or fail. Measured values are left out on purpose: the verdicts are
/// what a teacher compares, and floats printed from a run could differ in a last digit
/// between platforms' maths libraries, where a pass or fail does not.
pub fn digest(link: &str, seed: u64, goals: &[Outcome]) -> String {
    let mut h = Fnv::new();
    h.text("bplab-run-digest/1");
    h.text(link);
    h.text(&seed.to_string());
    h.text(ENGINE_VERSION);
    for g in goals {
        h.text(&g.goal);
        h.text(if g.pass { "pass" } else { "fail" });
    }
    format!("{:016x}", h.0)
}

/// FNV-1a, 64 bits.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// A field: its bytes and a separator byte that text never holds.
    fn text(&mut self, s: &str) {
        self.bytes(s.as_bytes());
        self.bytes(&[0xff]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge() -> Challenge {
        Challenge {
            title: "Bound the buffer".into(),
            story: "The producer's heap runs out.".into(),
            link: "v=1&preset=buffer-bloat".into(),
            free: vec!["stages.0.capacity".into()],
            duration_s: 60.0,
            goals: vec![GoalSpec::Text("producer_oom_kills == 0".into()), GoalSpec::Text("lost == 0".into())],
            hints: vec![],
        }
    }

    #[test]
    fn fnv_matches_the_published_test_vectors() {
        let mut h = Fnv::new();
        h.bytes(b"");
        assert_eq!(h.0, 0xcbf29ce484222325);
        let mut h = Fnv::new();
        h.bytes(b"a");
        assert_eq!(h.0, 0xaf63dc4c8601ec8c);
        let mut h = Fnv::new();
        h.bytes(b"foobar");
        assert_eq!(h.0, 0x85944171f73967e8);
    }

    #[test]
    fn a_challenge_round_trips_through_json_as_the_page_reads_it() {
        let mut c = challenge();
        c.goals.push(GoalSpec::Explained { text: "lag <= 10k".into(), explanation: Some("why".into()) });
        c.goals.push(GoalSpec::Explained { text: "dropped == 0".into(), explanation: None });
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<Challenge>(&text).unwrap(), c);
        let e = serde_json::from_str::<Challenge>(&text.replace("\"why\"", "3")).unwrap_err().to_string();
        assert!(e.starts_with("invalid type: integer `3`, expected a string"), "{e}");
    }

    #[test]
    fn bad_fields_are_named() {
        let mut c = challenge();
        c.link = "v=1&preset=buffer-bloat&consumer.workers=0".into();
        c.free.push("stages.3.capacity".into());
        c.goals.push(GoalSpec::Text("heap <= 3".into()));
        c.duration_s = 0.0;
        let e = c.validate().unwrap_err();
        let fields: Vec<&str> = e.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["link", "free.1", "duration_s", "goals.2"], "{e}");
        assert!(e.errors[0].message.starts_with("consumer.workers: "), "{e}");
    }

    #[test]
    fn locked_paths_fail_naming_the_path_and_free_ones_do_not() {
        let task = challenge().validate().unwrap();
        let mut s = task.start.clone();
        s.stages[0] = crate::presets::preset("fix-blocking-channel").unwrap().stages[0].clone();
        s.seed = 9;
        let locked = task.locked_changes(&s);
        let paths: Vec<&str> = locked.iter().map(|l| l.path.as_str()).collect();
        assert_eq!(paths, ["seed"], "{locked:?}");
        assert!(locked[0].reason.contains("seed is locked: only stages.0.capacity may change"));
        s.seed = task.start.seed;
        assert!(task.locked_changes(&s).is_empty());
        // The run length is the challenge's, whatever the solution says.
        s.duration_s = 5.0;
        assert!(task.locked_changes(&s).is_empty());
    }

    #[test]
    fn the_digest_depends_on_scenario_seed_and_verdicts_only() {
        let task = challenge().validate().unwrap();
        let v = task.check(&task.start).unwrap();
        assert!(!v.pass);
        assert_eq!(v.digest.len(), 16);
        assert_eq!(v.link, "v=1&preset=buffer-bloat&duration_s=60");
        let again = task.check(&task.start).unwrap();
        assert_eq!(again.digest, v.digest);
        let mut other = task.start.clone();
        other.seed = 2;
        assert_ne!(task.check(&other).unwrap().digest, v.digest);
    }
}
