//! Browser tests of the page's components, run in headless Chromium by
//! `cargo test --target wasm32-unknown-unknown -p backpressure-lab`
//! (`.cargo/config.toml` makes wasm-bindgen-test-runner the runner; scripts/test.sh runs it).
//!
//! Each test mounts the real `App` (or components with a real `Lab` context) into its own
//! fresh `<div>` on `<body>`, acts on it the way a person would (typing into a number box,
//! clicking a button, pressing a key) and asserts on the DOM it produces. Everything is
//! looked up inside the test's own container. The animation loop runs on
//! requestAnimationFrame, so the tests wait (bounded) for its frames instead of assuming them.
//! Files in `tests/` are compiled for the host too, hence the cfg guard.
#![cfg(target_arch = "wasm32")]

use std::cell::Cell;
use std::rc::Rc;

use bplab_app::format;
use bplab_app::knobs::{self, Knob};
use bplab_app::readouts::Readouts;
use bplab_app::state::Lab;
use bplab_app::App;
use bplab_engine::{Family, PRESETS};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Document, Element, Event, EventInit, HtmlElement, HtmlInputElement, KeyboardEvent, KeyboardEventInit};

wasm_bindgen_test_configure!(run_in_browser);

// --- helpers --------------------------------------------------------------------------------

fn document() -> Document {
    web_sys::window().expect("a window").document().expect("a document")
}

/// A new empty `<div>` appended to `<body>`, to mount one component into.
fn container() -> HtmlElement {
    // The page keeps its address on the experiment (history.replaceState): each test starts
    // from the runner's bare address, not from the previous test's experiment.
    let location = web_sys::window().expect("a window").location();
    let bare = location.pathname().expect("a path");
    web_sys::window()
        .expect("a window")
        .history()
        .expect("history")
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&bare))
        .expect("replaceState");
    let doc = document();
    let div = doc.create_element("div").expect("create <div>");
    doc.body().expect("a <body>").append_child(&div).expect("append <div> to <body>");
    div.unchecked_into()
}

/// The element matching `selector` inside `root`; panics with the selector when absent.
fn find(root: &Element, selector: &str) -> Element {
    root.query_selector(selector)
        .unwrap_or_else(|_| panic!("invalid selector {selector}"))
        .unwrap_or_else(|| panic!("no element matches {selector}"))
}

fn input(root: &Element, selector: &str) -> HtmlInputElement {
    find(root, selector).dyn_into().unwrap_or_else(|_| panic!("{selector} is not an <input>"))
}

/// The raw number in `data-value` of `[data-testid=<testid>]`, `None` when it is "".
fn data_value(root: &Element, testid: &str) -> Option<f64> {
    let el = find(root, &format!("[data-testid={testid}]"));
    let raw = el.get_attribute("data-value").unwrap_or_else(|| panic!("[data-testid={testid}] has no data-value"));
    if raw.is_empty() {
        return None;
    }
    Some(raw.parse().unwrap_or_else(|_| panic!("[data-testid={testid}] data-value={raw:?} is not a number")))
}

fn text(root: &Element, selector: &str) -> String {
    find(root, selector).text_content().unwrap_or_default().trim().to_string()
}

/// The readouts of the page's contract (as in tests/e2e/).
const READOUTS: &[&str] = &[
    "produced",
    "consumed",
    "dropped",
    "lost",
    "duplicated",
    "oom-kills",
    "first-oom",
    "max-heap",
    "max-in-flight",
    "max-lag",
    "latency-p50",
    "latency-p99",
    "producer-blocked",
    "throughput",
    "rebalances",
    "call-rtt-p99",
];

/// Every readout's raw `data-value` and the simulated time's, as (testid, attribute) pairs.
fn readouts(root: &Element) -> Vec<(String, String)> {
    READOUTS
        .iter()
        .map(|id| format!("readout-{id}"))
        .chain(["sim-time".to_string()])
        .map(|testid| {
            let raw = find(root, &format!("[data-testid={testid}]"))
                .get_attribute("data-value")
                .unwrap_or_else(|| panic!("[data-testid={testid}] has no data-value"));
            (testid, raw)
        })
        .collect()
}

