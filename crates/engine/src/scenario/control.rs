//! The feedback controllers' specs: producer throttles from lag (AIMD, PID) and adaptive
//! concurrency limiters (AIMD, Vegas, Gradient2, after Netflix's `concurrency-limits`), with
//! their ranges and checks. What they do at run time is in [`crate::control`].

use crate::validate::{join, Check, FieldError};
use serde::{Deserialize, Serialize};

/// Allowed ranges of the controllers' fields, shared by validation, the CLI and sliders.
pub mod limits {
    /// Lag a throttle aims at (messages).
    pub const TARGET_LAG: (f64, f64) = (0.0, 1e12);
    /// AIMD throttle's additive step (msg/s per interval).
    pub const INCREASE_PER_S: (f64, f64) = (0.001, 10_000_000.0);
    /// AIMD throttle's multiplicative factor.
    pub const DECREASE_FACTOR: (f64, f64) = (0.01, 0.99);
    /// Time between two throttle updates.
    pub const INTERVAL_MS: (f64, f64) = (1.0, 3_600_000.0);
    /// Floor of a throttled producer's rate (msg/s).
    pub const MIN_RATE_PER_S: (f64, f64) = (0.001, 10_000_000.0);
    /// PID gains: proportional (1/s), integral (1/s^2), derivative (unitless).
    pub const GAIN: (f64, f64) = (0.0, 1_000_000.0);
    /// Any concurrency limit (calls in flight). At least 1: a limit of 0 admits no call,
    /// so no sample could ever raise it again.
    pub const CONCURRENCY: (u64, u64) = (1, 1_000_000);
    /// AIMD limiter's backoff ratio (the library requires `[0.5, 1.0)`).
    pub const BACKOFF_RATIO: (f64, f64) = (0.5, 0.999);
    /// AIMD limiter's timeout, past which a call counts as a drop.
    pub const TIMEOUT_MS: (f64, f64) = (0.001, 3_600_000.0);
    /// Vegas and Gradient2 smoothing (1 = take each new estimate whole).
    pub const SMOOTHING: (f64, f64) = (0.0, 1.0);
    /// Vegas probe multiplier (samples per unit of limit between no-load RTT probes).
    pub const PROBE_MULTIPLIER: (u64, u64) = (1, 1_000_000);
    /// Vegas alpha / beta overrides, Gradient2 queue size (calls).
    pub const QUEUE_CALLS: (u64, u64) = (0, 1_000_000);
    /// Gradient2 long-term RTT window (samples).
    pub const LONG_WINDOW: (u64, u64) = (1, 1_000_000);
    /// Gradient2 RTT tolerance (the library requires `>= 1.0`).
    pub const RTT_TOLERANCE: (f64, f64) = (1.0, 100.0);
}

/// Checks `min <= initial <= max` once each bound is itself in range.
fn check_initial(c: &mut Check<'_>, prefix: &str, initial: u32, min: u32, (max_name, max): (&str, u32)) {
    let (lo, hi) = limits::CONCURRENCY;
    let in_range = |v: u32| (lo..=hi).contains(&(v as u64));
    if !in_range(min) || !in_range(max) || !in_range(initial) {
        return;
    }
    if min > max {
        c.fail(
            &join(prefix, "min_limit"),
            format!("must be at most {prefix_max} ({max} calls) (got {min})", prefix_max = join(prefix, max_name)),
        );
    } else if initial < min || initial > max {
        c.fail(
            &join(prefix, "initial_limit"),
            format!(
                "must be a whole number from {min} to {max} calls, between the limit's minimum \
                 and maximum (got {initial})"
            ),
        );
    }
}

// ---------------------------------------------------------------------------------------
// 1. Producer throttling from lag.

/// How a throttled producer's rate follows the consumer lag. Serialized with a `kind` tag:
/// `{"kind": "aimd", "target_lag": 10000}`; omitted fields take the documented defaults.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ThrottleSpec {
    /// Additive increase while the lag is at or below target, multiplicative decrease above.
    Aimd(AimdThrottleSpec),
    /// A PID controller that holds the lag at its target.
    Pid(PidThrottleSpec),
}

