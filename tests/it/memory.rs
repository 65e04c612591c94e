//! The producer's heap: baseline + `message_bytes` for every message its process holds
//! (pending, channels, the Kafka client), its OOM kill past `producer.memory.heap_limit_mib`
//! (what it held is lost, cause `producer_oom`), and its restart `restart_delay_s` later.

use bplab_engine::{preset, KafkaProducerSpec, Scenario, Simulation, StageSpec, TopicSpec, TraceKind, PRESETS};

const MIB: u64 = 1 << 20;

/// `buffer-bloat`'s arithmetic: (512 − 64) MiB of headroom filled at (10,000 − 500) × 1 KiB
/// per second.
fn expected_kill_s() -> f64 {
    (512.0 - 64.0) * MIB as f64 / ((10_000.0 - 500.0) * 1_024.0)
}

fn run(s: &Scenario, until_s: f64) -> Simulation {
    let mut sim = Simulation::new(s).expect("valid scenario");
    sim.run_until(until_s, u64::MAX);
    sim
}

/// Runs in steps of `dt`, checking after each that the ledger balances (and that its
/// producer OOM losses are the summary's), and that no credit or demand window grew past
/// its initial size (a kill starts the producer's own links afresh).
fn stepped(s: &Scenario, until_s: f64, dt: f64) -> Simulation {
    let mut sim = Simulation::new(s).expect("valid scenario");
    let initial: Vec<Option<u64>> = sim.snapshot().links.iter().map(|w| w.as_ref().map(|w| w.permits)).collect();
    let mut t = 0.0;
    while t < until_s {
        t = (t + dt).min(until_s);
        sim.run_until(t, u64::MAX);
        let l = sim.ledger();
        assert!(l.balanced(), "at {t} s: {l:?}");
        let sum = sim.summary();
        assert_eq!(l.lost_producer_oom, sum.lost_by_cause.producer_oom, "at {t} s");
        assert_eq!(l.produced + l.producer_pending, l.generated, "at {t} s: {l:?}");
        for (j, (w, init)) in sim.snapshot().links.iter().zip(&initial).enumerate() {
            if let (Some(w), Some(init)) = (w, init) {
                assert!(w.permits + w.in_transit <= *init, "at {t} s, link {j}: {w:?} over its window {init}");
            }
        }
    }
    sim
}

#[test]
fn buffer_bloat_is_oom_killed_when_the_arithmetic_says() {
    let expected = expected_kill_s();
    assert!((expected - 48.3).abs() < 0.05, "{expected}");
    // The preset's lesson says so, with its arithmetic.
    let lesson = crate::teach::preset_explanation("buffer-bloat");
    assert!(lesson.contains("(512 − 64) MiB") && lesson.contains("≈ 48.3 s"), "{lesson}");
    let before = run(&preset("buffer-bloat").unwrap(), 48.0);
    assert_eq!(before.summary().producer_oom_kills, 0);
    let sim = stepped(&preset("buffer-bloat").unwrap(), 50.0, 0.5);
    let s = sim.summary();
    assert_eq!(s.producer_oom_kills, 1);
    let t = s.first_producer_oom_s.expect("killed");
    // One resolution step (1 ms) of slack either way.
    assert!((t - expected).abs() < 0.002, "killed at {t} s, the arithmetic says {expected} s");
    // The peak is just over the limit: by at most one step's arrivals (10 messages).
    assert!(s.max_producer_heap_bytes > 512 * MIB && s.max_producer_heap_bytes <= 512 * MIB + 10 * 1_024, "{}", s.max_producer_heap_bytes);
    // Everything the channel held is lost, by that cause alone; the consumer is untouched.
    assert_eq!(s.lost, s.lost_by_cause.producer_oom);
    let held = (512 - 64) * MIB / 1_024;
    assert!(s.lost > held && s.lost <= held + 10, "lost {}", s.lost);
    assert_eq!(s.oom_kills, 0, "the consumer holds one message at a time");
    assert_eq!(s.ledger.lost_producer_oom, s.lost);
    let snap = sim.snapshot();
    assert_eq!(snap.producer.heap_limit_bytes, Some(512 * MIB));
    assert_eq!(snap.producer.heap_bytes, 64 * MIB, "an empty process is its baseline");
    let restart_in = snap.producer.restart_in_s.expect("down, restarting");
    assert!((restart_in - (10.0 - (50.0 - t))).abs() < 1e-6, "restarts in {restart_in} s");
    assert_eq!(snap.producer.rate_per_s, 0.0);
}

