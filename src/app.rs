//! The page's shell: creates the [`Lab`] state, lays the views out, wires what reaches
//! every view (a new scenario into the driver, the theme, keyboard shortcuts, the link in
//! the address bar) and holds the help dialog. Views (`controls`, `stage`, `compare`) know nothing
//! of this module.

use crate::address::keep_address;
use crate::address::{open_from_address, LinkProblems};
use crate::compare::Compare;
use crate::controls::{Controls, PresetPicker, Transport};
use crate::dom::{on_media_change, trap_focus};
use crate::embed::{EmbedApp, EmbedDialog};
use crate::exports::accept_dropped_files;
use crate::narrate::Narrator;
use crate::stage::Stage;
use crate::state::{apply_theme, Lab, ThemeChoice, View};
use crate::teach::CoursePanel;
use bplab_engine::PRESETS;
use leptos::either::Either;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

#[component]
pub fn App() -> impl IntoView {
    let lab = Lab::new(PRESETS[0].id);
    provide_context(lab);
    fetch_texts("content/knobs.json", lab.knob_help);
    // A link's preset, knob changes and view (and embed=1, a lesson, a challenge); the
    // address bar then follows the experiment (docs/links.md). An experiment file dropped on
    // the page opens.
    open_from_address(&lab);
    keep_address(lab);
    accept_dropped_files(lab);

    // A new scenario rebuilds the run and replays it to the current time.
    Effect::new(move |_| {
        let s = lab.scenario.get();
        lab.driver.update_value(|d| {
            if let Err(e) = d.set_scenario(&s) {
                lab.error.set(Some(e.to_string()));
            }
        });
        // The log told the previous run: it starts again with this one.
        lab.narrator.update_value(Narrator::clear);
        lab.log.set(Vec::new());
        lab.redraw.update_untracked(|n| *n += 1);
    });

    // The theme: the choice, or the system's; `data-theme` on <html> drives the CSS.
    Effect::new(move |_| {
        lab.theme_choice.track();
        apply_theme(lab);
    });
    // The system's theme is followed as it changes.
    on_media_change("(prefers-color-scheme: dark)", move || {
        if lab.theme_choice.get_untracked() == ThemeChoice::Auto {
            apply_theme(lab);
        }
    });

    let shortcuts = window_event_listener(leptos::ev::keydown, move |ev| {
        let tag = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .map(|el| el.tag_name())
            .unwrap_or_default();
        if lab.help_open.get_untracked() {
            match ev.key().as_str() {
                "Escape" => {
                    ev.prevent_default();
                    lab.show_help(false);
                }
                // The dialog is modal: Tab and Shift+Tab go round its own controls.
                "Tab" if trap_focus("[data-testid=help-dialog]", ev.shift_key()) => ev.prevent_default(),
                _ => {}
            }
            return;
        }
        // Escape stops a replay under way, wherever the focus is (the timeline's, often).
        if ev.key() == "Escape" && lab.replaying.get_untracked().is_some() && lab.view.get_untracked() == View::Simulator {
            ev.prevent_default();
            lab.cancel_replay();
            return;
        }
        // Space on a slider would scroll the page (a range takes arrows, Home, End and
        // Page Up/Down, not Space): it plays or pauses, as everywhere else.
        if ev.key() == " " && tag == "INPUT" && !(ev.ctrl_key() || ev.meta_key() || ev.alt_key()) {
            let range = ev
                .target()
                .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(t).ok())
                .is_some_and(|el| el.type_() == "range");
            if range {
                ev.prevent_default();
                lab.toggle_play();
                return;
            }
        }
        // Keys typed into a field are the field's. On a focused button, space presses the
        // button; the letters still work there (a clicked button keeps the focus).
        let typing = matches!(tag.as_str(), "INPUT" | "SELECT" | "TEXTAREA");
        if typing || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        match ev.key().as_str() {
            " " if tag != "BUTTON" && tag != "SUMMARY" => {
                ev.prevent_default();
                lab.toggle_play();
            }
            "s" => lab.step(),
            "r" => lab.reset(),
            "?" if !lab.embedded() => {
                ev.prevent_default();
                lab.show_help(true);
            }
            _ => {}
        }
    });
    on_cleanup(move || shortcuts.remove());

    let tab = move |v: View, label: &'static str, testid: &'static str| {
        view! {
            <button
                role="tab"
                data-testid=testid
                aria-selected=move || (lab.view.get() == v).to_string()
                class:active=move || lab.view.get() == v
                on:click=move |_| {
                    if lab.view.get_untracked() != v {
                        lab.playing.set(false);
                        lab.view.set(v);
                        lab.redraw.update(|n| *n += 1);
                    }
                }
            >
                {label}
            </button>
        }
    };

    // Either, not a type-erased view: erasing the page's view costs ~10 KB of download.
    if lab.embedded() {
        return Either::Left(view! {
            <LinkProblems />
            <EmbedApp />
        });
    }

    let (has_course, present) = lab.link_view.with_value(|v| (v.lesson.is_some() || v.challenge.is_some(), v.present));
    Either::Right(view! {
        <div class="app" class:present=present>
            // The first thing Tab reaches: past the header and the knobs, to the diagram
            // and the timeline.
            <a class="skip-link" href="#simulator" data-testid="skip-link">"Skip to the simulator"</a>
            <header class="top">
                <h1>"Backpressure Lab"</h1>
                <div class="views" role="tablist" aria-label="View">
                    {tab(View::Simulator, "Simulator", "view-simulator")}
                    {tab(View::Compare, "Compare strategies", "view-compare")}
                </div>
                <div class="preset-wrap" hidden=move || lab.view.get() != View::Simulator>
                    <PresetPicker />
                </div>
                <div class="tools">
                    <EmbedDialog />
                    <label class="theme-pick">
                        <span>"Theme"</span>
                        <select
                            data-testid="theme"
                            on:change=move |ev| {
                                lab.theme_choice.set(match event_target_value(&ev).as_str() {
                                    "light" => ThemeChoice::Light,
                                    "dark" => ThemeChoice::Dark,
                                    _ => ThemeChoice::Auto,
                                })
                            }
                            prop:value=move || match lab.theme_choice.get() {
                                ThemeChoice::Auto => "auto",
                                ThemeChoice::Light => "light",
                                ThemeChoice::Dark => "dark",
                            }
                        >
                            <option value="auto">"system"</option>
                            <option value="light">"light"</option>
                            <option value="dark">"dark"</option>
                        </select>
                    </label>
                    <button
                        class="help-button"
                        data-testid="help"
                        aria-haspopup="dialog"
                        aria-keyshortcuts="?"
                        title="Keyboard shortcuts (?)"
                        on:click=move |_| lab.show_help(true)
                    >
                        "? Keys"
                    </button>
                </div>
                <Transport />
            </header>
            <LinkProblems />
            // Both views stay mounted; the one not on show is hidden and its animation
            // loop idles.
            <div class="view-sim" class:has-course=has_course hidden=move || lab.view.get() != View::Simulator>
                <CoursePanel />
                <div class="sim-col">
                    <Explanation preset=lab.preset />
                    <main class="layout">
                        <Controls />
                        <Stage />
                    </main>
                </div>
            </div>
            <main class="layout-compare" hidden=move || lab.view.get() != View::Compare>
                <Compare />
            </main>
            <footer class="foot">
                "Keys: space play/pause · s step · r reset · ? help. Every number comes from a deterministic \
                 discrete-event simulation running in your browser."
            </footer>
            <HelpDialog />
        </div>
    })
}

