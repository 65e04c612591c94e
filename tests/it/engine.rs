//! The engine against Incident 106's arithmetic and the ledger's invariants.

use bplab_engine::{preset, Arrivals, Commit, Mode, Scenario, Simulation, PRESETS};

fn run(s: &Scenario, until_s: f64) -> Simulation {
    let mut sim = Simulation::new(s).expect("valid scenario");
    sim.run_until(until_s, u64::MAX);
    sim
}

fn within(actual: f64, expected: f64, rel: f64) -> bool {
    (actual - expected).abs() <= expected * rel
}

/// (512 − 64) MiB of headroom filled at (producer − consumer) × 1 KiB per second.
fn expected_first_oom(consumer_rate: f64) -> f64 {
    (512.0 - 64.0) * 1_048_576.0 / ((10_000.0 - consumer_rate) * 1_024.0)
}

#[test]
fn incident_106_first_oom_matches_the_arithmetic() {
    let sim = run(&preset("incident-106").unwrap(), 60.0);
    let s = sim.summary();
    let t = s.first_oom_s.expect("incident-106 must OOM within 60 s");
    let expected = expected_first_oom(500.0);
    assert!((expected - 48.3).abs() < 0.05, "{expected}");
    assert!(within(t, expected, 0.02), "first OOM at {t} s, expected {expected} ± 2%");
}

#[test]
fn incident_106_5k_first_oom_matches_the_arithmetic() {
    let sim = run(&preset("incident-106-5k").unwrap(), 120.0);
    let t = sim.summary().first_oom_s.expect("incident-106-5k must OOM within 120 s");
    let expected = expected_first_oom(5_000.0);
    assert!((expected - 91.8).abs() < 0.1, "{expected}");
    assert!(within(t, expected, 0.02), "first OOM at {t} s, expected {expected} ± 2%");
}

#[test]
fn incident_106_in_flight_grows_at_the_rate_difference() {
    let sim = run(&preset("incident-106").unwrap(), 40.0);
    let pts = &sim.series().points;
    let at = |t: f64| pts.iter().find(|p| (p.t_s - t).abs() < 1e-9).expect("a sample at t");
    let slope = (at(30.0).in_flight as f64 - at(10.0).in_flight as f64) / 20.0;
    assert!(within(slope, 9_500.0, 0.02), "in-flight grows at {slope} msg/s");
    // Auto-commit commits what was polled, so lag stays small while the heap fills.
    assert!(at(30.0).lag < 60_000, "lag {}", at(30.0).lag);
}

#[test]
fn incident_106_loses_committed_records_when_killed() {
    let sim = run(&preset("incident-106").unwrap(), 50.0);
    let s = sim.summary();
    assert_eq!(s.oom_kills, 1);
    assert!(s.lost > 0, "records fetched, committed and discarded must count as lost");
    assert_eq!(s.lost, s.lost_by_cause.after_commit);
    // Nearly everything in flight had been committed by auto-commit (every 5 s).
    assert!(s.lost > 300_000 && s.lost < 458_752, "lost {}", s.lost);
    assert!(!sim.snapshot().consumer.members[0].up, "the consumer is down, restarting");
}

#[test]
fn fix_sync_poll_never_ooms_and_keeps_the_backlog_in_the_topic() {
    let sim = run(&preset("fix-sync-poll").unwrap(), 600.0);
    let s = sim.summary();
    assert_eq!(s.oom_kills, 0);
    assert_eq!(s.lost, 0);
    assert_eq!(s.duplicated, 0);
    assert!(s.max_in_flight <= 1_000, "max in flight {}", s.max_in_flight);
    assert!(within(s.throughput_msgs_per_s, 500.0, 0.01));
    // The difference sits in the topic as lag.
    let lag_expected = 600.0 * 9_500.0;
    assert!(within(s.lag as f64, lag_expected, 0.01), "lag {}", s.lag);
}

#[test]
fn fix_blocking_channel_slows_the_producer_to_the_consumer() {
    let sim = run(&preset("fix-blocking-channel").unwrap(), 600.0);
    let s = sim.summary();
    let producer_rate = s.produced as f64 / 600.0;
    assert!(within(producer_rate, 500.0, 0.02), "producer {producer_rate} msg/s");
    assert!(within(s.throughput_msgs_per_s, 500.0, 0.02));
    assert!(s.producer_blocked_s > 0.9 * 600.0, "blocked {} s", s.producer_blocked_s);
    assert_eq!((s.oom_kills, s.lost), (0, 0));
    assert!(s.channel_depth <= 100);
}

#[test]
fn same_seed_same_run_other_seed_other_run() {
    let mut s = preset("incident-106").unwrap();
    s.producer.arrivals = Arrivals::Poisson;
    s.seed = 7;
    let a = run(&s, 70.0);
    let b = run(&s, 70.0);
    assert_eq!(a.series(), b.series());
    assert_eq!(a.summary(), b.summary());
    s.seed = 8;
    let c = run(&s, 70.0);
    assert_ne!(a.series(), c.series());
}

