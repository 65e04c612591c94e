//! The credit and `request(n)` protocols, message by message, from the trace: every send
//! over a credit link carries exactly its batch (cut to a bounded receiver's capacity), the
//! sender's balance never goes below 0 nor above the window, grants and requests carry
//! exactly their configured sizes, and a sender stops only when it holds less than a batch.
//! The preset `credits` tells this story, so these are also the facts its lesson states.

use bplab_engine::scenario::{ChannelSpec, FlowControl, LinkSpec, OnFull, StageSpec};
use bplab_engine::{preset, Mode, Scenario, Simulation, TraceEvent, TraceKind};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

/// What a run's protocol did, link by link.
#[derive(Default, Debug)]
struct Protocol {
    /// Sizes of the sends over each link (`sends[j]`).
    sends: Vec<Vec<u64>>,
    /// Sizes of the grants or requests on each link.
    grants: Vec<Vec<u64>>,
    /// The producer's balance on link 1 each time it blocked.
    blocked_at: Vec<u64>,
    /// The lowest and highest balance each link's sender held.
    low: Vec<u64>,
    high: Vec<u64>,
}

/// Runs `s` for `secs` simulated seconds in small steps, following every window's balance
/// from the trace (a send spends, an arrival adds) and checking it against the engine's
/// own count after every step.
fn follow(s: &Scenario, secs: f64) -> Protocol {
    let mut sim = Simulation::new(s).expect("valid scenario");
    sim.set_tracing(true);
    let links = sim.snapshot().links.len();
    let mut bal: Vec<Option<i128>> = sim.snapshot().links.iter().map(|l| l.as_ref().map(|w| w.permits as i128)).collect();
    let mut p = Protocol {
        sends: vec![Vec::new(); links],
        grants: vec![Vec::new(); links],
        low: bal.iter().map(|b| b.unwrap_or(0) as u64).collect(),
        high: bal.iter().map(|b| b.unwrap_or(0) as u64).collect(),
        ..Protocol::default()
    };
    let mut trace: Vec<TraceEvent> = Vec::new();
    let step = 0.002;
    let mut t = 0.0;
    while t < secs {
        t += step;
        // Small steps: far fewer trace events than the engine keeps between two drains.
        sim.run_until(t, u64::MAX);
        trace.clear();
        sim.drain_trace(&mut trace);
        assert!(trace.len() < 4_000, "{} trace events in one step: some may be lost", trace.len());
        for ev in &trace {
            match ev.kind {
                TraceKind::Moved { to, n, .. } => {
                    let j = to as usize;
                    if let Some(b) = &mut bal[j] {
                        *b -= n as i128;
                        p.sends[j].push(n);
                    }
                }
                TraceKind::PermitsArrived { link, n } => {
                    if let Some(b) = &mut bal[link as usize] {
                        *b += n as i128;
                    }
                }
                TraceKind::Granted { link, n } | TraceKind::Requested { link, n } => p.grants[link as usize].push(n),
                TraceKind::Blocked => {
                    if let Some(b) = bal.get(1).copied().flatten() {
                        p.blocked_at.push(b as u64);
                    }
                }
                TraceKind::OomKill { .. } => panic!("these runs have no kills (a restart reopens the window)"),
                _ => {}
            }
            for (j, b) in bal.iter().enumerate() {
                if let Some(b) = b {
                    assert!(*b >= 0, "link {j}: balance {b} below zero at {} s", ev.t_s);
                    p.low[j] = p.low[j].min(*b as u64);
                    p.high[j] = p.high[j].max(*b as u64);
                }
            }
        }
        let snap = sim.snapshot();
        for (j, b) in bal.iter().enumerate() {
            if let Some(b) = b {
                assert_eq!(*b as u64, snap.links[j].as_ref().unwrap().permits, "link {j} at {t} s: the trace and the engine disagree");
            }
        }
    }
    p
}

fn credit(initial: u64, grant: u64, batch: u64) -> FlowControl {
    FlowControl::Credit { initial, grant, batch, latency_ms: 5.0 }
}

/// The producer sends straight to a pushed consumer over `control`.
fn direct(control: FlowControl) -> Scenario {
    let mut s = Scenario::default();
    s.stages.clear();
    s.consumer.mode = Mode::Sync;
    s.consumer.link.control = control;
    s
}

