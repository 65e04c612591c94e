//! The page's layering, checked from its sources (test only). Modules use only modules of
//! their own layer or of the layers before them, and no module uses, however indirectly, a
//! module that uses it: no import circles in `src/`, at the level of files.
//!
//! A use is any path through `crate::`, through `super::` or into a child module (`name::`
//! where `name` is a child of the file's module), outside comments and `#[cfg(test)]`
//! modules. Run with `cargo test -p backpressure-lab --lib layering`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level modules by layer, lowest first.
const LAYERS: &[&[&str]] = &[
    // Pure Rust, tested natively.
    &["format", "html", "theme", "stats", "pacing", "plotdata", "knobs", "narrate", "driver", "lanes"],
    // The browser: DOM helpers, the canvas pen.
    &["dom", "canvas", "content"],
    // Drawing from plain data.
    &["charts", "diagram", "sequence"],
    // The state and its actions.
    &["state"],
    // Views.
    &["controls", "readouts", "observe", "stage", "compare", "address", "exports", "embed", "teach"],
    // The shell.
    &["app"],
];

/// Every `.rs` file under `dir` with its module path (`diagram::flow`; `""` for lib.rs).
fn modules(dir: &Path, prefix: &str, out: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let module = if prefix.is_empty() { name.clone() } else { format!("{prefix}::{name}") };
        if path.is_dir() {
            modules(&path, &module, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let module = match name.as_str() {
                "lib" | "main" if prefix.is_empty() => continue,
                "mod" => prefix.to_string(),
                _ => module,
            };
            out.insert(module, std::fs::read_to_string(&path).unwrap());
        }
    }
}

/// The code of a file without comments and test modules.
fn code(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") && lines.peek().is_some_and(|n| n.trim_start().starts_with("mod ")) {
            if lines.peek().is_some_and(|n| n.trim_end().ends_with(';')) {
                lines.next();
                continue;
            }
            // Skips the module: up to the line that closes it at its own indentation.
            let indent = line.len() - t.len();
            for l in lines.by_ref() {
                if l.len() - l.trim_start().len() == indent && l.trim_start().starts_with('}') {
                    break;
                }
            }
            continue;
        }
        if t.starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Identifiers following each occurrence of `prefix` in `code` (not preceded by a path or
/// an identifier character), with `{a, b::c}` groups opened.
fn after(code: &str, prefix: &str) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut from = 0;
    while let Some(k) = code[from..].find(prefix) {
        let at = from + k;
        from = at + prefix.len();
        if at > 0 && (ident(bytes[at - 1]) || bytes[at - 1] == b':') {
            continue;
        }
        let rest = &code[from..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                found.push(name);
            }
        } else {
            found.push(rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':').collect());
        }
    }
    found
}

/// The longest module in `known` that `path` (`a::b::Item`) names, if any.
fn resolve(path: &str, known: &BTreeMap<String, String>) -> Option<String> {
    let parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
    (1..=parts.len()).rev().map(|n| parts[..n].join("::")).find(|m| known.contains_key(m))
}

fn parent(module: &str) -> &str {
    module.rfind("::").map_or("", |i| &module[..i])
}

/// Module → the modules it uses.
fn uses(known: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = BTreeMap::new();
    for (module, text) in known {
        let code = code(text);
        let mut to = BTreeSet::new();
        for path in after(&code, "crate::") {
            to.extend(resolve(&path, known));
        }
        let up = parent(module);
        for path in after(&code, "super::") {
            let full = if up.is_empty() { path } else { format!("{up}::{path}") };
            // `super::Item` is a use of the parent itself.
            to.insert(resolve(&full, known).unwrap_or_else(|| up.to_string()));
        }
        // Paths into child modules: `flow::tally`, `use layout::Rect`.
        for child in known.keys().filter(|k| parent(k) == module && !module.is_empty()) {
            let name = &child[module.len() + 2..];
            if !after(&code, &format!("{name}::")).is_empty() {
                to.insert(child.clone());
            }
        }
        to.remove(module);
        to.remove("");
        graph.insert(module.clone(), to);
    }
    graph
}

fn layer(module: &str) -> usize {
    let top = module.split("::").next().unwrap();
    LAYERS.iter().position(|l| l.contains(&top)).unwrap_or_else(|| panic!("module {top} has no layer in LAYERS"))
}

fn page() -> BTreeMap<String, BTreeSet<String>> {
    let mut known = BTreeMap::new();
    modules(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), "", &mut known);
    uses(&known)
}

#[test]
fn modules_use_only_their_own_layer_and_those_before_it() {
    let mut wrong = Vec::new();
    for (from, to) in page() {
        for t in to {
            if layer(&t) > layer(&from) {
                wrong.push(format!("{from} uses {t}"));
            }
        }
    }
    assert!(wrong.is_empty(), "uses against the layering: {wrong:?}");
}

#[test]
fn there_are_no_import_circles() {
    let graph = page();
    // Depth-first search; a module met again while on the path closes a circle.
    fn visit(m: &str, graph: &BTreeMap<String, BTreeSet<String>>, path: &mut Vec<String>, done: &mut BTreeSet<String>) {
        if done.contains(m) {
            return;
        }
        if let Some(k) = path.iter().position(|p| p == m) {
            panic!("import circle: {} -> {m}", path[k..].join(" -> "));
        }
        path.push(m.to_string());
        for t in graph.get(m).into_iter().flatten() {
            visit(t, graph, path, done);
        }
        path.pop();
        done.insert(m.to_string());
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        visit(m, &graph, &mut Vec::new(), &mut done);
    }
    assert!(graph.len() > 20, "too few modules found: {:?}", graph.keys());
}

#[test]
fn the_checker_sees_uses_and_circles() {
    let mut known = BTreeMap::new();
    known.insert("a".to_string(), "use crate::b::Thing;\n// crate::c in a comment\n".to_string());
    known.insert("b".to_string(), "use crate::{c, d::x::Y};\nfn f() { inner::g() }\n".to_string());
    known.insert("b::inner".to_string(), "use super::Thing;\n#[cfg(test)]\nmod tests {\n    use crate::a;\n}\n".to_string());
    known.insert("c".to_string(), String::new());
    known.insert("d".to_string(), String::new());
    let g = uses(&known);
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(g["a"], set(&["b"]));
    assert_eq!(g["b"], set(&["c", "d", "b::inner"]));
    assert_eq!(g["b::inner"], set(&["b"]));
}
