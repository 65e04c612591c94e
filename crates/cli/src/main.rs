//! `bplab`: headless runs of the Backpressure Lab engine, for scripts and for checking
//! what the page shows. A thin shell: it parses arguments, builds a scenario, runs it to
//! the end and prints the summary and series; it grades solutions to challenges (`check`)
//! and checks lesson files (`lesson`). Errors are one line on stderr, exit code 2.

use bplab_engine::challenge::{Challenge, Task, Verdict};
use bplab_engine::experiment::{self, ViewState};
use bplab_engine::export;
use bplab_engine::goal;
use bplab_engine::lesson::Lesson;
use bplab_engine::sweep;
use bplab_engine::{preset, Scenario, Simulation, PRESETS};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "bplab", version, about = "Backpressure Lab: run flow-control scenarios headless")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the preset ids, one a line.
    Presets,
    /// Print a scenario as TOML or JSON (a starting point for your own scenario file).
    Show {
        #[arg(long, value_name = "ID")]
        preset: String,
        #[arg(long, value_enum, default_value_t = ShowFormat::Toml)]
        format: ShowFormat,
    },
    /// Run a scenario to the end and print its summary and time series.
    Run {
        #[command(flatten)]
        source: Source,
        #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_seed)]
        seed: Option<u64>,
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
    /// Print the page link of a scenario: its preset plus the changes, as docs/links.md
    /// describes. A file is written against the preset it is closest to (or --preset's).
    Link {
        /// A scenario file (.toml or .json, or an experiment file: docs/links.md); or use --preset.
        #[arg(value_name = "SCENARIO_FILE", required_unless_present = "preset")]
        file: Option<String>,
        /// The preset the link starts from.
        #[arg(long, value_name = "ID")]
        preset: Option<String>,
        /// Change one field, by its dotted path, as for 'run'.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
        /// The page's address, prepended to the query (default: the query alone, '?v=1&...').
        #[arg(long, value_name = "URL")]
        base: Option<String>,
        /// `link`, or `file`: the same experiment as an experiment file (JSON), which the
        /// page opens and every command taking a scenario file runs.
        #[arg(long, value_enum, default_value_t = LinkFormat::Link)]
        format: LinkFormat,
    },
    /// Grade a solution to a challenge: each goal PASS or FAIL with the value measured, the
    /// margin and when it first broke, then the verdict and the run digest. Exit 0 pass, 1
    /// fail, 2 bad input.
    Check {
        /// A challenge file (.toml) or the id of a shipped one (see 'bplab challenges').
        #[arg(value_name = "CHALLENGE")]
        challenge: String,
        /// The solution as a scenario file (.toml, .json or an experiment file); or use --link or --links.
        #[arg(value_name = "SCENARIO_FILE", conflicts_with_all = ["link", "links"], required_unless_present_any = ["link", "links"])]
        file: Option<String>,
        /// The solution as a page link (the whole URL or its query).
        #[arg(long, value_name = "URL", conflicts_with = "links")]
        link: Option<String>,
        /// Grade a file of links, one a line (blank lines and # comments skipped), as a table.
        #[arg(long, value_name = "FILE")]
        links: Option<String>,
        #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
        format: CheckFormat,
    },
    /// Print the ids of the shipped challenges, one a line, with their titles; or one
    /// challenge (a shipped id or a file), validated, as JSON for the page.
    Challenges {
        #[arg(value_name = "CHALLENGE")]
        challenge: Option<String>,
        #[arg(long, value_enum, default_value_t = LessonFormat::Json)]
        format: LessonFormat,
    },
    /// Lesson files: check one, or print it as JSON for the page.
    Lesson {
        #[command(subcommand)]
        action: LessonAction,
    },
    /// Run a scenario over a grid of one or two fields and print a metric table (docs/sweeps.md).
    Sweep {
        /// A scenario file (.toml, .json or an experiment file); or use --preset or --link (a sweep link's
        /// `vary` and `metric` are used too).
        #[arg(value_name = "SCENARIO_FILE", conflicts_with_all = ["preset", "link"], required_unless_present_any = ["preset", "link"])]
        file: Option<String>,
        /// A preset; give several to run the same sweep on each, side by side.
        #[arg(long, value_name = "ID", conflicts_with = "link")]
        preset: Vec<String>,
        #[arg(long, value_name = "URL")]
        link: Option<String>,
        /// Change one field of the base scenario, as for 'run'.
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
        /// A field to vary: --vary producer.rate_per_s=1000:20000:20:log (once or twice).
        #[arg(long = "vary", value_name = "PATH=FROM:TO:STEPS[:log]")]
        vary: Vec<String>,
        /// What to read from each point: a summary field or an alias (p99, oom, lost,
        /// dropped%, heap, throughput, blocked%); several, or comma-separated.
        #[arg(long = "metric", value_name = "NAME", num_args = 1.., value_delimiter = ',')]
        metric: Vec<String>,
        /// Simulated seconds each point runs (default: the scenario's duration_s).
        #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
        duration: Option<f64>,
        /// Threads (default: every core).
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
        #[arg(long, value_enum, default_value_t = SweepFormat::Csv)]
        format: SweepFormat,
        /// Print the points per second and simulated seconds per second on stderr.
        #[arg(long)]
        timing: bool,
    },
    /// Compare two experiments: the parameters that differ, the summaries side by side, where
    /// the series part, and which change flips the outcome (docs/sweeps.md).
    Diff {
        /// A page link (or its query), or a preset id.
        #[arg(value_name = "LINK_A")]
        a: String,
        #[arg(value_name = "LINK_B")]
        b: String,
        /// Also judge "meets a p99 latency of this many seconds".
        #[arg(long, value_name = "SECONDS")]
        p99: Option<f64>,
        #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
        format: DiffFormat,
    },
    /// Run a scenario and print what queueing theory predicts beside what the run measured
    /// (utilisation, Little's law, and the closed forms of its classic shape, if any).
    Theory {
        #[command(flatten)]
        source: Source,
        #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
        format: DiffFormat,
    },
    /// Time a standard workload and print wall time, rate and peak memory (one line).
    Bench {
        #[arg(value_enum)]
        workload: Workload,
        /// Repetitions; the best is reported.
        #[arg(long, default_value_t = 3)]
        repeat: u32,
    },
}

