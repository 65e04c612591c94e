//! Theory beside the run: what queueing theory predicts for a scenario, next to what its run
//! measured, as plain rows (name, predicted, measured, ±, note) for the page to render.
//!
//! Every run gets utilisation ρ = λ/(c·μ) (λ the producer's base rate, c the workers of all
//! members, μ a worker's rate; measured: throughput ÷ (c·μ)) and Little's law measured on
//! both sides (L, the time-averaged number in the system, against λ·W, departures per
//! second times the mean time in the system; they differ by the age of what is still inside
//! at the end, divided by the run's length). Where the scenario has a classic shape the
//! closed forms are added:
//!
//! - **M/M/1, M/D/1, M/G/1, M/M/c**: Poisson arrivals straight into one member's workers
//!   (no stages, flat rate, no throttle, shedding, downstream, limiter or pause): L and W
//!   (Pollaczek–Khinchine for M/D/1 and M/G/1 with log-normal service, E[S²] = e^{σ²}/μ²;
//!   Erlang C for M/M/c). The ± is two standard errors of the time average, from M/M/1's
//!   asymptotic variance 2ρ(1+ρ)/(cμ(1−ρ)⁴)/T (Whitt 1992; exact for M/M/1, a scale for the
//!   others). A run shorter than 50 relaxation times 1/(cμ(1−√ρ)²) is "too short to compare".
//! - **M/M/1/K**: a channel of K−1 dropping the newest into a one-worker consumer taking one
//!   message at a time: P(block) = (1−ρ)ρ^K/(1−ρ^{K+1}) against dropped ÷ produced.
//! - **D/D/1 overload** (constant arrivals, deterministic service, λ > c·μ): the backlog
//!   grows at λ − c·μ; where it lands decides the rest: in an async consumer's heap (after a
//!   topic) or in the producer's (an unbounded channel) the time to OOM is
//!   (heap limit − baseline) ÷ ((λ − c·μ) × bytes a message); in a topic a sync consumer
//!   reads from, no OOM; a blocking bounded channel blocks the producer 1 − c·μ/λ of the time;
//!   a dropping one drops that share.
//!
//! A prediction the run is too short to reach (an OOM after its end) has no measured value
//! and says so.

use crate::scenario::{Arrivals, FlowControl, Mode, OnFull, Pattern, Scenario, ServiceDist, StageSpec};
use crate::sim::Simulation;
use serde::Serialize;

/// One line of the panel.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    pub name: String,
    pub predicted: Option<f64>,
    pub measured: Option<f64>,
    /// The uncertainty of the comparison (see each row's note for what it covers).
    pub plus_minus: Option<f64>,
    pub note: String,
}

/// The classic shape a scenario has, if any.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    Mm1,
    Md1,
    Mg1,
    Mmc,
    Mm1k,
    Dd1Overload,
}

impl Shape {
    pub fn name(self) -> &'static str {
        match self {
            Shape::Mm1 => "M/M/1",
            Shape::Md1 => "M/D/1",
            Shape::Mg1 => "M/G/1",
            Shape::Mmc => "M/M/c",
            Shape::Mm1k => "M/M/1/K",
            Shape::Dd1Overload => "D/D/1 overload",
        }
    }
}

/// What theory says about one run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Theory {
    pub shape: Option<Shape>,
    pub rows: Vec<Row>,
}

/// λ, c and μ as the scenario states them.
fn rates(s: &Scenario) -> (f64, f64, f64) {
    (s.producer.rate_per_s, (s.consumer.members * s.consumer.workers) as f64, s.consumer.rate_per_worker)
}

/// No feature beyond the plain queue: a flat rate, no throttle, no shedding, downstream,
/// limiter, pause or slow message, one member.
fn plain(s: &Scenario) -> bool {
    let c = &s.consumer;
    matches!(s.producer.pattern, Pattern::Flat {})
        && s.producer.throttle.is_none()
        && c.members == 1
        && c.shed.is_none()
        && c.downstream.is_none()
        && c.limiter.is_none()
        && c.pause.is_none()
        && c.slow_message.is_none()
        && matches!(c.link.control, FlowControl::None {})
}

