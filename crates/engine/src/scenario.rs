//! The scenario: plain serde data describing one pipeline, and its validation.
//!
//! A scenario is a producer, a chain of zero or more stages and a consumer (group). Stages
//! are bounded or unbounded channels, Reactive Streams operators (`map`, `filter`), a Kafka
//! producer client, and at most one topic, which must come last. Every stage (and the
//! consumer) says how messages enter it in its `link`: the flow control on that link
//! (none, credits, `request(n)`) and what the sender does when the receiver is full
//! (block, optionally with a timeout; drop newest; drop oldest; fail).
//!
//! Every number has its unit in its name. The only errors the engine ever returns are
//! [`ScenarioError`]s from [`Scenario::validate`]: each names the field (as a dotted path
//! that `bplab run --set` accepts) and the allowed range. `docs/scenario.md` documents
//! every field.

use crate::control::{LimiterSpec, ThrottleSpec};
use crate::traffic::Pattern;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One complete, self-contained experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scenario {
    /// Seed of every random stream (arrivals, service times, drops); same seed, same run.
    pub seed: u64,
    /// How long a headless run lasts, in simulated seconds.
    pub duration_s: f64,
    pub sim: SimSettings,
    pub producer: ProducerSpec,
    /// Stages between producer and consumer, upstream first.
    pub stages: Vec<StageSpec>,
    pub consumer: ConsumerSpec,
}

/// Engine resolution and recording.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimSettings {
    /// Arrivals (and completions) closer together than this are handled together as one
    /// run; 0 handles every message alone (exact, slower at high rates).
    pub resolution_ms: f64,
    /// Simulated time between two points of the time series.
    pub sample_interval_ms: f64,
    /// Points kept; beyond this the series is halved (neighbours merged) and the interval doubles.
    pub max_points: u32,
}

/// How the producer's messages arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arrivals {
    /// Evenly spaced at the current rate.
    Constant,
    /// A Poisson process at the current rate (exponential gaps, seeded).
    Poisson,
}

/// A push producer: it sends as fast as its source produces and only slows down when a
/// send blocks, or when a throttle lowers its rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProducerSpec {
    /// Base rate; the pattern modulates it and a throttle may lower it.
    pub rate_per_s: f64,
    pub arrivals: Arrivals,
    pub pattern: Pattern,
    /// Size of one message on the wire (Kafka producer buffer, batches, retention, fetches).
    pub message_bytes: u64,
    /// Dynamic throttling of the producer from the consumer's lag.
    pub throttle: Option<ThrottleSpec>,
}

/// Flow control on a link: who decides how much the sender may send.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FlowControl {
    /// Only the receiver's capacity limits the sender. (An empty struct variant, not a unit
    /// one: serde ignores unknown keys beside a unit variant's tag.)
    None {},
    /// Credit-based: the sender holds credits and spends one per message, in batches of
    /// `batch`; the receiver grants `grant` credits back each time it has finished `grant`
    /// messages; grants travel back in `latency_ms`.
    Credit { initial: u64, grant: u64, batch: u64, latency_ms: f64 },
    /// Reactive Streams `request(n)`: the receiver requests `prefetch` up front and, each time
    /// `replenish` × prefetch of them have been consumed, requests that many again (Reactor's
    /// `limitRate(high, low)` with low = 75% of high by default). Requests take `latency_ms`.
    Request { prefetch: u64, replenish: f64, latency_ms: f64 },
}

impl Default for FlowControl {
    fn default() -> Self {
        FlowControl::None {}
    }
}

/// What a sender does when the receiver cannot take a message now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OnFull {
    /// Wait (a Go channel send, a blocking queue's `put`); see `block_timeout_ms`.
    #[default]
    Block,
    /// Discard the message being sent.
    DropNewest,
    /// Make room by discarding the oldest message held by the receiver (bounded receivers only).
    DropOldest,
    /// The send fails at once (the caller sees an error; the message is gone).
    Fail,
}

/// How messages enter a stage or the consumer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct LinkSpec {
    pub control: FlowControl,
    pub on_full: OnFull,
    /// With `on_full = "block"`: a send blocked longer than this fails (like `max.block.ms`).
    pub block_timeout_ms: Option<f64>,
}

