//! The page: state, layout and the animation loop.
//!
//! Data flows one way. Controls write the [`Scenario`] signal (after validating it, so bad
//! input never replaces a good scenario); an effect hands each new scenario to the
//! [`Driver`]; the animation loop steps the driver, publishes a [`Snapshot`] and draws the
//! diagram and the charts from plain data.

use crate::charts;
use crate::controls::{Controls, PresetPicker, Transport};
use crate::diagram::Diagram;
use crate::driver::Driver;
use crate::readouts::Readouts;
use crate::theme::{Theme, DARK, LIGHT};
use bplab_engine::{preset, Scenario, ScenarioError, Snapshot, PRESETS};
use leptos::html::Canvas;
use leptos::prelude::*;

/// The page's state. Copy: every field is an arena handle.
#[derive(Clone, Copy)]
pub struct Lab {
    pub scenario: RwSignal<Scenario>,
    pub preset: RwSignal<String>,
    pub snapshot: RwSignal<Snapshot>,
    pub playing: RwSignal<bool>,
    pub speed: RwSignal<f64>,
    /// The latest rejected change, explained.
    pub error: RwSignal<Option<String>>,
    /// The run is replaying to the current time after a change.
    pub replaying: RwSignal<bool>,
    pub driver: StoredValue<Driver, LocalStorage>,
}

impl Lab {
    pub fn new(preset_id: &str) -> Lab {
        let scenario = preset(preset_id).expect("a known preset");
        let driver = Driver::new(&scenario).expect("presets are valid");
        let snapshot = driver.sim().snapshot();
        Lab {
            scenario: RwSignal::new(scenario),
            preset: RwSignal::new(preset_id.to_string()),
            snapshot: RwSignal::new(snapshot),
            playing: RwSignal::new(false),
            speed: RwSignal::new(driver.speed()),
            error: RwSignal::new(None),
            replaying: RwSignal::new(false),
            driver: StoredValue::new_local(driver),
        }
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

    /// Switches to a preset, back at time 0.
    pub fn load_preset(&self, id: &str) {
        match preset(id) {
            Some(s) => {
                self.preset.set(id.to_string());
                self.error.set(None);
                self.scenario.set(s);
                self.reset();
            }
            None => self.error.set(Some(format!("unknown preset '{id}'"))),
        }
    }

    /// Back to time 0, paused.
    pub fn reset(&self) {
        self.playing.set(false);
        self.driver.update_value(|d| {
            d.reset();
            self.snapshot.set(d.sim().snapshot());
        });
    }

    /// Advances one step: what a tenth of a second of playing would do.
    pub fn step(&self) {
        let dt = self.speed.get_untracked() * 0.1;
        self.playing.set(false);
        self.driver.update_value(|d| d.step(dt));
    }
}

fn dark_mode() -> bool {
    media_matches("(prefers-color-scheme: dark)")
}

pub(crate) fn media_matches(query: &str) -> bool {
    window().match_media(query).ok().flatten().is_some_and(|m| m.matches())
}

fn now_s() -> f64 {
    window().performance().map(|p| p.now() / 1e3).unwrap_or(0.0)
}

#[component]
pub fn App() -> impl IntoView {
    let lab = Lab::new(PRESETS[0].id);
    provide_context(lab);

    // A new scenario rebuilds the run and replays it to the current time.
    Effect::new(move |_| {
        let s = lab.scenario.get();
        lab.driver.update_value(|d| {
            if let Err(e) = d.set_scenario(&s) {
                lab.error.set(Some(e.to_string()));
            }
        });
    });

    let shortcuts = window_event_listener(leptos::ev::keydown, move |ev| {
        let tag = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .map(|el| el.tag_name())
            .unwrap_or_default();
        // Keys typed into a field are the field's. On a focused button, space presses the
        // button; `s` and `r` still work there (a clicked button keeps the focus).
        let typing = matches!(tag.as_str(), "INPUT" | "SELECT" | "TEXTAREA");
        if typing || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        match ev.key().as_str() {
            " " if tag != "BUTTON" => {
                ev.prevent_default();
                lab.playing.update(|p| *p = !*p);
            }
            "s" => lab.step(),
            "r" => lab.reset(),
            _ => {}
        }
    });
    on_cleanup(move || shortcuts.remove());

    view! {
        <div class="app">
            <header class="top">
                <h1>"Backpressure Lab"</h1>
                <PresetPicker />
                <Transport />
            </header>
            <Explanation />
            <main class="layout">
                <Controls />
                <Stage />
            </main>
            <footer class="foot">
                "Keys: space play/pause · s step · r reset. Every number comes from a deterministic \
                 discrete-event simulation running in your browser."
            </footer>
        </div>
    }
}

#[component]
fn Explanation() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let text = move || {
        let id = lab.preset.get();
        PRESETS.iter().find(|p| p.id == id).map(|p| p.explanation).unwrap_or("")
    };
    view! { <p class="explanation" data-testid="preset-explanation">{text}</p> }
}

