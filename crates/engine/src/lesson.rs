//! Lessons: steps that each load a link, optionally ask for a prediction (a number with its
//! unit, or a choice whose wrong answers each name the link that disproves them) or set a
//! task (goals reached by turning free knobs), and explain afterwards
//! (`docs/lessons.md`).
//!
//! Plain serde data (TOML for teachers, JSON for the page: `bplab lesson show --format
//! json`). [`Lesson::validate`] names each bad field by its dotted path
//! (`steps.2.prediction.answer`) and decodes every link. [`NumberCheck::score`] says how
//! close a numeric prediction was to a run, for the page and for the tests that hold every
//! shipped answer to the engine.

use crate::challenge::{self, GoalSpec, Task};
use crate::experiment::{self, number};
use crate::goal::{self, Dim, Goal, When};
use crate::series::Series;
use crate::snapshot::Summary;
use crate::validate::{FieldError, ScenarioError};
use crate::Scenario;
use serde::{Deserialize, Serialize};

/// A lesson, as its file holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    pub title: String,
    /// One paragraph: what the learner will be able to do.
    #[serde(default)]
    pub summary: String,
    pub steps: Vec<Step>,
}

/// One step of a lesson.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub title: String,
    /// Short prose in a small Markdown subset (paragraphs, emphasis, code, lists, links).
    pub prose: String,
    /// The experiment the step loads (a page link or its query).
    pub link: String,
    /// How long the step's run lasts, simulated seconds (default: the link's `duration_s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction: Option<Prediction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<StepTask>,
    /// Shown only after the learner has predicted or tried.
    pub explanation: String,
    /// The teacher's notes (presenter mode), hidden otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// A shipped challenge the step ends with (its id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
}

/// What the learner commits to before the step runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Prediction {
    /// A number: `metric` as goals name it (`first_oom_s`; `at_all_times lag` for its peak).
    Number {
        question: String,
        metric: String,
        /// The right answer, with its unit (`48.3 s`): it must be true of the engine.
        answer: String,
        /// How close counts as right: in the metric's unit (`2 s`) or relative (`10 %`); for
        /// a `_fraction` metric a `%` is percentage points (`3 %`: within 0.03).
        tolerance: String,
    },
    /// A choice among answers; exactly one is right.
    Choice { question: String, choices: Vec<Choice> },
}

/// One answer of a choice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub text: String,
    #[serde(default)]
    pub correct: bool,
    /// For a wrong answer: the link whose run disproves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disproved_by: Option<String>,
    /// What that run shows, as a goal that holds on it (`producer_oom_kills >= 1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shows: Option<String>,
    /// Why it is right or wrong, shown after the choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

/// A task inside a step: goals reached by changing the free knobs of the step's link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepTask {
    pub goals: Vec<GoalSpec>,
    #[serde(default)]
    pub free: Vec<String>,
}

/// How close a numeric prediction must be.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tolerance {
    /// Within this much, in the metric's base unit.
    Absolute(f64),
    /// Within this share of the measured value.
    Relative(f64),
}

/// A numeric prediction, read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NumberCheck {
    pub metric: String,
    pub when: When,
    pub dim: Dim,
    /// The right answer, in the metric's base unit.
    pub answer: f64,
    pub tolerance: Tolerance,
}

/// A guess compared with a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Score {
    pub guess: f64,
    /// What the run gave (`None`: nothing, as no OOM kill when the guess was a time).
    pub measured: Option<f64>,
    /// When the run gave it, seconds.
    pub measured_at_s: Option<f64>,
    /// `guess − measured`, in the metric's unit.
    pub error: Option<f64>,
    /// `|error| / |measured|`.
    pub relative_error: Option<f64>,
    /// Within the tolerance.
    pub close: bool,
    /// "you said 30 s; the run gave 48.3 s (18.3 s more than you said)".
    pub text: String,
}

impl NumberCheck {
    /// Reads a number prediction's metric, answer and tolerance; errors name the field
    /// (`metric`, `answer`, `tolerance`) and what was wrong.
    pub fn read(metric: &str, answer: &str, tolerance: &str) -> Result<NumberCheck, (&'static str, String)> {
        NumberCheck::read_with(metric, answer, tolerance, crate::experiment::Numbers::RUST.parse)
    }

