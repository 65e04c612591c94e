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

/// Saves `text` as a file called `name` of type `mime`.
pub fn download_text(name: &str, mime: &str, text: &str) {
    let data: String = js_sys::encode_uri_component(text).into();
    download(name, &format!("data:{mime};charset=utf-8,{data}"));
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
