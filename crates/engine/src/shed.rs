//! Load shedding, one rule for every receiver that sheds (channels and consumer members):
//! on arrival, by queue length or RED (random early detection, on a moving average of the
//! queue length); when a message's turn comes, by deadline.

use crate::scenario::ShedSpec;
use crate::snapshot::DropCause;
use crate::time::{self, Nanos};
use rand_distr::{Binomial, Distribution};
use rand_pcg::Pcg64Mcg;

/// How many of `n` arriving messages a receiver holding `depth` sheds under `spec`, and
/// the cause to count them under. RED moves `avg`, the receiver's moving average of its
/// queue length, and draws from `rng`; the other rules draw nothing. Deadline shedding
/// sheds nothing on arrival (see [`deadline_cutoff`]).
#[inline]
pub(crate) fn on_arrival(spec: Option<&ShedSpec>, depth: u64, n: u64, avg: &mut f64, rng: &mut Pcg64Mcg) -> (u64, DropCause) {
    match spec {
        Some(ShedSpec::QueueLength { max_queue }) => (n.saturating_sub(max_queue.saturating_sub(depth)), DropCause::ShedQueueLength),
        Some(ShedSpec::Red { min_queue, max_queue, max_p, weight }) => {
            *avg += weight * (depth as f64 - *avg);
            let p = if *avg < *min_queue as f64 {
                0.0
            } else if *avg >= *max_queue as f64 {
                1.0
            } else {
                max_p * (*avg - *min_queue as f64) / (*max_queue - *min_queue) as f64
            };
            (binomial(rng, n, p), DropCause::ShedRed)
        }
        _ => (0, DropCause::ShedQueueLength),
    }
}

/// Deadline shedding: messages produced before this time are too old to start now.
#[inline]
pub(crate) fn deadline_cutoff(now: Nanos, max_age_ms: f64) -> Nanos {
    now.saturating_sub(time::from_millis(max_age_ms))
}

/// How many of `n` messages are shed when each is with probability `p`: an exact
/// binomial draw at any `n`, at a cost that does not grow with `n` (rand_distr's
/// `Binomial`: inversion below n·min(p, 1 − p) = 10, BTPE above). It replaced a normal
/// approximation above n = 64, which had the right mean but the wrong shape when n·p is
/// small (too many zeros, a symmetric tail).
pub(crate) fn binomial(rng: &mut Pcg64Mcg, n: u64, p: f64) -> u64 {
    if p <= 0.0 || n == 0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    // Only a NaN `p` is refused; RED's never is, and it would shed nothing.
    Binomial::new(n, p).map_or(0, |b| b.sample(rng))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Shape, not just mean: with n = 1000 and p = 0.003 (n·p = 3) the exact law gives
    /// P(0) = 0.997^1000 ≈ 0.0496 and variance n·p·(1 − p) ≈ 2.99; the normal
    /// approximation gave P(0) ≈ 0.074.
    #[test]
    fn binomial_draws_have_the_binomial_shape() {
        let mut rng = Pcg64Mcg::seed_from_u64(7);
        let draws: Vec<u64> = (0..40_000).map(|_| binomial(&mut rng, 1_000, 0.003)).collect();
        let k = draws.len() as f64;
        let mean = draws.iter().sum::<u64>() as f64 / k;
        let var = draws.iter().map(|&d| (d as f64 - mean).powi(2)).sum::<f64>() / k;
        let zeros = draws.iter().filter(|&&d| d == 0).count() as f64 / k;
        assert!((mean - 3.0).abs() < 0.05, "mean {mean}");
        assert!((var - 2.991).abs() < 0.15, "variance {var}");
        assert!((zeros - 0.0496).abs() < 0.005, "P(0) {zeros}");
        // Large n, and the edges.
        let big = binomial(&mut rng, 1_000_000_000, 0.25);
        assert!((big as f64 - 2.5e8).abs() < 1e5, "{big}");
        assert_eq!(binomial(&mut rng, 10, 0.0), 0);
        assert_eq!(binomial(&mut rng, 10, 1.0), 10);
        assert_eq!(binomial(&mut rng, 0, 0.5), 0);
        assert_eq!(binomial(&mut rng, 10, f64::NAN), 0);
    }
}
