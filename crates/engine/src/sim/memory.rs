//! The producer's heap and its OOM kills.
//!
//! The producer's process holds its pending send and everything in the stages before the
//! topic (channels and the Kafka client's buffer: an in-process channel lives in the heap
//! of the process that owns it; `map` and `filter` hold nothing). Its heap is arithmetic
//! on that count: `baseline + message_bytes × held`, nothing allocated per message. What
//! the process holds grows only when its source generates (everything else moves messages
//! within it or out of it), so the heap is checked there: once per run of arrivals.
//!
//! Past `producer.memory.heap_limit_mib` the process is OOM-killed: everything it held is
//! lost (cause `producer_oom`), the links between its own stages start a fresh session
//! (their initial credits or prefetch, less grants in transit), and nothing is generated
//! until it restarts `restart_delay_s` later with its baseline heap. The link into a
//! separate consumer keeps its window: the consumer still holds what it was sent.

use super::Simulation;
use crate::event::Event;
use crate::seg::Seg;
use crate::snapshot::{LossCause, TraceKind};
use crate::stage::Node;

impl Simulation {
    /// Messages the producer's process holds now: its pending send and its stages' buffers.
    pub(crate) fn producer_held(&self) -> u64 {
        self.producer.pending.map_or(0, |s| s.n) + self.buffered()
    }

    /// The producer's heap now, in bytes.
    pub(crate) fn producer_heap(&self) -> u64 {
        self.producer.heap.bytes_for(self.producer_held())
    }

    /// The producer's largest heap, over the run (`window`: since the last sample), now included.
    pub(crate) fn max_producer_heap(&self, window: bool) -> u64 {
        let peak = if window { self.stats.window_producer_held } else { self.stats.max_producer_held };
        self.producer.heap.bytes_for(peak.max(self.producer_held()))
    }

    /// A new sample interval starts: its peak starts at what is held now.
    pub(crate) fn producer_heap_sampled(&mut self) {
        self.stats.window_producer_held = self.producer_held();
    }

    /// After the source generated: notes the heap's peak, and kills the process if the heap
    /// is over its limit.
    #[inline]
    pub(crate) fn check_producer_heap(&mut self) {
        let held = self.producer_held();
        self.stats.window_producer_held = self.stats.window_producer_held.max(held);
        self.stats.max_producer_held = self.stats.max_producer_held.max(held);
        if held > self.producer.heap.room {
            self.producer_oom_kill();
        }
    }

    /// Is the producer running (not blocked, not down after an OOM kill)?
    #[inline]
    pub(crate) fn producer_running(&self) -> bool {
        self.producer.blocked_since.is_none() && self.producer.down_until.is_none()
    }

    /// The producer's heap overflowed: its process dies with everything it holds.
    #[cold]
    #[inline(never)]
    fn producer_oom_kill(&mut self) {
        self.stats.producer_oom_kills += 1;
        self.stats.first_producer_oom.get_or_insert(self.now);
        let mut gone: Vec<Seg> = Vec::new();
        if let Some(seg) = self.producer.pending.take() {
            // A send that dies with the process counts as sent, as one that timed out does:
            // `produced + pending = generated` holds throughout.
            self.producer.produced += seg.n;
            gone.push(seg);
        }
        for node in &mut self.stages {
            let buf = match node {
                Node::Channel(b) => b,
                Node::Kafka(k) => &mut k.buf,
                Node::Map | Node::Filter(_) | Node::Topic => continue,
            };
            while let Some(seg) = buf.q.pop_front(u64::MAX) {
                gone.push(seg);
            }
            buf.avg = 0.0;
        }
        let lost: u64 = gone.iter().map(|s| s.n).sum();
        for seg in &gone {
            self.lose(seg.n, seg, LossCause::ProducerOom);
        }
        // A blocked send dies with the process.
        if let Some(since) = self.producer.blocked_since.take() {
            self.producer.blocked_total += self.now - since;
        }
        self.producer.block_gen = self.producer.block_gen.wrapping_add(1);
        // No arrivals until the restart.
        self.producer.produce_gen = self.producer.produce_gen.wrapping_add(1);
        let consumer = self.consumer_node();
        for (j, link) in self.links.iter_mut().enumerate().skip(1) {
            // Every sender here is in the process (the producer, its channels): nothing held.
            link.hold.active = false;
            link.hold.held = 0;
            if j < consumer {
                link.restart_count();
                link.reopen();
            }
        }
        let at = self.now + self.producer.heap.restart_delay;
        self.producer.down_until = Some(at);
        self.events.push(at, Event::ProducerRestart);
        self.note(TraceKind::ProducerOomKill { lost });
    }

    /// The OOM-killed producer is back: its source starts again from now.
    pub(crate) fn on_producer_restart(&mut self) {
        self.producer.down_until = None;
        self.producer.gen.restart(self.now);
        self.note(TraceKind::ProducerRestarted);
        self.schedule_produce();
    }
}
