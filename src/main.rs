//! Entry point of the page that Trunk builds: mounts the app on `<body>`. In a debug build
//! (`trunk serve`) a panic's message goes to the browser console; the release build aborts
//! at once (`-Cpanic=immediate-abort`, scripts/trunk-release.sh), so it has no hook to run.

fn main() {
    #[cfg(debug_assertions)]
    std::panic::set_hook(Box::new(|info| leptos::logging::error!("{info}")));
    leptos::mount::mount_to_body(bplab_app::App);
}
