//! Named scenarios, each with the lesson it teaches. Ids are stable: the CLI and the page
//! (and anyone's scripts) refer to them. Every strategy the engine models has one. Each
//! preset's explanation is content, not code: `content/presets.json` (id → paragraph),
//! fetched by the page, so the prose costs the download nothing (`tests/it/content.rs`
//! holds it to this list).

use crate::scenario::{
    AimdLimiterSpec, Arrivals, ChannelSpec, Commit, DownstreamSpec, FilterSpec, FlowControl, Gradient2LimiterSpec, KafkaProducerSpec,
    LimiterSpec, LinkSpec, MapSpec, Mode, OnFull, Ordering, Pattern, PauseSpec, ProducerMemorySpec, Scenario, ServiceDist, ShedSpec,
    SlowMessage, StageSpec, ThrottleSpec, TopicSpec,
};

/// Groups in the preset picker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// The reference incident and its direct variants.
    Incident,
    /// Buffers and what a full one does.
    Buffers,
    /// Credits and `request(n)`.
    Demand,
    /// Closing the loop across a topic, and adapting concurrency.
    Adaptive,
    /// Dropping work on purpose.
    Shedding,
    /// Kafka consumer and producer semantics.
    Kafka,
}

impl Family {
    pub fn label(self) -> &'static str {
        match self {
            Family::Incident => "Incident 106",
            Family::Buffers => "Buffers and overflow",
            Family::Demand => "Credits and request(n)",
            Family::Adaptive => "Feedback loops",
            Family::Shedding => "Load shedding",
            Family::Kafka => "Kafka semantics",
        }
    }
}

/// A named scenario and the lesson it teaches.
pub struct Preset {
    pub id: &'static str,
    pub family: Family,
    pub title: &'static str,
    build: fn() -> Scenario,
}

impl Preset {
    pub fn scenario(&self) -> Scenario {
        (self.build)()
    }
}

fn channel(capacity: Option<u64>, on_full: OnFull) -> StageSpec {
    StageSpec::Channel(ChannelSpec { capacity, link: LinkSpec { on_full, ..LinkSpec::default() }, shed: None })
}

fn topic() -> StageSpec {
    StageSpec::Topic(TopicSpec::default())
}

/// Producer → channel → consumer (sync, one message at a time), the in-process pipeline.
fn in_process(capacity: Option<u64>, on_full: OnFull) -> Scenario {
    let mut s = Scenario { stages: vec![channel(capacity, on_full)], ..Scenario::default() };
    s.consumer.mode = Mode::Sync;
    s.consumer.max_poll_records = 1;
    s.consumer.commit = Commit::Sync;
    s.duration_s = 120.0;
    s
}

fn incident_106() -> Scenario {
    Scenario::default()
}

fn incident_106_5k() -> Scenario {
    let mut s = Scenario::default();
    s.consumer.rate_per_worker = 5_000.0;
    s.duration_s = 180.0;
    s
}

fn incident_commit_after() -> Scenario {
    let mut s = Scenario::default();
    s.consumer.commit = Commit::Sync;
    s
}

fn fix_sync_poll() -> Scenario {
    let mut s = Scenario::default();
    s.consumer.mode = Mode::Sync;
    s.duration_s = 600.0;
    s
}

fn fix_blocking_channel() -> Scenario {
    let mut s = in_process(Some(100), OnFull::Block);
    s.duration_s = 600.0;
    s
}

fn buffer_bloat() -> Scenario {
    let mut s = in_process(None, OnFull::Block);
    // The channel lives in the producer's heap: 64 MiB to start, a 512 MiB limit.
    s.producer.memory = ProducerMemorySpec { baseline_mib: 64.0, heap_limit_mib: Some(512.0), restart_delay_s: 10.0 };
    s
}

fn bursts_absorbed() -> Scenario {
    let mut s = in_process(Some(5_000), OnFull::DropNewest);
    s.producer.rate_per_s = 1_500.0;
    s.producer.pattern = Pattern::OnOff { on_s: 2.0, off_s: 3.0, off_factor: 0.0, random: false };
    s.consumer.rate_per_worker = 1_000.0;
    s
}

