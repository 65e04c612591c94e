//! Plain data read out of a running simulation: the summary, the ledger, the per-node
//! views the diagram draws, and the trace events that drive its animation.

use crate::scenario::{Commit, Mode};
use crate::series::Num;
use serde::{Deserialize, Serialize};

/// Why a message was dropped (on purpose, by a policy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropCause {
    DropNewest,
    DropOldest,
    Fail,
    BlockTimeout,
    Filter,
    ShedQueueLength,
    ShedDeadline,
    ShedRed,
}

/// Messages dropped, by the policy that dropped them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DroppedBy {
    /// A full receiver refused them (`on_full = "drop_newest"`).
    pub drop_newest: u64,
    /// Pushed out of a full channel by newer ones (`on_full = "drop_oldest"`).
    pub drop_oldest: u64,
    /// Sends that failed at once on a full receiver (`on_full = "fail"`).
    pub fail: u64,
    /// Sends that stayed blocked past `block_timeout_ms` / `max.block.ms`.
    pub block_timeout: u64,
    /// Filtered out by a `filter` operator.
    pub filter: u64,
    /// Shed: the queue was over its length threshold.
    pub shed_queue_length: u64,
    /// Shed: older than their deadline when their turn came.
    pub shed_deadline: u64,
    /// Shed by random early detection.
    pub shed_red: u64,
}

impl DroppedBy {
    pub fn total(&self) -> u64 {
        self.drop_newest
            + self.drop_oldest
            + self.fail
            + self.block_timeout
            + self.filter
            + self.shed_queue_length
            + self.shed_deadline
            + self.shed_red
    }

    pub fn add(&mut self, cause: DropCause, n: u64) {
        *match cause {
            DropCause::DropNewest => &mut self.drop_newest,
            DropCause::DropOldest => &mut self.drop_oldest,
            DropCause::Fail => &mut self.fail,
            DropCause::BlockTimeout => &mut self.block_timeout,
            DropCause::Filter => &mut self.filter,
            DropCause::ShedQueueLength => &mut self.shed_queue_length,
            DropCause::ShedDeadline => &mut self.shed_deadline,
            DropCause::ShedRed => &mut self.shed_red,
        } += n;
    }
}

/// Why a message was lost (by accident: nobody decided to drop it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossCause {
    AfterCommit,
    Retention,
    Unacknowledged,
    ConsumerDown,
    ProducerOom,
}

/// Messages lost, by cause.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LostByCause {
    /// Discarded by a crash after their offsets had been committed: never redelivered.
    /// The reference incident's hidden data loss (auto-commit with asynchronous processing).
    pub after_commit: u64,
    /// Deleted by topic retention before anyone processed them.
    pub retention: u64,
    /// Held in memory by a consumer with no offsets to go back to (fed by a channel or by a
    /// direct push) when it was killed.
    pub unacknowledged: u64,
    /// Pushed to a consumer while it was down.
    pub consumer_down: u64,
    /// Held by the producer's process (its pending send, its channels, the Kafka client's
    /// buffer) when it was OOM-killed.
    #[serde(default)]
    pub producer_oom: u64,
}

impl LostByCause {
    pub fn total(&self) -> u64 {
        self.after_commit + self.retention + self.unacknowledged + self.consumer_down + self.producer_oom
    }

    pub fn add(&mut self, cause: LossCause, n: u64) {
        *match cause {
            LossCause::AfterCommit => &mut self.after_commit,
            LossCause::Retention => &mut self.retention,
            LossCause::Unacknowledged => &mut self.unacknowledged,
            LossCause::ConsumerDown => &mut self.consumer_down,
            LossCause::ProducerOom => &mut self.producer_oom,
        } += n;
    }
}

