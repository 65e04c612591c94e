//! The page's state: [`Lab`], every signal and stored value the views share (the
//! scenario, the drivers of both views, the published snapshots, the theme, the log), and
//! its actions (validated scenario changes, presets, play, step, reset, seek, help, the
//! theme). Views read it from the context; nothing here knows a view.
//!
//! Data flows one way. Controls write the [`Scenario`] signal through [`Lab::try_update`]
//! (after validating it, so bad input never replaces a good scenario); the app hands each
//! new scenario to the [`Driver`]; the animation loop of the view on show steps its
//! drivers and publishes plain data here. Transport (play, step, reset, seek) acts on the
//! drivers of the view on show.

use crate::driver::Driver;
use crate::lanes::{LaneRow, Lanes, INCIDENT_VS_REMEDIES};
use crate::narrate::Narrator;
use crate::theme::{Theme, DARK, LIGHT};
use bplab_engine::experiment::ViewState;
use bplab_engine::{preset, Scenario, ScenarioError, Snapshot};
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
    /// The speed the simulator really reaches while playing, when well short of `speed`
    /// (`pacing::SpeedGauge`); `None` while it keeps up.
    pub reached: RwSignal<Option<f64>>,
    /// The latest rejected change, explained.
    pub error: RwSignal<Option<String>>,
    /// The run is replaying to the current time after a change or a seek: how far it has
    /// got, in whole percent.
    pub replaying: RwSignal<Option<u8>>,
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
    /// Whether the simulator is on screen (an embed scrolled away pauses its animation).
    pub on_screen: RwSignal<bool>,
    /// What was wrong with the link the page opened with (shown until dismissed).
    pub link_problems: RwSignal<Vec<String>>,
    /// While a challenge or a lesson task is open: the paths its learner may change (every
    /// other knob is locked); `None` otherwise.
    pub free: RwSignal<Option<Vec<String>>>,
    /// Each knob's help (id → sentence), fetched from `content/knobs.json`.
    pub knob_help: RwSignal<Vec<(String, String)>>,
    /// The link's view keys the page carries without using them here (embed, chart).
    pub link_view: StoredValue<ViewState, LocalStorage>,
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
            reached: RwSignal::new(None),
            error: RwSignal::new(None),
            replaying: RwSignal::new(None),
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
            link_problems: RwSignal::new(Vec::new()),
            free: RwSignal::new(None),
            knob_help: RwSignal::new(Vec::new()),
            on_screen: RwSignal::new(true),
            link_view: StoredValue::new_local(ViewState::default()),
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
                self.error.set(Some(crate::knobs::explain(&e)));
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

    /// Whether the page is an embed (`embed=1` in its link): the compact layout.
    pub fn embedded(&self) -> bool {
        self.link_view.with_value(|v| v.embed)
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

    /// Stops the replay under way (after a seek or a change): the run stays, paused, where
    /// the replay had got to.
    pub fn cancel_replay(&self) {
        self.playing.set(false);
        self.driver.update_value(Driver::cancel_replay);
        self.replaying.set(None);
        self.narrator.update_value(Narrator::clear);
    }

    /// A new seed for the run (and the comparison).
    pub fn set_seed(&self, seed: u64) -> Result<(), ScenarioError> {
        self.try_update(|s| s.seed = seed)
    }

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

    /// Adds a narrated event to the log (and so to the live region).
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

/// Whether the page should be dark now.
pub fn effective_dark(choice: ThemeChoice) -> bool {
    match choice {
        ThemeChoice::Auto => crate::dom::media_matches("(prefers-color-scheme: dark)"),
        ThemeChoice::Light => false,
        ThemeChoice::Dark => true,
    }
}

/// Makes the page light or dark as chosen (`data-theme` on <html> drives the CSS) and
/// redraws the canvases.
pub fn apply_theme(lab: Lab) {
    let dark = effective_dark(lab.theme_choice.get_untracked());
    lab.dark.set(dark);
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("data-theme", if dark { "dark" } else { "light" });
    }
    lab.redraw.update(|n| *n += 1);
}
