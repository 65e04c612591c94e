//! Backpressure Lab's page (Leptos, client-side rendered).

use leptos::prelude::*;

#[component]
pub fn App() -> impl IntoView {
    view! { <h1>"Backpressure Lab"</h1> }
}