#[derive(Subcommand)]
enum LessonAction {
    /// Validate a lesson file and decode every link in it; errors name the step and field.
    Check {
        #[arg(value_name = "FILE")]
        file: String,
        /// Also run every step and hold the lesson's claims to the engine: each numeric
        /// answer, each wrong answer's disproving run (its `shows`), each task's start.
        #[arg(long)]
        run: bool,
    },
    /// Print a lesson file as JSON (what the page loads).
    Show {
        #[arg(value_name = "FILE")]
        file: String,
        #[arg(long, value_enum, default_value_t = LessonFormat::Json)]
        format: LessonFormat,
    },
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum LinkFormat {
    /// The page's link (its query, after --base).
    Link,
    /// An experiment file: the link's keys and values as a JSON object.
    File,
}

#[derive(Clone, Copy, ValueEnum)]
enum LessonFormat {
    Json,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum CheckFormat {
    /// Goals and verdict for people (a table for --links).
    Text,
    /// One row a link (with --links): line, link, verdict, failed goals, digest.
    Csv,
    /// The verdict as JSON (one solution), as the page computes it.
    Json,
}

/// The shipped challenges (`content/challenges/*.toml`), by id: built in, so that
/// `bplab check ID` works from anywhere (a test checks the list against the folder).
pub const SHIPPED: &[(&str, &str)] = &[
    ("buffers", include_str!("../../../content/challenges/buffers.toml")),
    ("blocking-send", include_str!("../../../content/challenges/blocking-send.toml")),
    ("credits", include_str!("../../../content/challenges/credits.toml")),
    ("request-n", include_str!("../../../content/challenges/request-n.toml")),
    ("throttle-from-lag", include_str!("../../../content/challenges/throttle-from-lag.toml")),
    ("load-shedding", include_str!("../../../content/challenges/load-shedding.toml")),
    ("pause-resume", include_str!("../../../content/challenges/pause-resume.toml")),
    ("consumer-group-scaling", include_str!("../../../content/challenges/consumer-group-scaling.toml")),
];

/// Where `run` and `theory` take their scenario from, and the changes made to it.
#[derive(Args)]
struct Source {
    /// A scenario file (.toml or .json, or an experiment file: docs/links.md); or use --preset or --link.
    #[arg(value_name = "SCENARIO_FILE", conflicts_with_all = ["preset", "link"], required_unless_present_any = ["preset", "link"])]
    file: Option<String>,
    #[arg(long, value_name = "ID", conflicts_with = "link")]
    preset: Option<String>,
    /// A page link (the whole URL or its query): its preset and changes; a link with a
    /// problem is refused, naming the parameter.
    #[arg(long, value_name = "URL")]
    link: Option<String>,
    /// Change one field, by its dotted path: --set consumer.mode=sync --set stages.0.capacity=100
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Simulated seconds to run (default: the scenario's duration_s).
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    duration: Option<f64>,
}

impl Source {
    /// The scenario: the file, preset or link, with each `--set` and the duration applied.
    fn scenario(&self) -> Result<Scenario, String> {
        let mut scenario = match (&self.file, &self.preset, &self.link) {
            (Some(path), _, _) => load(path)?,
            (None, Some(id), _) => find_preset(id)?,
            (None, None, Some(link)) => from_link(link)?,
            (None, None, None) => return Err("give a scenario file, --preset ID or --link URL".into()),
        };
        for assignment in &self.set {
            scenario = apply_set(&scenario, assignment)?;
        }
        if let Some(d) = self.duration {
            scenario.duration_s = d;
        }
        Ok(scenario)
    }
}

/// Standard workloads for `bplab bench`.
#[derive(Clone, Copy, ValueEnum)]
enum Workload {
    /// M/M/1 at ρ = 0.9, 10^6 customers, exact (resolution 0).
    Mm1,
    /// incident-106 for one simulated hour (36 million messages).
    IncidentHour,
    /// Retention sweeping records a slow consumer still holds (10^6 msg/s into a topic with
    /// 200 ms retention, 2 KiB fetches, one worker at 10^4 msg/s, 30 s): the sweep's cost.
    RetentionHeld,
}

#[derive(Clone, Copy, ValueEnum)]
enum ShowFormat {
    Toml,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum DiffFormat {
    /// A readable report.
    Text,
    /// Everything, as data.
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum SweepFormat {
    /// One row a point: the axes, the region, the metrics (empty for null), the error.
    Csv,
    /// The plan (axes, values, notes, link) and every point.
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// The summary (with its ledger) and the series.
    Json,
    /// The series, one row a point.
    Csv,
    /// The ledger (where every message is, adding up to `generated`), one row a sample.
    LedgerCsv,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let mut text = first_paragraph(&e.render().to_string());
            if e.kind() == clap::error::ErrorKind::MissingRequiredArgument && text.ends_with("<SCENARIO_FILE>") {
                if std::env::args().nth(1).as_deref() == Some("check") {
                    text.push_str(" or --link URL or --links FILE");
                } else {
                    text.push_str(" or --preset ID (see 'bplab presets') or --link URL");
                }
            }
            return fail(&format!("{text} (try 'bplab --help')"));
        }
    };
    if let Command::Check { challenge, file, link, links, format } = cli.command {
        return check(&challenge, file, link, links, format);
    }
    match run(cli) {
        Ok(out) => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (bplab ... | head) is not an error worth reporting.
            let _ = stdout.write_all(out.as_bytes());
            ExitCode::SUCCESS
        }
        Err(msg) => fail(&msg),
    }
}

/// Clap's message up to its first blank line, as one line: "the following required
/// arguments were not provided: <SCENARIO_FILE|--preset <ID>>", not just its first line.
fn first_paragraph(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim).take_while(|l| !l.is_empty()).collect();
    let joined = lines.join(" ");
    let joined = joined.strip_prefix("error: ").unwrap_or(&joined);
    if joined.is_empty() {
        "bad arguments".to_string()
    } else {
        joined.to_string()
    }
}

/// `--seed`: any whole number a u64 holds; anything else names the range.
fn parse_seed(raw: &str) -> Result<u64, String> {
    raw.trim().parse::<u64>().map_err(|_| format!("seed: must be a whole number from 0 to {}", u64::MAX))
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("bplab: {msg}");
    ExitCode::from(2)
}

fn run(cli: Cli) -> Result<String, String> {
    match cli.command {
        Command::Presets => Ok(PRESETS.iter().map(|p| format!("{}\n", p.id)).collect()),
        Command::Check { .. } => unreachable!("handled in main"),
        Command::Challenges { challenge: Some(arg), format: LessonFormat::Json } => {
            let (c, _) = load_challenge(&arg)?;
            Ok(serde_json::to_string_pretty(&c).expect("plain data serializes") + "\n")
        }
        Command::Challenges { challenge: None, .. } => Ok(SHIPPED
            .iter()
            .map(|(id, text)| {
                let title = parse_doc::<Challenge>(text).map(|c| c.title).unwrap_or_else(|e| format!("(invalid: {e})"));
                format!("{id}\t{title}\n")
            })
            .collect()),
        Command::Lesson { action: LessonAction::Check { file, run } } => {
            let lesson = load_lesson(&file)?;
            if run {
                let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {file}: {e}"))?;
                let checked = lesson.validate().map_err(|e| format!("{file}: {e}"))?;
                let errors = lesson.verify(&checked);
                if !errors.is_empty() {
                    return Err(format!("{file}: {}", first_error(&text, &bplab_engine::ScenarioError { errors })));
                }
            }
            let links = lesson.links().len();
            let predictions = lesson.steps.iter().filter(|s| s.prediction.is_some()).count();
            let tasks = lesson.steps.iter().filter(|s| s.task.is_some()).count();
            Ok(format!(
                "{file}: ok: \"{}\", {} steps, {links} links decoded, {predictions} predictions, {tasks} tasks{}\n",
                lesson.title,
                lesson.steps.len(),
                if run { ", every claim true of the engine" } else { "" }
            ))
        }
        Command::Lesson { action: LessonAction::Show { file, format: LessonFormat::Json } } => {
            let lesson = load_lesson(&file)?;
            Ok(serde_json::to_string_pretty(&lesson).expect("plain data serializes") + "\n")
        }
        Command::Bench { workload, repeat } => Ok(bench(workload, repeat.max(1))),
        Command::Theory { source, format } => {
            let scenario = source.scenario()?;
            let mut sim = Simulation::new(&scenario).map_err(|e| format!("invalid scenario: {e}"))?;
            sim.run_to_end();
            let t = bplab_engine::theory::theory(&sim);
            Ok(match format {
                DiffFormat::Json => serde_json::to_string_pretty(&t).expect("plain data serializes") + "\n",
                DiffFormat::Text => {
                    let shape = t.shape.map_or("no classic shape", |s| s.name());
                    let mut out = format!("{shape}, {} simulated s\n", experiment::number(sim.now_s()));
                    let num = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.6}"));
                    for r in &t.rows {
                        out.push_str(&format!(
                            "{}: predicted {}, measured {}, ± {}\n    {}\n",
                            r.name,
                            num(r.predicted),
                            num(r.measured),
                            num(r.plus_minus),
                            r.note
                        ));
                    }
                    out
                }
            })
        }
        Command::Diff { a, b, p99, format } => {
            let (sa, sb) = (link_or_preset(&a)?, link_or_preset(&b)?);
            let d = bplab_engine::diff::diff(&sa, &sb, p99).map_err(|p| format!("diff: {p}"))?;
            Ok(match format {
                DiffFormat::Json => serde_json::to_string_pretty(&d).expect("plain data serializes") + "\n",
                DiffFormat::Text => diff_text(&d),
            })
        }
        Command::Sweep { file, preset: ids, link, set, vary, metric, duration, threads, format, timing } => {
            let (specs, from_link) = match (file, ids.is_empty(), link) {
                (Some(path), _, _) => (vec![sweep::spec_for(load(&path)?, None, Vec::new(), Vec::new())], false),
                (None, false, _) => {
                    let specs = ids.iter().map(|id| Ok(sweep::spec_for(find_preset(id)?, Some(id), Vec::new(), Vec::new())));
                    (specs.collect::<Result<Vec<_>, String>>()?, false)
                }
                (None, true, Some(link)) => {
                    let (spec, problems) = sweep::decode(&link);
                    if let Some(p) = problems.first() {
                        return Err(format!("link: {p}"));
                    }
                    (vec![spec], true)
                }
                (None, true, None) => return Err("give a scenario file, --preset ID or --link URL".into()),
            };
            let axes = vary
                .iter()
                .map(|v| {
                    let (path, range) = v.split_once('=').ok_or_else(|| format!("--vary {v}: expected PATH=FROM:TO:STEPS[:log]"))?;
                    sweep::Axis::parse(path, range).map_err(|p| format!("--vary {p}"))
                })
                .collect::<Result<Vec<_>, String>>()?;
            let mut metrics = Vec::new();
            for m in &metric {
                let m = sweep::metric_name(m).map_err(|p| format!("--metric: {}", p.message))?;
                if !metrics.contains(&m) {
                    metrics.push(m);
                }
            }
            let mut plans = Vec::new();
            for mut spec in specs {
                for assignment in &set {
                    spec.base = apply_set(&spec.base, assignment)?;
                }
                if let Some(d) = duration {
                    spec.base.duration_s = d;
                }
                if !axes.is_empty() {
                    spec.axes = axes.clone();
                }
                if !metrics.is_empty() {
                    spec.metrics = metrics.clone();
                } else if !from_link {
                    spec.metrics = sweep::DEFAULT_METRICS.iter().map(|m| m.to_string()).collect();
                }
                let several = if ids.len() > 1 { format!(" ({})", spec.preset) } else { String::new() };
                plans.push(sweep::Sweep::new(spec).map_err(|p| format!("sweep{several}: {p}"))?);
            }
            let threads = threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
            let started = std::time::Instant::now();
            let results = run_sweeps(&plans, threads);
            if timing {
                let wall = started.elapsed().as_secs_f64();
                let points: usize = results.iter().map(Vec::len).sum();
                let sim_s: f64 = results.iter().flatten().filter_map(|r| r.outcome.as_ref().ok()).map(|o| o.summary.t_s).sum();
                // CPU time too: on a shared machine it says what the sweep costs, whatever the load.
                let cpu = cpu_seconds()
                    .map_or_else(String::new, |c| format!("; {c:.2} s of CPU: {:.0} simulated s per CPU-second", sim_s / c.max(1e-9)));
                eprintln!(
                    "sweep: {points} points in {wall:.3} s on {threads} threads: {:.1} points/s, {:.0} simulated s/s{cpu}",
                    points as f64 / wall,
                    sim_s / wall
                );
            }
            if plans.len() == 1 {
                return Ok(match format {
                    SweepFormat::Csv => sweep_csv(&plans[0], &results[0]),
                    SweepFormat::Json => sweep_json(&plans[0], &results[0]),
                });
            }
            // Several presets side by side: a `preset` column, or one document each.
            Ok(match format {
                SweepFormat::Csv => {
                    let mut out = String::new();
                    for (k, (plan, rows)) in plans.iter().zip(&results).enumerate() {
                        for (i, line) in sweep_csv(plan, rows).lines().enumerate() {
                            if i == 0 && k > 0 {
                                continue;
                            }
                            let first = if i == 0 { "preset" } else { plan.spec.preset.as_str() };
                            out.push_str(&format!("{first},{line}\n"));
                        }
                    }
                    out
                }
                SweepFormat::Json => {
                    let docs: Vec<serde_json::Value> = plans
                        .iter()
                        .zip(&results)
                        .map(|(plan, rows)| {
                            let mut doc: serde_json::Value = serde_json::from_str(&sweep_json(plan, rows)).expect("our own JSON");
                            doc["preset"] = serde_json::Value::from(plan.spec.preset.clone());
                            doc
                        })
                        .collect();
                    serde_json::to_string_pretty(&serde_json::json!({ "sweeps": docs })).expect("plain data serializes") + "\n"
                }
            })
        }
        Command::Show { preset: id, format } => {
            let s = find_preset(&id)?;
            match format {
                ShowFormat::Toml => toml::to_string(&s).map_err(|e| format!("cannot print scenario: {e}")),
                ShowFormat::Json => Ok(serde_json::to_string_pretty(&s).expect("plain data serializes") + "\n"),
            }
        }
        Command::Link { file, preset: id, set, base, format } => {
            let mut scenario = match (&file, &id) {
                (Some(path), _) => load(path)?,
                (None, Some(id)) => find_preset(id)?,
                (None, None) => return Err("give a scenario file or --preset ID".into()),
            };
            for assignment in &set {
                scenario = apply_set(&scenario, assignment)?;
            }
            scenario.validate().map_err(|e| format!("invalid scenario: {e}"))?;
            let base_id = match id {
                Some(id) => {
                    find_preset(&id)?;
                    id
                }
                None => experiment::closest_preset(&scenario).to_string(),
            };
            let query = experiment::encode(&base_id, &scenario, &ViewState::default());
            // A link is printed only if it reads back as the same scenario.
            let back = experiment::decode(&query);
            if !back.problems.is_empty() || back.experiment.scenario != scenario {
                return Err(format!("the link does not read back as this scenario: {query}"));
            }
            if format == LinkFormat::File {
                let base_scenario = find_preset(&base_id)?;
                let text = experiment::file::write(&base_id, &experiment::changes(&base_scenario, &scenario));
                // So is a file.
                if from_experiment_file("(file)", &text).ok() != Some(scenario) {
                    return Err(format!("the file does not read back as this scenario:\n{text}"));
                }
                return Ok(text);
            }
            Ok(format!("{}?{query}\n", base.unwrap_or_default()))
        }
        Command::Run { source, seed, format } => {
            let mut scenario = source.scenario()?;
            if let Some(s) = seed {
                scenario.seed = s;
            }
            let mut sim = Simulation::new(&scenario).map_err(|e| format!("invalid scenario: {e}"))?;
            if let Format::LedgerCsv = format {
                return Ok(export::ledger_csv(&mut sim));
            }
            sim.run_to_end();
            Ok(match format {
                Format::Json => export::run_json(&sim),
                Format::Csv => export::series_csv(sim.series()),
                Format::LedgerCsv => unreachable!("returned above"),
            })
        }
    }
}

