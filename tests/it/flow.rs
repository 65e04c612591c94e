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
/// blocked for long, loses nothing to a block timeout, and sends at its rate.
mod always_drains {
    use super::*;
    use proptest::option;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed};

    fn channel(cap: u64, timeout: Option<f64>) -> String {
        match timeout {
            Some(t) => format!(r#"{{kind = "channel", capacity = {cap}, link = {{block_timeout_ms = {t:?}}}}}"#),
            None => format!(r#"{{kind = "channel", capacity = {cap}}}"#),
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
        ) {
            // At resolution 0 every message is an event: keep those runs small.
            let rate = if res == 0 { rate.min(2e4) } else { rate };
            let arrivals = if poisson { "poisson" } else { "constant" };
            let (stages, consumer) = if into_topic {
                let mut st: Vec<String> = caps.iter().map(|&c| channel(c, timeout)).collect();
                st.push(r#"{kind = "topic"}"#.into());
                (st, String::new())
            } else {
                (vec![channel(caps[0], timeout)], format!("consumer = {{workers = 10, rate_per_worker = {rate:?}, memory = {{bytes_per_message = 0}}}}"))
            };
            let text = format!(
                "duration_s = 2.0\nsim = {{resolution_ms = {res}.0}}\nproducer = {{rate_per_s = {rate:?}, arrivals = \"{arrivals}\"}}\nstages = [{}]\n{consumer}\n",
                stages.join(", ")
            );
            let sum = run_to_end(&scenario(&text)).summary();
            prop_assert_eq!(sum.dropped_by.block_timeout, 0, "{}", text);
            prop_assert!(sum.producer_blocked_s <= 0.02, "blocked {} s\n{}", sum.producer_blocked_s, text);
            // (Poisson: five standard deviations below the mean.)
            let expected = rate * 2.0;
            prop_assert!((sum.produced as f64) >= expected * 0.99 - 5.0 * expected.sqrt() - 2.0, "produced {} of {}\n{}", sum.produced, expected, text);
        }
    }
}
