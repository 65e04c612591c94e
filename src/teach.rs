//! The lesson panel: a lesson (`?lesson=ID`) or a challenge (`?challenge=ID`) beside the
//! simulator, read from the site's own `content/` files ([`crate::content`]).
//!
//! A lesson step loads its link, asks for its prediction *before* the run plays (Play is
//! held back until the learner commits one), and when the run reaches the step's length
//! re-runs it headless to that moment exactly and scores the guess with the engine
//! ([`NumberCheck::score`]); a task's goals tick live as the run goes and are graded the
//! same way at the end, each failed goal saying by how much and when it first broke
//! ([`Outcome::describe`], the words `bplab check` prints). The explanation shows only
//! after the learner has predicted or tried. Progress (the step, the steps done) is kept in
//! `localStorage` under the lesson's name, never sent anywhere.
//!
//! Presenter mode (`present=1`): large type, the knobs tucked away, ← → and Page Up/Down
//! (what a clicker sends) move between steps, `n` shows the teacher's notes.

use crate::address::open_link;
use crate::content::{file_of, read, Course};
use crate::dom::fetch_json;
use crate::state::Lab;
use bplab_engine::challenge::{self, GoalSpec};
use bplab_engine::experiment::{self, ViewState};
use bplab_engine::goal::{self, Goal, Outcome};
use bplab_engine::lesson::{NumberCheck, Prediction, Step};
use bplab_engine::markup;
use bplab_engine::markup::escape;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Numbers as the browser reads them (no float parser in the download).
const NUM: fn(&str) -> Option<f64> = crate::format::LINK_NUMBERS.parse;

/// What the learner committed to before the run.
#[derive(Clone, PartialEq)]
enum Guess {
    Number(f64),
    Choice(usize),
}

/// A step's run, graded at its end.
#[derive(Clone, PartialEq)]
struct Graded {
    /// How the prediction went ("you said 30 s; the run gave 48.3 s …") and whether it was close.
    said: Option<(String, bool)>,
    goals: Vec<Outcome>,
    duration_s: f64,
    /// Changes to knobs the task does not free, each "path is locked …".
    locked: Vec<String>,
    /// The solution's canonical link and run digest, as `bplab check` prints them.
    link: String,
    digest: String,
}

/// The panel's state: the course and where the learner is in it. The panel is drawn as
/// HTML text (regions set with `inner_html`) with one click listener that reads the
/// buttons' `data-act`: a view per element would cost the download several times more.
#[derive(Clone, Copy)]
struct Panel {
    course: RwSignal<Option<Course>>,
    problem: RwSignal<Option<String>>,
    step: RwSignal<usize>,
    done: RwSignal<Vec<bool>>,
    guess: RwSignal<Option<Guess>>,
    /// The prediction as the learner typed it.
    said: RwSignal<String>,
    graded: RwSignal<Option<Graded>>,
    nudge: RwSignal<Option<String>>,
    hints: RwSignal<usize>,
    notes: RwSignal<bool>,
    /// Runs of this step graded so far (a task's explanation waits for a second try, or a pass).
    tries: RwSignal<u32>,
}

impl Panel {
    fn current(&self) -> Option<Step> {
        self.course.with(|c| c.as_ref().and_then(|c| c.steps.get(self.step.get()).cloned()))
    }

    fn count(&self) -> usize {
        self.course.with(|c| c.as_ref().map_or(0, |c| c.steps.len()))
    }

    /// Opens step `i`: its link, paused at its start, nothing predicted yet.
    fn open(&self, lab: &Lab, i: usize) {
        let Some(step) = self.course.with_untracked(|c| c.as_ref().and_then(|c| c.steps.get(i).cloned())) else { return };
        self.step.set(i);
        self.guess.set(None);
        mark_readout("", None);
        self.graded.set(None);
        self.tries.set(0);
        self.nudge.set(None);
        let problems = open_link(lab, &step.link, step.duration_s);
        lab.link_problems.set(problems);
        lab.free.set(step.task.as_ref().map(|t| t.free.clone()));
        self.save();
        lab.announce(format!("Step {} of {}: {}", i + 1, self.count(), step.title));
    }