/// Runs every point of the sweeps on `threads` scoped threads, each taking the next point not
/// yet taken (all the sweeps' points in one queue); the results come back per sweep in point
/// order, whatever the number of threads.
fn run_sweeps(plans: &[sweep::Sweep], threads: usize) -> Vec<Vec<sweep::PointResult>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let jobs: Vec<(usize, usize)> = plans.iter().enumerate().flat_map(|(k, p)| (0..p.len()).map(move |i| (k, i))).collect();
    let next = AtomicUsize::new(0);
    let done: Vec<(usize, sweep::PointResult)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.min(jobs.len()).max(1))
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let j = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&(k, i)) = jobs.get(j) else { return mine };
                        mine.push((k, plans[k].run(i)));
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().expect("a sweep thread does not panic")).collect()
    });
    let mut out: Vec<Vec<sweep::PointResult>> = plans.iter().map(|_| Vec::new()).collect();
    for (k, r) in done {
        out[k].push(r);
    }
    for rows in &mut out {
        rows.sort_by_key(|r| r.index);
    }
    out
}

/// A CSV cell: a number as the run's JSON writes it, empty for null, a string quoted when needed.
fn cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) if s.contains([',', '"', '\n']) => format!("\"{}\"", s.replace('"', "\"\"")),
        serde_json::Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

