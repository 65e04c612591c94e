//! The closed set of events and the future-event list, ordered by (time, sequence).
//!
//! Ties in time are broken by insertion order, which keeps runs deterministic. The key is
//! packed into one `u128` so that heap comparisons are a single integer compare.

use crate::time::Nanos;

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
    /// The leftover the sender over link `link` (the producer's, or a channel's) held for
    /// a non-blocking link has waited one resolution step: what still does not fit meets
    /// the link's policy. Stale when `gen` is old.
    HoldExpired { link: u16, gen: u32 },
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
    /// A member's worker finishes its run (with a downstream: its call returns).
    WorkerDone { member: u16, worker: u32, epoch: u32 },
    /// A member's worker has spent its own service time on its run and calls the downstream.
    CallDue { member: u16, worker: u32, epoch: u32 },
    /// A member's pending commits reach the broker.
    CommitDone { member: u16, epoch: u32 },
    /// A killed member comes back.
    Restart { member: u16 },
    /// The OOM-killed producer comes back.
    ProducerRestart,
    /// A rebalance of the group completes.
    RebalanceDone { gen: u32 },
    /// Record a point of the time series.
    Sample,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    /// Time in the high 64 bits, sequence number in the low 64: one integer compare.
    key: u128,
    event: Event,
}

impl Entry {
    fn time(&self) -> Nanos {
        (self.key >> 64) as Nanos
    }
}

/// The future-event list: a binary min-heap on the packed (time, sequence) key.
///
/// Keys are unique, so the order of events does not depend on how the heap is laid out.
/// Popping leaves the root in place, marked vacant, because a handler usually schedules
/// a new event: that push then fills the root with one sift down, instead of a pop
/// (sift down to the bottom and back up) followed by a push (sift up).
#[derive(Clone, Debug, Default)]
pub struct EventQueue {
    heap: Vec<Entry>,
    seq: u64,
    /// `heap[0]` was handed out by `pop` and is no longer part of the queue.
    vacant: bool,
}

impl EventQueue {
    pub fn new() -> EventQueue {
        EventQueue::default()
    }

    // Out of line in the page (size), inline natively (a call per event saved).
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub fn push(&mut self, at: Nanos, event: Event) {
        self.push_inline(at, event);
    }

    /// `push`, always inlined: for the few hottest call sites (see `direct.rs`).
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    pub fn push_inline(&mut self, at: Nanos, event: Event) {
        let key = ((at as u128) << 64) | self.seq as u128;
        self.seq += 1;
        let entry = Entry { key, event };
        if self.vacant {
            self.vacant = false;
            self.sift_down(0, entry);
        } else {
            self.heap.push(entry);
            self.sift_up(self.heap.len() - 1, entry);
        }
    }

    /// Time of the earliest event.
    pub fn peek_time(&self) -> Option<Nanos> {
        if self.vacant {
            // The earliest left is the earlier child of the vacant root.
            let a = self.heap.get(1).map(|e| e.key);
            let b = self.heap.get(2).map(|e| e.key);
            return match (a, b) {
                (Some(a), Some(b)) => Some((a.min(b) >> 64) as Nanos),
                (Some(a), None) => Some((a >> 64) as Nanos),
                _ => None,
            };
        }
        self.heap.first().map(Entry::time)
    }

    pub fn pop(&mut self) -> Option<(Nanos, Event)> {
        self.pop_until(Nanos::MAX)
    }

    /// Removes and returns the earliest event if it is due at or before `t`.
    #[inline]
    pub fn pop_until(&mut self, t: Nanos) -> Option<(Nanos, Event)> {
        self.settle();
        let top = *self.heap.first()?;
        if top.time() > t {
            return None;
        }
        self.vacant = true;
        Some((top.time(), top.event))
    }

    pub fn len(&self) -> usize {
        self.heap.len() - self.vacant as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fills a vacant root with the last entry (the test inline: usually a push did it).
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn settle(&mut self) {
        if self.vacant {
            self.settle_vacant();
        }
    }

    #[cfg_attr(not(target_arch = "wasm32"), inline(never))]
    fn settle_vacant(&mut self) {
        self.vacant = false;
        let last = self.heap.pop().expect("a vacant root is an entry");
        if !self.heap.is_empty() {
            self.sift_down(0, last);
        }
    }

    /// Puts `entry` at `pos` (a hole) and moves it down to its place.
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn sift_down(&mut self, mut pos: usize, entry: Entry) {
        let heap = &mut self.heap[..];
        let n = heap.len();
        loop {
            let mut child = 2 * pos + 1;
            if child >= n {
                break;
            }
            if child + 1 < n {
                // As an addition rather than a branch: which child is earlier is a coin toss
                // (an arrival against a departure), which a branch predictor cannot learn.
                child += (heap[child + 1].key < heap[child].key) as usize;
            }
            if heap[child].key >= entry.key {
                break;
            }
            heap[pos] = heap[child];
            pos = child;
        }
        heap[pos] = entry;
    }

    /// Moves `entry`, at `pos` (a hole), up to its place.
    fn sift_up(&mut self, mut pos: usize, entry: Entry) {
        let heap = &mut self.heap[..];
        while pos > 0 {
            let parent = (pos - 1) / 2;
            if heap[parent].key <= entry.key {
                break;
            }
            heap[pos] = heap[parent];
            pos = parent;
        }
        heap[pos] = entry;
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

    #[test]
    fn matches_a_sorted_reference_through_interleaved_pushes_and_pops() {
        let mut q = EventQueue::new();
        let mut reference: Vec<(Nanos, u64)> = Vec::new();
        let mut seq = 0u64;
        let mut x = 12345u64;
        let mut rand = |m: u64| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) % m
        };
        let mut now = 0;
        for _ in 0..20_000 {
            match rand(3) {
                0 | 1 => {
                    let at = now + rand(50);
                    q.push(at, Event::Grant { link: 0, n: seq });
                    reference.push((at, seq));
                    seq += 1;
                }
                _ => {
                    reference.sort();
                    assert_eq!(q.peek_time(), reference.first().map(|r| r.0));
                    let got = q.pop_until(now + 10);
                    let want = reference.first().copied().filter(|r| r.0 <= now + 10);
                    assert_eq!(got, want.map(|(t, n)| (t, Event::Grant { link: 0, n })));
                    if let Some((t, _)) = want {
                        reference.remove(0);
                        now = t;
                    } else {
                        now += 5;
                    }
                }
            }
            assert_eq!(q.len(), reference.len());
        }
    }
}