    fn save(&self) {
        let key = self.course.with_untracked(|c| c.as_ref().map(|c| c.key.clone()));
        let Some(key) = key else { return };
        let done: String = self.done.get_untracked().iter().map(|d| if *d { '1' } else { '0' }).collect();
        if let Ok(Some(store)) = window().local_storage() {
            let _ = store.set_item(&format!("bplab:{key}"), &format!("{};{done}", self.step.get_untracked()));
        }
    }

    /// The step and the steps done, as saved for this course.
    fn restore(&self, key: &str, steps: usize) -> usize {
        let saved = window().local_storage().ok().flatten().and_then(|s| s.get_item(&format!("bplab:{key}")).ok().flatten());
        let (mut at, mut done) = (0, vec![false; steps]);
        if let Some((i, bits)) = saved.as_deref().and_then(|s| s.split_once(';')) {
            at = i.parse().unwrap_or(0).min(steps - 1);
            for (d, b) in done.iter_mut().zip(bits.chars()) {
                *d = b == '1';
            }
        }
        self.done.set(done);
        at
    }
}

/// The step's run, from its start to its length exactly, graded: the prediction scored and
/// every goal checked, as `bplab check` does.
fn grade(lab: &Lab, step: &Step, guess: Option<&Guess>) -> Option<Graded> {
    let scenario = lab.scenario.get_untracked();
    let (summary, series) = challenge::run(&scenario).ok()?;
    let said = match (&step.prediction, guess) {
        (Some(Prediction::Number { metric, answer, tolerance, .. }), Some(Guess::Number(g))) => {
            let check = NumberCheck::read_with(metric, answer, tolerance, NUM).ok()?;
            let s = check.score(*g, &summary, &series);
            Some((s.text, s.close))
        }
        (Some(Prediction::Choice { choices, .. }), Some(Guess::Choice(i))) => {
            let c = choices.get(*i)?;
            let verdict = if c.correct { "Right." } else { "Not this one." };
            Some((c.explanation.as_ref().map_or(verdict.to_string(), |e| format!("{verdict} {e}")), c.correct))
        }
        _ => None,
    };
    let goals: Vec<Outcome> = goals_of(step).iter().map(|g| g.evaluate(&summary, &series)).collect();
    // The solution as `bplab check` normalises it: its changes from the preset (knob paths,
    // sorted, numbers as the engine writes them) and the run length.
    let preset = lab.preset.get_untracked();
    let base = bplab_engine::preset(&preset).unwrap_or_default();
    let show = crate::format::LINK_NUMBERS.show;
    let mut changes = crate::knobs::paths::changes(&base, &scenario, show);
    if scenario.duration_s != base.duration_s {
        let at = changes.iter().position(|c| c.path.as_str() > "duration_s").unwrap_or(changes.len());
        changes.insert(at, experiment::Change { path: "duration_s".into(), value: experiment::number_with(scenario.duration_s, show) });
    }
    let link = experiment::write_with(&preset, &changes, &ViewState::default(), crate::format::LINK_NUMBERS);
    let digest = challenge::digest(&link, scenario.seed, &goals);
    // The changes the task does not free, from its starting link, judged as `bplab check`
    // judges them.
    let locked = match &step.task {
        Some(t) => {
            let mut from = crate::address::read_link(&step.link).1;
            from.duration_s = scenario.duration_s;
            challenge::locked(&t.free, crate::knobs::paths::changes(&from, &scenario, show))
                .into_iter()
                .map(|l| format!("{}={}: {}", l.path, l.value, l.reason))
                .collect()
        }
        None => Vec::new(),
    };
    Some(Graded { said, goals, duration_s: scenario.duration_s, locked, link, digest })
}

fn goals_of(step: &Step) -> Vec<Goal> {
    step.task.iter().flat_map(|t| t.goals.iter()).filter_map(|g| goal::parse_with(g.text(), NUM).ok()).collect()
}

/// A tiny HTML writer: text is always escaped.
struct Html(String);

impl Html {
    fn raw(&mut self, s: &str) -> &mut Html {
        self.0.push_str(s);
        self
    }

    fn text(&mut self, s: &str) -> &mut Html {
        escape(s, &mut self.0);
        self
    }

    fn md(&mut self, s: &str) -> &mut Html {
        self.raw(&markup::to_html(s))
    }
}

