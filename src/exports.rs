//! Exports and files, in the Share dialog: the run's series (CSV) and summary with series
//! (JSON), exactly what `bplab run --link URL --duration T --format csv|json` prints for the
//! same link (the engine's `export` module writes both, without serde); the diagram as a
//! PNG; and the experiment as a file (`experiment::file`: the link's keys as JSON), which
//! `bplab run FILE` runs and the page opens again from the file picker or a drop anywhere
//! on the page. A file with any problem is refused whole, each problem named, and changes
//! nothing.

use crate::address::{carried_changes, current_query, read_query, show_experiment};
use crate::dom::{download, download_text, json_members, say};
use crate::state::Lab;
use bplab_engine::experiment::{self, file};
use bplab_engine::{export, Simulation};
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
         <button data-act=\"png\" data-testid=\"export-diagram\">Diagram PNG</button></div>\
         <p class=\"hint\">The experiment as a file (its preset and changes, as in the link), which <code>bplab run FILE</code> runs; open one here or drop it on the page:</p>\
         <div class=\"dialog-buttons\"><button data-act=\"file\" data-testid=\"export-file\">Experiment file</button>\
         <label class=\"open-file\">Open a file… <input type=\"file\" accept=\".json,application/json\" data-testid=\"open-file\"></label></div>\
         <p class=\"hint\" role=\"status\" data-testid=\"file-status\"></p>",
        crate::html::esc(&cli_command(lab, "csv"))
    )
}

/// A download button of the Share dialog, by its `data-act`: `csv`, `json`, `png` or `file`.
pub fn download_act(lab: Lab, act: &str) {
    match act {
        "csv" => run_export(lab, true),
        "json" => run_export(lab, false),
        "png" => diagram_png(lab),
        "file" => {
            let text = lab.scenario.with_untracked(|s| lab.preset.with_untracked(|id| file::write(id, &carried_changes(id, s))));
            download_text(&format!("{}-experiment.json", file_stem(&lab)), "application/json", &text);
        }
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

/// Opens an experiment file's text, or refuses it whole, naming each problem (in the
/// dialog's status line and under the knobs, where a drop shows it).
fn open_text(lab: Lab, name: &str, text: &str) {
    let read = json_members(text).map(|members| read_query(file::read_with(members, crate::format::LINK_NUMBERS)));
    let problems: Vec<String> = match &read {
        Ok((.., problems)) => problems.iter().map(file::refusal).collect(),
        Err(why) => vec![format!("(file): {why}")],
    };
    match read {
        Ok((preset, scenario, view, _)) if problems.is_empty() => {
            show_experiment(&lab, preset, scenario, view, None);
            lab.error.set(None);
            say("file-status", &format!("Opened {name}."));
        }
        _ => {
            let message = format!("{name} was not opened (nothing changed): {}", problems.join("; "));
            say("file-status", &message);
            lab.error.set(Some(message));
        }
    }
}

/// Reads `file` (picked or dropped) and opens it.
pub fn open_file(lab: Lab, file: web_sys::File) {
    let name = file.name();
    let done = Closure::once(move |text: JsValue| open_text(lab, &name, &text.as_string().unwrap_or_default()));
    let _ = file.text().then(&done);
    done.forget();
}

/// Opens an experiment file dropped anywhere on the page.
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