/// The classic shape of a scenario, if it has one.
pub fn shape(s: &Scenario) -> Option<Shape> {
    if !plain(s) {
        return None;
    }
    let (lambda, c, mu) = rates(s);
    let c1 = s.consumer.workers == 1;
    match (s.producer.arrivals, s.consumer.service) {
        (Arrivals::Poisson, service) if s.stages.is_empty() => match service {
            ServiceDist::Exponential {} if c1 => Some(Shape::Mm1),
            ServiceDist::Exponential {} => Some(Shape::Mmc),
            ServiceDist::Deterministic {} if c1 => Some(Shape::Md1),
            ServiceDist::Lognormal { .. } if c1 => Some(Shape::Mg1),
            _ => None,
        },
        (Arrivals::Poisson, ServiceDist::Exponential {}) => {
            let one_channel = matches!(s.stages.as_slice(), [StageSpec::Channel(ch)]
                if ch.capacity.is_some() && ch.shed.is_none() && ch.link.on_full == OnFull::DropNewest && matches!(ch.link.control, FlowControl::None {}));
            (one_channel && c1 && s.consumer.mode == Mode::Sync && s.consumer.max_poll_records == 1).then_some(Shape::Mm1k)
        }
        (Arrivals::Constant, ServiceDist::Deterministic {}) if lambda > c * mu => {
            let stages_plain = s.stages.iter().all(|st| match st {
                StageSpec::Channel(ch) => ch.shed.is_none() && matches!(ch.link.control, FlowControl::None {}),
                StageSpec::Topic(t) => t.retention_ms.is_none(),
                _ => false,
            });
            stages_plain.then_some(Shape::Dd1Overload)
        }
        _ => None,
    }
}

fn row(name: &str, predicted: Option<f64>, measured: Option<f64>, plus_minus: Option<f64>, note: impl Into<String>) -> Row {
    Row { name: name.to_string(), predicted, measured, plus_minus, note: note.into() }
}

/// Erlang C: the probability an arrival waits in M/M/c with offered load `a = λ/μ`.
fn erlang_c(c: usize, a: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 0..c {
        sum += term;
        term *= a / (k + 1) as f64;
    }
    let rho = a / c as f64;
    let last = term / (1.0 - rho);
    last / (sum + last)
}

/// The rows for a run (of any length; `sim.summary()` is read as it is now).
pub fn theory(sim: &Simulation) -> Theory {
    let s = sim.scenario();
    let sum = sim.summary();
    let t = sum.t_s;
    let (lambda, c, mu) = rates(s);
    let rho = lambda / (c * mu);
    let mut rows = Vec::new();
    let flat = matches!(s.producer.pattern, Pattern::Flat {}) && s.producer.throttle.is_none();
    let counting = if t > 0.0 { (sum.consumed as f64).sqrt() / t / (c * mu) } else { 0.0 };
    rows.push(row(
        "utilisation ρ = λ/(c·μ)",
        Some(rho),
        (t > 0.0).then(|| sum.throughput_msgs_per_s / (c * mu)),
        Some(counting),
        format!(
            "λ = {lambda} msg/s{}, c = {c} workers, μ = {mu} msg/s each; measured: throughput ÷ (c·μ), which is min(ρ, 1) only when nothing is lost, dropped or left waiting; ± one count's standard deviation",
            if flat { "" } else { " (the base rate: the pattern or throttle changes it)" }
        ),
    ));
    let in_system = sum.ledger.generated - sum.ledger.processed - sum.ledger.dropped - sum.ledger.lost;
    let lw = sum.sojourn_mean_s.map(|w| sum.departure_rate_per_s * w);
    rows.push(row(
        "Little's law: L against λ·W",
        lw,
        Some(sum.time_avg_in_system),
        Some(in_system as f64 + 1e-9 * sum.time_avg_in_system.max(1.0)),
        format!(
            "L is the time-averaged number in the system, λ·W departures per second × mean time in the system; L − λ·W is the age of the {in_system} messages still inside ÷ the run's length: between 0 and {in_system} (and float rounding), zero when the system has emptied"
        ),
    ));
    let shape = shape(s);
    let res_s = s.sim.resolution_ms / 1_000.0;
    match shape {
        Some(sh @ (Shape::Mm1 | Shape::Md1 | Shape::Mg1 | Shape::Mmc)) => classic(&mut rows, sim, sh, lambda, c, mu, res_s),
        Some(Shape::Mm1k) => mm1k(&mut rows, sim, lambda, mu),
        Some(Shape::Dd1Overload) => dd1(&mut rows, sim, lambda, c, mu, res_s),
        None => {}
    }
    Theory { shape, rows }
}