/// The step list and progress.
fn head_html(p: &Panel) -> String {
    let mut h = Html(String::new());
    p.course.with(|c| {
        let Some(c) = c else { return };
        h.raw("<h2 data-testid=\"course-title\">").text(&c.title).raw("</h2>");
        let n = c.steps.len();
        if n < 2 {
            return;
        }
        let (at, done) = (p.step.get(), p.done.get());
        let count = done.iter().filter(|d| **d).count();
        h.raw(&format!(
            "<p class=\"progress\" data-testid=\"course-progress\">Step {} of {n} · {count} done</p><ol class=\"steps\">",
            at + 1
        ));
        for (i, s) in c.steps.iter().enumerate() {
            let d = done.get(i).copied().unwrap_or(false);
            h.raw(&format!(
                "<li{}><button data-act=\"go\" data-i=\"{i}\" data-testid=\"lesson-step-{}\"{}>{}",
                if d { " class=\"done\"" } else { "" },
                i + 1,
                if i == at { " aria-current=\"step\"" } else { "" },
                if d { "✓ " } else { "" }
            ))
            .text(&s.title)
            .raw("</button></li>");
        }
        h.raw("</ol>");
    });
    h.0
}

/// The step's text: title, story, prose, what may change, the goals' reasons, notes.
fn step_html(p: &Panel) -> String {
    let mut h = Html(String::new());
    let Some(step) = p.current() else { return h.0 };
    p.course.with(|c| match c.as_ref().filter(|c| c.challenge) {
        Some(c) => {
            h.raw("<div class=\"prose\">").md(&c.summary).raw("</div>");
        }
        None => {
            h.raw("<h3 data-testid=\"step-title\">").text(&step.title).raw("</h3>");
        }
    });
    h.raw("<div class=\"prose\" data-testid=\"step-prose\">").md(&step.prose).raw("</div>");
    if let Some(t) = &step.task {
        if !t.free.is_empty() {
            h.raw("<p class=\"free\">You may change <code>").text(&t.free.join(", ")).raw("</code>; everything else is fixed.</p>");
        }
        for g in &t.goals {
            if let GoalSpec::Explained { text, explanation: Some(e) } = g {
                h.raw("<p class=\"hint\"><code>").text(text).raw("</code>: ").text(e).raw("</p>");
            }
        }
    }
    if let Some(n) = step.notes.as_ref().filter(|_| p.notes.get()) {
        h.raw("<aside class=\"notes\" data-testid=\"notes\"><strong>Notes: </strong>").text(n).raw("</aside>");
    }
    h.0
}

/// The prediction to commit before the run, then how it went.
fn prediction_html(p: &Panel) -> String {
    let mut h = Html(String::new());
    let Some(step) = p.current() else { return h.0 };
    let Some(pred) = &step.prediction else { return h.0 };
    let guess = p.guess.get();
    let off = if guess.is_some() { " disabled" } else { "" };
    let question = match pred {
        Prediction::Number { question, .. } | Prediction::Choice { question, .. } => question,
    };
    h.raw("<fieldset class=\"prediction\" data-testid=\"prediction\"><legend>Predict first: ").text(question).raw("</legend>");
    match pred {
        Prediction::Number { metric, .. } => {
            let unit = NumberCheck::read_with(metric, "0", "0", NUM).map(|c| c.dim.units()).unwrap_or("");
            let said = match guess {
                Some(Guess::Number(_)) => p.said.get(),
                _ => String::new(),
            };
            h.raw("<label class=\"guess\"><span>Your answer</span><input data-testid=\"prediction-number\" inputmode=\"decimal\" placeholder=\"with a unit: ")
                .text(unit)
                .raw("\" value=\"")
                .text(&said)
                .raw(&format!("\"{off}></label>"));
        }
        Prediction::Choice { choices, .. } => {
            for (i, c) in choices.iter().enumerate() {
                let checked = if guess == Some(Guess::Choice(i)) { " checked" } else { "" };
                h.raw(&format!(
                    "<label class=\"choice\"><input type=\"radio\" name=\"prediction-choice\" value=\"{i}\" data-testid=\"prediction-choice-{}\"{checked}{off}> ",
                    i + 1
                ))
                .text(&c.text)
                .raw("</label>");
            }
        }
    }
    h.raw(&format!("<button class=\"primary\" data-act=\"commit\" data-testid=\"prediction-commit\"{off}>Lock in my prediction and run</button></fieldset>"));
    h.0
}

