//! Teaching content held to the engine: every shipped challenge (`content/challenges`)
//! parses and validates, fails from its starting link naming the goals it is about, and
//! passes with a known solution; locked knobs fail a solution that would pass otherwise;
//! every lesson (`content/lessons`) validates, every numeric prediction's answer is what
//! the engine gives, and every wrong answer's disproving link shows what it claims; every
//! preset has its explanation in `content/presets.json` and every knob its help in
//! `content/knobs.json`, and nothing else is there.

use bplab_engine::challenge::{Challenge, Task};
use bplab_engine::lesson::{Lesson, Prediction};
use std::path::PathBuf;

fn dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("content").join(name)
}

fn files(name: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir(name))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    out.sort();
    out
}

/// A preset's explanation, as the page fetches it from `content/presets.json`.
pub fn preset_explanation(id: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("content/presets.json");
    let all: std::collections::BTreeMap<String, String> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    all.get(id).unwrap_or_else(|| panic!("content/presets.json has no {id}")).clone()
}

#[test]
fn every_preset_and_only_presets_have_an_explanation() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("content/presets.json");
    let all: std::collections::BTreeMap<String, String> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for p in bplab_engine::PRESETS {
        assert!(preset_explanation(p.id).len() > 150, "{} needs a real explanation", p.id);
    }
    let ids: Vec<&str> = bplab_engine::PRESETS.iter().map(|p| p.id).collect();
    for id in all.keys() {
        assert!(ids.contains(&id.as_str()), "content/presets.json explains {id}, which is no preset");
    }
}

#[test]
fn every_knob_and_only_knobs_have_help() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("content/knobs.json");
    let all: std::collections::BTreeMap<String, String> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let ids: Vec<&str> = bplab_app::knobs::FIELDS.iter().map(|f| f.id()).collect();
    for id in &ids {
        assert!(all.get(*id).is_some_and(|h| h.len() > 10), "content/knobs.json needs help for the knob {id}");
    }
    for id in all.keys() {
        assert!(ids.contains(&id.as_str()), "content/knobs.json has help for {id}, which is no knob");
    }
}

fn challenge(id: &str) -> Task {
    let text = std::fs::read_to_string(dir("challenges").join(format!("{id}.toml"))).unwrap();
    let c: Challenge = toml::from_str(&text).unwrap_or_else(|e| panic!("{id}: {e}"));
    c.validate().unwrap_or_else(|e| panic!("{id}: {e}"))
}

/// Each shipped challenge, the goals its start must fail, and a solution that passes.
const SOLVED: &[(&str, &[&str], &str)] = &[
    ("buffers", &["producer_oom_kills == 0", "lost == 0", "latency_p99_s <= 1 s"], "v=1&preset=buffer-bloat&stages.0.capacity=100"),
    ("blocking-send", &["dropped == 0"], "v=1&preset=drop-newest&stages.0.link.on_full=block"),
    (
        "credits",
        &["oom_kills == 0", "heap_bytes <= 100 MiB"],
        "v=1&preset=credits&consumer.link.control.initial=1000&consumer.link.control.grant=500&consumer.link.control.latency_ms=200",
    ),
    ("request-n", &["heap_bytes <= 100 MiB", "latency_p99_s <= 2 s"], "v=1&preset=reactive-request-n&consumer.link.control.prefetch=64"),
    (
        "throttle-from-lag",
        &["lag <= 40k"],
        r#"v=1&preset=fix-sync-poll&producer.throttle={"kind":"aimd","target_lag":10000,"increase_per_s":50,"decrease_factor":0.5,"interval_ms":1000,"min_rate_per_s":1}"#,
    ),
    (
        "load-shedding",
        &["oom_kills == 0", "lost == 0"],
        r#"v=1&preset=incident-106&consumer.shed={"kind":"queue_length","max_queue":5000}"#,
    ),
    (
        "pause-resume",
        &["oom_kills == 0", "lost == 0", "heap_bytes <= 128 MiB"],
        r#"v=1&preset=incident-106&consumer.pause={"high":20000,"low":10000}"#,
    ),
    (
        "consumer-group-scaling",
        &["oom_kills == 0", "lost == 0", "throughput_msgs_per_s >= 3900"],
        "v=1&preset=consumer-group&stages.0.partitions=8&producer.rate_per_s=4000&consumer.members=8",
    ),
];

