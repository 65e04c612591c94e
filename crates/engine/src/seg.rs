//! Runs of messages ("segments") and a FIFO of them whose size is bounded by design.
//!
//! The engine never allocates per message. A [`Seg`] stands for `n` consecutive messages
//! whose production times are spread evenly over `[t0, t1]` and whose offsets are
//! `off .. off + n`. A [`SegQueue`] merges neighbouring segments once it holds more than
//! its cap, so a backlog of 10^9 messages costs as much memory as one of 10^3: what is
//! lost is only timestamp precision inside merged runs, never a count or an offset.

use crate::time::Nanos;
use std::collections::VecDeque;

/// Entries a queue of runs keeps before merging neighbours (see [`SegQueue`]).
pub(crate) const QUEUE_CAP: usize = 512;

/// `n` consecutive messages, produced evenly over `[t0, t1]`, with offsets `off .. off + n`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Seg {
    pub n: u64,
    pub t0: Nanos,
    pub t1: Nanos,
    pub off: u64,
}

impl Seg {
    /// One message produced at `t` with offset `off`.
    pub fn one(t: Nanos, off: u64) -> Seg {
        Seg { n: 1, t0: t, t1: t, off }
    }

    /// One past the last offset.
    pub fn end(&self) -> u64 {
        self.off + self.n
    }

    /// Production time of the `i`-th message of the run (`i < n`).
    pub fn time_of(&self, i: u64) -> Nanos {
        if self.n <= 1 {
            return self.t0;
        }
        let span = (self.t1 - self.t0) as f64;
        self.t0 + (span * (i as f64 / (self.n - 1) as f64)) as Nanos
    }

    /// Splits off the first `k` messages (`0 < k < n`): returns (first k, the rest).
    pub fn split(self, k: u64) -> (Seg, Seg) {
        debug_assert!(k > 0 && k < self.n);
        let head = Seg { n: k, t0: self.t0, t1: self.time_of(k - 1), off: self.off };
        let tail = Seg { n: self.n - k, t0: self.time_of(k), t1: self.t1, off: self.off + k };
        (head, tail)
    }

    /// How many of the run's messages were produced before `t`.
    pub fn count_before(&self, t: Nanos) -> u64 {
        if self.t0 >= t {
            0
        } else if self.t1 < t || self.n == 1 {
            self.n
        } else {
            let span = (self.t1 - self.t0) as f64;
            ((((t - 1 - self.t0) as f64 / span) * (self.n - 1) as f64).floor() as u64 + 1).min(self.n)
        }
    }

    /// `self` and `next`, which comes after it, as one run: a batch made of messages from
    /// different moments (a part kept while the sender was blocked, then new ones). A run
    /// spreads its births evenly, so the joined run keeps their mean birth, and with it the
    /// sum of their sojourns (Little's law stays exact), inside the span of the two: only
    /// how the births spread within the batch is lost.
    pub fn join(self, next: Seg) -> Seg {
        let n = self.n + next.n;
        // Twice the mean birth.
        let twice = ((self.n as u128 * (self.t0 as u128 + self.t1 as u128) + next.n as u128 * (next.t0 as u128 + next.t1 as u128))
            / n.max(1) as u128) as Nanos;
        let (lo, hi) = (self.t0.min(next.t0), self.t1.max(next.t1));
        let (t0, t1) = if twice >= lo + hi { (twice - hi, hi) } else { (lo, twice.saturating_sub(lo).max(lo)) };
        Seg { n, t0, t1, off: self.off }
    }

    /// Joins `next`, which comes after `self`, into one run.
    pub(crate) fn absorb(&mut self, next: Seg) {
        self.n += next.n;
        self.t0 = self.t0.min(next.t0);
        self.t1 = self.t1.max(next.t1);
    }
}

