//! Channels at run time: what happens when a run arrives (shedding, drop-oldest, the
//! queue), the sender that moves what the next link takes, deadline shedding, and polls
//! by the consumer.

use super::Simulation;
use crate::event::Event;
use crate::scenario::{OnFull, ShedSpec};
use crate::seg::{Seg, SegQueue};
use crate::shed;
use crate::snapshot::DropCause;
use crate::stage::{Buffer, Node};
use crate::time::Nanos;

impl Simulation {
    /// A run arrives at channel `j`: shedding first, then drop-oldest, then the queue.
    pub(crate) fn buffer_arrive(&mut self, j: usize, mut seg: Seg) {
        // Speed only (the result is the same either way). In the page too: a constant
        // producer's every tick goes through here, and 1000× real time needs the saving.
        if self.passes_through(j, &seg) {
            // What queueing the run and `transfer` would do, without the queue round trip:
            // `push(j, seg)`, which delivers the whole run, as `passes_through` checked (the
            // link after takes any number, at least `seg.n` now).
            if seg.n > 0 {
                self.deliver(j, seg);
            }
            self.taken_from(j, seg.n);
            return;
        }
        let drop_oldest = self.links[j].spec.on_full == OnFull::DropOldest;
        let Node::Channel(b) = &mut self.stages[j - 1] else { unreachable!("buffer_arrive on a channel") };
        let depth = b.q.total();
        let (shed, cause) = shed::on_arrival(b.shed.as_ref(), depth, seg.n, &mut b.avg, &mut self.rng);
        let mut evict = 0;
        if drop_oldest {
            if let Some(cap) = b.cap {
                let incoming = seg.n - shed;
                evict = (depth + incoming).saturating_sub(cap).min(depth);
            }
        }
        let mut evicted = Vec::new();
        let mut left = evict;
        while left > 0 {
            let Some(old) = b.q.pop_front(left) else { break };
            left -= old.n;
            evicted.push(old);
        }
        let (b_cap, b_total) = (b.cap, b.q.total());
        self.unhold(j, evict - left);
        for old in evicted {
            self.drop_run(j, old, DropCause::DropOldest);
            self.window_consumed(j, old.n);
        }
        if shed > 0 {
            let (gone, kept) = if shed == seg.n {
                (seg, None)
            } else {
                let (a, b) = seg.split(shed);
                (a, Some(b))
            };
            self.drop_run(j, gone, cause);
            self.window_consumed(j, gone.n);
            match kept {
                Some(k) => seg = k,
                None => return,
            }
        }
        // With drop-oldest, a run larger than the whole channel keeps only its newest part.
        if let Some(cap) = b_cap {
            let over = (b_total + seg.n).saturating_sub(cap);
            if over > 0 {
                let (old, new) = seg.split(over.min(seg.n - 1));
                self.drop_run(j, old, DropCause::DropOldest);
                self.window_consumed(j, old.n);
                seg = new;
            }
        }
        let Node::Channel(b) = &mut self.stages[j - 1] else { unreachable!() };
        b.q.push_back(seg);
        self.on_data(j);
    }

    /// Does a run arriving at channel `j` go straight on? It does when the channel is empty,
    /// sheds nothing, holds the run, and is drained by a sender (not polled by the group)
    /// whose link takes the whole run now: queued, it would leave again at once, whole.
    #[inline]
    fn passes_through(&self, j: usize, seg: &Seg) -> bool {
        let Node::Channel(b) = &self.stages[j - 1] else { return false };
        b.q.is_empty()
            && b.shed.is_none()
            && self.links[j + 1].unit == 1
            && b.cap.is_none_or(|c| seg.n <= c)
            && !(j + 1 == self.consumer_node() && self.group.polls)
            && self.space(j + 1) >= seg.n
    }

    /// Deadline shedding on channel `node`: messages whose turn has come after their
    /// deadline are dropped instead of passed on.
    #[inline]
    pub(crate) fn shed_stale(&mut self, node: usize) {
        // The check inline, the work (rare: deadline shedding configured) out of line.
        if let Node::Channel(Buffer { shed: Some(ShedSpec::Deadline { max_age_ms }), .. }) = self.stages[node - 1] {
            self.shed_stale_deadline(node, max_age_ms);
        }
    }

    #[inline(never)]
    fn shed_stale_deadline(&mut self, node: usize, max_age_ms: f64) {
        let now = self.now;
        let Node::Channel(b) = &mut self.stages[node - 1] else { return };
        let cutoff = shed::deadline_cutoff(now, max_age_ms);
        let mut gone = Vec::new();
        while let Some(front) = b.q.front().copied() {
            let stale = front.count_before(cutoff);
            if stale == 0 {
                break;
            }
            gone.push(b.q.pop_front(stale).expect("front exists"));
        }
        let mut n = 0;
        for seg in gone {
            n += seg.n;
            self.drop_run(node, seg, DropCause::ShedDeadline);
        }
        self.unhold(node, n);
        if n > 0 {
            self.taken_from(node, n);
        }
    }