#[test]
fn every_shipped_challenge_parses_validates_and_has_a_kept_solution() {
    let ids: Vec<String> = files("challenges").into_iter().map(|(id, _)| id).collect();
    let mut solved: Vec<String> = SOLVED.iter().map(|(id, _, _)| id.to_string()).collect();
    solved.sort();
    assert_eq!(ids, solved, "every shipped challenge needs a solution in SOLVED");
    assert!(ids.len() >= 8);
    for (id, text) in files("challenges") {
        let c: Challenge = toml::from_str(&text).unwrap_or_else(|e| panic!("{id}: {e}"));
        c.validate().unwrap_or_else(|e| panic!("{id}: {e}"));
        assert!((2..=4).contains(&c.goals.len()), "{id}: 2 to 4 goals");
        assert!(!c.hints.is_empty() && !c.free.is_empty(), "{id}: hints and free knobs");
    }
}

#[test]
fn each_challenge_fails_from_its_start_and_passes_with_its_solution() {
    for (id, failing, solution) in SOLVED {
        let task = challenge(id);
        let start = task.check(&task.start).unwrap();
        assert!(!start.pass, "{id}: the starting link must fail");
        let failed: Vec<&str> = start.goals.iter().filter(|g| !g.pass).map(|g| g.goal.as_str()).collect();
        for f in *failing {
            assert!(failed.contains(f), "{id}: the start should fail {f}; failed {failed:?}");
        }
        for g in start.goals.iter().filter(|g| !g.pass) {
            assert!(g.measured.is_some() && g.margin.is_some_and(|m| m <= 0.0), "{id}: {g:?}");
        }
        let v = task.check_link(solution).unwrap_or_else(|p| panic!("{id}: {p}"));
        assert!(v.pass, "{id}: the solution must pass: {:?} {:?}", v.locked, v.goals.iter().filter(|g| !g.pass).collect::<Vec<_>>());
        assert_ne!(v.digest, start.digest, "{id}");
    }
}

#[test]
fn a_locked_knob_fails_a_solution_that_meets_every_goal() {
    // Bounding the channel and also changing the consumer's speed: the goals are met, the
    // speed was locked.
    let task = challenge("buffers");
    let v = task.check_link("v=1&preset=buffer-bloat&stages.0.capacity=100&consumer.rate_per_worker=600").unwrap();
    assert!(v.goals.iter().all(|g| g.pass));
    assert!(!v.pass);
    assert_eq!(v.locked.len(), 1);
    assert_eq!(v.locked[0].path, "consumer.rate_per_worker");
    assert!(v.locked[0].reason.contains("only stages.0.capacity, stages.0.link.on_full may change"), "{}", v.locked[0].reason);
}

#[test]
fn more_members_than_partitions_does_not_help() {
    let task = challenge("consumer-group-scaling");
    let v = task.check_link("v=1&preset=consumer-group&stages.0.partitions=3&producer.rate_per_s=4000&consumer.members=6").unwrap();
    assert!(!v.pass);
    assert!(v.goals.iter().any(|g| g.goal == "oom_kills == 0" && !g.pass));
}

#[test]
fn a_too_small_credit_window_starves_the_consumer() {
    let task = challenge("credits");
    let v = task
        .check_link(
            "v=1&preset=credits&consumer.link.control.initial=100&consumer.link.control.grant=50&consumer.link.control.latency_ms=200",
        )
        .unwrap();
    let failed: Vec<&str> = v.goals.iter().filter(|g| !g.pass).map(|g| g.goal.as_str()).collect();
    assert_eq!(failed, ["throughput_msgs_per_s >= 490"]);
}

#[test]
fn a_failed_series_goal_says_when_it_first_broke() {
    let task = challenge("pause-resume");
    let v = task.check(&task.start).unwrap();
    let heap = v.goals.iter().find(|g| g.metric == "heap_bytes").unwrap();
    let t = heap.first_violation_s.unwrap();
    // 64 MiB baseline + 9,500 msg/s × 1 KiB passes 128 MiB after about 6.9 s.
    assert!((6.0..8.0).contains(&t), "{t}");
    let oom = v.goals.iter().find(|g| g.metric == "oom_kills").unwrap();
    assert!((oom.first_violation_s.unwrap() - 48.3).abs() < 0.3, "{oom:?}");
}