/// Waits `ms` milliseconds of wall time (a setTimeout), letting effects and animation
/// frames run.
async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        web_sys::window().expect("a window").set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms).expect("setTimeout");
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.expect("setTimeout promise");
}

/// Polls `cond` every 20 ms until it holds; panics with `what` after `timeout_ms`.
async fn wait_until(what: &str, timeout_ms: f64, mut cond: impl FnMut() -> bool) {
    let perf = web_sys::window().unwrap().performance().unwrap();
    let start = perf.now();
    while !cond() {
        assert!(perf.now() - start < timeout_ms, "timed out after {timeout_ms} ms waiting until {what}");
        sleep(20).await;
    }
}

/// Sets an input's value as typing and leaving the field does: `input`, then `change`,
/// both bubbling as the browser's own do.
fn type_into(el: &HtmlInputElement, value: &str) {
    el.set_value(value);
    for kind in ["input", "change"] {
        let init = EventInit::new();
        init.set_bubbles(true);
        let ev = Event::new_with_event_init_dict(kind, &init).expect("create event");
        el.dispatch_event(&ev).expect("dispatch event");
    }
}

/// A key press on `<body>` (where keys go when nothing has focus), bubbling to the window.
fn press_key(key: &str) {
    let init = KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let ev = KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).expect("create keydown");
    document().body().unwrap().dispatch_event(&ev).expect("dispatch keydown");
}

fn click(root: &Element, testid: &str) {
    find(root, &format!("[data-testid={testid}]")).unchecked_into::<HtmlElement>().click();
}

/// Mounts `App`, waits for its first animation frame (the clock shows `t = …`) and clicks
/// Step until the run has produced something, so that there is state to lose.
async fn app_with_a_stepped_run(root: &HtmlElement) {
    wait_until("the app renders its clock", 5_000.0, || root.query_selector("[data-testid=sim-time]").ok().flatten().is_some()).await;
    click(root, "step");
    wait_until("Step has advanced the run", 5_000.0, || {
        data_value(root, "sim-time").unwrap_or(0.0) > 0.0 && data_value(root, "readout-produced").unwrap_or(0.0) > 0.0
    })
    .await;
}

fn max_poll_records() -> &'static Knob {
    knobs::knob("max-poll-records").expect("the max-poll-records knob")
}

// --- tests ----------------------------------------------------------------------------------

/// Knobs the incident uses, by test id: global ones, then its channel's and its topic's.
const INCIDENT_KNOBS: &[&str] = &[
    "knob-producer-rate",
    "knob-s0-capacity",
    "knob-s1-partitions",
    "knob-max-poll-records",
    "knob-workers",
    "knob-rate-per-worker",
    "knob-bytes-per-message",
    "knob-heap-limit",
];

fn hidden(root: &Element, testid: &str) -> bool {
    find(root, &format!("[data-testid={testid}]")).has_attribute("hidden")
}

#[wasm_bindgen_test]
async fn app_renders_its_heading_every_knob_and_every_readout() {
    let root = container();
    let mounted = leptos::mount::mount_to(root.clone(), App);

    assert_eq!(text(&root, "h1"), "Backpressure Lab");
    // `prop:value`s are set by effects, which run once the executor gets a turn.
    leptos::task::tick().await;
    for id in INCIDENT_KNOBS {
        find(&root, &format!("[data-testid={id}] input[type=range]"));
        let number = input(&root, &format!("[data-testid={id}] input[type=number]"));
        assert!(!hidden(&root, id), "knob {id} is hidden in the incident");
        assert!(!number.value().is_empty(), "knob {id} shows no value");
    }
    assert_eq!(input(&root, "[data-testid=knob-max-poll-records] input[type=number]").value(), "1000");
    // Choices are selects showing the scenario's value.
    let mode: web_sys::HtmlSelectElement = find(&root, "[data-testid=knob-mode] select").dyn_into().unwrap();
    assert_eq!(mode.value(), "async");
    // A consumer reading a topic polls: its link is no knob here.
    assert!(hidden(&root, "knob-consumer-flow-control"));
    assert!(hidden(&root, "section-consumer-link"));
    assert_eq!(data_value(&root, "sim-time"), Some(0.0), "a fresh page starts at t = 0");
    assert_eq!(data_value(&root, "readout-produced"), Some(0.0));
    for id in READOUTS {
        data_value(&root, &format!("readout-{id}")); // present, and "" or a number
    }
    drop(mounted);
}

