//! The page: the `Lab` state, the layout, keyboard shortcuts and the help dialog.
//!
//! Data flows one way. Controls write the [`Scenario`] signal (after validating it, so bad
//! input never replaces a good scenario); an effect hands each new scenario to the
//! [`Driver`]; the animation loop of the view on show (`stage` for the simulator,
//! `compare` for the comparison) steps its drivers, publishes plain data and draws.
//! Transport (play, step, reset, seek) acts on the drivers of the view on show.

use crate::compare::Compare;
use crate::controls::{Controls, PresetPicker, Transport};
use crate::driver::Driver;
use crate::lanes::{Lanes, INCIDENT_VS_REMEDIES};
use crate::narrate::Narrator;
use crate::stage::Stage;
use crate::theme::{Theme, DARK, LIGHT};
use bplab_engine::{preset, Scenario, ScenarioError, Snapshot, Summary, PRESETS};
use leptos::prelude::*;

/// Which view is on show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Simulator,
    Compare,
}

/// Light, dark, or whatever the system prefers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThemeChoice {
    Auto,
    Light,
    Dark,
}

/// One row of the comparison table.
#[derive(Clone, Debug, PartialEq)]
pub struct LaneRow {
    pub id: &'static str,
    pub title: &'static str,
    pub summary: Summary,
    pub own_traffic: bool,
}

/// Events narrated in the visible log, most recent first, at most this many.
pub const LOG_LEN: usize = 6;

/// The page's state. Copy: every field is an arena handle.
#[derive(Clone, Copy)]
pub struct Lab {
    pub scenario: RwSignal<Scenario>,
    pub preset: RwSignal<String>,
    pub snapshot: RwSignal<Snapshot>,
    /// The snapshot again, refreshed a few times a second: tables need no more.
    pub slow: RwSignal<Snapshot>,
    pub playing: RwSignal<bool>,
    pub speed: RwSignal<f64>,
    /// The latest rejected change, explained.
    pub error: RwSignal<Option<String>>,
    /// The run is replaying to the current time after a change or a seek.
    pub replaying: RwSignal<bool>,
    /// The end of the timeline (simulated seconds).
    pub horizon: RwSignal<f64>,
    /// Simulated time of the view on show.
    pub clock: RwSignal<f64>,
    pub view: RwSignal<View>,
    /// Charts show the last this many seconds, or the whole run.
    pub window: RwSignal<Option<f64>>,
    pub theme_choice: RwSignal<ThemeChoice>,
    pub dark: RwSignal<bool>,
    pub help_open: RwSignal<bool>,
    /// What had the focus when the help opened (it gets it back on close).
    help_opener: StoredValue<Option<web_sys::HtmlElement>, LocalStorage>,
    /// Narrated events, most recent first.
    pub log: RwSignal<Vec<String>>,
    pub compare_ids: RwSignal<Vec<&'static str>>,
    pub compare_rows: RwSignal<Vec<LaneRow>>,
    /// Bumped whenever every chart must be redrawn (new scenario, window, theme, resize).
    pub redraw: RwSignal<u64>,
    pub driver: StoredValue<Driver, LocalStorage>,
    pub lanes: StoredValue<Lanes, LocalStorage>,
    pub narrator: StoredValue<Narrator, LocalStorage>,
}

impl Lab {
    pub fn new(preset_id: &str) -> Lab {
        let scenario = preset(preset_id).expect("a known preset");
        // Display, not Debug: `{:?}` of a String would link Unicode escaping tables.
        let driver = Driver::new(&scenario).unwrap_or_else(|e| panic!("presets are valid: {e}"));
        let snapshot = driver.sim().snapshot();
        let lanes = Lanes::new(&INCIDENT_VS_REMEDIES[..2], scenario.seed);
        Lab {
            compare_ids: RwSignal::new(lanes.ids()),
            compare_rows: RwSignal::new(Vec::new()),
            scenario: RwSignal::new(scenario),
            preset: RwSignal::new(preset_id.to_string()),
            slow: RwSignal::new(snapshot.clone()),
            snapshot: RwSignal::new(snapshot),
            playing: RwSignal::new(false),
            speed: RwSignal::new(driver.speed()),
            error: RwSignal::new(None),
            replaying: RwSignal::new(false),
            horizon: RwSignal::new(0.0),
            clock: RwSignal::new(0.0),
            view: RwSignal::new(View::Simulator),
            window: RwSignal::new(None),
            theme_choice: RwSignal::new(ThemeChoice::Auto),
            dark: RwSignal::new(false),
            help_open: RwSignal::new(false),
            help_opener: StoredValue::new_local(None),
            log: RwSignal::new(Vec::new()),
            redraw: RwSignal::new(0),
            driver: StoredValue::new_local(driver),
            lanes: StoredValue::new_local(lanes),
            narrator: StoredValue::new_local(Narrator::new()),
        }
    }

