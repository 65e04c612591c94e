//! Feedback controllers: the parts of a pipeline that *measure* and *adjust* instead of
//! just buffering.
//!
//! A topic decouples its producer from its consumer, and that is exactly the problem the
//! lab's incident shows: the producer never learns that the consumer is behind, so the lag
//! (and everything the consumer holds in memory on account of it) grows without bound.
//! Two kinds of controller close loops that the pipeline leaves open:
//!
//! - [`Throttle`] closes the loop a topic opens. Every `interval_ms` it reads the consumer
//!   lag and sets the producer's rate: additive-increase / multiplicative-decrease
//!   ([`ThrottleSpec::Aimd`]) or a PID controller holding the lag at a target
//!   ([`ThrottleSpec::Pid`]). The producer's configured rate is the ceiling.
//! - [`Limiter`] caps how many calls the consumer has in flight to a downstream dependency
//!   and adapts that cap from what the calls themselves report (round-trip times, drops),
//!   so nobody has to configure the dependency's capacity: the AIMD, Vegas and Gradient2
//!   limits of Netflix's `concurrency-limits` library, re-implemented from its algorithms
//!   and defaults (see each limiter's notes). Each *estimates* the capacity in its own
//!   way, and the differences are worth showing: AIMD needs refusals or timeouts to back
//!   off; Vegas reads queueing against the minimum RTT it has seen; Gradient2 against a
//!   long-term average, and deliberately tolerates some extra latency (see [`Limiter`]).
//!
//! Both are pure state machines: the simulation calls them with simulated time and
//! measurements, and they never read a clock or draw random numbers, so a run stays
//! deterministic for its seed. Every input is guarded (NaN, zero RTT, divisions), so no
//! valid or invalid number makes them panic; [`ThrottleSpec::validate`] and
//! [`LimiterSpec::validate`] report out-of-range fields the way [`crate::Scenario`] does.

use crate::scenario::control::{
    limits, AimdLimiterSpec, AimdThrottleSpec, Gradient2LimiterSpec, LimiterSpec, PidThrottleSpec, ThrottleSpec, VegasLimiterSpec,
};
use crate::time::{self, Nanos};

/// `v` if it is finite and inside `[lo, hi]`, else `default` (used to keep constructors
/// total on unvalidated input; validation reports such values instead).
fn sane(v: f64, (lo, hi): (f64, f64), default: f64) -> f64 {
    if v.is_finite() && v >= lo && v <= hi {
        v
    } else {
        default
    }
}

#[derive(Clone, Debug)]
enum Law {
    Aimd {
        target_lag: f64,
        increase: f64,
        factor: f64,
    },
    Pid {
        target_lag: f64,
        kp: f64,
        ki: f64,
        kd: f64,
        /// Nominal interval in seconds (> 0).
        dt: f64,
        integral: f64,
        last_error: Option<f64>,
    },
}

/// A producer-rate controller driven by the consumer lag (see [`ThrottleSpec`]).
///
/// The simulation calls [`Throttle::update`] every [`Throttle::interval`] with the current
/// lag and applies the returned rate to the producer.
#[derive(Clone, Debug)]
pub struct Throttle {
    law: Law,
    interval: Nanos,
    min_rate: f64,
    max_rate: f64,
    rate: f64,
}

impl Throttle {
    /// A throttle for a producer whose configured rate, `max_rate_per_s`, is the ceiling;
    /// it starts there. If the spec's floor is above the ceiling, the ceiling wins.
    pub fn new(spec: &ThrottleSpec, max_rate_per_s: f64) -> Throttle {
        let max_rate = if max_rate_per_s.is_finite() && max_rate_per_s > 0.0 { max_rate_per_s } else { 0.0 };
        let (law, interval_ms, min_rate) = match spec {
            ThrottleSpec::Aimd(a) => {
                let d = AimdThrottleSpec::default();
                (
                    Law::Aimd {
                        target_lag: sane(a.target_lag, limits::TARGET_LAG, d.target_lag),
                        increase: sane(a.increase_per_s, limits::INCREASE_PER_S, d.increase_per_s),
                        factor: sane(a.decrease_factor, limits::DECREASE_FACTOR, d.decrease_factor),
                    },
                    sane(a.interval_ms, limits::INTERVAL_MS, d.interval_ms),
                    sane(a.min_rate_per_s, limits::MIN_RATE_PER_S, d.min_rate_per_s),
                )
            }
            ThrottleSpec::Pid(p) => {
                let d = PidThrottleSpec::default();
                let interval_ms = sane(p.interval_ms, limits::INTERVAL_MS, d.interval_ms);
                (
                    Law::Pid {
                        target_lag: sane(p.target_lag, limits::TARGET_LAG, d.target_lag),
                        kp: sane(p.kp, limits::GAIN, d.kp),
                        ki: sane(p.ki, limits::GAIN, d.ki),
                        kd: sane(p.kd, limits::GAIN, d.kd),
                        dt: interval_ms / 1e3,
                        integral: 0.0,
                        last_error: None,
                    },
                    interval_ms,
                    sane(p.min_rate_per_s, limits::MIN_RATE_PER_S, d.min_rate_per_s),
                )
            }
        };
        Throttle { law, interval: time::from_millis(interval_ms).max(1), min_rate: min_rate.min(max_rate), max_rate, rate: max_rate }
    }

    /// Simulated time between two calls of [`Throttle::update`] (never zero).
    pub fn interval(&self) -> Nanos {
        self.interval
    }

    /// Called every interval with the current lag (messages); returns the new producer
    /// rate in msg/s, within `[min_rate, max_rate]`. A negative lag counts as zero; a
    /// non-finite one (NaN, infinity) leaves the rate and the controller state unchanged.
    pub fn update(&mut self, lag: f64) -> f64 {
        if !lag.is_finite() {
            return self.rate;
        }
        let lag = lag.max(0.0);
        let (lo, hi) = (self.min_rate, self.max_rate);
        let raw = match &mut self.law {
            Law::Aimd { target_lag, increase, factor } => {
                if lag <= *target_lag {
                    self.rate + *increase
                } else {
                    self.rate * *factor
                }
            }
            Law::Pid { target_lag, kp, ki, kd, dt, integral, last_error } => {
                let e = lag - *target_lag;
                let de = match *last_error {
                    Some(prev) => (e - prev) / *dt,
                    None => 0.0,
                };
                *last_error = Some(e);
                let pd = *kp * e + *kd * de;
                if *ki > 0.0 {
                    let old = *integral;
                    let mut next = old + e * *dt;
                    let unclamped = hi - (pd + *ki * next);
                    if unclamped < lo && e > 0.0 {
                        // Integrating further would push below the floor: integrate only up
                        // to the point where the output reaches it, and never backwards.
                        next = next.min((hi - lo - pd) / *ki).max(old);
                    } else if unclamped > hi && e < 0.0 {
                        // Likewise at the ceiling (output = hi when pd + ki·I = 0).
                        next = next.max(-pd / *ki).min(old);
                    }
                    if next.is_finite() {
                        *integral = next;
                    }
                }
                hi - (pd + *ki * *integral)
            }
        };
        if raw.is_nan() {
            return self.rate;
        }
        self.rate = raw.min(hi).max(lo);
        self.rate
    }

