//! Kafka's producer client at run time: batches sent to the broker when full or lingered,
//! at the broker's rate.

use super::Simulation;
use crate::event::Event;
use crate::stage::Node;
use crate::time::Nanos;

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
