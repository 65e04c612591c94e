//! Plain data read out of a running simulation: the summary, the ledger, the per-node
//! views the diagram draws, and the trace events that drive its animation.

use crate::scenario::{Commit, Mode};
use serde::{Deserialize, Serialize};

/// Messages lost, by cause.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LostByCause {
    /// Discarded by an OOM kill after their offsets had been committed: never redelivered.
    /// The reference incident's hidden data loss (auto-commit with asynchronous processing).
    pub after_commit: u64,
    /// Held in memory by a consumer with no offsets to go back to (fed by a channel or by a
    /// direct push) when it was killed.
    pub unacknowledged: u64,
    /// Pushed to a consumer while it was down.
    pub consumer_down: u64,
}

impl LostByCause {
    pub fn total(&self) -> u64 {
        self.after_commit + self.unacknowledged + self.consumer_down
    }
}

/// Figures for the whole run so far. Field names are part of the CLI's JSON contract.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Simulated time reached, seconds.
    pub t_s: f64,
    /// Messages accepted into the pipeline.
    pub produced: u64,
    /// Messages processed, each counted once.
    pub consumed: u64,
    pub lost: u64,
    pub lost_by_cause: LostByCause,
    /// Re-processings of messages already processed once.
    pub duplicated: u64,
    pub oom_kills: u64,
    /// Time of the first OOM kill, seconds; `null` when none.
    pub first_oom_s: Option<f64>,
    pub max_heap_bytes: u64,
    pub max_in_flight: u64,
    /// Largest topic lag seen at a sample.
    pub max_lag: u64,
    /// Produce-to-processed latency percentiles, seconds; `null` before anything is processed.
    pub latency_p50_s: Option<f64>,
    pub latency_p99_s: Option<f64>,
    pub latency_mean_s: Option<f64>,
    /// Time the producer spent blocked on a full channel, seconds.
    pub producer_blocked_s: f64,
    /// `consumed / t_s`.
    pub throughput_msgs_per_s: f64,
    /// Now: messages held by the consumer, unprocessed.
    pub in_flight: u64,
    /// Now: topic lag (log-end minus committed, all partitions).
    pub lag: u64,
    /// Now: messages in channels.
    pub channel_depth: u64,
    /// Now: messages the blocked producer holds, waiting to be sent.
    pub producer_pending: u64,
    pub polls: u64,
    /// Events the engine handled.
    pub events: u64,
}

/// Where every produced message is, counted from the queues themselves.
///
/// Conservation: `produced == in_channels + in_topic + in_flight + processed + lost`, each
/// message counted once (a record redelivered after being processed counts as processed;
/// its second processing adds to `duplicated`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    pub produced: u64,
    /// Held by the blocked producer: generated, not yet accepted, so not in `produced`.
    pub producer_pending: u64,
    pub in_channels: u64,
    /// In the topic, not yet fetched (and never processed).
    pub in_topic: u64,
    /// Held by the consumer (queued or in a worker), never processed.
    pub in_flight: u64,
    /// The consumer's own in-flight counter (including redelivered, already processed ones).
    pub in_flight_counter: u64,
    pub processed: u64,
    pub lost: u64,
    pub duplicated: u64,
}

impl Ledger {
    /// Every produced message is in exactly one place.
    pub fn balanced(&self) -> bool {
        self.produced
            == self.in_channels + self.in_topic + self.in_flight + self.processed + self.lost
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProducerView {
    pub rate_per_s: f64,
    pub produced: u64,
    pub blocked: bool,
    pub pending: u64,
    pub blocked_s: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionView {
    pub log_end: u64,
    pub position: u64,
    pub committed: u64,
    pub lag: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StageView {
    Channel { depth: u64, capacity: u64 },
    Topic { partitions: Vec<PartitionView> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConsumerView {
    pub mode: Mode,
    pub commit: Commit,
    pub max_poll_records: u64,
    pub up: bool,
    /// Seconds until a killed consumer restarts.
    pub restart_in_s: Option<f64>,
    pub in_flight: u64,
    pub queued: u64,
    pub busy_workers: u32,
    pub workers: u32,
    pub heap_bytes: u64,
    pub heap_limit_bytes: u64,
    pub polls: u64,
    /// Sync mode: the loop waits for its batch before polling again.
    pub waiting_for_batch: bool,
}

/// The state of every node at one instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub t_s: f64,
    pub producer: ProducerView,
    /// One per scenario stage, in order.
    pub stages: Vec<StageView>,
    pub consumer: ConsumerView,
    pub summary: Summary,
}

/// Something the animation can show. Nodes are numbered along the pipeline: 0 is the
/// producer, then the stages in order, then the consumer.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TraceKind {
    /// The producer's source generated `n` messages.
    Generated { n: u64 },
    /// `n` messages moved from node `from` to node `to` (push).
    Moved { from: u16, to: u16, n: u64 },
    /// A poll returned `n` records (pull).
    Polled { n: u64 },
    /// Workers finished `n` messages.
    Processed { n: u64 },
    /// Offsets were committed.
    Committed,
    /// The producer blocked on a full channel.
    Blocked,
    /// The producer's send went through again.
    Unblocked,
    /// The consumer was OOM-killed holding `in_flight` messages, `lost` of them for good.
    OomKill { in_flight: u64, lost: u64 },
    /// The consumer came back.
    Restarted,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceEvent {
    pub t_s: f64,
    pub kind: TraceKind,
}