fn classic(rows: &mut Vec<Row>, sim: &Simulation, sh: Shape, lambda: f64, c: f64, mu: f64, res_s: f64) {
    let s = sim.scenario();
    let sum = sim.summary();
    let t = sum.t_s;
    let rho = lambda / (c * mu);
    if rho >= 1.0 {
        let backlog = (sum.ledger.generated - sum.ledger.processed) as f64;
        rows.push(row(
            "backlog (λ − c·μ)·t",
            Some((lambda - c * mu) * t),
            Some(backlog),
            Some(2.0 * ((lambda + c * mu) * t).sqrt()),
            format!(
                "{}: ρ ≥ 1, no steady state, the backlog grows without bound; ± two standard deviations of the arrival and service counts",
                sh.name()
            ),
        ));
        return;
    }
    let (l, w) = match sh {
        Shape::Mm1 => (rho / (1.0 - rho), 1.0 / (mu - lambda)),
        Shape::Md1 | Shape::Mg1 => {
            let es2 = match s.consumer.service {
                ServiceDist::Lognormal { sigma } => (sigma * sigma).exp() / (mu * mu),
                _ => 1.0 / (mu * mu),
            };
            let lq = lambda * lambda * es2 / (2.0 * (1.0 - rho));
            let w = 1.0 / mu + lq / lambda;
            (lambda * w, w)
        }
        _ => {
            let wait = erlang_c(c as usize, lambda / mu);
            let lq = wait * rho / (1.0 - rho);
            let w = lq / lambda + 1.0 / mu;
            (lambda * w, w)
        }
    };
    let tau = 1.0 / (c * mu * (1.0 - rho.sqrt()).powi(2));
    let sigma2 = 2.0 * rho * (1.0 + rho) / (c * mu * (1.0 - rho).powi(4));
    let se_l = (sigma2 / t.max(f64::MIN_POSITIVE)).sqrt();
    let mut note = format!(
        "{}: ± two standard errors of a time average over {} s ({}); the run starts empty",
        sh.name(),
        crate::experiment::number(t),
        if sh == Shape::Mm1 { "M/M/1's asymptotic variance" } else { "M/M/1's asymptotic variance as a scale, not exact for this queue" }
    );
    if t < 50.0 * tau {
        note = format!(
            "run too short to compare: it needs at least {:.3} s (50 relaxation times) for the empty start to wash out; {note}",
            50.0 * tau
        );
    }
    if lambda * res_s > 0.05 {
        note.push_str(&format!(
            "; sim.resolution_ms groups about {:.2} arrivals a step, which moves the queue away from the model",
            lambda * res_s
        ));
    }
    rows.push(row("L (mean number in the system)", Some(l), Some(sum.time_avg_in_system), Some(2.0 * se_l), note.clone()));
    rows.push(row("W (mean time in the system, s)", Some(w), sum.sojourn_mean_s, Some(2.0 * se_l / lambda), note));
}

fn mm1k(rows: &mut Vec<Row>, sim: &Simulation, lambda: f64, mu: f64) {
    let s = sim.scenario();
    let sum = sim.summary();
    let k = match &s.stages[0] {
        StageSpec::Channel(ch) => ch.capacity.unwrap_or(0) as i32 + 1,
        _ => unreachable!("the shape has one channel"),
    };
    let rho = lambda / mu;
    let (p, l) = if (rho - 1.0).abs() < 1e-12 {
        (1.0 / (k as f64 + 1.0), k as f64 / 2.0)
    } else {
        let p = (1.0 - rho) * rho.powi(k) / (1.0 - rho.powi(k + 1));
        let l = rho / (1.0 - rho) - (k as f64 + 1.0) * rho.powi(k + 1) / (1.0 - rho.powi(k + 1));
        (p, l)
    };
    let n = sum.produced as f64;
    let measured = (n > 0.0).then(|| sum.dropped_by.drop_newest as f64 / n);
    rows.push(row(
        "P(block), M/M/1/K",
        Some(p),
        measured,
        Some(2.0 * (p * (1.0 - p) / n.max(1.0)).sqrt()),
        format!("K = {k} (the channel's {} plus the one in service); measured: dropped ÷ produced; ± two binomial standard errors, which ignore the correlation between arrivals (too small)", k - 1),
    ));
    rows.push(row(
        "L (mean number in the system), M/M/1/K",
        Some(l),
        Some(sum.time_avg_in_system),
        None,
        "no ± given: see Little's law for the run's own consistency",
    ));
}

