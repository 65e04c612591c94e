//! The stages other than channels and the topic: the node list's variants, Reactive
//! Streams operators (`map`, and `filter` as deterministic thinning) and Kafka's producer
//! client (`buffer.memory`, batches, `linger.ms`, the broker's rate).

use crate::scenario::{LinkSpec, ShedSpec, StageSpec};
use crate::seg::SegQueue;
use crate::seg::QUEUE_CAP;
use crate::time::{self, Nanos};

/// A buffer: channel, queue, Kafka producer client's `buffer.memory`.
#[derive(Clone)]
pub(crate) struct Buffer {
    pub cap: Option<u64>,
    pub q: SegQueue,
    pub shed: Option<ShedSpec>,
    /// RED's moving average of the queue length.
    pub avg: f64,
    pub dropped: u64,
}

impl Buffer {
    pub fn room(&self) -> u64 {
        self.cap.map_or(u64::MAX, |c| c.saturating_sub(self.q.total()))
    }
}

#[derive(Clone)]
pub(crate) enum Node {
    Channel(Buffer),
    Map,
    Filter(Filter),
    Kafka(KafkaClient),
    /// The topic's place in the pipeline; the topic itself is `Simulation::topic`.
    Topic,
}

/// Deterministic thinning: passes exactly `ratio` of the messages in the long run.
#[derive(Clone)]
pub(crate) struct Filter {
    pub ratio: f64,
    /// Fractional pass credit carried between runs, in [0, 1).
    pub phase: f64,
    /// Offsets for the messages that pass (a fresh contiguous sequence).
    pub seq: u64,
    pub dropped: u64,
}

impl Filter {
    /// How many of the next `k` messages pass.
    pub fn passes(&self, k: u64) -> u64 {
        (self.phase + k as f64 * self.ratio).floor() as u64
    }

    /// The most messages that can be sent so that at most `room` pass.
    pub fn originals_for(&self, room: u64) -> u64 {
        if room == u64::MAX {
            return u64::MAX;
        }
        let mut k = (((room + 1) as f64 - self.phase) / self.ratio).floor().max(0.0) as u64;
        while k > 0 && self.passes(k) > room {
            k -= 1;
        }
        while self.passes(k + 1) <= room && k < room.saturating_mul(1_000_000) {
            k += 1;
        }
        k
    }
}

/// Kafka's producer client in front of the topic.
#[derive(Clone)]
pub(crate) struct KafkaClient {
    pub buf: Buffer,
    pub batch: u64,
    pub linger: Nanos,
    pub rate: f64,
    /// The sender may send the next batch at this time (the broker's rate).
    pub next_free: Nanos,
    pub drain_at: Option<Nanos>,
}

impl Node {
    /// The node of a stage, with the link into it. (The topic's node is a marker: the
    /// topic itself is a typed part of the simulation.)
    pub fn new(spec: &StageSpec, msg_bytes: u64, resolution: Nanos) -> (Node, LinkSpec) {
        match spec {
            StageSpec::Channel(c) => (
                Node::Channel(Buffer {
                    cap: c.capacity,
                    q: SegQueue::new(QUEUE_CAP, resolution),
                    shed: c.shed.clone(),
                    avg: 0.0,
                    dropped: 0,
                }),
                c.link.clone(),
            ),
            StageSpec::Map(m) => (Node::Map, m.link.clone()),
            StageSpec::Filter(f) => (Node::Filter(Filter { ratio: f.pass_ratio, phase: 0.0, seq: 0, dropped: 0 }), f.link.clone()),
            StageSpec::KafkaProducer(k) => (
                Node::Kafka(KafkaClient {
                    buf: Buffer {
                        cap: Some((k.buffer_memory_bytes / msg_bytes).max(1)),
                        q: SegQueue::new(QUEUE_CAP, resolution),
                        shed: None,
                        avg: 0.0,
                        dropped: 0,
                    },
                    batch: (k.batch_size_bytes / msg_bytes).max(1),
                    linger: time::from_millis(k.linger_ms),
                    rate: k.broker_rate_per_s,
                    next_free: 0,
                    drain_at: None,
                }),
                LinkSpec { block_timeout_ms: Some(k.max_block_ms), ..LinkSpec::default() },
            ),
            StageSpec::Topic(_) => (Node::Topic, LinkSpec::default()),
        }
    }
}
