//! How the producer's messages arrive: the process ([`Arrivals`]) and the pattern that
//! modulates its rate over the run ([`Pattern`]), with their ranges and checks. The
//! generator that turns them into arrivals is [`crate::traffic::ArrivalGen`].

use crate::validate::{join, Check, FieldError};
use serde::{Deserialize, Serialize};

/// How the producer's messages arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arrivals {
    /// Evenly spaced at the current rate.
    Constant,
    /// A Poisson process at the current rate (exponential gaps, seeded).
    Poisson,
}

/// Allowed ranges of the pattern fields (inclusive), for validation, the CLI and sliders.
pub mod limits {
    /// `ramp.from_factor`, `ramp.to_factor`, `step.before_factor`, `step.after_factor`.
    pub const FACTOR: (f64, f64) = (0.0, 100.0);
    /// `on_off.off_factor`: the OFF rate as a fraction of the ON rate.
    pub const OFF_FACTOR: (f64, f64) = (0.0, 1.0);
    /// `on_off.on_s`, `on_off.off_s` (mean durations when random).
    pub const ON_OFF_S: (f64, f64) = (0.001, 86_400.0);
    /// `ramp.start_s`, `step.at_s`: instants of the run.
    pub const AT_S: (f64, f64) = (0.0, 31_536_000.0);
    /// `ramp.duration_s`.
    pub const RAMP_S: (f64, f64) = (0.001, 31_536_000.0);
    /// `sine.period_s`.
    pub const PERIOD_S: (f64, f64) = (0.001, 31_536_000.0);
    /// `sine.amplitude`: at 1 the rate touches 0 once a period.
    pub const AMPLITUDE: (f64, f64) = (0.0, 1.0);
    /// `sine.phase_s`.
    pub const PHASE_S: (f64, f64) = (-31_536_000.0, 31_536_000.0);
    /// [`crate::traffic::ArrivalGen::set_rate`] clamps the base rate into this range (msg/s).
    pub const RATE_PER_S: (f64, f64) = (0.0, 10_000_000.0);
}

/// How the producer's base rate is modulated over the run's absolute time (`t` in seconds
/// since the start of the run). Each factor multiplies `rate_per_s`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Pattern {
    /// Factor 1 throughout. (An empty struct variant, so that unknown fields are rejected
    /// here too: serde ignores them after the tag of a unit variant.)
    Flat {},
    /// Bursts: ON periods at factor 1 alternate with OFF periods at `off_factor`, starting
    /// with an ON period at `t = 0`.
    OnOff {
        /// Duration of an ON period (its mean when `random`), seconds.
        on_s: f64,
        /// Duration of an OFF period (its mean when `random`), seconds.
        off_s: f64,
        /// Factor while OFF (0 = silent), 0..=1; default 0.
        #[serde(default)]
        off_factor: f64,
        /// Exponentially distributed durations (seeded) instead of fixed ones; default false.
        #[serde(default)]
        random: bool,
    },
    /// Linear change from `from_factor` at `start_s` to `to_factor` at
    /// `start_s + duration_s`; `from_factor` before, `to_factor` after.
    Ramp {
        /// Default 0.
        #[serde(default)]
        start_s: f64,
        duration_s: f64,
        from_factor: f64,
        to_factor: f64,
    },
    /// `before_factor` until `at_s`, then `after_factor`.
    Step {
        at_s: f64,
        /// Default 1.
        #[serde(default = "one")]
        before_factor: f64,
        after_factor: f64,
    },
    /// Daily-style cycle: `1 + amplitude · sin(2π (t + phase_s) / period_s)`.
    Sine {
        period_s: f64,
        amplitude: f64,
        /// Default 0.
        #[serde(default)]
        phase_s: f64,
    },
}

