//! Lessons and challenges as the page reads them: JSON files fetched from the page's own
//! site (`content/lessons/ID.json`, `content/challenges/ID.json`, or a relative path a
//! link names), made by `bplab lesson show` / `bplab challenges ID` from the teachers' TOML
//! (docs/lessons.md). Read with the browser's `JSON.parse` into the engine's own types, so
//! the page needs no deserialiser; every problem names the field (`steps.2.prediction.metric`)
//! and what was wrong, and a broken file leaves the page as it was.
//!
//! A challenge is read as a one-step course whose step is its task, with its hints: the
//! lesson panel shows both.

use bplab_engine::challenge::GoalSpec;
use bplab_engine::goal;
use bplab_engine::lesson::{Choice, NumberCheck, Prediction, Step, StepTask};
use js_sys::{Array, Reflect};
use wasm_bindgen::JsValue;

const NUM: fn(&str) -> Option<f64> = crate::format::LINK_NUMBERS.parse;

/// A lesson or a challenge, ready for the panel.
#[derive(Clone, PartialEq)]
pub struct Course {
    /// What the link named (`incident-106`, `class/week-3.json`): progress is kept under it.
    pub key: String,
    pub challenge: bool,
    pub title: String,
    /// The lesson's summary or the challenge's story (Markdown subset).
    pub summary: String,
    pub steps: Vec<Step>,
    /// A challenge's hints, revealed one by one.
    pub hints: Vec<String>,
}

/// The file a lesson or challenge reference names: a shipped id's file, or the path itself.
pub fn file_of(reference: &str, challenge: bool) -> String {
    if reference.ends_with(".json") {
        reference.to_string()
    } else {
        format!("content/{}/{reference}.json", if challenge { "challenges" } else { "lessons" })
    }
}

/// Reads a fetched lesson (or challenge) document; the error names the field.
pub fn read(key: &str, doc: &JsValue, challenge: bool) -> Result<Course, String> {
    let title = text(doc, "title", "")?;
    if challenge {
        let step = Step {
            title: title.clone(),
            prose: String::new(),
            link: text(doc, "link", "")?,
            duration_s: Some(number(doc, "duration_s", "")?),
            prediction: None,
            task: Some(StepTask { goals: goals(doc, "")?, free: texts(doc, "free", "")? }),
            explanation: String::new(),
            notes: None,
            challenge: None,
        };
        return Ok(Course {
            key: key.into(),
            challenge,
            title,
            summary: text(doc, "story", "")?,
            steps: vec![step],
            hints: texts(doc, "hints", "")?,
        });
    }
    let mut steps = Vec::new();
    for (i, s) in list(doc, "steps", "")?.iter().enumerate() {
        let at = format!("steps.{i}.");
        let prediction = match get(&s, "prediction") {
            None => None,
            Some(p) => {
                let pat = format!("{at}prediction.");
                let question = text(&p, "question", &pat)?;
                Some(match text(&p, "kind", &pat)?.as_str() {
                    "number" => {
                        let (metric, answer, tolerance) =
                            (text(&p, "metric", &pat)?, text(&p, "answer", &pat)?, text(&p, "tolerance", &pat)?);
                        NumberCheck::read_with(&metric, &answer, &tolerance, NUM).map_err(|(field, why)| format!("{pat}{field}: {why}"))?;
                        Prediction::Number { question, metric, answer, tolerance }
                    }
                    "choice" => {
                        let mut choices = Vec::new();
                        for (j, c) in list(&p, "choices", &pat)?.iter().enumerate() {
                            let cat = format!("{pat}choices.{j}.");
                            choices.push(Choice {
                                text: text(&c, "text", &cat)?,
                                correct: get(&c, "correct").and_then(|v| v.as_bool()).unwrap_or(false),
                                disproved_by: optional(&c, "disproved_by", &cat)?,
                                shows: None,
                                explanation: optional(&c, "explanation", &cat)?,
                            });
                        }
                        if choices.iter().filter(|c| c.correct).count() != 1 {
                            return Err(format!("{pat}choices: exactly one choice must be correct"));
                        }
                        Prediction::Choice { question, choices }
                    }
                    other => return Err(format!("{pat}kind: must be number or choice (got \"{other}\")")),
                })
            }
        };
        let task = match get(&s, "task") {
            None => None,
            Some(t) => {
                let tat = format!("{at}task.");
                Some(StepTask { goals: goals(&t, &tat)?, free: texts(&t, "free", &tat)? })
            }
        };
        steps.push(Step {
            title: text(&s, "title", &at)?,
            prose: text(&s, "prose", &at)?,
            link: text(&s, "link", &at)?,
            duration_s: match get(&s, "duration_s") {
                None => None,
                Some(_) => Some(number(&s, "duration_s", &at)?),
            },
            prediction,
            task,
            explanation: text(&s, "explanation", &at)?,
            notes: optional(&s, "notes", &at)?,
            challenge: optional(&s, "challenge", &at)?,
        });
    }
    if steps.is_empty() {
        return Err("steps: a lesson needs at least one step".into());
    }
    Ok(Course { key: key.into(), challenge, title, summary: optional(doc, "summary", "")?.unwrap_or_default(), steps, hints: Vec::new() })
}

/// A member of an object, if it is there and not null.
fn get(obj: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(obj, &JsValue::from_str(key)).ok().filter(|v| !v.is_undefined() && !v.is_null())
}

fn text(obj: &JsValue, key: &str, at: &str) -> Result<String, String> {
    optional(obj, key, at)?.ok_or_else(|| format!("{at}{key}: missing (a text)"))
}

fn optional(obj: &JsValue, key: &str, at: &str) -> Result<Option<String>, String> {
    match get(obj, key) {
        None => Ok(None),
        Some(v) => v.as_string().map(Some).ok_or_else(|| format!("{at}{key}: must be a text")),
    }
}

fn number(obj: &JsValue, key: &str, at: &str) -> Result<f64, String> {
    get(obj, key).and_then(|v| v.as_f64()).ok_or_else(|| format!("{at}{key}: must be a number"))
}

fn list(obj: &JsValue, key: &str, at: &str) -> Result<Array, String> {
    match get(obj, key) {
        None => Ok(Array::new()),
        Some(v) if Array::is_array(&v) => Ok(v.into()),
        Some(_) => Err(format!("{at}{key}: must be a list")),
    }
}

fn texts(obj: &JsValue, key: &str, at: &str) -> Result<Vec<String>, String> {
    list(obj, key, at)?.iter().enumerate().map(|(i, v)| v.as_string().ok_or_else(|| format!("{at}{key}.{i}: must be a text"))).collect()
}

/// Goals: texts, or tables with `text` (and an `explanation`), each parsed.
fn goals(obj: &JsValue, at: &str) -> Result<Vec<GoalSpec>, String> {
    let mut out = Vec::new();
    for (i, g) in list(obj, "goals", at)?.iter().enumerate() {
        let gat = format!("{at}goals.{i}");
        let spec = match g.as_string() {
            Some(t) => GoalSpec::Text(t),
            None => GoalSpec::Explained {
                text: text(&g, "text", &format!("{gat}."))?,
                explanation: optional(&g, "explanation", &format!("{gat}."))?,
            },
        };
        goal::parse_with(spec.text(), NUM).map_err(|e| format!("{gat}: {}", e.0))?;
        out.push(spec);
    }
    if out.is_empty() {
        return Err(format!("{at}goals: needs at least one goal"));
    }
    Ok(out)
}
