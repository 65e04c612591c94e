//! The arrival generator for a flat pattern, the common case: a constant rate needs no
//! pieces, no lookahead and no re-anchoring, just the next arrival.

use super::{COUNT_MODE_MIN, REANCHOR};
use crate::scenario::pattern::Arrivals;
use crate::time::{to_f64, to_u64, Nanos, NS_PER_S};
use rand::Rng;
use rand_distr::{Distribution, Exp1};
use rand_pcg::Pcg64Mcg;

/// The generator for a flat pattern: a constant rate needs no pieces, no lookahead and no
/// re-anchoring, just the next arrival. Same rules as the general path: constant arrival
/// `k` at `epoch + round((k + 1) · gap)`; Poisson gaps exponential (exact below
/// [`COUNT_MODE_MIN`] arrivals per step, counts per step above).
#[derive(Clone, Debug)]
pub(super) struct FlatGen {
    process: Arrivals,
    pub(super) rate: f64,
    gap: f64,
    /// `1 / gap`: the constant process estimates its next arrival's index with it (the
    /// estimate is corrected exactly, see `generate_constant`).
    inv_gap: f64,
    res: Nanos,
    epoch: Nanos,
    k: u64,
    /// Poisson: cumulative intensity (in arrivals) from `epoch` of the next arrival, so that
    /// arrival times round exactly as the general path's do.
    need: f64,
    next_at: Nanos,
    last_call: Nanos,
    fresh: bool,
    step: Option<rand_distr::Poisson<f64>>,
}

impl FlatGen {
    pub(super) fn new(process: Arrivals, rate: f64, res: Nanos) -> FlatGen {
        let mut f = FlatGen {
            process,
            rate: 0.0,
            gap: f64::INFINITY,
            inv_gap: 0.0,
            res,
            epoch: 0,
            k: 0,
            need: 0.0,
            next_at: Nanos::MAX,
            last_call: 0,
            fresh: true,
            step: None,
        };
        f.set_params(rate);
        f
    }

    pub(super) fn set_params(&mut self, rate: f64) {
        self.rate = rate;
        self.gap = if rate > 0.0 { NS_PER_S / rate } else { f64::INFINITY };
        self.inv_gap = 1.0 / self.gap;
        let per_step = rate * self.res as f64 / NS_PER_S;
        self.step = (self.process == Arrivals::Poisson && self.res > 0 && per_step >= COUNT_MODE_MIN)
            .then(|| rand_distr::Poisson::new(per_step).ok())
            .flatten();
    }

    /// Constant: arrival `k` since the epoch is at cumulative intensity `k + need` (`need`
    /// is 1 after a restart: one full gap).
    pub(super) fn at(&self, k: u64) -> Nanos {
        let x = (to_f64(k) + self.need) * self.gap;
        if x.is_finite() {
            self.epoch.saturating_add(to_u64(x + 0.5))
        } else {
            Nanos::MAX
        }
    }

    /// Time at cumulative intensity `y` from the epoch.
    pub(super) fn time_at(&self, y: f64) -> Nanos {
        let x = y * self.gap;
        if x.is_finite() {
            self.epoch.saturating_add(to_u64(x + 0.5))
        } else {
            Nanos::MAX
        }
    }

    /// Draws the next Poisson arrival.
    #[inline(always)]
    pub(super) fn draw_next(&mut self, rng: &mut Pcg64Mcg) {
        let e: f64 = rng.sample(Exp1);
        self.need += e;
        self.next_at = self.time_at(self.need);
    }

    pub(super) fn restart(&mut self, t: Nanos, rng: &mut Pcg64Mcg) {
        self.last_call = self.last_call.max(t);
        let t = self.last_call;
        self.fresh = true;
        self.epoch = t;
        self.k = 0;
        match (self.process, &self.step) {
            (_, Some(_)) => self.next_at = t,
            (Arrivals::Constant, None) => {
                self.need = 1.0;
                self.next_at = self.at(0);
            }
            (Arrivals::Poisson, None) => {
                self.need = 0.0;
                self.draw_next(rng);
            }
        }
    }

