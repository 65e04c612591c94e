//! The consumer group's timers, rebalances and downstream calls as Kafka documents them
//! (issue 10).

use bplab_engine::{preset, Scenario, Simulation, StageSpec, TopicSpec};

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