/// [`Pattern`] without its tag, read through `tagged`: errors inside name the innermost field
/// and its line.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum PatternDe {
    Flat {},
    OnOff {
        on_s: f64,
        off_s: f64,
        #[serde(default)]
        off_factor: f64,
        #[serde(default)]
        random: bool,
    },
    Ramp {
        #[serde(default)]
        start_s: f64,
        duration_s: f64,
        from_factor: f64,
        to_factor: f64,
    },
    Step {
        at_s: f64,
        #[serde(default = "one")]
        before_factor: f64,
        after_factor: f64,
    },
    Sine {
        period_s: f64,
        amplitude: f64,
        #[serde(default)]
        phase_s: f64,
    },
}

impl super::tagged::Tagged for Pattern {
    const VARIANTS: &'static [&'static str] = &["flat", "on_off", "ramp", "step", "sine"];
    fn variant<'de, D: serde::Deserializer<'de>>(tag: &str, rest: D) -> Result<Self, D::Error> {
        Ok(match PatternDe::deserialize(super::tagged::Variant::new(tag, rest))? {
            PatternDe::Flat {} => Pattern::Flat {},
            PatternDe::OnOff { on_s, off_s, off_factor, random } => Pattern::OnOff { on_s, off_s, off_factor, random },
            PatternDe::Ramp { start_s, duration_s, from_factor, to_factor } => {
                Pattern::Ramp { start_s, duration_s, from_factor, to_factor }
            }
            PatternDe::Step { at_s, before_factor, after_factor } => Pattern::Step { at_s, before_factor, after_factor },
            PatternDe::Sine { period_s, amplitude, phase_s } => Pattern::Sine { period_s, amplitude, phase_s },
        })
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::tagged::deserialize(d)
    }
}

fn one() -> f64 {
    1.0
}

impl Default for Pattern {
    /// `flat`.
    fn default() -> Self {
        Pattern::Flat {}
    }
}

impl Pattern {
    /// Checks every field against [`limits`]; `field` is the pattern's dotted path
    /// (`producer.pattern`), and each error names `field.name` and the allowed range.
    pub fn validate(&self, field: &str, errors: &mut Vec<FieldError>) {
        self.check(&mut Check::new(errors), field);
    }

    pub(crate) fn check(&self, c: &mut Check<'_>, field: &str) {
        use limits::*;
        let mut check = |name: &str, v: f64, range: (f64, f64), unit: &str| c.float(&join(field, name), v, range, unit);
        const TIMES: &str = "× rate_per_s";
        match *self {
            Pattern::Flat {} => {}
            Pattern::OnOff { on_s, off_s, off_factor, random: _ } => {
                check("on_s", on_s, ON_OFF_S, "s");
                check("off_s", off_s, ON_OFF_S, "s");
                check("off_factor", off_factor, OFF_FACTOR, TIMES);
            }
            Pattern::Ramp { start_s, duration_s, from_factor, to_factor } => {
                check("start_s", start_s, AT_S, "s");
                check("duration_s", duration_s, RAMP_S, "s");
                check("from_factor", from_factor, FACTOR, TIMES);
                check("to_factor", to_factor, FACTOR, TIMES);
            }
            Pattern::Step { at_s, before_factor, after_factor } => {
                check("at_s", at_s, AT_S, "s");
                check("before_factor", before_factor, FACTOR, TIMES);
                check("after_factor", after_factor, FACTOR, TIMES);
            }
            Pattern::Sine { period_s, amplitude, phase_s } => {
                check("period_s", period_s, PERIOD_S, "s");
                check("amplitude", amplitude, AMPLITUDE, "");
                check("phase_s", phase_s, PHASE_S, "s");
            }
        }
    }

    /// The largest factor the pattern ever applies (a bound for thinning and chart scales).
    pub fn max_factor(&self) -> f64 {
        match *self {
            Pattern::Flat {} => 1.0,
            Pattern::OnOff { off_factor, .. } => off_factor.max(1.0),
            Pattern::Ramp { from_factor, to_factor, .. } => from_factor.max(to_factor),
            Pattern::Step { before_factor, after_factor, .. } => before_factor.max(after_factor),
            Pattern::Sine { amplitude, .. } => 1.0 + amplitude,
        }
    }
}