/// The goals, ticking live, and at the end each one's verdict in words.
fn goals_html(live: &[(String, Option<bool>)], graded: Option<&Graded>, challenge_key: Option<&str>) -> String {
    let mut h = Html(String::new());
    if live.is_empty() {
        return h.0;
    }
    h.raw("<h4>Goals</h4><ul data-testid=\"goals\">");
    for (i, (text, state)) in live.iter().enumerate() {
        let end = graded.and_then(|g| g.goals.get(i).map(|o| (o.pass, o.describe(g.duration_s))));
        let state = end.as_ref().map_or(*state, |(pass, _)| Some(*pass));
        let (mark, class, said) = match state {
            Some(true) => ("✓", "pass", "met"),
            Some(false) => ("✗", "fail", "not met"),
            None => ("…", "open", "not decided yet"),
        };
        h.raw(&format!(
            "<li class=\"{class}\" data-testid=\"goal-{}\"><span class=\"mark\" aria-hidden=\"true\">{mark}</span><span><code>",
            i + 1
        ))
        .text(text)
        .raw(&format!("</code><span class=\"sr-only\"> {said}</span></span>"));
        if let Some((_, why)) = end {
            h.raw("<span class=\"why\">").text(&why).raw("</span>");
        }
        h.raw("</li>");
    }
    h.raw("</ul>");
    if let Some(g) = graded {
        for l in &g.locked {
            h.raw("<p class=\"locked\" data-testid=\"locked\">").text(l).raw("</p>");
        }
        let failed = g.goals.iter().filter(|o| !o.pass).count();
        if failed == 0 && g.locked.is_empty() {
            h.raw("<p class=\"verdict pass\" data-testid=\"verdict\">PASS: every goal met.</p>");
        } else if failed == 0 {
            h.raw("<p class=\"verdict\" data-testid=\"verdict\">FAIL: every goal met, but with a locked knob changed.</p>");
        } else {
            h.raw(&format!(
                "<p class=\"verdict\" data-testid=\"verdict\">FAIL: {failed} of {} goals not met (why, above).</p>",
                g.goals.len()
            ));
        }
        // Anyone can re-check the solution: the page's link and `bplab check --link` give
        // the same verdict and digest.
        if let Some(key) = challenge_key {
            let share = format!("?{}&challenge={}", g.link, key);
            h.raw("<p class=\"share\"><a data-testid=\"share-solution\" href=\"")
                .text(&share)
                .raw("\">Share my solution</a> · run digest <code data-testid=\"digest\">")
                .text(&g.digest)
                .raw("</code></p>");
        }
    }
    h.0
}

/// After the run: how the prediction went, the hints, the explanation.
fn after_html(p: &Panel) -> String {
    let mut h = Html(String::new());
    let Some(step) = p.current() else { return h.0 };
    if let Some(n) = p.nudge.get() {
        h.raw("<p class=\"nudge\" data-testid=\"nudge\">").text(&n).raw("</p>");
    }
    let graded = p.graded.get();
    if let Some((text, close)) = graded.as_ref().and_then(|g| g.said.clone()) {
        h.raw(&format!("<p class=\"said{}\" data-testid=\"prediction-result\">", if close { " close" } else { "" }))
            .text(&text)
            .raw("</p>");
    }
    let hints = p.course.with(|c| c.as_ref().map(|c| c.hints.clone()).unwrap_or_default());
    if !hints.is_empty() {
        let n = p.hints.get().min(hints.len());
        h.raw("<ol class=\"hints\" data-testid=\"hints\">");
        for hint in &hints[..n] {
            h.raw("<li>").text(hint).raw("</li>");
        }
        h.raw("</ol>");
        if n < hints.len() {
            h.raw(&format!(
                "<button data-act=\"hint\" data-testid=\"hint-more\">{}</button>",
                if n == 0 { "Show a hint" } else { "Another hint" }
            ));
        }
    }
    // A task's explanation is its answer: it waits for a pass or a second try.
    let explained = match (&graded, &step.task) {
        (Some(g), Some(_)) if step.prediction.is_none() => (g.locked.is_empty() && g.goals.iter().all(|o| o.pass)) || p.tries.get() > 1,
        (g, _) => g.is_some(),
    };
    if explained && !step.explanation.is_empty() {
        h.raw("<div class=\"explained\" data-testid=\"step-explanation\">").md(&step.explanation).raw("</div>");
        // A lesson that ends in a challenge says so, with the way in.
        if let Some(c) = &step.challenge {
            h.raw("<p><a class=\"primary\" data-testid=\"step-challenge\" href=\"?challenge=")
                .text(c)
                .raw("\">Take the challenge →</a></p>");
        }
        if let (Some(Prediction::Choice { choices, .. }), Some(Guess::Choice(i))) = (&step.prediction, p.guess.get()) {
            if choices.get(i).is_some_and(|c| c.disproved_by.is_some()) {
                h.raw("<button data-act=\"disproof\" data-testid=\"disproof\">Run the experiment that disproves it</button>");
            }
        }
    }
    h.0
}

