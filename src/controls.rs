//! Controls: the preset picker (grouped by family), transport (play, step, reset, speed
//! and, when the run falls well short of it, the speed reached, seed, timeline) and the
//! knobs, grouped in collapsible sections. Knobs only write the scenario, through
//! [`Lab::try_update`]; transport acts on the driver.

use crate::dom::media_matches;
use crate::driver::SPEED_RANGE;
use crate::format;
use crate::knobs::{self, Choice, Field, Knob, Section, StageKind, SLIDER_STEPS};
use crate::state::{Lab, View};
use leptos::prelude::*;

#[component]
pub fn PresetPicker() -> impl IntoView {
    let lab = Lab::from_context();
    // Options as HTML, grouped by family (the presets come family by family), the one on
    // show marked; `prop:value` follows the preset from then on.
    let options = lab.preset.with_untracked(|id| crate::html::preset_options(id, true));
    view! {
        <label class="preset">
            <span>"Scenario"</span>
            <select
                data-testid="preset-select"
                inner_html=options
                prop:value=move || lab.preset.get()
                on:change=move |ev| lab.load_preset(&event_target_value(&ev))
            ></select>
        </label>
    }
}

pub fn speed_to_pos(speed: f64) -> f64 {
    let (lo, hi) = SPEED_RANGE;
    ((speed / lo).ln() / (hi / lo).ln() * SLIDER_STEPS).round()
}

pub fn pos_to_speed(pos: f64) -> f64 {
    let (lo, hi) = SPEED_RANGE;
    let v = lo * (hi / lo).powf((pos / SLIDER_STEPS).clamp(0.0, 1.0));
    if v >= 10.0 {
        v.round()
    } else {
        (v * 10.0).round() / 10.0
    }
}

fn random_seed() -> u64 {
    (js_sys::Math::random() * 4_294_967_296.0) as u64
}

