//! The closed set of events and the future-event list, ordered by (time, sequence).
//!
//! Ties in time are broken by insertion order, which keeps runs deterministic. The key is
//! packed into one `u128` so that heap comparisons are a single integer compare.

use crate::time::Nanos;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Everything that can happen in a run. Nodes are addressed by index, never by pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The producer's next arrivals are due.
    Produce,
    /// The blocked producer may retry its pending send (space appeared downstream).
    ProducerRetry,
    /// A poll (or a take from a channel) completes; stale when `gen` is old.
    PollDone { gen: u32 },
    /// A poll that waited for data returns empty; stale when `gen` is old.
    PollTimeout { gen: u32 },
    /// Worker `worker` finishes its current run; stale when `epoch` is old (after a kill).
    WorkerDone { worker: u32, epoch: u32 },
    /// The killed consumer comes back.
    Restart,
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
        q.push(10, Event::Restart);
        q.push(10, Event::Produce);
        assert_eq!(q.pop(), Some((10, Event::Restart)));
        assert_eq!(q.pop(), Some((10, Event::Produce)));
        assert_eq!(q.pop(), Some((20, Event::Sample)));
        assert_eq!(q.pop(), None);
    }
}