/// The readout a metric is shown in (`first_oom_s`: "First OOM at"), if there is one.
fn readout_of(metric: &str) -> Option<&'static str> {
    let name = goal::split_when(metric).1;
    Some(match name {
        "first_oom_s" => "first-oom",
        "oom_kills" => "oom-kills",
        "producer_oom_kills" => "producer-oom-kills",
        "max_heap_bytes" | "heap_bytes" => "max-heap",
        "max_in_flight" | "in_flight" => "max-in-flight",
        "max_lag" | "lag" => "max-lag",
        "latency_p50_s" => "latency-p50",
        "latency_p99_s" => "latency-p99",
        "throughput_msgs_per_s" => "throughput",
        "dropped" | "dropped_fraction" => "dropped",
        "lost" | "lost_fraction" => "lost",
        "duplicated" => "duplicated",
        "rebalances" => "rebalances",
        "call_rtt_p99_s" => "call-rtt-p99",
        _ => return None,
    })
}

/// Marks the readout of `metric` with what the learner said; `None`: unmarks every readout.
fn mark_readout(metric: &str, said: Option<&str>) {
    let found = match said {
        Some(_) => readout_of(metric).map(|id| format!("[data-testid=readout-{id}]")),
        None => Some("[data-said] > dd".to_string()),
    };
    let cell = found.and_then(|sel| document().query_selector(&sel).ok().flatten()).and_then(|dd| dd.parent_element());
    if let Some(cell) = cell {
        let _ = match said {
            Some(text) => cell.set_attribute("data-said", text),
            None => cell.remove_attribute("data-said"),
        };
    }
}

/// The element the event started on, or the nearest around it, that has `data-act`.
fn acted(ev: &web_sys::Event) -> Option<web_sys::Element> {
    ev.target()?.dyn_into::<web_sys::Element>().ok()?.closest("[data-act]").ok()?
}