#[test]
fn every_lesson_validates_and_its_answers_are_true_of_the_engine() {
    let lessons = files("lessons");
    assert!(lessons.len() >= 6);
    for (id, text) in lessons {
        let lesson: Lesson = toml::from_str(&text).unwrap_or_else(|e| panic!("{id}: {e}"));
        let checked = lesson.validate().unwrap_or_else(|e| panic!("{id}: {e}"));
        // Every numeric answer within its tolerance of the run, every wrong answer's run
        // showing what it claims, every task's start failing it.
        let errors = lesson.verify(&checked);
        assert!(errors.is_empty(), "{id}: {errors:?}");
        let numbers = checked.steps.iter().filter(|c| c.number.is_some()).count();
        let disproofs: usize = checked.steps.iter().map(|c| c.disproofs.len()).sum();
        assert!(numbers + disproofs > 0, "{id} holds nothing to the engine");
        assert!(lesson.steps.iter().all(|s| !matches!(&s.prediction, Some(Prediction::Choice { choices, .. }) if choices.len() < 2)));
        // The JSON the page reads (bplab lesson show) is the same lesson.
        let json = serde_json::to_string(&lesson).unwrap();
        assert_eq!(serde_json::from_str::<Lesson>(&json).unwrap(), lesson, "{id}");
    }
}

/// Each lesson task (lesson id, step index) and a solution that passes it.
const LESSON_TASKS: &[(&str, usize, &str)] = &[
    ("buffers", 4, "v=1&preset=drop-newest&stages.0.link.on_full=block"),
    ("credits-and-request-n", 3, "v=1&preset=reactive-request-n&consumer.link.control.prefetch=64"),
    (
        "feedback-loops",
        3,
        r#"v=1&preset=concurrency-unbounded&consumer.limiter={"initial_limit":20,"kind":"vegas","max_concurrency":1000,"probe_multiplier":30,"smoothing":1.0}"#,
    ),
    ("incident-106", 4, "v=1&preset=buffer-bloat&stages.0.capacity=100"),
    ("incident-106", 6, r#"v=1&preset=incident-106&consumer.pause={"high":20000,"low":10000}"#),
    ("kafka-semantics", 1, "v=1&preset=rebalance-storm&consumer.max_poll_records=50"),
    ("load-shedding", 3, r#"v=1&preset=incident-106&consumer.shed={"kind":"queue_length","max_queue":5000}"#),
];

#[test]
fn every_lesson_task_has_a_kept_solution_that_passes() {
    let mut tasks = Vec::new();
    for (id, text) in files("lessons") {
        let lesson: Lesson = toml::from_str(&text).unwrap();
        let checked = lesson.validate().unwrap();
        for (i, c) in checked.steps.into_iter().enumerate() {
            if let Some(t) = c.task {
                tasks.push((id.clone(), i, t));
            }
        }
    }
    let listed: Vec<(String, usize)> = LESSON_TASKS.iter().map(|(id, i, _)| (id.to_string(), *i)).collect();
    let found: Vec<(String, usize)> = tasks.iter().map(|(id, i, _)| (id.clone(), *i)).collect();
    assert_eq!(found, listed, "every lesson task needs a solution in LESSON_TASKS");
    for ((id, i, task), (_, _, solution)) in tasks.iter().zip(LESSON_TASKS) {
        let v = task.check_link(solution).unwrap_or_else(|p| panic!("{id} step {i}: {p}"));
        assert!(v.pass, "{id} step {i}: {:?} {:?}", v.locked, v.goals.iter().filter(|g| !g.pass).collect::<Vec<_>>());
    }
}

/// The run digests of the `buffers` challenge's start and solution, pinned: `tests/web.rs`
/// computes the same two in the browser (wasm32) and compares with the same values, so the
/// page and `bplab check` agree (`scripts/test.sh` runs both).
pub const BUFFERS_DIGESTS: (&str, &str) = ("dac7dfb15eeef5ff", "eccb0b95d844c009");

#[test]
fn the_run_digest_is_pinned() {
    let task = challenge("buffers");
    assert_eq!(task.check(&task.start).unwrap().digest, BUFFERS_DIGESTS.0);
    assert_eq!(task.check_link(SOLVED[0].2).unwrap().digest, BUFFERS_DIGESTS.1);
}

#[test]
fn docs_challenges_md_names_every_metric() {
    let doc = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/challenges.md")).unwrap();
    let missing: Vec<String> = bplab_engine::goal::metric_names().into_iter().filter(|n| !doc.contains(&format!("`{n}`"))).collect();
    assert!(missing.is_empty(), "docs/challenges.md does not name: {missing:?}");
    for g in bplab_engine::goal::GAUGES {
        assert!(doc.contains(&format!("`{g}`")), "{g}");
    }
}
