//! Browser tests of the page's components, run in headless Chromium by
//! `cargo test --target wasm32-unknown-unknown -p backpressure-lab`
//! (`.cargo/config.toml` makes wasm-bindgen-test-runner the runner; scripts/test.sh runs it).
//!
//! Each test mounts a component into its own fresh `<div>` on `<body>` and asserts on the DOM
//! it produces. Files in `tests/` are compiled for the host too, hence the cfg guard.
#![cfg(target_arch = "wasm32")]

use bplab_app::App;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Document, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> Document {
    web_sys::window()
        .expect("a window")
        .document()
        .expect("a document")
}

/// A new empty `<div>` appended to `<body>`, to mount one component into.
fn container() -> HtmlElement {
    let doc = document();
    let div = doc.create_element("div").expect("create <div>");
    doc.body()
        .expect("a <body>")
        .append_child(&div)
        .expect("append <div> to <body>");
    div.unchecked_into()
}

#[wasm_bindgen_test]
fn app_renders_its_heading() {
    let root = container();
    let _mounted = leptos::mount::mount_to(root.clone(), App);

    let h1 = root
        .query_selector("h1")
        .expect("valid selector")
        .expect("App renders an <h1>");
    assert_eq!(h1.text_content().as_deref(), Some("Backpressure Lab"));
}

#[wasm_bindgen_test]
fn unmounting_app_removes_its_nodes() {
    let root = container();
    let mounted = leptos::mount::mount_to(root.clone(), App);
    assert!(
        root.child_element_count() > 0,
        "App put no element into its container"
    );

    drop(mounted);
    assert!(
        root.query_selector("h1").expect("valid selector").is_none(),
        "the <h1> is still there after the App was unmounted"
    );
}