fn dd1(rows: &mut Vec<Row>, sim: &Simulation, lambda: f64, c: f64, mu: f64, res_s: f64) {
    let s = sim.scenario();
    let sum = sim.summary();
    let t = sum.t_s;
    let growth = lambda - c * mu;
    let has_topic = s.stages.iter().any(|st| matches!(st, StageSpec::Topic(_)));
    let blocking = !has_topic
        && s.stages.iter().any(|st| matches!(st, StageSpec::Channel(ch) if ch.capacity.is_some() && ch.link.on_full == OnFull::Block));
    let dropping = !has_topic
        && s.stages.iter().any(|st| matches!(st, StageSpec::Channel(ch) if ch.capacity.is_some() && ch.link.on_full != OnFull::Block));
    let share = 1.0 - c * mu / lambda;
    let steps = 2.0 + (lambda * res_s).ceil() + (c * mu * res_s).ceil();
    if blocking {
        rows.push(row(
            "producer blocked, share of the time",
            Some(share),
            (t > 0.0).then(|| sum.producer_blocked_s / t),
            Some(steps / lambda / t.max(f64::MIN_POSITIVE) + res_s),
            "D/D/1 overload into a blocking channel: the producer sends at the consumer's c·μ and waits 1 − c·μ/λ of the time (less the moment it takes to fill the channel)",
        ));
        return;
    }
    if dropping {
        let n = sum.produced as f64;
        rows.push(row(
            "dropped, share of what was sent",
            Some(share),
            (n > 0.0).then(|| sum.dropped as f64 / n),
            None,
            "D/D/1 overload into a dropping channel: what the consumer cannot take, 1 − c·μ/λ, is dropped (less what fills the channel first)",
        ));
        return;
    }
    // The backlog's growth until the first kill (after it, what was held is gone).
    let kill = [sum.first_oom_s, sum.first_producer_oom_s].into_iter().flatten().reduce(f64::min);
    let until = kill.unwrap_or(t);
    let last = sim.series().points.iter().rev().find(|p| p.t_s <= until && p.t_s > 0.0);
    let measured = last.map(|p| (p.produced - p.consumed - p.dropped - p.lost) as f64 / p.t_s);
    rows.push(row(
        "backlog growth (λ − c·μ), msg/s",
        Some(growth),
        measured,
        last.map(|p| steps / p.t_s),
        format!(
            "D/D/1 overload: the backlog grows by λ − c·μ each second; measured at the last sample before {}; ± what one resolution step of arrivals and of service can hold back",
            if kill.is_some() { "the first OOM kill" } else { "the end" }
        ),
    ));
    let async_heap = has_topic && s.consumer.mode == Mode::Async && s.consumer.memory.bytes_per_message > 0;
    let producer_heap = !has_topic && s.producer.memory.heap_limit_mib.is_some();
    const MIB: f64 = 1_048_576.0;
    let (oom, measured, whose) = if async_heap {
        let m = &s.consumer.memory;
        (
            (m.heap_limit_mib - m.baseline_mib) * MIB / (growth * m.bytes_per_message as f64),
            sum.first_oom_s,
            "the consumer's heap (async: it holds what it polls)",
        )
    } else if producer_heap {
        let m = &s.producer.memory;
        let limit = m.heap_limit_mib.expect("checked");
        (
            (limit - m.baseline_mib) * MIB / (growth * s.producer.message_bytes as f64),
            sum.first_producer_oom_s,
            "the producer's heap (an unbounded channel)",
        )
    } else {
        let where_ = if has_topic {
            "the topic, which a sync consumer reads from at its own pace"
        } else {
            "an unbounded channel in a producer without a heap limit"
        };
        rows.push(row(
            "time to OOM, s",
            None,
            sum.first_oom_s.or(sum.first_producer_oom_s),
            None,
            format!("no OOM predicted: the backlog waits in {where_}"),
        ));
        return;
    };
    let pm = steps / growth + res_s;
    let note = format!("(heap limit − baseline) ÷ ((λ − c·μ) × bytes a message): the backlog fills {whose}; ± one resolution step");
    if oom > t {
        rows.push(row(
            "time to OOM, s",
            Some(oom),
            None,
            Some(pm),
            format!("run too short to compare: it ends at {} s, before the predicted OOM; {note}", crate::experiment::number(t)),
        ));
    } else {
        rows.push(row("time to OOM, s", Some(oom), measured, Some(pm), note));
    }
}