/// Figures for the whole run so far. Field names are part of the CLI's JSON contract.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Simulated time reached, seconds.
    pub t_s: f64,
    /// Messages the producer sent (accepted, dropped or failed at its first link).
    pub produced: u64,
    /// Messages processed, each counted once.
    pub consumed: u64,
    pub dropped: u64,
    pub dropped_by: DroppedBy,
    pub lost: u64,
    pub lost_by_cause: LostByCause,
    /// Re-processings of messages already processed once.
    pub duplicated: u64,
    pub oom_kills: u64,
    /// Time of the first OOM kill, seconds; `null` when none.
    pub first_oom_s: Option<f64>,
    /// OOM kills of the producer's process (`producer.memory.heap_limit_mib`).
    #[serde(default)]
    pub producer_oom_kills: u64,
    /// Time of the producer's first OOM kill, seconds; `null` when none.
    #[serde(default)]
    pub first_producer_oom_s: Option<f64>,
    /// Now: the producer's heap (baseline + `message_bytes` for each message its process
    /// holds: pending, in channels, in the Kafka client).
    #[serde(default)]
    pub producer_heap_bytes: u64,
    /// The producer's largest heap so far (just over its limit at a kill).
    #[serde(default)]
    pub max_producer_heap_bytes: u64,
    pub rebalances: u64,
    /// Members that left the group for exceeding `max.poll.interval.ms`.
    pub evictions: u64,
    pub max_heap_bytes: u64,
    pub max_in_flight: u64,
    /// Largest topic lag seen at a sample.
    pub max_lag: u64,
    /// Produce-to-processed latency, seconds; `null` before anything is processed.
    pub latency_p50_s: Option<f64>,
    pub latency_p95_s: Option<f64>,
    pub latency_p99_s: Option<f64>,
    pub latency_mean_s: Option<f64>,
    /// Round trip of calls to the downstream dependency (wait there + service), seconds.
    pub call_rtt_p50_s: Option<f64>,
    pub call_rtt_p99_s: Option<f64>,
    /// Time-averaged number of messages in the system (generated, not yet departed): L.
    pub time_avg_in_system: f64,
    /// Time-averaged number waiting (in the system, not in service): Lq.
    pub time_avg_queue: f64,
    /// Mean time in the system over every departure (processed, dropped, lost): W.
    pub sojourn_mean_s: Option<f64>,
    /// Departures (processed + dropped + lost) per second: the effective arrival rate λ.
    pub departure_rate_per_s: f64,
    /// Time the producer spent blocked, seconds.
    pub producer_blocked_s: f64,
    /// The producer's current rate (after pattern and throttle), msg/s.
    pub producer_rate_per_s: f64,
    /// `consumed / t_s`.
    pub throughput_msgs_per_s: f64,
    /// Now: messages polled or received by the consumer group, unprocessed, as the members
    /// hold them (what their heaps carry): a record held by a zombie and again by its new
    /// owner counts twice. `ledger.in_flight` counts each record once.
    pub in_flight: u64,
    /// Now: records in the consumers' fetch caches.
    pub fetch_cache: u64,
    /// Now: topic lag (log end minus committed, all partitions).
    pub lag: u64,
    /// Now: messages in channels and the Kafka client.
    pub channel_depth: u64,
    /// Now: messages the blocked producer holds, waiting to be sent.
    pub producer_pending: u64,
    pub polls: u64,
    /// Events the engine handled.
    pub events: u64,
    /// Now: where every generated message is, each counted once, adding up exactly to
    /// `generated` (see [`Ledger`]); checkable from the output after kills and rebalances.
    #[serde(default)]
    pub ledger: Ledger,
}

impl Summary {
    /// Every numeric figure by its dotted name as the JSON output writes it (nested tables
    /// flattened: `dropped_by.fail`, `lost_by_cause.after_commit`, `ledger.in_topic`), `None`
    /// for a figure the run has no value for: what goals and sweeps read. Written out rather
    /// than read from the serialised summary, so that the page can check goals without
    /// (de)serialisation code; a test holds it to the JSON.
    pub fn metrics(&self, out: &mut dyn FnMut(&str, Option<f64>)) {
        self.fields(&mut |name, v| out(name, v.as_f64()));
    }

