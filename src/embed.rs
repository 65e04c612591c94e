//! Embeds: the compact layout a link with `embed=1` opens in an iframe, and the "Share"
//! dialog of the full page: the link ("Copy link") and the iframe snippet (docs/embedding.md).
//!
//! An embed shows the preset's title, play/pause, step, reset and speed, the diagrams, the
//! key readouts and one chart (`chart=`, or the one that tells the preset's story), with
//! "Open in Backpressure Lab ↗" to the full page in the same state. It tells its parent
//! its height (`postMessage({type: "bplab-embed-height", height})`, which `embed.js` turns
//! into the iframe's height) and stops moving while it is out of sight
//! (IntersectionObserver: each embed on a page pauses on its own).

use crate::address::{current_link, current_query};
use crate::controls::Transport;
use crate::dom::{data_act, focus_next_frame, trap_focus};
use crate::exports::{download_act, downloads_html, open_file};
use crate::html::esc;
use crate::stage::Stage;
use crate::state::Lab;
use bplab_engine::experiment;
use bplab_engine::PRESETS;
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// The message type an embed posts to its parent.
pub const HEIGHT_MESSAGE: &str = "bplab-embed-height";

/// The page's address without its query: where links and snippets point.
fn page_address() -> String {
    let location = window().location();
    format!("{}{}", location.origin().unwrap_or_default(), location.pathname().unwrap_or_default())
}

/// The compact layout.
#[component]
pub fn EmbedApp() -> impl IntoView {
    let lab = Lab::from_context();
    let title = move || lab.preset.with(|id| PRESETS.iter().find(|p| p.id == id).map(|p| p.title).unwrap_or(""));
    // The full page in the same state: the link without `embed` and `chart`.
    let full = move || {
        let query = current_query(&lab, true);
        let query: String =
            query.split('&').filter(|kv| !kv.starts_with("embed=") && !kv.starts_with("chart=")).collect::<Vec<_>>().join("&");
        format!("{}?{query}", page_address())
    };
    report_height();
    pause_out_of_sight(lab);
    view! {
        <div class="app embed" data-testid="embed">
            <header class="embed-head">
                <h1 class="embed-title" data-testid="preset-title">{title}</h1>
                <a class="open-full" data-testid="open-full" href=full target="_blank" rel="noopener">
                    "Open in Backpressure Lab ↗"
                </a>
            </header>
            <Transport />
            <main>
                <Stage embed=true />
            </main>
        </div>
    }
}

/// Posts the document's height to the parent whenever it changes.
fn report_height() {
    let post = || {
        let doc = document();
        let Some(root) = doc.document_element() else { return };
        let height = root.scroll_height();
        let Ok(Some(parent)) = window().parent() else { return };
        let message = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&message, &"type".into(), &HEIGHT_MESSAGE.into());
        let _ = js_sys::Reflect::set(&message, &"height".into(), &JsValue::from(height));
        let _ = parent.post_message(&message, "*");
    };
    let observed = Closure::<dyn FnMut()>::new(post);
    if let (Ok(observer), Some(body)) = (web_sys::ResizeObserver::new(observed.as_ref().unchecked_ref()), document().body()) {
        observer.observe(&body);
        on_cleanup(move || observer.disconnect());
    }
    observed.forget();
}

/// Keeps `lab.on_screen` up to date from an IntersectionObserver on the document (inside an
/// iframe: whether the iframe is in the top page's viewport).
fn pause_out_of_sight(lab: Lab) {
    let seen = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
        if let Some(entry) = entries.iter().last().and_then(|e| e.dyn_into::<web_sys::IntersectionObserverEntry>().ok()) {
            let on = entry.is_intersecting();
            if lab.on_screen.get_untracked() != on {
                lab.on_screen.set(on);
            }
        }
    });
    if let (Ok(observer), Some(body)) = (web_sys::IntersectionObserver::new(seen.as_ref().unchecked_ref()), document().body()) {
        observer.observe(&body);
        on_cleanup(move || observer.disconnect());
    }
    seen.forget();
}

/// The snippet that embeds `query` (an experiment's link, `embed=1` added here).
pub fn snippet(address: &str, query: &str, title: &str, height: u32) -> String {
    let src = format!("{address}?{query}&embed=1").replace('&', "&amp;");
    let script = match address.rfind('/') {
        Some(i) => format!("{}embed.js", &address[..=i]),
        None => "embed.js".to_string(),
    };
    let title = title.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;");
    format!(
        "<iframe src=\"{src}\" title=\"Backpressure Lab: {title}\" width=\"100%\" height=\"{height}\" loading=\"lazy\" style=\"border:0;max-width:100%\"></iframe>\n<script src=\"{script}\" async></script>"
    )
}

/// A read-only text field (the link, the snippet) is selected whole when it takes the
/// focus, to copy by hand.
fn select_read_only(ev: leptos::ev::FocusEvent) {
    let target = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok());
    if let Some(el) = target.filter(|e| e.has_attribute("readonly")) {
        // `select()` of an <input>; a <textarea> has the same method.
        el.unchecked_into::<web_sys::HtmlInputElement>().select();
    }
}

/// Says in the dialog's status line what became of a copy.
fn say_copied(text: &str) {
    crate::dom::say("copy-status", text);
}

/// The link field, the words about link and snippet, and the chart picker.
fn link_html(link: &str) -> String {
    let mut options = String::from("<option value=\"\">the preset's own</option>");
    for c in experiment::CHARTS {
        // An option's value is its text.
        options.push_str("<option>");
        options.push_str(c);
        options.push_str("</option>");
    }
    format!(
        "<input class=\"link-text\" readonly aria-label=\"Link to this experiment\" data-testid=\"link-text\" value=\"{}\">\
         <p class=\"hint\">The link opens this experiment as it stands (so does the address bar). To embed it, paste the snippet below into HTML or Markdown: the script resizes the frame to fit; without it the frame keeps its height.</p>\
         <label>Chart <select data-testid=\"embed-chart\">{options}</select></label>",
        esc(link)
    )
}