// Read through `tagged`: errors inside name the innermost field and its line.
impl super::tagged::Tagged for ThrottleSpec {
    const VARIANTS: &'static [&'static str] = &["aimd", "pid"];
    fn variant<'de, D: serde::Deserializer<'de>>(tag: &str, rest: D) -> Result<Self, D::Error> {
        match tag {
            "aimd" => AimdThrottleSpec::deserialize(rest).map(ThrottleSpec::Aimd),
            "pid" => PidThrottleSpec::deserialize(rest).map(ThrottleSpec::Pid),
            _ => unreachable!("checked against VARIANTS"),
        }
    }
}

impl<'de> Deserialize<'de> for ThrottleSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::tagged::deserialize(d)
    }
}

/// AIMD throttle: each interval, `rate += increase_per_s` if `lag <= target_lag`, else
/// `rate *= decrease_factor`; then clamped to `[min_rate_per_s, max rate]`.
///
/// Defaults, for the reference case (producer 10,000 msg/s, consumer 500 msg/s): target
/// 10,000 messages, +50 msg/s per 1 s interval, halve on excess, floor 1 msg/s. The rate
/// then saws between about 100 and 900 msg/s, averaging the consumer's 500, and after the
/// first overshoot (about 26,000 messages) the lag stays within roughly 8,000–10,500.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AimdThrottleSpec {
    /// Lag (messages) at or below which the producer may speed up.
    pub target_lag: f64,
    /// Additive step: msg/s added to the rate per interval while the lag is on target.
    pub increase_per_s: f64,
    /// Multiplicative step (0.01–0.99) applied per interval while the lag is above target.
    pub decrease_factor: f64,
    /// Time between two updates.
    pub interval_ms: f64,
    /// The rate never goes below this.
    pub min_rate_per_s: f64,
}

impl Default for AimdThrottleSpec {
    fn default() -> Self {
        AimdThrottleSpec { target_lag: 10_000.0, increase_per_s: 50.0, decrease_factor: 0.5, interval_ms: 1_000.0, min_rate_per_s: 1.0 }
    }
}

/// PID throttle. With the error `e = lag − target_lag` (positive: too much lag),
/// `rate = max_rate − (kp·e + ki·∫e dt + kd·de/dt)`, clamped to `[min_rate_per_s, max rate]`.
/// The integral stops growing once the output is saturated (anti-windup), so a long spell
/// at the floor or the ceiling does not have to be unwound later. `dt` is the nominal
/// interval; the derivative is zero on the first update.
///
/// Defaults, for the reference case (producer 10,000 msg/s, consumer 500 msg/s, 1 s
/// interval): target 10,000 messages, `kp = 0.5 /s`, `ki = 0.05 /s²`, `kd = 0`, floor
/// 1 msg/s. The lag peaks near 25,000 (one interval at full rate passes before the lag
/// even reaches the target), drains at the consumer's pace, and the loop settles on
/// 500 msg/s and 10,000 messages without undershoot: within 5 % by 45 s, 1 % by 60 s.
///
/// Why these gains: the plant is an integrator (`lag' = rate − consumer rate`), so per
/// interval `h` the closed loop has poles at the roots of `z² + (kp·h + ki·h² − 2)·z +
/// (1 − kp·h)`; with `kp·h = 0.5` and `ki·h² = 0.05` both are real (≈ 0.89 and 0.56):
/// no oscillation, and stable for intervals up to a few seconds. Gains much above
/// `kp·h ≈ 1` make the loop ring between floor and ceiling (which the lab may want to show).
/// The derivative is off because `de/dt` is just `rate − consumer rate`, which adds
/// nothing but arrival noise here.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PidThrottleSpec {
    /// Lag (messages) the controller holds.
    pub target_lag: f64,
    /// Proportional gain: msg/s of rate removed per message of excess lag (1/s).
    pub kp: f64,
    /// Integral gain: msg/s removed per message·second of accumulated excess (1/s²).
    pub ki: f64,
    /// Derivative gain: msg/s removed per msg/s of lag growth (unitless).
    pub kd: f64,
    /// Time between two updates.
    pub interval_ms: f64,
    /// The rate never goes below this.
    pub min_rate_per_s: f64,
}

