//! Entry point of the page that Trunk builds: mounts the app on `<body>`. A panic's message
//! goes to the browser console (the release build then aborts).

fn main() {
    std::panic::set_hook(Box::new(|info| leptos::logging::error!("{info}")));
    leptos::mount::mount_to_body(bplab_app::App);
}