/// The snippet, and a warning when the scenario differs in more than its link carries.
fn snippet_html(snippet: &str, uncarried: bool) -> String {
    let warn = if uncarried {
        "<p class=\"hint warn\" data-testid=\"embed-uncarried\">Some of this scenario is not in this snippet (a change no knob makes): it embeds the preset with the knobs' changes, the seed and the view.</p>"
    } else {
        ""
    };
    format!(
        "{warn}<textarea class=\"snippet\" readonly rows=\"6\" data-testid=\"embed-snippet\" aria-label=\"Embed snippet\">{}</textarea>",
        esc(snippet)
    )
}

/// Whether the scenario differs from its preset in more than a link of this build carries.
fn uncarried(lab: &Lab) -> bool {
    #[cfg(not(feature = "share"))]
    return crate::address::has_uncarried_changes(lab);
    #[cfg(feature = "share")]
    {
        let _ = lab;
        false
    }
}

/// "Share": a dialog with the link of the experiment on show ("Copy link"; the address bar
/// is the same link) and its iframe snippet with the chart it shows, to paste into
/// Markdown or HTML.
#[component]
pub fn EmbedDialog() -> impl IntoView {
    let lab = Lab::from_context();
    let open = RwSignal::new(false);
    // Opened, the focus goes into it; closed, back to its button.
    let show = move |on: bool| {
        open.set(on);
        focus_next_frame(if on { "[data-testid=link-text]" } else { "[data-testid=embed-open]" });
    };
    let chart = RwSignal::new(String::new());
    let text = move || {
        open.track();
        let mut query = current_query(&lab, true);
        let c = chart.get();
        if !c.is_empty() {
            query.push_str("&chart=");
            query.push_str(&c);
        }
        let title = lab.preset.with(|id| PRESETS.iter().find(|p| p.id == id).map(|p| p.title).unwrap_or(""));
        snippet(&page_address(), &query, title, 640)
    };
    // Where the clipboard is refused (an old browser, an iframe without permission), the
    // text is there, selected on focus, to copy by hand; the refusal is handled, not logged.
    let copy = move |is_link: bool| {
        let (what, done, refused) = if is_link {
            (current_link(&lab), "Link copied", "Select the link and copy it")
        } else {
            (text(), "Snippet copied", "Select the snippet and copy it")
        };
        let failed = Closure::once(move |_: JsValue| say_copied(refused));
        let _ = window().navigator().clipboard().write_text(&what).catch(&failed);
        failed.forget();
        say_copied(done);
    };
    // The dialog's buttons are plain HTML with a `data-act`: one listener for them all.
    let clicked = move |ev: leptos::ev::MouseEvent| {
        ev.stop_propagation();
        match data_act(&ev).as_deref() {
            Some("link") => copy(true),
            Some("snippet") => copy(false),
            Some("close") => show(false),
            Some(other) => download_act(lab, other),
            None => {}
        }
    };
    // Escape closes it wherever the focus is; Tab and Shift+Tab go round its own controls.
    let escape = window_event_listener(leptos::ev::keydown, move |ev| {
        if !open.get_untracked() {
            return;
        }
        match ev.key().as_str() {
            "Escape" => {
                ev.prevent_default();
                show(false);
            }
            "Tab" if trap_focus("[data-testid=embed-dialog]", ev.shift_key()) => ev.prevent_default(),
            _ => {}
        }
    });
    on_cleanup(move || escape.remove());
    view! {
        <button data-testid="embed-open" aria-haspopup="dialog" on:click=move |_| show(true)>"Share"</button>
        <div class="backdrop" hidden=move || !open.get() on:click=move |_| show(false)>
            <div
                class="dialog embed-dialog"
                role="dialog"
                aria-modal="true"
                aria-labelledby="embed-title"
                data-testid="embed-dialog"
                on:click=clicked
                // The dialog's controls that change: the chart picker and the file picker. The
                // target is read as an <input>: web-sys getters are plain property reads, so a
                // <select> has no `files` and gives its `value`.
                on:change=move |ev| {
                    let input = event_target::<web_sys::HtmlInputElement>(&ev);
                    match input.files().and_then(|f| f.get(0)) {
                        Some(file) => {
                            open_file(lab, file);
                            input.set_value("");
                        }
                        None => chart.set(input.value()),
                    }
                }
                on:focusin=select_read_only
            >
                <h2 id="embed-title">"Share this experiment"</h2>
                // Drawn as HTML (the link, the chart's options, the snippet): no view code each.
                // The link and the downloads are drawn as the dialog opens, and only then: drawn
                // again, the chart picker would lose its choice and the focus.
                <div inner_html=move || {
                    open.track();
                    untrack(|| link_html(&current_link(&lab)))
                }></div>
                <div inner_html=move || snippet_html(&text(), uncarried(&lab))></div>
                <div class="dialog-buttons">
                    <button data-act="link" data-testid="copy-link">"Copy link"</button>
                    <button data-act="snippet" data-testid="embed-copy">"Copy snippet"</button>
                    <span role="status" data-testid="copy-status"></span>
                </div>
                <div class="downloads" inner_html=move || {
                    open.track();
                    untrack(|| downloads_html(&lab))
                }></div>
                <div class="dialog-buttons">
                    <button data-act="close" data-testid="embed-close">"Close"</button>
                </div>
            </div>
        </div>
    }
}
