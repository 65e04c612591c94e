//! Feedback controllers (placeholder API; the full throttles and limiters land from the
//! `control` branch).

use crate::scenario::FieldError;
use crate::time::Nanos;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ThrottleSpec {
    Aimd { target_lag: f64, increase_per_s: f64, decrease_factor: f64, interval_ms: f64, min_rate_per_s: f64 },
}

impl ThrottleSpec {
    pub fn validate(&self, _field: &str, _errors: &mut Vec<FieldError>) {}
}

pub struct Throttle {
    spec: ThrottleSpec,
    rate: f64,
    max: f64,
}

impl Throttle {
    pub fn new(spec: &ThrottleSpec, max_rate_per_s: f64) -> Throttle {
        Throttle { spec: spec.clone(), rate: max_rate_per_s, max: max_rate_per_s }
    }
    pub fn interval(&self) -> Nanos {
        let ThrottleSpec::Aimd { interval_ms, .. } = self.spec;
        (interval_ms * 1e6) as Nanos
    }
    pub fn update(&mut self, lag: f64) -> f64 {
        let ThrottleSpec::Aimd { target_lag, increase_per_s, decrease_factor, min_rate_per_s, .. } = self.spec;
        self.rate = if lag > target_lag { self.rate * decrease_factor } else { self.rate + increase_per_s };
        self.rate = self.rate.clamp(min_rate_per_s, self.max);
        self.rate
    }
    pub fn rate(&self) -> f64 {
        self.rate
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LimiterSpec {
    Aimd {},
}

impl LimiterSpec {
    pub fn validate(&self, _field: &str, _errors: &mut Vec<FieldError>) {}
}

pub struct Limiter {
    limit: u32,
}

impl Limiter {
    pub fn new(_spec: &LimiterSpec) -> Limiter {
        Limiter { limit: 20 }
    }
    pub fn limit(&self) -> u32 {
        self.limit
    }
    pub fn on_sample(&mut self, _now: Nanos, _rtt: Nanos, _inflight: u32, dropped: bool) {
        if dropped {
            self.limit = (self.limit * 9 / 10).max(1);
        } else {
            self.limit = (self.limit + 1).min(200);
        }
    }
}