/// Where a D/D/1 overload's backlog lands, from the scenario alone.
#[derive(Clone, Copy, PartialEq)]
enum Landing {
    /// A bounded channel that blocks the producer.
    Blocks,
    /// A bounded channel that drops (newest, oldest, fail).
    Drops,
    /// An async consumer's heap, after a topic.
    ConsumerHeap,
    /// The producer's heap (an unbounded channel), with a limit.
    ProducerHeap,
    /// Nowhere that runs out: a topic a sync consumer reads, or a heap without a limit.
    Unbounded,
}

fn landing(s: &Scenario) -> Landing {
    let has_topic = s.stages.iter().any(|st| matches!(st, StageSpec::Topic(_)));
    let bounded = |block: bool| {
        !has_topic
            && s.stages
                .iter()
                .any(|st| matches!(st, StageSpec::Channel(ch) if ch.capacity.is_some() && (ch.link.on_full == OnFull::Block) == block))
    };
    if bounded(true) {
        Landing::Blocks
    } else if bounded(false) {
        Landing::Drops
    } else if has_topic && s.consumer.mode == Mode::Async && s.consumer.memory.bytes_per_message > 0 {
        Landing::ConsumerHeap
    } else if !has_topic && s.producer.memory.heap_limit_mib.is_some() {
        Landing::ProducerHeap
    } else {
        Landing::Unbounded
    }
}

