//! The consumer group's timers, rebalances and downstream calls as Kafka documents them
//! (issue 10, faults 2, 3 and 4).

use bplab_engine::{preset, Commit, DownstreamSpec, Mode, Scenario, ServiceDist, Simulation, StageSpec, TopicSpec};

fn topic(partitions: u32) -> StageSpec {
    StageSpec::Topic(TopicSpec { partitions, ..TopicSpec::default() })
}

/// Polls that wait longer (`poll_timeout_ms`) than `max.poll.interval.ms`.
fn long_polls(members: u32, partitions: u32, rate: f64) -> Scenario {
    let mut s = Scenario { duration_s: 60.0, stages: vec![topic(partitions)], ..Scenario::default() };
    s.producer.rate_per_s = rate;
    s.consumer.members = members;
    s.consumer.poll_timeout_ms = 1_000.0;
    s.consumer.max_poll_interval_ms = 500.0;
    s
}

#[test]
fn a_member_waiting_inside_poll_is_not_evicted() {
    // Kafka resets the poll timer while a poll is in progress: max.poll.interval.ms bounds the
    // time between polls (processing), not the time spent waiting inside one.
    let s = long_polls(1, 1, 0.1);
    let mut sim = Simulation::new(&s).unwrap();
    sim.run_to_end();
    let sum = sim.summary();
    assert_eq!((sum.evictions, sum.rebalances, sum.duplicated), (0, 0, 0), "{sum:?}");
    // The last record is produced at the very end.
    assert!(sum.consumed + 1 >= sum.produced, "{sum:?}");
}

#[test]
fn members_without_partitions_are_not_evicted() {
    // Three members, one partition: two members own nothing and wait in poll() for good.
    let s = long_polls(3, 1, 100.0);
    let mut sim = Simulation::new(&s).unwrap();
    sim.run_to_end();
    let sum = sim.summary();
    assert_eq!((sum.evictions, sum.rebalances, sum.duplicated), (0, 0, 0), "{sum:?}");
}

#[test]
fn processing_longer_than_the_poll_interval_still_evicts() {
    // The other side of the timer: a batch that takes longer than the interval to process.
    let s = preset("rebalance-storm").unwrap();
    let mut sim = Simulation::new(&s).unwrap();
    sim.run_to_end();
    assert!(sim.summary().evictions > 0);
}

/// Members killed again and again (a small heap), asynchronous processing, commits after
/// processing: every kill and every restart rebalances the group, and each rebalance rewinds
/// the partitions to their committed offsets.
fn rebalancing_group() -> Scenario {
    let mut s = Scenario { duration_s: 40.0, stages: vec![topic(2)], ..Scenario::default() };
    s.consumer.members = 3;
    s.consumer.mode = Mode::Async;
    s.consumer.commit = Commit::Sync;
    s.consumer.rebalance_ms = 0.0;
    s.consumer.memory.heap_limit_mib = 80.0;
    s.consumer.memory.restart_delay_s = 1.0;
    s
}

#[test]
fn a_rebalance_does_not_multiply_the_copies_members_hold() {
    // Each rebalance fetched every uncommitted record again while the member that had it kept
    // its copy: copies (and work) grew with the square of time. A member that loses a
    // partition keeps only what its workers have in hand (a zombie's copy is bounded by what it
    // held); what waited in its queues comes back from the log, once.
    let s = rebalancing_group();
    let in_hand = (s.consumer.members * s.consumer.workers) as u64;
    let mut sim = Simulation::new(&s).unwrap();
    let mut t = 0.0;
    while t < s.duration_s {
        t += 0.1;
        sim.run_until(t, u64::MAX);
        let (held, distinct) = (sim.summary().in_flight, sim.ledger().in_flight);
        assert!(held <= distinct + in_hand, "at {t:.1} s members hold {held} copies of {distinct} records");
    }
    let sum = sim.summary();
    assert!(sum.rebalances >= 4, "the scenario should rebalance: {sum:?}");
    assert!(sum.events < 20 * sum.produced, "{sum:?}");
}