/// A FIFO of [`Seg`]s with a bounded number of entries.
#[derive(Clone, Debug)]
pub struct SegQueue {
    q: VecDeque<Seg>,
    total: u64,
    cap: usize,
    /// Runs merge eagerly while the merged run spans at most this long.
    merge_span: Nanos,
    /// Offsets matter (topic partitions, a topic consumer's queues): only runs with
    /// contiguous offsets ever merge.
    strict: bool,
    /// `t0` of the front run (`Nanos::MAX` when empty), kept by every change to the queue:
    /// a consumer picks its oldest queue by this on every start of a worker, and reading it
    /// here saves following each queue's ring buffer.
    front_t0: Nanos,
}

impl SegQueue {
    /// `cap` (at least 2) bounds the number of entries; `merge_span` is the time span
    /// under which consecutive runs are merged eagerly (0 keeps distinct times apart).
    pub fn new(cap: usize, merge_span: Nanos) -> SegQueue {
        SegQueue { q: VecDeque::new(), total: 0, cap: cap.max(2), merge_span, strict: false, front_t0: Nanos::MAX }
    }

    /// A queue whose runs keep exact offsets: neighbours merge only when contiguous. Such a
    /// queue stays within its cap as long as its gaps are few (gaps only come from shedding,
    /// which itself bounds the queue).
    pub fn strict(mut self) -> SegQueue {
        self.strict = true;
        self
    }

    /// Would [`push_back`](Self::push_back) merge `seg` into `back`, this queue's last run?
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    pub(crate) fn merges(&self, back: &Seg, seg: &Seg) -> bool {
        back.end() == seg.off && seg.t1.saturating_sub(back.t0) <= self.merge_span
    }

    /// Messages held.
    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Entries held (at most `cap`).
    pub fn entries(&self) -> usize {
        self.q.len()
    }

    pub fn front(&self) -> Option<&Seg> {
        self.q.front()
    }

    /// `t0` of the front run, `Nanos::MAX` when the queue is empty (run times are below it).
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub fn front_t0(&self) -> Nanos {
        debug_assert_eq!(self.front_t0, self.q.front().map_or(Nanos::MAX, |s| s.t0));
        self.front_t0
    }

    /// Notes the front run's `t0` after a change to the queue.
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn sync_front(&mut self) {
        self.front_t0 = self.q.front().map_or(Nanos::MAX, |s| s.t0);
    }

    pub fn iter(&self) -> impl Iterator<Item = &Seg> {
        self.q.iter()
    }

    // Always inline: the engine's most frequent call (every hop of every run), and small
    // once the compaction it may trigger stays out of line.
    #[inline(always)]
    pub fn push_back(&mut self, seg: Seg) {
        if seg.n == 0 {
            return;
        }
        self.total += seg.n;
        if let Some(back) = self.q.back_mut() {
            if back.end() == seg.off && seg.t1.saturating_sub(back.t0) <= self.merge_span {
                back.absorb(seg);
                if self.q.len() == 1 {
                    // The back is the front.
                    self.sync_front();
                }
                return;
            }
        }
        self.q.push_back(seg);
        if self.q.len() == 1 {
            self.front_t0 = seg.t0;
        }
        if self.q.len() > self.cap {
            self.compact();
        }
    }

    /// Takes up to `k` messages from the front, from the front run only.
    pub fn pop_front(&mut self, k: u64) -> Option<Seg> {
        let front = *self.q.front()?;
        if k == 0 {
            return None;
        }
        let taken = if k >= front.n {
            self.q.pop_front();
            self.sync_front();
            front
        } else {
            let (head, tail) = front.split(k);
            self.q[0] = tail;
            self.front_t0 = tail.t0;
            head
        };
        self.total -= taken.n;
        Some(taken)
    }