#[wasm_bindgen_test]
async fn the_preset_picker_groups_every_preset_by_family_and_shows_its_explanation() {
    let root = container();
    let mounted = leptos::mount::mount_to(root.clone(), App);
    leptos::task::tick().await;
    let select = find(&root, "[data-testid=preset-select]");
    let groups = select.query_selector_all("optgroup").unwrap();
    let mut families: Vec<Family> = PRESETS.iter().map(|p| p.family).collect();
    families.dedup();
    assert_eq!(groups.length() as usize, families.len());
    assert_eq!(select.query_selector_all("option").unwrap().length() as usize, PRESETS.len());

    let select: web_sys::HtmlSelectElement = select.dyn_into().unwrap();
    select.set_value("credits");
    let init = EventInit::new();
    init.set_bubbles(true);
    select.dispatch_event(&Event::new_with_event_init_dict("change", &init).unwrap()).unwrap();
    let credits = PRESETS.iter().find(|p| p.id == "credits").unwrap();
    // (The explanation itself is content the page fetches: the e2e tests read it.)
    wait_until("the title follows the preset", 2_000.0, || text(&root, "[data-testid=preset-title]") == credits.title).await;
    // No topic, credits on the consumer's link: its knobs show, the topic's do not.
    wait_until("the consumer-link knobs appear", 2_000.0, || !hidden(&root, "knob-consumer-credit-initial")).await;
    assert_eq!(input(&root, "[data-testid=knob-consumer-credit-initial] input[type=number]").value(), "1000");
    assert!(root.query_selector("[data-testid=knob-s1-partitions]").unwrap().is_none());
    drop(mounted);
}

#[wasm_bindgen_test]
async fn a_choice_shows_and_hides_the_knobs_it_governs() {
    let root = container();
    let mounted = leptos::mount::mount_to(root.clone(), App);
    leptos::task::tick().await;
    assert!(!hidden(&root, "knob-s0-capacity"));
    let buffer: web_sys::HtmlSelectElement = find(&root, "[data-testid=knob-s0-capacity-mode] select").dyn_into().unwrap();
    buffer.set_value("unbounded");
    let init = EventInit::new();
    init.set_bubbles(true);
    buffer.dispatch_event(&Event::new_with_event_init_dict("change", &init).unwrap()).unwrap();
    wait_until("an unbounded channel has no capacity knob", 2_000.0, || hidden(&root, "knob-s0-capacity")).await;
    // drop_oldest needs a bound: refused with the engine's message, and nothing changes.
    let on_full: web_sys::HtmlSelectElement = find(&root, "[data-testid=knob-s0-on-full] select").dyn_into().unwrap();
    on_full.set_value("drop_oldest");
    on_full.dispatch_event(&Event::new_with_event_init_dict("change", &init).unwrap()).unwrap();
    wait_until("the refusal is explained", 2_000.0, || {
        text(&root, "[data-testid=knob-s0-on-full] [role=alert]").contains("needs a bounded receiver")
    })
    .await;
    assert_eq!(on_full.value(), "block", "the select shows the value that still holds");
    drop(mounted);
}

#[wasm_bindgen_test]
async fn question_mark_opens_the_help_and_escape_closes_it() {
    let root = container();
    let mounted = leptos::mount::mount_to(root.clone(), App);
    leptos::task::tick().await;
    let backdrop = find(&root, "[data-testid=help-dialog]").parent_element().expect("the help backdrop");
    assert!(backdrop.has_attribute("hidden"), "the help shows before it is asked for");
    press_key("?");
    wait_until("the help dialog opens", 2_000.0, || !backdrop.has_attribute("hidden")).await;
    let dialog = find(&root, "[data-testid=help-dialog]");
    assert_eq!(dialog.get_attribute("role").as_deref(), Some("dialog"));
    let listed = dialog.text_content().unwrap_or_default();
    for key in ["Space", "s", "r", "?", "Escape"] {
        assert!(listed.contains(key), "the help does not list {key}: {listed}");
    }
    wait_until("the close button has the focus", 2_000.0, || {
        document().active_element().and_then(|e| e.get_attribute("data-testid")).as_deref() == Some("help-close")
    })
    .await;
    // Shortcuts other than Escape do nothing while it is open.
    press_key(" ");
    sleep(50).await;
    assert_eq!(text(&root, "[data-testid=play]"), "Play");
    press_key("Escape");
    wait_until("Escape closes it", 2_000.0, || backdrop.has_attribute("hidden")).await;
    drop(mounted);
}

