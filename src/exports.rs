//! Exports and files: the run's series (CSV) and summary with series (JSON), exactly what
//! `bplab run --link URL --duration T --format csv|json` prints for the same link (the
//! engine's `export` module writes both, without serde), and the diagram as a PNG: in the
//! Share dialog of every build. The `share` build adds scenario files: the scenario as a
//! JSON file that `bplab run FILE` runs, and a scenario file opened with the file picker
//! or dropped on the page (an invalid one names each bad field and changes nothing); their
//! serde code does not fit the download budget yet.

use crate::address::current_query;
use crate::dom::{download, download_text};
use crate::state::Lab;
use bplab_engine::{experiment, export, Simulation};
use leptos::prelude::*;
#[cfg(feature = "share")]
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
#[cfg(feature = "share")]
use wasm_bindgen::JsValue;

/// The simulated time an export covers: where the run stands, or the scenario's duration
/// before it has started.
fn export_duration(lab: &Lab) -> f64 {
    let t = lab.clock.get_untracked();
    if t > 0.0 {
        t
    } else {
        lab.scenario.with_untracked(|s| s.duration_s)
    }
}

/// The run as the CLI runs it: the scenario, its seed, `duration_s` = T, to the end.
fn run_to(lab: &Lab, t: f64) -> Option<Simulation> {
    let mut s = lab.scenario.get_untracked();
    s.duration_s = t;
    let mut sim = Simulation::new(&s).ok()?;
    sim.run_to_end();
    Some(sim)
}

/// The command that prints the same file: `bplab run --link '…' --duration T --format F`.
fn cli_command(lab: &Lab, format: &str) -> String {
    let query = current_query(lab, false);
    let t = experiment::number_with(export_duration(lab), crate::format::show_number);
    format!("bplab run --link '?{query}' --duration {t} --format {format}")
}

fn file_stem(lab: &Lab) -> String {
    format!("bplab-{}", lab.preset.get_untracked())
}

/// Downloads the run up to now (or to its duration, before it has started): the series as
/// CSV, or the summary and series as JSON, as `bplab run --format csv|json` prints them.
fn run_export(lab: Lab, csv: bool) {
    let t = export_duration(&lab);
    let Some(sim) = run_to(&lab, t) else { return };
    let t_text = experiment::number_with(t, crate::format::show_number);
    if csv {
        download_text(&format!("{}-{t_text}s.csv", file_stem(&lab)), "text/csv", &export::series_csv(sim.series()));
    } else {
        download_text(&format!("{}-{t_text}s.json", file_stem(&lab)), "application/json", &export::run_json(&sim));
    }
}

/// The Share dialog's downloads: what they are, the command that prints the same files,
/// and a button each (`data-act`, handled by [`download_act`]).
pub fn downloads_html(lab: &Lab) -> String {
    format!(
        "<p class=\"hint\">Download the run up to now (the series as CSV, the summary and series as JSON), as this command prints it:</p>\
         <code class=\"cli-command\" data-testid=\"export-command\">{}</code>\
         <div class=\"dialog-buttons\"><button data-act=\"csv\" data-testid=\"export-csv\">Series CSV</button>\
         <button data-act=\"json\" data-testid=\"export-json\">Run JSON</button>\
         <button data-act=\"png\" data-testid=\"export-diagram\">Diagram PNG</button></div>",
        crate::html::esc(&cli_command(lab, "csv"))
    )
}

/// A download button of the Share dialog, by its `data-act`: `csv`, `json` or `png`.
pub fn download_act(lab: Lab, act: &str) {
    match act {
        "csv" => run_export(lab, true),
        "json" => run_export(lab, false),
        "png" => diagram_png(lab),
        _ => {}
    }
}

/// Downloads the diagram as drawn now, as a PNG.
fn diagram_png(lab: Lab) {
    let canvas = document().query_selector("canvas[data-testid=diagram]").ok().flatten();
    if let Some(url) = canvas.and_then(|c| c.dyn_into::<web_sys::HtmlCanvasElement>().ok()).and_then(|c| c.to_data_url().ok()) {
        download(&format!("{}-diagram.png", file_stem(&lab)), &url);
    }
}

/// Reads a scenario file's text and, if it is a valid scenario, makes it the page's.
#[cfg(feature = "share")]
fn open_text(lab: Lab, name: &str, text: &str) {
    match experiment::scenario_from_json(text) {
        Ok(s) => {
            lab.preset.set(experiment::closest_preset(&s).to_string());
            let _ = lab.try_update(|cur| *cur = s);
            lab.file_status.set(Some(format!("Opened {name}.")));
        }
        // Engine paths, not knob labels: they are the names in the file.
        Err(e) => lab.error.set(Some(format!("{name} was not opened (nothing changed): {e}"))),
    }
}

/// Reads `file` (picked or dropped) and opens it.
#[cfg(feature = "share")]
fn open_file(lab: Lab, file: web_sys::File) {
    let name = file.name();
    if !(name.ends_with(".json") || file.type_() == "application/json") {
        lab.error.set(Some(format!(
            "{name} was not opened (nothing changed): the page opens JSON scenario files; convert TOML with 'bplab show' or run it with 'bplab run {name}'"
        )));
        return;
    }
    let done = Closure::once(move |text: JsValue| open_text(lab, &name, &text.as_string().unwrap_or_default()));
    let _ = file.text().then(&done);
    done.forget();
}

/// Scenario files (the `share` build): the scenario as a file, and the file picker.
#[cfg(feature = "share")]
#[component]
pub fn Exports() -> impl IntoView {
    let lab = Lab::from_context();
    let scenario_export = move |_| {
        // Through the JSON value links use: one serialiser of the scenario in the download.
        let text =
            lab.scenario.with_untracked(|s| serde_json::to_string_pretty(&experiment::to_value(s)).expect("plain data serializes") + "\n");
        download_text(&format!("{}-scenario.json", file_stem(&lab)), "application/json", &text);
    };
    let picked = move |ev: leptos::ev::Event| {
        let input = event_target::<web_sys::HtmlInputElement>(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            open_file(lab, file);
        }
        input.set_value("");
    };
    view! {
        <details class="exports" data-testid="exports">
            <summary>"Scenario files"</summary>
            <div class="export-buttons">
                <button data-testid="export-scenario" title="The scenario as a file that 'bplab run FILE' runs" on:click=scenario_export>
                    "Scenario JSON"
                </button>
                <label class="open-file">
                    "Open scenario… "
                    <input type="file" accept=".json,application/json" data-testid="open-scenario" on:change=picked />
                </label>
            </div>
            <p class="hint">"Also drop a scenario file anywhere on the page to open it."</p>
            <p class="hint" role="status" data-testid="file-status">{move || lab.file_status.get()}</p>
        </details>
    }
}

/// Opens a scenario file dropped anywhere on the page.
#[cfg(feature = "share")]
pub fn accept_dropped_files(lab: Lab) {
    let over = window_event_listener(leptos::ev::dragover, |ev| ev.prevent_default());
    let drop = window_event_listener(leptos::ev::drop, move |ev| {
        ev.prevent_default();
        if let Some(file) = ev.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
            open_file(lab, file);
        }
    });
    on_cleanup(move || {
        over.remove();
        drop.remove();
    });
}