    /// The current producer rate in msg/s.
    pub fn rate(&self) -> f64 {
        self.rate
    }
}

/// `Log10RootIntFunction` of the library: `max(1, ⌊log10 t⌋)`, computed on integers so
/// powers of ten are exact (1 below 100, 2 below 1000, 3 below 10,000, …).
fn log10_root(t: u32) -> u32 {
    let mut digits_after_first = 0;
    let mut x = t;
    while x >= 10 {
        x /= 10;
        digits_after_first += 1;
    }
    digits_after_first.max(1)
}

/// Java's `(int) d` for the non-negative, bounded estimates used here (NaN → 0).
fn trunc(d: f64) -> u32 {
    d as u32
}

/// A deterministic stand-in for the library's `ThreadLocalRandom.nextDouble(0.5, 1)`:
/// splitmix64 of the simulated time, mapped to `[0.5, 1)`.
fn probe_jitter(now: Nanos) -> f64 {
    let mut z = now.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let unit = (z >> 11) as f64 / (1u64 << 53) as f64;
    0.5 + 0.5 * unit
}

// AIMD limit.
//
// Source: `concurrency-limits-core/.../limit/AIMDLimit.java`. Defaults taken from its
// `Builder`: initialLimit 20, minLimit 20, maxLimit 200, backoffRatio 0.9 (allowed
// [0.5, 1.0)), timeout 5 s (`DEFAULT_TIMEOUT`). Per sample: if the call was dropped or
// its RTT exceeds the timeout, limit = ⌊limit × backoffRatio⌋; else if inflight × 2 ≥
// limit, limit + 1; then clamped to [min, max]. No clock or randomness is involved.
#[derive(Clone, Debug)]
struct AimdLimit {
    limit: u32,
    min: u32,
    max: u32,
    backoff: f64,
    timeout: Nanos,
}

impl AimdLimit {
    fn new(s: &AimdLimiterSpec) -> Self {
        let d = AimdLimiterSpec::default();
        AimdLimit {
            limit: s.initial_limit.max(1),
            min: s.min_limit.max(1),
            max: s.max_limit.max(1),
            backoff: sane(s.backoff_ratio, limits::BACKOFF_RATIO, d.backoff_ratio),
            timeout: time::from_millis(sane(s.timeout_ms, limits::TIMEOUT_MS, d.timeout_ms)),
        }
    }

    fn update(&mut self, rtt: Nanos, inflight: u32, dropped: bool) {
        let mut l = self.limit;
        if dropped || rtt > self.timeout {
            l = trunc(l as f64 * self.backoff);
        } else if inflight as u64 * 2 >= l as u64 {
            l = l.saturating_add(1);
        }
        // The library's order: min(max, max(min, l)), so max wins if min > max.
        self.limit = self.max.min(self.min.max(l));
    }
}

// Vegas limit.
//
// Source: `concurrency-limits-core/.../limit/VegasLimit.java` and
// `limit/functions/Log10RootIntFunction.java`. Defaults taken from its `Builder`:
// initialLimit 20, maxConcurrency 1000, smoothing 1.0, probeMultiplier 30, alpha =
// 3·log10(limit), beta = 6·log10(limit), threshold = log10(limit), increase = limit +
// log10(limit), decrease = limit − log10(limit); the limit's floor is 1.
// Per sample (RTT > 0): count it; every `jitter × probeMultiplier × limit` samples (jitter
// in [0.5, 1)) take this RTT as the new no-load RTT and stop; else a first or smaller RTT
// becomes the no-load RTT and stops. Otherwise queue = ⌈limit × (1 − noload/rtt)⌉ and: a
// drop decreases; fewer than half the limit in flight changes nothing; queue ≤ threshold
// adds beta; queue < alpha increases; queue > beta decreases; else nothing. The new value
// is clamped to [1, max] and smoothed. The library draws the jitter from
// `ThreadLocalRandom`; here it is a hash of the simulated time of the sample that triggers
// the probe (and of time 0 at construction), so runs stay deterministic.
#[derive(Clone, Debug)]
struct VegasLimit {
    estimate: f64,
    limit: u32,
    max: u32,
    smoothing: f64,
    probe_multiplier: u32,
    alpha: Option<u32>,
    beta: Option<u32>,
    rtt_noload: Nanos,
    probe_count: u64,
    jitter: f64,
}

impl VegasLimit {
    fn new(s: &VegasLimiterSpec) -> Self {
        let d = VegasLimiterSpec::default();
        let initial = s.initial_limit.max(1);
        VegasLimit {
            estimate: initial as f64,
            limit: initial,
            max: s.max_concurrency.max(1),
            smoothing: sane(s.smoothing, limits::SMOOTHING, d.smoothing),
            probe_multiplier: s.probe_multiplier.max(1),
            alpha: s.alpha,
            beta: s.beta,
            rtt_noload: 0,
            probe_count: 0,
            jitter: probe_jitter(0),
        }
    }

    fn update(&mut self, now: Nanos, rtt: Nanos, inflight: u32, dropped: bool) {
        if rtt == 0 {
            // The library rejects such a sample (IllegalArgumentException); ignore it.
            return;
        }
        self.probe_count += 1;
        if self.jitter * self.probe_multiplier as f64 * self.estimate <= self.probe_count as f64 {
            self.jitter = probe_jitter(now);
            self.probe_count = 0;
            self.rtt_noload = rtt;
            self.limit = trunc(self.estimate);
            return;
        }
        if self.rtt_noload == 0 || rtt < self.rtt_noload {
            self.rtt_noload = rtt;
            self.limit = trunc(self.estimate);
            return;
        }
        self.limit = self.update_estimate(rtt, inflight, dropped);
    }