    /// The `Lab` that [`App`] (or a test) put in the context. Not `expect_context`: its
    /// panic message formats the type name with `{:?}`, which links Unicode's escaping tables
    /// into the page.
    #[track_caller]
    pub fn from_context() -> Lab {
        use_context::<Lab>().expect("a Lab in the context (App provides it)")
    }

    /// Applies `change` to a copy of the scenario and keeps it only if it validates.
    pub fn try_update(&self, change: impl FnOnce(&mut Scenario)) -> Result<(), ScenarioError> {
        let mut next = self.scenario.get_untracked();
        change(&mut next);
        match next.validate() {
            Ok(()) => {
                self.error.set(None);
                self.scenario.set(next);
                Ok(())
            }
            Err(e) => {
                self.error.set(Some(e.to_string()));
                Err(e)
            }
        }
    }

    /// Switches to a preset, back at time 0 (the seed in use is kept).
    pub fn load_preset(&self, id: &str) {
        match preset(id) {
            Some(mut s) => {
                s.seed = self.scenario.with_untracked(|s| s.seed);
                self.preset.set(id.to_string());
                self.error.set(None);
                self.scenario.set(s);
                self.reset();
            }
            None => self.error.set(Some(format!("unknown preset '{id}'"))),
        }
    }

    pub fn toggle_play(&self) {
        self.playing.update(|p| *p = !*p);
    }

    /// Back to time 0, paused (the view on show).
    pub fn reset(&self) {
        self.playing.set(false);
        match self.view.get_untracked() {
            View::Simulator => {
                self.driver.update_value(|d| {
                    d.reset();
                    self.snapshot.set(d.sim().snapshot());
                    self.slow.set(d.sim().snapshot());
                });
                self.narrator.update_value(Narrator::clear);
                self.log.set(Vec::new());
                self.horizon.set(0.0);
                self.clock.set(0.0);
            }
            View::Compare => {
                self.lanes.update_value(Lanes::reset);
                self.clock.set(0.0);
            }
        }
        self.redraw.update(|n| *n += 1);
    }

    /// Advances one step: what a tenth of a second of playing would do.
    pub fn step(&self) {
        let dt = self.speed.get_untracked() * 0.1;
        self.playing.set(false);
        match self.view.get_untracked() {
            View::Simulator => self.driver.update_value(|d| d.step(dt)),
            View::Compare => self.lanes.update_value(|l| l.step(dt)),
        }
    }

    /// Goes back (or forward, within the timeline) to simulated time `t_s`, paused.
    pub fn seek(&self, t_s: f64) {
        self.playing.set(false);
        self.driver.update_value(|d| d.seek(t_s));
        self.narrator.update_value(Narrator::clear);
        self.redraw.update(|n| *n += 1);
    }

    /// A new seed for the run (and the comparison).
    pub fn set_seed(&self, seed: u64) -> Result<(), ScenarioError> {
        self.try_update(|s| s.seed = seed)
    }

    /// Adds a narrated event to the log (and so to the live region).
    /// Opens or closes the keyboard help. Opening moves the focus to its Close button
    /// (once the dialog is on screen); closing gives it back to what had it.
    pub fn show_help(&self, open: bool) {
        if open == self.help_open.get_untracked() {
            return;
        }
        self.help_open.set(open);
        if open {
            let active = document().active_element().and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok());
            self.help_opener.set_value(active);
            request_animation_frame(|| {
                let close = document().query_selector("[data-testid=help-close]").ok().flatten();
                if let Some(b) = close.and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok()) {
                    let _ = b.focus();
                }
            });
        } else if let Some(el) = self.help_opener.get_value() {
            let _ = el.focus();
        }
    }

    pub fn announce(&self, text: String) {
        self.log.update(|l| {
            l.insert(0, text);
            l.truncate(LOG_LEN);
        });
    }

    pub fn theme(&self) -> Theme {
        if self.dark.get_untracked() {
            DARK
        } else {
            LIGHT
        }
    }
}

pub(crate) fn media_matches(query: &str) -> bool {
    window().match_media(query).ok().flatten().is_some_and(|m| m.matches())
}

/// Whether the page should be dark now.
pub(crate) fn effective_dark(choice: ThemeChoice) -> bool {
    match choice {
        ThemeChoice::Auto => media_matches("(prefers-color-scheme: dark)"),
        ThemeChoice::Light => false,
        ThemeChoice::Dark => true,
    }
}