    /// [`NumberCheck::read`], with numbers read by `number` (see [`goal::parse_with`]).
    pub fn read_with(
        metric: &str,
        answer: &str,
        tolerance: &str,
        number: fn(&str) -> Option<f64>,
    ) -> Result<NumberCheck, (&'static str, String)> {
        let (asked, name) = goal::split_when(metric);
        let (when, dim) = goal::metric_kind(name, asked).map_err(|e| ("metric", e.0))?;
        let answer = goal::parse_value_with(answer, dim, number).map_err(|e| ("answer", e))?;
        let tol = tolerance.trim();
        let tolerance = match tol.strip_suffix('%') {
            Some(p) if dim != Dim::Fraction => {
                let share = goal::parse_value_with(p, Dim::Count, number).map_err(|e| ("tolerance", e))? / 100.0;
                Tolerance::Relative(share)
            }
            _ => Tolerance::Absolute(goal::parse_value_with(tol, dim, number).map_err(|e| ("tolerance", e))?),
        };
        if matches!(tolerance, Tolerance::Absolute(x) | Tolerance::Relative(x) if x.is_nan() || x < 0.0) {
            return Err(("tolerance", "must not be negative".into()));
        }
        Ok(NumberCheck { metric: name.to_string(), when, dim, answer, tolerance })
    }

    /// How close `guess` is to what the run measured.
    pub fn score(&self, guess: f64, summary: &Summary, series: &Series) -> Score {
        let m = goal::measure(&self.metric, self.when, summary, series);
        let said = goal::format_value(guess, self.dim);
        let Some((v, at)) = m else {
            return Score {
                guess,
                measured: None,
                measured_at_s: None,
                error: None,
                relative_error: None,
                close: false,
                text: format!("you said {said}; the run gave no {} in {}", self.metric, goal::format_value(summary.t_s, Dim::Seconds)),
            };
        };
        let error = guess - v;
        let relative = (v != 0.0).then(|| error.abs() / v.abs());
        let close = match self.tolerance {
            Tolerance::Absolute(t) => error.abs() <= t,
            Tolerance::Relative(r) => relative.map_or(error == 0.0, |x| x <= r),
        };
        let gap = if error == 0.0 {
            "exactly".to_string()
        } else {
            let dir = if error < 0.0 { "more" } else { "less" };
            format!("{} {dir} than you said", goal::format_value(error.abs(), self.dim))
        };
        let text = format!("you said {said}; the run gave {} ({gap})", goal::format_value(v, self.dim));
        Score { guess, measured: Some(v), measured_at_s: Some(at), error: Some(error), relative_error: relative, close, text }
    }
}

/// A lesson read and checked: each step's starting scenario and run length, its numeric
/// prediction and its task, ready for the page.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    pub steps: Vec<CheckedStep>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CheckedStep {
    pub scenario: Scenario,
    pub number: Option<NumberCheck>,
    pub task: Option<Task>,
    /// For a choice: each wrong answer's disproving scenario and the goal it shows.
    pub disproofs: Vec<Disproof>,
}

/// A wrong answer's disproving run.
#[derive(Clone, Debug, PartialEq)]
pub struct Disproof {
    /// The choice's index.
    pub choice: usize,
    pub scenario: Scenario,
    pub shows: Option<Goal>,
}

impl Step {
    /// The scenario the step runs: its link's, for `duration_s` when the step sets one.
    pub fn scenario(&self) -> Scenario {
        let mut s = experiment::decode(&self.link).experiment.scenario;
        if let Some(d) = self.duration_s {
            s.duration_s = d;
        }
        s
    }
}

