//! Entry point of the page that Trunk builds: mounts the app on `<body>`.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(bplab_app::App);
}