/// One row a point: the axes' values, the region, the metrics, and the error of a point
/// that could not run (its field named).
fn sweep_csv(plan: &sweep::Sweep, results: &[sweep::PointResult]) -> String {
    let mut head: Vec<String> = plan.spec.axes.iter().map(|a| a.path.clone()).collect();
    head.push("region".into());
    head.extend(plan.spec.metrics.iter().cloned());
    head.push("error".into());
    let mut out = head.join(",") + "\n";
    for r in results {
        let mut row: Vec<String> = r.at.iter().map(|x| experiment::number(*x)).collect();
        match &r.outcome {
            Ok(o) => {
                row.push(o.region.name().into());
                row.extend(o.metrics.iter().map(cell));
                row.push(String::new());
            }
            Err(p) => {
                row.push("invalid".into());
                row.extend(plan.spec.metrics.iter().map(|_| String::new()));
                row.push(cell(&serde_json::Value::String(p.to_string())));
            }
        }
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

fn sweep_json(plan: &sweep::Sweep, results: &[sweep::PointResult]) -> String {
    use serde_json::json;
    // Whole numbers as integers, as the link and the CSV write them.
    let num = |x: &f64| serde_json::from_str::<serde_json::Value>(&experiment::number(*x)).expect("a number");
    let axes: Vec<_> = plan
        .spec
        .axes
        .iter()
        .zip(&plan.values)
        .zip(&plan.integer)
        .map(|((a, v), int)| json!({"path": a.path, "from": a.from, "to": a.to, "steps": a.steps, "scale": a.scale, "integer": int, "values": v.iter().map(num).collect::<Vec<_>>()}))
        .collect();
    let points: Vec<_> = results
        .iter()
        .map(|r| {
            let at: Vec<_> = plan.spec.axes.iter().zip(&r.at).map(|(a, x)| (a.path.clone(), num(x))).collect();
            let at: serde_json::Map<_, _> = at.into_iter().collect();
            match &r.outcome {
                Ok(o) => {
                    let m: serde_json::Map<_, _> = plan.spec.metrics.iter().cloned().zip(o.metrics.iter().cloned()).collect();
                    let mut point = json!({"index": r.index, "at": at, "region": o.region, "metrics": m});
                    // The closed form beside the measured value, for metrics whose shape has one.
                    let scenario = plan.scenario(r.index).expect("the point ran");
                    let theory: serde_json::Map<_, _> = plan
                        .spec
                        .metrics
                        .iter()
                        .filter_map(|m| bplab_engine::theory::predict(&scenario, m).map(|x| (m.clone(), json!(x))))
                        .collect();
                    if !theory.is_empty() {
                        point["theory"] = serde_json::Value::Object(theory);
                    }
                    point
                }
                Err(p) => json!({"index": r.index, "at": at, "region": "invalid", "error": {"field": p.key, "message": p.message}}),
            }
        })
        .collect();
    let doc = json!({
        "link": format!("?{}", sweep::encode(&plan.spec)),
        "duration_s": plan.spec.base.duration_s,
        "axes": axes,
        "metrics": plan.spec.metrics,
        "notes": plan.notes,
        "points": points,
    });
    serde_json::to_string_pretty(&doc).expect("plain data serializes") + "\n"
}

/// A link's scenario, or a preset's when given a bare preset id.
fn link_or_preset(arg: &str) -> Result<Scenario, String> {
    if !arg.contains('=') {
        if let Some(s) = preset(arg) {
            return Ok(s);
        }
    }
    from_link(arg)
}

fn diff_text(d: &bplab_engine::diff::Diff) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "parameters that differ (A -> B): {}", d.changes.len());
    for c in &d.changes {
        let _ = writeln!(out, "  {}={}", c.path, c.value);
    }
    let _ = writeln!(out, "\n{:<26} {:>22} {:>22} {:>22}", "metric", "A", "B", "B - A");
    let text = |v: &serde_json::Value| if v.is_null() { "-".to_string() } else { v.to_string() };
    for m in &d.metrics {
        let delta = m.delta.map_or("-".to_string(), experiment::number);
        let _ = writeln!(out, "{:<26} {:>22} {:>22} {:>22}", m.name, text(&m.a), text(&m.b), delta);
    }
    match &d.parting {
        Some(p) => {
            let _ = writeln!(out, "\nthe series part at t = {} s: {}", experiment::number(p.t_s), p.series.join(", "));
        }
        None => {
            let _ = writeln!(out, "\nthe series never part");
        }
    }
    let say = |v: &bplab_engine::diff::Verdict| {
        let mut parts = vec![if v.oom { "OOM" } else { "no OOM" }, if v.losing { "losing" } else { "not losing" }];
        if let Some(m) = v.meets_p99 {
            parts.push(if m { "meets the p99 target" } else { "misses the p99 target" });
        }
        parts.join(", ")
    };
    let _ = writeln!(out, "outcome: A {}; B {}", say(&d.verdict_a), say(&d.verdict_b));
    if d.mattered.is_empty() {
        let _ = writeln!(out, "what mattered: no outcome differs");
    }
    for m in &d.mattered {
        let needed: Vec<String> = m.needed.iter().map(|i| format!("{}={}", d.changes[*i].path, d.changes[*i].value)).collect();
        let needed = if needed.is_empty() { String::new() } else { format!(" (needed: {})", needed.join(", ")) };
        let _ = writeln!(out, "what mattered for {}: {}{needed}", m.outcome, m.sentence);
    }
    out
}

