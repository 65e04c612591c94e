//! Latency histogram with fixed memory and about 1.6% relative precision.
//!
//! Values are nanoseconds. Below 64 ns every value has its own bucket; above, each power
//! of two is split into 64 buckets (the layout HdrHistogram uses), so any latency from
//! 1 ns to centuries fits in 3,776 counters.

const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;
const BUCKETS: usize = (SUB + (64 - SUB_BITS as u64) * SUB) as usize;

#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    /// Sum of the observations, exactly, in nanoseconds.
    sum_ns: u128,
    lo: usize,
    hi: usize,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new()
    }
}

fn index(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let e = 63 - v.leading_zeros();
    let mantissa = v >> (e - SUB_BITS);
    (SUB + (e - SUB_BITS) as u64 * SUB + (mantissa - SUB)) as usize
}

/// The middle of bucket `i`, in nanoseconds.
fn value_of(i: usize) -> f64 {
    let i = i as u64;
    if i < SUB {
        return i as f64;
    }
    let e = (i - SUB) / SUB + SUB_BITS as u64;
    let mantissa = (i - SUB) % SUB + SUB;
    let width = 1u64 << (e - SUB_BITS as u64);
    (mantissa * width) as f64 + (width as f64 - 1.0) / 2.0
}

impl Histogram {
    pub fn new() -> Histogram {
        Histogram { counts: vec![0; BUCKETS], total: 0, sum_ns: 0, lo: BUCKETS, hi: 0 }
    }

    /// Records `weight` observations of `ns` nanoseconds.
    pub fn record(&mut self, ns: u64, weight: u64) {
        if weight == 0 {
            return;
        }
        self.record_in(index(ns), ns, weight);
    }

    /// Records the same observations in two histograms (the run's and the sample window's),
    /// finding the bucket once.
    #[inline]
    pub fn record_pair(a: &mut Histogram, b: &mut Histogram, ns: u64, weight: u64) {
        if weight == 0 {
            return;
        }
        let i = index(ns);
        a.record_in(i, ns, weight);
        b.record_in(i, ns, weight);
    }

    #[inline]
    fn record_in(&mut self, i: usize, ns: u64, weight: u64) {
        self.counts[i] += weight;
        self.total += weight;
        self.sum_ns += ns as u128 * weight as u128;
        self.lo = self.lo.min(i);
        self.hi = self.hi.max(i);
    }

    /// Observations recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// Mean in seconds, `None` when empty.
    pub fn mean_s(&self) -> Option<f64> {
        (self.total > 0).then(|| self.sum_ns as f64 * 1e-9 / self.total as f64)
    }

    /// The `q`-quantile (0..=1) in seconds, `None` when empty.
    pub fn quantile_s(&self, q: f64) -> Option<f64> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for i in self.lo..=self.hi {
            seen += self.counts[i];
            if seen >= rank {
                return Some(value_of(i) * 1e-9);
            }
        }
        Some(value_of(self.hi) * 1e-9)
    }

    /// Several quantiles at once, in one pass over the buckets: `qs` in ascending order, each
    /// answer the same as [`quantile_s`](Self::quantile_s) gives.
    pub fn quantiles_s<const N: usize>(&self, qs: [f64; N]) -> [Option<f64>; N] {
        let mut out = [None; N];
        if self.total == 0 {
            return out;
        }
        debug_assert!(qs.windows(2).all(|w| w[0] <= w[1]), "quantiles in ascending order");
        // `seen` counts the observations in buckets `lo..i`; `at` is the last of those buckets.
        let (mut i, mut at, mut seen) = (self.lo, self.lo, 0);
        for (o, q) in out.iter_mut().zip(qs) {
            let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
            while seen < rank && i <= self.hi {
                seen += self.counts[i];
                at = i;
                i += 1;
            }
            *o = Some(value_of(if seen >= rank { at } else { self.hi }) * 1e-9);
        }
        out
    }

    /// Forgets every observation.
    pub fn clear(&mut self) {
        if self.total > 0 {
            self.counts[self.lo..=self.hi].fill(0);
        }
        self.total = 0;
        self.sum_ns = 0;
        self.lo = BUCKETS;
        self.hi = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_the_range_and_round_trip_within_two_percent() {
        assert_eq!(index(u64::MAX), BUCKETS - 1);
        for v in [1u64, 63, 64, 100, 1_000, 123_456, 2_000_000_000, 86_400_000_000_000] {
            let back = value_of(index(v));
            assert!((back - v as f64).abs() <= v as f64 * 0.016 + 0.5, "{v} -> {back}");
        }
    }

    #[test]
    fn quantiles_of_a_uniform_spread() {
        let mut h = Histogram::new();
        for ms in 1..=1000u64 {
            h.record(ms * 1_000_000, 1);
        }
        let p50 = h.quantile_s(0.5).unwrap();
        let p99 = h.quantile_s(0.99).unwrap();
        assert!((p50 - 0.5).abs() < 0.01, "{p50}");
        assert!((p99 - 0.99).abs() < 0.02, "{p99}");
        assert!((h.mean_s().unwrap() - 0.5005).abs() < 1e-9);
        let qs = [0.0, 0.5, 0.95, 0.99, 1.0];
        assert_eq!(h.quantiles_s(qs), qs.map(|q| h.quantile_s(q)));
        h.clear();
        assert_eq!(h.quantile_s(0.5), None);
        assert_eq!(h.quantiles_s([0.5, 0.99]), [None, None]);
    }
}