/// Load shedding: dropping work early, on purpose, to protect latency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ShedSpec {
    /// Drop arrivals while the queue holds `max_queue` or more.
    QueueLength { max_queue: u64 },
    /// Drop queued messages older than `max_age_ms` instead of starting them (a deadline).
    Deadline { max_age_ms: f64 },
    /// Random early detection: drop arrivals with a probability rising linearly from 0 at
    /// `min_queue` to `max_p` at `max_queue` (and 1 above), on an EWMA of the queue length
    /// with weight `weight`.
    Red { min_queue: u64, max_queue: u64, max_p: f64, weight: f64 },
}

/// A stage between producer and consumer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StageSpec {
    /// A buffer (Go channel, blocking queue, Reactor `publishOn`/`onBackpressureBuffer`).
    Channel(ChannelSpec),
    /// A Reactive Streams `map`: passes messages (and demand) straight through.
    Map(MapSpec),
    /// A Reactive Streams `filter`: passes `pass_ratio` of the messages; requests one more
    /// upstream for each one it drops, as Reactor's filter does.
    Filter(FilterSpec),
    /// Kafka's producer client: `buffer.memory` of records waiting to be sent in batches to a
    /// broker that accepts `broker_rate_per_s` (ingest capacity or produce quota: the broker
    /// delays its answers, the client sees throttling, not errors). A full buffer blocks
    /// `send()` for up to `max.block.ms`, then the send fails.
    KafkaProducer(KafkaProducerSpec),
    /// A Kafka-like topic: partitions are append-only logs, never full; the consumer pulls.
    Topic(TopicSpec),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelSpec {
    /// Messages held before the link's `on_full` applies; absent = unbounded.
    pub capacity: Option<u64>,
    pub link: LinkSpec,
    pub shed: Option<ShedSpec>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct MapSpec {
    pub link: LinkSpec,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilterSpec {
    /// Fraction of messages that pass (0 < pass_ratio ≤ 1).
    pub pass_ratio: f64,
    pub link: LinkSpec,
}

impl Default for FilterSpec {
    fn default() -> Self {
        FilterSpec { pass_ratio: 0.5, link: LinkSpec::default() }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaProducerSpec {
    /// `buffer.memory` (default 32 MiB).
    pub buffer_memory_bytes: u64,
    /// `batch.size` (default 16 KiB).
    pub batch_size_bytes: u64,
    /// `linger.ms` (default 5 ms, Kafka 4.0).
    pub linger_ms: f64,
    /// `max.block.ms` (default 60 s).
    pub max_block_ms: f64,
    /// Records per second the broker accepts from this producer.
    pub broker_rate_per_s: f64,
}

impl Default for KafkaProducerSpec {
    fn default() -> Self {
        KafkaProducerSpec {
            buffer_memory_bytes: 33_554_432,
            batch_size_bytes: 16_384,
            linger_ms: 5.0,
            max_block_ms: 60_000.0,
            broker_rate_per_s: 1_000_000.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TopicSpec {
    /// Partitions; the producer spreads records over them round-robin.
    pub partitions: u32,
    /// Round trip of one fetch from the broker.
    pub fetch_latency_ms: f64,
    /// `retention.ms`: records older than this are deleted, consumed or not.
    pub retention_ms: Option<f64>,
    /// `retention.bytes` per partition: the oldest records go first.
    pub retention_bytes: Option<u64>,
}

impl Default for TopicSpec {
    fn default() -> Self {
        TopicSpec { partitions: 10, fetch_latency_ms: 1.0, retention_ms: None, retention_bytes: None }
    }
}

/// How the consumer's poll loop treats a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Poll, process the whole batch, then poll again.
    Sync,
    /// Hand the batch to the workers and poll again at once (`processAsync`).
    Async,
}

/// When offsets are committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Commit {
    /// `enable.auto.commit`: at a poll, once `auto_commit_interval_ms` has passed, the
    /// position of the records polled so far is committed, processed or not.
    Auto,
    /// `commitSync` of processed records: after each batch in sync mode, as processing
    /// completes in async mode. The loop waits `commit_latency_ms`.
    #[serde(alias = "after_processing")]
    Sync,
    /// `commitAsync` of processed records: the loop does not wait; the commit takes effect
    /// `commit_latency_ms` later, unless the consumer dies first.
    Async,
}

/// Service-time distribution (mean = 1 / rate).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServiceDist {
    /// Every message takes exactly the mean. (Empty struct variants, not unit ones: serde
    /// ignores unknown keys beside a unit variant's tag.)
    Deterministic {},
    Exponential {},
    /// Log-normal with shape `sigma` (the standard deviation of the log).
    Lognormal {
        sigma: f64,
    },
}

impl Default for ServiceDist {
    fn default() -> Self {
        ServiceDist::Deterministic {}
    }
}

/// Order of processing across workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Ordering {
    /// Any idle worker takes the oldest waiting message.
    #[default]
    Any,
    /// A partition's records are processed one after another (at most one worker per
    /// partition): a slow record holds up its whole partition (head-of-line blocking).
    PerPartition,
}

/// One message that takes much longer than the others (a poison pill).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlowMessage {
    /// The first message to start processing at or after this time is the slow one.
    pub at_s: f64,
    /// It takes this many times the normal service time.
    pub factor: f64,
}

/// Kafka fetch sizes (`max.partition.fetch.bytes`, `fetch.max.bytes`): how much one fetch
/// brings into the consumer's fetch cache, whatever `max.poll.records` is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FetchSpec {
    pub max_partition_fetch_bytes: u64,
    pub fetch_max_bytes: u64,
}

impl Default for FetchSpec {
    fn default() -> Self {
        FetchSpec { max_partition_fetch_bytes: 1_048_576, fetch_max_bytes: 52_428_800 }
    }
}

/// Kafka `pause()`/`resume()` driven by the consumer's in-flight count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PauseSpec {
    /// Pause fetching when this many messages are in flight.
    pub high: u64,
    /// Resume when in-flight falls to this.
    pub low: u64,
}