fn block_timeout() -> Scenario {
    let mut s = in_process(Some(100), OnFull::Block);
    if let StageSpec::Channel(c) = &mut s.stages[0] {
        c.link.block_timeout_ms = Some(200.0);
    }
    s
}

fn drop_newest() -> Scenario {
    in_process(Some(1_000), OnFull::DropNewest)
}

fn drop_oldest() -> Scenario {
    in_process(Some(1_000), OnFull::DropOldest)
}

fn fail_fast() -> Scenario {
    in_process(Some(1_000), OnFull::Fail)
}

fn credits() -> Scenario {
    let mut s = Scenario::default();
    s.stages.clear();
    s.consumer.mode = Mode::Sync;
    s.consumer.link.control = FlowControl::Credit { initial: 1_000, grant: 500, batch: 100, latency_ms: 5.0 };
    s
}

fn reactive_request_n() -> Scenario {
    let mut s = Scenario {
        stages: vec![
            StageSpec::Map(MapSpec::default()),
            StageSpec::Filter(FilterSpec { pass_ratio: 0.5, link: LinkSpec::default() }),
            StageSpec::Channel(ChannelSpec {
                capacity: Some(256),
                link: LinkSpec { control: FlowControl::Request { prefetch: 256, replenish: 0.75, latency_ms: 0.1 }, ..LinkSpec::default() },
                shed: None,
            }),
        ],
        ..Scenario::default()
    };
    s.consumer.mode = Mode::Sync;
    s.consumer.link.control = FlowControl::Request { prefetch: 64, replenish: 0.75, latency_ms: 0.1 };
    s
}

fn throttled(spec: ThrottleSpec) -> Scenario {
    let mut s = Scenario::default();
    s.consumer.mode = Mode::Sync;
    s.producer.throttle = Some(spec);
    s.duration_s = 300.0;
    s
}

fn throttle_aimd() -> Scenario {
    throttled(ThrottleSpec::aimd())
}

fn throttle_pid() -> Scenario {
    throttled(ThrottleSpec::pid())
}

/// A consumer calling a dependency of 10 slots × 100 calls/s (capacity 1,000 calls/s) for
/// each message, fed at 1,200 msg/s (Poisson, 20% over capacity), with 200 threads.
fn downstream(limiter: Option<LimiterSpec>) -> Scenario {
    let mut s = Scenario::default();
    s.producer.rate_per_s = 1_200.0;
    s.producer.arrivals = Arrivals::Poisson;
    s.stages = vec![topic()];
    s.consumer.mode = Mode::Async;
    s.consumer.commit = Commit::Sync;
    s.consumer.workers = 200;
    s.consumer.downstream = Some(DownstreamSpec { slots: 10, rate_per_slot: 100.0, service: ServiceDist::Lognormal { sigma: 0.1 } });
    s.consumer.limiter = limiter;
    s.duration_s = 300.0;
    s
}

fn concurrency_unbounded() -> Scenario {
    downstream(None)
}

fn adaptive_aimd() -> Scenario {
    downstream(Some(LimiterSpec::Aimd(AimdLimiterSpec { min_limit: 1, initial_limit: 20, timeout_ms: 30.0, ..AimdLimiterSpec::default() })))
}

fn adaptive_vegas() -> Scenario {
    downstream(Some(LimiterSpec::vegas()))
}

fn adaptive_gradient2() -> Scenario {
    downstream(Some(LimiterSpec::Gradient2(Gradient2LimiterSpec { min_limit: 1, ..Gradient2LimiterSpec::default() })))
}

fn shedding(shed: ShedSpec) -> Scenario {
    let mut s = Scenario::default();
    s.consumer.shed = Some(shed);
    s
}

fn shed_queue_length() -> Scenario {
    shedding(ShedSpec::QueueLength { max_queue: 5_000 })
}

fn shed_deadline() -> Scenario {
    shedding(ShedSpec::Deadline { max_age_ms: 2_000.0 })
}

fn shed_red() -> Scenario {
    shedding(ShedSpec::Red { min_queue: 2_000, max_queue: 10_000, max_p: 0.2, weight: 0.002 })
}

