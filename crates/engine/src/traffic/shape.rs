//! The arrival generator's geometry: a pattern compiled to integer nanoseconds, the
//! intensity's closed form on each piece of time ([`Shape`]: zero, constant, linear,
//! sine), its integral and the integral's inverse, and the pieces themselves.

use crate::scenario::pattern::{limits, Pattern};
use crate::time::{self, Nanos, NS_PER_S};

/// A pattern in integer nanoseconds, with every value forced into its [`limits`] range (so
/// an unvalidated pattern runs as the nearest valid one: no panic, no flood of tiny periods).
#[derive(Clone, Copy, Debug)]
pub(super) enum Compiled {
    Flat,
    OnOff {
        on_ns: Nanos,
        off_ns: Nanos,
        off_factor: f64,
        random: bool,
    },
    Ramp {
        start_ns: Nanos,
        end_ns: Nanos,
        from: f64,
        to: f64,
    },
    Step {
        at_ns: Nanos,
        before: f64,
        after: f64,
    },
    Sine {
        period_ns: Nanos,
        amplitude: f64,
        /// `phase_s` in ns, reduced into `0..period_ns`.
        phase_ns: Nanos,
    },
}

/// (Not `f64::clamp`: its `lo <= hi` assertion formats floats with `{:?}`, which costs the
/// page's download; see ARCHITECTURE.md.)
pub(super) fn clamp(v: f64, (lo, hi): (f64, f64)) -> f64 {
    if v.is_finite() {
        v.max(lo).min(hi)
    } else {
        lo
    }
}

/// Seconds forced into `range`, in ns (at least 1).
pub(super) fn ns_in(s: f64, range: (f64, f64)) -> Nanos {
    time::from_secs(clamp(s, range)).max(1)
}

impl Compiled {
    pub(super) fn new(p: &Pattern) -> Compiled {
        use limits::*;
        match *p {
            Pattern::Flat {} => Compiled::Flat,
            Pattern::OnOff { on_s, off_s, off_factor, random } => Compiled::OnOff {
                on_ns: ns_in(on_s, ON_OFF_S),
                off_ns: ns_in(off_s, ON_OFF_S),
                off_factor: clamp(off_factor, OFF_FACTOR),
                random,
            },
            Pattern::Ramp { start_s, duration_s, from_factor, to_factor } => {
                let start_ns = time::from_secs(clamp(start_s, AT_S));
                Compiled::Ramp {
                    start_ns,
                    end_ns: start_ns + ns_in(duration_s, RAMP_S),
                    from: clamp(from_factor, FACTOR),
                    to: clamp(to_factor, FACTOR),
                }
            }
            Pattern::Step { at_s, before_factor, after_factor } => Compiled::Step {
                at_ns: time::from_secs(clamp(at_s, AT_S)),
                before: clamp(before_factor, FACTOR),
                after: clamp(after_factor, FACTOR),
            },
            Pattern::Sine { period_s, amplitude, phase_s } => {
                let period_ns = ns_in(period_s, PERIOD_S);
                let phase = (clamp(phase_s, PHASE_S) * NS_PER_S).round() as i128;
                Compiled::Sine { period_ns, amplitude: clamp(amplitude, AMPLITUDE), phase_ns: phase.rem_euclid(period_ns as i128) as Nanos }
            }
        }
    }
}

/// The intensity on one piece, in arrivals per nanosecond, as a function of `x`, the
/// nanoseconds since the piece's start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Shape {
    /// Nothing arrives.
    Zero,
    /// `1 / gap_ns` (kept as the gap so that the flat constant process is bit-exact).
    Const { gap_ns: f64 },
    /// `a + s·x` (non-negative over the piece).
    Linear { a: f64, s: f64 },
    /// `a · (1 + amp · sin(theta0 + omega·x))`.
    Sine { a: f64, amp: f64, omega: f64, theta0: f64 },
}

// The trigonometry lives in functions that are never inlined: inlined, LLVM may evaluate
// `sin`/`cos` speculatively for every shape (they are pure), on whatever the other variants'
// fields hold, and glibc's slow path for huge arguments then dominates flat traffic.
#[inline(never)]
pub(super) fn sine_rate(a: f64, amp: f64, omega: f64, theta0: f64, x: f64) -> f64 {
    a * (1.0 + amp * (theta0 + omega * x).sin())
}