#[test]
fn the_credits_preset_sends_batches_of_100_from_1000_down_to_0() {
    let s = preset("credits").unwrap();
    let FlowControl::Credit { initial: 1_000, grant: 500, batch: 100, .. } = s.consumer.link.control else {
        panic!("the preset's lesson speaks of 1,000 credits, grants of 500 and batches of 100")
    };
    let p = follow(&s, 20.0);
    let sends = &p.sends[1];
    assert!(sends.len() > 50, "{} sends", sends.len());
    assert!(sends.iter().all(|&n| n == 100), "sends other than 100: {:?}", sends.iter().filter(|&&n| n != 100).collect::<Vec<_>>());
    assert!(p.grants[1].len() > 10 && p.grants[1].iter().all(|&n| n == 500), "{:?}", p.grants[1]);
    assert_eq!((p.low[1], p.high[1]), (0, 1_000), "the balance runs from 1,000 down to 0");
    // It stops only when it holds less than a batch, which here is at 0.
    assert!(!p.blocked_at.is_empty());
    assert!(p.blocked_at.iter().all(|&b| b == 0), "stopped at {:?}", p.blocked_at);
    let sum = Simulation::new(&s).map(|mut sim| {
        sim.run_until(60.0, u64::MAX);
        sim.summary()
    });
    let sum = sum.unwrap();
    assert!(sum.max_in_flight <= 1_000);
    assert!((sum.throughput_msgs_per_s - 500.0).abs() < 15.0, "{}", sum.throughput_msgs_per_s);
}

#[test]
fn a_sender_stops_below_one_batch_not_at_zero() {
    // Batches of 300 out of 1,000: 1,000, 700, 400, 100, stop.
    let p = follow(&direct(credit(1_000, 500, 300)), 5.0);
    assert!(p.sends[1].iter().all(|&n| n == 300), "{:?}", p.sends[1]);
    assert_eq!(p.blocked_at.first(), Some(&100));
    assert!(p.blocked_at.iter().all(|&b| b < 300), "{:?}", p.blocked_at);
    assert!(p.high[1] <= 1_000);
}

#[test]
fn the_producer_fills_a_batch_without_blocking() {
    // 50 msg/s and batches of 100: the first batch leaves at 2 s, the producer never blocked.
    let mut s = direct(credit(1_000, 500, 100));
    s.producer.rate_per_s = 50.0;
    let mut sim = Simulation::new(&s).unwrap();
    sim.run_until(1.9, u64::MAX);
    assert_eq!(sim.summary().produced, 0, "nothing sent before a whole batch");
    let pending = sim.ledger().producer_pending;
    assert!((90..100).contains(&pending), "{pending} waiting for the batch to fill");
    sim.run_until(2.1, u64::MAX);
    let sum = sim.summary();
    assert_eq!(sum.produced, 100);
    assert_eq!(sum.producer_blocked_s, 0.0);
}

#[test]
fn a_channel_sender_sends_whole_batches_too() {
    // The producer fills an unbounded channel at 10,000 msg/s in runs of 10; the channel's
    // sender sends batches of 100 over the consumer's credit link.
    let mut s = direct(credit(1_000, 500, 100));
    s.stages = vec![StageSpec::Channel(ChannelSpec { capacity: None, link: LinkSpec::default(), shed: None })];
    let p = follow(&s, 10.0);
    assert!(p.sends[2].len() > 20);
    assert!(p.sends[2].iter().all(|&n| n == 100), "{:?}", p.sends[2]);
    assert!(p.grants[2].iter().all(|&n| n == 500));
    assert_eq!((p.low[2], p.high[2]), (0, 1_000));
}

#[test]
fn a_batch_larger_than_its_channel_is_cut_to_the_capacity() {
    // Batches of 100 into a channel of 40: every send carries 40.
    let mut s = direct(FlowControl::None {});
    s.stages = vec![StageSpec::Channel(ChannelSpec {
        capacity: Some(40),
        link: LinkSpec { control: credit(1_000, 200, 100), ..LinkSpec::default() },
        shed: None,
    })];
    let p = follow(&s, 5.0);
    assert!(p.sends[1].len() > 20);
    assert!(p.sends[1].iter().all(|&n| n == 40), "{:?}", p.sends[1]);
    assert!(p.grants[1].iter().all(|&n| n == 200));
    assert!(p.high[1] <= 1_000);
}

