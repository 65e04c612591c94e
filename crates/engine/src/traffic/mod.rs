//! The producer's arrival process: when messages are born.
//!
//! Arrivals are a *process* ([`Arrivals`]: evenly spaced or Poisson) driven by an intensity
//! `λ(t) = base rate × factor(t)`, where the base rate is the producer's `rate_per_s` (a
//! throttle may change it mid-run with [`ArrivalGen::set_rate`]) and the *pattern*
//! ([`Pattern`]: flat, on/off bursts, ramp, step, sine) gives the factor at each instant of
//! the run's absolute simulated time. Both processes are defined through the cumulative
//! intensity `Λ(t) = ∫ λ` counted from the last (re)start:
//!
//! - `constant`: arrival `k` (from 0) is when `Λ` reaches `k + 1`. With a flat pattern that
//!   is `epoch + round((k + 1) · 1e9 / rate)` ns, exactly the engine's original rule.
//! - `poisson`: arrivals are where `Λ` reaches the partial sums of independent `Exp(1)`
//!   draws (a unit Poisson process, time-changed by exact inversion of `Λ`): a Poisson process
//!   of intensity `λ(t)`, non-homogeneous when the pattern is not flat.
//!
//! Time is cut into *pieces* on which `λ` has one closed form (constant, linear or sine);
//! pieces end where the pattern or the base rate changes. `Λ` and its inverse are closed-form
//! on constant and linear pieces and found by safeguarded Newton steps on sine pieces, so a
//! call costs O(pieces it crosses), never O(messages): the constant process counts a whole
//! run from `Λ`, and the Poisson process switches, whenever a resolution step is expected to
//! hold [`COUNT_MODE_MIN`] arrivals or more, to drawing the step's count from
//! `Poisson(∫ λ dt)` (the choice depends only on the step, never on a drawn gap, so the
//! process stays unbiased). Below that every arrival has its exact time.
//!
//! Rounding: an arrival's time is rounded to the nanosecond; an arrival is *due* at `now`
//! when its rounded time is `≤ now`.
//!
//! Determinism: the arrival draws and the random on/off schedule use two separate
//! `Pcg64Mcg` streams seeded from the seed, so the schedule of bursts is the same whatever
//! the resolution, the call times or the throttle did.

use crate::scenario::pattern::{limits, Arrivals, Pattern};
use crate::time::{Nanos, NS_PER_S};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Exp1, Poisson};
use rand_pcg::Pcg64Mcg;
use std::collections::VecDeque;
use std::f64::consts::TAU;

mod flat;
mod shape;

use flat::FlatGen;
use shape::{clamp, Compiled, Piece, Shape};

/// A Poisson process whose resolution step is expected to hold at least this many arrivals
/// draws the step's count instead of each arrival's time.
pub const COUNT_MODE_MIN: f64 = 16.0;

/// Poisson: cumulative intensity past which the state is re-anchored at the current time
/// (2^20 arrivals: sums stay exact to far below a nanosecond, and re-anchoring stays rare).
const REANCHOR: f64 = 1_048_576.0;

/// Pieces [`ArrivalGen::next_due`] looks through for the next arrival; past them it returns
/// the start of the next piece, a wake-up with nothing due, so a zero or tiny rate costs one
/// call per this many pieces (on/off periods, sine periods), never a busy loop.
const LOOKAHEAD: usize = 64;

/// Mixed into the seed for the on/off schedule's own random stream.
const SCHEDULE_STREAM: u64 = 0x9E37_79B9_7F4A_7C15;

/// One on/off period of a random schedule.
#[derive(Clone, Copy, Debug)]
struct Phase {
    end: Nanos,
    on: bool,
}

/// Arrivals accumulated during one `generate` call.
#[derive(Default)]
struct Run {
    n: u64,
    t0: Nanos,
    t1: Nanos,
}

impl Run {
    fn add(&mut self, n: u64, t0: Nanos, t1: Nanos) {
        if self.n == 0 {
            self.t0 = t0;
        }
        self.n += n;
        self.t1 = t1;
    }
}

/// A Poisson count of the given mean (0 for a mean that is not positive).
fn poisson_count(rng: &mut Pcg64Mcg, mean: f64) -> u64 {
    if mean.is_nan() || mean <= 0.0 {
        0
    } else if mean < Poisson::<f64>::MAX_LAMBDA {
        Poisson::new(mean).map_or(0, |p| p.sample(rng) as u64)
    } else {
        mean as u64
    }
}

fn sanitize_rate(rate_per_s: f64) -> f64 {
    clamp(rate_per_s, limits::RATE_PER_S)
}

/// The producer's arrival generator: a [`Arrivals`] process modulated by a [`Pattern`].
///
/// The caller (the simulation) calls [`generate`](Self::generate) at
/// [`next_due`](Self::next_due), calls [`restart`](Self::restart) when the producer resumes
/// after being blocked, and may change the base rate with [`set_rate`](Self::set_rate)
/// (then `next_due` may move, earlier or later, and must be read again). Times passed in
/// never go backwards; a time earlier than the latest one is ignored.
#[derive(Clone, Debug)]
pub struct ArrivalGen {
    process: Arrivals,
    pattern: Compiled,
    /// Base rate, msg/s.
    base: f64,
    res: Nanos,
    /// Arrival draws (Poisson only).
    rng: Pcg64Mcg,
    /// Durations of random on/off periods.
    schedule_rng: Pcg64Mcg,
    /// Random on/off periods materialised ahead, oldest first; the first one that has not
    /// ended by `pos` is at the front, and the first period of all starts at 0.
    phases: VecDeque<Phase>,
    /// The latest time given to `generate`, `restart` or `new` (the generator's "now").
    pos: Nanos,
    /// `generate` is not due before this: last call + resolution (or the restart time).
    floor: Nanos,
    /// The piece in which the next arrival's cumulative intensity is counted (from its
    /// `start`, the anchor); its `end` is after `pos`.
    piece: Piece,
    /// Constant: arrivals already returned since the anchor; the next is at cumulative
    /// intensity `j + need0`. Poisson: always 0 and `need0` is the next arrival's.
    j: u64,
    need0: f64,
    /// The state above must be started afresh at `pos` (after a restart or a counted step).
    fresh: bool,
    /// Poisson only: the step from `pos` draws a count instead of arrival times.
    count_mode: bool,
    next_due: Nanos,
    rate_now: f64,
    /// Time of the last arrival returned (runs never go backwards).
    last_t: Nanos,
    /// The flat pattern's lean generator (the common case); `None` for other patterns.
    flat: Option<FlatGen>,
}

