//! Small helpers over the browser: the wall clock, media queries (asked once, or followed
//! with a `change` listener), canvases looked up by test id, and the one animation loop of
//! the page ([`use_animation_frames`]), which both views run their frames on. The helpers
//! that register something clean it up with the calling component.

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::HtmlCanvasElement;

/// Wall time in seconds (the page's clock: `performance.now()`).
pub fn now_s() -> f64 {
    window().performance().map(|p| p.now() / 1e3).unwrap_or(0.0)
}

/// Whether the media query matches now.
pub fn media_matches(query: &str) -> bool {
    window().match_media(query).ok().flatten().is_some_and(|m| m.matches())
}

/// Calls `f` whenever the answer to the media query changes (a `MediaQueryList` `change`
/// listener), for as long as the calling component lives.
pub fn on_media_change(query: &str, f: impl Fn() + 'static) {
    let Some(list) = window().match_media(query).ok().flatten() else { return };
    let listener = Closure::<dyn Fn()>::new(f);
    if list.add_event_listener_with_callback("change", listener.as_ref().unchecked_ref()).is_err() {
        return;
    }
    let held = StoredValue::new_local(Some((list, listener)));
    on_cleanup(move || {
        if let Some(Some((list, listener))) = held.try_update_value(Option::take) {
            let _ = list.remove_event_listener_with_callback("change", listener.as_ref().unchecked_ref());
        }
    });
}

/// Saves `href` (a `data:` URL) as a file called `name`, as a link with `download` does.
pub fn download(name: &str, href: &str) {
    let Ok(a) = document().create_element("a") else { return };
    let _ = a.set_attribute("href", href);
    let _ = a.set_attribute("download", name);
    a.unchecked_into::<web_sys::HtmlElement>().click();
}

/// Saves `text` as a file called `name` of type `mime`, through a Blob: a run's JSON is
/// megabytes, past what a `data:` URL may hold.
pub fn download_text(name: &str, mime: &str, text: &str) {
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else { return };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
    download(name, &url);
    // Released once the download has surely started (at once may cancel it in some browsers).
    leptos::prelude::set_timeout(move || drop(web_sys::Url::revoke_object_url(&url)), std::time::Duration::from_secs(30));
}

/// A JSON object's members in order, through the browser's own `JSON.parse` (no serde in
/// the download): a string member's text, any other member's JSON, as
/// `bplab_engine::experiment::file::entries` gives them natively. Errors say why in words.
pub fn json_members(text: &str) -> Result<Vec<(String, String)>, String> {
    let value = js_sys::JSON::parse(text).map_err(|e| {
        let why = js_sys::Reflect::get(&e, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_default();
        format!("not JSON: {why}")
    })?;
    if !value.is_object() || js_sys::Array::is_array(&value) {
        return Err("must be a JSON object".into());
    }
    let entries = js_sys::Object::entries(value.unchecked_ref());
    Ok(entries
        .iter()
        .map(|entry| {
            let pair: js_sys::Array = entry.unchecked_into();
            let value = pair.get(1);
            let text = value.as_string().or_else(|| js_sys::JSON::stringify(&value).ok().and_then(|s| s.as_string()));
            (pair.get(0).as_string().unwrap_or_default(), text.unwrap_or_default())
        })
        .collect())
}

/// The `data-act` of the element a click reached (a button of an HTML region).
pub fn data_act(ev: &web_sys::MouseEvent) -> Option<String> {
    ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).and_then(|e| e.get_attribute("data-act"))
}

/// Puts `text` in the element `data-testid=testid` (a dialog's status line).
pub fn say(testid: &str, text: &str) {
    if let Ok(Some(status)) = document().query_selector(&format!("[data-testid={testid}]")) {
        status.set_text_content(Some(text));
    }
}

/// The `<canvas data-testid="…">` inside `root`.
pub fn canvas_by_testid(root: &web_sys::Element, testid: &str) -> Option<HtmlCanvasElement> {
    root.query_selector(&format!("canvas[data-testid={testid}]")).ok().flatten()?.dyn_into().ok()
}

struct Frames {
    /// Taken out while it runs.
    tick: Option<Box<dyn FnMut()>>,
    handle: Option<AnimationFrameRequestHandle>,
    alive: bool,
}

