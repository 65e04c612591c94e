//! Service times: how long one message takes, drawn from the configured distribution
//! around a mean of 1 / rate.

use crate::scenario::ServiceDist;
use crate::time::{to_u64, Nanos};
use rand_distr::{Distribution, Exp1, StandardNormal};
use rand_pcg::Pcg64Mcg;

/// Draws service times with a given mean.
#[derive(Clone, Copy, Debug)]
pub struct Service {
    dist: ServiceDist,
    mean_ns: f64,
    /// Log-normal: mu of the underlying normal, so that the mean is `mean_ns`.
    mu: f64,
}

impl Service {
    pub fn new(dist: ServiceDist, rate_per_s: f64) -> Service {
        let mean_ns = 1e9 / rate_per_s;
        let mu = match dist {
            ServiceDist::Lognormal { sigma } => mean_ns.ln() - sigma * sigma / 2.0,
            _ => 0.0,
        };
        Service { dist, mean_ns, mu }
    }

    pub fn mean_ns(&self) -> f64 {
        self.mean_ns
    }

    pub fn is_deterministic(&self) -> bool {
        matches!(self.dist, ServiceDist::Deterministic {})
    }

    /// One service time, in nanoseconds (at least 1).
    pub fn sample(&self, rng: &mut Pcg64Mcg) -> Nanos {
        self.sample_inline(rng)
    }

    /// `sample`, always inlined: for the direct path's one call site (`direct.rs`).
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    pub(crate) fn sample_inline(&self, rng: &mut Pcg64Mcg) -> Nanos {
        let v = match self.dist {
            ServiceDist::Deterministic {} => self.mean_ns,
            ServiceDist::Exponential {} => {
                let e: f64 = Exp1.sample(rng);
                e * self.mean_ns
            }
            ServiceDist::Lognormal { sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (self.mu + sigma * z).exp()
            }
        };
        to_u64((v + 0.5).max(1.0))
    }

    /// Total service time of `n` messages in a row.
    pub fn sample_sum(&self, n: u64, rng: &mut Pcg64Mcg) -> Nanos {
        if self.is_deterministic() {
            return ((n as f64 * self.mean_ns) + 0.5).max(1.0) as Nanos;
        }
        if n == 1 {
            // The usual run without resolution: no loop to set up.
            return self.sample(rng);
        }
        (0..n).map(|_| self.sample(rng)).sum()
    }

    /// `sample_sum` for the direct path: one message drawn inline, the rest as usual.
    #[inline(always)]
    pub(crate) fn sample_sum_inline(&self, n: u64, rng: &mut Pcg64Mcg) -> Nanos {
        if n == 1 && !self.is_deterministic() {
            self.sample_inline(rng)
        } else {
            self.sample_sum(n, rng)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn means_match_the_rate() {
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        for dist in [ServiceDist::Deterministic {}, ServiceDist::Exponential {}, ServiceDist::Lognormal { sigma: 1.0 }] {
            let s = Service::new(dist, 1_000.0);
            let n = 200_000;
            let mean = (0..n).map(|_| s.sample(&mut rng) as f64).sum::<f64>() / n as f64;
            assert!((mean - 1e6).abs() < 1e6 * 0.02, "{dist:?}: {mean}");
        }
    }
}
