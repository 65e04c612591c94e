//! The page's experiment as a link (`bplab_engine::experiment`, docs/links.md): read from
//! the address bar when the page opens, and a link's problems in a dismissible message (the
//! rest of the link opens anyway).
//!
//! The shipped page reads a link's preset, view (`t`, speed, play, view, window, chart,
//! theme, embed), seed, every change the knob table can express and structural changes (a
//! pipeline of other stages), through the knob table (`knobs::paths`, no (de)serialisation
//! of the scenario); fields without a knob (`duration_s`) are listed as not applied. The
//! address bar then follows the experiment (`history.replaceState`, no new history entry),
//! and the Share dialog copies the same link (`current_link`). The `share` build applies
//! every change through the scenario's serde code; it does not fit the download budget yet.

use crate::driver::DEFAULT_SPEED;
use crate::state::{Lab, ThemeChoice, View};
use bplab_engine::experiment::{self, Theme, ViewState};
use bplab_engine::Scenario;
use leptos::prelude::*;

/// Opens the experiment in the address bar's query: its preset, its changes, its view and,
/// with `t`, the run replayed to that moment and paused there.
pub fn open_from_address(lab: &Lab) {
    let Ok(search) = window().location().search() else { return };
    if search.len() <= 1 {
        return;
    }
    let problems = open_link(lab, &search, None);
    lab.link_problems.set(problems);
}

/// Opens a link's experiment (a lesson step's, a challenge's): its preset, changes and view,
/// run for `duration_s` when given. Returns the link's problems, in words.
pub fn open_link(lab: &Lab, link: &str, duration_s: Option<f64>) -> Vec<String> {
    let (preset, scenario, view, problems) = read_link(link);
    show_experiment(lab, preset, scenario, view, duration_s);
    problems.iter().map(ToString::to_string).collect()
}

/// Makes an experiment (read from a link or a file) the page's: its preset, its scenario,
/// run for `duration_s` when given, and its view.
pub fn show_experiment(lab: &Lab, preset: String, mut scenario: Scenario, view: ViewState, duration_s: Option<f64>) {
    if let Some(d) = duration_s {
        scenario.duration_s = d;
    }
    lab.preset.set(preset);
    lab.scenario.set(scenario);
    lab.driver.update_value(|d| d.set_stop(duration_s));
    lab.reset();
    let v = &view;
    if let Some(speed) = v.speed {
        lab.speed.set(speed);
    }
    if v.compare {
        lab.view.set(View::Compare);
    }
    lab.window.set(v.window_s);
    match v.theme {
        Some(Theme::Light) => lab.theme_choice.set(ThemeChoice::Light),
        Some(Theme::Dark) => lab.theme_choice.set(ThemeChoice::Dark),
        None => {}
    }
    if let Some(t) = v.t_s.filter(|t| *t > 0.0) {
        lab.driver.update_value(|d| d.go_to(t));
    }
    lab.playing.set(v.play);
    // A lesson's or challenge's own link keeps the page's lesson, embed and presenter mode.
    let mut view = view;
    lab.link_view.with_value(|was| {
        if was.lesson.is_some() || was.challenge.is_some() {
            view.embed = was.embed;
            view.lesson.clone_from(&was.lesson);
            view.challenge.clone_from(&was.challenge);
            view.present = was.present;
        }
    });
    lab.link_view.set_value(view);
}

/// The link's preset, its scenario, its view and its problems.
pub fn read_link(search: &str) -> (String, Scenario, ViewState, Vec<experiment::Problem>) {
    read_query(experiment::read_with(search, crate::format::LINK_NUMBERS))
}

/// A read link's (or experiment file's) preset, scenario, view and problems: every change
/// applied.
#[cfg(feature = "share")]
pub fn read_query(query: experiment::Query) -> (String, Scenario, ViewState, Vec<experiment::Problem>) {
    let d = experiment::apply_query(query);
    (d.experiment.preset, d.experiment.scenario, d.experiment.view, d.problems)
}

/// A read link's (or experiment file's) preset, scenario, view and problems: every change
/// the knob table can express applied (`knobs::paths`, structural ones included), the others
/// (fields without a knob) listed as not applied.
#[cfg(not(feature = "share"))]
pub fn read_query(query: experiment::Query) -> (String, Scenario, ViewState, Vec<experiment::Problem>) {
    let experiment::Query { preset, changes, view, mut problems } = query;
    let base = bplab_engine::preset(&preset).expect("read gives a known preset");
    let (scenario, more) = crate::knobs::paths::apply(&base, &changes, crate::format::LINK_NUMBERS.parse, flatten_json);
    problems.extend(more);
    experiment::limit(&mut problems);
    (preset, scenario, view, problems)
}

/// A JSON object's leaf members as (dotted key, raw JSON value; an array's elements keyed by
/// their index), through the browser's own
/// `JSON.parse` (no serde in the download); `None` when `text` is not a JSON object.
#[cfg(all(not(feature = "share"), target_arch = "wasm32"))]
fn flatten_json(text: &str) -> Option<Vec<(String, String)>> {
    use wasm_bindgen::JsCast;
    fn walk(prefix: &str, object: &js_sys::Object, out: &mut Vec<(String, String)>) {
        for entry in js_sys::Object::entries(object).iter() {
            let pair: js_sys::Array = entry.unchecked_into();
            let key = pair.get(0).as_string().unwrap_or_default();
            let key = if prefix.is_empty() { key } else { format!("{prefix}.{key}") };
            let value = pair.get(1);
            // Arrays too, their elements as members "0", "1", … (`stages=[…]`).
            if value.is_object() {
                walk(&key, value.unchecked_ref(), out);
            } else {
                let raw = js_sys::JSON::stringify(&value).ok().and_then(|s| s.as_string()).unwrap_or_default();
                out.push((key, raw));
            }
        }
    }
    let value = js_sys::JSON::parse(text).ok()?;
    if !value.is_object() || js_sys::Array::is_array(&value) {
        return None;
    }
    let mut out = Vec::new();
    walk("", value.unchecked_ref(), &mut out);
    Some(out)
}