/// The closed-form value of a sweep metric (a summary field name, or `dropped_pct`,
/// `producer_blocked_pct`) for a scenario, where its shape gives one: the theory line beside
/// a one-knob sweep. `first_oom_s` and `first_producer_oom_s`: a D/D/1 overload's time to
/// OOM, (heap limit − baseline) ÷ ((λ − c·μ) × bytes a message), even past the run's end;
/// `producer_blocked_pct` and `dropped_pct`: its blocked or dropped share, 100·(1 − c·μ/λ);
/// `sojourn_mean_s` and `latency_mean_s`: W of M/M/1, M/D/1, M/G/1 and M/M/c below
/// saturation; `latency_p50_s` and `latency_p99_s`: M/M/1's, whose time in the system is
/// exponential with rate μ − λ (ln 2 ÷ (μ − λ), ln 100 ÷ (μ − λ)). `None` elsewhere.
pub fn predict(s: &Scenario, metric: &str) -> Option<f64> {
    let sh = shape(s)?;
    let (lambda, c, mu) = rates(s);
    const MIB: f64 = 1_048_576.0;
    if sh == Shape::Dd1Overload {
        let growth = lambda - c * mu;
        let share = 100.0 * (1.0 - c * mu / lambda);
        return match (landing(s), metric) {
            (Landing::ConsumerHeap, "first_oom_s") => {
                let m = &s.consumer.memory;
                Some((m.heap_limit_mib - m.baseline_mib) * MIB / (growth * m.bytes_per_message as f64))
            }
            (Landing::ProducerHeap, "first_producer_oom_s") => {
                let m = &s.producer.memory;
                Some((m.heap_limit_mib? - m.baseline_mib) * MIB / (growth * s.producer.message_bytes as f64))
            }
            (Landing::Blocks, "producer_blocked_pct") | (Landing::Drops, "dropped_pct") => Some(share),
            _ => None,
        };
    }
    let rho = lambda / (c * mu);
    if sh == Shape::Mm1k || rho >= 1.0 {
        return None;
    }
    let w = match sh {
        Shape::Mm1 => 1.0 / (mu - lambda),
        Shape::Md1 | Shape::Mg1 => {
            let es2 = match s.consumer.service {
                ServiceDist::Lognormal { sigma } => (sigma * sigma).exp() / (mu * mu),
                _ => 1.0 / (mu * mu),
            };
            1.0 / mu + lambda * es2 / (2.0 * (1.0 - rho))
        }
        _ => erlang_c(c as usize, lambda / mu) * rho / (1.0 - rho) / lambda + 1.0 / mu,
    };
    match metric {
        "sojourn_mean_s" | "latency_mean_s" => Some(w),
        "latency_p50_s" if sh == Shape::Mm1 => Some(2f64.ln() * w),
        "latency_p99_s" if sh == Shape::Mm1 => Some(100f64.ln() * w),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets::preset;

    fn run(s: &Scenario) -> Theory {
        let mut sim = Simulation::new(s).unwrap();
        sim.run_to_end();
        theory(&sim)
    }

    fn get<'a>(t: &'a Theory, name: &str) -> &'a Row {
        t.rows.iter().find(|r| r.name.starts_with(name)).unwrap_or_else(|| panic!("no row {name}: {:?}", t.rows))
    }

    fn within(r: &Row) -> bool {
        (r.predicted.unwrap() - r.measured.unwrap()).abs() <= r.plus_minus.unwrap()
    }

    #[test]
    fn the_incident_and_buffer_bloat_oom_when_the_arithmetic_says() {
        let t = run(&preset("incident-106").unwrap());
        assert_eq!(t.shape, Some(Shape::Dd1Overload));
        let oom = get(&t, "time to OOM");
        assert!((oom.predicted.unwrap() - 48.29).abs() < 0.01, "{oom:?}");
        assert!(within(oom), "{oom:?}");
        let growth = get(&t, "backlog growth");
        assert_eq!(growth.predicted, Some(9_500.0));
        assert!(within(growth), "{growth:?}");
        let t = run(&preset("buffer-bloat").unwrap());
        let oom = get(&t, "time to OOM");
        assert!(oom.note.contains("producer's heap") && within(oom), "{oom:?}");
        let t = run(&preset("incident-106-5k").unwrap());
        assert!(within(get(&t, "time to OOM")), "{:?}", t.rows);
    }

    #[test]
    fn a_short_run_says_it_is_too_short_and_a_sync_consumer_predicts_no_oom() {
        let mut s = preset("incident-106").unwrap();
        s.duration_s = 30.0;
        let oom = run(&s).rows.into_iter().find(|r| r.name.starts_with("time to OOM")).unwrap();
        assert_eq!(oom.measured, None);
        assert!(oom.note.starts_with("run too short to compare"), "{}", oom.note);
        let mut s = preset("fix-sync-poll").unwrap();
        s.duration_s = 60.0;
        let t = run(&s);
        let oom = get(&t, "time to OOM");
        assert_eq!((oom.predicted, oom.measured), (None, None));
        assert!(oom.note.contains("the topic"), "{}", oom.note);
        assert!(within(get(&t, "backlog growth")), "{:?}", t.rows);
    }

    #[test]
    fn the_blocking_channel_blocks_the_share_theory_says() {
        let t = run(&preset("fix-blocking-channel").unwrap());
        let b = get(&t, "producer blocked");
        assert_eq!(b.predicted, Some(0.95));
        assert!(within(b), "{b:?}");
    }

    fn poisson(lambda: f64, mu: f64, workers: u32, service: ServiceDist, secs: f64) -> Scenario {
        let mut s = Scenario { seed: 5, duration_s: secs, ..Scenario::default() };
        s.producer.arrivals = Arrivals::Poisson;
        s.producer.rate_per_s = lambda;
        s.stages.clear();
        s.consumer.workers = workers;
        s.consumer.rate_per_worker = mu;
        s.consumer.service = service;
        s.consumer.memory.bytes_per_message = 0;
        s.sim.resolution_ms = 0.0;
        s.sim.sample_interval_ms = 1_000.0;
        s
    }

    #[test]
    fn classic_queues_match_within_their_uncertainty() {
        for (s, shape) in [
            (poisson(500.0, 1_000.0, 1, ServiceDist::Exponential {}, 2_000.0), Shape::Mm1),
            (poisson(700.0, 1_000.0, 1, ServiceDist::Deterministic {}, 2_000.0), Shape::Md1),
            (poisson(600.0, 1_000.0, 1, ServiceDist::Lognormal { sigma: 0.5 }, 2_000.0), Shape::Mg1),
            (poisson(2_400.0, 1_000.0, 3, ServiceDist::Exponential {}, 2_000.0), Shape::Mmc),
        ] {
            let t = run(&s);
            assert_eq!(t.shape, Some(shape));
            for name in ["L (mean", "W (mean"] {
                let r = get(&t, name);
                assert!(!r.note.contains("too short"), "{r:?}");
                assert!(within(r), "{shape:?} {r:?}");
            }
            let little = get(&t, "Little's law");
            assert!(within(little), "{little:?}");
            let u = get(&t, "utilisation");
            assert!((u.measured.unwrap() - u.predicted.unwrap()).abs() < 0.01, "{u:?}");
        }
        // A short run is said to be too short.
        let t = run(&poisson(950.0, 1_000.0, 1, ServiceDist::Exponential {}, 10.0));
        assert!(get(&t, "L (mean").note.starts_with("run too short to compare"));
        // Overloaded: no steady state, the backlog's growth instead.
        let t = run(&poisson(1_200.0, 1_000.0, 1, ServiceDist::Exponential {}, 100.0));
        assert!(within(get(&t, "backlog")), "{:?}", t.rows);
    }

    #[test]
    fn mm1k_blocking_matches() {
        let mut s = poisson(900.0, 1_000.0, 1, ServiceDist::Exponential {}, 2_000.0);
        s.stages = vec![StageSpec::Channel(crate::scenario::ChannelSpec {
            capacity: Some(4),
            link: crate::scenario::LinkSpec { on_full: OnFull::DropNewest, ..Default::default() },
            shed: None,
        })];
        s.consumer.mode = Mode::Sync;
        s.consumer.max_poll_records = 1;
        let t = run(&s);
        assert_eq!(t.shape, Some(Shape::Mm1k));
        let p = get(&t, "P(block)");
        // The binomial ± understates (arrivals are correlated through the queue): 3× it.
        assert!((p.predicted.unwrap() - p.measured.unwrap()).abs() <= 3.0 * p.plus_minus.unwrap(), "{p:?}");
        assert_eq!(shape(&preset("drop-newest").unwrap()), Some(Shape::Dd1Overload), "constant arrivals are not M/M/1/K");
    }

    #[test]
    fn predictions_for_a_sweep_line() {
        let s = preset("incident-106").unwrap();
        assert!((predict(&s, "first_oom_s").unwrap() - 48.2897).abs() < 1e-3);
        let faster = crate::experiment::set(&s, "consumer.rate_per_worker", "5000").unwrap();
        assert!((predict(&faster, "first_oom_s").unwrap() - 2.0 * 48.2897 * 9_500.0 / 10_000.0).abs() < 1e-3);
        assert_eq!(predict(&preset("fix-sync-poll").unwrap(), "first_oom_s"), None, "the backlog waits in the topic");
        assert!((predict(&preset("buffer-bloat").unwrap(), "first_producer_oom_s").unwrap() - 48.2897).abs() < 1e-3);
        assert_eq!(predict(&preset("fix-blocking-channel").unwrap(), "producer_blocked_pct"), Some(95.0));
        assert_eq!(predict(&preset("drop-newest").unwrap(), "dropped_pct"), Some(95.0));
        let mm1 = poisson(500.0, 1_000.0, 1, ServiceDist::Exponential {}, 2_000.0);
        assert!((predict(&mm1, "latency_p99_s").unwrap() - 100f64.ln() / 500.0).abs() < 1e-12);
        assert!((predict(&mm1, "sojourn_mean_s").unwrap() - 0.002).abs() < 1e-12);
        let mut sim = Simulation::new(&mm1).unwrap();
        sim.run_to_end();
        let p99 = sim.summary().latency_p99_s.unwrap();
        // The histogram's log buckets are a few per cent wide.
        assert!((p99 / predict(&mm1, "latency_p99_s").unwrap() - 1.0).abs() < 0.05, "{p99}");
        assert_eq!(predict(&mm1, "lost"), None);
    }
}