fn pause_resume() -> Scenario {
    let mut s = Scenario::default();
    s.consumer.pause = Some(PauseSpec { high: 20_000, low: 10_000 });
    s.duration_s = 300.0;
    s
}

fn fetch_cache() -> Scenario {
    let mut s = Scenario::default();
    s.producer.rate_per_s = 2_000.0;
    s.producer.message_bytes = 65_536;
    s.stages = vec![StageSpec::Topic(TopicSpec { partitions: 50, ..TopicSpec::default() })];
    s.consumer.mode = Mode::Sync;
    s.consumer.max_poll_records = 10;
    s.consumer.rate_per_worker = 1_000.0;
    s.consumer.memory.bytes_per_message = 65_536;
    s.consumer.memory.heap_limit_mib = 100.0;
    s.duration_s = 60.0;
    s
}

fn rebalance_storm() -> Scenario {
    let mut s = Scenario::default();
    s.producer.rate_per_s = 40.0;
    s.stages = vec![StageSpec::Topic(TopicSpec { partitions: 4, ..TopicSpec::default() })];
    s.consumer.mode = Mode::Sync;
    s.consumer.max_poll_records = 500;
    s.consumer.rate_per_worker = 35.0;
    s.consumer.max_poll_interval_ms = 10_000.0;
    s.consumer.rebalance_ms = 2_000.0;
    s.duration_s = 300.0;
    s
}

fn consumer_group() -> Scenario {
    let mut s = Scenario::default();
    s.producer.rate_per_s = 3_000.0;
    s.stages = vec![StageSpec::Topic(TopicSpec { partitions: 10, ..TopicSpec::default() })];
    s.consumer.members = 3;
    s.consumer.rate_per_worker = 1_100.0;
    s.consumer.memory.heap_limit_mib = 70.0;
    s.consumer.rebalance_ms = 3_000.0;
    s.duration_s = 300.0;
    s
}

fn producer_quota() -> Scenario {
    let mut s = Scenario {
        stages: vec![StageSpec::KafkaProducer(KafkaProducerSpec { broker_rate_per_s: 5_000.0, ..KafkaProducerSpec::default() }), topic()],
        ..Scenario::default()
    };
    s.consumer.mode = Mode::Sync;
    s.consumer.workers = 20;
    s.duration_s = 120.0;
    s
}

fn retention_loss() -> Scenario {
    let mut s = Scenario::default();
    s.producer.rate_per_s = 1_000.0;
    s.stages = vec![StageSpec::Topic(TopicSpec { retention_ms: Some(60_000.0), ..TopicSpec::default() })];
    s.consumer.mode = Mode::Sync;
    s.consumer.rate_per_worker = 500.0;
    s.duration_s = 300.0;
    s
}

fn head_of_line() -> Scenario {
    let mut s = Scenario::default();
    s.producer.rate_per_s = 800.0;
    s.stages = vec![StageSpec::Topic(TopicSpec { partitions: 4, ..TopicSpec::default() })];
    s.consumer.mode = Mode::Async;
    s.consumer.commit = Commit::Sync;
    s.consumer.workers = 4;
    s.consumer.rate_per_worker = 250.0;
    s.consumer.ordering = Ordering::PerPartition;
    s.consumer.slow_message = Some(SlowMessage { at_s: 10.0, factor: 5_000.0 });
    s.duration_s = 60.0;
    s
}