impl ArrivalGen {
    /// A generator started at time 0.
    ///
    /// `resolution` (ns): arrivals closer together than this are returned together as one
    /// run (0 = one at a time). `rate_per_s` is the base rate (clamped to
    /// [`limits::RATE_PER_S`]); the pattern should have passed [`Pattern::validate`]
    /// (out-of-range values are clamped, never a panic). The seed drives the Poisson draws
    /// and the random on/off schedule; a constant process with a fixed pattern ignores it.
    pub fn new(process: Arrivals, pattern: &Pattern, rate_per_s: f64, resolution: Nanos, seed: u64) -> ArrivalGen {
        let mut g = ArrivalGen {
            process,
            pattern: Compiled::new(pattern),
            base: sanitize_rate(rate_per_s),
            res: resolution,
            rng: Pcg64Mcg::seed_from_u64(seed),
            schedule_rng: Pcg64Mcg::seed_from_u64(seed ^ SCHEDULE_STREAM),
            phases: VecDeque::new(),
            pos: 0,
            floor: 0,
            piece: Piece { start: 0, end: Nanos::MAX, shape: Shape::Zero, factor: 0.0 },
            j: 0,
            need0: 1.0,
            fresh: true,
            count_mode: false,
            next_due: Nanos::MAX,
            rate_now: 0.0,
            last_t: 0,
            flat: matches!(pattern, Pattern::Flat {}).then(|| FlatGen::new(process, sanitize_rate(rate_per_s), resolution)),
        };
        g.restart(0);
        g
    }

    /// (Re)starts the process at `t` (after the producer was blocked: nothing arrives while
    /// blocked). The constant process's next arrival is one full gap after `t`; the Poisson
    /// process's is a fresh exponential gap. The pattern keeps running on absolute time.
    pub fn restart(&mut self, t: Nanos) {
        if let Some(f) = &mut self.flat {
            f.restart(t, &mut self.rng);
            self.rate_now = f.rate;
            return;
        }
        self.pos = t.max(self.pos);
        self.floor = self.pos;
        self.fresh = true;
        self.plan();
    }

    /// Everything due at or before `now` not yet returned: (count, first arrival time, last
    /// arrival time); `None` if none. Consecutive runs never overlap (a run's first time is
    /// after the previous call's `now`, except right after a restart at that same instant).
    ///
    /// In count mode (Poisson, see [`COUNT_MODE_MIN`]) the individual times are not drawn:
    /// the run is spread over the step where the intensity was positive, its first and last
    /// times being where the first and last of `count` evenly placed arrivals would be.
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    pub fn generate(&mut self, now: Nanos) -> Option<(u64, Nanos, Nanos)> {
        if let Some(f) = &mut self.flat {
            let run = f.generate(now, &mut self.rng)?;
            let t0 = run.1.max(self.last_t).min(now);
            let t1 = run.2.max(t0).min(now);
            self.last_t = t1;
            return Some((run.0, t0, t1));
        }
        self.generate_patterned(now)
    }

    /// `generate` for a pattern that is not flat.
    #[cfg_attr(not(target_arch = "wasm32"), inline(never))]
    fn generate_patterned(&mut self, now: Nanos) -> Option<(u64, Nanos, Nanos)> {
        if now < self.pos {
            return None;
        }
        let run = if self.count_mode { self.generate_count(now) } else { self.generate_exact(now) };
        self.pos = now;
        self.floor = now.saturating_add(self.res);
        self.plan();
        if run.n == 0 {
            return None;
        }
        let t0 = run.t0.max(self.last_t).min(now);
        let t1 = run.t1.max(t0).min(now);
        self.last_t = t1;
        Some((run.n, t0, t1))
    }

    /// When the caller should call [`generate`](Self::generate) next: the later of the next
    /// arrival and the last call + resolution (right after a restart: the next arrival).
    /// Where nothing can arrive for a while (an OFF period with factor 0, a zero factor) it
    /// is the next arrival after it, or, if that is more than a few dozen pattern pieces
    /// ahead, the start of a later piece (a call that returns `None`); `Nanos::MAX` if
    /// nothing will ever arrive (a zero rate for the rest of time). Never a busy loop: it is
    /// after the last call's `now` unless a restart happened at that instant.
    pub fn next_due(&self) -> Nanos {
        match &self.flat {
            Some(f) => f.next_due(),
            None => self.next_due,
        }
    }

    /// Changes the base rate (msg/s, clamped to [`limits::RATE_PER_S`]; NaN = 0) from the
    /// generator's current time, the latest time given to `generate` or `restart`; the
    /// pattern still modulates it. To throttle at time `t`, call `generate(t)` first (it
    /// returns what was due at the old rate), then `set_rate`, then read `next_due` again.
    /// The constant process keeps its phase (the fraction of a gap already accumulated).
    pub fn set_rate(&mut self, rate_per_s: f64) {
        let rate = sanitize_rate(rate_per_s);
        if rate == self.base {
            return;
        }
        if let Some(f) = &mut self.flat {
            self.base = rate;
            self.rate_now = rate;
            f.set_rate(rate, &mut self.rng);
            return;
        }
        if self.fresh {
            self.base = rate;
        } else {
            let need = self.need_at(self.pos);
            self.base = rate;
            self.anchor(self.pos, need);
        }
        self.plan();
    }

    /// The base rate, msg/s.
    pub fn base_rate(&self) -> f64 {
        self.base
    }

    /// Base rate × the pattern's factor at the current time, msg/s.
    pub fn rate_now(&self) -> f64 {
        self.rate_now
    }

    // ---- internals --------------------------------------------------------------------

    /// Cumulative intensity, from the anchor, of the next arrival not yet returned.
    fn threshold(&self) -> f64 {
        self.j as f64 + self.need0
    }

    /// Intensity still needed at `t` (anchor ≤ t < piece end) before the next arrival.
    fn need_at(&self, t: Nanos) -> f64 {
        let x = (t - self.piece.start) as f64;
        (self.threshold() - self.piece.shape.integral(x)).max(0.0)
    }

    /// Re-anchors the state at `t` with `need` intensity to go before the next arrival.
    fn anchor(&mut self, t: Nanos, need: f64) {
        self.piece = self.piece_at(t);
        self.j = 0;
        self.need0 = need;
    }

    /// Moves the state into the next piece, carrying the intensity still needed.
    fn cross(&mut self) {
        let need = (self.threshold() - self.piece.total()).max(0.0);
        self.anchor(self.piece.end, need);
    }