/// Calls `tick` on every animation frame (`requestAnimationFrame`), from the frame after
/// this call, for as long as the calling component lives: its cleanup cancels the frame
/// asked for. Like `use_interval` in Leptos's timer example, on frames instead of a fixed
/// interval; the handle is held in local storage since it is not `Send`.
pub fn use_animation_frames(tick: impl FnMut() + 'static) {
    let frames = StoredValue::new_local(Frames { tick: Some(Box::new(tick)), handle: None, alive: true });
    next_frame(frames);
    on_cleanup(move || {
        frames.try_update_value(|f| {
            f.alive = false;
            if let Some(h) = f.handle.take() {
                h.cancel();
            }
        });
    });
}

fn next_frame(frames: StoredValue<Frames, LocalStorage>) {
    let handle = request_animation_frame_with_handle(move || {
        // The tick runs outside the stored value, so it may do anything, cleanup included.
        let Some(Some(mut tick)) = frames.try_update_value(|f| if f.alive { f.tick.take() } else { None }) else { return };
        tick();
        let again = frames.try_update_value(|f| {
            f.tick = Some(tick);
            f.alive
        });
        if again == Some(true) {
            next_frame(frames);
        }
    })
    .ok();
    frames.try_update_value(|f| f.handle = handle);
}

/// Keeps the focus inside the open modal dialog `selector` picks: from its last control Tab goes to its first,
/// from its first Shift+Tab goes to its last, and from outside it the focus comes back in.
/// Returns whether it moved the focus (the key's own move must then be cancelled).
pub fn trap_focus(selector: &str, backwards: bool) -> bool {
    let doc = document();
    let Some(dialog) = doc.query_selector(selector).ok().flatten() else { return false };
    let Ok(list) = dialog.query_selector_all("button, [href], input, select, textarea, [tabindex]:not([tabindex='-1'])") else {
        return false;
    };
    let items: Vec<web_sys::HtmlElement> =
        (0..list.length()).filter_map(|i| list.item(i)).filter_map(|n| wasm_bindgen::JsCast::dyn_into(n).ok()).collect();
    let (Some(first), Some(last)) = (items.first(), items.last()) else { return false };
    let active: Option<web_sys::Node> = doc.active_element().map(Into::into);
    let inside = active.as_ref().is_some_and(|a| dialog.contains(Some(a)));
    let at = |el: &web_sys::HtmlElement| active.as_ref().is_some_and(|a| a == AsRef::<web_sys::Node>::as_ref(el));
    let to = if !inside {
        if backwards {
            last
        } else {
            first
        }
    } else if backwards && at(first) {
        last
    } else if !backwards && at(last) {
        first
    } else {
        return false;
    };
    let _ = to.focus();
    true
}

/// Moves the focus to the element `selector` picks, once the next frame has laid it out
/// (a dialog just shown is not focusable before).
pub fn focus_next_frame(selector: &'static str) {
    request_animation_frame(move || {
        let el = document().query_selector(selector).ok().flatten();
        if let Some(el) = el.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = el.focus();
        }
    });
}

/// Fetches a file of the page's own site (a path relative to the page, so the site works
/// under any sub-path) and reads it as JSON. The error says what went wrong, naming the
/// file (not found, not JSON, offline and not cached).
pub async fn fetch_json(path: &str) -> Result<wasm_bindgen::JsValue, String> {
    use wasm_bindgen_futures::JsFuture;
    let fail = |what: &str| format!("{path}: {what}");
    let response = JsFuture::from(window().fetch_with_str(path)).await.map_err(|_| fail("could not be fetched (offline?)"))?;
    let response: web_sys::Response = response.unchecked_into();
    if !response.ok() {
        return Err(fail(&format!("the server answered {}", response.status())));
    }
    let text = response.text().map_err(|_| fail("could not be read"))?;
    let text = JsFuture::from(text).await.map_err(|_| fail("could not be read"))?;
    js_sys::JSON::parse(&text.as_string().unwrap_or_default()).map_err(|e| {
        let why = e.dyn_into::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_default();
        fail(&format!("is not JSON ({why})"))
    })
}