    /// Takes up to `k` messages from the front, across runs, joined into one run (offsets
    /// from the first, times spanning them all, as merging neighbours does): one batch sent
    /// out of a channel, whose offsets do not matter.
    pub fn pop_joined(&mut self, k: u64) -> Option<Seg> {
        debug_assert!(!self.strict, "a strict queue keeps its offsets");
        let mut out = self.pop_front(k)?;
        while out.n < k {
            let Some(next) = self.pop_front(k - out.n) else { break };
            out = out.join(next);
        }
        Some(out)
    }

    /// Puts `seg` back at the front (a sender could not send it).
    pub fn push_front(&mut self, seg: Seg) {
        if seg.n == 0 {
            return;
        }
        self.total += seg.n;
        self.q.push_front(seg);
        self.front_t0 = seg.t0;
        if self.q.len() > self.cap {
            self.compact();
        }
    }

    /// Drops every message with an offset below `off` (runs are in offset order).
    pub fn drop_below(&mut self, off: u64) {
        while let Some(front) = self.q.front().copied() {
            if front.end() <= off {
                self.q.pop_front();
                self.total -= front.n;
            } else {
                if front.off < off {
                    let (head, tail) = front.split(off - front.off);
                    self.q[0] = tail;
                    self.total -= head.n;
                }
                break;
            }
        }
        self.sync_front();
    }

    /// Takes every message with an offset at or above `off` out of the queue, into `out` in
    /// queue order; those below stay, in their order (the runs need not be in offset order).
    pub fn take_from(&mut self, off: u64, out: &mut Vec<Seg>) {
        if self.q.iter().all(|s| s.end() <= off) {
            return;
        }
        for _ in 0..self.q.len() {
            let seg = self.q.pop_front().expect("counted");
            if seg.end() <= off {
                self.q.push_back(seg);
            } else if seg.off >= off {
                self.total -= seg.n;
                out.push(seg);
            } else {
                let (keep, give) = seg.split(off - seg.off);
                self.q.push_back(keep);
                self.total -= give.n;
                out.push(give);
            }
        }
        self.sync_front();
    }

    /// Moves every run of `other` in front of this queue's runs, leaving `other` empty.
    pub fn prepend(&mut self, other: &mut SegQueue) {
        while let Some(seg) = other.q.pop_back() {
            self.q.push_front(seg);
        }
        self.total += other.total;
        other.total = 0;
        other.front_t0 = Nanos::MAX;
        self.sync_front();
        if self.q.len() > self.cap {
            self.compact();
        }
    }

    pub fn clear(&mut self) {
        self.q.clear();
        self.total = 0;
        self.front_t0 = Nanos::MAX;
    }

    /// Shrinks the queue by merging neighbours, cheapest first: a pair costs the time span of
    /// the run it would make, and pairs at or under the mean cost are merged (left to right,
    /// each run at most once); if that frees too little, every remaining pair is merged. Runs
    /// stay of similar span, so interpolated production times stay close everywhere; merging
    /// everything pairwise each time would instead fold the front of a long-lived queue into
    /// one ever-growing run. A strict queue merges only neighbours with contiguous offsets.
    /// No allocation (the ring buffer is made contiguous in place).
    #[cold]
    #[inline(never)]
    fn compact(&mut self) {
        let strict = self.strict;
        let runs = self.q.make_contiguous();
        let n = runs.len();
        if n < 2 {
            return;
        }
        let (mut sum, mut count) = (0u128, 0u64);
        for pair in runs.windows(2) {
            // Masked rather than branched: in a strict queue with gaps, which pairs may
            // merge follows the data.
            let (a, b) = (&pair[0], &pair[1]);
            let ok = !strict || a.end() == b.off;
            let c = a.t1.max(b.t1) - a.t0.min(b.t0);
            sum += (c & (ok as u64).wrapping_neg()) as u128;
            count += ok as u64;
        }
        if count == 0 {
            if strict {
                // Nothing contiguous left to merge: grow rather than lose offsets.
                self.cap = n * 2;
            }
            return;
        }
        let mean = (sum / count as u128) as Nanos;
        let mut len = n;
        for threshold in [mean, Nanos::MAX] {
            len = merge_pass(&mut runs[..len], strict, threshold);
            if len * 4 <= self.cap * 3 {
                break;
            }
        }
        self.q.truncate(len);
        self.sync_front();
        if strict && len > self.cap {
            self.cap = len * 2;
        }
    }
}