/// The M/M/1 benchmark scenario: λ = 0.9, μ = 1 per second, until about 10^6 customers.
pub fn mm1_scenario() -> Scenario {
    use bplab_engine::{Arrivals, ServiceDist};
    let mut s = Scenario::default();
    s.producer.arrivals = Arrivals::Poisson;
    s.producer.rate_per_s = 0.9;
    s.stages.clear();
    s.consumer.rate_per_worker = 1.0;
    s.consumer.service = ServiceDist::Exponential {};
    s.consumer.memory.bytes_per_message = 0;
    s.sim.resolution_ms = 0.0;
    s.sim.sample_interval_ms = 1_000_000.0;
    s.duration_s = 1_000_000.0 / 0.9;
    s
}

/// The retention benchmark's scenario (see `Workload::RetentionHeld`).
pub fn retention_held_scenario() -> Scenario {
    let text = "duration_s = 30.0\nproducer = {rate_per_s = 1000000.0}\nstages = [{kind = \"topic\", retention_ms = 200.0}]\n\
                consumer = {rate_per_worker = 10000.0, fetch = {max_partition_fetch_bytes = 2048}, memory = {bytes_per_message = 0}}\n";
    parse_toml(text).expect("the retention benchmark's scenario is valid")
}

fn bench(workload: Workload, repeat: u32) -> String {
    let (name, scenario) = match workload {
        Workload::Mm1 => ("mm1-rho0.9-1e6", mm1_scenario()),
        Workload::IncidentHour => {
            let mut s = preset("incident-106").expect("preset");
            s.duration_s = 3_600.0;
            ("incident-106-1h", s)
        }
        Workload::RetentionHeld => ("retention-held-30s", retention_held_scenario()),
    };
    let mut best = f64::INFINITY;
    let mut summary = None;
    for _ in 0..repeat {
        let started = std::time::Instant::now();
        let mut sim = Simulation::new(&scenario).expect("valid benchmark scenario");
        sim.run_to_end();
        best = best.min(started.elapsed().as_secs_f64());
        summary = Some(sim.summary());
    }
    let s = summary.expect("ran at least once");
    let customers = s.produced;
    format!(
        "{name}: best of {repeat} {best:.3} s wall, {customers} messages ({:.2} M/s), {} events ({:.1} M/s), peak RSS {}\n",
        customers as f64 / best / 1e6,
        s.events,
        s.events as f64 / best / 1e6,
        peak_rss().map_or_else(|| "unknown".to_string(), |kb| format!("{:.1} MiB", kb as f64 / 1024.0)),
    )
}

