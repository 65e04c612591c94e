//! The closed set of events and the future-event list, ordered by (time, sequence).
//!
//! Ties in time are broken by insertion order, which keeps runs deterministic. The key is
//! packed into one `u128` so that heap comparisons are a single integer compare.

use crate::time::Nanos;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Everything that can happen in a run. Nodes, links and members are addressed by index,
/// never by pointer; events that may have been overtaken carry a generation to detect it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The producer's next arrivals are due; stale when `gen` is old (the rate changed).
    Produce { gen: u32 },
    /// The blocked producer may retry its pending send (space appeared downstream).
    ProducerRetry,
    /// The producer's blocked send has waited its timeout; stale when `gen` is old.
    BlockTimeout { gen: u32 },
    /// Credits or `request(n)` demand arrive at the sender of link `link`.
    Grant { link: u16, n: u64 },
    /// The Kafka producer client at node `node` may send a batch.
    Drain { node: u16 },
    /// Retention sweep of the topic at node `node`.
    Retention { node: u16 },
    /// The producer's throttle samples the lag.
    Throttle,
    /// A member's fetch returns from the broker.
    FetchDone { member: u16, gen: u32 },
    /// A member's poll (or take from a channel) completes.
    PollDone { member: u16, gen: u32 },
    /// A member's poll that waited for data may return empty (one armed timer per member;
    /// `gen` is the member's epoch).
    PollTimeout { member: u16, gen: u32 },
    /// Has the member polled within `max.poll.interval.ms`? (One armed timer per member.)
    PollIntervalCheck { member: u16, gen: u32 },
    /// A member's worker finishes its run (or its call to the downstream returns).
    WorkerDone { member: u16, worker: u32, epoch: u32 },
    /// A member's pending commits reach the broker.
    CommitDone { member: u16, epoch: u32 },
    /// A killed member comes back.
    Restart { member: u16 },
    /// A rebalance of the group completes.
    RebalanceDone { gen: u32 },
    /// Record a point of the time series.
    Sample,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    key: u128,
    event: Event,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    // Reversed: BinaryHeap is a max-heap and we want the earliest event first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

/// The future-event list.
#[derive(Clone, Debug, Default)]
pub struct EventQueue {
    heap: BinaryHeap<Entry>,
    seq: u64,
}

impl EventQueue {
    pub fn new() -> EventQueue {
        EventQueue::default()
    }

    pub fn push(&mut self, at: Nanos, event: Event) {
        let key = ((at as u128) << 64) | self.seq as u128;
        self.seq += 1;
        self.heap.push(Entry { key, event });
    }

    /// Time of the earliest event.
    pub fn peek_time(&self) -> Option<Nanos> {
        self.heap.peek().map(|e| (e.key >> 64) as Nanos)
    }

    pub fn pop(&mut self) -> Option<(Nanos, Event)> {
        self.heap.pop().map(|e| ((e.key >> 64) as Nanos, e.event))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_then_insertion_order() {
        let mut q = EventQueue::new();
        q.push(20, Event::Sample);
        q.push(10, Event::Throttle);
        q.push(10, Event::Produce { gen: 0 });
        assert_eq!(q.pop(), Some((10, Event::Throttle)));
        assert_eq!(q.pop(), Some((10, Event::Produce { gen: 0 })));
        assert_eq!(q.pop(), Some((20, Event::Sample)));
        assert_eq!(q.pop(), None);
    }
}
