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

/// The engine's modules, taken whole (`sim/group/poll.rs` is `sim`), use one another
/// without circles: validation, specs, run-time components, the simulation, then what is
/// made of finished runs (`export`; `sweep`, then `diff` and `theory`; `goal`,
/// `challenge`, `lesson`: teaching).
#[test]
fn the_engine_has_no_import_circles() {
    use std::collections::{BTreeMap, BTreeSet};
    let src = root().join("crates/engine/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut uses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let first = f.strip_prefix(&src).unwrap().components().next().unwrap().as_os_str().to_string_lossy().into_owned();
        let module = first.trim_end_matches(".rs").to_string();
        let text = std::fs::read_to_string(f).unwrap();
        let entry = uses.entry(module.clone()).or_default();
        // Code only: doc comments may link anywhere.
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (i, _) in line.match_indices("crate::") {
                let used: String = line[i + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if !used.is_empty() && used != module {
                    entry.insert(used);
                }
            }
        }
    }
    uses.remove("lib");
    // Depth-first search for a cycle, reporting the first one found.
    fn visit(m: &str, uses: &BTreeMap<String, BTreeSet<String>>, path: &mut Vec<String>, done: &mut BTreeSet<String>) {
        if done.contains(m) {
            return;
        }
        if let Some(at) = path.iter().position(|p| p == m) {
            panic!("import circle in the engine: {} -> {m}", path[at..].join(" -> "));
        }
        path.push(m.to_string());
        for next in uses.get(m).into_iter().flatten() {
            visit(next, uses, path, done);
        }
        path.pop();
        done.insert(m.to_string());
    }
    let mut done = BTreeSet::new();
    for m in uses.keys() {
        visit(m, &uses, &mut Vec::new(), &mut done);
    }
    assert!(uses["validate"].is_empty(), "validate.rs is a leaf: {:?}", uses["validate"]);
    assert_eq!(uses["scenario"], BTreeSet::from(["validate".to_string()]), "specs use validation only");
    // Above the simulation: what is made of finished runs. `export` writes one run out;
    // `sweep`, `diff` and `theory` run and read runs (in that order of use: a diff reads
    // regions as a sweep does).
    let above = ["export", "sweep", "diff", "theory"];
    assert!(
        uses.iter().all(|(m, u)| m == "sim" || above.contains(&m.as_str()) || m == "challenge" || !u.contains("sim")),
        "only the simulation's own modules, the modules of finished runs above it and the challenges (which run it) use it"
    );
    assert!(uses.iter().all(|(_, u)| !u.contains("export")), "nothing in the engine uses its exports");
    for (m, u) in &uses {
        for top in ["sweep", "diff", "theory"] {
            assert!(!u.contains(top) || above.contains(&m.as_str()), "{m} uses {top}, which sits above the simulation");
        }
    }
    assert!(!uses.get("sweep").is_some_and(|u| u.contains("diff") || u.contains("theory")), "sweep sits below diff and theory");
    // Teaching sits on top: goals read a finished run's summary and series; challenges run
    // the simulation and grade it with goals; lessons use both. Nothing below uses them.
    let teaching = ["goal", "challenge", "lesson"];
    for (m, u) in &uses {
        if !teaching.contains(&m.as_str()) {
            assert!(teaching.iter().all(|t| !u.contains(*t)), "{m} uses a teaching module: {u:?}");
        }
    }
    assert!(!uses["goal"].contains("sim") && !uses["lesson"].contains("sim"), "goals and lessons read runs, they do not run them");
}

/// Every field name and every `kind` a scenario can hold, from scenarios that together use
/// every variant.
fn scenario_vocabulary() -> std::collections::BTreeSet<String> {
    use bplab_engine::{Pattern, Scenario, ThrottleSpec, PRESETS};
    let mut docs: Vec<serde_json::Value> = PRESETS.iter().map(|p| serde_json::to_value(p.scenario()).unwrap()).collect();
    let patterns = [
        r#"{"kind":"on_off","on_s":1,"off_s":2}"#,
        r#"{"kind":"ramp","duration_s":10,"from_factor":1,"to_factor":2}"#,
        r#"{"kind":"step","at_s":5,"after_factor":2}"#,
        r#"{"kind":"sine","period_s":60,"amplitude":0.5}"#,
    ];
    for p in patterns {
        let mut s = Scenario::default();
        s.producer.pattern = serde_json::from_str::<Pattern>(p).unwrap();
        s.producer.throttle = Some(ThrottleSpec::pid());
        docs.push(serde_json::to_value(s).unwrap());
    }
    let mut words = std::collections::BTreeSet::new();
    fn walk(v: &serde_json::Value, words: &mut std::collections::BTreeSet<String>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    words.insert(k.clone());
                    if k == "kind" || k == "mode" || k == "commit" || k == "ordering" || k == "on_full" || k == "arrivals" {
                        if let Some(s) = v.as_str() {
                            words.insert(s.to_string());
                        }
                    }
                    walk(v, words);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, words)),
            _ => {}
        }
    }
    docs.iter().for_each(|d| walk(d, &mut words));
    words
}

#[test]
fn docs_scenario_md_covers_every_field_and_kind() {
    let doc = std::fs::read_to_string(root().join("docs/scenario.md")).expect("docs/scenario.md exists");
    let missing: Vec<String> =
        scenario_vocabulary().into_iter().filter(|w| !doc.contains(&format!("`{w}`")) && !doc.contains(&format!("\"{w}\""))).collect();
    assert!(missing.is_empty(), "docs/scenario.md does not document: {missing:?}");
}