#[wasm_bindgen_test]
async fn the_timeline_goes_back_and_replays_the_same_run() {
    let root = container();
    let mounted = leptos::mount::mount_to(root.clone(), App);
    wait_until("the app renders its clock", 5_000.0, || root.query_selector("[data-testid=sim-time]").ok().flatten().is_some()).await;
    for _ in 0..3 {
        click(&root, "step");
        sleep(60).await;
    }
    wait_until("three steps of 1 s have run", 5_000.0, || data_value(&root, "sim-time") == Some(3.0)).await;
    let produced_at_3 = data_value(&root, "readout-produced").unwrap();
    let timeline = input(&root, "[data-testid=timeline]");
    assert_eq!(timeline.max(), "30", "the timeline spans the run so far, in tenths of a second");
    type_into(&timeline, "15");
    wait_until("the run is back at 1.5 s", 5_000.0, || data_value(&root, "sim-time") == Some(1.5)).await;
    let produced_at_1_5 = data_value(&root, "readout-produced").unwrap();
    assert!(produced_at_1_5 < produced_at_3 && produced_at_1_5 > 0.0);
    type_into(&timeline, "30");
    wait_until("forward again to 3 s", 5_000.0, || data_value(&root, "sim-time") == Some(3.0)).await;
    assert_eq!(data_value(&root, "readout-produced"), Some(produced_at_3), "the replay differs from the run");
    drop(mounted);
}

#[wasm_bindgen_test]
async fn a_new_seed_changes_the_seed_only_where_something_is_random() {
    let root = container();
    let mounted = leptos::mount::mount_to(root.clone(), App);
    leptos::task::tick().await;
    let seed = input(&root, "[data-testid=seed]");
    assert_eq!(seed.value(), "1");
    type_into(&seed, "42");
    wait_until("the seed box shows 42", 2_000.0, || input(&root, "[data-testid=seed]").value() == "42").await;
    // The incident has no randomness: "New seed" says so instead of changing a number.
    click(&root, "new-seed");
    wait_until("no randomness is explained", 2_000.0, || text(&root, ".transport [role=alert]").contains("Nothing here is random")).await;
    assert_eq!(input(&root, "[data-testid=seed]").value(), "42");
    // Random early detection draws from the seed: there a new seed is a new run.
    let select: web_sys::HtmlSelectElement = find(&root, "[data-testid=preset-select]").dyn_into().unwrap();
    select.set_value("shed-red");
    let init = EventInit::new();
    init.set_bubbles(true);
    select.dispatch_event(&Event::new_with_event_init_dict("change", &init).unwrap()).unwrap();
    leptos::task::tick().await;
    click(&root, "new-seed");
    wait_until("a new seed", 2_000.0, || input(&root, "[data-testid=seed]").value() != "42").await;
    assert!(text(&root, ".transport [role=alert]").is_empty());
    type_into(&seed, "-3");
    wait_until("a bad seed is explained", 2_000.0, || text(&root, ".transport [role=alert]").contains("whole number from 0 to")).await;
    drop(mounted);
}

