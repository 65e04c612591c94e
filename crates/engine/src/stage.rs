//! The stages other than channels and the topic: the node list's variants, Reactive
//! Streams operators (`map`, and `filter` as deterministic thinning) and Kafka's producer
//! client (`buffer.memory`, batches, `linger.ms`, the broker's rate).

use crate::scenario::{LinkSpec, ShedSpec, StageSpec};
use crate::seg::{Seg, SegQueue, QUEUE_CAP};
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
    phase: f64,
    /// Offsets for the messages that pass (a fresh contiguous sequence).
    seq: u64,
    pub dropped: u64,
}

impl Filter {
    /// A filter passing `ratio` of the messages.
    pub fn new(ratio: f64) -> Filter {
        Filter { ratio, phase: 0.0, seq: 0, dropped: 0 }
    }

    /// Thins a run: the messages that pass (renumbered in the filter's own sequence) and
    /// the run of those that do not (its count may be 0).
    pub fn thin(&mut self, seg: Seg) -> (Seg, Seg) {
        let pass = self.passes(seg.n);
        self.phase = self.phase + seg.n as f64 * self.ratio - pass as f64;
        let out = Seg { n: pass, t0: seg.t0, t1: seg.t1, off: self.seq };
        self.seq += pass;
        (out, Seg { n: seg.n - pass, ..seg })
    }

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
    /// `batch.size` in records.
    batch: u64,
    linger: Nanos,
    /// Records per second the broker accepts.
    pub rate: f64,
    /// The sender may send the next batch at this time (the broker's rate).
    next_free: Nanos,
    /// The drain planned (a `Drain` event at this time); others are stale.
    drain_at: Option<Nanos>,
}

/// What a planned drain of the Kafka client does.
pub(crate) enum Drain {
    /// Another drain was planned since: nothing to do.
    Stale,
    /// No full or lingered batch, or the broker is still busy: plan again.
    NotReady,
    /// A batch of this many records leaves for the broker.
    Sent(u64),
}

impl KafkaClient {
    /// When the client should next send, if earlier than the drain already planned: now
    /// for a full batch, else when the oldest record has lingered, and never before the
    /// broker is free. The new time becomes the planned drain.
    pub fn plan_drain(&mut self, now: Nanos) -> Option<Nanos> {
        if self.buf.q.is_empty() {
            return None;
        }
        let full = self.buf.q.total() >= self.batch;
        let oldest = self.buf.q.front().map_or(now, |s| s.t0);
        let ready = if full { now } else { (oldest + self.linger).max(now) };
        let at = ready.max(self.next_free);
        if self.drain_at.is_none_or(|d| at < d) {
            self.drain_at = Some(at);
            Some(at)
        } else {
            None
        }
    }

    /// The drain planned for `now`: takes one batch (into `batch`) if one is full or has
    /// lingered and the broker is free; the broker is then busy for the batch's share of
    /// its rate.
    pub fn drain(&mut self, now: Nanos, batch: &mut Vec<Seg>) -> Drain {
        if self.drain_at != Some(now) {
            return Drain::Stale;
        }
        self.drain_at = None;
        let full = self.buf.q.total() >= self.batch;
        let lingered = self.buf.q.front().is_some_and(|s| s.t0 + self.linger <= now);
        if now < self.next_free || !(full || lingered) {
            return Drain::NotReady;
        }
        let mut left = self.batch;
        while left > 0 {
            let Some(seg) = self.buf.q.pop_front(left) else { break };
            left -= seg.n;
            batch.push(seg);
        }
        let sent = self.batch - left;
        self.next_free = now + ((sent as f64 / self.rate) * 1e9).round() as Nanos;
        Drain::Sent(sent)
    }
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
            StageSpec::Filter(f) => (Node::Filter(Filter::new(f.pass_ratio)), f.link.clone()),
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