    fn update_estimate(&mut self, rtt: Nanos, inflight: u32, dropped: bool) -> u32 {
        let est = self.estimate;
        let whole = trunc(est);
        let queue = (est * (1.0 - self.rtt_noload as f64 / rtt as f64)).ceil();
        let log = log10_root(whole) as f64;
        let new = if dropped {
            est - log
        } else if inflight as f64 * 2.0 < est {
            // Not close to the limit: no evidence either way.
            return whole;
        } else {
            let alpha = self.alpha.map_or(3.0 * log, f64::from);
            let beta = self.beta.map_or(6.0 * log, f64::from);
            let threshold = log;
            if queue <= threshold {
                est + beta
            } else if queue < alpha {
                est + log
            } else if queue > beta {
                est - log
            } else {
                return whole;
            }
        };
        let new = new.min(self.max as f64).max(1.0);
        let new = (1.0 - self.smoothing) * est + self.smoothing * new;
        if !new.is_finite() {
            return whole;
        }
        self.estimate = new;
        trunc(new)
    }
}

// Gradient2 limit.
//
// Source: `concurrency-limits-core/.../limit/Gradient2Limit.java` and
// `limit/measurement/ExpAvgMeasurement.java`. Defaults taken from its `Builder`:
// initialLimit 20, minLimit 20, maxConcurrency 200, smoothing 0.2, queueSize 4 (a constant
// function), longWindow 600, rttTolerance 1.5 (must be ≥ 1). The long-term RTT is an
// exponential average with factor 2/(longWindow + 1) after a warm-up plain average of the
// first 10 samples. The short-term RTT is the sample itself: the library's `shortWindow`
// is deprecated and ignored, and both windows count samples, not time, so `now` is unused.
// Per sample: update the long RTT; if it is more than twice the sample, scale it by 0.95
// (recovery after load); if fewer than half the limit are in flight, stop; else
// gradient = clamp(tolerance × long / rtt, 0.5, 1), new = limit × gradient + queueSize,
// smoothed, clamped to [min, max]. Drops are not an input of this algorithm.
#[derive(Clone, Debug)]
struct Gradient2Limit {
    estimate: f64,
    limit: u32,
    min: u32,
    max: u32,
    smoothing: f64,
    queue_size: u32,
    tolerance: f64,
    long_rtt: ExpAvg,
}

/// `ExpAvgMeasurement` of the library: plain average over a warm-up, then an exponential
/// moving average with factor `2 / (window + 1)`.
#[derive(Clone, Debug)]
struct ExpAvg {
    value: f64,
    sum: f64,
    count: u32,
    window: u32,
    warmup: u32,
}

impl ExpAvg {
    fn add(&mut self, sample: f64) -> f64 {
        if self.count < self.warmup {
            self.count += 1;
            self.sum += sample;
            self.value = self.sum / self.count as f64;
        } else {
            let factor = 2.0 / (self.window as f64 + 1.0);
            self.value = self.value * (1.0 - factor) + sample * factor;
        }
        self.value
    }
}

impl Gradient2Limit {
    fn new(s: &Gradient2LimiterSpec) -> Self {
        let d = Gradient2LimiterSpec::default();
        let initial = s.initial_limit.max(1);
        Gradient2Limit {
            estimate: initial as f64,
            limit: initial,
            min: s.min_limit.max(1),
            max: s.max_concurrency.max(1),
            smoothing: sane(s.smoothing, limits::SMOOTHING, d.smoothing),
            queue_size: s.queue_size,
            tolerance: sane(s.rtt_tolerance, limits::RTT_TOLERANCE, d.rtt_tolerance),
            long_rtt: ExpAvg { value: 0.0, sum: 0.0, count: 0, window: s.long_window.max(1), warmup: 10 },
        }
    }

    fn update(&mut self, rtt: Nanos, inflight: u32) {
        if rtt == 0 {
            // The library would divide by zero; a zero RTT carries no information.
            return;
        }
        let est = self.estimate;
        let queue = self.queue_size as f64;
        let short = rtt as f64;
        let long = self.long_rtt.add(short);
        if long / short > 2.0 {
            self.long_rtt.value *= 0.95;
        }
        if (inflight as f64) < est / 2.0 {
            // Application-limited: do not grow on samples that never tested the limit.
            self.limit = trunc(est);
            return;
        }
        let gradient = (self.tolerance * long / short).clamp(0.5, 1.0);
        let new = est * gradient + queue;
        let new = est * (1.0 - self.smoothing) + new * self.smoothing;
        let new = new.min(self.max as f64).max(self.min as f64);
        if new.is_finite() {
            self.estimate = new;
        }
        self.limit = trunc(self.estimate);
    }
}

#[derive(Clone, Debug)]
enum Algorithm {
    Aimd(AimdLimit),
    Vegas(VegasLimit),
    Gradient2(Gradient2Limit),
}

/// An adaptive concurrency limit (see [`LimiterSpec`]). The caller admits a call while
/// fewer than [`Limiter::limit`] are in flight and reports every completed call with
/// [`Limiter::on_sample`]; the limit adapts from those samples alone, one sample at a
/// time (as the library's `Limit`s do when not wrapped in its optional `WindowedLimit`).
///
/// What to expect, measured in this module's tests against a downstream of C = 10 slots
/// and 10 ms (±20 %) service, with a client that always has more work:
/// - AIMD, against a downstream that refuses the 11th call: saws around C (mean ≈ 9).
///   Without refusals or timeouts it only grows, to its maximum.
/// - Vegas: mean ≈ 14, i.e. C + 3…6 calls of queue as designed, plus probe excursions.
///   Its no-load RTT is re-probed under load and biased low by service-time variance, so
///   it does not scale with C in general (with ±20 % variance it stays near 30 for C = 40
///   or 80), and after the capacity halves it settles only slightly lower.
/// - Gradient2 (min 1): saws between about 2C and 8C (mean ≈ 45): it accepts 1.5× its
///   long-term RTT, which is an average over 600 *samples* and follows a sustained queue.
///   The band hardly moves with C (mean ≈ 45–50 for C = 5…20), and at C = 80 the 600
///   samples span only 75 ms and the limit runs to its maximum (200). It cuts hard when
///   RTT jumps (about a third within half a second), then recovers. The library's default
///   minimum (20) is above C = 10.
#[derive(Clone, Debug)]
pub struct Limiter {
    algorithm: Algorithm,
}