/// CPU time (user + system) this process has used, seconds (Linux, 100 ticks a second), if known.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(") ")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// Peak resident memory of this process, KiB (Linux), if known.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
}

fn find_preset(id: &str) -> Result<Scenario, String> {
    preset(id).ok_or_else(|| {
        let known: Vec<&str> = PRESETS.iter().map(|p| p.id).collect();
        format!("unknown preset '{id}' (known: {})", known.join(", "))
    })
}

fn load(path: &str) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    if path.ends_with(".json") {
        match experiment::file::entries(&text) {
            Ok(members) if members.iter().any(|(k, _)| k == "preset") => return from_experiment_file(path, &text),
            // Not an object (serde would read a struct from an array); what is not JSON at
            // all the scenario's parser names best (the field it went wrong in).
            Err(p) if !p.message.starts_with("not JSON") => return Err(format!("{path}: {}", p.message)),
            _ => {}
        }
    }
    let parsed = if path.ends_with(".json") {
        Scenario::deserialize_named(&mut serde_json::Deserializer::from_str(&text))
    } else {
        return parse_toml(&text).map_err(|e| format!("{path}: {e}"));
    };
    parsed.map_err(|e| format!("{path}: {}", e.to_string().replace('\n', " ")))
}

/// Parses a TOML scenario; errors name the field and the line: `consumer.workers: invalid
/// type: string "four", expected u32 (line 2)`.
fn parse_toml(text: &str) -> Result<Scenario, String> {
    parse_doc(text)
}