impl Lesson {
    /// The lesson ready to show, or every problem with it, each naming its field.
    pub fn validate(&self) -> Result<Checked, ScenarioError> {
        let mut errors = Vec::new();
        let mut fail = |field: String, message: String| errors.push(FieldError { field, message });
        if self.title.trim().is_empty() {
            fail("title".into(), "must not be empty".into());
        }
        if self.steps.is_empty() {
            fail("steps".into(), "needs at least one step".into());
        }
        let mut steps = Vec::new();
        let mut task_errors = Vec::new();
        for (i, step) in self.steps.iter().enumerate() {
            let at = |name: &str| format!("steps.{i}.{name}");
            for (name, text) in [("title", &step.title), ("prose", &step.prose), ("explanation", &step.explanation)] {
                if text.trim().is_empty() {
                    fail(at(name), "must not be empty".into());
                }
            }
            for p in experiment::decode(&step.link).problems {
                fail(at("link"), p.to_string());
            }
            if let Some(d) = step.duration_s {
                if !(challenge::DURATION_S.0..=challenge::DURATION_S.1).contains(&d) {
                    fail(at("duration_s"), format!("must be a number from 1 to 3600 s (got {})", number(d)));
                }
            }
            let scenario = step.scenario();
            let mut number_check = None;
            let mut disproofs = Vec::new();
            match &step.prediction {
                None => {}
                Some(Prediction::Number { question, metric, answer, tolerance }) => {
                    if question.trim().is_empty() {
                        fail(at("prediction.question"), "must not be empty".into());
                    }
                    match NumberCheck::read(metric, answer, tolerance) {
                        Ok(c) => number_check = Some(c),
                        Err((field, message)) => fail(at(&format!("prediction.{field}")), message),
                    }
                }
                Some(Prediction::Choice { question, choices }) => {
                    if question.trim().is_empty() {
                        fail(at("prediction.question"), "must not be empty".into());
                    }
                    if choices.len() < 2 {
                        fail(at("prediction.choices"), "needs at least two answers".into());
                    }
                    let right = choices.iter().filter(|c| c.correct).count();
                    if right != 1 {
                        fail(at("prediction.choices"), format!("exactly one answer must have correct = true (found {right})"));
                    }
                    for (j, c) in choices.iter().enumerate() {
                        let at_c = |name: &str| at(&format!("prediction.choices.{j}.{name}"));
                        if c.text.trim().is_empty() {
                            fail(at_c("text"), "must not be empty".into());
                        }
                        let shows = match c.shows.as_deref().map(goal::parse) {
                            None => None,
                            Some(Ok(g)) => Some(g),
                            Some(Err(e)) => {
                                fail(at_c("shows"), e.0);
                                None
                            }
                        };
                        match (&c.disproved_by, c.correct) {
                            (Some(link), false) => {
                                let d = experiment::decode(link);
                                for p in &d.problems {
                                    fail(at_c("disproved_by"), p.to_string());
                                }
                                let mut s = d.experiment.scenario;
                                if let Some(dur) = step.duration_s {
                                    s.duration_s = dur;
                                }
                                disproofs.push(Disproof { choice: j, scenario: s, shows });
                            }
                            (None, false) => fail(at_c("disproved_by"), "a wrong answer names the link that disproves it".into()),
                            (Some(_), true) => fail(at_c("disproved_by"), "the right answer has nothing to disprove it".into()),
                            (None, true) => {}
                        }
                    }
                }
            }
            let task = step.task.as_ref().and_then(|t| {
                let d = step.duration_s.unwrap_or(scenario.duration_s);
                challenge::prepare(&at("task"), &step.link, &t.free, d, &t.goals, &mut task_errors)
            });
            steps.push(CheckedStep { scenario, number: number_check, task, disproofs });
        }
        // Link problems inside a task repeat the step's own: only the others are new.
        errors.extend(task_errors.into_iter().filter(|e| !e.field.ends_with(".task.link")));
        if errors.is_empty() {
            Ok(Checked { steps })
        } else {
            Err(ScenarioError { errors })
        }
    }

