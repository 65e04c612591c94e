//! Load shedding, one rule for every receiver that sheds (channels and consumer members):
//! on arrival, by queue length or RED (random early detection, on a moving average of the
//! queue length); when a message's turn comes, by deadline.

use crate::scenario::ShedSpec;
use crate::snapshot::DropCause;
use crate::time::{self, Nanos};
use rand::Rng;
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

/// A binomial draw without per-trial cost at large `n` (normal approximation above 64).
pub(crate) fn binomial(rng: &mut Pcg64Mcg, n: u64, p: f64) -> u64 {
    if p <= 0.0 || n == 0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    if n <= 64 {
        return (0..n).filter(|_| rng.random::<f64>() < p).count() as u64;
    }
    let mean = n as f64 * p;
    let sd = (mean * (1.0 - p)).sqrt();
    let z: f64 = rand_distr::Distribution::sample(&rand_distr::StandardNormal, rng);
    (mean + sd * z).round().max(0.0).min(n as f64) as u64
}