    /// [`Summary::metrics`] with counts told from values: what the exports write.
    pub fn fields(&self, out: &mut dyn FnMut(&str, Num)) {
        let (d, l, g) = (&self.dropped_by, &self.lost_by_cause, &self.ledger);
        for (name, v) in [
            ("produced", self.produced),
            ("consumed", self.consumed),
            ("dropped", self.dropped),
            ("dropped_by.drop_newest", d.drop_newest),
            ("dropped_by.drop_oldest", d.drop_oldest),
            ("dropped_by.fail", d.fail),
            ("dropped_by.block_timeout", d.block_timeout),
            ("dropped_by.filter", d.filter),
            ("dropped_by.shed_queue_length", d.shed_queue_length),
            ("dropped_by.shed_deadline", d.shed_deadline),
            ("dropped_by.shed_red", d.shed_red),
            ("lost", self.lost),
            ("lost_by_cause.after_commit", l.after_commit),
            ("lost_by_cause.retention", l.retention),
            ("lost_by_cause.unacknowledged", l.unacknowledged),
            ("lost_by_cause.consumer_down", l.consumer_down),
            ("lost_by_cause.producer_oom", l.producer_oom),
            ("duplicated", self.duplicated),
            ("oom_kills", self.oom_kills),
            ("producer_oom_kills", self.producer_oom_kills),
            ("producer_heap_bytes", self.producer_heap_bytes),
            ("max_producer_heap_bytes", self.max_producer_heap_bytes),
            ("rebalances", self.rebalances),
            ("evictions", self.evictions),
            ("max_heap_bytes", self.max_heap_bytes),
            ("max_in_flight", self.max_in_flight),
            ("max_lag", self.max_lag),
            ("in_flight", self.in_flight),
            ("fetch_cache", self.fetch_cache),
            ("lag", self.lag),
            ("channel_depth", self.channel_depth),
            ("producer_pending", self.producer_pending),
            ("polls", self.polls),
            ("events", self.events),
            ("ledger.generated", g.generated),
            ("ledger.produced", g.produced),
            ("ledger.producer_pending", g.producer_pending),
            ("ledger.in_channels", g.in_channels),
            ("ledger.in_topic", g.in_topic),
            ("ledger.in_cache", g.in_cache),
            ("ledger.in_flight", g.in_flight),
            ("ledger.processed", g.processed),
            ("ledger.dropped", g.dropped),
            ("ledger.lost", g.lost),
            ("ledger.lost_producer_oom", g.lost_producer_oom),
            ("ledger.duplicated", g.duplicated),
        ] {
            out(name, Num::Count(v));
        }
        for (name, v) in [
            ("t_s", Some(self.t_s)),
            ("first_oom_s", self.first_oom_s),
            ("first_producer_oom_s", self.first_producer_oom_s),
            ("latency_p50_s", self.latency_p50_s),
            ("latency_p95_s", self.latency_p95_s),
            ("latency_p99_s", self.latency_p99_s),
            ("latency_mean_s", self.latency_mean_s),
            ("call_rtt_p50_s", self.call_rtt_p50_s),
            ("call_rtt_p99_s", self.call_rtt_p99_s),
            ("time_avg_in_system", Some(self.time_avg_in_system)),
            ("time_avg_queue", Some(self.time_avg_queue)),
            ("sojourn_mean_s", self.sojourn_mean_s),
            ("departure_rate_per_s", Some(self.departure_rate_per_s)),
            ("producer_blocked_s", Some(self.producer_blocked_s)),
            ("producer_rate_per_s", Some(self.producer_rate_per_s)),
            ("throughput_msgs_per_s", Some(self.throughput_msgs_per_s)),
        ] {
            out(name, Num::Value(v));
        }
    }
}

