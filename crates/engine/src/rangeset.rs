//! A set of offsets kept as sorted, disjoint half-open ranges.
//!
//! The consumer records which offsets of a partition it has processed, so that a record
//! delivered again after a crash is counted as a duplicate, and a record discarded by a
//! crash is counted as lost only if it was never processed. Ranges below what can still be
//! redelivered are pruned, so the set stays a handful of ranges long.

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RangeSet {
    ranges: Vec<(u64, u64)>,
}

impl RangeSet {
    pub fn new() -> RangeSet {
        RangeSet { ranges: Vec::new() }
    }

    /// Number of ranges held.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The ranges, in order.
    pub fn ranges(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.ranges.iter().copied()
    }

    /// Adds `[a, b)`.
    pub fn insert(&mut self, a: u64, b: u64) {
        if a >= b {
            return;
        }
        // Fast path: appending at or after the last range, the common case.
        if let Some(last) = self.ranges.last_mut() {
            if a >= last.0 {
                if a <= last.1 {
                    last.1 = last.1.max(b);
                    return;
                }
                self.ranges.push((a, b));
                return;
            }
        } else {
            self.ranges.push((a, b));
            return;
        }
        // General case: find the first range that ends at or after `a`.
        let i = self.ranges.partition_point(|r| r.1 < a);
        let mut j = i;
        let (mut lo, mut hi) = (a, b);
        while j < self.ranges.len() && self.ranges[j].0 <= hi {
            lo = lo.min(self.ranges[j].0);
            hi = hi.max(self.ranges[j].1);
            j += 1;
        }
        self.ranges.splice(i..j, std::iter::once((lo, hi)));
    }

    /// How many offsets of `[a, b)` are in the set.
    pub fn count_in(&self, a: u64, b: u64) -> u64 {
        if a >= b {
            return 0;
        }
        let i = self.ranges.partition_point(|r| r.1 <= a);
        let mut n = 0;
        for &(lo, hi) in &self.ranges[i..] {
            if lo >= b {
                break;
            }
            n += hi.min(b) - lo.max(a);
        }
        n
    }

    /// The first offset at or after `from` that is not in the set.
    pub fn first_gap_from(&self, from: u64) -> u64 {
        let i = self.ranges.partition_point(|r| r.1 <= from);
        match self.ranges.get(i) {
            Some(&(lo, hi)) if lo <= from => hi,
            _ => from,
        }
    }

    /// Forgets every offset.
    pub fn clear(&mut self) {
        self.ranges.clear();
    }

    /// Forgets every offset below `off`.
    pub fn prune_below(&mut self, off: u64) {
        let i = self.ranges.partition_point(|r| r.1 <= off);
        self.ranges.drain(..i);
        if let Some(first) = self.ranges.first_mut() {
            first.0 = first.0.max(off);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_merge_and_counts_are_exact() {
        let mut s = RangeSet::new();
        s.insert(10, 20);
        s.insert(30, 40);
        s.insert(0, 5);
        s.insert(18, 31);
        assert_eq!(s.ranges, vec![(0, 5), (10, 40)]);
        assert_eq!(s.count_in(0, 100), 35);
        assert_eq!(s.count_in(3, 12), 4);
        assert_eq!(s.first_gap_from(10), 40);
        assert_eq!(s.first_gap_from(7), 7);
        s.prune_below(12);
        assert_eq!(s.ranges, vec![(12, 40)]);
    }
}