    /// Inline: called for every arrival of a flat Poisson run. The count mode and the
    /// constant process's search are out of line.
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    pub(super) fn generate(&mut self, now: Nanos, rng: &mut Pcg64Mcg) -> Option<(u64, Nanos, Nanos)> {
        if now < self.last_call {
            return None;
        }
        let since = self.last_call;
        self.last_call = now;
        self.fresh = false;
        if self.step.is_some() {
            return self.generate_count(since, now, rng);
        }
        if self.next_at > now {
            return None;
        }
        match self.process {
            Arrivals::Constant => Some(self.generate_constant(now)),
            Arrivals::Poisson => {
                let (mut n, t0) = (0, self.next_at);
                let mut t1 = t0;
                while self.next_at <= now {
                    n += 1;
                    t1 = self.next_at;
                    self.draw_next(rng);
                }
                if self.need > REANCHOR {
                    // As the general path does: keep the sums small, re-anchored at `now`.
                    self.need = (self.need - (now - self.epoch) as f64 / self.gap).max(0.0);
                    self.epoch = now;
                }
                Some((n, t0, t1))
            }
        }
    }

    /// Count mode: one Poisson count for the step since the last call.
    #[cfg_attr(not(target_arch = "wasm32"), inline(never))]
    pub(super) fn generate_count(&mut self, since: Nanos, now: Nanos, rng: &mut Pcg64Mcg) -> Option<(u64, Nanos, Nanos)> {
        let step = self.step.as_ref()?;
        let elapsed = now - since;
        let n = if elapsed == self.res {
            step.sample(rng) as u64
        } else if elapsed > 0 {
            rand_distr::Poisson::new(self.rate * elapsed as f64 / NS_PER_S).map(|p| p.sample(rng) as u64).unwrap_or(0)
        } else {
            0
        };
        self.next_at = now.saturating_add(self.res.max(1));
        if n == 0 {
            return None;
        }
        // n arrivals evenly placed over the step.
        let w = elapsed as f64 / n as f64;
        let t0 = since + (w / 2.0) as Nanos;
        let t1 = now - (w / 2.0) as Nanos;
        Some((n, t0.min(now), t1.max(t0).min(now)))
    }

    /// The constant process: every arrival due by `now` (the caller checked that one is).
    #[cfg_attr(not(target_arch = "wasm32"), inline(never))]
    pub(super) fn generate_constant(&mut self, now: Nanos) -> (u64, Nanos, Nanos) {
        // The first arrival after `now` is `end`: estimate it, then correct for
        // rounding, keeping each computed time so that none is computed twice.
        // (For a non-negative quotient `as` truncates exactly as `floor` does, and
        // NaN and infinity convert alike; `floor` is a libm call on baseline x86-64.)
        // (The estimate multiplies by `1 / gap` rather than dividing: it may be one off
        // either way, which the two loops below correct, so the run is the same.)
        let mut end = to_u64(to_f64(now - self.epoch) * self.inv_gap).max(self.k);
        let mut next = self.at(end);
        while next <= now {
            end += 1;
            next = self.at(end);
        }
        // `last` is the time of arrival `end - 1`, once known.
        let mut last = None;
        while end > self.k {
            let before = self.at(end - 1);
            if before <= now {
                last = Some(before);
                break;
            }
            end -= 1;
            next = before;
        }
        let last = last.unwrap_or_else(|| self.at(end.wrapping_sub(1)));
        // `next_at` is arrival `k`'s time, computed by the call that returned `k - 1`.
        debug_assert_eq!(self.next_at, self.at(self.k));
        let first = if end == self.k + 1 { last } else { self.next_at };
        let run = (end - self.k, first, last);
        self.k = end;
        self.next_at = next;
        run
    }

    pub(super) fn next_due(&self) -> Nanos {
        if self.fresh || self.next_at == Nanos::MAX {
            self.next_at
        } else {
            self.next_at.max(self.last_call.saturating_add(self.res))
        }
    }

    /// A new rate from the last call on, as the general path does it: the intensity still
    /// needed before the next arrival carries over (the constant process keeps its phase;
    /// for Poisson this is the memoryless remainder of the current draw).
    pub(super) fn set_rate(&mut self, rate: f64, rng: &mut Pcg64Mcg) {
        let now = self.last_call;
        let elapsed = (now - self.epoch) as f64 / self.gap;
        let remaining = match self.process {
            Arrivals::Constant => (self.k as f64 + self.need - elapsed).max(0.0),
            Arrivals::Poisson => (self.need - elapsed).max(0.0),
        };
        let was_counting = self.step.is_some();
        self.set_params(rate);
        if self.step.is_some() {
            self.next_at = now.saturating_add(self.res.max(1));
            return;
        }
        if was_counting || !remaining.is_finite() {
            // Out of count mode (or out of a zero rate): start afresh, as after a restart.
            self.restart(now, rng);
            self.fresh = false;
            return;
        }
        self.epoch = now;
        self.k = 0;
        self.need = remaining;
        self.next_at = match self.process {
            Arrivals::Constant => self.at(0),
            Arrivals::Poisson => self.time_at(self.need),
        };
    }
}
