//! Arrival process of the producer (placeholder: flat rate only; the full generator with
//! patterns lands from the `traffic` branch).

use crate::scenario::{Arrivals, FieldError};
use crate::time::Nanos;
use rand::SeedableRng;
use rand_distr::{Distribution, Exp};
use rand_pcg::Pcg64Mcg;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Pattern {
    #[default]
    Flat,
}

impl Pattern {
    pub fn validate(&self, _field: &str, _errors: &mut Vec<FieldError>) {}
    pub fn max_factor(&self) -> f64 {
        1.0
    }
}

pub struct ArrivalGen {
    process: Arrivals,
    rate: f64,
    gap: f64,
    res: Nanos,
    rng: Pcg64Mcg,
    epoch: Nanos,
    k: u64,
    next_at: Nanos,
    last_call: Nanos,
}

impl ArrivalGen {
    pub fn new(process: Arrivals, _pattern: &Pattern, rate_per_s: f64, resolution: Nanos, seed: u64) -> ArrivalGen {
        let mut g = ArrivalGen {
            process,
            rate: rate_per_s,
            gap: 1e9 / rate_per_s,
            res: resolution,
            rng: Pcg64Mcg::seed_from_u64(seed),
            epoch: 0,
            k: 0,
            next_at: 0,
            last_call: 0,
        };
        g.restart(0);
        g
    }

    fn at(&self, k: u64) -> Nanos {
        self.epoch + ((k + 1) as f64 * self.gap).round() as Nanos
    }

    fn exp(&mut self) -> Nanos {
        Exp::new(self.rate / 1e9).map(|e| e.sample(&mut self.rng).round() as Nanos).unwrap_or(Nanos::MAX / 4)
    }

    pub fn restart(&mut self, t: Nanos) {
        self.epoch = t;
        self.k = 0;
        self.last_call = t;
        self.next_at = match self.process {
            Arrivals::Constant => self.at(0),
            Arrivals::Poisson => t + self.exp(),
        };
    }

    pub fn generate(&mut self, now: Nanos) -> Option<(u64, Nanos, Nanos)> {
        self.last_call = now;
        let mut n = 0;
        let t0 = self.next_at;
        let mut t1 = t0;
        while self.next_at <= now {
            n += 1;
            t1 = self.next_at;
            self.next_at = match self.process {
                Arrivals::Constant => {
                    self.k += 1;
                    self.at(self.k)
                }
                Arrivals::Poisson => self.next_at + self.exp(),
            };
        }
        (n > 0).then_some((n, t0, t1))
    }

    pub fn next_due(&self) -> Nanos {
        self.next_at.max(self.last_call + self.res)
    }

    pub fn set_rate(&mut self, rate_per_s: f64) {
        self.rate = rate_per_s;
        self.gap = 1e9 / rate_per_s;
    }

    pub fn rate_now(&self) -> f64 {
        self.rate
    }
}