    /// Moves what the next link takes out of channel `node` (a sender goroutine), applying
    /// that link's policy to what it does not take. Over a non-blocking link the sender
    /// holds the leftover of the run it is sending for up to one step, like the producer
    /// (see [`Hold`](crate::link::Hold)): it stays at the front of the channel meanwhile.
    /// Over a batched link it sends whole batches only, each taken across the runs at the
    /// front; fewer than a batch wait in the channel for more.
    pub(crate) fn transfer(&mut self, node: usize) {
        self.shed_stale(node);
        let policy = self.links[node + 1].spec.on_full;
        let holds = self.links[node + 1].hold.applies(policy);
        let unit = self.links[node + 1].unit;
        let mut moved = 0;
        loop {
            let room = self.space(node + 1);
            let want = if policy == OnFull::Block || holds { room } else { u64::MAX };
            let Node::Channel(b) = &mut self.stages[node - 1] else { return };
            let Some(seg) = next_send(&mut b.q, want, unit) else { break };
            moved += seg.n;
            if let Some(rest) = self.push(node, seg) {
                // Blocked: put it back in front.
                moved -= rest.n;
                let Node::Channel(b) = &mut self.stages[node - 1] else { unreachable!() };
                b.q.push_front(rest);
                break;
            }
        }
        if holds {
            self.hold_front(node, moved);
        }
        if moved > 0 {
            self.taken_from(node, moved);
        }
    }

    /// Channel `node`'s sender, over a non-blocking link, has sent `moved` messages and
    /// stopped: what it sent of a held leftover no longer is; if the channel still has data
    /// and nothing is held, the run now at its front is held for one step.
    fn hold_front(&mut self, node: usize, moved: u64) {
        let unit = self.links[node + 1].unit;
        let front = match &self.stages[node - 1] {
            // Over a batched link, one whole batch (if the channel holds one).
            Node::Channel(b) if unit > 1 && b.q.total() >= unit => unit,
            Node::Channel(_) if unit > 1 => 0,
            Node::Channel(b) => b.q.front().map_or(0, |s| s.n),
            _ => 0,
        };
        let h = &mut self.links[node + 1].hold;
        if h.active {
            h.held -= moved.min(h.held);
            if h.held == 0 {
                h.active = false;
            }
        }
        if !h.active && front > 0 {
            h.start(self.now);
            h.held = front;
            if let Some((at, gen)) = h.arm(Nanos::MAX) {
                self.events.push(at, Event::HoldExpired { link: (node + 1) as u16, gen });
            }
        }
    }

    /// `n` messages left the front of channel `node` otherwise than by its sender (evicted,
    /// shed): those of a held leftover are no longer held.
    fn unhold(&mut self, node: usize, n: u64) {
        let h = &mut self.links[node + 1].hold;
        if h.active && n > 0 {
            h.held -= n.min(h.held);
            if h.held == 0 {
                // Nothing left to hold: the expiry finds the hold inactive (stale).
                h.active = false;
            }
        }
    }

    /// The leftover channel `node`'s sender held has waited one step: it is sent once
    /// more, what does not fit meets the link's policy, and the sender goes on.
    pub(crate) fn release_channel_hold(&mut self, node: usize) {
        let h = &mut self.links[node + 1].hold;
        h.active = false;
        let mut left = std::mem::take(&mut h.held);
        let unit = self.links[node + 1].unit;
        let mut gone = 0;
        while left > 0 {
            let Node::Channel(b) = &mut self.stages[node - 1] else { return };
            let seg = if unit > 1 { b.q.pop_joined(left.min(unit)) } else { b.q.pop_front(left) };
            let Some(seg) = seg else { break };
            left -= seg.n;
            gone += seg.n;
            if let Some(kept) = self.push(node, seg) {
                // Short of a batch (a batched link keeps nothing else): it waits in front.
                debug_assert!(unit > 1 && kept.n < unit, "a non-blocking link keeps nothing");
                gone -= kept.n;
                let Node::Channel(b) = &mut self.stages[node - 1] else { unreachable!() };
                b.q.push_front(kept);
                break;
            }
        }
        if gone > 0 {
            self.taken_from(node, gone);
        }
        self.transfer(node);
    }

    /// Does channel `node` hold anything?
    pub(crate) fn channel_has_data(&self, node: usize) -> bool {
        matches!(&self.stages[node - 1], Node::Channel(b) if !b.q.is_empty())
    }

    /// A poll of channel `node` by the consumer: takes up to `max` messages (stale ones
    /// shed first) into `out`, and returns how many.
    pub(crate) fn poll_channel(&mut self, node: usize, max: u64, out: &mut Vec<(usize, Seg)>) -> u64 {
        self.shed_stale(node);
        let Node::Channel(b) = &mut self.stages[node - 1] else { return 0 };
        let (mut left, mut got) = (max, 0);
        while left > 0 {
            let Some(seg) = b.q.pop_front(left) else { break };
            left -= seg.n;
            got += seg.n;
            out.push((0, seg));
        }
        if got > 0 {
            self.taken_from(node, got);
        }
        got
    }
}

/// What a channel's sender takes from the front of `q` for one send when the link takes
/// `want`: over a batched link (`unit` > 1) exactly one batch, joined across runs, and only
/// when the channel holds a whole one and `want` allows it; otherwise up to `want` from the
/// front run.
fn next_send(q: &mut SegQueue, want: u64, unit: u64) -> Option<Seg> {
    if unit == 1 {
        return if want == 0 { None } else { q.pop_front(want) };
    }
    if want < unit || q.total() < unit {
        return None;
    }
    q.pop_joined(unit)
}