    /// Recomputes the mode, the rate and `next_due` after any change of `pos` or rate.
    fn plan(&mut self) {
        while self.phases.len() > 1 && self.phases[0].end <= self.pos {
            self.phases.pop_front();
        }
        let here = self.piece_at(self.pos);
        self.rate_now = self.base * here.factor;
        self.count_mode = self.process == Arrivals::Poisson
            && self.res > 0
            && self.integral(self.pos, self.pos.saturating_add(self.res)).0 >= COUNT_MODE_MIN;
        if self.count_mode {
            // The next step draws a fresh count; a pending exponential gap is forgotten
            // (memoryless), and the choice did not depend on it.
            self.fresh = true;
            self.next_due = self.pos.saturating_add(self.res);
            return;
        }
        if self.fresh {
            self.fresh = false;
            self.piece = here;
            self.j = 0;
            self.need0 = match self.process {
                Arrivals::Constant => 1.0,
                Arrivals::Poisson => self.rng.sample(Exp1),
            };
        }
        self.next_due = self.lookahead().max(self.floor);
    }

    /// Time of the next arrival, looking through at most [`LOOKAHEAD`] pieces.
    fn lookahead(&mut self) -> Nanos {
        if self.base <= 0.0 {
            return Nanos::MAX;
        }
        let mut piece = self.piece;
        let mut y = self.threshold();
        for _ in 0..LOOKAHEAD {
            if piece.holds(y) {
                return piece.time_of(y);
            }
            if piece.open() {
                return Nanos::MAX;
            }
            y = (y - piece.total()).max(0.0);
            piece = self.piece_at(piece.end);
        }
        piece.start
    }

    /// Exact arrivals due by `now`: whole runs at once for the constant process, one by one
    /// for the Poisson process (fewer than [`COUNT_MODE_MIN`] expected per step).
    fn generate_exact(&mut self, now: Nanos) -> Run {
        let mut run = Run::default();
        loop {
            let y = self.threshold();
            if !self.piece.holds(y) {
                if self.piece.end > now {
                    break;
                }
                self.cross();
                continue;
            }
            let t = self.piece.time_of(y);
            if t > now {
                break;
            }
            match self.process {
                Arrivals::Constant => {
                    let last = self.last_due(now);
                    let t1 = self.piece.time_of(last as f64 + self.need0);
                    run.add(last - self.j + 1, t, t1);
                    self.j = last + 1;
                }
                Arrivals::Poisson => {
                    run.add(1, t, t);
                    self.need0 += self.rng.sample::<f64, _>(Exp1);
                }
            }
        }
        if self.process == Arrivals::Poisson && self.need0 > REANCHOR {
            // Keep the cumulative sums small, so they stay precise over long runs.
            let need = self.need_at(now);
            self.anchor(now, need);
        }
        run
    }

    /// Constant process: the last arrival index (≥ `j`, which is due) in this piece due by
    /// `now`, from `Λ` and then checked against the rounded times (O(1)).
    fn last_due(&self, now: Nanos) -> u64 {
        let p = &self.piece;
        let due = |i: u64| {
            let y = i as f64 + self.need0;
            p.holds(y) && p.time_of(y) <= now
        };
        let x = ((now - p.start) as f64 + 0.5).min(p.len());
        let estimate = (p.shape.integral(x) - self.need0).floor();
        let mut i = if estimate > self.j as f64 { estimate as u64 } else { self.j };
        while i < u64::MAX && due(i + 1) {
            i += 1;
        }
        while i > self.j && !due(i) {
            i -= 1;
        }
        i
    }

    /// Poisson count mode: one count for `(pos, now]`.
    fn generate_count(&mut self, now: Nanos) -> Run {
        let mut run = Run::default();
        let (mean, first, last) = self.integral(self.pos, now);
        let n = poisson_count(&mut self.rng, mean);
        if let (true, Some((a, _)), Some((_, b))) = (n > 0, first, last) {
            let h = ((b - a) as f64 / (n + 1) as f64).round() as Nanos;
            let t0 = (a + h).max(self.pos.saturating_add(1)).min(b);
            let t1 = if n == 1 { t0 } else { (b - h).max(t0) };
            run.add(n, t0, t1);
        }
        run
    }

    /// Expected arrivals over `(from, to]`, with the first and last parts of that span (cut
    /// at piece boundaries) where the intensity is positive.
    #[allow(clippy::type_complexity)]
    fn integral(&mut self, from: Nanos, to: Nanos) -> (f64, Option<(Nanos, Nanos)>, Option<(Nanos, Nanos)>) {
        let (mut sum, mut first, mut last) = (0.0, None, None);
        let mut t = from;
        while t < to {
            let p = self.piece_at(t);
            let b = p.end.min(to);
            let l = p.shape.integral((b - t) as f64);
            if l > 0.0 {
                sum += l;
                first.get_or_insert((t, b));
                last = Some((t, b));
            }
            t = b;
        }
        (sum, first, last)
    }

    /// The piece of the current base rate and the pattern that contains `t` (`t ≥ pos`),
    /// starting at `t`.
    fn piece_at(&mut self, t: Nanos) -> Piece {
        let base = self.base;
        let (end, factor, shape) = match self.pattern {
            Compiled::Flat => (Nanos::MAX, 1.0, None),
            Compiled::Step { at_ns, before, after } => {
                if t < at_ns {
                    (at_ns, before, None)
                } else {
                    (Nanos::MAX, after, None)
                }
            }
            Compiled::Ramp { start_ns, end_ns, from, to } => {
                if t < start_ns {
                    (start_ns, from, None)
                } else if t >= end_ns {
                    (Nanos::MAX, to, None)
                } else {
                    let dur = (end_ns - start_ns) as f64;
                    let f = (from + (to - from) * ((t - start_ns) as f64 / dur)).max(0.0);
                    let a = base * f / NS_PER_S;
                    let s = base * (to - from) / dur / NS_PER_S;
                    let shape = if a > 0.0 || s > 0.0 { Shape::Linear { a, s } } else { Shape::Zero };
                    (end_ns, f, Some(shape))
                }
            }
            Compiled::Sine { period_ns, amplitude, phase_ns } => {
                let m = ((t as u128 + phase_ns as u128) % period_ns as u128) as Nanos;
                let theta0 = TAU * (m as f64 / period_ns as f64);
                let shape = if base > 0.0 {
                    Shape::Sine { a: base / NS_PER_S, amp: amplitude, omega: TAU / period_ns as f64, theta0 }
                } else {
                    Shape::Zero
                };
                let f = 1.0 + amplitude * theta0.sin();
                (t.saturating_add(period_ns - m), f, Some(shape))
            }
            Compiled::OnOff { on_ns, off_ns, off_factor, random } => {
                let (end, on) = if random {
                    self.phase_at(t, on_ns, off_ns)
                } else {
                    let cycle = on_ns + off_ns;
                    let m = t % cycle;
                    if m < on_ns {
                        (t - m + on_ns, true)
                    } else {
                        ((t - m).saturating_add(cycle), false)
                    }
                };
                (end, if on { 1.0 } else { off_factor }, None)
            }
        };
        Piece {
            start: t,
            end,
            // Constant factors: the rate is `base × factor` (bit-exact `1e9 / rate` gaps
            // when flat).
            shape: shape.unwrap_or_else(|| Shape::constant(base * factor)),
            factor,
        }
    }