#[component]
pub fn Transport() -> impl IntoView {
    let lab = Lab::from_context();
    let oom = Memo::new(move |_| if lab.view.get() == View::Simulator { lab.snapshot.with(|s| s.summary.oom_kills) } else { 0 });
    let producer_oom =
        Memo::new(move |_| if lab.view.get() == View::Simulator { lab.snapshot.with(|s| s.summary.producer_oom_kills) } else { 0 });
    let seed = Memo::new(move |_| lab.scenario.with(|s| s.seed));
    let seed_error = RwSignal::new(None::<String>);
    view! {
        <div class="transport" role="group" aria-label="Playback">
            <button
                data-testid="play"
                class="primary"
                aria-pressed=move || lab.playing.get().to_string()
                aria-keyshortcuts="Space"
                on:click=move |_| lab.toggle_play()
            >
                {move || if lab.playing.get() { "Pause" } else { "Play" }}
            </button>
            <button data-testid="step" aria-keyshortcuts="s" title="Advance by what 0.1 s of playing would (s)" on:click=move |_| lab.step()>
                "Step"
            </button>
            <button data-testid="reset" aria-keyshortcuts="r" title="Back to time 0 (r)" on:click=move |_| lab.reset()>"Reset"</button>
            <label class="speed">
                <span>"Speed"</span>
                <input
                    type="range"
                    data-testid="speed"
                    min="0"
                    max=SLIDER_STEPS
                    step="1"
                    aria-valuetext=move || format!("{} times real time", format::plain(lab.speed.get()))
                    prop:value=move || speed_to_pos(lab.speed.get())
                    on:input=move |ev| {
                        if let Some(pos) = format::parse_number(&event_target_value(&ev)) {
                            lab.speed.set(pos_to_speed(pos));
                        }
                    }
                />
                <output data-testid="speed-value">{move || format!("{}×", format::plain(lab.speed.get()))}</output>
            </label>
            // Said only while the run is well short of the speed asked (pacing::SpeedGauge).
            <span
                class="badge info"
                id="speed-reached"
                data-testid="speed-reached"
                data-value=move || lab.reached.get().map(|v| v.to_string()).unwrap_or_default()
                title="The speed this device reaches: simulated seconds per second of wall time over the last 3 s"
                hidden=move || lab.reached.get().is_none() || lab.view.get() != View::Simulator
            >
                {move || {
                    lab.reached
                        .get()
                        .map(|v| format!("asked {}×, running {}×", format::plain(lab.speed.get()), format::plain(v)))
                        .unwrap_or_default()
                }}
            </span>
            <label class="seed">
                <span>"Seed"</span>
                <input
                    type="number"
                    data-testid="seed"
                    inputmode="numeric"
                    min="0"
                    step="1"
                    aria-invalid=move || seed_error.get().is_some().to_string()
                    prop:value=move || seed.get().to_string()
                    on:change=move |ev| {
                        let parsed: Result<u64, _> = event_target_value(&ev).trim().parse();
                        match parsed {
                            Ok(v) => {
                                seed_error.set(None);
                                let _ = lab.set_seed(v);
                            }
                            Err(_) => {
                                seed_error.set(Some(format!("Seed: enter a whole number from 0 to {}", u64::MAX)));
                                // The box shows the seed in use again; the message stays.
                                let el: web_sys::HtmlInputElement = event_target(&ev);
                                el.set_value(&seed.get_untracked().to_string());
                            }
                        }
                    }
                />
            </label>
            <button data-testid="new-seed" title="Same scenario, other random draws" on:click=move |_| {
                if lab.scenario.with_untracked(knobs::uses_randomness) {
                    seed_error.set(None);
                    let _ = lab.set_seed(random_seed());
                } else {
                    // Nothing would change: say so rather than change a number silently.
                    seed_error.set(Some(
                        "Nothing here is random (evenly spaced arrivals, fixed service times): every seed gives this same run.".into(),
                    ));
                }
            }>"New seed"</button>
            <span class="clock" data-testid="sim-time" data-value=move || lab.clock.get().to_string()>
                {move || format!("t = {}", format::secs(lab.clock.get()))}
            </span>
            <span
                class="badge info"
                data-testid="replaying"
                role="status"
                hidden=move || lab.replaying.get().is_none() || lab.view.get() != View::Simulator
            >
                {move || lab.replaying.get().map(|p| format!("replaying… {p} %")).unwrap_or_default()}
            </span>
            <button
                data-testid="cancel-replay"
                aria-keyshortcuts="Escape"
                title="Stop replaying: stay where the replay has got to (Escape)"
                hidden=move || lab.replaying.get().is_none() || lab.view.get() != View::Simulator
                on:click=move |_| lab.cancel_replay()
            >
                "Cancel"
            </button>
            <span class="badge oom" data-testid="oom-badge" role="status" hidden=move || oom.get() == 0>
                {move || format!("OOM-killed ×{}", oom.get())}
            </span>
            <span class="badge oom" data-testid="producer-oom-badge" role="status" hidden=move || producer_oom.get() == 0>
                {move || format!("producer OOM-killed ×{}", producer_oom.get())}
            </span>
            <p class="field-error" role="alert">{move || seed_error.get()}</p>
        </div>
    }
}

/// The timeline: any moment of the run so far, replayed from the nearest checkpoint.
#[component]
pub fn Timeline() -> impl IntoView {
    let lab = Lab::from_context();
    // Tenths of a second: arrow keys move by 0.1 s.
    let max = move || (lab.horizon.get() * 10.0).ceil().max(1.0);
    view! {
        <div class="timeline">
            <label for="timeline">"Timeline"</label>
            <input
                id="timeline"
                type="range"
                data-testid="timeline"
                min="0"
                step="1"
                max=move || max().to_string()
                aria-valuetext=move || format!("{} of {}", format::secs(lab.clock.get()), format::secs(lab.horizon.get()))
                prop:value=move || (lab.clock.get() * 10.0).round().to_string()
                on:input=move |ev| {
                    if let Some(pos) = format::parse_number(&event_target_value(&ev)) {
                        lab.seek(pos / 10.0);
                    }
                }
            />
            <output data-testid="timeline-value" data-max=move || lab.horizon.get().to_string()>
                {move || format!("{} / {}", format::secs(lab.clock.get()), format::secs(lab.horizon.get()))}
            </output>
        </div>
    }
}