#[test]
fn the_producer_restarts_after_its_delay_and_is_killed_again() {
    let scenario = preset("buffer-bloat").unwrap();
    let mut sim = Simulation::new(&scenario).unwrap();
    sim.set_tracing(true);
    sim.run_until(49.0, u64::MAX);
    let kill = sim.summary().first_producer_oom_s.unwrap();
    let generated = sim.ledger().generated;
    // Down: nothing is generated, nothing held.
    sim.run_until(kill + 9.99, u64::MAX);
    assert_eq!(sim.ledger().generated, generated, "nothing generated while down");
    assert_eq!(sim.summary().producer_heap_bytes, 64 * MIB);
    assert!(sim.snapshot().producer.restart_in_s.is_some());
    // Back after 10 s, at its full rate.
    sim.run_until(kill + 11.0, u64::MAX);
    assert!(sim.snapshot().producer.restart_in_s.is_none());
    let made = sim.ledger().generated - generated;
    assert!((9_990..=10_010).contains(&made), "generated {made} in the second after the restart");
    let mut trace = Vec::new();
    sim.drain_trace(&mut trace);
    let kills: Vec<(f64, u64)> = trace
        .iter()
        .filter_map(|e| match e.kind {
            TraceKind::ProducerOomKill { lost } => Some((e.t_s, lost)),
            _ => None,
        })
        .collect();
    assert_eq!(kills.len(), 1, "{kills:?}");
    assert_eq!(kills[0].1, sim.summary().lost_by_cause.producer_oom, "the trace tells what was lost");
    let restarts: Vec<f64> = trace.iter().filter(|e| matches!(e.kind, TraceKind::ProducerRestarted)).map(|e| e.t_s).collect();
    assert_eq!(restarts.len(), 1);
    assert!((restarts[0] - kills[0].0 - 10.0).abs() < 1e-9, "restarted at {} s after a kill at {} s", restarts[0], kills[0].0);
    // It fills from empty again: the second kill comes one delay and one fill later (the
    // consumer, idle while the channel was empty, takes its 500/s from the restart on).
    let sim = stepped(&scenario, 120.0, 1.0);
    let s = sim.summary();
    assert_eq!(s.producer_oom_kills, 2);
    let last = sim.series().points.last().unwrap();
    assert_eq!(last.producer_oom_kills, 2);
    let second =
        sim.series().points.windows(2).find(|w| w[0].producer_oom_kills == 1 && w[1].producer_oom_kills == 2).map(|w| w[1].t_s).unwrap();
    let want = kill + 10.0 + expected_kill_s();
    assert!((second - want).abs() < 0.15, "second kill by {second} s, expected at {want} s");
}

#[test]
fn the_series_shows_the_heap_growing_to_its_limit_and_back_to_its_baseline() {
    let sim = run(&preset("buffer-bloat").unwrap(), 60.0);
    let pts = &sim.series().points;
    let at = |t: f64| pts.iter().find(|p| (p.t_s - t).abs() < 1e-9).expect("a sample at t");
    // 9,500 messages of 1 KiB a second on top of 64 MiB.
    let slope = (at(30.0).producer_heap_bytes - at(10.0).producer_heap_bytes) as f64 / 20.0;
    assert!((slope - 9_500.0 * 1_024.0).abs() < 9_500.0 * 1_024.0 * 0.01, "{slope} B/s");
    let peak = pts.iter().map(|p| p.producer_heap_bytes).max().unwrap();
    assert!(peak > 512 * MIB, "the point of the kill keeps the peak: {peak}");
    assert_eq!(at(55.0).producer_heap_bytes, 64 * MIB, "down: baseline");
}

#[test]
fn without_a_limit_the_heap_grows_and_nothing_is_killed() {
    let mut s = preset("buffer-bloat").unwrap();
    s.producer.memory.heap_limit_mib = None;
    let sim = stepped(&s, 120.0, 5.0);
    let sum = sim.summary();
    assert_eq!(sum.producer_oom_kills, 0);
    assert_eq!(sum.first_producer_oom_s, None);
    assert_eq!(sum.lost, 0);
    assert_eq!(sum.producer_heap_bytes, 64 * MIB + sum.ledger.in_channels * 1_024);
    assert!(sum.producer_heap_bytes > 1_100 * MIB, "{}", sum.producer_heap_bytes);
    assert_eq!(sum.max_producer_heap_bytes, sum.producer_heap_bytes, "it only grew");
    assert_eq!(sim.snapshot().producer.heap_limit_bytes, None);
}