/// Every preset, in the order the page lists them.
pub static PRESETS: &[Preset] = &[
    Preset { id: "incident-106", family: Family::Incident, title: "Incident 106: async hand-off until OOM", build: incident_106 },
    Preset { id: "incident-106-5k", family: Family::Incident, title: "Incident 106 with a 5,000 msg/s consumer", build: incident_106_5k },
    Preset {
        id: "incident-commit-after-processing",
        family: Family::Incident,
        title: "Incident 106, committing only what is processed",
        build: incident_commit_after,
    },
    Preset { id: "fix-sync-poll", family: Family::Incident, title: "Fix: process synchronously, poll when done", build: fix_sync_poll },
    Preset {
        id: "fix-blocking-channel",
        family: Family::Buffers,
        title: "Fix: a small blocking channel, no topic",
        build: fix_blocking_channel,
    },
    Preset { id: "buffer-bloat", family: Family::Buffers, title: "No backpressure: an unbounded buffer", build: buffer_bloat },
    Preset { id: "bursts-absorbed", family: Family::Buffers, title: "What buffers are for: absorbing bursts", build: bursts_absorbed },
    Preset { id: "block-timeout", family: Family::Buffers, title: "Blocking send with a timeout (max.block.ms)", build: block_timeout },
    Preset { id: "drop-newest", family: Family::Buffers, title: "Bounded buffer, drop the newest", build: drop_newest },
    Preset { id: "drop-oldest", family: Family::Buffers, title: "Bounded buffer, drop the oldest", build: drop_oldest },
    Preset { id: "fail-fast", family: Family::Buffers, title: "Bounded buffer, fail the send", build: fail_fast },
    Preset {
        id: "credits",
        family: Family::Demand,
        title: "Credit-based flow control (1,000 credits, send 100, grant 500)",
        build: credits,
    },
    Preset {
        id: "reactive-request-n",
        family: Family::Demand,
        title: "Reactive Streams request(n): map → filter → buffer → subscriber",
        build: reactive_request_n,
    },
    Preset { id: "throttle-aimd", family: Family::Adaptive, title: "Throttling the producer from lag: AIMD", build: throttle_aimd },
    Preset { id: "throttle-pid", family: Family::Adaptive, title: "Throttling the producer from lag: PID", build: throttle_pid },
    Preset {
        id: "concurrency-unbounded",
        family: Family::Adaptive,
        title: "200 threads against a dependency with 10 slots",
        build: concurrency_unbounded,
    },
    Preset {
        id: "adaptive-aimd",
        family: Family::Adaptive,
        title: "Adaptive concurrency: AIMD (Netflix concurrency-limits)",
        build: adaptive_aimd,
    },
    Preset { id: "adaptive-vegas", family: Family::Adaptive, title: "Adaptive concurrency: Vegas", build: adaptive_vegas },
    Preset { id: "adaptive-gradient2", family: Family::Adaptive, title: "Adaptive concurrency: Gradient2", build: adaptive_gradient2 },
    Preset { id: "shed-queue-length", family: Family::Shedding, title: "Load shedding: queue-length threshold", build: shed_queue_length },
    Preset { id: "shed-deadline", family: Family::Shedding, title: "Load shedding: deadline", build: shed_deadline },
    Preset { id: "shed-red", family: Family::Shedding, title: "Load shedding: random early detection (RED)", build: shed_red },
    Preset { id: "pause-resume", family: Family::Kafka, title: "Kafka pause() / resume() on in-flight watermarks", build: pause_resume },
    Preset { id: "fetch-cache", family: Family::Kafka, title: "max.poll.records does not limit fetching", build: fetch_cache },
    Preset {
        id: "rebalance-storm",
        family: Family::Kafka,
        title: "max.poll.interval.ms exceeded: a rebalance storm",
        build: rebalance_storm,
    },
    Preset { id: "consumer-group", family: Family::Kafka, title: "A consumer group of three, one crash", build: consumer_group },
    Preset { id: "producer-quota", family: Family::Kafka, title: "Producer buffer.memory against a broker quota", build: producer_quota },
    Preset { id: "retention-loss", family: Family::Kafka, title: "Retention deletes what nobody consumed", build: retention_loss },
    Preset {
        id: "head-of-line",
        family: Family::Kafka,
        title: "Head-of-line blocking: one slow record stalls its partition",
        build: head_of_line,
    },
];

/// The scenario of preset `id`.
pub fn preset(id: &str) -> Option<Scenario> {
    PRESETS.iter().find(|p| p.id == id).map(Preset::scenario)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_valid_and_ids_are_unique() {
        let mut ids: Vec<&str> = PRESETS.iter().map(|p| p.id).collect();
        for p in PRESETS {
            p.scenario().validate().unwrap_or_else(|e| panic!("{}: {e}", p.id));
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), PRESETS.len());
    }
}