#[wasm_bindgen_test]
async fn the_compare_view_runs_push_against_pull_on_the_same_traffic() {
    let root = container();
    let mounted = leptos::mount::mount_to(root.clone(), App);
    leptos::task::tick().await;
    click(&root, "view-compare");
    wait_until("the compare view shows", 2_000.0, || !find(&root, ".layout-compare").has_attribute("hidden")).await;
    click(&root, "compare-push-pull");
    wait_until("three lanes", 2_000.0, || root.query_selector_all(".lane").unwrap().length() == 3).await;
    wait_until("a row per lane", 2_000.0, || root.query_selector_all("[data-testid=compare-table] tbody tr").unwrap().length() == 3).await;
    for _ in 0..2 {
        click(&root, "step");
        sleep(100).await;
    }
    wait_until("the lanes ran 2 s", 5_000.0, || data_value(&root, "sim-time") == Some(2.0)).await;
    wait_until("the table has figures", 3_000.0, || data_value(&root, "cmp-3-throughput").unwrap_or(0.0) > 0.0).await;
    // drop-newest drops, the others do not.
    wait_until("drops counted in lane 2", 3_000.0, || data_value(&root, "cmp-2-dropped").unwrap_or(0.0) > 0.0).await;
    assert_eq!(data_value(&root, "cmp-1-dropped"), Some(0.0));
    click(&root, "view-simulator");
    wait_until("back to the simulator", 2_000.0, || !find(&root, ".view-sim").has_attribute("hidden")).await;
    assert!(find(&root, ".layout-compare").has_attribute("hidden"));
    drop(mounted);
}

#[wasm_bindgen_test]
async fn an_out_of_range_value_is_explained_and_loses_no_state_then_a_valid_one_applies() {
    let root = container();
    let mounted = leptos::mount::mount_to(root.clone(), App);
    app_with_a_stepped_run(&root).await;

    let k = max_poll_records();
    let knob_sel = format!("[data-testid=knob-{}]", k.id);
    let number = input(&root, &format!("{knob_sel} input[type=number]"));
    let range = input(&root, &format!("{knob_sel} input[type=range]"));
    let error_sel = format!("{knob_sel} [role=alert]");
    let before = readouts(&root);
    let range_before = range.value();
    let other_numbers_before: Vec<String> =
        INCIDENT_KNOBS.iter().map(|o| input(&root, &format!("[data-testid={o}] input[type=number]")).value()).collect();
    assert_eq!(number.value(), "1000");
    assert_eq!(text(&root, &error_sel), "", "an error shows before any bad input");

    // max.poll.records = 0: below the allowed range.
    type_into(&number, "0");
    wait_until("an error appears under max.poll.records", 2_000.0, || !text(&root, &error_sel).is_empty()).await;
    let error = text(&root, &error_sel);
    let range_text = format!("from {} to {}", format::plain(k.hard.0), format::plain(k.hard.1));
    assert!(error.contains(k.label), "the error does not name the field {:?}: {error:?}", k.label);
    assert!(error.contains(&range_text), "the error does not give the range {range_text:?}: {error:?}");
    assert_eq!(number.get_attribute("aria-invalid").as_deref(), Some("true"), "the bad field is not marked invalid");

    // A few animation frames later nothing has moved: not the scenario (the slider and the
    // other knobs), not the run (time and readouts).
    sleep(300).await;
    assert_eq!(range.value(), range_before, "the rejected value moved the slider (the scenario changed)");
    assert_eq!(
        range.get_attribute("aria-valuetext").as_deref(),
        Some(format!("{} {}", format::plain(1000.0), k.unit).as_str()),
        "the slider no longer describes the previous value"
    );
    let other_numbers_after: Vec<String> =
        INCIDENT_KNOBS.iter().map(|o| input(&root, &format!("[data-testid={o}] input[type=number]")).value()).collect();
    for ((o, b), a) in INCIDENT_KNOBS.iter().zip(&other_numbers_before).zip(&other_numbers_after) {
        if *o != "knob-max-poll-records" {
            assert_eq!(a, b, "knob {o} changed after a bad value in {}", k.id);
        }
    }
    assert_eq!(readouts(&root), before, "the run changed after a rejected value");

    // A valid value is applied: the scenario takes it and the run replays to the same time.
    type_into(&number, "500");
    wait_until("the error disappears after a valid value", 2_000.0, || text(&root, &error_sel).is_empty()).await;
    assert_eq!(number.get_attribute("aria-invalid").as_deref(), Some("false"));
    assert_eq!(number.value(), "500");
    assert_eq!(range.value(), k.to_pos(500.0).to_string(), "the slider did not follow the typed value");
    assert_eq!(range.get_attribute("aria-valuetext").as_deref(), Some(format!("500 {}", k.unit).as_str()));
    let t_before = data_value(&root, "sim-time").unwrap();
    wait_until("the changed run has replayed to the same time", 5_000.0, || {
        data_value(&root, "sim-time") == Some(t_before) && data_value(&root, "readout-produced").unwrap_or(0.0) > 0.0
    })
    .await;
    drop(mounted);
}