/// The dotted path of the innermost key whose value holds byte `pos` of a document that
/// did not parse, from what could be read of it.
fn field_at(text: &str, pos: usize) -> Option<String> {
    use toml::de::{DeTable, DeValue};
    fn walk(v: &DeValue, pos: usize, path: &mut Vec<String>) {
        match v {
            DeValue::Table(t) => {
                for (k, x) in t.iter() {
                    let (a, b) = (k.span().start, x.span().end.max(k.span().end));
                    if a <= pos && pos <= b {
                        path.push(k.get_ref().to_string());
                        return walk(x.get_ref(), pos, path);
                    }
                }
            }
            DeValue::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    if x.span().start <= pos && pos <= x.span().end {
                        path.push(i.to_string());
                        return walk(x.get_ref(), pos, path);
                    }
                }
            }
            _ => {}
        }
    }
    let (doc, _) = DeTable::parse_recoverable(text);
    let mut path = Vec::new();
    walk(&DeValue::Table(doc.into_inner()), pos, &mut path);
    // The innermost field: the positions inside its value (arrays in arrays) are not fields.
    while path.last().is_some_and(|s| s.parse::<usize>().is_ok()) {
        path.pop();
    }
    (!path.is_empty()).then(|| path.join("."))
}

/// The line of the field at a dotted path (of its key, when the path ends in one), from the
/// document's own spans: toml's error spans point at the enclosing table when the error is
/// raised after the key was read (an unknown key, a field inside a tagged object).
fn line_of_field(text: &str, path: &str) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    enum At<'a, 'i> {
        Table(&'a DeTable<'i>),
        Array(&'a [toml::Spanned<DeValue<'i>>]),
        Leaf,
    }
    if path.is_empty() {
        return None;
    }
    let doc = DeTable::parse(text).ok()?;
    let mut at = At::Table(doc.get_ref());
    let mut span = None;
    for seg in path.split('.') {
        let next = match at {
            At::Table(t) => {
                let (k, v) = t.iter().find(|(k, _)| k.get_ref().as_ref() == seg)?;
                span = Some(k.span());
                v
            }
            At::Array(a) => {
                let v = a.get(seg.parse::<usize>().ok()?)?;
                span = Some(v.span());
                v
            }
            At::Leaf => return None,
        };
        at = match next.get_ref() {
            DeValue::Table(t) => At::Table(t),
            DeValue::Array(a) => At::Array(a),
            _ => At::Leaf,
        };
    }
    span.map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
}

/// Applies `path.to.field=value` (the engine's `experiment::set`, which links use too).
fn apply_set(scenario: &Scenario, assignment: &str) -> Result<Scenario, String> {
    let (path, raw) =
        assignment.split_once('=').ok_or_else(|| format!("--set {assignment}: expected PATH=VALUE, e.g. consumer.workers=4"))?;
    experiment::set(scenario, path, raw).map_err(|p| {
        if locate_fails(&p.message) {
            format!("--set {path}: no such field in the scenario (see 'bplab show --preset ID')")
        } else {
            format!("--set {assignment}: {}", p.message)
        }
    })
}

fn locate_fails(message: &str) -> bool {
    message == "no such field in the scenario"
}

/// The scenario a link holds; any problem in the link is an error naming its parameter.
fn from_link(link: &str) -> Result<Scenario, String> {
    let d = experiment::decode(link);
    match d.problems.first() {
        Some(p) if d.problems.len() == 1 => Err(format!("link: {p}")),
        Some(p) => Err(format!("link: {p} (and {} more problems)", d.problems.len() - 1)),
        None => Ok(d.experiment.scenario),
    }
}

/// An experiment file's scenario (docs/links.md): its preset with its changes. A file with
/// a problem is refused, every problem named.
fn from_experiment_file(path: &str, text: &str) -> Result<Scenario, String> {
    let members = experiment::file::entries(text).map_err(|p| format!("{path}: {p}"))?;
    let d = experiment::apply_query(experiment::file::read_with(members, experiment::Numbers::RUST));
    if d.problems.is_empty() {
        return Ok(d.experiment.scenario);
    }
    let problems: Vec<String> = d.problems.iter().map(experiment::file::refusal).collect();
    Err(format!("{path} was not run: {}", problems.join("; ")))
}

/// A TOML document as `T`; errors name the field (dotted path) and the line:
/// `goals.1: invalid type: integer `3`, expected a string (line 7)`.
fn parse_doc<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    let line_of = |e: &toml::de::Error| {
        e.span().map(|s| format!(" (line {})", text[..s.start.min(text.len())].matches('\n').count() + 1)).unwrap_or_default()
    };
    let d = toml::Deserializer::parse(text).map_err(|e| {
        // A document that does not parse (too deep, say): name the field it went wrong in.
        let at = e.span().and_then(|s| field_at(text, s.start)).map(|f| format!("{f}: ")).unwrap_or_default();
        format!("{at}{}{}", e.message().trim(), line_of(&e))
    })?;
    serde_path_to_error::deserialize(d).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let (field, message) = Scenario::error_field(&path, inner.message().trim());
        let at = if field.is_empty() { String::new() } else { format!("{field}: ") };
        let line = line_of_field(text, &field).map(|l| format!(" (line {l})")).unwrap_or_else(|| line_of(&inner));
        format!("{at}{message}{line}")
    })
}

/// The first of a validation's errors, with its line in the document and how many more.
fn first_error(text: &str, e: &bplab_engine::ScenarioError) -> String {
    let first = &e.errors[0];
    let line = line_of_field(text, &first.field).map(|l| format!(" (line {l})")).unwrap_or_default();
    let more = match e.errors.len() {
        1 => String::new(),
        n => format!(" (and {} more problems)", n - 1),
    };
    format!("{}: {}{line}{more}", first.field, first.message)
}