/// The diagram and the charts, and the animation loop that feeds them.
#[component]
fn Stage() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let diagram_ref = NodeRef::<Canvas>::new();
    let counts_ref = NodeRef::<Canvas>::new();
    let memory_ref = NodeRef::<Canvas>::new();
    let backlog_ref = NodeRef::<Canvas>::new();
    let diagram = StoredValue::new_local(Diagram::new(media_matches("(prefers-reduced-motion: reduce)")));
    let frame = StoredValue::new_local(FrameState { last: now_s(), budget: 200_000, charts_at: -1.0, charts_t: -1.0, handle: None, alive: true });
    let canvases = Canvases { diagram: diagram_ref, counts: counts_ref, memory: memory_ref, backlog: backlog_ref };

    // A new scenario (a knob, a preset) replays the run, possibly to the very same time:
    // redraw the charts on the next frame even if the simulated time has not moved.
    Effect::new(move |_| {
        lab.scenario.track();
        frame.update_value(|f| f.charts_at = -1.0);
    });
    Effect::new(move |_| {
        // Start once the canvases are in the DOM.
        if diagram_ref.get().is_some() {
            schedule(lab, canvases, diagram, frame);
        }
    });
    on_cleanup(move || {
        frame.update_value(|f| {
            f.alive = false;
            if let Some(h) = f.handle.take() {
                h.cancel();
            }
        });
    });

    view! {
        <section class="stage" aria-label="Pipeline and charts">
            <canvas
                node_ref=diagram_ref
                class="diagram"
                data-testid="diagram"
                role="img"
                aria-label="Animated pipeline: producer, stages and consumer with their fill levels"
            ></canvas>
            <Readouts />
            <div class="charts">
                <canvas node_ref=counts_ref class="chart" data-testid="chart-counts" role="img"
                    aria-label="Chart: cumulative messages produced, consumed and lost over time"></canvas>
                <canvas node_ref=memory_ref class="chart" data-testid="chart-memory" role="img"
                    aria-label="Chart: consumer heap against its limit and in-flight messages, with OOM kills marked"></canvas>
                <canvas node_ref=backlog_ref class="chart" data-testid="chart-backlog" role="img"
                    aria-label="Chart: channel depth, topic lag and in-flight messages over time"></canvas>
            </div>
        </section>
    }
}

#[derive(Clone, Copy)]
struct Canvases {
    diagram: NodeRef<Canvas>,
    counts: NodeRef<Canvas>,
    memory: NodeRef<Canvas>,
    backlog: NodeRef<Canvas>,
}

struct FrameState {
    last: f64,
    /// Events one frame may handle; adapted so the engine takes about 4 ms a frame.
    budget: u64,
    charts_at: f64,
    charts_t: f64,
    handle: Option<AnimationFrameRequestHandle>,
    alive: bool,
}

fn schedule(
    lab: Lab,
    canvases: Canvases,
    diagram: StoredValue<Diagram, LocalStorage>,
    frame: StoredValue<FrameState, LocalStorage>,
) {
    let handle = request_animation_frame_with_handle(move || {
        if frame.with_value(|f| f.alive) {
            tick(lab, canvases, diagram, frame);
            schedule(lab, canvases, diagram, frame);
        }
    })
    .ok();
    frame.update_value(|f| f.handle = handle);
}

fn tick(lab: Lab, canvases: Canvases, diagram: StoredValue<Diagram, LocalStorage>, frame: StoredValue<FrameState, LocalStorage>) {
    let now = now_s();
    let (dt, budget) = frame.with_value(|f| (now - f.last, f.budget));
    let playing = lab.playing.get_untracked();
    let speed = lab.speed.get_untracked();
    let started = now_s();
    let mut out = None;
    lab.driver.update_value(|d| {
        d.set_playing(playing);
        d.set_speed(speed);
        let f = d.frame(dt, budget);
        out = Some((d.sim().snapshot(), d.take_trace(), f.replaying, d.sim().now_s()));
    });
    let Some((snapshot, trace, replaying, sim_t)) = out else { return };
    let engine_s = now_s() - started;
    let theme: Theme = if dark_mode() { DARK } else { LIGHT };

    lab.snapshot.set(snapshot);
    if lab.replaying.get_untracked() != replaying {
        lab.replaying.set(replaying);
    }
    if let Some(canvas) = canvases.diagram.get_untracked() {
        lab.snapshot.with_untracked(|snap| {
            diagram.update_value(|d| {
                d.ingest(&trace, now);
                d.draw(&canvas, snap, &theme, now);
            });
        });
    }
    let (charts_at, charts_t) = frame.with_value(|f| (f.charts_at, f.charts_t));
    if (sim_t != charts_t && now - charts_at >= 0.2) || charts_at < 0.0 {
        let limit = lab.snapshot.with_untracked(|s| s.consumer.heap_limit_bytes);
        lab.driver.with_value(|d| {
            let series = d.sim().series();
            let draw = |r: NodeRef<Canvas>, f: &dyn Fn(&web_sys::HtmlCanvasElement) -> Result<(), String>| {
                if let Some(c) = r.get_untracked() {
                    if let Err(e) = f(&c) {
                        leptos::logging::warn!("chart: {e}");
                    }
                }
            };
            draw(canvases.counts, &|c| charts::draw_counts(c, series, &theme));
            draw(canvases.memory, &|c| charts::draw_memory(c, series, limit, &theme));
            draw(canvases.backlog, &|c| charts::draw_backlog(c, series, &theme));
        });
        frame.update_value(|f| {
            f.charts_at = now;
            f.charts_t = sim_t;
        });
    }
    frame.update_value(|f| {
        f.last = now;
        // Aim for ~4 ms of engine time per frame.
        let per_event = engine_s / f.budget.max(1) as f64;
        if engine_s > 0.006 {
            f.budget = (f.budget * 3 / 4).max(5_000);
        } else if engine_s < 0.002 && per_event > 0.0 {
            f.budget = (f.budget + f.budget / 4).min(5_000_000);
        }
    });
}