/// A Kafka client's buffer lives in the producer's heap too: a blocked producer with a full
/// buffer.memory of 32 MiB, in a 64 + 16 MiB process, is killed when the buffer reaches
/// 16 MiB, loses its buffer and its pending send, and what reached the topic survives.
#[test]
fn a_kafka_clients_buffer_is_lost_with_its_process_and_the_topic_keeps_the_rest() {
    let mut s = Scenario {
        stages: vec![
            StageSpec::KafkaProducer(KafkaProducerSpec { broker_rate_per_s: 2_000.0, ..KafkaProducerSpec::default() }),
            StageSpec::Topic(TopicSpec::default()),
        ],
        ..Scenario::default()
    };
    s.consumer.rate_per_worker = 5_000.0;
    s.producer.memory.heap_limit_mib = Some(80.0);
    s.producer.memory.restart_delay_s = 5.0;
    let mut sim = Simulation::new(&s).unwrap();
    sim.set_tracing(true);
    let mut t = 0.0;
    let mut trace = Vec::new();
    while t < 20.0 {
        t += 0.25;
        sim.run_until(t, u64::MAX);
        assert!(sim.ledger().balanced(), "at {t} s: {:?}", sim.ledger());
        sim.drain_trace(&mut trace);
    }
    let sum = sim.summary();
    // 8,000 msg/s more than the broker takes: 16,384 records after ≈ 2 s, then 5 s down.
    assert!(sum.producer_oom_kills >= 2, "{sum:?}");
    let first = sum.first_producer_oom_s.unwrap();
    let want = 16_384.0 / 8_000.0;
    assert!((first - want).abs() < 0.01, "first kill at {first} s, expected {want} s");
    let lost: u64 = trace
        .iter()
        .filter_map(|e| match e.kind {
            TraceKind::ProducerOomKill { lost } => Some(lost),
            _ => None,
        })
        .sum();
    assert_eq!(lost, sum.lost_by_cause.producer_oom);
    assert_eq!(sum.lost, sum.lost_by_cause.producer_oom, "nothing in the topic is lost");
    // The broker takes its 2,000/s whenever the producer is up: that much reached the topic
    // and is processed or on its way, kills or not. (The run ends while it is down: up for
    // one fill per kill.)
    let l = sum.ledger;
    let reached = l.processed + l.in_topic + l.in_cache + l.in_flight;
    assert_eq!(sum.producer_oom_kills, 3, "kills at ≈ 2.0, 9.1 and 16.2 s");
    let up_s = 3.0 * want;
    assert!((reached as f64 - 2_000.0 * up_s).abs() <= 2_000.0 * 0.01, "{reached} reached the topic in {up_s} s up: {l:?}");
    assert!(sum.consumed as f64 > 0.9 * reached as f64, "the consumer keeps up: {} of {reached}", sum.consumed);
}

/// Every preset, given a producer heap a little over its baseline, keeps its ledger and
/// windows straight through kills and restarts, and keeps working after each restart.
#[test]
fn every_preset_survives_producer_kills() {
    // 512 messages of 1 KiB; 100 (the windows of credits and request(n) are a few hundred).
    for (p, headroom) in PRESETS.iter().flat_map(|p| [(p, 0.5), (p, 0.1)]) {
        let mut s = p.scenario();
        s.producer.memory.heap_limit_mib = Some(s.producer.memory.baseline_mib + headroom);
        s.producer.memory.restart_delay_s = 2.0;
        s.duration_s = s.duration_s.min(60.0);
        let sim = stepped(&s, s.duration_s, 0.5);
        let sum = sim.summary();
        let limit = ((s.producer.memory.baseline_mib + headroom) * MIB as f64).round() as u64;
        if sum.producer_oom_kills == 0 {
            assert!(sum.max_producer_heap_bytes <= limit, "{}: a process never killed stays within its limit", p.id);
            continue;
        }
        assert!(sum.max_producer_heap_bytes > limit, "{}: killed over its limit", p.id);
        let at_kill = sim.series().points.iter().find(|pt| pt.producer_oom_kills > 0).map(|pt| (pt.t_s, pt.consumed)).unwrap();
        println!(
            "{}: {} producer OOM kills, first at {:?} s, {} lost",
            p.id, sum.producer_oom_kills, sum.first_producer_oom_s, sum.lost_by_cause.producer_oom
        );
        assert!(
            sum.consumed > at_kill.1 || sum.t_s < at_kill.0 + 4.0,
            "{}: nothing processed after the first kill at {} s",
            p.id,
            at_kill.0
        );
    }
}