#[wasm_bindgen_test]
async fn step_advances_the_clock_and_produces_messages() {
    let root = container();
    let mounted = leptos::mount::mount_to(root.clone(), App);
    wait_until("the app renders its clock", 5_000.0, || root.query_selector("[data-testid=sim-time]").ok().flatten().is_some()).await;
    assert_eq!(data_value(&root, "sim-time"), Some(0.0));
    assert_eq!(data_value(&root, "readout-produced"), Some(0.0));
    assert_eq!(text(&root, "[data-testid=play]"), "Play");

    click(&root, "step");
    wait_until("sim-time advances after Step", 5_000.0, || data_value(&root, "sim-time").unwrap_or(0.0) > 0.0).await;
    // Step advances by what 0.1 s of playing would: at the default speed (10×), 1 s.
    let speed: f64 = text(&root, "[data-testid=speed-value]").trim_end_matches('×').parse().expect("speed like 10×");
    wait_until("Step's whole 0.1 s × speed has run", 5_000.0, || (data_value(&root, "sim-time").unwrap() - 0.1 * speed).abs() < 1e-9).await;
    let produced = data_value(&root, "readout-produced").unwrap();
    assert!(produced > 0.0, "nothing produced after a Step to t = {}", 0.1 * speed);
    assert_eq!(text(&root, "[data-testid=play]"), "Play", "Step started playing");

    // Paused after a step: the clock stays where it is.
    sleep(200).await;
    assert_eq!(data_value(&root, "sim-time"), Some(0.1 * speed));
    assert_eq!(data_value(&root, "readout-produced"), Some(produced));
    drop(mounted);
}

#[wasm_bindgen_test]
async fn keyboard_space_plays_and_pauses_and_r_resets() {
    let root = container();
    let mounted = leptos::mount::mount_to(root.clone(), App);
    wait_until("the app renders its clock", 5_000.0, || root.query_selector("[data-testid=sim-time]").ok().flatten().is_some()).await;

    press_key(" ");
    wait_until("space starts playing", 2_000.0, || text(&root, "[data-testid=play]") == "Pause").await;
    wait_until("the clock runs", 5_000.0, || data_value(&root, "sim-time").unwrap_or(0.0) > 0.0).await;

    press_key(" ");
    wait_until("space pauses", 2_000.0, || text(&root, "[data-testid=play]") == "Play").await;
    sleep(100).await;
    let paused_at = data_value(&root, "sim-time");
    sleep(200).await;
    assert_eq!(data_value(&root, "sim-time"), paused_at, "the clock runs while paused");

    press_key("r");
    wait_until("r resets to t = 0", 2_000.0, || data_value(&root, "sim-time") == Some(0.0)).await;
    assert_eq!(data_value(&root, "readout-produced"), Some(0.0));
    drop(mounted);
}

/// `Readouts` alone, with a `Lab` context whose snapshot is set by hand from a real run.
#[wasm_bindgen_test]
async fn readouts_show_raw_values_and_flag_losses_after_an_oom_kill() {
    let root = container();
    let lab_cell: Rc<Cell<Option<Lab>>> = Rc::new(Cell::new(None));
    let cell = lab_cell.clone();
    let mounted = leptos::mount::mount_to(root.clone(), move || {
        let lab = Lab::new("incident-106");
        provide_context(lab);
        cell.set(Some(lab));
        view! { <Readouts /> }
    });
    let lab = lab_cell.get().expect("the Lab was created");
    assert_eq!(data_value(&root, "readout-oom-kills"), Some(0.0));
    assert_eq!(data_value(&root, "readout-first-oom"), None, "first-oom before any kill");
    assert_eq!(text(&root, "[data-testid=readout-first-oom]"), "–");

    // Run the incident past its first OOM kill (≈ 48.3 s) and publish the snapshot.
    lab.driver.update_value(|d| {
        d.step(60.0);
        d.frame(0.0, u64::MAX);
        lab.snapshot.set(d.sim().snapshot());
    });
    let summary = lab.snapshot.get_untracked().summary;
    assert!(summary.oom_kills >= 1 && summary.lost > 0, "the incident did not OOM by 60 s: {summary:?}");
    wait_until("the readouts show the kill", 2_000.0, || data_value(&root, "readout-oom-kills") == Some(summary.oom_kills as f64)).await;

    assert_eq!(data_value(&root, "readout-lost"), Some(summary.lost as f64));
    assert_eq!(data_value(&root, "readout-produced"), Some(summary.produced as f64));
    let first = summary.first_oom_s.expect("first_oom_s after a kill");
    assert_eq!(data_value(&root, "readout-first-oom"), Some(first));
    assert_eq!(text(&root, "[data-testid=readout-first-oom]"), format::secs(first));
    assert_eq!(text(&root, "[data-testid=readout-lost]"), format::count(summary.lost as f64));
    let lost_box = find(&root, "[data-testid=readout-lost]").parent_element().unwrap();
    assert!(lost_box.class_list().contains("alarm"), "lost > 0 is not flagged");
    let produced_box = find(&root, "[data-testid=readout-produced]").parent_element().unwrap();
    assert!(!produced_box.class_list().contains("alarm"), "produced is flagged as an alarm");
    drop(mounted);
}

