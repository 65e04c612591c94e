//! Links at run time: how much link `j` takes now ([`Simulation::space`]: the receiver's
//! room, the link's credits or outstanding demand, through transparent operators),
//! sending with the link's `on_full` policy, delivery into the next node, and the way
//! back: space freed upstream, credits granted and `request(n)` demand after the link's
//! latency.

use super::Simulation;
use crate::event::Event;
use crate::scenario::OnFull;
use crate::seg::Seg;
use crate::snapshot::{DropCause, TraceKind};
use crate::stage::Node;

impl Simulation {
    /// How many messages link `j` (into node `j`) takes now.
    ///
    /// Inline: a sender asks several times per run it moves. Operators, which ask their own
    /// downstream, are out of line (the recursion would otherwise keep this from inlining).
    #[inline]
    pub(crate) fn space(&self, j: usize) -> u64 {
        let permits = self.links[j].permits();
        if j == self.consumer_node() {
            return permits;
        }
        let room = match &self.stages[j - 1] {
            Node::Channel(b) => {
                if self.links[j].spec.on_full == OnFull::DropOldest {
                    u64::MAX
                } else {
                    b.room()
                }
            }
            Node::Kafka(k) => k.buf.room(),
            Node::Map | Node::Filter(_) => self.operator_space(j),
            Node::Topic => u64::MAX,
        };
        room.min(permits)
    }

    /// What the operator at node `j` takes: what its downstream takes (for a filter, the
    /// most originals of which at most that many pass).
    #[inline(never)]
    fn operator_space(&self, j: usize) -> u64 {
        match &self.stages[j - 1] {
            Node::Filter(f) => f.originals_for(self.space(j + 1)),
            _ => self.space(j + 1),
        }
    }

    /// Sends `seg` from node `from` over link `from + 1`: delivers what fits and applies the
    /// link's `on_full` policy to the rest. Returns what the sender keeps: blocked (at least
    /// one send's worth, with `block`), or, over a batched link, the messages short of a
    /// whole batch, which the sender goes on filling ([`Link::filling`](crate::link::Link::filling)).
    pub(crate) fn push(&mut self, from: usize, seg: Seg) -> Option<Seg> {
        let rest = self.push_fit(from, seg)?;
        let j = from + 1;
        let unit = self.links[j].unit;
        if unit == 1 {
            return self.on_full(j, rest);
        }
        let partial = rest.n % unit;
        if partial == 0 {
            return self.on_full(j, rest);
        }
        if partial == rest.n || self.links[j].spec.on_full == OnFull::Block {
            return Some(rest);
        }
        // Whole batches meet the policy; the newest messages, short of a batch, stay.
        let (whole, part) = rest.split(rest.n - partial);
        let kept = self.on_full(j, whole);
        debug_assert!(kept.is_none(), "a non-blocking link keeps nothing");
        Some(part)
    }

    /// Sends as much of `seg` from node `from` over link `from + 1` as the receiver takes,
    /// and returns the rest, to which no policy has been applied yet.
    ///
    /// A run larger than the receiver's room is split to fit, and the receiver is asked
    /// again after each delivery: a delivery may make room at once (a channel passing runs
    /// on to a topic), so a run never waits on being larger than a capacity. Over a batched
    /// link (a credit link's `batch`, see [`Link::unit`](crate::link::Link::unit)) every
    /// delivery is exactly one batch, sent only when the receiver takes a whole one.
    pub(crate) fn push_fit(&mut self, from: usize, mut seg: Seg) -> Option<Seg> {
        if seg.n == 0 {
            return None;
        }
        let j = from + 1;
        let unit = self.links[j].unit;
        loop {
            let space = self.space(j);
            let take = if unit == 1 {
                seg.n.min(space)
            } else if seg.n >= unit && space >= unit {
                unit
            } else {
                0
            };
            if take == 0 {
                return Some(seg);
            }
            if take == seg.n {
                self.deliver(from, seg);
                return None;
            }
            let (head, tail) = seg.split(take);
            self.deliver(from, head);
            seg = tail;
        }
    }