/// A dependency the consumer calls for each message (a database, a service), with a fixed
/// number of parallel slots: calls beyond that queue there and take longer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DownstreamSpec {
    pub slots: u32,
    /// Calls one slot serves per second.
    pub rate_per_slot: f64,
    pub service: ServiceDist,
}

impl Default for DownstreamSpec {
    fn default() -> Self {
        DownstreamSpec { slots: 10, rate_per_slot: 100.0, service: ServiceDist::Exponential {} }
    }
}

/// The consumer (group): poll loops feeding worker pools, in processes with bounded heaps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsumerSpec {
    /// How messages reach the consumer when they are pushed (from the producer, an operator,
    /// or a channel under credits or `request(n)`). From a topic, or a channel with no flow
    /// control, the consumer polls instead.
    pub link: LinkSpec,
    pub mode: Mode,
    /// Members of the consumer group (each with its own workers and heap); partitions are
    /// assigned round-robin among live members.
    pub members: u32,
    /// `max.poll.records`: records one poll returns at most.
    pub max_poll_records: u32,
    /// Worker threads per member.
    pub workers: u32,
    /// Messages one worker processes per second (mean).
    pub rate_per_worker: f64,
    pub service: ServiceDist,
    pub ordering: Ordering,
    pub slow_message: Option<SlowMessage>,
    pub commit: Commit,
    /// `auto.commit.interval.ms`.
    pub auto_commit_interval_ms: f64,
    /// Time a commit takes to reach the broker.
    pub commit_latency_ms: f64,
    /// How long a poll waits for data before returning empty.
    pub poll_timeout_ms: f64,
    pub fetch: FetchSpec,
    /// `max.poll.interval.ms`: a member that does not poll for this long leaves the group.
    pub max_poll_interval_ms: f64,
    /// How long a rebalance stops the group.
    pub rebalance_ms: f64,
    pub pause: Option<PauseSpec>,
    /// Load shedding on the consumer's queue of received, unstarted messages.
    pub shed: Option<ShedSpec>,
    pub downstream: Option<DownstreamSpec>,
    /// Adaptive concurrency limit on calls in flight (needs `downstream`, or limits workers).
    pub limiter: Option<LimiterSpec>,
    pub memory: MemorySpec,
}

/// The consumer's heap: a baseline plus a cost per message it holds (fetched or in flight).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemorySpec {
    pub baseline_mib: f64,
    pub bytes_per_message: u64,
    /// Past this the process is OOM-killed.
    pub heap_limit_mib: f64,
    /// Time from a kill until the consumer polls again.
    pub restart_delay_s: f64,
}

impl Default for Scenario {
    /// The reference incident: `incident-106`.
    fn default() -> Self {
        Scenario {
            seed: 1,
            duration_s: 120.0,
            sim: SimSettings::default(),
            producer: ProducerSpec::default(),
            stages: vec![
                StageSpec::Channel(ChannelSpec { capacity: Some(10_000), ..ChannelSpec::default() }),
                StageSpec::Topic(TopicSpec::default()),
            ],
            consumer: ConsumerSpec::default(),
        }
    }
}