/// A challenge by path or shipped id, validated.
fn load_challenge(arg: &str) -> Result<(Challenge, Task), String> {
    let (name, text) = match SHIPPED.iter().find(|(id, _)| *id == arg) {
        Some((id, text)) => (id.to_string(), text.to_string()),
        None if std::path::Path::new(arg).exists() => {
            (arg.to_string(), std::fs::read_to_string(arg).map_err(|e| format!("cannot read {arg}: {e}"))?)
        }
        None => {
            let ids: Vec<&str> = SHIPPED.iter().map(|(id, _)| *id).collect();
            return Err(format!("no challenge file or shipped challenge '{arg}' (shipped: {})", ids.join(", ")));
        }
    };
    let c: Challenge = parse_doc(&text).map_err(|e| format!("{name}: {e}"))?;
    let task = c.validate().map_err(|e| format!("{name}: {}", first_error(&text, &e)))?;
    Ok((c, task))
}

fn load_lesson(path: &str) -> Result<Lesson, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let lesson: Lesson = parse_doc(&text).map_err(|e| format!("{path}: {e}"))?;
    lesson.validate().map_err(|e| format!("{path}: {}", first_error(&text, &e)))?;
    Ok(lesson)
}

/// `bplab check`: exit 0 when every solution passes, 1 when one fails, 2 on bad input.
fn check(challenge: &str, file: Option<String>, link: Option<String>, links: Option<String>, format: CheckFormat) -> ExitCode {
    let graded = (|| -> Result<(String, bool), String> {
        let (c, task) = load_challenge(challenge)?;
        let title = c.title;
        if let Some(path) = links {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
            return Ok(grade_links(&task, &text, format));
        }
        let solution = match (file, link) {
            (Some(path), _) => load(&path)?,
            (None, Some(l)) => from_link(&l)?,
            (None, None) => return Err("give a scenario file, --link URL or --links FILE".into()),
        };
        let v = task.check(&solution).map_err(|e| format!("invalid scenario: {e}"))?;
        let out = match format {
            CheckFormat::Json => serde_json::to_string_pretty(&v).expect("plain data serializes") + "\n",
            _ => report(&title, challenge, &task, &v),
        };
        Ok((out, v.pass))
    })();
    match graded {
        Ok((out, pass)) => {
            let _ = std::io::stdout().lock().write_all(out.as_bytes());
            if pass {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(msg) => fail(&msg),
    }
}

/// One goal's outcome in words, marked PASS or FAIL.
fn outcome_line(o: &goal::Outcome, duration_s: f64) -> String {
    format!("{}  {}: {}", if o.pass { "PASS" } else { "FAIL" }, o.goal, o.describe(duration_s))
}

fn report(title: &str, id: &str, task: &Task, v: &Verdict) -> String {
    let mut out = format!("{title} ({id}): {} s run, seed {}\n", experiment::number(task.duration_s), v.seed);
    for o in &v.goals {
        out.push_str(&format!("  {}\n", outcome_line(o, task.duration_s)));
    }
    for l in &v.locked {
        out.push_str(&format!("  LOCKED  {}={}: {}\n", l.path, l.value, l.reason));
    }
    let failed = v.goals.iter().filter(|g| !g.pass).count();
    let verdict = match (v.pass, v.locked.is_empty()) {
        (true, _) => format!("PASS (all {} goals met)", v.goals.len()),
        (false, true) => format!("FAIL ({failed} of {} goals not met)", v.goals.len()),
        (false, false) => format!("FAIL ({} locked knobs changed, {failed} of {} goals not met)", v.locked.len(), v.goals.len()),
    };
    out.push_str(&format!("verdict: {verdict}\ndigest: {} (engine {})\nlink: ?{}\n", v.digest, v.engine, v.link));
    out
}

/// Grades every link of a file: a table (or CSV), and whether all passed. A link with a
/// problem is graded BAD (not passed), naming the problem, and the rest go on.
fn grade_links(task: &Task, text: &str, format: CheckFormat) -> (String, bool) {
    let mut rows: Vec<[String; 5]> = Vec::new();
    let mut all = true;
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let row = match task.check_link(l) {
            Ok(v) => {
                let mut failed: Vec<String> = v.locked.iter().map(|x| format!("locked {}", x.path)).collect();
                failed.extend(v.goals.iter().filter(|g| !g.pass).map(|g| g.goal.clone()));
                all &= v.pass;
                [(i + 1).to_string(), l.to_string(), if v.pass { "PASS" } else { "FAIL" }.into(), failed.join("; "), v.digest]
            }
            Err(p) => {
                all = false;
                [(i + 1).to_string(), l.to_string(), "BAD".into(), format!("bad link: {p}"), String::new()]
            }
        };
        rows.push(row);
    }
    let out = if format == CheckFormat::Csv {
        let mut out = String::from("line,link,verdict,failed_goals,digest\n");
        for r in &rows {
            out.push_str(&r.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
            out.push('\n');
        }
        out
    } else {
        let mut out = format!("{:<5} {:<7} {:<16} {:<40} {}\n", "line", "verdict", "digest", "failed goals", "link");
        for [line, link, verdict, failed, digest] in &rows {
            let failed = if failed.is_empty() { "-" } else { failed };
            out.push_str(&format!("{line:<5} {verdict:<7} {digest:<16} {failed:<40} {link}\n"));
        }
        let passed = rows.iter().filter(|r| r[2] == "PASS").count();
        out.push_str(&format!("{passed} of {} passed\n", rows.len()));
        out
    };
    (out, all)
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(f: &str) -> String {
    if f.contains([',', '"', '\n']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f.to_string()
    }
}