impl Limiter {
    /// A limiter in its initial state (the spec's `initial_limit`).
    pub fn new(spec: &LimiterSpec) -> Limiter {
        let algorithm = match spec {
            LimiterSpec::Aimd(s) => Algorithm::Aimd(AimdLimit::new(s)),
            LimiterSpec::Vegas(s) => Algorithm::Vegas(VegasLimit::new(s)),
            LimiterSpec::Gradient2(s) => Algorithm::Gradient2(Gradient2Limit::new(s)),
        };
        Limiter { algorithm }
    }

    /// How many calls may be in flight now (always at least 1).
    pub fn limit(&self) -> u32 {
        match &self.algorithm {
            Algorithm::Aimd(a) => a.limit,
            Algorithm::Vegas(v) => v.limit,
            Algorithm::Gradient2(g) => g.limit,
        }
    }

    /// One completed call: `now` is the simulated time it completed, `rtt` its round trip,
    /// `inflight` how many calls were in flight when it started (itself included, as the
    /// library counts), `dropped` whether it was rejected or timed out. Samples with a zero
    /// RTT are ignored by Vegas and Gradient2.
    pub fn on_sample(&mut self, now: Nanos, rtt: Nanos, inflight: u32, dropped: bool) {
        match &mut self.algorithm {
            Algorithm::Aimd(a) => a.update(rtt, inflight, dropped),
            Algorithm::Vegas(v) => v.update(now, rtt, inflight, dropped),
            Algorithm::Gradient2(g) => g.update(rtt, inflight),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg64Mcg;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    const MS: Nanos = 1_000_000;
    const S: Nanos = 1_000_000_000;

    // ---- Throttle: a closed loop in which lag' = rate − consumer rate. ----

    /// One step per interval with the rate held over it; the lag cannot go negative (an
    /// idle consumer). Returns (time s, lag after the step, rate set for the next step).
    fn close_loop(throttle: &mut Throttle, steps: usize, consumer: impl Fn(f64) -> f64) -> Vec<(f64, f64, f64)> {
        let h = time::secs(throttle.interval());
        let mut lag = 0.0_f64;
        let mut out = Vec::with_capacity(steps);
        for k in 0..steps {
            let t = k as f64 * h;
            lag = (lag + (throttle.rate() - consumer(t)) * h).max(0.0);
            let rate = throttle.update(lag);
            out.push((t + h, lag, rate));
        }
        out
    }

    #[test]
    fn aimd_throttle_oscillates_around_the_consumer_rate_with_bounded_lag() {
        let mut th = Throttle::new(&ThrottleSpec::aimd(), 10_000.0);
        assert_eq!(th.rate(), 10_000.0, "starts at the ceiling");
        assert_eq!(th.interval(), S);
        let run = close_loop(&mut th, 2_000, |_| 500.0);
        for &(_, lag, rate) in &run {
            assert!((1.0..=10_000.0).contains(&rate), "rate {rate} out of [min, max]");
            // Overall bound: the first overshoot (two intervals at ~10,000 msg/s, then
            // halving) stays below 3 × target.
            assert!(lag < 30_000.0, "lag {lag} ran away");
        }
        // After the first 200 s: a sawtooth around 500 msg/s, and the lag hovers just
        // below the target (never empty, so the consumer never idles).
        let tail = &run[200..];
        let mean = tail.iter().map(|r| r.2).sum::<f64>() / tail.len() as f64;
        let (lo, hi) = tail.iter().fold((f64::MAX, f64::MIN), |(a, b), r| (a.min(r.2), b.max(r.2)));
        assert!((mean - 500.0).abs() < 25.0, "mean rate {mean}");
        assert!(lo < 300.0 && hi > 700.0, "rate should oscillate across 500: [{lo}, {hi}]");
        for &(t, lag, _) in tail {
            assert!((5_000.0..=11_000.0).contains(&lag), "lag {lag} at {t} s");
        }
    }

    #[test]
    fn pid_throttle_settles_at_the_consumer_rate_and_target_lag() {
        let mut th = Throttle::new(&ThrottleSpec::pid(), 10_000.0);
        let run = close_loop(&mut th, 600, |_| 500.0);
        let peak = run.iter().map(|r| r.1).fold(0.0, f64::max);
        assert!(peak < 30_000.0, "peak lag {peak}");
        for &(t, lag, rate) in &run[90..] {
            assert!((rate - 500.0).abs() < 5.0, "rate {rate} at {t} s");
            assert!((lag - 10_000.0).abs() < 100.0, "lag {lag} at {t} s");
        }
        let (_, lag, rate) = run[run.len() - 1];
        assert!((rate - 500.0).abs() < 0.01 && (lag - 10_000.0).abs() < 1.0);
    }

    #[test]
    fn pid_throttle_does_not_run_away_for_any_consumer_rate() {
        for consumer in [50.0, 500.0, 5_000.0, 9_500.0] {
            let mut th = Throttle::new(&ThrottleSpec::pid(), 10_000.0);
            let run = close_loop(&mut th, 3_000, |_| consumer);
            for &(_, lag, rate) in &run {
                assert!(rate.is_finite() && (1.0..=10_000.0).contains(&rate));
                assert!(lag < 200_000.0, "consumer {consumer}: lag {lag}");
            }
            let (_, lag, rate) = run[run.len() - 1];
            assert!((rate - consumer).abs() < 0.01 * consumer, "consumer {consumer}: rate {rate}");
            assert!((lag - 10_000.0).abs() < 100.0, "consumer {consumer}: lag {lag}");
        }
    }

    #[test]
    fn pid_anti_windup_recovers_quickly_after_a_long_saturation() {
        // A consumer faster than the producer keeps the lag at 0 and the rate at the
        // ceiling for 10 minutes; without anti-windup the integral of e = −10,000 would
        // sit there for minutes after the consumer slows down.
        let mut th = Throttle::new(&ThrottleSpec::pid(), 10_000.0);
        let run = close_loop(&mut th, 800, |t| if t < 600.0 { 20_000.0 } else { 500.0 });
        assert_eq!(run[599].2, 10_000.0);
        assert_eq!(run[599].1, 0.0);
        // Same trajectory as a fresh controller started at 600 s.
        let mut fresh = Throttle::new(&ThrottleSpec::pid(), 10_000.0);
        let reference = close_loop(&mut fresh, 200, |_| 500.0);
        for (a, b) in run[600..].iter().zip(&reference) {
            assert!((a.2 - b.2).abs() < 1e-6 && (a.1 - b.1).abs() < 1e-6, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn aggressive_pid_gains_stay_bounded() {
        // kp·h = 5 is far past the stable range: the rate slams between floor and ceiling,
        // but it stays in range and never becomes NaN.
        let spec = ThrottleSpec::Pid(PidThrottleSpec { kp: 5.0, ki: 2.0, kd: 3.0, ..Default::default() });
        let mut th = Throttle::new(&spec, 10_000.0);
        for &(_, lag, rate) in &close_loop(&mut th, 1_000, |_| 500.0) {
            assert!(rate.is_finite() && (1.0..=10_000.0).contains(&rate), "{rate}");
            assert!(lag.is_finite());
        }
    }

    #[test]
    fn throttle_guards_its_inputs() {
        let mut th = Throttle::new(&ThrottleSpec::pid(), 10_000.0);
        assert_eq!(th.update(f64::NAN), 10_000.0);
        assert_eq!(th.update(f64::INFINITY), 10_000.0);
        assert_eq!(th.update(-5.0), 10_000.0, "negative lag counts as 0: e < 0, at ceiling");
        let r = th.update(1e9);
        assert_eq!(r, 1.0, "huge lag: floor");
        assert_eq!(th.rate(), 1.0);

        // The producer's rate is the ceiling, even below the spec's floor.
        let spec = ThrottleSpec::Aimd(AimdThrottleSpec { min_rate_per_s: 1_000.0, ..Default::default() });
        let mut th = Throttle::new(&spec, 100.0);
        assert_eq!(th.rate(), 100.0);
        assert_eq!(th.update(1e9), 100.0);
        assert_eq!(th.update(0.0), 100.0);

        // Invalid specs and ceilings do not panic and give a usable throttle.
        let bad = ThrottleSpec::Pid(PidThrottleSpec {
            target_lag: f64::NAN,
            kp: -1.0,
            ki: f64::INFINITY,
            kd: f64::NAN,
            interval_ms: 0.0,
            min_rate_per_s: f64::NAN,
        });
        let mut th = Throttle::new(&bad, f64::NAN);
        assert!(th.interval() > 0);
        assert_eq!(th.update(10.0), 0.0);
        let mut th = Throttle::new(&bad, 1_000.0);
        assert_eq!(th.interval(), S, "falls back to the default interval");
        assert!(th.update(50_000.0).is_finite());
    }

    #[test]
    fn aimd_throttle_steps() {
        let spec = ThrottleSpec::Aimd(AimdThrottleSpec {
            target_lag: 100.0,
            increase_per_s: 10.0,
            decrease_factor: 0.5,
            interval_ms: 250.0,
            min_rate_per_s: 30.0,
        });
        let mut th = Throttle::new(&spec, 100.0);
        assert_eq!(th.interval(), 250 * MS);
        assert_eq!(th.update(101.0), 50.0);
        assert_eq!(th.update(101.0), 30.0, "floor");
        assert_eq!(th.update(100.0), 40.0, "at target counts as on target");
        for _ in 0..10 {
            th.update(0.0);
        }
        assert_eq!(th.rate(), 100.0, "ceiling");
    }

    // ---- Limiters against a simulated downstream. ----

    /// A downstream with `capacity` parallel slots and a mean service time: a call that
    /// starts with `n` calls in flight (itself included) takes `service × max(1, n / C)`,
    /// i.e. it queues behind the excess. With `reject_above`, a call that would be the
    /// `(reject_above + 1)`-th in flight is refused at once (1 ms, dropped).
    ///
    /// Each call's service time is drawn uniformly within ±`jitter` of the mean (seeded).
    /// With `jitter = 0` every call takes exactly the same time, so all calls in flight
    /// complete in lockstep and a per-sample algorithm sees its whole window at once: AIMD
    /// then doubles its limit every RTT and loses it in a cascade of drops. Real services
    /// vary; ±20 % is enough to break the lockstep. The exact model is kept for the
    /// bounds checks.
    #[derive(Clone, Copy)]
    struct Downstream {
        capacity: f64,
        service: Nanos,
        jitter: f64,
        reject_above: Option<u32>,
    }

    impl Downstream {
        /// `u` is uniform in [0, 1).
        fn call(&self, n: u32, u: f64) -> (Nanos, bool) {
            if self.reject_above.is_some_and(|b| n > b) {
                return (MS, true);
            }
            let service = self.service as f64 * (1.0 + self.jitter * (2.0 * u - 1.0));
            let rtt = service * (n as f64 / self.capacity).max(1.0);
            (rtt.round() as Nanos, false)
        }
    }

    /// C = 10 slots, 10 ms mean service, ±20 %.
    const C10: Downstream = Downstream { capacity: 10.0, service: 10 * MS, jitter: 0.2, reject_above: None };
    /// The same without variance (lockstep).
    const C10_EXACT: Downstream = Downstream { jitter: 0.0, ..C10 };

    /// The limit sampled every 10 ms of simulated time.
    struct Trace {
        limits: Vec<u32>,
    }

    impl Trace {
        fn window(&self, from_s: f64, to_s: f64) -> &[u32] {
            let i = (from_s * 100.0) as usize;
            let j = ((to_s * 100.0) as usize).min(self.limits.len());
            &self.limits[i..j]
        }
        fn mean(&self, from_s: f64, to_s: f64) -> f64 {
            let w = self.window(from_s, to_s);
            w.iter().map(|&l| l as f64).sum::<f64>() / w.len() as f64
        }
        fn percentile(&self, from_s: f64, to_s: f64, p: f64) -> u32 {
            let mut w = self.window(from_s, to_s).to_vec();
            w.sort_unstable();
            w[((w.len() - 1) as f64 * p) as usize]
        }
    }

    /// A client with unlimited demand (a deep topic backlog): it keeps exactly `limit`
    /// calls in flight, and reports each completion to the limiter. Every limit the
    /// limiter takes must lie in `bounds`.
    fn drive(limiter: &mut Limiter, seconds: u64, bounds: (u32, u32), downstream: impl Fn(Nanos) -> Downstream) -> Trace {
        let end = seconds * S;
        let mut heap = BinaryHeap::new();
        let mut seq = 0u64;
        let mut inflight = 0u32;
        let mut limits = Vec::new();
        let mut next_grid = 0;
        let mut now = 0;
        let mut rng = Pcg64Mcg::seed_from_u64(7);
        loop {
            while inflight < limiter.limit() {
                inflight += 1;
                let (rtt, dropped) = downstream(now).call(inflight, rng.random::<f64>());
                heap.push(Reverse((now + rtt, seq, rtt, inflight, dropped)));
                seq += 1;
            }
            let Some(Reverse((t, _, rtt, n, dropped))) = heap.pop() else {
                break;
            };
            while next_grid <= t && next_grid < end {
                limits.push(limiter.limit());
                next_grid += 10 * MS;
            }
            if t >= end {
                break;
            }
            now = t;
            inflight -= 1;
            limiter.on_sample(now, rtt, n, dropped);
            let l = limiter.limit();
            assert!(bounds.0 <= l && l <= bounds.1, "limit {l} outside {bounds:?} at {now} ns");
        }
        Trace { limits }
    }

    /// Capacity halves at 30 s: the same service time, but RTT doubles at any concurrency.
    fn halves_at_30s(now: Nanos) -> Downstream {
        if now < 30 * S {
            C10
        } else {
            Downstream { capacity: 5.0, ..C10 }
        }
    }

    #[test]
    fn vegas_finds_the_downstream_capacity() {
        // Band: with saturated demand and exact service times, rtt = 10 ms × L / C, so if
        // Vegas knew the true no-load RTT its queue estimate L·(1 − rtt_noload/rtt) would
        // be exactly L − C; below a limit of 100, alpha = 3 and beta = 6, so the fixed
        // point is L ∈ [C + 3, C + 6] = [13, 16]. Two effects move it: each probe takes a
        // loaded RTT as the no-load one (Vegas then grows by beta per sample until it
        // sees the queue again: excursions above), and service variance makes the
        // minimum RTT lower than a typical one (the estimate reads some queue that is
        // only variance: pressure below). Time-average in [C + 1, 2C], median in [C, 2C].
        let spec = LimiterSpec::vegas();
        let mut l = Limiter::new(&spec);
        assert_eq!(l.limit(), 20);
        let t = drive(&mut l, 120, (1, 1_000), |_| C10);
        let mean = t.mean(20.0, 120.0);
        let median = t.percentile(20.0, 120.0, 0.5);
        assert!((11.0..=20.0).contains(&mean), "mean {mean}");
        assert!((10..=20).contains(&median), "median {median}");
        assert!(t.percentile(20.0, 120.0, 0.95) <= 40);
    }

    #[test]
    fn vegas_backs_off_when_the_downstream_slows_down() {
        // When the capacity halves, every RTT doubles: the queue estimate jumps above beta
        // and Vegas sheds about one call per sample. The next probe, though, re-measures
        // the "no-load" RTT under load and the limit climbs back most of the way: Vegas
        // reads queueing relative to its recent minimum RTT, not absolute capacity. So
        // the reaction is prompt but modest (about −1 to −2 calls on average here).
        let spec = LimiterSpec::vegas();
        let slowed = drive(&mut Limiter::new(&spec), 60, (1, 1_000), halves_at_30s);
        let steady = drive(&mut Limiter::new(&spec), 60, (1, 1_000), |_| C10);
        assert_eq!(slowed.window(0.0, 30.0), steady.window(0.0, 30.0));
        let (a, b) = (slowed.mean(30.0, 30.5), steady.mean(30.0, 30.5));
        assert!(a < b - 0.5, "first half second: {a} vs {b}");
        let (a, b) = (slowed.mean(40.0, 60.0), steady.mean(40.0, 60.0));
        assert!(a < b - 0.5, "later: {a} vs {b}");
        // Still in the band [C' + 1, 2C] (C' = 5): above the new capacity, bounded.
        assert!((6.0..=20.0).contains(&a), "mean {a}");
    }

    #[test]
    fn gradient2_stays_in_a_band_above_capacity() {
        // Gradient2 accepts calls up to rtt_tolerance = 1.5 × its long-term average RTT
        // and adds queue_size = 4 to every estimate, and its long-term RTT is an *average*
        // (600 samples ≈ 0.6 s here), which follows a sustained queue upwards. So under
        // saturated demand it does not sit at C: it saws between about 1.5C and 8C
        // (RTTs of 15–80 ms). The band checked is a time-average in [2C, 6C] and a 95th
        // percentile well below the max of 200: it finds the capacity's order of
        // magnitude and trades latency for throughput, as the library's docs say it does.
        // min_limit is 1 here: the library's default floor of 20 is above C.
        let spec = LimiterSpec::Gradient2(Gradient2LimiterSpec { min_limit: 1, ..Default::default() });
        let t = drive(&mut Limiter::new(&spec), 120, (1, 200), |_| C10);
        let mean = t.mean(20.0, 120.0);
        assert!((20.0..=60.0).contains(&mean), "mean {mean}");
        assert!(t.percentile(20.0, 120.0, 0.05) >= 10);
        assert!(t.percentile(20.0, 120.0, 0.95) <= 100);
    }

    #[test]
    fn gradient2_backs_off_when_the_downstream_slows_down() {
        let spec = LimiterSpec::Gradient2(Gradient2LimiterSpec { min_limit: 1, ..Default::default() });
        let slowed = drive(&mut Limiter::new(&spec), 60, (1, 200), halves_at_30s);
        let steady = drive(&mut Limiter::new(&spec), 60, (1, 200), |_| C10);
        assert_eq!(slowed.window(0.0, 30.0), steady.window(0.0, 30.0));
        // RTTs double against a long-term average that has not moved yet: the gradient
        // drops to 0.5–0.75 and the limit falls by about a third within half a second.
        // The long-term average then catches up (600 samples ≈ 1.2 s at C' = 5) and the
        // sawtooth resumes where it was, as in the steady band test.
        let (a, b) = (slowed.mean(30.0, 30.5), steady.mean(30.0, 30.5));
        assert!(a < 0.75 * b, "first half second: {a} vs {b}");
        assert!(slowed.percentile(30.0, 30.5, 0.05) < steady.percentile(30.0, 30.5, 0.05));
    }

    #[test]
    fn gradient2_with_library_defaults_respects_its_floor() {
        let t = drive(&mut Limiter::new(&LimiterSpec::gradient2()), 60, (20, 200), |_| C10);
        assert!(t.limits.iter().all(|&l| (20..=200).contains(&l)));
    }

    #[test]
    fn aimd_finds_the_capacity_of_a_downstream_that_refuses_excess() {
        // AIMD is loss-based: it ignores RTT below the timeout and grows by 1 per busy
        // sample until calls are refused. A downstream with C = 10 slots and no queue
        // refuses the 11th call at once; each refusal takes 10 % off the limit (at least
        // one call, as the product is truncated). So the limit saws just below and above
        // C: band [C − 3, C + 3] for the mean (≈ 9 measured), 95th percentile ≤ 1.5 C.
        let spec = LimiterSpec::Aimd(AimdLimiterSpec { min_limit: 1, ..Default::default() });
        let bulkhead = Downstream { reject_above: Some(10), ..C10 };
        let t = drive(&mut Limiter::new(&spec), 60, (1, 200), |_| bulkhead);
        let mean = t.mean(10.0, 60.0);
        assert!((7.0..=13.0).contains(&mean), "mean {mean}");
        assert!(t.percentile(10.0, 60.0, 0.95) <= 15);
    }

    #[test]
    fn aimd_backs_off_when_the_downstream_slows_down() {
        // A 50 ms timeout on the queueing downstream: slow calls count as drops.
        let spec = LimiterSpec::Aimd(AimdLimiterSpec { min_limit: 1, timeout_ms: 50.0, ..Default::default() });
        let slowed = drive(&mut Limiter::new(&spec), 60, (1, 200), halves_at_30s);
        let steady = drive(&mut Limiter::new(&spec), 60, (1, 200), |_| C10);
        assert!(slowed.mean(30.0, 60.0) < steady.mean(30.0, 60.0));
        // Without drops or timeouts it only grows, up to its max.
        let t = drive(&mut Limiter::new(&LimiterSpec::aimd()), 10, (20, 200), |_| C10);
        assert_eq!(*t.limits.last().unwrap(), 200);
    }

    #[test]
    fn aimd_follows_a_bulkhead_that_shrinks() {
        // The bulkhead shrinks from 10 to 5 slots at 30 s: same band, around C' = 5.
        let spec = LimiterSpec::Aimd(AimdLimiterSpec { min_limit: 1, ..Default::default() });
        let t = drive(&mut Limiter::new(&spec), 60, (1, 200), |now| {
            if now < 30 * S {
                Downstream { reject_above: Some(10), ..C10 }
            } else {
                Downstream { capacity: 5.0, reject_above: Some(5), ..C10 }
            }
        });
        let mean = t.mean(40.0, 60.0);
        assert!((3.0..=7.0).contains(&mean), "mean {mean}");
    }

    #[test]
    fn lockstep_downstream_keeps_every_limiter_in_bounds() {
        // The exact model of the brief (no service variance): all calls complete together.
        // Bounds are checked on every sample by `drive`.
        let bulkhead = Downstream { reject_above: Some(10), ..C10_EXACT };
        let aimd = LimiterSpec::Aimd(AimdLimiterSpec { min_limit: 1, ..Default::default() });
        drive(&mut Limiter::new(&aimd), 30, (1, 200), |_| bulkhead);
        drive(&mut Limiter::new(&LimiterSpec::aimd()), 30, (20, 200), |_| bulkhead);
        let t = drive(&mut Limiter::new(&LimiterSpec::vegas()), 60, (1, 1_000), |_| C10_EXACT);
        let mean = t.mean(20.0, 60.0);
        assert!((11.0..=20.0).contains(&mean), "vegas mean {mean}");
        let g2 = LimiterSpec::Gradient2(Gradient2LimiterSpec { min_limit: 1, ..Default::default() });
        let t = drive(&mut Limiter::new(&g2), 60, (1, 200), |_| C10_EXACT);
        let mean = t.mean(20.0, 60.0);
        assert!((20.0..=60.0).contains(&mean), "gradient2 mean {mean}");
        drive(&mut Limiter::new(&LimiterSpec::gradient2()), 30, (20, 200), |_| C10_EXACT);
    }

    #[test]
    fn matches_the_library_unit_tests() {
        // Expected values from the library's own tests (AIMDLimitTest, VegasLimitTest,
        // ExpAvgMeasurementTest), re-derived through this implementation.
        let aimd = |initial, min, max| {
            Limiter::new(&LimiterSpec::Aimd(AimdLimiterSpec {
                initial_limit: initial,
                min_limit: min,
                max_limit: max,
                ..Default::default()
            }))
        };
        let mut l = aimd(20, 20, 200);
        l.on_sample(0, MS, 10, false);
        assert_eq!(l.limit(), 21);
        let mut l = aimd(30, 20, 200);
        l.on_sample(0, 0, 0, true);
        assert_eq!(l.limit(), 27);
        let mut l = aimd(21, 1, 21);
        l.on_sample(0, MS, 10, false);
        assert_eq!(l.limit(), 21, "no overflow past max");

        let vegas = || {
            Limiter::new(&LimiterSpec::Vegas(VegasLimiterSpec {
                alpha: Some(3),
                beta: Some(6),
                smoothing: 1.0,
                initial_limit: 10,
                max_concurrency: 20,
                ..Default::default()
            }))
        };
        let mut l = vegas();
        l.on_sample(0, 10 * MS, 10, false);
        assert_eq!(l.limit(), 10);
        l.on_sample(0, 10 * MS, 11, false);
        assert_eq!(l.limit(), 16, "increase");
        let mut l = vegas();
        l.on_sample(0, 10 * MS, 10, false);
        l.on_sample(0, 50 * MS, 11, false);
        assert_eq!(l.limit(), 9, "decrease");
        let mut l = vegas();
        l.on_sample(0, 10 * MS, 10, false);
        l.on_sample(0, 14 * MS, 14, false);
        assert_eq!(l.limit(), 10, "within thresholds");
        let mut l =
            Limiter::new(&LimiterSpec::Vegas(VegasLimiterSpec { initial_limit: 10_000, max_concurrency: 20_000, ..Default::default() }));
        l.on_sample(0, 10 * S, 5_000, false);
        assert_eq!(l.limit(), 10_000);
        l.on_sample(0, 10 * S, 6_000, false);
        assert_eq!(l.limit(), 10_024, "large limit: + 6·log10(10000)");

        let mut avg = ExpAvg { value: 0.0, sum: 0.0, count: 0, window: 100, warmup: 10 };
        for i in 0..10 {
            let v = avg.add(10.0 + i as f64);
            assert!((v - (10.0 + i as f64 / 2.0)).abs() < 0.01, "warm-up {i}: {v}");
        }
        let v = avg.add(100.0);
        assert!((v - 16.2).abs() < 0.1, "{v}");
    }

    #[test]
    fn aimd_steps_like_the_library() {
        let spec = LimiterSpec::Aimd(AimdLimiterSpec { min_limit: 1, ..Default::default() });
        let mut l = Limiter::new(&spec);
        assert_eq!(l.limit(), 20);
        l.on_sample(0, 10 * MS, 20, true);
        assert_eq!(l.limit(), 18, "⌊20 × 0.9⌋");
        l.on_sample(0, 10 * MS, 9, false);
        assert_eq!(l.limit(), 19, "9 × 2 ≥ 18: busy enough to grow");
        l.on_sample(0, 10 * MS, 9, false);
        assert_eq!(l.limit(), 19, "9 × 2 < 19: app-limited, no growth");
        l.on_sample(0, 5 * S + 1, 19, false);
        assert_eq!(l.limit(), 17, "slower than the 5 s timeout counts as a drop");
        l.on_sample(0, 5 * S, 19, false);
        assert_eq!(l.limit(), 18, "exactly the timeout is not");
        for _ in 0..100 {
            l.on_sample(0, MS, 1, true);
        }
        assert_eq!(l.limit(), 1, "floor");
        // The library's default floor is 20.
        let mut l = Limiter::new(&LimiterSpec::aimd());
        l.on_sample(0, MS, 20, true);
        assert_eq!(l.limit(), 20);
    }

    #[test]
    fn vegas_steps_like_the_library() {
        // Probing far away (multiplier large) to see the core rule.
        let spec = LimiterSpec::Vegas(VegasLimiterSpec { probe_multiplier: 1_000, ..Default::default() });
        let mut l = Limiter::new(&spec);
        l.on_sample(1, 10 * MS, 20, false);
        assert_eq!(l.limit(), 20, "first sample only sets the no-load RTT");
        l.on_sample(2, 10 * MS, 20, false);
        assert_eq!(l.limit(), 26, "no queue: + beta (6)");
        l.on_sample(3, 10 * MS, 5, false);
        assert_eq!(l.limit(), 26, "app-limited: 5 × 2 < 26");
        // queue = ⌈26 × (1 − 10/12)⌉ = 5 ∈ [alpha, beta] = [3, 6]: hold.
        l.on_sample(4, 12 * MS, 26, false);
        assert_eq!(l.limit(), 26);
        // queue = ⌈26 × (1 − 10/20)⌉ = 13 > 6: − log10 (1).
        l.on_sample(5, 20 * MS, 26, false);
        assert_eq!(l.limit(), 25);
        // queue = ⌈25 × (1 − 10/10.5)⌉ = 2 < 3: + log10 (1).
        l.on_sample(6, 10_500_000, 25, false);
        assert_eq!(l.limit(), 26);
        l.on_sample(7, 10 * MS, 26, true);
        assert_eq!(l.limit(), 25, "a drop decreases");
        l.on_sample(8, 0, 26, false);
        assert_eq!(l.limit(), 25, "zero RTT ignored");
        l.on_sample(9, 5 * MS, 26, false);
        assert_eq!(l.limit(), 25, "a smaller RTT only becomes the no-load RTT");
    }

    #[test]
    fn vegas_probes_deterministically() {
        let spec = LimiterSpec::vegas();
        let a = drive(&mut Limiter::new(&spec), 30, (1, 1_000), |_| C10);
        let b = drive(&mut Limiter::new(&spec), 30, (1, 1_000), |_| C10);
        assert_eq!(a.limits, b.limits);
        for now in [0, 1, 12_345, u64::MAX] {
            let j = probe_jitter(now);
            assert!((0.5..1.0).contains(&j), "{j}");
        }
    }

    #[test]
    fn gradient2_steps_like_the_library() {
        let spec = LimiterSpec::Gradient2(Gradient2LimiterSpec { min_limit: 1, ..Default::default() });
        let mut l = Limiter::new(&spec);
        // Steady RTT: gradient 1, so each sample adds smoothing × queue_size = 0.8.
        l.on_sample(0, 10 * MS, 20, false);
        assert_eq!(l.limit(), 20, "20.8");
        l.on_sample(0, 10 * MS, 20, false);
        assert_eq!(l.limit(), 21, "21.6");
        l.on_sample(0, 10 * MS, 5, false);
        assert_eq!(l.limit(), 21, "app-limited");
        // long = (10·3 + 40)/4 = 17.5 ms; gradient = max(0.5, 1.5 × 17.5/40) = 0.65625;
        // new = 21.6 × 0.8 + (21.6 × 0.65625 + 4) × 0.2 = 20.915.
        l.on_sample(0, 40 * MS, 21, false);
        assert_eq!(l.limit(), 20);
        l.on_sample(0, 0, 21, false);
        assert_eq!(l.limit(), 20, "zero RTT ignored");
    }

    #[test]
    fn log10_root_matches_the_library_table() {
        for (t, v) in [(0, 1), (1, 1), (9, 1), (10, 1), (99, 1), (100, 2), (999, 2), (1_000, 3), (9_999, 3), (10_000, 4), (u32::MAX, 9)] {
            assert_eq!(log10_root(t), v, "log10_root({t})");
        }
    }

    #[test]
    fn limiters_survive_extreme_samples() {
        for spec in [LimiterSpec::aimd(), LimiterSpec::vegas(), LimiterSpec::gradient2()] {
            let mut l = Limiter::new(&spec);
            for (now, rtt, inflight, dropped) in
                [(0, 0, 0, false), (u64::MAX, u64::MAX, u32::MAX, true), (1, 1, u32::MAX, false), (2, u64::MAX, 0, false), (3, 1, 1, true)]
            {
                l.on_sample(now, rtt, inflight, dropped);
                assert!(l.limit() >= 1);
            }
        }
        // Out-of-range specs do not panic either.
        let bad = LimiterSpec::Gradient2(Gradient2LimiterSpec {
            initial_limit: 0,
            min_limit: 0,
            max_concurrency: 0,
            smoothing: f64::NAN,
            queue_size: u32::MAX,
            long_window: 0,
            rtt_tolerance: 0.0,
        });
        let mut l = Limiter::new(&bad);
        l.on_sample(1, MS, 1, false);
        assert_eq!(l.limit(), 1);
    }
}