impl Default for SimSettings {
    fn default() -> Self {
        SimSettings { resolution_ms: 1.0, sample_interval_ms: 100.0, max_points: 2_000 }
    }
}

impl Default for ProducerSpec {
    fn default() -> Self {
        ProducerSpec {
            rate_per_s: 10_000.0,
            arrivals: Arrivals::Constant,
            pattern: Pattern::default(),
            message_bytes: 1_024,
            throttle: None,
        }
    }
}

impl Default for ConsumerSpec {
    fn default() -> Self {
        ConsumerSpec {
            link: LinkSpec::default(),
            mode: Mode::Async,
            members: 1,
            max_poll_records: 1_000,
            workers: 1,
            rate_per_worker: 500.0,
            service: ServiceDist::Deterministic {},
            ordering: Ordering::Any,
            slow_message: None,
            commit: Commit::Auto,
            auto_commit_interval_ms: 5_000.0,
            commit_latency_ms: 0.0,
            poll_timeout_ms: 100.0,
            fetch: FetchSpec::default(),
            max_poll_interval_ms: 300_000.0,
            rebalance_ms: 3_000.0,
            pause: None,
            shed: None,
            downstream: None,
            limiter: None,
            memory: MemorySpec::default(),
        }
    }
}

impl Default for MemorySpec {
    fn default() -> Self {
        MemorySpec { baseline_mib: 64.0, bytes_per_message: 1_024, heap_limit_mib: 512.0, restart_delay_s: 10.0 }
    }
}

/// One problem with one field.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    /// Dotted path, as `--set` takes it: `consumer.max_poll_records`, `stages.0.capacity`.
    pub field: String,
    /// What is allowed, and what was given.
    pub message: String,
}