/// Sections open at first on a wide screen; on a narrow one everything starts closed.
fn open_at_start(section: Section) -> bool {
    !media_matches("(max-width: 720px)") && matches!(section, Section::Traffic | Section::Polling | Section::Workers | Section::Memory)
}

#[component]
pub fn Controls() -> impl IntoView {
    let lab = Lab::from_context();
    let kinds = Memo::new(move |_| lab.scenario.with(|s| s.stages.iter().map(StageKind::of).collect::<Vec<_>>()));
    // The producer's sections, then the stages, then the consumer's and the engine's.
    let (producer, rest) = Section::ALL.split_at(3);
    let before = producer.iter().map(|&s| view! { <SectionView section=s /> }).collect_view();
    let after = rest.iter().map(|&s| view! { <SectionView section=s /> }).collect_view();
    let stages = move || kinds.get().into_iter().enumerate().map(|(i, kind)| view! { <StageSection index=i kind=kind /> }).collect_view();
    view! {
        <aside class="controls" aria-label="Scenario knobs">
            <h2>"Knobs"</h2>
            <p class="field-error" role="alert" data-testid="scenario-error">{move || lab.error.get()}</p>
            {before}
            {stages}
            {after}
        </aside>
    }
}

#[component]
fn SectionView(section: Section) -> impl IntoView {
    let lab = Lab::from_context();
    let index = section.index();
    let shown = Memo::new(move |_| lab.scenario.with(|s| knobs::section_fields(section).any(|f| f.applies(s, index))));
    let fields = knobs::section_fields(section).map(|f| field_view(f, index)).collect_view();
    view! {
        <details class="section" data-testid=format!("section-{}", section.id()) open=open_at_start(section) hidden=move || !shown.get()>
            <summary>{section.title()}</summary>
            {fields}
        </details>
    }
}

#[component]
fn StageSection(index: usize, kind: StageKind) -> impl IntoView {
    let fields = knobs::stage_fields(kind).map(|f| field_view(f, index)).collect_view();
    let open = kind == StageKind::Channel && !media_matches("(max-width: 720px)");
    view! {
        <details class="section" data-testid=format!("section-stage-{index}") open=open>
            <summary>{format!("Stage {}: {}", index + 1, kind.title())}</summary>
            {fields}
        </details>
    }
}

/// A knob's help (its label's tooltip): content, fetched once (`content/knobs.json`).
fn help_of(lab: &Lab, id: &str) -> String {
    lab.knob_help.with(|all| all.iter().find(|(k, _)| k == id).map(|(_, v)| v.clone()).unwrap_or_default())
}

fn field_view(f: &'static Field, index: usize) -> AnyView {
    let lab = Lab::from_context();
    // Locked while a challenge frees other paths: inert (no focus, no input), greyed, with
    // the reason shown.
    let locked = move || {
        lab.free.with(|free| {
            let free = free.as_ref()?;
            let path = lab.scenario.with(|s| knobs::paths::path(f, s, index));
            // A switch whose object holds a free path stays open too (its kind leads there).
            let open = bplab_engine::challenge::is_free(free, &path) || free.iter().any(|x| x.starts_with(&format!("{path}.")));
            (!open).then(|| format!("Locked: this task frees only {}", free.join(", ")))
        })
    };
    let inner = match f {
        Field::Num(k) => view! { <KnobView knob=k index=index /> }.into_any(),
        Field::Pick(c) => view! { <ChoiceView choice=c index=index /> }.into_any(),
    };
    view! { <div class="field" inert=move || locked().is_some() title=locked>{inner}</div> }.into_any()
}