/// Natively (tests of the page's code) there is no browser to parse JSON objects.
#[cfg(all(not(feature = "share"), not(target_arch = "wasm32")))]
fn flatten_json(_: &str) -> Option<Vec<(String, String)>> {
    None
}

/// The changes a link of the shipped page carries: every knob field and the seed that differ
/// from the preset (`knobs::paths::changes`).
#[cfg(not(feature = "share"))]
pub fn carried_changes(preset: &str, scenario: &Scenario) -> Vec<experiment::Change> {
    let base = bplab_engine::preset(preset).unwrap_or_default();
    crate::knobs::paths::changes(&base, scenario, crate::format::show_number)
}

/// The changes a link of the `share` build carries: all of them.
#[cfg(feature = "share")]
pub fn carried_changes(preset: &str, scenario: &Scenario) -> Vec<experiment::Change> {
    experiment::changes(&bplab_engine::preset(preset).unwrap_or_default(), scenario)
}

/// Whether the scenario differs from its preset in more than its link carries (a field
/// without a knob, a field the page hides): what a link of the shipped page leaves out.
#[cfg(not(feature = "share"))]
pub fn has_uncarried_changes(lab: &Lab) -> bool {
    lab.scenario.with(|s| {
        lab.preset.with(|id| {
            bplab_engine::preset(id).is_some_and(|base| {
                let changes = crate::knobs::paths::changes(&base, s, crate::format::show_number);
                crate::knobs::paths::apply(&base, &changes, crate::format::LINK_NUMBERS.parse, flatten_json).0 != *s
            })
        })
    })
}

/// The query (without `?`) of what the page shows now; `at_t`: with the paused moment.
pub fn current_query(lab: &Lab, at_t: bool) -> String {
    let playing = lab.playing.get();
    let carried = lab.link_view.get_value();
    // The paused moment, once a replay has got there: a replay moves the clock every frame,
    // and the address bar is not rewritten sixty times a second.
    let clock = if at_t && !playing && lab.replaying.get().is_none() { lab.clock.get() } else { 0.0 };
    let speed = lab.speed.get();
    let view = ViewState {
        t_s: (clock > 0.0).then_some(clock),
        speed: (speed != DEFAULT_SPEED).then_some(speed),
        play: playing,
        compare: lab.view.get() == View::Compare,
        window_s: lab.window.get(),
        chart: carried.chart,
        theme: match lab.theme_choice.get() {
            ThemeChoice::Auto => None,
            ThemeChoice::Light => Some(Theme::Light),
            ThemeChoice::Dark => Some(Theme::Dark),
        },
        embed: carried.embed,
        lesson: carried.lesson,
        step: None,
        challenge: carried.challenge,
        present: carried.present,
    };
    lab.scenario.with(|s| lab.preset.with(|id| experiment::write_with(id, &carried_changes(id, s), &view, crate::format::LINK_NUMBERS)))
}

/// Keeps the address bar on the experiment on show: every change replaces the current
/// history entry (a slider's ticks do not fill the Back button). While the run plays its
/// moment is left out (it changes every frame); paused, the link opens where it stands.
pub fn keep_address(lab: Lab) {
    Effect::new(move |last: Option<String>| {
        let query = current_query(&lab, true);
        if last.as_deref() != Some(query.as_str()) {
            if let Ok(history) = window().history() {
                let url = format!("?{query}");
                let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
            }
        }
        query
    });
}

/// The whole link of what the page shows now: this page's address with the query.
pub fn current_link(lab: &Lab) -> String {
    let location = window().location();
    let origin = location.origin().unwrap_or_default();
    let path = location.pathname().unwrap_or_default();
    format!("{origin}{path}?{}", current_query(lab, true))
}

/// What was wrong with the link the page was opened with, one line a problem, until
/// dismissed. Drawn as HTML (no view code per line); the alert region stays in the page, so
/// that what appears in it is announced.
#[component]
pub fn LinkProblems() -> impl IntoView {
    let lab = Lab::from_context();
    let html = move || {
        lab.link_problems.with(|problems| {
            if problems.is_empty() {
                return String::new();
            }
            let items: String = problems.iter().map(|p| format!("<li>{}</li>", crate::html::esc(p))).collect();
            format!(
                "<div class=\"link-problems\" data-testid=\"link-problems\"><p>This link had problems; the rest of it was applied:</p>\
                 <ul>{items}</ul><button data-act=\"dismiss\" data-testid=\"link-problems-dismiss\">Dismiss</button></div>"
            )
        })
    };
    let clicked = move |ev: leptos::ev::MouseEvent| {
        if crate::dom::data_act(&ev).as_deref() == Some("dismiss") {
            lab.link_problems.set(Vec::new());
        }
    };
    view! { <div role="alert" on:click=clicked inner_html=html></div> }
}
