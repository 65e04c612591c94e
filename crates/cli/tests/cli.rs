//! The `bplab` command-line contract: what users script against.

use std::process::{Command, Output};

fn bplab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bplab")).args(args).output().expect("bplab runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn presets_prints_one_id_a_line() {
    let o = bplab(&["presets"]);
    assert!(o.status.success());
    let ids: Vec<String> = stdout(&o).lines().map(str::to_string).collect();
    for id in ["incident-106", "incident-106-5k", "fix-sync-poll", "fix-blocking-channel"] {
        assert!(ids.iter().any(|l| l == id), "{id} missing from {ids:?}");
    }
}

#[test]
fn run_json_has_the_summary_fields_and_series() {
    let o = bplab(&["run", "--preset", "incident-106", "--duration", "60", "--seed", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let s = &doc["summary"];
    for key in [
        "produced",
        "consumed",
        "lost",
        "duplicated",
        "oom_kills",
        "first_oom_s",
        "max_heap_bytes",
        "max_in_flight",
        "max_lag",
        "latency_p50_s",
        "latency_p99_s",
        "producer_blocked_s",
        "throughput_msgs_per_s",
    ] {
        assert!(s.get(key).is_some(), "summary lacks {key}: {s}");
    }
    let first = s["first_oom_s"].as_f64().unwrap();
    assert!((first - 48.29).abs() < 0.5, "{first}");
    assert!(s["lost"].as_u64().unwrap() > 0);
    let series = &doc["series"];
    let t = series["t_s"].as_array().unwrap();
    assert_eq!(t.len(), 601, "a point every 0.1 s from 0 to 60 s");
    assert_eq!(series["produced"].as_array().unwrap().len(), t.len());
    assert_eq!(series["partition_lag"][0].as_array().unwrap().len(), 10);
}

#[test]
fn no_oom_is_null_not_zero() {
    let o = bplab(&["run", "--preset", "fix-sync-poll", "--duration", "30"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(doc["summary"]["first_oom_s"].is_null());
}

#[test]
fn run_csv_is_a_table_with_a_header() {
    let o = bplab(&["run", "--preset", "fix-blocking-channel", "--duration", "10", "--format", "csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[0], "t_s");
    assert!(header.contains(&"producer_blocked_s") && header.contains(&"in_flight"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 101);
    assert!(rows.iter().all(|r| r.len() == header.len()));
    let blocked = header.iter().position(|h| *h == "producer_blocked_s").unwrap();
    let last: f64 = rows.last().unwrap()[blocked].parse().unwrap();
    assert!(last > 9.0, "the producer is blocked most of the 10 s: {last}");
}

/// CSV and JSON carry the same series: the same columns (JSON's nested `partition_lag` and
/// `stage_depth` are CSV's `lag_pN` and `stageN_depth` columns) and the same values.
#[test]
fn csv_and_json_have_the_same_columns_and_values() {
    // A channel and a topic: both per-partition and per-stage columns are present.
    let args = ["run", "--preset", "incident-106", "--duration", "5", "--seed", "9"];
    let json = bplab(&args);
    let csv = bplab(&[&args[..], &["--format", "csv"]].concat());
    assert!(json.status.success() && csv.status.success(), "{}{}", stderr(&json), stderr(&csv));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    let series = doc["series"].as_object().unwrap();
    let text = stdout(&csv);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let partitions = series["partition_lag"][0].as_array().unwrap().len();
    let stages = series["stage_depth"][0].as_array().unwrap().len();
    assert!(partitions > 0 && stages > 0, "the scenario has a topic and stages");

    let mut expected: Vec<String> =
        series.keys().filter(|k| !["partition_lag", "stage_depth", "interval_s"].contains(&k.as_str())).cloned().collect();
    expected.extend((0..partitions).map(|p| format!("lag_p{p}")));
    expected.extend((0..stages).map(|k| format!("stage{k}_depth")));
    let mut got: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "CSV header vs JSON series keys");

    let cell = |v: &serde_json::Value| if v.is_null() { String::new() } else { v.to_string() };
    assert_eq!(rows.len(), series["t_s"].as_array().unwrap().len());
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), header.len());
        for (h, value) in header.iter().zip(row) {
            let want = if let Some(p) = h.strip_prefix("lag_p") {
                cell(&series["partition_lag"][i][p.parse::<usize>().unwrap()])
            } else if let Some(k) = h.strip_prefix("stage").and_then(|r| r.strip_suffix("_depth")) {
                cell(&series["stage_depth"][i][k.parse::<usize>().unwrap()])
            } else {
                cell(&series[*h][i])
            };
            assert_eq!(*value, want, "row {i}, column {h}");
        }
    }
}

#[test]
fn bad_input_is_one_clear_line_and_a_failure() {
    for (args, needle) in [
        (vec!["run", "--preset", "nope"], "unknown preset 'nope'"),
        (vec!["run", "--preset", "incident-106", "--format", "xml"], "invalid value 'xml'"),
        (vec!["run", "--preset", "incident-106", "--bogus"], "unexpected argument '--bogus'"),
        (vec!["run", "--preset", "incident-106", "--duration", "-5"], "duration_s: must be a number from"),
        (
            vec!["run", "--preset", "incident-106", "--set", "consumer.workers=0"],
            "consumer.workers: must be a whole number from 1 to 10000",
        ),
        (vec!["run", "--preset", "incident-106", "--set", "consumer.nope=1"], "--set consumer.nope: no such field"),
        (vec!["frobnicate"], "unrecognized subcommand 'frobnicate'"),
        (
            vec!["run", "--link", "?preset=incident-106&consumer.workers=0"],
            "link: consumer.workers: must be a whole number from 1 to 10000",
        ),
        (vec!["run", "--link", "https://x.org/?preset=nope&seed=2"], "link: preset: no preset \"nope\""),
        (vec!["run", "--link", "?preset=credits&bogus=1&t=x"], "link: t: must be a number"),
        (vec!["run", "--link", "?preset=credits", "--preset", "credits"], "cannot be used with"),
        (vec!["link", "--preset", "credits", "--set", "consumer.nope=1"], "--set consumer.nope: no such field"),
        (vec!["run"], "the following required arguments were not provided: <SCENARIO_FILE> or --preset ID"),
        (vec!["run", "--preset", "incident-106", "--seed", "-1"], "seed: must be a whole number from 0 to 18446744073709551615"),
        (vec!["run", "--preset", "incident-106", "--seed", "1.5"], "seed: must be a whole number from 0 to 18446744073709551615"),
    ] {
        let o = bplab(&args);
        assert!(!o.status.success(), "{args:?} should fail");
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{args:?}: one line expected, got {err:?}");
        assert!(err.contains(needle), "{args:?}: {err:?} lacks {needle:?}");
        assert!(stdout(&o).is_empty());
    }
}

#[test]
fn a_link_runs_as_its_preset_and_changes_do() {
    let o = bplab(&[
        "link",
        "--preset",
        "incident-106",
        "--set",
        "consumer.mode=sync",
        "--set",
        "seed=7",
        "--base",
        "https://docs.example/lab/",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let link = stdout(&o);
    assert_eq!(link, "https://docs.example/lab/?v=1&preset=incident-106&consumer.mode=sync&seed=7\n");
    for format in ["json", "csv", "ledger-csv"] {
        let by_link = bplab(&["run", "--link", link.trim(), "--duration", "20", "--format", format]);
        let by_set = bplab(&[
            "run",
            "--preset",
            "incident-106",
            "--set",
            "consumer.mode=sync",
            "--seed",
            "7",
            "--duration",
            "20",
            "--format",
            format,
        ]);
        assert!(by_link.status.success(), "{}", stderr(&by_link));
        assert_eq!(stdout(&by_link), stdout(&by_set), "{format}");
    }
}

#[test]
fn a_scenario_file_links_from_its_closest_preset() {
    let dir = std::env::temp_dir().join(format!("bplab-link-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let shown = stdout(&bplab(&["show", "--preset", "fix-blocking-channel", "--format", "json"]));
    let file = dir.join("mine.json");
    std::fs::write(&file, shown.replace("\"workers\": 1", "\"workers\": 3")).unwrap();
    let o = bplab(&["link", file.to_str().unwrap()]);
    assert_eq!(stdout(&o), "?v=1&preset=fix-blocking-channel&consumer.workers=3\n", "{}", stderr(&o));
    let direct = bplab(&["run", file.to_str().unwrap(), "--duration", "5"]);
    let linked = bplab(&["run", "--link", stdout(&o).trim(), "--duration", "5"]);
    assert_eq!(stdout(&direct), stdout(&linked));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_experiment_file_runs_as_its_link_and_a_bad_one_is_refused_whole() {
    let dir = std::env::temp_dir().join(format!("bplab-expfile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let set = ["--set", "consumer.mode=sync", "--set", "seed=7", "--set", "producer.throttle={\"kind\":\"aimd\"}"];
    let o = bplab(&[&["link", "--preset", "incident-106", "--format", "file"][..], &set].concat());
    let text = stdout(&o);
    assert!(text.starts_with("{\n  \"v\": 1,\n  \"preset\": \"incident-106\",\n"), "{text}{}", stderr(&o));
    let file = dir.join("mine.json");
    std::fs::write(&file, &text).unwrap();
    let link = stdout(&bplab(&[&["link", "--preset", "incident-106"][..], &set].concat()));
    let direct = bplab(&["run", file.to_str().unwrap(), "--duration", "5"]);
    assert_eq!(stdout(&direct), stdout(&bplab(&["run", "--link", link.trim(), "--duration", "5"])), "{}", stderr(&direct));
    // A whole scenario file converts; it reads back as the same run.
    let whole = dir.join("whole.json");
    std::fs::write(
        &whole,
        stdout(&bplab(&["show", "--preset", "credits", "--format", "json"])).replace("\"workers\": 1", "\"workers\": 3"),
    )
    .unwrap();
    std::fs::write(&file, stdout(&bplab(&["link", whole.to_str().unwrap(), "--format", "file"]))).unwrap();
    assert_eq!(
        stdout(&bplab(&["run", file.to_str().unwrap(), "--duration", "5"])),
        stdout(&bplab(&["run", whole.to_str().unwrap(), "--duration", "5"]))
    );
    // Every problem named, with nothing said of what a link would have used instead.
    std::fs::write(&file, r#"{"preset": "credits", "consumer.workers": 0, "bogus": 1}"#).unwrap();
    let o = bplab(&["run", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("was not run: bogus: unknown parameter; consumer.workers: must be a whole number from 1"), "{err}");
    assert!(!err.contains("kept") && !err.contains("ignored") && err.lines().count() == 1, "{err}");
    for bad in ["[1, 2]", "{\"preset\":", "{\"consumer.mode\": \"sync\"}"] {
        std::fs::write(&file, bad).unwrap();
        let o = bplab(&["run", file.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", stdout(&o));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn set_and_scenario_files_change_the_run() {
    let o = bplab(&["run", "--preset", "incident-106", "--duration", "60", "--set", "consumer.mode=sync"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["summary"]["oom_kills"], 0);

    let shown = bplab(&["show", "--preset", "fix-blocking-channel"]);
    assert!(shown.status.success());
    let dir = std::env::temp_dir().join(format!("bplab-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("scenario.toml");
    std::fs::write(&path, stdout(&shown).replace("capacity = 100", "capacity = 5")).unwrap();
    let o = bplab(&["run", path.to_str().unwrap(), "--duration", "5"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(doc["summary"]["channel_depth"].as_u64().unwrap() <= 5);

    std::fs::write(&path, "[producer]\nrate = 5\n").unwrap();
    let o = bplab(&["run", path.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("unknown field `rate`"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).ok();
}

/// The same scenario read from TOML and from JSON runs to the same bytes: both parsers read
/// every float exactly (JSON through serde_json's float_roundtrip).
#[test]
fn toml_and_json_files_of_every_preset_give_the_same_run() {
    let dir = std::env::temp_dir().join(format!("bplab-cli-formats-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ids = stdout(&bplab(&["presets"]));
    for id in ids.lines() {
        let mut outputs = Vec::new();
        for ext in ["toml", "json"] {
            let shown = bplab(&["show", "--preset", id, "--format", ext]);
            assert!(shown.status.success(), "{id}: {}", stderr(&shown));
            let path = dir.join(format!("{id}.{ext}"));
            std::fs::write(&path, stdout(&shown)).unwrap();
            let o = bplab(&["run", path.to_str().unwrap(), "--duration", "5"]);
            assert!(o.status.success(), "{id}.{ext}: {}", stderr(&o));
            outputs.push(stdout(&o));
        }
        let direct = bplab(&["run", "--preset", id, "--duration", "5"]);
        assert!(outputs[0] == outputs[1], "{id}: the TOML and JSON files run differently");
        assert!(outputs[0] == stdout(&direct), "{id}: the file runs differently from the preset");
    }
    // A rate with 17 significant digits, which a fast float parser reads one unit in the last
    // place off.
    let mut outputs = Vec::new();
    for (ext, from, to) in [
        ("toml", "rate_per_s = 10000.0", "rate_per_s = 29.006199278386454"),
        ("json", "\"rate_per_s\": 10000.0", "\"rate_per_s\": 29.006199278386454"),
    ] {
        let shown = stdout(&bplab(&["show", "--preset", "incident-106", "--format", ext]));
        assert!(shown.contains(from), "{ext}: {shown}");
        let path = dir.join(format!("awkward.{ext}"));
        std::fs::write(&path, shown.replacen(from, to, 1)).unwrap();
        let o = bplab(&["run", path.to_str().unwrap(), "--duration", "600", "--seed", "3"]);
        assert!(o.status.success(), "awkward.{ext}: {}", stderr(&o));
        outputs.push(stdout(&o));
    }
    assert!(outputs[0] == outputs[1], "29.006199278386454 msg/s runs differently from TOML and from JSON");
    std::fs::remove_dir_all(&dir).ok();
}

/// Where every message is, from the output alone: `summary.ledger` in JSON, and
/// `--format ledger-csv` (one row a sample), both adding up to `generated` after kills and
/// rebalances.
#[test]
fn the_ledger_is_exported_and_adds_up_in_json_and_csv() {
    let places = ["producer_pending", "in_channels", "in_topic", "in_cache", "in_flight", "processed", "dropped", "lost"];
    let o = bplab(&["run", "--preset", "consumer-group", "--duration", "100"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let s = &doc["summary"];
    assert!(s["oom_kills"].as_u64().unwrap() > 0 && s["rebalances"].as_u64().unwrap() > 0, "{s}");
    let l = &s["ledger"];
    let total: u64 = places.iter().map(|k| l[k].as_u64().unwrap_or_else(|| panic!("ledger.{k} missing: {l}"))).sum();
    assert_eq!(l["generated"].as_u64().unwrap(), total, "{l}");

    let o = bplab(&["run", "--preset", "consumer-group", "--duration", "100", "--format", "ledger-csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[0], "t_s");
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name}: {header:?}"));
    let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(str::to_string).collect()).collect();
    assert_eq!(rows.len(), 1001, "a row every 100 ms from 0 to 100 s");
    for row in &rows {
        let v = |name: &str| row[col(name)].parse::<u64>().unwrap();
        let total: u64 = places.iter().map(|k| v(k)).sum();
        assert_eq!(v("generated"), total, "row {row:?}");
    }
    let last = rows.last().unwrap();
    assert_eq!(last[0], "100.0");
    for k in places {
        assert_eq!(last[col(k)].parse::<u64>().unwrap(), l[k].as_u64().unwrap(), "{k}: the last row is the summary's ledger");
    }
}

/// The producer's OOM kills in the output: the summary's figures, and the ledger's
/// `lost_producer_oom` column, which is all of `lost` in `buffer-bloat` and adds up at every row.
#[test]
fn producer_oom_kills_are_in_the_summary_and_the_ledger() {
    let o = bplab(&["run", "--preset", "buffer-bloat", "--duration", "60"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let s = &doc["summary"];
    assert_eq!(s["producer_oom_kills"], 1, "{s}");
    let first = s["first_producer_oom_s"].as_f64().unwrap();
    assert!((first - 48.29).abs() < 0.01, "{first}");
    assert!(s["max_producer_heap_bytes"].as_u64().unwrap() > 512 << 20);
    assert_eq!(s["lost_by_cause"]["producer_oom"], s["lost"]);
    assert_eq!(s["ledger"]["lost_producer_oom"], s["lost"]);
    let heap = doc["series"]["producer_heap_bytes"].as_array().unwrap();
    assert_eq!(heap[0], 64 << 20, "an empty producer is its baseline");

    let o = bplab(&["run", "--preset", "buffer-bloat", "--duration", "60", "--format", "ledger-csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name}: {header:?}"));
    let rows: Vec<Vec<u64>> = lines.map(|l| l.split(',').skip(1).map(|v| v.parse().unwrap()).collect()).collect();
    let v = |row: &Vec<u64>, name: &str| row[col(name) - 1];
    let last = rows.last().unwrap();
    assert_eq!(v(last, "lost_producer_oom"), v(last, "lost"));
    assert!(v(last, "lost") > 450_000);
    assert!(rows.iter().all(|r| v(r, "lost_producer_oom") <= v(r, "lost")));
}

/// Errors inside objects tagged with `kind` (stages, flow control, sheds, patterns, service
/// times, throttles, limiters) name the innermost field by its dotted path, and the line it
/// is on; TOML's `nan` and `inf` still reach validation, which names the field and range.
#[test]
fn errors_inside_tagged_objects_name_the_innermost_field_and_its_line() {
    let credit = "kind = \"channel\"\nlink = {control = {kind = \"credit\", initial = 10, grant = GRANT, batch = 1, latency_ms = 1.0}}";
    let cases: Vec<(&str, String, &str, &str)> = vec![
        // (file, text, expected field, text on the expected line)
        ("grant.toml", format!("duration_s = 10.0\n\n[[stages]]\nkind = \"channel\"\n\n[[stages]]\n{}\n", credit.replace("GRANT", "\"12\"")), "stages.1.link.control.grant", "grant = \"12\""),
        ("bogus.toml", "[[stages]]\nkind = \"channel\"\n[stages.link.control]\nkind = \"credit\"\ninitial = 10\ngrant = 1\nbatch = 1\nlatency_ms = 1.0\nbogus_key = 3\n".into(), "stages.0.link.control.bogus_key", "bogus_key = 3"),
        ("limiter.toml", "[consumer]\nworkers = 4\n\n[consumer.limiter]\nkind = \"aimd\"\nmin_limit = 99999999999\n".into(), "consumer.limiter.min_limit", "min_limit = 99999999999"),
        ("pattern.toml", "[producer.pattern]\nkind = \"on_off\"\non_s = \"x\"\noff_s = 1.0\n".into(), "producer.pattern.on_s", "on_s = \"x\""),
        ("before-kind.toml", "[producer]\npattern = {on_s = \"x\", kind = \"on_off\", off_s = 1.0}\n".into(), "producer.pattern.on_s", "on_s = \"x\""),
        ("before-kind-unknown.toml", "[producer.pattern]\nwhat = 1\nkind = \"flat\"\n".into(), "producer.pattern.what", "what = 1"),
        ("shed.toml", "[consumer]\nshed = {kind = \"red\", min_queue = 1, max_queue = -5, max_p = 0.1, weight = 0.1}\n".into(), "consumer.shed.max_queue", "max_queue = -5"),
        ("service.toml", "[consumer.service]\nkind = \"lognormal\"\nsigma = \"wide\"\n".into(), "consumer.service.sigma", "sigma = \"wide\""),
        ("throttle.toml", "[producer.throttle]\nkind = \"pid\"\ntarget_lag = true\n".into(), "producer.throttle.target_lag", "target_lag = true"),
        ("topic.toml", "[[stages]]\nkind = \"topic\"\npartitions = 99999999999\n".into(), "stages.0.partitions", "partitions = 99999999999"),
        ("variant.toml", "[[stages]]\nkind = \"bogus\"\n".into(), "stages.0.kind", "kind = \"bogus\""),
        ("deep.toml", format!("duration_s = 10.0\nproducer = {{pattern = {}{}}}\n", "[".repeat(200), "]".repeat(200)), "producer.pattern", "producer = "),
        // Validation sees nan and inf inside tagged objects, before the tag too.
        ("nan.toml", "[[stages]]\nkind = \"channel\"\n[stages.link.control]\nlatency_ms = nan\nkind = \"credit\"\ninitial = 10\ngrant = 1\nbatch = 1\n".into(), "stages.0.link.control.latency_ms", ""),
        ("inf.toml", "[producer]\npattern = {on_s = inf, kind = \"on_off\", off_s = 1.0}\n".into(), "producer.pattern.on_s", ""),
        // JSON: the position is serde_json's, at the offending value.
        ("grant.json", "{\"stages\": [{\"kind\": \"channel\", \"link\": {\"control\": {\"kind\": \"credit\",\n \"grant\": \"x\"}}}]}".into(), "stages.0.link.control.grant", "\"grant\": \"x\""),
        ("before-kind.json", "{\"stages\": [{\"capacity\": 5, \"kind\": \"channel\",\n \"link\": {\"control\": {\"grant\": \"x\", \"kind\": \"credit\"}}}]}".into(), "stages.0.link.control.grant", ""),
        ("limiter.json", "{\"consumer\": {\"limiter\": {\"kind\": \"vegas\",\n\"max_limit\": 99999999999}}}".into(), "consumer.limiter.max_limit", "\"max_limit\""),
        ("deep.json", format!("{{\"producer\": {{\"pattern\": {}{}}}}}", "[".repeat(200), "]".repeat(200)), "producer.pattern", ""),
    ];
    let dir = std::env::temp_dir().join(format!("bplab-tagged-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut wrong = Vec::new();
    for (name, text, field, on_line) in &cases {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let o = bplab(&["run", path.to_str().unwrap(), "--duration", "0.01"]);
        let err = stderr(&o);
        let names_field =
            err.contains(&format!(" {field}: ")) && !err.contains(&format!(" {field}.")) || err.contains(&format!("; {field}: "));
        let line_ok = on_line.is_empty() || {
            let line = text.lines().position(|l| l.contains(on_line)).expect("the needle is in the text") + 1;
            if name.ends_with(".json") {
                err.contains(&format!("at line {line} "))
            } else {
                err.contains(&format!("(line {line})"))
            }
        };
        if o.status.success() || !names_field || !line_ok {
            wrong.push(format!("{name}: expected {field} (line with {on_line:?}), got {}", err.trim()));
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(wrong.is_empty(), "{} of {} misnamed:\n{}", wrong.len(), cases.len(), wrong.join("\n"));
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("bplab-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap()
}

const BUFFERS_SOLUTION: &str = "?v=1&preset=buffer-bloat&stages.0.capacity=100";

fn digest_of(text: &str) -> String {
    text.lines().find_map(|l| l.strip_prefix("digest: ")).unwrap().split(' ').next().unwrap().to_string()
}

#[test]
fn check_says_which_goal_failed_by_how_much_and_when() {
    let o = bplab(&["check", "buffers", "--link", "https://example.org/lab/?v=1&preset=buffer-bloat"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("FAIL  producer_oom_kills == 0: 1 at the end; missed by 1; first broke at 48.3 s"), "{out}");
    assert!(out.contains("FAIL  latency_p99_s <= 1 s: 45.4 s at the end; missed by 44.4 s; broke at the end (60 s)"), "{out}");
    assert!(out.contains("verdict: FAIL (3 of 3 goals not met)"), "{out}");
    assert_eq!(digest_of(&out).len(), 16);

    let o = bplab(&["check", "buffers", "--link", BUFFERS_SOLUTION]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("PASS  lost == 0: 0 at the end; margin 0"), "{out}");
    assert!(out.contains("verdict: PASS (all 3 goals met)"), "{out}");
}

#[test]
fn check_gives_the_same_digest_for_a_link_and_for_its_scenario_file() {
    let by_link = stdout(&bplab(&["check", "buffers", "--link", BUFFERS_SOLUTION]));
    let mut doc: serde_json::Value =
        serde_json::from_str(&stdout(&bplab(&["show", "--preset", "buffer-bloat", "--format", "json"]))).unwrap();
    doc["stages"][0]["capacity"] = serde_json::json!(100);
    let dir = scratch("check-file");
    let file = dir.join("solution.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let o = bplab(&["check", "buffers", file.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(digest_of(&stdout(&o)), digest_of(&by_link));
    // The JSON verdict carries the same digest.
    let o = bplab(&["check", "buffers", "--link", BUFFERS_SOLUTION, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["digest"].as_str().unwrap(), digest_of(&by_link));
    assert_eq!(v["pass"], serde_json::json!(true));
    assert_eq!(v["goals"].as_array().unwrap().len(), 3);
}

#[test]
fn check_names_a_locked_knob() {
    let o = bplab(&["check", "buffers", "--link", &format!("{BUFFERS_SOLUTION}&consumer.rate_per_worker=600")]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(out.contains("LOCKED  consumer.rate_per_worker=600: consumer.rate_per_worker is locked"), "{out}");
    assert!(out.contains("verdict: FAIL (1 locked knobs changed, 0 of 3 goals not met)"), "{out}");
}

#[test]
fn check_refuses_bad_input_with_exit_2_naming_it() {
    let o = bplab(&["check", "buffers", "--link", "?v=1&preset=buffer-bloat&stages.0.capacty=100"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).starts_with("bplab: link: stages.0.capacty: "), "{}", stderr(&o));
    let o = bplab(&["check", "no-such-challenge", "--link", BUFFERS_SOLUTION]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("shipped: buffers, blocking-send"), "{}", stderr(&o));

    let dir = scratch("check-bad");
    let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../content/challenges/buffers.toml")).unwrap();
    let bad_goal = shipped.replace("\"lost == 0\"", "\"lsot == 0\"");
    let file = dir.join("bad-goal.toml");
    std::fs::write(&file, &bad_goal).unwrap();
    let o = bplab(&["check", file.to_str().unwrap(), "--link", BUFFERS_SOLUTION]);
    assert_eq!(code(&o), 2);
    let line = bad_goal.lines().position(|l| l.contains("lsot")).unwrap() + 1;
    let err = stderr(&o);
    assert!(err.contains("goals.1: unknown metric \"lsot\"; known: "), "{err}");
    assert!(err.trim_end().ends_with(&format!("(line {line})")), "{err}");

    let bad_type = shipped.replace("duration_s = 60", "duration_s = \"a minute\"");
    std::fs::write(&file, &bad_type).unwrap();
    let o = bplab(&["check", file.to_str().unwrap(), "--link", BUFFERS_SOLUTION]);
    let line = bad_type.lines().position(|l| l.starts_with("duration_s")).unwrap() + 1;
    assert!(stderr(&o).contains(&format!("duration_s: invalid type: string \"a minute\", expected f64 (line {line})")), "{}", stderr(&o));

    let bad_kind = shipped.replace("{ text = \"lost == 0\", explanation = \"An OOM kill loses every message the channel held.\" }", "3");
    assert_ne!(bad_kind, shipped);
    std::fs::write(&file, &bad_kind).unwrap();
    let o = bplab(&["check", file.to_str().unwrap(), "--link", BUFFERS_SOLUTION]);
    assert!(stderr(&o).contains("goals.1: invalid type: integer `3`, expected a goal: a string such as \"lost == 0\""), "{}", stderr(&o));

    let bad_free = shipped.replace("\"stages.0.link.on_full\"", "\"stages.0.on_full\"");
    std::fs::write(&file, &bad_free).unwrap();
    let o = bplab(&["check", file.to_str().unwrap(), "--link", BUFFERS_SOLUTION]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("free.1: \"stages.0.on_full\" is not a field of the starting scenario"), "{}", stderr(&o));
}

#[test]
fn check_grades_a_file_of_links_as_a_table_or_csv() {
    let dir = scratch("check-links");
    let file = dir.join("class.txt");
    let text = format!(
        "# the class of 2026\n\n{BUFFERS_SOLUTION}\n?v=1&preset=buffer-bloat&stages.0.capacity=10000\n?v=1&preset=buffer-bloat&nope=1\n"
    );
    std::fs::write(&file, text).unwrap();
    let o = bplab(&["check", "buffers", "--links", file.to_str().unwrap()]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let out = stdout(&o);
    let rows: Vec<&str> = out.lines().collect();
    assert!(rows[0].starts_with("line  verdict digest"), "{out}");
    assert!(rows[1].starts_with("3     PASS"), "{out}");
    assert!(rows[2].starts_with("4     FAIL") && rows[2].contains("latency_p99_s <= 1 s"), "{out}");
    assert!(rows[3].starts_with("5     BAD") && rows[3].contains("bad link: nope: unknown parameter"), "{out}");
    assert_eq!(rows[4], "1 of 3 passed");

    let o = bplab(&["check", "buffers", "--links", file.to_str().unwrap(), "--format", "csv"]);
    let out = stdout(&o);
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows[0], "line,link,verdict,failed_goals,digest");
    assert!(rows[1].starts_with(&format!("3,{BUFFERS_SOLUTION},PASS,,")), "{out}");
    assert_eq!(rows.len(), 4);
    // A link with a comma is quoted.
    std::fs::write(&file, "?v=1&preset=buffer-bloat&stages.0.link={\"control\":{\"kind\":\"none\"},\"on_full\":\"block\"}\n").unwrap();
    let out = stdout(&bplab(&["check", "buffers", "--links", file.to_str().unwrap(), "--format", "csv"]));
    assert!(out.lines().nth(1).unwrap().starts_with("1,\"?v=1&preset=buffer-bloat&stages.0.link={\"\"control\"\":"), "{out}");
}

#[test]
fn every_challenge_in_the_content_folder_is_shipped() {
    let out = stdout(&bplab(&["challenges"]));
    let mut shipped: Vec<String> = out.lines().map(|l| l.split('\t').next().unwrap().to_string()).collect();
    let mut files: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../content/challenges"))
        .unwrap()
        .map(|e| e.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    shipped.sort();
    files.sort();
    assert_eq!(shipped, files);
    assert!(!out.contains("(invalid"), "{out}");
    // One challenge as JSON, as the page reads it: the same data as the TOML file.
    let o = bplab(&["challenges", "credits", "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["duration_s"], serde_json::json!(60.0));
    assert_eq!(doc["goals"][0], serde_json::json!({ "text": "oom_kills == 0" }));
    assert_eq!(doc["free"][0], "consumer.link.control.initial");
}

#[test]
fn lesson_check_and_show() {
    let lesson = concat!(env!("CARGO_MANIFEST_DIR"), "/../../content/lessons/incident-106.toml");
    let o = bplab(&["lesson", "check", lesson]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("ok: \"Incident 106: backpressure mismatch\""), "{}", stdout(&o));
    let o = bplab(&["lesson", "show", lesson, "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["steps"][0]["prediction"]["kind"], "number");
    assert_eq!(doc["steps"][0]["prediction"]["answer"], "48.3 s");

    let text = std::fs::read_to_string(lesson).unwrap();
    let bad = text.replacen("preset=buffer-bloat&stages.0.capacity=1000000", "preset=buffer-bloat&stages.0.capacity=0", 1);
    let dir = scratch("lesson-bad");
    let file = dir.join("bad.toml");
    std::fs::write(&file, &bad).unwrap();
    let o = bplab(&["lesson", "check", file.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let line = bad.lines().position(|l| l.contains("capacity=0")).unwrap() + 1;
    let err = stderr(&o);
    assert!(err.contains("steps.4.prediction.choices.0.disproved_by: stages.0.capacity: "), "{err}");
    assert!(err.trim_end().ends_with(&format!("(line {line})")), "{err}");
}

#[test]
fn lesson_check_run_holds_the_answers_to_the_engine() {
    let lesson = concat!(env!("CARGO_MANIFEST_DIR"), "/../../content/lessons/buffers.toml");
    let o = bplab(&["lesson", "check", "--run", lesson]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("every claim true of the engine"), "{}", stdout(&o));
    let text = std::fs::read_to_string(lesson).unwrap();
    let bad = text.replacen("answer = \"48.3 s\"", "answer = \"30 s\"", 1);
    assert_ne!(bad, text);
    let file = scratch("lesson-run").join("bad.toml");
    std::fs::write(&file, &bad).unwrap();
    // Without --run the file is well formed.
    assert_eq!(code(&bplab(&["lesson", "check", file.to_str().unwrap()])), 0);
    let o = bplab(&["lesson", "check", "--run", file.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    let line = bad.lines().position(|l| l.contains("answer = \"30 s\"")).unwrap() + 1;
    let err = stderr(&o);
    assert!(err.contains("steps.0.prediction.answer: not what the engine gives: you said 30 s; the run gave 48.3 s"), "{err}");
    assert!(err.contains(&format!("(line {line})")), "{err}");
}

/// Rows of a sweep's CSV, split on commas (the cells tested here hold no commas).
fn csv_rows(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(str::to_string).collect();
    (header, lines.map(|l| l.split(',').map(str::to_string).collect()).collect())
}

/// Every row of a 2-D sweep is exactly what `bplab run` gives for that point's `--set`s: each
/// metric written as the run's summary writes it, and the region from that summary.
#[test]
fn a_sweep_row_is_exactly_a_single_run_of_its_point() {
    let args = [
        "sweep",
        "--preset",
        "incident-106",
        "--vary",
        "producer.rate_per_s=400:20000:3",
        "--vary",
        "consumer.workers=1:6:2:log",
        "--metric",
        "oom,lost,p99,max_heap_bytes,throughput,dropped_pct,blocked%",
        "--duration",
        "30",
    ];
    let o = bplab(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let (header, rows) = csv_rows(&stdout(&o));
    assert_eq!(
        header,
        [
            "producer.rate_per_s",
            "consumer.workers",
            "region",
            "first_oom_s",
            "lost",
            "latency_p99_s",
            "max_heap_bytes",
            "throughput_msgs_per_s",
            "dropped_pct",
            "producer_blocked_pct",
            "error"
        ]
    );
    assert_eq!(rows.len(), 6);
    let regions: Vec<&str> = rows.iter().map(|r| r[2].as_str()).collect();
    assert!(regions.contains(&"oom") && regions.contains(&"stable"), "{regions:?}");
    for row in &rows {
        let run = bplab(&[
            "run",
            "--preset",
            "incident-106",
            "--duration",
            "30",
            "--set",
            &format!("producer.rate_per_s={}", row[0]),
            "--set",
            &format!("consumer.workers={}", row[1]),
        ]);
        assert!(run.status.success(), "{}", stderr(&run));
        let doc: serde_json::Value = serde_json::from_str(&stdout(&run)).unwrap();
        let s = &doc["summary"];
        let text = |v: &serde_json::Value| if v.is_null() { String::new() } else { v.to_string() };
        for (col, field) in [(3, "first_oom_s"), (4, "lost"), (5, "latency_p99_s"), (6, "max_heap_bytes"), (7, "throughput_msgs_per_s")] {
            assert_eq!(row[col], text(&s[field]), "{field} at {row:?}");
        }
        let pct = |a: f64, b: f64| serde_json::Value::from(100.0 * a / b).to_string();
        assert_eq!(row[8], pct(s["dropped"].as_f64().unwrap(), s["produced"].as_f64().unwrap()));
        assert_eq!(row[9], pct(s["producer_blocked_s"].as_f64().unwrap(), s["t_s"].as_f64().unwrap()));
        let oom = s["oom_kills"].as_u64().unwrap() > 0;
        assert_eq!(row[2] == "oom", oom, "{row:?}");
    }
}

/// The output does not depend on the number of threads.
#[test]
fn a_sweep_is_the_same_on_any_number_of_threads() {
    let run = |threads: &str| {
        let o = bplab(&[
            "sweep",
            "--preset",
            "drop-newest",
            "--vary",
            "producer.rate_per_s=500:5000:5:log",
            "--metric",
            "dropped%,p99,lost",
            "--duration",
            "10",
            "--threads",
            threads,
            "--format",
            "json",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    assert_eq!(one, run("5"));
    let doc: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert_eq!(doc["points"].as_array().unwrap().len(), 5);
    assert_eq!(doc["points"][0]["region"], "stable", "500 msg/s fits a 500 msg/s consumer's buffer: {}", doc["points"][0]);
    assert_eq!(doc["points"][4]["region"], "shedding");
    // drop-newest is a D/D/1 overload above 500 msg/s: theory's dropped share beside the run's.
    let last = &doc["points"][4];
    let (measured, theory) = (last["metrics"]["dropped_pct"].as_f64().unwrap(), last["theory"]["dropped_pct"].as_f64().unwrap());
    assert_eq!(theory, 90.0, "{last}");
    // Less what fills the channel of 1,000 first (1,000 of the 50,000 sent: 2 points), and the
    // few in service or in the last tick.
    assert!(measured <= theory && theory - measured <= 2.1, "{last}");
    assert!(doc["points"][0].get("theory").is_none(), "500 msg/s is not an overload: {}", doc["points"][0]);
    // The sweep is a link, and the link runs the same sweep.
    let link = doc["link"].as_str().unwrap();
    assert!(link.contains("vary=producer.rate_per_s:500:5000:5:log"), "{link}");
    let again = bplab(&["sweep", "--link", link, "--format", "json"]);
    assert_eq!(stdout(&again), one, "{}", stderr(&again));
}

#[test]
fn a_sweep_names_what_is_wrong() {
    for (args, needle) in [
        (vec!["sweep", "--preset", "incident-106", "--vary", "consumer.mode=1:2:2"], "consumer.mode: not a number field"),
        (vec!["sweep", "--preset", "incident-106", "--vary", "consumer.workers=1:2"], "expected FROM:TO:STEPS"),
        (vec!["sweep", "--preset", "incident-106", "--vary", "consumer.workers=1:2:2", "--metric", "speed"], "unknown metric \"speed\""),
        (vec!["sweep", "--preset", "incident-106"], "a sweep varies one or two fields (got 0)"),
    ] {
        let o = bplab(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
    // A point that does not validate is a row naming its field; the others run.
    let o = bplab(&["sweep", "--preset", "incident-106", "--vary", "consumer.workers=0:1:2", "--duration", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (_, rows) = csv_rows(&stdout(&o));
    assert_eq!(rows[0][1], "invalid");
    assert!(rows[0].last().unwrap().contains("consumer.workers: must be a whole number from 1"), "{:?}", rows[0]);
    assert_eq!(rows[1][1], "lagging", "one worker at 500 msg/s behind 10,000 msg/s: {:?}", rows[1]);
}

/// `bplab diff` names `consumer.mode` as the change that stops incident-106's OOM kill.
#[test]
fn diff_names_the_change_that_flips_the_oom() {
    let o = bplab(&["diff", "?v=1&preset=incident-106", "https://example.org/lab/?v=1&preset=fix-sync-poll", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let d: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(d["changes"][0], serde_json::json!({"path": "consumer.mode", "value": "sync"}));
    assert_eq!(d["verdict_a"]["oom"], true);
    assert_eq!(d["verdict_b"]["oom"], false);
    let oom = d["mattered"].as_array().unwrap().iter().find(|m| m["outcome"] == "oom").unwrap();
    assert_eq!(oom["flips_alone"], serde_json::json!([0]));
    let text = bplab(&["diff", "incident-106", "preset=fix-sync-poll"]);
    let text = stdout(&text);
    assert!(text.contains("what mattered for oom: consumer.mode=sync alone prevents the OOM kill"), "{text}");
    assert!(text.contains("the series part at t = "), "{text}");
    let bad = bplab(&["diff", "preset=incident-106&consumer.workers=0", "incident-106"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("consumer.workers"), "{}", stderr(&bad));
}

/// "Which strategies survive at which rates": one sweep over several presets, side by side,
/// each preset's rows those of its own sweep.
#[test]
fn one_sweep_over_several_presets() {
    let args = ["--vary", "producer.rate_per_s=500:2000:2", "--metric", "dropped%,lost,blocked%", "--duration", "10"];
    let both = bplab(&[&["sweep", "--preset", "drop-newest", "--preset", "fix-blocking-channel"][..], &args].concat());
    assert!(both.status.success(), "{}", stderr(&both));
    let (header, rows) = csv_rows(&stdout(&both));
    assert_eq!(header[..3], ["preset", "producer.rate_per_s", "region"]);
    assert_eq!(rows.len(), 4);
    for (k, id) in ["drop-newest", "fix-blocking-channel"].iter().enumerate() {
        let alone = bplab(&[&["sweep", "--preset", id][..], &args].concat());
        let (_, own) = csv_rows(&stdout(&alone));
        for (i, row) in own.iter().enumerate() {
            assert_eq!(rows[2 * k + i][0], *id);
            assert_eq!(rows[2 * k + i][1..], row[..], "{id}");
        }
    }
    assert_eq!((rows[1][2].as_str(), rows[3][2].as_str()), ("shedding", "blocking"), "{rows:?}");
}

/// `bplab theory` puts the incident's time to OOM beside the run's.
#[test]
fn theory_puts_the_prediction_beside_the_run() {
    let o = bplab(&["theory", "--preset", "incident-106", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(t["shape"], "dd1_overload");
    let oom = t["rows"].as_array().unwrap().iter().find(|r| r["name"] == "time to OOM, s").unwrap();
    let (p, m, pm) = (oom["predicted"].as_f64().unwrap(), oom["measured"].as_f64().unwrap(), oom["plus_minus"].as_f64().unwrap());
    assert!((p - m).abs() <= pm && (p - 48.29).abs() < 0.01, "{oom}");
    let short = bplab(&["theory", "--preset", "incident-106", "--duration", "20"]);
    assert!(stdout(&short).contains("run too short to compare"), "{}", stdout(&short));
}