#[wasm_bindgen_test]
fn unmounting_app_removes_its_nodes() {
    let root = container();
    let mounted = leptos::mount::mount_to(root.clone(), App);
    assert!(root.child_element_count() > 0, "App put no element into its container");

    drop(mounted);
    assert!(root.query_selector("h1").expect("valid selector").is_none(), "the <h1> is still there after the App was unmounted");
}

#[wasm_bindgen_test]
fn parse_number_reads_what_rust_reads() {
    let texts = [
        "0",
        "-0",
        "+7",
        "42",
        "3.25",
        "1.",
        ".5",
        "-.5",
        "+.5e1",
        "1e3",
        "1E-3",
        "2.5e+2",
        "007",
        "0.1",
        "0.30000000000000004",
        "1e400",
        "-1e400",
        "1e-400",
        "123456789012345678901234567890",
        "9007199254740993",
        "2.2250738585072011e-308",
        "inf",
        "-Infinity",
        "INF",
        "+infinity",
        "NaN",
        "-nan",
        "",
        ".",
        "-",
        "+",
        "e5",
        "1e",
        "1e+",
        "1.2.3",
        "1,5",
        " 1",
        "1 ",
        "0x10",
        "1_000",
        "--1",
        "+-1",
        "infinit",
        "Infinityx",
        "5%",
        "١",
    ];
    for t in texts {
        let want = t.parse::<f64>().ok();
        let got = format::parse_number(t);
        assert_eq!(got.map(f64::to_bits), want.map(f64::to_bits), "{t:?}: {got:?}, Rust reads {want:?}");
    }
}

// --- challenges ------------------------------------------------------------------------------

/// The page grades a challenge with the engine's code, so it must give `bplab check`'s
/// digests: the same two values are pinned natively in `tests/it/teach.rs`
/// (`BUFFERS_DIGESTS`). The challenge is `content/challenges/buffers.toml`, built here as
/// data (the page fetches the file; the test has no TOML parser).
#[wasm_bindgen_test]
fn a_challenge_gives_the_cli_digest_in_the_browser() {
    use bplab_engine::challenge::{Challenge, GoalSpec};
    let c = Challenge {
        title: "Buffers: stop hiding the mismatch".into(),
        story: "(story)".into(),
        link: "v=1&preset=buffer-bloat".into(),
        free: vec!["stages.0.capacity".into(), "stages.0.link.on_full".into()],
        duration_s: 60.0,
        goals: ["producer_oom_kills == 0", "lost == 0", "latency_p99_s <= 1 s"].iter().map(|g| GoalSpec::Text(g.to_string())).collect(),
        hints: vec![],
    };
    let task = c.validate().expect("a valid challenge");
    let start = task.check(&task.start).expect("runs");
    assert!(!start.pass);
    assert_eq!(start.digest, "dac7dfb15eeef5ff");
    let solved = task.check_link("?v=1&preset=buffer-bloat&stages.0.capacity=100").expect("a good link");
    assert!(solved.pass);
    assert_eq!(solved.digest, "eccb0b95d844c009");
}