/// One member, one worker at `worker_rate`, calling a downstream of one slot at `call_rate`,
/// both deterministic, under a producer ten times faster than either.
fn calling(worker_rate: f64, call_rate: f64) -> Scenario {
    let mut s = Scenario { duration_s: 10.0, stages: vec![topic(1)], ..Scenario::default() };
    s.producer.rate_per_s = 10.0 * worker_rate.max(call_rate);
    s.consumer.workers = 1;
    s.consumer.rate_per_worker = worker_rate;
    s.consumer.service = ServiceDist::Deterministic {};
    s.consumer.memory.bytes_per_message = 0;
    s.consumer.downstream = Some(DownstreamSpec { slots: 1, rate_per_slot: call_rate, service: ServiceDist::Deterministic {} });
    s
}

#[test]
fn a_worker_spends_its_own_time_and_waits_for_its_call() {
    for (worker_rate, call_rate) in [(10.0, 1_000.0), (100.0, 100.0), (1_000.0, 10.0)] {
        let s = calling(worker_rate, call_rate);
        let mut sim = Simulation::new(&s).unwrap();
        sim.run_to_end();
        let sum = sim.summary();
        // One record takes 1/worker_rate + 1/call_rate; within one record of that.
        let expected = s.duration_s / (1.0 / worker_rate + 1.0 / call_rate);
        assert!(
            (sum.consumed as f64 - expected).abs() <= 2.0,
            "worker {worker_rate}/s, call {call_rate}/s: {} processed, expected {expected}",
            sum.consumed
        );
        let floor = 1.0 / worker_rate + 1.0 / call_rate;
        let p50 = sum.latency_p50_s.unwrap();
        assert!(p50 >= floor * 0.95, "worker {worker_rate}/s, call {call_rate}/s: p50 {p50} s");
        // The call's round trip is the call alone.
        let rtt = sum.call_rtt_p50_s.unwrap();
        assert!((rtt * call_rate - 1.0).abs() <= 0.05, "worker {worker_rate}/s, call {call_rate}/s: rtt {rtt} s");
    }
}

/// The ledger as the output carries it (`summary.ledger` in JSON) adds up to `generated`.
fn exported_ledger_adds_up(name: &str, sim: &Simulation) {
    let sum = sim.summary();
    let doc = serde_json::to_value(&sum).unwrap();
    let l = doc.get("ledger").unwrap_or_else(|| panic!("{name}: the summary exports no ledger"));
    let get = |k: &str| l[k].as_u64().unwrap_or_else(|| panic!("{name}: ledger.{k} missing"));
    let places = ["producer_pending", "in_channels", "in_topic", "in_cache", "in_flight", "processed", "dropped", "lost"];
    let total: u64 = places.iter().map(|k| get(k)).sum();
    let t = sim.now_s();
    assert_eq!(get("generated"), total, "{name} at {t} s: the exported ledger does not add up: {l}");
    assert_eq!(get("generated"), sum.produced + sum.producer_pending, "{name} at {t} s");
    assert_eq!((get("processed"), get("dropped"), get("lost")), (sum.consumed, sum.dropped, sum.lost), "{name} at {t} s");
}

#[test]
fn the_exported_ledger_adds_up_at_every_sample_after_kills_and_rebalances() {
    let mut cases: Vec<(String, Scenario)> =
        ["consumer-group", "incident-106", "rebalance-storm", "incident-commit-after-processing", "fetch-cache"]
            .iter()
            .map(|id| (id.to_string(), preset(id).unwrap()))
            .collect();
    cases.push(("rebalancing group".into(), rebalancing_group()));
    for (name, s) in cases {
        let mut sim = Simulation::new(&s).unwrap();
        let every = s.sim.sample_interval_ms / 1_000.0;
        let end = s.duration_s.min(90.0);
        let mut k = 0;
        while sim.now_s() < end {
            k += 1;
            sim.run_until(k as f64 * every, u64::MAX);
            exported_ledger_adds_up(&name, &sim);
        }
        let sum = sim.summary();
        assert!(sum.rebalances > 0 || sum.oom_kills > 0, "{name}: {sum:?}");
    }
}