impl Default for PidThrottleSpec {
    fn default() -> Self {
        PidThrottleSpec { target_lag: 10_000.0, kp: 0.5, ki: 0.05, kd: 0.0, interval_ms: 1_000.0, min_rate_per_s: 1.0 }
    }
}

impl ThrottleSpec {
    /// The AIMD throttle with its defaults.
    pub fn aimd() -> ThrottleSpec {
        ThrottleSpec::Aimd(AimdThrottleSpec::default())
    }

    /// The PID throttle with its defaults.
    pub fn pid() -> ThrottleSpec {
        ThrottleSpec::Pid(PidThrottleSpec::default())
    }

    /// Time between two updates, as configured (milliseconds).
    pub fn interval_ms(&self) -> f64 {
        match self {
            ThrottleSpec::Aimd(a) => a.interval_ms,
            ThrottleSpec::Pid(p) => p.interval_ms,
        }
    }

    /// Appends one [`FieldError`] per out-of-range field. `field` is the dotted path of
    /// this spec (e.g. `producer.throttle`); errors name `producer.throttle.target_lag` etc.
    /// Whether `min_rate_per_s` is below the producer's rate is the caller's to check: the
    /// throttle itself lets the ceiling win.
    pub fn validate(&self, field: &str, errors: &mut Vec<FieldError>) {
        self.check(&mut Check::new(errors), field);
    }

    pub(crate) fn check(&self, c: &mut Check<'_>, field: &str) {
        use limits::*;
        let f = |name: &str| join(field, name);
        match self {
            ThrottleSpec::Aimd(a) => {
                c.float(&f("target_lag"), a.target_lag, TARGET_LAG, "messages");
                c.float(&f("increase_per_s"), a.increase_per_s, INCREASE_PER_S, "msg/s");
                c.float(&f("decrease_factor"), a.decrease_factor, DECREASE_FACTOR, "");
                c.float(&f("interval_ms"), a.interval_ms, INTERVAL_MS, "ms");
                c.float(&f("min_rate_per_s"), a.min_rate_per_s, MIN_RATE_PER_S, "msg/s");
            }
            ThrottleSpec::Pid(p) => {
                c.float(&f("target_lag"), p.target_lag, TARGET_LAG, "messages");
                c.float(&f("kp"), p.kp, GAIN, "1/s");
                c.float(&f("ki"), p.ki, GAIN, "1/s^2");
                c.float(&f("kd"), p.kd, GAIN, "");
                c.float(&f("interval_ms"), p.interval_ms, INTERVAL_MS, "ms");
                c.float(&f("min_rate_per_s"), p.min_rate_per_s, MIN_RATE_PER_S, "msg/s");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// 2. Adaptive concurrency limiters (Netflix concurrency-limits).

/// An adaptive concurrency limit, as in Netflix's `concurrency-limits`. Serialized with a
/// `kind` tag: `{"kind": "vegas"}`, `{"kind": "gradient2", "min_limit": 1}`; every
/// parameter is optional and defaults to the library's default. The default spec is Vegas,
/// as the library's limiters default to `VegasLimit`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LimiterSpec {
    /// Loss-based: +1 per sample while busy, × `backoff_ratio` on a drop or timeout.
    Aimd(AimdLimiterSpec),
    /// Delay-based, after TCP Vegas: estimates the queue from the minimum RTT.
    Vegas(VegasLimiterSpec),
    /// Delay-based: compares each RTT with a long-term average RTT.
    Gradient2(Gradient2LimiterSpec),
}

// Read through `tagged`: errors inside name the innermost field and its line.
impl super::tagged::Tagged for LimiterSpec {
    const VARIANTS: &'static [&'static str] = &["aimd", "vegas", "gradient2"];
    fn variant<'de, D: serde::Deserializer<'de>>(tag: &str, rest: D) -> Result<Self, D::Error> {
        match tag {
            "aimd" => AimdLimiterSpec::deserialize(rest).map(LimiterSpec::Aimd),
            "vegas" => VegasLimiterSpec::deserialize(rest).map(LimiterSpec::Vegas),
            "gradient2" => Gradient2LimiterSpec::deserialize(rest).map(LimiterSpec::Gradient2),
            _ => unreachable!("checked against VARIANTS"),
        }
    }
}

impl<'de> Deserialize<'de> for LimiterSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::tagged::deserialize(d)
    }
}