    /// Holds a checked lesson to the engine: runs every step, and reports each numeric
    /// answer the run does not give (within its tolerance), each wrong answer whose
    /// disproving run does not show what `shows` claims (or that claims nothing), and each
    /// task that its own starting link already passes. Empty: every claim is true.
    pub fn verify(&self, checked: &Checked) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for (i, c) in checked.steps.iter().enumerate() {
            let at = |name: &str| format!("steps.{i}.{name}");
            if let Some(n) = &c.number {
                match challenge::run(&c.scenario) {
                    Ok((summary, series)) => {
                        let score = n.score(n.answer, &summary, &series);
                        if !score.close {
                            errors.push(FieldError {
                                field: at("prediction.answer"),
                                message: format!("not what the engine gives: {}", score.text),
                            });
                        }
                    }
                    Err(e) => errors.push(FieldError { field: at("link"), message: e.to_string() }),
                }
            }
            for d in &c.disproofs {
                let field = at(&format!("prediction.choices.{}.shows", d.choice));
                let Some(shows) = &d.shows else {
                    errors.push(FieldError { field, message: "say what the disproving run shows, as a goal that holds on it".into() });
                    continue;
                };
                match challenge::run(&d.scenario) {
                    Ok((summary, series)) => {
                        let o = shows.evaluate(&summary, &series);
                        if !o.pass {
                            let measured = o.measured.map_or("no value".to_string(), |v| goal::format_value(v, o.dim));
                            errors.push(FieldError {
                                field,
                                message: format!("\"{}\" does not hold on that run (measured {measured})", o.goal),
                            });
                        }
                    }
                    Err(e) => errors
                        .push(FieldError { field: at(&format!("prediction.choices.{}.disproved_by", d.choice)), message: e.to_string() }),
                }
            }
            if let Some(t) = &c.task {
                if t.check(&t.start).is_ok_and(|v| v.pass) {
                    errors.push(FieldError { field: at("task.goals"), message: "the step's own link already meets every goal".into() });
                }
            }
        }
        errors
    }

    /// Every link in the lesson with the field it is in: `(steps.0.link, "v=1&...")`.
    pub fn links(&self) -> Vec<(String, &str)> {
        let mut out = Vec::new();
        for (i, s) in self.steps.iter().enumerate() {
            out.push((format!("steps.{i}.link"), s.link.as_str()));
            if let Some(Prediction::Choice { choices, .. }) = &s.prediction {
                for (j, c) in choices.iter().enumerate() {
                    if let Some(l) = &c.disproved_by {
                        out.push((format!("steps.{i}.prediction.choices.{j}.disproved_by"), l.as_str()));
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_prediction_is_scored_against_the_run() {
        let c = NumberCheck::read("first_producer_oom_s", "48.3 s", "2 s").unwrap();
        let s = Summary { t_s: 60.0, first_producer_oom_s: Some(48.3), ..Summary::default() };
        let series = Series::default();
        let sc = c.score(30.0, &s, &series);
        assert!(!sc.close);
        assert_eq!(sc.text, "you said 30 s; the run gave 48.3 s (18.3 s more than you said)");
        assert!(c.score(c.answer, &s, &series).close);
        assert!(c.score(47.0, &s, &series).close);
        let none = c.score(30.0, &Summary { t_s: 60.0, ..Summary::default() }, &series);
        assert!(!none.close && none.text.contains("no first_producer_oom_s in 60 s"), "{}", none.text);
        let rel = NumberCheck::read("lost", "450k", "10 %").unwrap();
        assert_eq!(rel.tolerance, Tolerance::Relative(0.1));
        assert!(rel.score(420_000.0, &Summary { lost: 459_000, ..Summary::default() }, &series).close);
        assert_eq!(NumberCheck::read("lost", "lots", "1").unwrap_err().0, "answer");
        assert_eq!(NumberCheck::read("heap", "1", "1").unwrap_err().0, "metric");
        assert_eq!(NumberCheck::read("lost", "1", "2 s").unwrap_err().0, "tolerance");
    }

    #[test]
    fn a_bad_step_names_its_field() {
        let text = r#"{"title":"t","steps":[{"title":"s","prose":"p","link":"preset=nope","explanation":"e",
            "prediction":{"kind":"choice","question":"q","choices":[{"text":"a","correct":true},{"text":"b"}]}}]}"#;
        let lesson: Lesson = serde_json::from_str(text).unwrap();
        let e = lesson.validate().unwrap_err();
        let fields: Vec<&str> = e.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["steps.0.link", "steps.0.prediction.choices.1.disproved_by"], "{e}");
    }
}