/// The panel, when the page's link names a lesson or a challenge; nothing otherwise.
#[component]
pub fn CoursePanel() -> impl IntoView {
    let lab = Lab::from_context();
    let p = Panel {
        course: RwSignal::new(None),
        problem: RwSignal::new(None),
        step: RwSignal::new(0),
        done: RwSignal::new(Vec::new()),
        guess: RwSignal::new(None),
        said: RwSignal::new(String::new()),
        graded: RwSignal::new(None),
        nudge: RwSignal::new(None),
        hints: RwSignal::new(0),
        notes: RwSignal::new(false),
        tries: RwSignal::new(0),
    };
    let (lesson, is_challenge, first, present) = lab.link_view.with_value(|v| {
        let c = v.challenge.clone();
        (v.lesson.clone().or(c.clone()), v.lesson.is_none() && c.is_some(), v.step, v.present)
    });
    // A challenge link that names a preset carries a solution (Share my solution).
    let addressed = window().location().search().is_ok_and(|q| q.contains("preset="));
    let challenge_key = is_challenge.then(|| lesson.clone()).flatten();
    if let Some(key) = lesson {
        leptos::task::spawn_local(async move {
            let file = file_of(&key, is_challenge);
            let course = fetch_json(&file).await.and_then(|doc| read(&key, &doc, is_challenge).map_err(|e| format!("{file}: {e}")));
            match course {
                Ok(c) => {
                    let n = c.steps.len();
                    let run_for = c.steps[0].duration_s;
                    p.course.set(Some(c));
                    let at = p.restore(&key, n);
                    if is_challenge && addressed {
                        // A shared solution: the link's own scenario, run for the challenge's length.
                        if let Some(d) = run_for {
                            lab.scenario.update(|s| s.duration_s = d);
                            lab.driver.update_value(|dr| dr.set_stop(Some(d)));
                        }
                        lab.free.set(p.current().and_then(|s| s.task).map(|t| t.free));
                    } else {
                        p.open(&lab, first.map_or(at, |s| (s - 1).min(n - 1)));
                    }
                }
                Err(e) => {
                    p.problem.set(Some(format!("The {} could not be opened: {e}", if is_challenge { "challenge" } else { "lesson" })))
                }
            }
        });
    }

    // Predict, then run: Play waits for a committed prediction.
    Effect::new(move |_| {
        if !lab.playing.get() {
            return;
        }
        let waiting = p.current().is_some_and(|s| s.prediction.is_some()) && p.guess.get_untracked().is_none();
        if waiting {
            lab.playing.set(false);
            p.nudge.set(Some("Make your prediction first, then the run plays.".into()));
        }
    });
    // The step's run ends at its length: paused there and graded exactly.
    Effect::new(move |_| {
        // This runs every frame while the run plays (the clock moves): the cheap checks
        // first, the step only looked at once the run is at its end.
        let t = lab.clock.get();
        let end = lab.scenario.with_untracked(|s| s.duration_s);
        if p.course.with(Option::is_none) || t + 1e-9 < end {
            return;
        }
        // A prediction committed at the step's end (a step that opens there) grades at once.
        let guessed = p.guess.with(Option::is_some);
        if p.graded.with(Option::is_some) || lab.replaying.get().is_some() {
            return;
        }
        let Some(step) = p.current() else { return };
        if step.prediction.is_some() && !guessed {
            return;
        }
        lab.playing.set(false);
        let g = grade(&lab, &step, p.guess.get_untracked().as_ref());
        let passed = g.as_ref().is_some_and(|g| g.locked.is_empty() && g.goals.iter().all(|o| o.pass));
        if passed || step.task.is_none() {
            p.done.update(|d| d.get_mut(p.step.get_untracked()).into_iter().for_each(|x| *x = true));
            p.save();
        }
        lab.announce(match &g {
            Some(g) if !g.goals.is_empty() => {
                format!("Run over: {} of {} goals met", g.goals.iter().filter(|o| o.pass).count(), g.goals.len())
            }
            _ => "Run over".into(),
        });
        // The prediction, marked on the readout it is about.
        if let (Some(Prediction::Number { metric, .. }), Some(_)) = (&step.prediction, g.as_ref().and_then(|g| g.said.as_ref())) {
            mark_readout(metric, Some(&format!("you said {}", p.said.get_untracked())));
        }
        p.graded.set(g);
        p.tries.update(|n| *n += 1);
    });

    // A task is tried again after each change: the changed run replays to the step's end
    // and is graded anew.
    Effect::new(move |_| {
        lab.scenario.track();
        if p.current().is_some_and(|s| s.task.is_some()) && p.graded.get_untracked().is_some() {
            p.graded.set(None);
        }
    });

    // Presenter keys: a clicker sends arrows and Page Up/Down.
    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        if !present || p.course.with_untracked(Option::is_none) {
            return;
        }
        let typing = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA"));
        if typing || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let i = p.step.get_untracked();
        match ev.key().as_str() {
            "ArrowRight" | "PageDown" if i + 1 < p.count() => p.open(&lab, i + 1),
            "ArrowLeft" | "PageUp" if i > 0 => p.open(&lab, i - 1),
            "n" => p.notes.update(|n| *n = !*n),
            _ => return,
        }
        ev.prevent_default();
    });
    on_cleanup(move || keys.remove());

    let live: Memo<Vec<(String, Option<bool>)>> = Memo::new(move |_| {
        lab.slow.track();
        let Some(step) = p.current() else { return Vec::new() };
        let goals = goals_of(&step);
        lab.driver.with_value(|d| {
            let (summary, series) = (d.sim().summary(), d.sim().series());
            goals
                .iter()
                .map(|g| {
                    let o = g.evaluate(&summary, series);
                    // A goal over the whole run that broke is broken for good; the others
                    // are only "so far" until the end.
                    let state = match g.when {
                        goal::When::AtAllTimes if !o.pass => Some(false),
                        _ if o.pass => Some(true),
                        _ => None,
                    };
                    (g.text.clone(), state)
                })
                .collect()
        })
    });

    let click = move |ev: web_sys::MouseEvent| {
        let Some(el) = acted(&ev) else { return };
        let i = p.step.get_untracked();
        match el.get_attribute("data-act").as_deref() {
            Some("go") => {
                let to = el.get_attribute("data-i").and_then(|x| x.parse().ok()).unwrap_or(i);
                p.open(&lab, to);
            }
            Some("back") if i > 0 => p.open(&lab, i - 1),
            Some("next") if i + 1 < p.count() => p.open(&lab, i + 1),
            Some("reset") => p.open(&lab, i),
            Some("hint") => p.hints.update(|n| *n += 1),
            Some("commit") => commit(&lab, &p),
            Some("disproof") => {
                let link = p.current().and_then(|s| match (s.prediction, p.guess.get_untracked()) {
                    (Some(Prediction::Choice { choices, .. }), Some(Guess::Choice(c))) => {
                        choices.get(c).and_then(|c| c.disproved_by.clone())
                    }
                    _ => None,
                });
                if let Some(link) = link {
                    let problems = open_link(&lab, &link, None);
                    lab.link_problems.set(problems);
                }
            }
            _ => {}
        }
    };

    let nav = move || {
        let i = p.step.get();
        let n = p.count();
        format!(
            "<button data-act=\"back\" data-testid=\"lesson-back\"{}>← Back</button><button data-act=\"reset\" data-testid=\"lesson-reset\">Reset this step</button><button data-act=\"next\" class=\"primary\" data-testid=\"lesson-next\"{}>Next →</button>",
            if i == 0 { " disabled" } else { "" },
            if i + 1 >= n { " disabled" } else { "" }
        )
    };

    view! {
        <aside
            class="course"
            hidden=move || p.course.with(Option::is_none) && p.problem.with(Option::is_none)
            aria-label="Lesson"
            data-testid="course"
            on:click=click
        >
            <p class="problem" role="alert" data-testid="course-problem" hidden=move || p.problem.with(Option::is_none)>
                {move || p.problem.get()}
            </p>
            <div inner_html=move || head_html(&p)></div>
            <section class="step" aria-live="polite">
                <div inner_html=move || step_html(&p)></div>
                <div inner_html=move || prediction_html(&p)></div>
                <div class="goals" inner_html=move || goals_html(&live.get(), p.graded.get().as_ref(), challenge_key.as_deref())></div>
                <div inner_html=move || after_html(&p)></div>
            </section>
            <nav class="step-nav" aria-label="Lesson steps" hidden=move || p.course.with(Option::is_none) inner_html=nav></nav>
        </aside>
    }
}

/// Commits the learner's prediction (read from the form) and plays the run.
fn commit(lab: &Lab, p: &Panel) {
    let Some(step) = p.current() else { return };
    let form = |sel: &str| document().query_selector(sel).ok().flatten().and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok());
    let guess = match &step.prediction {
        Some(Prediction::Number { metric, .. }) => {
            let dim = NumberCheck::read_with(metric, "0", "0", NUM).map(|c| c.dim).unwrap_or(goal::Dim::Count);
            let text = form("[data-testid=prediction-number]").map(|i| i.value()).unwrap_or_default();
            match goal::parse_value_with(&text, dim, NUM) {
                Ok(v) => {
                    p.said.set(text);
                    Guess::Number(v)
                }
                Err(e) => return p.nudge.set(Some(format!("Your answer: {e}"))),
            }
        }
        _ => match form("input[name=prediction-choice]:checked").and_then(|i| i.value().parse().ok()) {
            Some(i) => Guess::Choice(i),
            None => return p.nudge.set(Some("Pick an answer first.".into())),
        },
    };
    p.nudge.set(None);
    p.guess.set(Some(guess));
    lab.playing.set(true);
}