/// One left-to-right pass of [`SegQueue::compact`]: each run merged with the next when they
/// may merge (contiguous offsets, in a strict queue) into a run spanning at most `threshold`,
/// each run at most once; the runs left are moved to the front. Returns how many are left.
#[inline(always)]
fn merge_pass(runs: &mut [Seg], strict: bool, threshold: Nanos) -> usize {
    let len = runs.len();
    let merges = |a: &Seg, b: &Seg| (!strict || a.end() == b.off) && a.t1.max(b.t1) - a.t0.min(b.t0) <= threshold;
    // Up to the first merge every run stays where it is.
    let mut r = 0;
    while r + 1 < len && !merges(&runs[r], &runs[r + 1]) {
        r += 1;
    }
    let mut w = r;
    while r + 1 < len {
        let mut a = runs[r];
        let b = runs[r + 1];
        if merges(&a, &b) {
            a.absorb(b);
            r += 2;
        } else {
            r += 1;
        }
        runs[w] = a;
        w += 1;
    }
    if r < len {
        // The last run, with no neighbour left to merge with.
        runs[w] = runs[r];
        w += 1;
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_pass_is_the_plain_greedy_pass() {
        // The pass as first written: every run copied, merged or not.
        fn reference(runs: &mut [Seg], strict: bool, threshold: Nanos) -> usize {
            let len = runs.len();
            let (mut w, mut r) = (0, 0);
            while r < len {
                let mut a = runs[r];
                let b = runs.get(r + 1).copied();
                if b.is_some_and(|b| (!strict || a.end() == b.off) && a.t1.max(b.t1) - a.t0.min(b.t0) <= threshold) {
                    a.absorb(b.expect("checked"));
                    r += 2;
                } else {
                    r += 1;
                }
                runs[w] = a;
                w += 1;
            }
            w
        }
        let mut x = 7u64;
        let mut rand = |m: u64| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) % m
        };
        for case in 0..3_000 {
            let n = rand(40) as usize;
            let (mut off, mut t) = (rand(100), rand(1_000));
            let runs: Vec<Seg> = (0..n)
                .map(|_| {
                    let k = 1 + rand(5);
                    let t0 = t + rand(30);
                    let s = Seg { n: k, t0, t1: t0 + rand(20), off };
                    off += k + (rand(4) == 0) as u64 * rand(3);
                    t = t0;
                    s
                })
                .collect();
            for strict in [false, true] {
                let threshold = if case % 7 == 0 { Nanos::MAX } else { rand(60) };
                let (mut a, mut b) = (runs.clone(), runs.clone());
                let (la, lb) = (merge_pass(&mut a, strict, threshold), reference(&mut b, strict, threshold));
                assert_eq!((la, &a[..la]), (lb, &b[..lb]), "case {case}, strict {strict}");
            }
        }
    }

    #[test]
    fn split_keeps_counts_offsets_and_times() {
        let s = Seg { n: 11, t0: 0, t1: 100, off: 5 };
        let (a, b) = s.split(4);
        assert_eq!((a.n, a.off, a.t0, a.t1), (4, 5, 0, 30));
        assert_eq!((b.n, b.off, b.t0, b.t1), (7, 9, 40, 100));
    }

    #[test]
    fn queue_stays_bounded_and_keeps_every_message() {
        let mut q = SegQueue::new(16, 0);
        for i in 0..100_000u64 {
            q.push_back(Seg::one(i * 10, i));
        }
        assert!(q.entries() <= 16);
        assert_eq!(q.total(), 100_000);
        let mut seen = 0;
        let mut next_off = 0;
        while let Some(s) = q.pop_front(333) {
            assert_eq!(s.off, next_off);
            next_off = s.end();
            seen += s.n;
        }
        assert_eq!(seen, 100_000);
    }

    #[test]
    fn strict_queues_never_merge_across_gaps() {
        let mut q = SegQueue::new(4, 1_000_000).strict();
        for i in 0..100u64 {
            q.push_back(Seg::one(i, 2 * i)); // every other offset: no two runs are contiguous
        }
        assert_eq!(q.entries(), 100);
        let offs: Vec<u64> = q.iter().map(|s| s.off).collect();
        assert_eq!(offs, (0..100).map(|i| 2 * i).collect::<Vec<_>>());
        let mut c = SegQueue::new(4, 0).strict();
        for i in 0..100u64 {
            c.push_back(Seg::one(i * 10, i));
        }
        assert!(c.entries() <= 5, "contiguous runs still merge: {}", c.entries());
    }

    #[test]
    fn pop_joined_takes_a_batch_across_runs() {
        let mut q = SegQueue::new(16, 0);
        for i in 0..5 {
            q.push_back(Seg { n: 3, t0: i * 10, t1: i * 10 + 2, off: i * 100 });
        }
        let b = q.pop_joined(7).unwrap();
        // Births 0, 1, 2, 10, 11, 12, 20: their mean, 8, is kept, inside 0..20.
        assert_eq!((b.n, b.t0, b.t1, b.off), (7, 0, 16, 0));
        assert_eq!(q.total(), 8);
        assert_eq!(q.front().unwrap().n, 2);
        q.push_front(b);
        assert_eq!(q.total(), 15);
        assert_eq!(q.pop_joined(100).unwrap().n, 15);
        assert_eq!(q.pop_joined(1), None);
    }

    #[test]
    fn a_join_keeps_the_mean_birth_inside_the_span() {
        let old = Seg { n: 5, t0: 0, t1: 0, off: 0 };
        let new = Seg { n: 95, t0: 1_000, t1: 1_094, off: 5 };
        let j = old.join(new);
        assert_eq!((j.n, j.off, j.t1), (100, 0, 1_094));
        let sum = |s: &Seg| (0..s.n).map(|i| s.time_of(i) as i64).sum::<i64>();
        assert!((sum(&j) - sum(&old) - sum(&new)).abs() <= 100, "{} vs {}", sum(&j), sum(&old) + sum(&new));
        // Mostly old: the span starts at the oldest.
        let j = Seg { n: 95, t0: 0, t1: 94, off: 0 }.join(Seg { n: 5, t0: 10_000, t1: 10_004, off: 95 });
        assert_eq!(j.t0, 0);
        assert!(j.t1 < 10_004 && j.t1 > 94);
    }

    #[test]
    fn count_before_splits_a_run_by_time() {
        let s = Seg { n: 11, t0: 100, t1: 200, off: 0 };
        assert_eq!(s.count_before(100), 0);
        assert_eq!(s.count_before(101), 1);
        assert_eq!(s.count_before(150), 5);
        assert_eq!(s.count_before(151), 6);
        assert_eq!(s.count_before(201), 11);
    }

    #[test]
    fn drop_below_and_prepend_round_trip() {
        let mut q = SegQueue::new(8, 1_000);
        q.push_back(Seg { n: 10, t0: 0, t1: 9, off: 0 });
        q.drop_below(4);
        assert_eq!(q.total(), 6);
        assert_eq!(q.front().unwrap().off, 4);
        let mut back = SegQueue::new(8, 1_000);
        back.push_back(Seg { n: 4, t0: 0, t1: 3, off: 0 });
        q.prepend(&mut back);
        assert_eq!(q.total(), 10);
        assert_eq!(q.front().unwrap().off, 0);
        assert!(back.is_empty());
    }
}