/// Fetches a content file of texts by id (`{"id": "text", …}`) into `into`; on failure
/// `into` holds one entry with an empty id and the reason.
fn fetch_texts(file: &'static str, into: RwSignal<Vec<(String, String)>>) {
    leptos::task::spawn_local(async move {
        let read = crate::dom::fetch_json(file).await.map(|all| {
            js_sys::Object::entries(&all.unchecked_into())
                .iter()
                .filter_map(|pair| {
                    let pair: js_sys::Array = pair.unchecked_into();
                    Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
                })
                .collect()
        });
        into.set(read.unwrap_or_else(|e| vec![(String::new(), e)]));
    });
}

/// The title and lesson of the preset `preset`. The lessons are content, fetched once
/// from `content/presets.json` (id → paragraph): prose costs the download nothing.
#[component]
fn Explanation(preset: RwSignal<String>) -> impl IntoView {
    let found = move || {
        let id = preset.get();
        PRESETS.iter().find(|p| p.id == id)
    };
    let texts = RwSignal::new(Vec::<(String, String)>::new());
    fetch_texts("content/presets.json", texts);
    let explanation = move || {
        let id = preset.get();
        texts.with(|all| all.iter().find(|(k, _)| *k == id || k.is_empty()).map(|(_, v)| v.clone()).unwrap_or_default())
    };
    // On a phone the lesson shows its first lines until "More" is pressed, so that Play and
    // the diagram are on the first screen (the whole text stays in the page for readers).
    let more = RwSignal::new(false);
    view! {
        <section class="explanation" class:open=move || more.get() aria-label="What this scenario shows">
            <h2 class="preset-title" data-testid="preset-title">{move || found().map(|p| p.title).unwrap_or("")}</h2>
            <p data-testid="preset-explanation">{explanation}</p>
            <button class="more" data-testid="explanation-more" aria-expanded=move || more.get().to_string() on:click=move |_| more.update(|m| *m = !*m)>
                {move || if more.get() { "Less" } else { "More…" }}
            </button>
        </section>
    }
}

/// The keyboard shortcuts, in a modal dialog: `?` opens it, Escape or the button closes it,
/// and the focus goes back where it was.
#[component]
fn HelpDialog() -> impl IntoView {
    let lab = Lab::from_context();
    let keys = [
        ("Space", "play or pause"),
        ("s", "single step (what 0.1 s of playing would do)"),
        ("r", "reset to time 0"),
        ("?", "this help"),
        ("Escape", "close this help; stop a replay (after a seek) where it has got to"),
        ("Tab, arrows", "move between and adjust every control; the timeline takes ← → and Page Up/Down"),
    ];
    let rows: String = keys.iter().map(|(k, what)| format!("<tr><th scope=\"row\"><kbd>{k}</kbd></th><td>{what}</td></tr>")).collect();
    view! {
        <div class="backdrop" hidden=move || !lab.help_open.get() on:click=move |_| lab.show_help(false)>
            <div
                class="dialog"
                role="dialog"
                aria-modal="true"
                aria-labelledby="help-title"
                data-testid="help-dialog"
                on:click=|ev| ev.stop_propagation()
            >
                <h2 id="help-title">"Keyboard shortcuts"</h2>
                <table class="keys">
                    <tbody inner_html=rows></tbody>
                </table>
                <p class="hint">"Shortcuts do nothing while you type into a field."</p>
                <button data-testid="help-close" on:click=move |_| lab.show_help(false)>
                    "Close"
                </button>
            </div>
        </div>
    }
}