#[inline(never)]
pub(super) fn sine_integral(a: f64, amp: f64, omega: f64, theta0: f64, x: f64) -> f64 {
    a * (x + amp / omega * (theta0.cos() - (theta0 + omega * x).cos()))
}

impl Shape {
    pub(super) fn constant(rate_per_s: f64) -> Shape {
        if rate_per_s > 0.0 && rate_per_s.is_finite() {
            Shape::Const { gap_ns: NS_PER_S / rate_per_s }
        } else {
            Shape::Zero
        }
    }

    /// Intensity at `x`, per ns.
    pub(super) fn rate(&self, x: f64) -> f64 {
        match *self {
            Shape::Zero => 0.0,
            Shape::Const { gap_ns } => 1.0 / gap_ns,
            Shape::Linear { a, s } => (a + s * x).max(0.0),
            Shape::Sine { a, amp, omega, theta0 } => sine_rate(a, amp, omega, theta0, x),
        }
    }

    /// Expected arrivals over `[0, x]`.
    pub(super) fn integral(&self, x: f64) -> f64 {
        match *self {
            Shape::Zero => 0.0,
            Shape::Const { gap_ns } => x / gap_ns,
            Shape::Linear { a, s } => a * x + 0.5 * s * x * x,
            Shape::Sine { a, amp, omega, theta0 } => sine_integral(a, amp, omega, theta0, x),
        }
    }

    /// The `x` in `[0, len]` where the integral reaches `y` (`0 ≤ y ≤ integral(len)`).
    pub(super) fn inverse(&self, y: f64, len: f64) -> f64 {
        if y <= 0.0 {
            return 0.0;
        }
        let x = match *self {
            Shape::Zero => len,
            Shape::Const { gap_ns } => y * gap_ns,
            Shape::Linear { a, s } => {
                let den = a + (a * a + 2.0 * s * y).max(0.0).sqrt();
                if den > 0.0 {
                    2.0 * y / den
                } else {
                    len
                }
            }
            Shape::Sine { a, .. } => self.newton(y, len, y / a),
        };
        x.min(len)
    }

    /// Safeguarded Newton on `integral(x) = y` within `[0, len]`, to about a picosecond.
    pub(super) fn newton(&self, y: f64, len: f64, guess: f64) -> f64 {
        let (mut lo, mut hi) = (0.0, len);
        let mut x = if guess.is_finite() { guess.max(lo).min(hi) } else { 0.5 * (lo + hi) };
        for _ in 0..200 {
            let f = self.integral(x) - y;
            if f == 0.0 {
                break;
            }
            if f > 0.0 {
                hi = x;
            } else {
                lo = x;
            }
            if hi - lo <= 1e-3 {
                break;
            }
            let step = x - f / self.rate(x);
            let next = if step > lo && step < hi { step } else { 0.5 * (lo + hi) };
            let done = (next - x).abs() <= 1e-3;
            x = next;
            if done {
                break;
            }
        }
        x
    }
}

/// A stretch `[start, end)` of time on which the intensity has one [`Shape`]
/// (`end == Nanos::MAX`: it never ends).
#[derive(Clone, Copy, Debug)]
pub(super) struct Piece {
    pub(super) start: Nanos,
    pub(super) end: Nanos,
    pub(super) shape: Shape,
    /// The pattern's factor at `start`.
    pub(super) factor: f64,
}

impl Piece {
    pub(super) fn open(&self) -> bool {
        self.end == Nanos::MAX
    }

    pub(super) fn len(&self) -> f64 {
        if self.open() {
            f64::INFINITY
        } else {
            (self.end - self.start) as f64
        }
    }

    /// Expected arrivals over the whole piece.
    pub(super) fn total(&self) -> f64 {
        match self.shape {
            Shape::Zero => 0.0,
            _ if self.open() => f64::INFINITY,
            _ => self.shape.integral(self.len()),
        }
    }

    /// Whether cumulative intensity `y` (from `start`) is reached within this piece.
    pub(super) fn holds(&self, y: f64) -> bool {
        self.shape != Shape::Zero && y <= self.total()
    }

    /// The rounded time at which cumulative intensity `y` (from `start`) is reached.
    pub(super) fn time_of(&self, y: f64) -> Nanos {
        // Round half up without a libm call (x ≥ 0; the cast saturates at infinity).
        let x = (self.shape.inverse(y, self.len()) + 0.5) as Nanos;
        self.start.saturating_add(x).min(self.end)
    }
}
