//! Tidiness checks that keep the code base honest: module docs, the architecture map and
//! the engine's purity.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["src", "crates/engine/src", "crates/cli/src"] {
        rust_files(&root().join(dir), &mut files);
    }
    files.sort();
    files
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap().to_string_lossy().replace('\\', "/")
}

#[test]
fn every_module_says_what_it_is_for() {
    for f in sources() {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(text.starts_with("//!"), "{} must start with a //! module doc", rel(&f));
    }
}

#[test]
fn the_architecture_code_map_names_every_source_file() {
    let map = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md exists");
    for f in sources() {
        let name = rel(&f);
        assert!(map.contains(&format!("`{name}`")), "ARCHITECTURE.md's code map lacks `{name}`");
    }
}

#[test]
fn the_engine_has_no_io_no_clock_and_no_web() {
    let manifest = std::fs::read_to_string(root().join("crates/engine/Cargo.toml")).unwrap();
    for web in ["leptos", "web-sys", "wasm-bindgen", "js-sys", "gloo"] {
        assert!(!manifest.contains(web), "the engine must not depend on {web}");
    }
    let mut files = Vec::new();
    rust_files(&root().join("crates/engine/src"), &mut files);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for banned in ["std::fs", "std::net", "std::io", "Instant", "SystemTime", "println!", "eprintln!", "thread_rng"] {
            assert!(!text.contains(banned), "{} uses {banned}", rel(&f));
        }
    }
}
