//! Controls: preset picker, transport (play, step, reset, speed) and the knobs. Knobs
//! only write the scenario, through [`Lab::try_update`]; transport acts on the driver.

use crate::app::Lab;
use crate::driver::SPEED_RANGE;
use crate::format;
use crate::knobs::{self, Knob, KNOBS, SLIDER_STEPS};
use bplab_engine::PRESETS;
use leptos::prelude::*;

#[component]
pub fn PresetPicker() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let options = PRESETS
        .iter()
        .map(|p| view! { <option value=p.id selected=move || lab.preset.get() == p.id>{p.title}</option> })
        .collect_view();
    view! {
        <label class="preset">
            <span>"Scenario"</span>
            <select
                data-testid="preset-select"
                prop:value=move || lab.preset.get()
                on:change=move |ev| lab.load_preset(&event_target_value(&ev))
            >
                {options}
            </select>
        </label>
    }
}

fn speed_to_pos(speed: f64) -> f64 {
    let (lo, hi) = SPEED_RANGE;
    ((speed / lo).ln() / (hi / lo).ln() * SLIDER_STEPS).round()
}

fn pos_to_speed(pos: f64) -> f64 {
    let (lo, hi) = SPEED_RANGE;
    let v = lo * (hi / lo).powf((pos / SLIDER_STEPS).clamp(0.0, 1.0));
    if v >= 10.0 {
        v.round()
    } else {
        (v * 10.0).round() / 10.0
    }
}

#[component]
pub fn Transport() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let oom = Memo::new(move |_| lab.snapshot.with(|s| s.summary.oom_kills));
    let t = Memo::new(move |_| lab.snapshot.with(|s| s.t_s));
    view! {
        <div class="transport" role="group" aria-label="Playback">
            <button
                data-testid="play"
                class="primary"
                aria-pressed=move || lab.playing.get().to_string()
                on:click=move |_| lab.playing.update(|p| *p = !*p)
            >
                {move || if lab.playing.get() { "Pause" } else { "Play" }}
            </button>
            <button data-testid="step" title="Advance by what 0.1 s of playing would (s)" on:click=move |_| lab.step()>
                "Step"
            </button>
            <button data-testid="reset" title="Back to time 0 (r)" on:click=move |_| lab.reset()>"Reset"</button>
            <label class="speed">
                <span>"Speed"</span>
                <input
                    type="range"
                    data-testid="speed"
                    min="0"
                    max=SLIDER_STEPS
                    step="1"
                    aria-valuetext=move || format!("{} times real time", lab.speed.get())
                    prop:value=move || speed_to_pos(lab.speed.get())
                    on:input=move |ev| {
                        if let Ok(pos) = event_target_value(&ev).parse::<f64>() {
                            lab.speed.set(pos_to_speed(pos));
                        }
                    }
                />
                <output data-testid="speed-value">{move || format!("{}×", format::plain(lab.speed.get()))}</output>
            </label>
            <span class="clock" data-testid="sim-time" data-value=move || t.get().to_string()>
                {move || format!("t = {}", format::secs(t.get()))}
            </span>
            <Show when=move || lab.replaying.get()>
                <span class="badge info">"replaying…"</span>
            </Show>
            <Show when=move || { oom.get() > 0 }>
                <span class="badge oom" data-testid="oom-badge" role="status">
                    {move || format!("OOM-killed ×{}", oom.get())}
                </span>
            </Show>
        </div>
    }
}

#[component]
pub fn Controls() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let knobs = KNOBS.iter().map(|k| view! { <KnobView knob=k /> }).collect_view();
    view! {
        <aside class="controls" aria-label="Scenario knobs">
            <h2>"Knobs"</h2>
            <label class="toggle" data-testid="knob-async-label">
                <input
                    type="checkbox"
                    data-testid="knob-async"
                    prop:checked=move || lab.scenario.with(knobs::is_async)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        let _ = lab.try_update(|s| knobs::set_async(s, on));
                    }
                />
                <span>"Async hand-off (processAsync returns at once)"</span>
            </label>
            {knobs}
            <p class="field-error" role="alert" data-testid="scenario-error">{move || lab.error.get()}</p>
        </aside>
    }
}

#[component]
fn KnobView(knob: &'static Knob) -> impl IntoView {
    let lab = expect_context::<Lab>();
    let value = Memo::new(move |_| lab.scenario.with(|s| (knob.get)(s)));
    let error = RwSignal::new(None::<String>);
    let apply = move |v: f64| {
        if let Err(e) = lab.try_update(|s| (knob.set)(s, v)) {
            error.set(Some(e.to_string()));
        } else {
            error.set(None);
        }
    };
    let range_id = format!("knob-{}-range", knob.id);
    let unit = if knob.unit.is_empty() { String::new() } else { knob.unit.to_string() };
    view! {
        <div class="knob" data-testid=format!("knob-{}", knob.id) class:disabled=move || value.get().is_none()>
            <label for=range_id.clone() title=knob.help>{knob.label}</label>
            <div class="knob-row">
                <input
                    id=range_id
                    type="range"
                    min="0"
                    max=SLIDER_STEPS
                    step="1"
                    disabled=move || value.get().is_none()
                    aria-valuetext=move || value.get().map(|v| format!("{} {}", format::plain(v), knob.unit)).unwrap_or_else(|| "not used in this scenario".into())
                    prop:value=move || value.get().map(|v| knob.to_pos(v)).unwrap_or(0.0)
                    on:input=move |ev| {
                        if let Ok(pos) = event_target_value(&ev).parse::<f64>() {
                            apply(knob.from_pos(pos));
                        }
                    }
                />
                <input
                    type="number"
                    inputmode="decimal"
                    step="any"
                    min=knob.min
                    max=knob.max
                    aria-label=format!("{} ({})", knob.label, if knob.unit.is_empty() { "count" } else { knob.unit })
                    aria-invalid=move || error.get().is_some().to_string()
                    disabled=move || value.get().is_none()
                    prop:value=move || value.get().map(format::plain).unwrap_or_default()
                    on:change=move |ev| match knob.parse(&event_target_value(&ev)) {
                        Ok(v) => apply(v),
                        Err(e) => error.set(Some(e)),
                    }
                />
                <span class="unit">{unit}</span>
            </div>
            <Show when=move || value.get().is_none()>
                <p class="hint">"not in this scenario's pipeline"</p>
            </Show>
            <p class="field-error" role="alert">{move || error.get()}</p>
        </div>
    }
}