fn check_ledger(name: &str, sim: &Simulation, t: f64) {
    let l = sim.ledger();
    assert!(l.balanced(), "{name} at {t} s: ledger does not balance: {l:?}");
    let s = sim.summary();
    assert!(l.in_flight <= s.in_flight, "{name} at {t} s: {l:?} vs {}", s.in_flight);
    assert_eq!(l.produced + l.producer_pending, l.generated, "{name} at {t} s");
}

/// Scenarios that exercise every path: the presets and variants of them.
fn ledger_scenarios() -> Vec<(String, Scenario)> {
    let mut out: Vec<(String, Scenario)> = PRESETS.iter().map(|p| (p.id.to_string(), p.scenario())).collect();
    let mut a = preset("incident-106").unwrap();
    a.consumer.commit = Commit::Sync;
    a.consumer.workers = 7;
    a.consumer.rate_per_worker = 300.0;
    a.consumer.memory.restart_delay_s = 3.0;
    out.push(("async, commit after processing, 7 workers".into(), a));
    let mut b = preset("incident-106").unwrap();
    b.producer.arrivals = Arrivals::Poisson;
    b.consumer.memory.heap_limit_mib = 100.0;
    b.consumer.memory.restart_delay_s = 1.0;
    b.sim.resolution_ms = 0.0;
    out.push(("poisson, small heap, exact resolution".into(), b));
    let mut c = preset("fix-blocking-channel").unwrap();
    c.consumer.mode = Mode::Async;
    c.consumer.memory.heap_limit_mib = 70.0;
    out.push(("channel into an async consumer".into(), c));
    let mut d = preset("incident-106").unwrap();
    d.stages.clear();
    d.consumer.memory.heap_limit_mib = 80.0;
    out.push(("direct push, no stages".into(), d));
    let mut e = preset("fix-sync-poll").unwrap();
    e.consumer.workers = 3;
    e.consumer.commit = Commit::Sync;
    e.consumer.memory.heap_limit_mib = 64.5;
    out.push(("sync with a heap too small for one batch".into(), e));
    out
}

#[test]
fn conservation_holds_at_every_sample() {
    for (name, s) in ledger_scenarios() {
        let mut sim = Simulation::new(&s).unwrap();
        for k in 1..=900 {
            let t = k as f64 * 0.1;
            sim.run_until(t, u64::MAX);
            check_ledger(&name, &sim, t);
        }
    }
}

#[test]
fn redelivery_after_a_kill_is_counted_as_duplicates_not_as_new_work() {
    // A consumer just slower than the producer, auto-committing every 5 s, in a small heap:
    // when it dies, what it processed since the last commit is delivered and processed again.
    let mut s = preset("incident-106").unwrap();
    s.consumer.workers = 10;
    s.consumer.rate_per_worker = 990.0;
    s.consumer.memory.heap_limit_mib = 66.0;
    s.consumer.memory.restart_delay_s = 2.0;
    // Small fetches, so the restarted consumer's fetch cache alone does not fill its heap.
    s.consumer.fetch.max_partition_fetch_bytes = 16 * 1024;
    let sim = run(&s, 120.0);
    let sum = sim.summary();
    assert!(sum.oom_kills >= 2, "{sum:?}");
    assert!(sum.duplicated > 0, "{sum:?}");
    assert!(sim.ledger().balanced(), "{:?}", sim.ledger());
    // Duplicates are extra work, not extra messages: consumed never exceeds produced.
    assert!(sum.consumed + sum.lost <= sum.produced);
}

#[test]
fn a_backlog_of_a_billion_costs_no_more_memory_than_a_small_one() {
    // 10^6 msg/s for 1,000 s into a topic nobody can keep up with: 10^9 records of lag.
    let mut s = preset("fix-sync-poll").unwrap();
    s.producer.rate_per_s = 1_000_000.0;
    s.sim.resolution_ms = 10.0;
    s.duration_s = 1_000.0;
    let mut sim = Simulation::new(&s).unwrap();
    sim.run_to_end();
    let sum = sim.summary();
    assert!(sum.lag > 990_000_000, "lag {}", sum.lag);
    assert!(sim.ledger().balanced());
    assert!(sim.series().points.len() <= s.sim.max_points as usize);
    assert!(sim.queued_runs() <= sim.queued_runs_bound(), "{} runs", sim.queued_runs());
    assert!(sim.queued_runs_bound() < 64_000);
}

#[test]
fn a_cloned_run_continues_exactly_like_the_original() {
    // The page's timeline keeps clones as checkpoints and replays from them.
    for id in ["incident-106", "consumer-group", "adaptive-vegas", "reactive-request-n"] {
        let mut a = Simulation::new(&preset(id).unwrap()).unwrap();
        a.run_until(30.0, u64::MAX);
        let mut b = a.clone();
        a.run_until(90.0, u64::MAX);
        b.run_until(90.0, u64::MAX);
        assert_eq!(a.summary(), b.summary(), "{id}");
        assert_eq!(a.series(), b.series(), "{id}");
    }
}