#[test]
fn request_n_carries_its_configured_n() {
    let s = preset("reactive-request-n").unwrap();
    // The buffer prefetches 256 and replenishes 75% of it; the subscriber 64 and 75%.
    let p = follow(&s, 10.0);
    assert_eq!(p.grants[3].iter().copied().min(), Some(192));
    assert_eq!(p.grants[3].iter().copied().max(), Some(192));
    assert_eq!(p.grants[4].iter().copied().min(), Some(48));
    assert_eq!(p.grants[4].iter().copied().max(), Some(48));
    assert!(p.grants[3].len() > 10 && p.grants[4].len() > 10);
    assert!(p.high[3] <= 256 && p.high[4] <= 64, "{:?}", p.high);
    // Sends take any number up to the demand held.
    assert!(p.sends[4].iter().all(|&n| (1..=64).contains(&n)));
}

// ---- a property over random credit links ---------------------------------------------

/// Where the credit link sits.
#[derive(Clone, Copy, Debug)]
enum Place {
    /// The producer sends over it straight to the consumer.
    Producer,
    /// A channel (unbounded) in front of the consumer sends over it.
    Channel,
    /// It enters a bounded channel of this capacity, which the consumer polls.
    IntoChannel(u64),
}

fn place() -> impl Strategy<Value = Place> {
    prop_oneof![Just(Place::Producer), Just(Place::Channel), (1u64..400).prop_map(Place::IntoChannel)]
}

fn config() -> Config {
    Config { cases: 32, rng_seed: RngSeed::Fixed(20_261_207), failure_persistence: None, ..Config::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_send_is_one_batch_and_the_balance_stays_in_the_window(
        (initial, grant, batch) in (1u64..2_000).prop_flat_map(|i| (Just(i), 1..=i, 1..=i)),
        latency_ms in 0.0..20.0f64,
        rate in 50.0..20_000.0f64,
        consumer_rate in 100.0..5_000.0f64,
        place in place(),
        on_full in prop_oneof![Just(OnFull::Block), Just(OnFull::DropNewest), Just(OnFull::Fail)],
        resolution_ms in prop_oneof![Just(0.0), Just(1.0), Just(5.0)],
    ) {
        let control = FlowControl::Credit { initial, grant, batch, latency_ms };
        let link = LinkSpec { control: control.clone(), on_full, block_timeout_ms: None };
        let mut s = Scenario::default();
        s.sim.resolution_ms = resolution_ms;
        s.producer.rate_per_s = rate;
        s.consumer.mode = Mode::Sync;
        s.consumer.rate_per_worker = consumer_rate;
        s.consumer.memory.heap_limit_mib = 1_048_576.0;
        let (j, unit) = match place {
            Place::Producer => {
                s.stages.clear();
                s.consumer.link = link;
                (1, batch)
            }
            Place::Channel => {
                s.stages = vec![StageSpec::Channel(ChannelSpec { capacity: None, link: LinkSpec::default(), shed: None })];
                s.consumer.link = link;
                (2, batch)
            }
            Place::IntoChannel(cap) => {
                s.stages = vec![StageSpec::Channel(ChannelSpec { capacity: Some(cap), link, shed: None })];
                s.consumer.link = LinkSpec::default();
                (1, batch.min(cap))
            }
        };
        prop_assume!(s.validate().is_ok());
        let p = follow(&s, 3.0);
        prop_assert!(p.sends[j].iter().all(|&n| n == unit), "sends over link {} other than {}: {:?}", j, unit, p.sends[j]);
        prop_assert!(p.grants[j].iter().all(|&n| n == grant), "grants other than {}: {:?}", grant, p.grants[j]);
        prop_assert!(p.high[j] <= initial, "balance {} above the window {}", p.high[j], initial);
        if matches!(place, Place::Producer) {
            prop_assert!(p.blocked_at.iter().all(|&b| b < unit), "stopped holding a batch's credits: {:?}", p.blocked_at);
        }
    }
}