/// Everything wrong with a scenario (never empty).
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioError {
    pub errors: Vec<FieldError>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", e.field, e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// Allowed ranges, shared by validation, the CLI and the page's sliders.
pub mod limits {
    pub const RATE_PER_S: (f64, f64) = (0.001, 10_000_000.0);
    pub const MESSAGE_BYTES: (u64, u64) = (1, 104_857_600);
    pub const CHANNEL_CAPACITY: (u64, u64) = (1, 1_000_000_000);
    pub const PARTITIONS: (u64, u64) = (1, 1_024);
    pub const FETCH_LATENCY_MS: (f64, f64) = (0.0, 10_000.0);
    pub const LATENCY_MS: (f64, f64) = (0.0, 60_000.0);
    pub const WINDOW: (u64, u64) = (1, 1_000_000_000);
    pub const BLOCK_TIMEOUT_MS: (f64, f64) = (0.0, 3_600_000.0);
    pub const PASS_RATIO: (f64, f64) = (0.001, 1.0);
    pub const AGE_MS: (f64, f64) = (0.001, 86_400_000.0);
    pub const PROBABILITY: (f64, f64) = (0.0, 1.0);
    pub const EWMA_WEIGHT: (f64, f64) = (0.000_001, 1.0);
    pub const BUFFER_BYTES: (u64, u64) = (1, 1_099_511_627_776);
    pub const LINGER_MS: (f64, f64) = (0.0, 60_000.0);
    pub const RETENTION_MS: (f64, f64) = (1.0, 31_536_000_000.0);
    pub const MAX_POLL_RECORDS: (u64, u64) = (1, 1_000_000);
    pub const MEMBERS: (u64, u64) = (1, 64);
    pub const WORKERS: (u64, u64) = (1, 10_000);
    pub const RATE_PER_WORKER: (f64, f64) = (0.001, 10_000_000.0);
    pub const SIGMA: (f64, f64) = (0.01, 3.0);
    pub const SLOW_FACTOR: (f64, f64) = (1.0, 1_000_000.0);
    pub const AUTO_COMMIT_INTERVAL_MS: (f64, f64) = (1.0, 3_600_000.0);
    pub const POLL_TIMEOUT_MS: (f64, f64) = (1.0, 60_000.0);
    pub const MAX_POLL_INTERVAL_MS: (f64, f64) = (1.0, 86_400_000.0);
    pub const REBALANCE_MS: (f64, f64) = (0.0, 600_000.0);
    pub const SLOTS: (u64, u64) = (1, 100_000);
    pub const BASELINE_MIB: (f64, f64) = (0.0, 1_048_576.0);
    pub const BYTES_PER_MESSAGE: (u64, u64) = (0, 1_073_741_824);
    pub const HEAP_LIMIT_MIB: (f64, f64) = (1.0, 1_048_576.0);
    pub const RESTART_DELAY_S: (f64, f64) = (0.0, 3_600.0);
    pub const RESOLUTION_MS: (f64, f64) = (0.0, 100.0);
    pub const SAMPLE_INTERVAL_MS: (f64, f64) = (1.0, 3_600_000.0);
    pub const MAX_POINTS: (u64, u64) = (16, 1_000_000);
    pub const DURATION_S: (f64, f64) = (0.001, 31_536_000.0);
    pub const TIME_S: (f64, f64) = (0.0, 31_536_000.0);
    pub const STAGES: usize = 16;
}

/// Collects field errors; shared with the controller and traffic modules.
pub struct Check {
    pub errors: Vec<FieldError>,
}

impl Check {
    pub fn new() -> Check {
        Check { errors: Vec::new() }
    }

    pub fn fail(&mut self, field: &str, message: String) {
        self.errors.push(FieldError { field: field.to_string(), message });
    }

    pub fn float(&mut self, field: &str, v: f64, (lo, hi): (f64, f64), unit: &str) {
        if !v.is_finite() || v < lo || v > hi {
            let unit = if unit.is_empty() { String::new() } else { format!(" {unit}") };
            self.fail(field, format!("must be a number from {lo} to {hi}{unit} (got {v})"));
        }
    }

    pub fn int(&mut self, field: &str, v: u64, (lo, hi): (u64, u64), unit: &str) {
        if v < lo || v > hi {
            let unit = if unit.is_empty() { String::new() } else { format!(" {unit}") };
            self.fail(field, format!("must be a whole number from {lo} to {hi}{unit} (got {v})"));
        }
    }
}

impl Default for Check {
    fn default() -> Self {
        Check::new()
    }
}

fn check_link(c: &mut Check, at: &str, link: &LinkSpec, bounded: bool) {
    use limits::*;
    match &link.control {
        FlowControl::None {} => {}
        FlowControl::Credit { initial, grant, batch, latency_ms } => {
            c.int(&format!("{at}.control.initial"), *initial, WINDOW, "credits");
            c.int(&format!("{at}.control.grant"), *grant, WINDOW, "credits");
            c.int(&format!("{at}.control.batch"), *batch, WINDOW, "messages");
            c.float(&format!("{at}.control.latency_ms"), *latency_ms, LATENCY_MS, "ms");
            if *batch > *initial {
                c.fail(
                    &format!("{at}.control.batch"),
                    format!("must not exceed control.initial ({initial}), or nothing is ever sent (got {batch})"),
                );
            }
            if *grant > *initial {
                c.fail(
                    &format!("{at}.control.grant"),
                    format!("must not exceed control.initial ({initial}), or credits run dry (got {grant})"),
                );
            }
        }
        FlowControl::Request { prefetch, replenish, latency_ms } => {
            c.int(&format!("{at}.control.prefetch"), *prefetch, WINDOW, "messages");
            c.float(&format!("{at}.control.replenish"), *replenish, (0.01, 1.0), "of prefetch");
            c.float(&format!("{at}.control.latency_ms"), *latency_ms, LATENCY_MS, "ms");
        }
    }
    if let Some(t) = link.block_timeout_ms {
        c.float(&format!("{at}.block_timeout_ms"), t, BLOCK_TIMEOUT_MS, "ms");
    }
    if link.on_full == OnFull::DropOldest && !bounded {
        c.fail(&format!("{at}.on_full"), "\"drop_oldest\" needs a bounded receiver (a channel with a capacity)".into());
    }
}

/// Operators hold nothing: demand passes through them, so flow control belongs on the
/// buffer or consumer after them.
fn check_operator_link(c: &mut Check, at: &str, link: &LinkSpec) {
    if !matches!(link.control, FlowControl::None { .. }) {
        c.fail(
            &format!("{at}.control"),
            "map and filter pass demand through: put credits or request(n) on the channel or consumer after them".into(),
        );
    }
}

fn check_shed(c: &mut Check, at: &str, shed: &ShedSpec) {
    use limits::*;
    match shed {
        ShedSpec::QueueLength { max_queue } => c.int(&format!("{at}.max_queue"), *max_queue, CHANNEL_CAPACITY, "messages"),
        ShedSpec::Deadline { max_age_ms } => c.float(&format!("{at}.max_age_ms"), *max_age_ms, AGE_MS, "ms"),
        ShedSpec::Red { min_queue, max_queue, max_p, weight } => {
            c.int(&format!("{at}.min_queue"), *min_queue, (0, CHANNEL_CAPACITY.1), "messages");
            c.int(&format!("{at}.max_queue"), *max_queue, CHANNEL_CAPACITY, "messages");
            c.float(&format!("{at}.max_p"), *max_p, PROBABILITY, "");
            c.float(&format!("{at}.weight"), *weight, EWMA_WEIGHT, "");
            if min_queue >= max_queue {
                c.fail(&format!("{at}.min_queue"), format!("must be below max_queue ({max_queue}) (got {min_queue})"));
            }
        }
    }
}

fn check_service(c: &mut Check, at: &str, s: &ServiceDist) {
    if let ServiceDist::Lognormal { sigma } = s {
        c.float(&format!("{at}.sigma"), *sigma, limits::SIGMA, "");
    }
}

impl Scenario {
    /// Reads a scenario from any serde format; a malformed document gives an error naming
    /// the field (dotted path) where it went wrong. Does not validate ranges.
    pub fn deserialize_named<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Scenario, ScenarioError> {
        serde_path_to_error::deserialize(d).map_err(|e| {
            let path = e.path().to_string().replace('[', ".").replace(']', "");
            let field = if path == "." || path.is_empty() { "(scenario)".to_string() } else { path };
            ScenarioError { errors: vec![FieldError { field, message: e.into_inner().to_string() }] }
        })
    }

    /// Parses and validates a JSON scenario.
    pub fn from_json(text: &str) -> Result<Scenario, ScenarioError> {
        let s = Scenario::deserialize_named(&mut serde_json::Deserializer::from_str(text))?;
        s.validate()?;
        Ok(s)
    }

    /// Checks every field; on failure lists every problem, each naming its field and range.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        use limits::*;
        let mut c = Check::new();
        c.float("duration_s", self.duration_s, DURATION_S, "s");
        c.float("sim.resolution_ms", self.sim.resolution_ms, RESOLUTION_MS, "ms");
        c.float("sim.sample_interval_ms", self.sim.sample_interval_ms, SAMPLE_INTERVAL_MS, "ms");
        c.int("sim.max_points", self.sim.max_points as u64, MAX_POINTS, "points");

        let p = &self.producer;
        c.float("producer.rate_per_s", p.rate_per_s, RATE_PER_S, "msg/s");
        c.int("producer.message_bytes", p.message_bytes, MESSAGE_BYTES, "bytes");
        p.pattern.validate("producer.pattern", &mut c.errors);
        if let Some(t) = &p.throttle {
            t.validate("producer.throttle", &mut c.errors);
        }

        if self.stages.len() > STAGES {
            c.fail("stages", format!("at most {STAGES} stages (got {})", self.stages.len()));
        }
        let n = self.stages.len();
        for (i, stage) in self.stages.iter().enumerate() {
            let at = format!("stages.{i}");
            let next = self.stages.get(i + 1);
            match stage {
                StageSpec::Channel(ch) => {
                    if let Some(cap) = ch.capacity {
                        c.int(&format!("{at}.capacity"), cap, CHANNEL_CAPACITY, "messages");
                    }
                    check_link(&mut c, &format!("{at}.link"), &ch.link, ch.capacity.is_some());
                    if let Some(s) = &ch.shed {
                        check_shed(&mut c, &format!("{at}.shed"), s);
                    }
                }
                StageSpec::Map(m) => {
                    check_link(&mut c, &format!("{at}.link"), &m.link, false);
                    check_operator_link(&mut c, &format!("{at}.link"), &m.link);
                }
                StageSpec::Filter(f) => {
                    c.float(&format!("{at}.pass_ratio"), f.pass_ratio, PASS_RATIO, "");
                    check_link(&mut c, &format!("{at}.link"), &f.link, false);
                    check_operator_link(&mut c, &format!("{at}.link"), &f.link);
                }
                StageSpec::KafkaProducer(k) => {
                    c.int(&format!("{at}.buffer_memory_bytes"), k.buffer_memory_bytes, BUFFER_BYTES, "bytes");
                    c.int(&format!("{at}.batch_size_bytes"), k.batch_size_bytes, BUFFER_BYTES, "bytes");
                    c.float(&format!("{at}.linger_ms"), k.linger_ms, LINGER_MS, "ms");
                    c.float(&format!("{at}.max_block_ms"), k.max_block_ms, BLOCK_TIMEOUT_MS, "ms");
                    c.float(&format!("{at}.broker_rate_per_s"), k.broker_rate_per_s, RATE_PER_S, "records/s");
                    if k.buffer_memory_bytes < p.message_bytes {
                        c.fail(
                            &format!("{at}.buffer_memory_bytes"),
                            format!(
                                "must hold at least one message of producer.message_bytes ({}) (got {})",
                                p.message_bytes, k.buffer_memory_bytes
                            ),
                        );
                    }
                    if !matches!(next, Some(StageSpec::Topic(_))) {
                        c.fail(&at, "a kafka_producer must be followed by the topic it writes to".into());
                    }
                }
                StageSpec::Topic(t) => {
                    c.int(&format!("{at}.partitions"), t.partitions as u64, PARTITIONS, "partitions");
                    c.float(&format!("{at}.fetch_latency_ms"), t.fetch_latency_ms, FETCH_LATENCY_MS, "ms");
                    if let Some(r) = t.retention_ms {
                        c.float(&format!("{at}.retention_ms"), r, RETENTION_MS, "ms");
                    }
                    if let Some(b) = t.retention_bytes {
                        c.int(&format!("{at}.retention_bytes"), b, BUFFER_BYTES, "bytes");
                    }
                    if i + 1 != n {
                        c.fail(&at, "a topic must be the last stage: the consumer is what reads it".into());
                    }
                }
            }
        }
        let topic = self.topic().is_some();

        let k = &self.consumer;
        check_link(&mut c, "consumer.link", &k.link, false);
        if topic && k.link != LinkSpec::default() {
            c.fail("consumer.link", "a consumer reading a topic polls; its link takes no flow control".into());
        }
        c.int("consumer.members", k.members as u64, MEMBERS, "members");
        if k.members > 1 && !topic {
            c.fail("consumer.members", format!("a group of more than one member needs a topic to share (got {})", k.members));
        }
        c.int("consumer.max_poll_records", k.max_poll_records as u64, MAX_POLL_RECORDS, "records");
        c.int("consumer.workers", k.workers as u64, WORKERS, "workers");
        c.float("consumer.rate_per_worker", k.rate_per_worker, RATE_PER_WORKER, "msg/s");
        check_service(&mut c, "consumer.service", &k.service);
        if let Some(s) = &k.slow_message {
            c.float("consumer.slow_message.at_s", s.at_s, TIME_S, "s");
            c.float("consumer.slow_message.factor", s.factor, SLOW_FACTOR, "×");
        }
        c.float("consumer.auto_commit_interval_ms", k.auto_commit_interval_ms, AUTO_COMMIT_INTERVAL_MS, "ms");
        c.float("consumer.commit_latency_ms", k.commit_latency_ms, LATENCY_MS, "ms");
        c.float("consumer.poll_timeout_ms", k.poll_timeout_ms, POLL_TIMEOUT_MS, "ms");
        c.int("consumer.fetch.max_partition_fetch_bytes", k.fetch.max_partition_fetch_bytes, BUFFER_BYTES, "bytes");
        c.int("consumer.fetch.fetch_max_bytes", k.fetch.fetch_max_bytes, BUFFER_BYTES, "bytes");
        c.float("consumer.max_poll_interval_ms", k.max_poll_interval_ms, MAX_POLL_INTERVAL_MS, "ms");
        c.float("consumer.rebalance_ms", k.rebalance_ms, REBALANCE_MS, "ms");
        if let Some(pz) = &k.pause {
            c.int("consumer.pause.high", pz.high, WINDOW, "messages");
            c.int("consumer.pause.low", pz.low, (0, WINDOW.1), "messages");
            if pz.low >= pz.high {
                c.fail("consumer.pause.low", format!("must be below consumer.pause.high ({}) (got {})", pz.high, pz.low));
            }
            if !topic {
                c.fail("consumer.pause", "pause()/resume() applies to a consumer reading a topic".into());
            }
        }
        if let Some(s) = &k.shed {
            check_shed(&mut c, "consumer.shed", s);
        }
        if let Some(d) = &k.downstream {
            c.int("consumer.downstream.slots", d.slots as u64, SLOTS, "slots");
            c.float("consumer.downstream.rate_per_slot", d.rate_per_slot, RATE_PER_WORKER, "calls/s");
            check_service(&mut c, "consumer.downstream.service", &d.service);
        }
        if let Some(l) = &k.limiter {
            l.validate("consumer.limiter", &mut c.errors);
        }
        let m = &k.memory;
        c.float("consumer.memory.baseline_mib", m.baseline_mib, BASELINE_MIB, "MiB");
        c.int("consumer.memory.bytes_per_message", m.bytes_per_message, BYTES_PER_MESSAGE, "bytes");
        c.float("consumer.memory.heap_limit_mib", m.heap_limit_mib, HEAP_LIMIT_MIB, "MiB");
        c.float("consumer.memory.restart_delay_s", m.restart_delay_s, RESTART_DELAY_S, "s");
        if m.baseline_mib.is_finite() && m.heap_limit_mib.is_finite() && m.baseline_mib >= m.heap_limit_mib {
            c.fail(
                "consumer.memory.baseline_mib",
                format!(
                    "must be below consumer.memory.heap_limit_mib ({} MiB), or the consumer dies at start (got {})",
                    m.heap_limit_mib, m.baseline_mib
                ),
            );
        }
        if c.errors.is_empty() {
            Ok(())
        } else {
            Err(ScenarioError { errors: c.errors })
        }
    }

    /// The topic, if the pipeline has one.
    pub fn topic(&self) -> Option<&TopicSpec> {
        self.stages.iter().find_map(|s| match s {
            StageSpec::Topic(t) => Some(t),
            _ => None,
        })
    }

    /// The first channel, if any.
    pub fn channel(&self) -> Option<&ChannelSpec> {
        self.stages.iter().find_map(|s| match s {
            StageSpec::Channel(c) => Some(c),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        Scenario::default().validate().unwrap();
    }

    #[test]
    fn errors_name_field_and_range() {
        let mut s = Scenario::default();
        s.consumer.max_poll_records = 0;
        s.producer.rate_per_s = f64::NAN;
        s.stages.reverse();
        let e = s.validate().unwrap_err();
        let text = e.to_string();
        assert!(text.contains("consumer.max_poll_records: must be a whole number from 1 to 1000000 records (got 0)"), "{text}");
        assert!(text.contains("producer.rate_per_s: must be a number from 0.001 to 10000000 msg/s (got NaN)"), "{text}");
        assert!(text.contains("stages.0: a topic must be the last stage"), "{text}");
        assert_eq!(e.errors.len(), 3);
    }

    #[test]
    fn link_and_shed_rules_are_checked() {
        let mut s = Scenario::default();
        s.stages = vec![StageSpec::Channel(ChannelSpec {
            capacity: None,
            link: LinkSpec { on_full: OnFull::DropOldest, ..LinkSpec::default() },
            shed: Some(ShedSpec::Red { min_queue: 10, max_queue: 5, max_p: 2.0, weight: 0.1 }),
        })];
        s.consumer.link.control = FlowControl::Credit { initial: 10, grant: 20, batch: 5, latency_ms: 1.0 };
        let text = s.validate().unwrap_err().to_string();
        for needle in [
            "stages.0.link.on_full: \"drop_oldest\" needs a bounded receiver",
            "stages.0.shed.max_p: must be a number from 0 to 1 (got 2)",
            "stages.0.shed.min_queue: must be below max_queue (5) (got 10)",
            "consumer.link.control.grant: must not exceed control.initial (10)",
        ] {
            assert!(text.contains(needle), "{needle} not in {text}");
        }
    }

    #[test]
    fn unknown_fields_and_wrong_types_are_rejected() {
        let e = serde_json::from_str::<Scenario>(r#"{"producer": {"rate": 5}}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `rate`"), "{e}");
        let e = serde_json::from_str::<Scenario>(r#"{"stages": [{"kind": "channel", "capacity": 5, "cap": 1}]}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `cap`"), "{e}");
        let e = serde_json::from_str::<Scenario>(r#"{"consumer": {"workers": "four"}}"#).unwrap_err();
        assert!(e.to_string().contains("invalid type: string \"four\", expected u32"), "{e}");
        let e = serde_json::from_str::<Scenario>(r#"{"consumer": {"workers": -1}}"#).unwrap_err();
        assert!(e.to_string().contains("invalid value: integer `-1`"), "{e}");
    }

    #[test]
    fn round_trips_through_json_and_accepts_the_old_commit_name() {
        let s = Scenario::default();
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Scenario>(&text).unwrap(), s);
        let c: Commit = serde_json::from_str("\"after_processing\"").unwrap();
        assert_eq!(c, Commit::Sync);
    }
}
