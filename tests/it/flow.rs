//! Flow through stages whatever the resolution: runs split to fit what a receiver has
//! room for, capacity that does not depend on the resolution, latency never below the
//! physical minimum of its path, series and summary that agree.

use bplab_engine::{Scenario, Simulation};

fn scenario(toml_text: &str) -> Scenario {
    toml::from_str(toml_text).expect("valid TOML scenario")
}

fn run_to_end(s: &Scenario) -> Simulation {
    let mut sim = Simulation::new(s).expect("valid scenario");
    sim.run_to_end();
    sim
}

// ---- a run larger than a receiver's room (issue 10, fault 1) -------------------------

const CHANNEL_BEFORE_TOPIC: &str = r#"
duration_s = 10.0
producer = {rate_per_s = 1000000.0}
stages = [{kind = "channel", capacity = 500}, {kind = "topic"}]
"#;

#[test]
fn a_run_larger_than_a_channel_before_a_topic_does_not_stall_the_producer() {
    let sum = run_to_end(&scenario(CHANNEL_BEFORE_TOPIC)).summary();
    assert!(sum.produced >= 9_990_000, "produced {} of 10^7", sum.produced);
    assert!(sum.producer_blocked_s < 0.01, "blocked {} s", sum.producer_blocked_s);
}

#[test]
fn a_run_larger_than_a_channel_does_not_time_out_while_the_channel_drains() {
    let s = scenario(
        r#"
duration_s = 10.0
producer = {rate_per_s = 1000000.0}
stages = [{kind = "channel", capacity = 500, link = {block_timeout_ms = 100.0}}, {kind = "topic"}]
"#,
    );
    let sum = run_to_end(&s).summary();
    assert_eq!(sum.dropped_by.block_timeout, 0);
    assert!(sum.produced >= 9_990_000, "produced {} of 10^7", sum.produced);
}

#[test]
fn drop_newest_into_a_channel_drained_ten_times_faster_drops_nothing() {
    let s = scenario(
        r#"
duration_s = 10.0
sim = {resolution_ms = 10.0}
producer = {rate_per_s = 100000.0}
stages = [{kind = "channel", capacity = 500, link = {on_full = "drop_newest"}}]
consumer = {workers = 10, rate_per_worker = 100000.0, memory = {bytes_per_message = 0}}
"#,
    );
    let sum = run_to_end(&s).summary();
    assert!(sum.dropped <= sum.produced / 1000, "dropped {} of {}", sum.dropped, sum.produced);
}