impl Default for LimiterSpec {
    fn default() -> Self {
        LimiterSpec::Vegas(VegasLimiterSpec::default())
    }
}

/// Parameters of the AIMD limit, with the library's defaults (`AIMDLimit.java`, `Builder`):
/// initial 20, min 20, max 200, backoff ratio 0.9, timeout 5 s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AimdLimiterSpec {
    /// Limit before the first sample.
    pub initial_limit: u32,
    /// The limit never goes below this.
    pub min_limit: u32,
    /// The limit never goes above this.
    pub max_limit: u32,
    /// Factor applied to the limit on a drop or a timeout (0.5 to below 1).
    pub backoff_ratio: f64,
    /// A call slower than this counts as a drop.
    pub timeout_ms: f64,
}

impl Default for AimdLimiterSpec {
    fn default() -> Self {
        AimdLimiterSpec { initial_limit: 20, min_limit: 20, max_limit: 200, backoff_ratio: 0.9, timeout_ms: 5_000.0 }
    }
}

/// Parameters of the Vegas limit, with the library's defaults (`VegasLimit.java`,
/// `Builder`): initial 20, max concurrency 1000, smoothing 1.0, probe multiplier 30;
/// alpha = 3·log10(limit), beta = 6·log10(limit), threshold = log10(limit), increase and
/// decrease by log10(limit), where log10 is `Log10RootIntFunction` (integer part, at least 1).
/// The library's threshold/increase/decrease *functions* are not configurable here; alpha
/// and beta can be fixed, as with the builder's `alpha(int)` / `beta(int)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VegasLimiterSpec {
    /// Limit before the first sample.
    pub initial_limit: u32,
    /// The limit never goes above this (the lower bound is 1).
    pub max_concurrency: u32,
    /// Weight of each new estimate (1 = replace the old one).
    pub smoothing: f64,
    /// A new no-load RTT is probed every `probe_multiplier × limit` samples (jittered ×0.5–1).
    pub probe_multiplier: u32,
    /// Fixed alpha (queue below which the limit grows); default 3·log10(limit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpha: Option<u32>,
    /// Fixed beta (queue above which the limit shrinks); default 6·log10(limit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beta: Option<u32>,
}

impl Default for VegasLimiterSpec {
    fn default() -> Self {
        VegasLimiterSpec { initial_limit: 20, max_concurrency: 1_000, smoothing: 1.0, probe_multiplier: 30, alpha: None, beta: None }
    }
}

/// Parameters of the Gradient2 limit, with the library's defaults (`Gradient2Limit.java`,
/// `Builder`): initial 20, min 20, max concurrency 200, smoothing 0.2, queue size 4, long
/// window 600 samples, RTT tolerance 1.5.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Gradient2LimiterSpec {
    /// Limit before the first sample.
    pub initial_limit: u32,
    /// The limit never goes below this.
    pub min_limit: u32,
    /// The limit never goes above this.
    pub max_concurrency: u32,
    /// Weight of each new estimate (how fast the limit moves).
    pub smoothing: f64,
    /// Calls of headroom added to each new estimate (how far the limit may grow while
    /// latency stays low).
    pub queue_size: u32,
    /// Samples in the long-term RTT's exponential average.
    pub long_window: u32,
    /// How much slower than the long-term RTT a call may be before the limit shrinks (≥ 1).
    pub rtt_tolerance: f64,
}

impl Default for Gradient2LimiterSpec {
    fn default() -> Self {
        Gradient2LimiterSpec {
            initial_limit: 20,
            min_limit: 20,
            max_concurrency: 200,
            smoothing: 0.2,
            queue_size: 4,
            long_window: 600,
            rtt_tolerance: 1.5,
        }
    }
}

impl LimiterSpec {
    /// The AIMD limit with the library's defaults.
    pub fn aimd() -> LimiterSpec {
        LimiterSpec::Aimd(AimdLimiterSpec::default())
    }

