//! The stages other than channels and the topic: the node list's variants, Reactive
//! Streams operators (`map`, and `filter` as deterministic thinning) and Kafka's producer
//! client (`buffer.memory`, batches, `linger.ms`, the broker's rate).

use crate::channel::Buffer;
use crate::event::Event;
use crate::scenario::{LinkSpec, StageSpec};
use crate::seg::SegQueue;
use crate::sim::{Simulation, QUEUE_CAP};
use crate::time::{self, Nanos};

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

impl Simulation {
    // ---- Kafka producer client and topic --------------------------------------------

    pub(crate) fn kafka_schedule(&mut self, j: usize) {
        let now = self.now;
        let Node::Kafka(k) = &mut self.stages[j - 1] else { return };
        if k.buf.q.is_empty() {
            return;
        }
        let full = k.buf.q.total() >= k.batch;
        let oldest = k.buf.q.front().map_or(now, |s| s.t0);
        let ready = if full { now } else { (oldest + k.linger).max(now) };
        let at = ready.max(k.next_free);
        if k.drain_at.is_none_or(|d| at < d) {
            k.drain_at = Some(at);
            self.events.push(at, Event::Drain { node: j as u16 });
        }
    }

    /// The client sends one batch to the broker, at the broker's pace.
    pub(crate) fn on_drain(&mut self, j: usize) {
        let now = self.now;
        let Node::Kafka(k) = &mut self.stages[j - 1] else { return };
        if k.drain_at != Some(now) {
            return;
        }
        k.drain_at = None;
        let full = k.buf.q.total() >= k.batch;
        let lingered = k.buf.q.front().is_some_and(|s| s.t0 + k.linger <= now);
        if now < k.next_free || !(full || lingered) {
            self.kafka_schedule(j);
            return;
        }
        let mut left = k.batch;
        let mut batch = Vec::new();
        while left > 0 {
            let Some(seg) = k.buf.q.pop_front(left) else { break };
            left -= seg.n;
            batch.push(seg);
        }
        let sent = k.batch - left;
        k.next_free = now + ((sent as f64 / k.rate) * 1e9).round() as Nanos;
        for seg in batch {
            self.deliver(j, seg);
        }
        if sent > 0 {
            self.taken_from(j, sent);
        }
        self.kafka_schedule(j);
    }
}