/// A producer in front of stages that can always drain (bounded channels in front of a
/// topic, or a channel polled by a consumer ten times faster than the producer) is never
/// blocked for long, loses nothing to a block timeout, sends at its rate, and with links
/// that `drop_newest` or `fail` (the producer's and the channels' senders) drops at most a
/// thousandth of what it sends plus one step's run.
mod always_drains {
    use super::*;
    use proptest::option;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed};

    fn channel(cap: u64, timeout: Option<f64>, policy: &str) -> String {
        match timeout {
            Some(t) if policy == "block" => format!(r#"{{kind = "channel", capacity = {cap}, link = {{block_timeout_ms = {t:?}}}}}"#),
            _ => format!(r#"{{kind = "channel", capacity = {cap}, link = {{on_full = "{policy}"}}}}"#),
        }
    }

    proptest! {
        #![proptest_config(Config { cases: 48, rng_seed: RngSeed::Fixed(10), failure_persistence: None, ..Config::default() })]

        #[test]
        fn a_producer_before_stages_that_always_drain_is_never_blocked(
            rate in 1e3..3e6f64,
            res in 0u32..=10,
            caps in proptest::collection::vec(1u64..5_000, 1..=3),
            timeout in option::of(0.0..100.0f64),
            poisson in any::<bool>(),
            into_topic in any::<bool>(),
            policy in prop_oneof![Just("block"), Just("drop_newest"), Just("fail")],
        ) {
            // At resolution 0 every message is an event: keep those runs small.
            let rate = if res == 0 { rate.min(2e4) } else { rate };
            let arrivals = if poisson { "poisson" } else { "constant" };
            let (stages, consumer) = if into_topic {
                let mut st: Vec<String> = caps.iter().map(|&c| channel(c, timeout, policy)).collect();
                st.push(r#"{kind = "topic"}"#.into());
                (st, String::new())
            } else {
                (vec![channel(caps[0], timeout, policy)], format!("consumer = {{workers = 10, rate_per_worker = {rate:?}, memory = {{bytes_per_message = 0}}}}"))
            };
            let text = format!(
                "duration_s = 2.0\nsim = {{resolution_ms = {res}.0}}\nproducer = {{rate_per_s = {rate:?}, arrivals = \"{arrivals}\"}}\nstages = [{}]\n{consumer}\n",
                stages.join(", ")
            );
            let sum = run_to_end(&scenario(&text)).summary();
            prop_assert_eq!(sum.dropped_by.block_timeout, 0, "{}", text);
            // Every sender, the producer's and the channels', drops only what does not fit
            // within one step: nothing here, but for the last step's run.
            prop_assert!(sum.dropped <= sum.produced / 1000 + (rate * (res as f64) * 1e-3).ceil() as u64 + 1, "dropped {} of {}\n{}", sum.dropped, sum.produced, text);
            prop_assert!(sum.producer_blocked_s <= 0.02, "blocked {} s\n{}", sum.producer_blocked_s, text);
            // (Poisson: five standard deviations below the mean.)
            let expected = rate * 2.0;
            prop_assert!((sum.produced as f64) >= expected * 0.99 - 5.0 * expected.sqrt() - 2.0, "produced {} of {}\n{}", sum.produced, expected, text);
        }
    }
}

// ---- resolution coarsens time, never capacity (issue 10, fault 5) --------------------

#[test]
fn a_coarse_resolution_does_not_leave_workers_idle() {
    // 100 workers × 10^5 msg/s keep up with 3·10^5 msg/s at every resolution.
    for res in [1.0, 10.0, 100.0] {
        let s = scenario(&format!(
            r#"
duration_s = 10.0
sim = {{resolution_ms = {res:?}}}
producer = {{rate_per_s = 300000.0}}
consumer = {{mode = "sync", workers = 100, rate_per_worker = 100000.0, memory = {{bytes_per_message = 0}}}}
"#
        ));
        let sum = run_to_end(&s).summary();
        // Within what one step (and the last poll cycle) carries.
        let floor = 3e5 * (10.0 - 2.0 * res / 1e3) * 0.995;
        assert!(sum.consumed as f64 >= floor, "resolution {res} ms: consumed {} (< {floor})", sum.consumed);
    }
}

/// Throughput at resolution 1 and 10 ms agrees with resolution 0 within the precision
/// docs/scenario.md states: what one resolution step carries, at either end of the run.
mod resolution_agrees {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed};

    proptest! {
        #![proptest_config(Config { cases: 64, rng_seed: RngSeed::Fixed(5), failure_persistence: None, ..Config::default() })]

        #[test]
        fn throughput_does_not_depend_on_the_resolution(
            rate in 200.0..8_000.0f64,
            load in 0.05..3.0f64,
            workers in 1u32..=64,
            max_poll in 1u64..2_000,
            sync in any::<bool>(),
            stages in 0usize..3,
        ) {
            // A sync consumer of a topic is left out: its batches are what its prefetch, one
            // fetch latency after a poll, found in the log, which depends on arrival instants
            // (see docs/scenario.md, `resolution_ms`).
            let sync = sync && stages != 1;
            let per_worker = rate / load / f64::from(workers);
            let mode = if sync { "sync" } else { "async" };
            let stages = ["[]", r#"[{kind = "topic", partitions = 3}]"#, r#"[{kind = "channel", capacity = 1000}]"#][stages];
            let text = |res: u32| format!(
                "duration_s = 3.0\nsim = {{resolution_ms = {res}.0}}\nproducer = {{rate_per_s = {rate:?}}}\nstages = {stages}\nconsumer = {{mode = \"{mode}\", workers = {workers}, rate_per_worker = {per_worker:?}, max_poll_records = {max_poll}, memory = {{bytes_per_message = 0}}}}\n"
            );
            let exact = run_to_end(&scenario(&text(0))).summary().consumed as f64;
            for res in [1u32, 10] {
                let got = run_to_end(&scenario(&text(res))).summary().consumed as f64;
                // One step of arrivals at each end of the run, plus 3% (a sync batch is made of what
                // had arrived when it was polled: shifting arrivals within a step changes batches).
                let tol = 0.03 * exact + 2.0 * rate * f64::from(res) / 1e3 + 2.0;
                prop_assert!((got - exact).abs() <= tol, "resolution {} ms: {} vs {} at 0 ms\n{}", res, got, exact, text(res));
            }
        }
    }
}

// ---- latency never below the physical minimum of its path (issue 10, fault 6) --------

/// The lowest latency recorded, in seconds (the histogram's precision: about 1%).
fn min_latency(sim: &Simulation) -> f64 {
    sim.latency_quantile_s(0.0).expect("something was processed")
}

#[test]
fn a_fetch_carries_only_what_the_log_held_when_it_reached_the_broker() {
    let s = scenario(
        r#"
duration_s = 10.0
producer = {rate_per_s = 1000.0}
stages = [{kind = "topic", fetch_latency_ms = 100.0}]
consumer = {workers = 10, rate_per_worker = 100000.0}
"#,
    );
    let sim = run_to_end(&s);
    let sum = sim.summary();
    // A record rides a fetch whose request reached the broker after it was appended: it
    // arrives half a round trip later at the earliest; an idle consumer's fetch takes a
    // whole round trip.
    assert!(min_latency(&sim) >= 0.05 * 0.98, "min latency {} s", min_latency(&sim));
    assert!(sum.latency_mean_s.unwrap() >= 0.1 * 0.98, "mean latency {:?} s", sum.latency_mean_s);
}

/// Latency is never below its path's physical minimum: half a fetch round trip plus one
/// message's service time (deterministic service), within the resolution's precision.
mod latency_floor {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed};

    proptest! {
        #![proptest_config(Config { cases: 48, rng_seed: RngSeed::Fixed(6), failure_persistence: None, ..Config::default() })]

        #[test]
        fn latency_is_never_below_the_physical_minimum(
            rate in 10.0..5_000.0f64,
            fetch_ms in 0.0..200.0f64,
            per_worker in 100.0..100_000.0f64,
            workers in 1u32..=16,
            res in 0u32..=10,
            sync in any::<bool>(),
            poisson in any::<bool>(),
        ) {
            let mode = if sync { "sync" } else { "async" };
            let arrivals = if poisson { "poisson" } else { "constant" };
            let text = format!(
                "duration_s = 2.0\nsim = {{resolution_ms = {res}.0}}\nproducer = {{rate_per_s = {rate:?}, arrivals = \"{arrivals}\"}}\nstages = [{{kind = \"topic\", partitions = 3, fetch_latency_ms = {fetch_ms:?}}}]\nconsumer = {{mode = \"{mode}\", workers = {workers}, rate_per_worker = {per_worker:?}, memory = {{bytes_per_message = 0}}}}\n"
            );
            let sim = run_to_end(&scenario(&text));
            if sim.summary().consumed > 0 {
                // Less one resolution step: the precision of a coarsened production time.
                let floor = fetch_ms / 2e3 + 1.0 / per_worker - f64::from(res) / 1e3;
                prop_assert!(min_latency(&sim) >= floor * 0.98, "min latency {} s < {} s\n{}", min_latency(&sim), floor, text);
            }
        }
    }
}

// ---- series and summary agree (issue 10, fault 7) ------------------------------------

/// The series' last point is at the end of the run and says what the summary says.
fn assert_last_point_agrees(sim: &Simulation, what: &str) {
    let sum = sim.summary();
    let series = sim.series();
    let last = series.points.last().expect("a point");
    assert_eq!(last.t_s, sum.t_s, "{what}: last point's time");
    assert_eq!(last.consumed, sum.consumed, "{what}: consumed");
    assert_eq!(last.produced, sum.produced, "{what}: produced");
    assert_eq!(last.dropped, sum.dropped, "{what}: dropped");
    assert_eq!(last.lost, sum.lost, "{what}: lost");
    assert!(last.lag >= sum.lag, "{what}: lag {} < {}", last.lag, sum.lag);
    let peak = series.points.iter().map(|p| p.lag).max().unwrap_or(0);
    assert_eq!(peak, sum.max_lag, "{what}: the series' peak lag is the summary's max_lag");
}

#[test]
fn the_last_point_holds_what_was_delivered_at_the_end() {
    let s = scenario(
        r#"
duration_s = 10.0
sim = {resolution_ms = 5.0}
producer = {rate_per_s = 5000.0, arrivals = "poisson"}
"#,
    );
    assert_last_point_agrees(&run_to_end(&s), "poisson at 5 ms");
}

#[test]
fn a_sample_interval_longer_than_the_run_still_ends_with_a_point() {
    let s = scenario(
        r#"
duration_s = 10.0
sim = {sample_interval_ms = 60000.0}
"#,
    );
    let sim = run_to_end(&s);
    let sum = sim.summary();
    assert!(sum.lag > 0);
    assert!(sum.max_lag >= sum.lag, "max_lag {} < lag {}", sum.max_lag, sum.lag);
    assert_last_point_agrees(&sim, "interval above the duration");
}

#[test]
fn downsampled_partition_lags_and_stage_depths_keep_their_peaks() {
    let mut s: Scenario = bplab_engine::preset("incident-106").expect("preset");
    s.sim.max_points = 16;
    let sim = run_to_end(&s);
    let series = sim.series();
    assert_last_point_agrees(&sim, "incident-106, 16 points");
    let topic = series.stages - 1;
    for i in 0..series.points.len() {
        let lag = series.points[i].lag;
        // Every gauge is the peak over the samples the point stands for: the topic's depth
        // is its lag, no partition's lag exceeds it and together they reach at least it.
        assert_eq!(series.depth_of(i, topic), lag, "point {i}: topic depth");
        let parts: Vec<u64> = (0..series.partitions).map(|p| series.lag_of(i, p)).collect();
        assert!(parts.iter().all(|&l| l <= lag), "point {i}: a partition above the lag");
        assert!(parts.iter().sum::<u64>() >= lag, "point {i}: partitions {parts:?} below the lag {lag}");
    }
    // Peaks survive: the highest per-partition lag recorded at full resolution is kept.
    let mut full = s.clone();
    full.sim.max_points = 1_000_000;
    let fine = run_to_end(&full);
    let fs = fine.series();
    let peak = |s: &bplab_engine::Series, p: usize| (0..s.points.len()).map(|i| s.lag_of(i, p)).max().unwrap_or(0);
    for p in 0..fs.partitions {
        assert_eq!(peak(series, p), peak(fs, p), "partition {p}'s peak lag");
    }
    let depth_peak = |s: &bplab_engine::Series, k: usize| (0..s.points.len()).map(|i| s.depth_of(i, k)).max().unwrap_or(0);
    for k in 0..fs.stages {
        assert_eq!(depth_peak(series, k), depth_peak(fs, k), "stage {k}'s peak depth");
    }
}

// ---- retention's cost (issue 10, fault 10) --------------------------------------------

/// Retention sweeping runs that members still hold (small fetches, a slow consumer): what
/// is handled or held of a partition is gathered once per sweep, not once per deleted run
/// (which cost ~15 µs per event). The speed is a benchmark (`bplab bench retention-held`
/// prints it); this checks what the sweep decides: retention loses only what nobody
/// handled or holds, and every message is still accounted for.
#[test]
fn retention_over_held_records_loses_only_what_nobody_holds() {
    let sim = run_to_end(&scenario(
        "duration_s = 30.0\nproducer = {rate_per_s = 1000000.0}\nstages = [{kind = \"topic\", retention_ms = 200.0}]\n\
         consumer = {rate_per_worker = 10000.0, fetch = {max_partition_fetch_bytes = 2048}, memory = {bytes_per_message = 0}}\n",
    ));
    let sum = sim.summary();
    assert!(sum.lost_by_cause.retention > 0, "retention deletes records nobody fetched in time");
    assert_eq!(sum.duplicated, 0, "nothing deleted was processed: no record came back twice");
    assert!(sim.ledger().balanced(), "{:?}", sim.ledger());
    assert!(sum.consumed > 250_000, "the worker kept working while retention swept: {}", sum.consumed);
}

// ---- kills and rebalances gather what is held once per partition ---------------------

/// Many kills and rebalances over tiny fetches, with retention: what a kill or a rebalance
/// discards is counted against what is handled or held, gathered once per partition. The
/// counts are those of the per-run computation this replaced (pinned from it).
#[test]
fn kills_over_tiny_fetches_lose_what_nobody_holds_as_before() {
    let sim = run_to_end(&scenario(
        r#"
duration_s = 20.0
producer = {rate_per_s = 1000000.0}
stages = [{kind = "topic", partitions = 40, retention_ms = 300.0}]
consumer = {members = 20, workers = 2, rate_per_worker = 10.0, commit = "auto", rebalance_ms = 20.0, fetch = {max_partition_fetch_bytes = 2048}, memory = {baseline_mib = 1, bytes_per_message = 10000, heap_limit_mib = 500, restart_delay_s = 0.1}}
"#,
    ));
    let sum = sim.summary();
    assert_eq!((sum.oom_kills, sum.rebalances), (20, 40));
    assert_eq!(sum.lost_by_cause.after_commit, 1_033_817);
    assert_eq!(sum.lost_by_cause.retention, 18_173_199);
    assert_eq!((sum.consumed, sum.duplicated, sum.produced), (7_900, 0, 19_999_001));
    assert!(sim.ledger().balanced(), "{:?}", sim.ledger());
}

// ---- a stage's sender holds what does not fit for one step, like the producer --------

/// Producer -> channel -> channel (its sender drop_newest or fail, capacity 100) -> a
/// consumer ten times faster, at 1 ms: runs of 1,000 are ten times the second channel's
/// capacity, which drains as they go. Only what does not fit within one step may be dropped.
fn two_channels(policy: &str) -> String {
    format!(
        r#"
duration_s = 5.0
sim = {{resolution_ms = 1.0}}
producer = {{rate_per_s = 1000000.0}}
stages = [{{kind = "channel", capacity = 5000}}, {{kind = "channel", capacity = 100, link = {{{policy}}}}}]
consumer = {{workers = 10, rate_per_worker = 1000000.0, memory = {{bytes_per_message = 0}}}}
"#
    )
}

#[test]
fn a_channel_sender_with_drop_newest_drops_only_what_does_not_fit_within_a_step() {
    for policy in [r#"on_full = "drop_newest""#, r#"on_full = "fail""#] {
        let sim = run_to_end(&scenario(&two_channels(policy)));
        let sum = sim.summary();
        assert!(sum.dropped <= sum.produced / 1000, "{policy}: dropped {} of {}", sum.dropped, sum.produced);
        assert!(sum.produced >= 4_990_000, "{policy}: produced {}", sum.produced);
        assert!(sim.ledger().balanced(), "{:?}", sim.ledger());
    }
}

#[test]
fn a_channel_sender_that_blocks_never_stalls_on_a_run_larger_than_its_receiver() {
    for policy in [r#"on_full = "block""#, r#"block_timeout_ms = 10.0"#] {
        let sim = run_to_end(&scenario(&two_channels(policy)));
        let sum = sim.summary();
        assert_eq!(sum.dropped, 0, "{policy}");
        assert!(sum.produced >= 4_990_000, "{policy}: produced {}", sum.produced);
        assert!(sum.consumed >= 4_980_000, "{policy}: consumed {}", sum.consumed);
        assert!(sum.producer_blocked_s < 0.01, "{policy}: blocked {} s", sum.producer_blocked_s);
    }
}

/// The same pipeline overloaded: the consumer (10 workers at 50,000 msg/s, `request(n)`
/// demand of 200) takes half of what arrives. The sender drops only the excess: the
/// consumer works at its capacity, the first channel does not fill, the producer is never
/// blocked. (Before, dropping at once what did not fit at each instant left the consumer
/// idle 60% of the time: 999,800 consumed.)
#[test]
fn an_overloaded_channel_sender_drops_only_the_excess() {
    let sim = run_to_end(&scenario(
        r#"
duration_s = 5.0
sim = {resolution_ms = 1.0}
producer = {rate_per_s = 1000000.0}
stages = [{kind = "channel", capacity = 5000}, {kind = "channel", capacity = 100, link = {on_full = "drop_newest"}}]
consumer = {workers = 10, rate_per_worker = 50000.0, link = {control = {kind = "request", prefetch = 200, replenish = 0.5, latency_ms = 0.0}}, memory = {bytes_per_message = 0}}
"#,
    ));
    let sum = sim.summary();
    assert!(sum.consumed >= 2_375_000, "the consumer works at capacity: {} of 2.5 M", sum.consumed);
    assert!(sum.dropped <= 2_625_000, "only the excess is dropped: {}", sum.dropped);
    assert!(sum.producer_blocked_s < 0.01, "blocked {} s", sum.producer_blocked_s);
    assert!(sim.ledger().balanced(), "{:?}", sim.ledger());
}

/// As above, with a first channel of 500 that drops its oldest: runs of 1,000 evict the
/// front the second channel's sender holds. What is evicted is no longer held, so the hold
/// never releases (drops) messages that arrived after it started.
#[test]
fn evictions_from_a_held_front_end_the_hold_for_what_they_take() {
    let sim = run_to_end(&scenario(
        r#"
duration_s = 5.0
sim = {resolution_ms = 1.0}
producer = {rate_per_s = 1000000.0}
stages = [{kind = "channel", capacity = 500, link = {on_full = "drop_oldest"}}, {kind = "channel", capacity = 100, link = {on_full = "drop_newest"}}]
consumer = {workers = 10, rate_per_worker = 50000.0, link = {control = {kind = "request", prefetch = 200, replenish = 0.5, latency_ms = 0.0}}, memory = {bytes_per_message = 0}}
"#,
    ));
    let sum = sim.summary();
    assert!(sum.consumed >= 2_375_000, "the consumer works at capacity: {} of 2.5 M", sum.consumed);
    assert!(sum.dropped_by.drop_newest <= 100_000, "the sender drops little: {}", sum.dropped_by.drop_newest);
    assert!(sim.ledger().balanced(), "{:?}", sim.ledger());
}