    /// Applies link `j`'s `on_full` policy to `rest`, which its receiver did not take.
    /// Returns what the sender keeps (blocked).
    pub(crate) fn on_full(&mut self, j: usize, rest: Seg) -> Option<Seg> {
        match self.links[j].spec.on_full {
            OnFull::Block => Some(rest),
            OnFull::DropNewest => {
                self.drop_run(j, rest, DropCause::DropNewest);
                None
            }
            OnFull::Fail => {
                self.drop_run(j, rest, DropCause::Fail);
                None
            }
            OnFull::DropOldest => {
                // Only channels take this policy (validated): they never refuse, see `space`.
                self.drop_run(j, rest, DropCause::DropOldest);
                None
            }
        }
    }

    /// Moves `seg` (which fits) from node `from` into node `from + 1`.
    pub(crate) fn deliver(&mut self, from: usize, seg: Seg) {
        let j = from + 1;
        if let Some(w) = &mut self.links[j].window {
            w.permits -= seg.n;
        }
        self.note(TraceKind::Moved { from: from as u16, to: j as u16, n: seg.n });
        if j == self.consumer_node() {
            self.group_receive(seg);
            return;
        }
        match &mut self.stages[j - 1] {
            Node::Channel(_) => self.buffer_arrive(j, seg),
            Node::Map => self.deliver(j, seg),
            Node::Filter(f) => {
                let (out, dropped) = f.thin(seg);
                if dropped.n > 0 {
                    self.drop_run(j, dropped, DropCause::Filter);
                }
                if out.n > 0 {
                    self.deliver(j, out);
                }
            }
            Node::Kafka(k) => {
                k.buf.q.push_back(seg);
                self.kafka_schedule(j);
            }
            Node::Topic => {
                if let Some(t) = &mut self.topic {
                    t.append(seg, self.now);
                }
                self.on_data(j);
            }
        }
    }

    /// Node `node` has new data: its downstream takes it.
    pub(crate) fn on_data(&mut self, node: usize) {
        let next = node + 1;
        if next == self.consumer_node() && self.group.polls {
            self.group_wake();
        } else if matches!(self.stages[node - 1], Node::Channel(_)) {
            self.transfer(node);
        }
    }

    /// `n` messages left channel `node`: the receiver side of its inbound link and the
    /// sender upstream learn about it.
    pub(crate) fn taken_from(&mut self, node: usize, n: u64) {
        self.window_consumed(node, n);
        self.on_space(node);
    }

    /// Node `node` has room again (or its link got permits): its upstream may push.
    pub(crate) fn on_space(&mut self, node: usize) {
        if node == 1 {
            if self.producer.pending.is_some() && !self.producer.retry_scheduled {
                self.producer.retry_scheduled = true;
                self.events.push(self.now, Event::ProducerRetry);
            }
            return;
        }
        match &self.stages[node - 2] {
            Node::Channel(_) => self.transfer(node - 1),
            Node::Map | Node::Filter(_) => self.on_space(node - 1),
            Node::Kafka(_) | Node::Topic => {}
        }
    }

    /// The receiver of link `j` finished `n` messages: grant or request more when due.
    #[inline]
    pub(crate) fn window_consumed(&mut self, j: usize, n: u64) {
        if self.links[j].window.is_some() {
            self.window_consumed_windowed(j, n);
        }
    }

    fn window_consumed_windowed(&mut self, j: usize, n: u64) {
        let Some(w) = &mut self.links[j].window else { return };
        w.consumed += n;
        let mut grants = Vec::new();
        while w.consumed >= w.replenish {
            w.consumed -= w.replenish;
            w.in_transit += w.replenish;
            grants.push((w.replenish, w.latency, w.request));
        }
        for (n, latency, request) in grants {
            self.events.push(self.now + latency, Event::Grant { link: j as u16, n });
            self.note(if request { TraceKind::Requested { link: j as u16, n } } else { TraceKind::Granted { link: j as u16, n } });
        }
    }

    pub(crate) fn on_grant(&mut self, j: usize, n: u64) {
        if let Some(w) = &mut self.links[j].window {
            w.permits += n;
            w.in_transit -= n;
        }
        self.note(TraceKind::PermitsArrived { link: j as u16, n });
        self.on_space(j);
    }
}