/// Where every generated message is, counted from the queues themselves.
///
/// Records a dead or evicted member had fetched but no member holds any more are
/// `in_topic` (the log delivers them again); a record held in several places (a zombie's
/// copy and its redelivery) counts once, in the first of `in_flight`, `in_cache`,
/// `in_topic`. Conservation: `generated == producer_pending + in_channels + in_topic + in_cache +
/// in_flight + processed + dropped + lost`, each message counted once (a record delivered
/// again after being processed counts as processed; processing it again adds to
/// `duplicated`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    pub generated: u64,
    pub produced: u64,
    /// Held by the blocked producer: generated, not yet sent.
    pub producer_pending: u64,
    /// In channels and the Kafka client's buffer.
    pub in_channels: u64,
    /// In the topic, not fetched, never handled.
    pub in_topic: u64,
    /// In fetch caches, never handled.
    pub in_cache: u64,
    /// Held by the consumers (queued or in a worker), never handled.
    pub in_flight: u64,
    pub processed: u64,
    pub dropped: u64,
    pub lost: u64,
    /// Of `lost`, those held by the producer's process when it was OOM-killed.
    #[serde(default)]
    pub lost_producer_oom: u64,
    pub duplicated: u64,
}

impl Ledger {
    /// Every field by name, in the order of `export::LEDGER_COLUMNS` (a test holds both to
    /// the fields).
    pub fn columns(&self) -> [(&'static str, u64); 12] {
        [
            ("generated", self.generated),
            ("produced", self.produced),
            ("producer_pending", self.producer_pending),
            ("in_channels", self.in_channels),
            ("in_topic", self.in_topic),
            ("in_cache", self.in_cache),
            ("in_flight", self.in_flight),
            ("processed", self.processed),
            ("dropped", self.dropped),
            ("lost", self.lost),
            ("lost_producer_oom", self.lost_producer_oom),
            ("duplicated", self.duplicated),
        ]
    }

    /// Every generated message is in exactly one place.
    pub fn balanced(&self) -> bool {
        self.generated
            == self.producer_pending
                + self.in_channels
                + self.in_topic
                + self.in_cache
                + self.in_flight
                + self.processed
                + self.dropped
                + self.lost
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProducerView {
    /// Current rate (pattern × throttle), msg/s.
    pub rate_per_s: f64,
    pub produced: u64,
    pub blocked: bool,
    pub pending: u64,
    pub blocked_s: f64,
    pub throttled: bool,
    /// The producer's heap now: baseline + `message_bytes` for each message its process holds.
    #[serde(default)]
    pub heap_bytes: u64,
    /// `producer.memory.heap_limit_mib` in bytes; `None` without a limit.
    #[serde(default)]
    pub heap_limit_bytes: Option<u64>,
    /// Seconds until an OOM-killed producer restarts (`None` while it runs).
    #[serde(default)]
    pub restart_in_s: Option<f64>,
}

/// Credits or demand on a link.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowView {
    /// `request(n)` demand (true) or credits (false).
    pub request: bool,
    /// Held by the sender now.
    pub permits: u64,
    /// Granted or requested by the receiver, still travelling upstream.
    pub in_transit: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionView {
    pub log_start: u64,
    pub log_end: u64,
    pub position: u64,
    pub committed: u64,
    pub lag: u64,
    /// Index of the member that owns it, if any.
    pub owner: Option<u16>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StageView {
    Channel { depth: u64, capacity: Option<u64>, dropped: u64 },
    Map,
    Filter { pass_ratio: f64, dropped: u64 },
    KafkaProducer { depth: u64, capacity: u64, broker_rate_per_s: f64, dropped: u64 },
    Topic { partitions: Vec<PartitionView> },
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MemberView {
    pub up: bool,
    /// Left the group for exceeding `max.poll.interval.ms` (still working on its batch).
    pub evicted: bool,
    pub paused: bool,
    /// Seconds until a killed member restarts.
    pub restart_in_s: Option<f64>,
    pub in_flight: u64,
    pub fetch_cache: u64,
    pub busy_workers: u32,
    /// Of the busy workers, those waiting for a slot at the downstream dependency.
    pub waiting_workers: u32,
    /// Concurrency limit now (the adaptive limiter's, or the worker count).
    pub limit: u32,
    pub heap_bytes: u64,
    pub polls: u64,
    /// Sync mode: the loop waits for its batch before polling again.
    pub waiting_for_batch: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConsumerView {
    pub mode: Mode,
    pub commit: Commit,
    pub max_poll_records: u64,
    pub workers: u32,
    pub heap_limit_bytes: u64,
    /// True when the consumer pulls (polls); false when messages are pushed to it.
    pub polls: bool,
    pub members: Vec<MemberView>,
    /// The downstream dependency: calls in service, waiting, and its slots.
    pub downstream: Option<(u32, u64, u32)>,
    pub rebalancing: bool,
}

/// The state of every node at one instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub t_s: f64,
    pub producer: ProducerView,
    /// One per scenario stage, in order.
    pub stages: Vec<StageView>,
    /// Flow control per link: `links[j]` is the link into node `j` (0 unused).
    pub links: Vec<Option<WindowView>>,
    pub consumer: ConsumerView,
    pub summary: Summary,
}

/// Something the animation can show. Nodes are numbered along the pipeline: 0 is the
/// producer, then the stages in order, then the consumer; link `j` enters node `j`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TraceKind {
    /// The producer's source generated `n` messages.
    Generated {
        n: u64,
    },
    /// `n` messages moved from node `from` to node `to` (push).
    Moved {
        from: u16,
        to: u16,
        n: u64,
    },
    /// A poll returned `n` records (pull).
    Polled {
        member: u16,
        n: u64,
    },
    /// A fetch brought `n` records into a member's cache.
    Fetched {
        member: u16,
        n: u64,
    },
    /// Workers finished `n` messages.
    Processed {
        member: u16,
        n: u64,
    },
    /// `n` messages dropped at node `node`.
    Dropped {
        node: u16,
        n: u64,
        cause: DropCause,
    },
    /// The receiver of link `link` granted `n` credits (they travel upstream).
    Granted {
        link: u16,
        n: u64,
    },
    /// The receiver of link `link` requested `n` more (`request(n)`).
    Requested {
        link: u16,
        n: u64,
    },
    /// Credits or demand reached the sender of link `link`.
    PermitsArrived {
        link: u16,
        n: u64,
    },
    /// Offsets were committed.
    Committed {
        member: u16,
    },
    /// The producer blocked on a full receiver or on missing credits/demand.
    Blocked,
    /// The producer's send went through again.
    Unblocked,
    /// The throttle set the producer's rate.
    Throttled {
        rate_per_s: f64,
    },
    /// A member was OOM-killed holding `in_flight` messages, `lost` of them for good.
    OomKill {
        member: u16,
        in_flight: u64,
        lost: u64,
    },
    /// A member came back.
    Restarted {
        member: u16,
    },
    /// The producer's process was OOM-killed, losing the `lost` messages it held.
    ProducerOomKill {
        lost: u64,
    },
    /// The producer's process came back and produces again.
    ProducerRestarted,
    /// A member left the group for not polling within `max.poll.interval.ms`.
    Evicted {
        member: u16,
    },
    /// The group stopped to reassign partitions.
    Rebalance,
    /// A member paused / resumed fetching.
    Paused {
        member: u16,
    },
    Resumed {
        member: u16,
    },
    /// A member's concurrency limit changed.
    LimitChanged {
        member: u16,
        limit: u32,
    },
    /// A slow message started (head-of-line blocking).
    SlowStarted {
        member: u16,
        partition: u32,
    },
    /// A worker of member `member` called the downstream dependency for `n` messages.
    CallStarted {
        member: u16,
        n: u64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceEvent {
    pub t_s: f64,
    pub kind: TraceKind,
}