    /// The Vegas limit with the library's defaults.
    pub fn vegas() -> LimiterSpec {
        LimiterSpec::Vegas(VegasLimiterSpec::default())
    }

    /// The Gradient2 limit with the library's defaults.
    pub fn gradient2() -> LimiterSpec {
        LimiterSpec::Gradient2(Gradient2LimiterSpec::default())
    }

    /// Appends one [`FieldError`] per out-of-range field. `field` is the dotted path of
    /// this spec (e.g. `consumer.limiter`). Besides each field's own range, the initial
    /// limit must lie between the minimum and the maximum.
    pub fn validate(&self, field: &str, errors: &mut Vec<FieldError>) {
        self.check(&mut Check::new(errors), field);
    }

    pub(crate) fn check(&self, c: &mut Check<'_>, field: &str) {
        use limits::*;
        let f = |name: &str| join(field, name);
        let calls = |c: &mut Check<'_>, name: &str, v: u32| c.int(&f(name), v as u64, CONCURRENCY, "calls");
        match self {
            LimiterSpec::Aimd(a) => {
                calls(c, "initial_limit", a.initial_limit);
                calls(c, "min_limit", a.min_limit);
                calls(c, "max_limit", a.max_limit);
                c.float(&f("backoff_ratio"), a.backoff_ratio, BACKOFF_RATIO, "");
                c.float(&f("timeout_ms"), a.timeout_ms, TIMEOUT_MS, "ms");
                check_initial(c, field, a.initial_limit, a.min_limit, ("max_limit", a.max_limit));
            }
            LimiterSpec::Vegas(v) => {
                calls(c, "initial_limit", v.initial_limit);
                calls(c, "max_concurrency", v.max_concurrency);
                c.float(&f("smoothing"), v.smoothing, SMOOTHING, "");
                c.int(&f("probe_multiplier"), v.probe_multiplier as u64, PROBE_MULTIPLIER, "");
                if let Some(alpha) = v.alpha {
                    c.int(&f("alpha"), alpha as u64, QUEUE_CALLS, "calls");
                }
                if let Some(beta) = v.beta {
                    c.int(&f("beta"), beta as u64, QUEUE_CALLS, "calls");
                }
                check_initial(c, field, v.initial_limit, 1, ("max_concurrency", v.max_concurrency));
            }
            LimiterSpec::Gradient2(g) => {
                calls(c, "initial_limit", g.initial_limit);
                calls(c, "min_limit", g.min_limit);
                calls(c, "max_concurrency", g.max_concurrency);
                c.float(&f("smoothing"), g.smoothing, SMOOTHING, "");
                c.int(&f("queue_size"), g.queue_size as u64, QUEUE_CALLS, "calls");
                c.int(&f("long_window"), g.long_window as u64, LONG_WINDOW, "samples");
                c.float(&f("rtt_tolerance"), g.rtt_tolerance, RTT_TOLERANCE, "");
                check_initial(c, field, g.initial_limit, g.min_limit, ("max_concurrency", g.max_concurrency));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_spec_serde_and_validation() {
        let s: ThrottleSpec = serde_json::from_str(r#"{"kind": "pid", "target_lag": 500}"#).unwrap();
        assert_eq!(s, ThrottleSpec::Pid(PidThrottleSpec { target_lag: 500.0, ..Default::default() }));
        let s: ThrottleSpec = serde_json::from_str(r#"{"kind": "aimd"}"#).unwrap();
        assert_eq!(s, ThrottleSpec::aimd());
        let e = serde_json::from_str::<ThrottleSpec>(r#"{"kind": "aimd", "target": 5}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `target`"), "{e}");
        assert!(serde_json::from_str::<ThrottleSpec>(r#"{"kind": "bang_bang"}"#).is_err());
        for spec in [ThrottleSpec::aimd(), ThrottleSpec::pid()] {
            let text = serde_json::to_string(&spec).unwrap();
            assert_eq!(serde_json::from_str::<ThrottleSpec>(&text).unwrap(), spec);
            let mut errors = Vec::new();
            spec.validate("producer.throttle", &mut errors);
            assert!(errors.is_empty(), "{errors:?}");
        }

        let mut errors = Vec::new();
        let bad = ThrottleSpec::Aimd(AimdThrottleSpec { decrease_factor: 1.0, interval_ms: f64::NAN, ..Default::default() });
        bad.validate("producer.throttle", &mut errors);
        let text: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
        assert_eq!(
            text,
            [
                "producer.throttle.decrease_factor: must be a number from 0.01 to 0.99 (got 1)",
                "producer.throttle.interval_ms: must be a number from 1 to 3600000 ms (got NaN)",
            ]
        );
        let mut errors = Vec::new();
        ThrottleSpec::Pid(PidThrottleSpec { ki: -1.0, min_rate_per_s: 0.0, ..Default::default() }).validate("p", &mut errors);
        let text: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
        assert_eq!(
            text,
            [
                "p.ki: must be a number from 0 to 1000000 1/s^2 (got -1)",
                "p.min_rate_per_s: must be a number from 0.001 to 10000000 msg/s (got 0)",
            ]
        );
    }

    #[test]
    fn limiter_spec_serde_and_validation() {
        let s: LimiterSpec = serde_json::from_str(r#"{"kind": "gradient2", "min_limit": 1}"#).unwrap();
        assert_eq!(s, LimiterSpec::Gradient2(Gradient2LimiterSpec { min_limit: 1, ..Default::default() }));
        let s: LimiterSpec = serde_json::from_str(r#"{"kind": "vegas", "alpha": 2}"#).unwrap();
        assert_eq!(s, LimiterSpec::Vegas(VegasLimiterSpec { alpha: Some(2), ..Default::default() }));
        assert_eq!(serde_json::from_str::<LimiterSpec>(r#"{"kind": "aimd"}"#).unwrap(), LimiterSpec::aimd());
        assert_eq!(LimiterSpec::default(), LimiterSpec::vegas());
        let e = serde_json::from_str::<LimiterSpec>(r#"{"kind": "vegas", "min_limit": 1}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `min_limit`"), "{e}");
        for spec in [LimiterSpec::aimd(), LimiterSpec::vegas(), LimiterSpec::gradient2()] {
            let text = serde_json::to_string(&spec).unwrap();
            assert_eq!(serde_json::from_str::<LimiterSpec>(&text).unwrap(), spec);
            let mut errors = Vec::new();
            spec.validate("consumer.limiter", &mut errors);
            assert!(errors.is_empty(), "{errors:?}");
        }
        let messages = |spec: LimiterSpec| {
            let mut errors = Vec::new();
            spec.validate("consumer.limiter", &mut errors);
            errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>()
        };
        let aimd = |a: AimdLimiterSpec| messages(LimiterSpec::Aimd(a));
        let d = AimdLimiterSpec::default;
        assert_eq!(
            aimd(AimdLimiterSpec { backoff_ratio: 1.0, min_limit: 0, ..d() }),
            [
                "consumer.limiter.min_limit: must be a whole number from 1 to 1000000 calls (got 0)",
                "consumer.limiter.backoff_ratio: must be a number from 0.5 to 0.999 (got 1)",
            ]
        );
        let g2 = Gradient2LimiterSpec { initial_limit: 5, rtt_tolerance: 0.5, ..Default::default() };
        let text = messages(LimiterSpec::Gradient2(g2));
        assert_eq!(text.len(), 2);
        assert_eq!(text[0], "consumer.limiter.rtt_tolerance: must be a number from 1 to 100 (got 0.5)");
        assert!(text[1].starts_with("consumer.limiter.initial_limit: must be a whole number from 20 to 200 calls"), "{}", text[1]);
        let text = aimd(AimdLimiterSpec { min_limit: 300, initial_limit: 300, ..d() });
        assert_eq!(
            text,
            ["consumer.limiter.min_limit: must be at most consumer.limiter.max_limit (200 calls) \
              (got 300)"]
        );
        let vegas = VegasLimiterSpec { initial_limit: 2_000, ..Default::default() };
        let text = messages(LimiterSpec::Vegas(vegas));
        assert_eq!(text.len(), 1);
        assert!(text[0].ends_with("from 1 to 1000 calls, between the limit's minimum and maximum (got 2000)"));
    }
}