    /// The random on/off period containing `t`: (its end, whether ON), drawing periods as
    /// needed (exponential durations of the given means, at least 1 ns).
    fn phase_at(&mut self, t: Nanos, on_ns: Nanos, off_ns: Nanos) -> (Nanos, bool) {
        loop {
            let (start, on) = match self.phases.back() {
                Some(p) if p.end > t => break,
                Some(p) => (p.end, !p.on),
                None => (0, true),
            };
            let mean = if on { on_ns } else { off_ns } as f64;
            let draw: f64 = self.schedule_rng.sample(Exp1);
            let dur = ((draw * mean).round() as Nanos).max(1);
            self.phases.push_back(Phase { end: start.saturating_add(dur), on });
        }
        let i = self.phases.partition_point(|p| p.end <= t);
        let p = self.phases[i];
        (p.end, p.on)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time;

    const MS: Nanos = 1_000_000;
    const S: Nanos = 1_000_000_000;

    /// One `generate` result with the time of the call.
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Out {
        call: Nanos,
        n: u64,
        t0: Nanos,
        t1: Nanos,
    }

    /// Drives `g` as the simulation does (calls at `next_due`) up to `until`, then flushes
    /// with a call at `until`. Checks on the way: calls move forward, `next_due` respects the
    /// resolution, runs are well formed and never overlap, the number of calls is bounded.
    fn drive(g: &mut ArrivalGen, until: Nanos, res: Nanos, out: &mut Vec<Out>) -> u64 {
        let mut calls = 0u64;
        let mut prev = out.last().map(|o| o.call);
        let mut last_t1 = out.last().map(|o| o.t1);
        loop {
            let due = g.next_due();
            let call = due.min(until);
            if let Some(p) = prev {
                assert!(call >= p, "call {call} before previous {p}");
                if due <= until {
                    assert!(call > p, "busy loop at {call}");
                }
            }
            calls += 1;
            assert!(calls < 5_000_000, "too many calls");
            if let Some((n, t0, t1)) = g.generate(call) {
                assert!(n >= 1 && t0 <= t1 && t1 <= call, "bad run {n} {t0} {t1} at {call}");
                if let Some(p) = prev {
                    assert!(t0 > p, "run at {t0} overlaps the call at {p}");
                }
                if let Some(l) = last_t1 {
                    assert!(t0 > l, "run at {t0} overlaps the previous run ending {l}");
                }
                last_t1 = Some(t1);
                out.push(Out { call, n, t0, t1 });
            }
            let next = g.next_due();
            assert!(next == Nanos::MAX || next >= call + res, "next_due {next} earlier than {call} + {res}");
            prev = Some(call);
            if due >= until {
                return calls;
            }
        }
    }

    fn run(process: Arrivals, pattern: &Pattern, rate: f64, res: Nanos, seed: u64, until: Nanos) -> Vec<Out> {
        let mut g = ArrivalGen::new(process, pattern, rate, res, seed);
        let mut out = Vec::new();
        drive(&mut g, until, res, &mut out);
        out
    }

    fn total(out: &[Out]) -> u64 {
        out.iter().map(|o| o.n).sum()
    }

    /// The pattern's factor at `t` seconds, straight from its definition (fixed schedules).
    fn factor(p: &Pattern, t: f64) -> f64 {
        match *p {
            Pattern::Flat {} => 1.0,
            Pattern::OnOff { on_s, off_s, off_factor, random: false } => {
                if t % (on_s + off_s) < on_s {
                    1.0
                } else {
                    off_factor
                }
            }
            Pattern::OnOff { random: true, .. } => unreachable!("random schedule"),
            Pattern::Ramp { start_s, duration_s, from_factor, to_factor } => {
                if t < start_s {
                    from_factor
                } else if t >= start_s + duration_s {
                    to_factor
                } else {
                    from_factor + (to_factor - from_factor) * (t - start_s) / duration_s
                }
            }
            Pattern::Step { at_s, before_factor, after_factor } => {
                if t < at_s {
                    before_factor
                } else {
                    after_factor
                }
            }
            Pattern::Sine { period_s, amplitude, phase_s } => 1.0 + amplitude * (TAU * (t + phase_s) / period_s).sin(),
        }
    }

    /// `∫ rate · factor` over `[a, b]` seconds, midpoint rule on 0.1 ms steps: exact for the
    /// piecewise-linear patterns below (their corners are on the grid), ~1e-9 relative for
    /// the sine.
    fn expected(p: &Pattern, rate: f64, a: f64, b: f64) -> f64 {
        let h = 1e-4;
        let steps = ((b - a) / h).round() as u64;
        (0..steps).map(|k| factor(p, a + (k as f64 + 0.5) * h)).sum::<f64>() * h * rate
    }

    /// Arrivals of `out` at or before `e`, a run's messages spread evenly over [t0, t1]
    /// (as `Seg::time_of` places them).
    fn count_until(out: &[Out], e: Nanos) -> u64 {
        out.iter()
            .map(|o| {
                if e < o.t0 {
                    0
                } else if e >= o.t1 || o.n == 1 {
                    o.n
                } else {
                    let span = (o.t1 - o.t0) as u128;
                    ((e - o.t0) as u128 * (o.n - 1) as u128 / span) as u64 + 1
                }
            })
            .sum()
    }

    /// Largest run that straddles `e` (whose attribution to a window is approximate).
    fn straddling(out: &[Out], e: Nanos) -> u64 {
        out.iter().filter(|o| o.t0 <= e && e < o.t1).map(|o| o.n).max().unwrap_or(0)
    }

    /// Checks counts per window of `w` ns over `[0, until]` against `∫ λ`. Tolerance: the
    /// constant process is off by at most 2 per window (a count is `⌊Λ⌋`, ±1 at each edge
    /// for nanosecond rounding); a Poisson count has standard deviation `√mean`, so 5σ + 2;
    /// plus any run straddling an edge (batches are attributed evenly).
    fn check_windows(out: &[Out], p: &Pattern, rate: f64, w: Nanos, until: Nanos, poisson: bool) {
        let mut e0 = 0;
        while e0 < until {
            let e1 = e0 + w;
            let got = count_until(out, e1) - count_until(out, e0);
            let want = expected(p, rate, time::secs(e0), time::secs(e1));
            let mut tol = 2.0 + (straddling(out, e0) + straddling(out, e1)) as f64;
            if poisson {
                tol += 5.0 * want.sqrt();
            }
            assert!(
                (got as f64 - want).abs() <= tol,
                "{p:?} window {}..{} s: got {got}, want {want:.1} ± {tol:.1}",
                time::secs(e0),
                time::secs(e1)
            );
            e0 = e1;
        }
    }

    fn patterns() -> Vec<Pattern> {
        vec![
            Pattern::Flat {},
            Pattern::OnOff { on_s: 0.5, off_s: 1.5, off_factor: 0.2, random: false },
            Pattern::Ramp { start_s: 5.0, duration_s: 10.0, from_factor: 0.0, to_factor: 3.0 },
            Pattern::Step { at_s: 7.0, before_factor: 0.5, after_factor: 2.0 },
            Pattern::Sine { period_s: 8.0, amplitude: 0.9, phase_s: 1.0 },
        ]
    }

    // ---- the original rule ------------------------------------------------------------

    /// The engine's original constant producer (sim.rs before this module), verbatim.
    struct Original {
        gap_ns: f64,
        epoch: Nanos,
        k: u64,
        next_at: Nanos,
    }

    impl Original {
        fn at(&self, k: u64) -> Nanos {
            self.epoch + ((k + 1) as f64 * self.gap_ns).round() as Nanos
        }
        fn start(&mut self, t: Nanos) {
            self.epoch = t;
            self.k = 0;
            self.next_at = self.at(0);
        }
        fn generate(&mut self, now: Nanos) -> Option<(u64, Nanos, Nanos)> {
            let mut end = ((now - self.epoch) as f64 / self.gap_ns).floor() as u64;
            while self.at(end) <= now {
                end += 1;
            }
            while end > self.k && self.at(end - 1) > now {
                end -= 1;
            }
            if end <= self.k {
                self.next_at = self.at(self.k);
                return None;
            }
            let run = (end - self.k, self.at(self.k), self.at(end - 1));
            self.k = end;
            self.next_at = self.at(end);
            Some(run)
        }
    }

    #[test]
    fn flat_constant_reproduces_the_original_rule() {
        for rate in [10_000.0, 3.0, 7_777.7, 0.5, 123_456.789, 10_000_000.0] {
            for res in [0, MS / 10, MS, 7 * MS] {
                let mut new = ArrivalGen::new(Arrivals::Constant, &Pattern::Flat {}, rate, res, 1);
                let mut old = Original { gap_ns: NS_PER_S / rate, epoch: 0, k: 0, next_at: 0 };
                old.start(0);
                let mut old_due = old.next_at;
                let until = if rate > 1e5 { S / 20 } else { 3 * S };
                let mut calls = 0;
                while old_due <= until {
                    assert_eq!(new.next_due(), old_due, "rate {rate} res {res}");
                    let now = old_due;
                    assert_eq!(new.generate(now), old.generate(now), "rate {rate} at {now}");
                    old_due = old.next_at.max(now + res);
                    calls += 1;
                    if calls == 50 {
                        // Blocked for a while, then restarted, as the simulation does.
                        let t = now + 3 * MS + 17;
                        new.restart(t);
                        old.start(t);
                        old_due = old.next_at;
                    }
                }
            }
        }
    }

    #[test]
    fn ten_thousand_per_second_is_exactly_ten_thousand() {
        let mut g = ArrivalGen::new(Arrivals::Constant, &Pattern::Flat {}, 10_000.0, MS, 9);
        let mut out = Vec::new();
        for k in 1..=10 {
            drive(&mut g, k * S, MS, &mut out);
            assert_eq!(total(&out), k * 10_000);
            assert_eq!(out.last().unwrap().t1, k * S);
        }
        // The first arrival comes one gap after the start, then 1 ms steps of 10.
        assert_eq!((out[0].n, out[0].t0), (1, 100_000));
        assert!(out[1..].iter().all(|o| o.n == 10 || o.call % S == 0));
    }

    // ---- counts and shapes ------------------------------------------------------------

    #[test]
    fn long_run_counts_match_the_integral() {
        let until = 40 * S;
        for p in patterns() {
            for (process, rate, res) in [
                (Arrivals::Constant, 1_000.0, 0),
                (Arrivals::Constant, 50_000.0, MS),
                (Arrivals::Constant, 1_000_000.0, 10 * MS),
                (Arrivals::Poisson, 1_000.0, 0),
                (Arrivals::Poisson, 5_000.0, MS),
                (Arrivals::Poisson, 1_000_000.0, MS),
            ] {
                let out = run(process, &p, rate, res, 42, until);
                let got = total(&out) as f64;
                let want = expected(&p, rate, 0.0, time::secs(until));
                let tol = match process {
                    Arrivals::Constant => 2.0,
                    Arrivals::Poisson => 5.0 * want.sqrt() + 2.0,
                };
                assert!((got - want).abs() <= tol, "{p:?} {process:?} {rate}/s res {res}: got {got}, want {want:.1} ± {tol:.1}");
            }
        }
    }

    #[test]
    fn counts_per_window_follow_the_pattern() {
        let until = 24 * S;
        for p in patterns() {
            let out = run(Arrivals::Constant, &p, 2_000.0, 0, 1, until);
            check_windows(&out, &p, 2_000.0, S / 4, until, false);
            let out = run(Arrivals::Constant, &p, 200_000.0, MS, 1, until);
            check_windows(&out, &p, 200_000.0, S / 4, until, false);
            let out = run(Arrivals::Poisson, &p, 4_000.0, 0, 2, until);
            check_windows(&out, &p, 4_000.0, S / 2, until, true);
            let out = run(Arrivals::Poisson, &p, 500_000.0, MS, 3, until);
            check_windows(&out, &p, 500_000.0, S / 4, until, true);
        }
    }

    #[test]
    fn ramp_step_and_sine_rates_follow_the_factor() {
        let probe = |p: &Pattern, t: Nanos| {
            let mut g = ArrivalGen::new(Arrivals::Constant, p, 1_000.0, MS, 1);
            g.generate(t);
            g.rate_now()
        };
        let ramp = Pattern::Ramp { start_s: 2.0, duration_s: 4.0, from_factor: 1.0, to_factor: 3.0 };
        for (t, want) in [(0, 1_000.0), (2 * S, 1_000.0), (4 * S, 2_000.0), (9 * S, 3_000.0)] {
            assert!((probe(&ramp, t) - want).abs() < 1e-6, "ramp at {t}");
        }
        let step = Pattern::Step { at_s: 1.0, before_factor: 0.0, after_factor: 4.0 };
        assert_eq!(probe(&step, S - 1), 0.0);
        assert!((probe(&step, S) - 4_000.0).abs() < 1e-6);
        let sine = Pattern::Sine { period_s: 4.0, amplitude: 0.5, phase_s: 0.0 };
        for (t, want) in [(0, 1_000.0), (S, 1_500.0), (2 * S, 1_000.0), (3 * S, 500.0)] {
            assert!((probe(&sine, t) - want).abs() < 1e-6, "sine at {t}");
        }
        assert_eq!(ramp.max_factor(), 3.0);
        assert_eq!(step.max_factor(), 4.0);
        assert_eq!(sine.max_factor(), 1.5);
        assert_eq!(Pattern::Flat {}.max_factor(), 1.0);
    }

    #[test]
    fn nothing_arrives_while_off() {
        let p = Pattern::OnOff { on_s: 0.25, off_s: 0.75, off_factor: 0.0, random: false };
        for process in [Arrivals::Constant, Arrivals::Poisson] {
            let out = run(process, &p, 4_000.0, 0, 5, 20 * S);
            for o in &out {
                for t in [o.t0, o.t1] {
                    assert!(t % S <= S / 4, "{process:?}: arrival at {t} in an OFF period");
                }
            }
            // One ON period holds 1000 on average; the constant process exactly (±1).
            let got = total(&out) as f64;
            assert!((got - 20_000.0).abs() <= 5.0 * 20_000f64.sqrt(), "{got}");
            // And a call lands at the end of each OFF period, not in between.
            let mut g = ArrivalGen::new(process, &p, 4_000.0, MS, 5);
            g.generate(S / 4 + 1);
            assert!(g.next_due() >= S, "next_due {} inside OFF", g.next_due());
            assert_eq!(g.rate_now(), 0.0);
        }
    }

    #[test]
    fn random_on_off_durations_have_the_right_means() {
        let p = Pattern::OnOff { on_s: 0.2, off_s: 0.6, off_factor: 0.0, random: true };
        let mut g = ArrivalGen::new(Arrivals::Poisson, &p, 1.0, MS, 11);
        let (mut on, mut off) = (Vec::new(), Vec::new());
        let mut t = 0;
        while on.len() < 20_000 || off.len() < 20_000 {
            let piece = g.piece_at(t);
            let d = time::secs(piece.end - t);
            if piece.shape == Shape::Zero {
                off.push(d);
            } else {
                on.push(d);
            }
            t = piece.end;
            g.pos = t;
            g.plan();
        }
        // Mean of n exponential durations: relative standard deviation 1/√n; 5σ ≈ 3.5%.
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let tol = 5.0 / (20_000f64).sqrt();
        assert!((mean(&on) / 0.2 - 1.0).abs() < tol, "ON mean {}", mean(&on));
        assert!((mean(&off) / 0.6 - 1.0).abs() < tol, "OFF mean {}", mean(&off));
        // Exponential, not fixed: the coefficient of variation is about 1.
        let cv = |v: &[f64]| {
            let m = mean(v);
            (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64).sqrt() / m
        };
        assert!((cv(&on) - 1.0).abs() < 0.05 && (cv(&off) - 1.0).abs() < 0.05);
        // The phase bookkeeping stayed bounded.
        assert!(g.phases.len() <= LOOKAHEAD + 2, "{}", g.phases.len());

        // Fixed durations are exact.
        let fixed = Pattern::OnOff { on_s: 0.2, off_s: 0.6, off_factor: 0.5, random: false };
        let mut g = ArrivalGen::new(Arrivals::Constant, &fixed, 1.0, MS, 11);
        let mut t = 0;
        for k in 0..10 {
            let piece = g.piece_at(t);
            let want = if k % 2 == 0 { 200 * MS } else { 600 * MS };
            assert_eq!(piece.end - t, want);
            t = piece.end;
        }
    }

    #[test]
    fn random_on_off_counts_follow_the_drawn_schedule() {
        let p = Pattern::OnOff { on_s: 0.05, off_s: 0.15, off_factor: 0.1, random: true };
        let until = 30 * S;
        for (process, rate, res) in
            [(Arrivals::Constant, 10_000.0, MS), (Arrivals::Poisson, 10_000.0, 0), (Arrivals::Poisson, 100_000.0, MS)]
        {
            let out = run(process, &p, rate, res, 77, until);
            // The schedule is its own random stream: a fresh generator with the same seed
            // draws the same periods, whatever the arrivals did.
            let mut fresh = ArrivalGen::new(process, &p, rate, res, 77);
            let want = fresh.integral(0, until).0;
            // A long-run average of 0.325 × rate (ON a quarter of the time).
            assert!((want / (rate * 30.0) - 0.325).abs() < 0.05, "{want}");
            let got = total(&out) as f64;
            let tol = match process {
                Arrivals::Constant => 2.0,
                Arrivals::Poisson => 5.0 * want.sqrt() + 2.0,
            };
            assert!((got - want).abs() <= tol, "{process:?}: {got} vs {want}");
        }
    }

    // ---- Poisson ----------------------------------------------------------------------

    #[test]
    fn poisson_gaps_are_exponential_at_resolution_zero() {
        let rate = 1_000.0;
        let out = run(Arrivals::Poisson, &Pattern::Flat {}, rate, 0, 2024, 100 * S);
        let times: Vec<f64> = out.iter().flat_map(|o| std::iter::repeat_n(time::secs(o.t0), o.n as usize)).collect();
        let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        let n = gaps.len() as f64;
        assert!(n > 90_000.0);
        // Sample mean: relative sd 1/√n (0.32%); coefficient of variation of exponential
        // gaps: sd ≈ 1/√n too (delta method); P(gap > mean) = 1/e with binomial sd
        // √(p(1-p)/n) ≈ 0.0015. All at about 5σ.
        let mean = gaps.iter().sum::<f64>() / n;
        let sd = (gaps.iter().map(|g| (g - mean) * (g - mean)).sum::<f64>() / n).sqrt();
        assert!((mean * rate - 1.0).abs() < 0.016, "mean gap {mean}");
        assert!((sd / mean - 1.0).abs() < 0.016, "cv {}", sd / mean);
        let above = gaps.iter().filter(|&&g| g > 1.0 / rate).count() as f64 / n;
        assert!((above - (-1f64).exp()).abs() < 0.0075, "P(gap > mean) = {above}");
        // One arrival per call (two only if they fall in the same nanosecond).
        assert!(out.iter().all(|o| o.n <= 2));
    }

    #[test]
    fn poisson_counts_per_step_are_poisson() {
        let out = run(Arrivals::Poisson, &Pattern::Flat {}, 1_000_000.0, MS, 8, S);
        assert_eq!(out.len(), 1_000);
        assert!(out.iter().all(|o| o.call % MS == 0));
        let n: Vec<f64> = out.iter().map(|o| o.n as f64).collect();
        let mean = n.iter().sum::<f64>() / 1_000.0;
        let var = n.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / 999.0;
        // Mean 1000 ± 5·√(1000/1000); variance/mean = 1 ± 5·√(2/999).
        assert!((mean - 1_000.0).abs() < 5.0, "mean {mean}");
        assert!((var / mean - 1.0).abs() < 0.23, "dispersion {}", var / mean);
    }

    #[test]
    fn poisson_exact_arrivals_do_not_depend_on_the_resolution() {
        // In exact mode the draws are consumed one per arrival whatever the call times, so
        // batching only changes how arrivals are grouped (to within 1 ns of rounding).
        for p in patterns() {
            let fine = run(Arrivals::Poisson, &p, 3_000.0, 0, 99, 20 * S);
            let coarse = run(Arrivals::Poisson, &p, 3_000.0, MS, 99, 20 * S);
            assert_eq!(total(&fine), total(&coarse), "{p:?}");
            let times: Vec<Nanos> = fine.iter().flat_map(|o| std::iter::repeat_n(o.t0, o.n as usize)).collect();
            let mut i = 0;
            for o in &coarse {
                assert!(times[i].abs_diff(o.t0) <= 1, "{p:?}");
                assert!(times[i + o.n as usize - 1].abs_diff(o.t1) <= 1, "{p:?}");
                i += o.n as usize;
            }
        }
    }

    // ---- coverage, determinism, throttling ----------------------------------------------

    #[test]
    fn constant_runs_cover_each_arrival_exactly_once() {
        // The constant process's arrival times do not depend on the calls: one at a time
        // and batched must list the same arrivals.
        for p in patterns() {
            let fine = run(Arrivals::Constant, &p, 1_500.0, 0, 1, 20 * S);
            let times: Vec<Nanos> = fine.iter().flat_map(|o| std::iter::repeat_n(o.t0, o.n as usize)).collect();
            for res in [MS, 10 * MS, 100 * MS] {
                let coarse = run(Arrivals::Constant, &p, 1_500.0, res, 1, 20 * S);
                assert_eq!(total(&coarse), times.len() as u64, "{p:?} res {res}");
                let mut i = 0;
                for o in &coarse {
                    assert_eq!((o.t0, o.t1), (times[i], times[i + o.n as usize - 1]));
                    i += o.n as usize;
                }
            }
        }
    }

    #[test]
    fn same_seed_same_arrivals() {
        let bursty = Pattern::OnOff { on_s: 0.1, off_s: 0.3, off_factor: 0.0, random: true };
        for (process, p, res) in [
            (Arrivals::Poisson, Pattern::Flat {}, 0),
            (Arrivals::Poisson, bursty.clone(), MS),
            (Arrivals::Poisson, patterns()[4].clone(), MS),
            (Arrivals::Constant, bursty.clone(), MS),
        ] {
            let a = run(process, &p, 20_000.0, res, 5, 5 * S);
            let b = run(process, &p, 20_000.0, res, 5, 5 * S);
            let c = run(process, &p, 20_000.0, res, 6, 5 * S);
            assert_eq!(a, b, "{process:?} {p:?}");
            assert_ne!(a, c, "{process:?} {p:?}");
        }
        // The constant process with a fixed pattern has nothing random.
        let a = run(Arrivals::Constant, &patterns()[4], 20_000.0, MS, 5, 5 * S);
        let b = run(Arrivals::Constant, &patterns()[4], 20_000.0, MS, 6, 5 * S);
        assert_eq!(a, b);
    }

    #[test]
    fn set_rate_changes_the_rate_mid_run() {
        for (process, res) in [(Arrivals::Constant, MS), (Arrivals::Constant, 0), (Arrivals::Poisson, 0), (Arrivals::Poisson, MS)] {
            let mut g = ArrivalGen::new(process, &Pattern::Flat {}, 1_000.0, res, 3);
            let mut out = Vec::new();
            drive(&mut g, 5 * S, res, &mut out);
            let before = total(&out);
            g.set_rate(30_000.0);
            assert_eq!((g.base_rate(), g.rate_now()), (30_000.0, 30_000.0));
            drive(&mut g, 10 * S, res, &mut out);
            let after = total(&out) - before;
            let (tb, ta) = match process {
                Arrivals::Constant => (1.0, 1.0),
                Arrivals::Poisson => (5.0 * 5_000f64.sqrt(), 5.0 * 150_000f64.sqrt()),
            };
            assert!((before as f64 - 5_000.0).abs() <= tb, "{process:?}: {before}");
            assert!((after as f64 - 150_000.0).abs() <= ta, "{process:?}: {after}");
        }
        // The pattern still modulates the new base rate.
        let step = Pattern::Step { at_s: 2.0, before_factor: 1.0, after_factor: 3.0 };
        let mut g = ArrivalGen::new(Arrivals::Constant, &step, 1_000.0, MS, 3);
        let mut out = Vec::new();
        drive(&mut g, S, MS, &mut out);
        g.set_rate(100.0);
        drive(&mut g, 4 * S, MS, &mut out);
        assert!((g.rate_now() - 300.0).abs() < 1e-9);
        assert_eq!(total(&out), 1_000 + 100 + 600);
    }

    #[test]
    fn constant_phase_survives_a_rate_change() {
        // Half a gap accumulated at 10/s, then 20/s: the next arrival comes a quarter of
        // the old gap later.
        let mut g = ArrivalGen::new(Arrivals::Constant, &Pattern::Flat {}, 10.0, MS, 1);
        assert_eq!(g.generate(50 * MS), None);
        g.set_rate(20.0);
        assert_eq!(g.next_due(), 75 * MS);
        assert_eq!(g.generate(75 * MS), Some((1, 75 * MS, 75 * MS)));
        assert_eq!(g.next_due(), 125 * MS);
    }

    #[test]
    fn restart_drops_what_would_have_arrived_while_blocked() {
        let mut g = ArrivalGen::new(Arrivals::Constant, &Pattern::Flat {}, 1_000.0, MS, 1);
        assert_eq!(g.generate(10 * MS), Some((10, MS, 10 * MS)));
        g.restart(500 * MS + 300_000);
        assert_eq!(g.next_due(), 501 * MS + 300_000);
        assert_eq!(g.generate(510 * MS), Some((9, 501 * MS + 300_000, 509 * MS + 300_000)));
        // A restart in the past is ignored.
        g.restart(5 * MS);
        assert!(g.next_due() > 510 * MS);
        assert_eq!(g.generate(400 * MS), None);
    }

    // ---- zero and tiny rates ----------------------------------------------------------

    #[test]
    fn zero_rates_do_not_spin() {
        // A factor of 0 for the rest of the run: nothing is ever due.
        let stop = Pattern::Step { at_s: 1.0, before_factor: 1.0, after_factor: 0.0 };
        for process in [Arrivals::Constant, Arrivals::Poisson] {
            let mut g = ArrivalGen::new(process, &stop, 100.0, MS, 1);
            let mut out = Vec::new();
            let calls = drive(&mut g, 3_600 * S, MS, &mut out);
            assert_eq!(g.next_due(), Nanos::MAX);
            assert!(calls <= 1_001, "{calls} calls");
            // Throttled to zero, then back.
            let mut g = ArrivalGen::new(process, &Pattern::Flat {}, 100.0, MS, 1);
            drive(&mut g, S, MS, &mut Vec::new());
            g.set_rate(0.0);
            assert_eq!((g.next_due(), g.rate_now()), (Nanos::MAX, 0.0));
            assert_eq!(g.generate(100 * S), None);
            g.set_rate(f64::NAN);
            assert_eq!(g.next_due(), Nanos::MAX);
            g.set_rate(100.0);
            assert!(g.next_due() > 100 * S && g.next_due() < 101 * S);
        }
        // A tiny rate in short bursts: one call per LOOKAHEAD periods, not one per period.
        let blink = Pattern::OnOff { on_s: 0.001, off_s: 0.001, off_factor: 0.0, random: true };
        for process in [Arrivals::Constant, Arrivals::Poisson] {
            let mut g = ArrivalGen::new(process, &blink, 0.001, MS, 1);
            let mut out = Vec::new();
            let calls = drive(&mut g, 1_000 * S, MS, &mut out);
            // 10^6 periods in 1000 s.
            assert!(calls < 1_000_000 / (LOOKAHEAD as u64 / 2), "{calls} calls");
            assert!(total(&out) <= 3);
        }
        // Sine touching zero, amplitude 1, low rate: still bounded.
        let sine = Pattern::Sine { period_s: 0.01, amplitude: 1.0, phase_s: 0.0 };
        let mut g = ArrivalGen::new(Arrivals::Poisson, &sine, 0.01, 0, 1);
        let calls = drive(&mut g, 1_000 * S, 0, &mut Vec::new());
        assert!(calls < 100_000 / (LOOKAHEAD as u64 / 2), "{calls} calls");
    }

    #[test]
    fn high_rates_cost_one_step_per_call() {
        // 10^9 msg/s (the largest validated rate × factor) in 100 ms steps: 10^8 per call.
        let p = Pattern::Step { at_s: 0.5, before_factor: 100.0, after_factor: 50.0 };
        for process in [Arrivals::Constant, Arrivals::Poisson] {
            let out = run(process, &p, 10_000_000.0, 100 * MS, 4, 10 * S);
            let got = total(&out) as f64;
            let want = 1e9 * 0.5 + 5e8 * 9.5;
            assert!((got - want).abs() <= 5.0 * want.sqrt() + 2.0, "{got}");
            assert!(out.len() <= 101);
        }
        let sine = Pattern::Sine { period_s: 0.3, amplitude: 1.0, phase_s: 0.0 };
        let out = run(Arrivals::Constant, &sine, 10_000_000.0, 10 * MS, 4, 10 * S);
        let want = expected(&sine, 10_000_000.0, 0.0, 10.0);
        assert!((total(&out) as f64 - want).abs() <= 2.0, "{} vs {want}", total(&out));
    }

    // ---- validation and serde ---------------------------------------------------------

    #[test]
    fn validation_names_the_field_and_the_range() {
        let mut errors = Vec::new();
        for p in patterns() {
            p.validate("producer.pattern", &mut errors);
        }
        assert!(errors.is_empty(), "{errors:?}");
        let bad = [
            Pattern::OnOff { on_s: 0.0, off_s: f64::INFINITY, off_factor: 1.5, random: true },
            Pattern::Ramp { start_s: -1.0, duration_s: 0.0, from_factor: f64::NAN, to_factor: 101.0 },
            Pattern::Step { at_s: 4e7, before_factor: -0.1, after_factor: 1e3 },
            Pattern::Sine { period_s: 0.0, amplitude: 1.1, phase_s: f64::NAN },
        ];
        for p in &bad {
            p.validate("producer.pattern", &mut errors);
        }
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "producer.pattern.on_s",
                "producer.pattern.off_s",
                "producer.pattern.off_factor",
                "producer.pattern.start_s",
                "producer.pattern.duration_s",
                "producer.pattern.from_factor",
                "producer.pattern.to_factor",
                "producer.pattern.at_s",
                "producer.pattern.before_factor",
                "producer.pattern.after_factor",
                "producer.pattern.period_s",
                "producer.pattern.amplitude",
                "producer.pattern.phase_s",
            ]
        );
        assert_eq!(errors[0].message, "must be a number from 0.001 to 86400 s (got 0)");
        assert_eq!(errors[2].message, "must be a number from 0 to 1 × rate_per_s (got 1.5)");
        // Invalid patterns still run without panicking (values are clamped).
        for p in &bad {
            for process in [Arrivals::Constant, Arrivals::Poisson] {
                run(process, p, 1_000.0, MS, 1, S);
            }
        }
    }

    #[test]
    fn serde_shapes() {
        let cases = [
            (r#"{"kind":"flat"}"#, Pattern::Flat {}),
            (r#"{"kind":"on_off","on_s":2.0,"off_s":8.0}"#, Pattern::OnOff { on_s: 2.0, off_s: 8.0, off_factor: 0.0, random: false }),
            (
                r#"{"kind":"ramp","duration_s":60,"from_factor":1,"to_factor":5}"#,
                Pattern::Ramp { start_s: 0.0, duration_s: 60.0, from_factor: 1.0, to_factor: 5.0 },
            ),
            (r#"{"kind":"step","at_s":30,"after_factor":3}"#, Pattern::Step { at_s: 30.0, before_factor: 1.0, after_factor: 3.0 }),
            (r#"{"kind":"sine","period_s":86400,"amplitude":0.5}"#, Pattern::Sine { period_s: 86_400.0, amplitude: 0.5, phase_s: 0.0 }),
        ];
        for (text, want) in cases {
            let got: Pattern = serde_json::from_str(text).unwrap();
            assert_eq!(got, want);
            let back = serde_json::to_string(&got).unwrap();
            assert_eq!(serde_json::from_str::<Pattern>(&back).unwrap(), want);
        }
        assert_eq!(Pattern::default(), Pattern::Flat {});
        let e = serde_json::from_str::<Pattern>(r#"{"kind":"step","at_s":1,"after_factor":2,"at":3}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `at`"), "{e}");
        let e = serde_json::from_str::<Pattern>(r#"{"kind":"flat","x":1}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `x`"), "{e}");
        let e = serde_json::from_str::<Pattern>(r#"{"kind":"burst"}"#).unwrap_err();
        assert!(e.to_string().contains("unknown variant `burst`"), "{e}");
    }
}
