//! Exports and files: the run's series (CSV) and summary with series (JSON), exactly what
//! `bplab run --link URL --duration T --format csv|json` prints for the same link (the
//! engine's `export` module writes both); the scenario as a JSON file that `bplab run FILE`
//! runs; a scenario file opened with the file picker or dropped on the page (an invalid
//! one names each bad field and changes nothing); the diagram as a PNG.

use crate::address::current_query;
use crate::dom::{download, download_text};
use crate::state::Lab;
use bplab_engine::{experiment, export, Simulation};
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

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
    let t = experiment::number(export_duration(lab));
    format!("bplab run --link '?{query}' --duration {t} --format {format}")
}

fn file_stem(lab: &Lab) -> String {
    format!("bplab-{}", lab.preset.get_untracked())
}

/// Reads a scenario file's text and, if it is a valid scenario, makes it the page's.
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

/// The export buttons and the file picker.
#[component]
pub fn Exports() -> impl IntoView {
    let lab = Lab::from_context();
    let run_export = move |csv: bool| {
        let t = export_duration(&lab);
        let Some(sim) = run_to(&lab, t) else { return };
        let t_text = experiment::number(t);
        if csv {
            download_text(&format!("{}-{t_text}s.csv", file_stem(&lab)), "text/csv", &export::series_csv(sim.series()));
        } else {
            download_text(&format!("{}-{t_text}s.json", file_stem(&lab)), "application/json", &export::run_json(&sim));
        }
    };
    let scenario_export = move |_| {
        // Through the JSON value links use: one serialiser of the scenario in the download.
        let text =
            lab.scenario.with_untracked(|s| serde_json::to_string_pretty(&experiment::to_value(s)).expect("plain data serializes") + "\n");
        download_text(&format!("{}-scenario.json", file_stem(&lab)), "application/json", &text);
    };
    let diagram_png = move |_| {
        let canvas = document().query_selector("canvas[data-testid=diagram]").ok().flatten();
        if let Some(url) = canvas.and_then(|c| c.dyn_into::<web_sys::HtmlCanvasElement>().ok()).and_then(|c| c.to_data_url().ok()) {
            download(&format!("{}-diagram.png", file_stem(&lab)), &url);
        }
    };
    let picked = move |ev: leptos::ev::Event| {
        let input = event_target::<web_sys::HtmlInputElement>(&ev);
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            open_file(lab, file);
        }
        input.set_value("");
    };
    let command = RwSignal::new(String::new());
    view! {
        <details class="exports" data-testid="exports" on:toggle=move |_| command.set(cli_command(&lab, "csv"))>
            <summary>"Export and open files"</summary>
            <div class="export-buttons">
                <button data-testid="export-csv" title="The time series up to now, as 'bplab run --format csv' prints it" on:click=move |_| run_export(true)>
                    "Series CSV"
                </button>
                <button data-testid="export-json" title="Summary and series up to now, as 'bplab run --format json' prints it" on:click=move |_| run_export(false)>
                    "Run JSON"
                </button>
                <button data-testid="export-scenario" title="The scenario as a file that 'bplab run FILE' runs" on:click=scenario_export>
                    "Scenario JSON"
                </button>
                <button data-testid="export-diagram" on:click=diagram_png>"Diagram PNG"</button>
                <label class="open-file">
                    "Open scenario… "
                    <input type="file" accept=".json,application/json" data-testid="open-scenario" on:change=picked />
                </label>
            </div>
            <p class="hint">"The same CSV from the command line (also drop a scenario file anywhere on the page to open it):"</p>
            <code class="cli-command" data-testid="export-command">{move || command.get()}</code>
            <p class="hint" role="status" data-testid="file-status">{move || lab.file_status.get()}</p>
        </details>
    }
}

/// Opens a scenario file dropped anywhere on the page.
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