#[component]
fn KnobView(knob: &'static Knob, index: usize) -> impl IntoView {
    let lab = Lab::from_context();
    let value = Memo::new(move |_| lab.scenario.with(|s| (knob.get)(s, index)));
    let error = RwSignal::new(None::<String>);
    // Whether the value was taken; a refused one leaves its message and the last good
    // value in the controls (never the refused text beside a slider that did not move).
    let apply = move |v: f64| match lab.try_update(|s| (knob.set)(s, index, v)) {
        Err(e) => {
            error.set(Some(knobs::explain(&e)));
            false
        }
        Ok(()) => {
            error.set(None);
            true
        }
    };
    let shown = move || value.get_untracked().map(format::plain).unwrap_or_default();
    let testid = knobs::testid(knob.id, knob.scope, index);
    let range_id = format!("{testid}-range");
    let unit = knob.unit;
    let label = knob.label;
    view! {
        <div class="knob" data-testid=testid hidden=move || value.get().is_none()>
            <label for=range_id.clone() title=move || help_of(&lab, knob.id)>
                {label}
                {(!unit.is_empty()).then(|| view! { <span class="unit">{format!(" ({unit})")}</span> })}
            </label>
            <div class="knob-row">
                <input
                    id=range_id
                    type="range"
                    min="0"
                    max=SLIDER_STEPS
                    step="1"
                    aria-valuetext=move || value.get().map(|v| format!("{} {}", format::plain(v), unit)).unwrap_or_default()
                    prop:value=move || value.get().map(|v| knob.to_pos(v)).unwrap_or(0.0)
                    on:input=move |ev| {
                        let taken = format::parse_number(&event_target_value(&ev)).is_some_and(|pos| apply(knob.from_pos(pos)));
                        if !taken {
                            let el: web_sys::HtmlInputElement = event_target(&ev);
                            el.set_value(&value.get_untracked().map(|v| knob.to_pos(v)).unwrap_or(0.0).to_string());
                        }
                    }
                />
                <input
                    type="number"
                    inputmode="decimal"
                    step="any"
                    min=knob.hard.0
                    max=knob.hard.1
                    aria-label=format!("{label}{}", if unit.is_empty() { String::new() } else { format!(" ({unit})") })
                    aria-invalid=move || error.get().is_some().to_string()
                    prop:value=move || value.get().map(format::plain).unwrap_or_default()
                    on:change=move |ev| {
                        let taken = match knob.parse(&event_target_value(&ev)) {
                            Ok(v) => apply(v),
                            Err(e) => {
                                error.set(Some(e));
                                false
                            }
                        };
                        if !taken {
                            let el: web_sys::HtmlInputElement = event_target(&ev);
                            el.set_value(&shown());
                        }
                    }
                />
            </div>
            <p class="field-error" role="alert">{move || error.get()}</p>
        </div>
    }
}

#[component]
fn ChoiceView(choice: &'static Choice, index: usize) -> impl IntoView {
    let lab = Lab::from_context();
    let value = Memo::new(move |_| lab.scenario.with(|s| (choice.get)(s, index)));
    let error = RwSignal::new(None::<String>);
    let testid = knobs::testid(choice.id, choice.scope, index);
    let select_id = format!("{testid}-select");
    let options = choice
        .options
        .iter()
        .map(|(v, label)| view! { <option value=*v selected=move || value.get() == Some(*v)>{*label}</option> })
        .collect_view();
    view! {
        <div class="knob choice" data-testid=testid hidden=move || value.get().is_none()>
            <label for=select_id.clone() title=move || help_of(&lab, choice.id)>{choice.label}</label>
            <select
                id=select_id
                aria-invalid=move || error.get().is_some().to_string()
                prop:value=move || value.get().unwrap_or_default()
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    match lab.try_update(|s| (choice.set)(s, index, &v)) {
                        Ok(()) => error.set(None),
                        Err(e) => {
                            error.set(Some(knobs::explain(&e)));
                            // Show the value that still holds.
                            let el: web_sys::HtmlSelectElement = event_target(&ev);
                            el.set_value(value.get_untracked().unwrap_or_default());
                        }
                    }
                }
            >
                {options}
            </select>
            <p class="field-error" role="alert">{move || error.get()}</p>
        </div>
    }
}