/// Makes the page light or dark as chosen (`data-theme` on <html> drives the CSS) and
/// redraws the canvases.
pub(crate) fn apply_theme(lab: Lab) {
    let dark = effective_dark(lab.theme_choice.get_untracked());
    lab.dark.set(dark);
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("data-theme", if dark { "dark" } else { "light" });
    }
    lab.redraw.update(|n| *n += 1);
}

pub(crate) fn now_s() -> f64 {
    window().performance().map(|p| p.now() / 1e3).unwrap_or(0.0)
}

/// `?preset=…&seed=…&speed=…&play=1&view=compare&theme=dark` from the address bar: links
/// that open a given experiment (the bench script uses them too).
fn apply_query(lab: &Lab) {
    let Ok(search) = window().location().search() else { return };
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else { return };
    if let Some(id) = params.get("preset") {
        if PRESETS.iter().any(|p| p.id == id) {
            lab.load_preset(&id);
        }
    }
    if let Some(seed) = params.get("seed").and_then(|s| s.parse::<u64>().ok()) {
        let _ = lab.set_seed(seed);
    }
    if let Some(speed) = params.get("speed").and_then(|s| crate::format::parse_number(&s)) {
        lab.speed.set(speed.clamp(crate::driver::SPEED_RANGE.0, crate::driver::SPEED_RANGE.1));
    }
    if params.get("view").as_deref() == Some("compare") {
        lab.view.set(View::Compare);
    }
    match params.get("theme").as_deref() {
        Some("dark") => lab.theme_choice.set(ThemeChoice::Dark),
        Some("light") => lab.theme_choice.set(ThemeChoice::Light),
        _ => {}
    }
    if params.get("play").as_deref() == Some("1") {
        lab.playing.set(true);
    }
}

#[component]
pub fn App() -> impl IntoView {
    let lab = Lab::new(PRESETS[0].id);
    provide_context(lab);
    apply_query(&lab);

    // A new scenario rebuilds the run and replays it to the current time.
    Effect::new(move |_| {
        let s = lab.scenario.get();
        lab.driver.update_value(|d| {
            if let Err(e) = d.set_scenario(&s) {
                lab.error.set(Some(e.to_string()));
            }
        });
        lab.narrator.update_value(Narrator::clear);
        lab.redraw.update_untracked(|n| *n += 1);
    });

    // The theme: the choice, or the system's; `data-theme` on <html> drives the CSS.
    Effect::new(move |_| {
        lab.theme_choice.track();
        apply_theme(lab);
    });

    let shortcuts = window_event_listener(leptos::ev::keydown, move |ev| {
        let tag = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .map(|el| el.tag_name())
            .unwrap_or_default();
        if ev.key() == "Escape" && lab.help_open.get_untracked() {
            ev.prevent_default();
            lab.show_help(false);
            return;
        }
        // Keys typed into a field are the field's. On a focused button, space presses the
        // button; the letters still work there (a clicked button keeps the focus).
        let typing = matches!(tag.as_str(), "INPUT" | "SELECT" | "TEXTAREA");
        if typing || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        if lab.help_open.get_untracked() {
            return;
        }
        match ev.key().as_str() {
            " " if tag != "BUTTON" && tag != "SUMMARY" => {
                ev.prevent_default();
                lab.toggle_play();
            }
            "s" => lab.step(),
            "r" => lab.reset(),
            "?" => {
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

    view! {
        <div class="app">
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
            // Both views stay mounted; the one not on show is hidden and its animation
            // loop idles.
            <div class="view-sim" hidden=move || lab.view.get() != View::Simulator>
                <Explanation />
                <main class="layout">
                    <Controls />
                    <Stage />
                </main>
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
    }
}

#[component]
fn Explanation() -> impl IntoView {
    let lab = Lab::from_context();
    let found = move || {
        let id = lab.preset.get();
        PRESETS.iter().find(|p| p.id == id)
    };
    view! {
        <section class="explanation" aria-label="What this scenario shows">
            <h2 class="preset-title" data-testid="preset-title">{move || found().map(|p| p.title).unwrap_or("")}</h2>
            <p data-testid="preset-explanation">{move || found().map(|p| p.explanation).unwrap_or("")}</p>
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
        ("Escape", "close this help"),
        ("Tab, arrows", "move between and adjust every control; the timeline takes ← → and Page Up/Down"),
    ];
    let rows = keys.iter().map(|(k, what)| view! { <tr><th scope="row"><kbd>{*k}</kbd></th><td>{*what}</td></tr> }).collect_view();
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
                    <tbody>{rows}</tbody>
                </table>
                <p class="hint">"Shortcuts do nothing while you type into a field."</p>
                <button data-testid="help-close" on:click=move |_| lab.show_help(false)>
                    "Close"
                </button>
            </div>
        </div>
    }
}
