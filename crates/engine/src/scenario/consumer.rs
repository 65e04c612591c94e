//! The consumer (group)'s spec: poll loop mode, commits, service times, ordering, fetch
//! sizes, pause/resume, the downstream dependency and the heap.

use super::control::LimiterSpec;
use super::limits;
use super::link::{LinkSpec, ShedSpec};
use crate::validate::Check;
use serde::{Deserialize, Serialize};

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
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
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

/// [`ServiceDist`] without its tag, read through `tagged`: errors inside name the innermost field
/// and its line.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum ServiceDistDe {
    Deterministic {},
    Exponential {},
    Lognormal { sigma: f64 },
}

impl super::tagged::Tagged for ServiceDist {
    const VARIANTS: &'static [&'static str] = &["deterministic", "exponential", "lognormal"];
    fn variant<'de, D: serde::Deserializer<'de>>(tag: &str, rest: D) -> Result<Self, D::Error> {
        Ok(match ServiceDistDe::deserialize(super::tagged::Variant::new(tag, rest))? {
            ServiceDistDe::Deterministic {} => ServiceDist::Deterministic {},
            ServiceDistDe::Exponential {} => ServiceDist::Exponential {},
            ServiceDistDe::Lognormal { sigma } => ServiceDist::Lognormal { sigma },
        })
    }
}

impl<'de> Deserialize<'de> for ServiceDist {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::tagged::deserialize(d)
    }
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

impl ServiceDist {
    pub(crate) fn check(&self, c: &mut Check<'_>, at: &str) {
        let s = self;
        if let ServiceDist::Lognormal { sigma } = s {
            c.float(&format!("{at}.sigma"), *sigma, limits::SIGMA, "");
        }
    }
}
