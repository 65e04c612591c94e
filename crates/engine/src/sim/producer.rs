//! The producer's handlers: arrivals sent into link 1, blocking, retries, block
//! timeouts, throttle updates.

use super::Simulation;
use crate::event::Event;
use crate::seg::Seg;
use crate::snapshot::{DropCause, TraceKind};
use crate::time::{self, Nanos};

impl Simulation {
    pub(crate) fn on_produce(&mut self) {
        if self.producer.blocked_since.is_some() {
            return;
        }
        self.release_hold();
        self.generate_and_send();
        if self.producer_running() {
            self.schedule_produce();
        }
    }

    /// Sends whatever the source generated up to now (after the batch being filled, if
    /// any: a batched link's sender collects messages until it has a whole batch); the heap
    /// grows only here, so it is checked here (`sim/memory.rs`).
    fn generate_and_send(&mut self) {
        if let Some(seg) = self.take_generated() {
            self.note(TraceKind::Generated { n: seg.n });
            let seg = match self.producer.pending.take() {
                Some(filling) => filling.join(seg),
                None => seg,
            };
            self.producer_send(seg);
            self.check_producer_heap();
        }
    }

    /// What the source generated up to now, counted and numbered (shared with the direct
    /// path, where it is inline).
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    pub(crate) fn take_generated(&mut self) -> Option<Seg> {
        let (n, t0, t1) = self.producer.gen.generate(self.now)?;
        self.touch();
        self.stats.generated += n;
        let seg = Seg { n, t0, t1, off: self.producer.seq };
        self.producer.seq += n;
        Some(seg)
    }

    /// Schedules the next arrivals, invalidating any earlier schedule. (Inline with its
    /// event push: once per arrival on the direct path.)
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    pub(crate) fn schedule_produce(&mut self) {
        self.producer.produce_gen = self.producer.produce_gen.wrapping_add(1);
        let next = self.producer.gen.next_due();
        if next != Nanos::MAX {
            let gen = self.producer.produce_gen;
            self.events.push_inline(next.max(self.now + 1), Event::Produce { gen });
        }
    }

    fn producer_send(&mut self, seg: Seg) {
        if self.links[1].hold.applies(self.links[1].spec.on_full) {
            self.producer_send_holding(seg);
            return;
        }
        if seg.n > 0 && self.links[1].unit == 1 && self.space(1) >= seg.n {
            // The whole run fits now (the usual case): what `push` does then, directly.
            self.deliver(0, seg);
            self.producer.produced += seg.n;
            self.producer.pending = None;
            self.unblock();
            return;
        }
        let before = seg.n;
        let rest = self.push(0, seg);
        let kept = rest.map_or(0, |r| r.n);
        self.producer.produced += before - kept;
        match rest {
            Some(rest) if !self.links[1].filling(rest.n) => {
                self.producer.pending = Some(rest);
                if self.producer.blocked_since.is_none() {
                    self.producer.blocked_since = Some(self.now);
                    self.producer.block_gen = self.producer.block_gen.wrapping_add(1);
                    if let Some(t) = self.links[1].spec.block_timeout_ms {
                        let gen = self.producer.block_gen;
                        self.events.push(self.now + time::from_millis(t), Event::BlockTimeout { gen });
                    }
                    self.note(TraceKind::Blocked);
                }
            }
            // Sent, or short of a batch: the producer goes on filling it, not blocked.
            filling => {
                self.producer.pending = filling;
                self.unblock();
            }
        }
    }

    /// The producer's send went out (or is short of a batch): a blocked producer resumes.
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn unblock(&mut self) {
        if let Some(since) = self.producer.blocked_since.take() {
            self.producer.blocked_total += self.now - since;
            self.note(TraceKind::Unblocked);
            self.producer.gen.restart(self.now);
            self.schedule_produce();
        }
    }

    /// Sends `seg` over a non-blocking link: what the receiver does not take now is held
    /// (the producer is not blocked) and sent as room appears; after one resolution step
    /// what is still held meets the link's policy (`release_hold`; see [`Hold`](crate::link::Hold)).
    fn producer_send_holding(&mut self, seg: Seg) {
        let rest = self.push_fit(0, seg);
        self.producer.produced += seg.n - rest.map_or(0, |r| r.n);
        self.producer.pending = rest;
        match rest {
            Some(r) if self.links[1].filling(r.n) => self.links[1].hold.active = false,
            Some(_) if !self.links[1].hold.active => {
                self.links[1].hold.start(self.now);
                self.arm_hold();
            }
            Some(_) => {}
            None => self.links[1].hold.active = false,
        }
    }

    /// Makes sure a held leftover is released by the end of its hold: the next arrivals do
    /// it (`on_produce`) when they are due by then, otherwise an expiry event.
    fn arm_hold(&mut self) {
        let next = self.producer.gen.next_due();
        if let Some((at, gen)) = self.links[1].hold.arm(next) {
            self.events.push(at, Event::HoldExpired { link: 1, gen });
        }
    }

    /// The held leftover (if any) is sent once more; what does not fit meets the link's
    /// policy (dropped, or failed).
    fn release_hold(&mut self) {
        if !self.links[1].hold.active {
            return;
        }
        self.links[1].hold.active = false;
        if let Some(held) = self.producer.pending.take() {
            // Sent either way: delivered now, or dropped (failed) by the link's policy; only
            // what is short of a batch stays, filling.
            let filling = self.push(0, held);
            self.producer.produced += held.n - filling.map_or(0, |r| r.n);
            self.producer.pending = filling;
        }
    }

    /// A hold's expiry: the producer's (link 1) or a channel sender's.
    pub(crate) fn on_hold_expired(&mut self, link: usize, gen: u32) {
        if !self.links[link].hold.is_current(gen) {
            return;
        }
        if link == 1 {
            self.release_hold();
        } else {
            self.release_channel_hold(link - 1);
        }
    }

    pub(crate) fn on_producer_retry(&mut self) {
        self.producer.retry_scheduled = false;
        if let Some(pending) = self.producer.pending.take() {
            self.producer_send(pending);
        }
    }

    /// The send has been blocked for the link's `block_timeout_ms`: it fails.
    pub(crate) fn on_block_timeout(&mut self, gen: u32) {
        if gen != self.producer.block_gen || self.producer.blocked_since.is_none() {
            return;
        }
        if let Some(pending) = self.producer.pending.take() {
            self.producer.produced += pending.n;
            self.drop_run(0, pending, DropCause::BlockTimeout);
        }
        self.producer_send(Seg { n: 0, t0: self.now, t1: self.now, off: self.producer.seq });
    }

    pub(crate) fn on_throttle(&mut self) {
        let lag = self.backlog() as f64;
        let Some(t) = &mut self.producer.throttle else { return };
        let rate = t.update(lag);
        let every = t.interval().max(1);
        self.events.push(self.now + every, Event::Throttle);
        // What arrived before the change goes out at the old rate; then the new schedule.
        if self.producer_running() {
            self.release_hold();
            self.generate_and_send();
        }
        self.producer.gen.set_rate(rate);
        self.note(TraceKind::Throttled { rate_per_s: rate });
        if self.producer_running() {
            self.schedule_produce();
            // The new schedule may come after the end of a hold started just now.
            self.arm_hold();
        }
    }
}
