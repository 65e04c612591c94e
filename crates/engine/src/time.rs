//! Simulated time: integer nanoseconds since the start of a run.
//!
//! Integers keep event ordering exact and runs reproducible; 2^64 ns is about 584 years,
//! so overflow is not a concern for any run the validator accepts. Also here: conversions
//! between `u64` and `f64` that give exactly what `as` gives, in fewer instructions.

/// Simulated time or duration in nanoseconds.
pub type Nanos = u64;

/// Nanoseconds in one second.
pub const NS_PER_S: f64 = 1e9;

/// Seconds (finite, non-negative) to nanoseconds, rounded to the nearest nanosecond.
pub fn from_secs(s: f64) -> Nanos {
    if s.is_finite() && s > 0.0 {
        // Round half up; the cast is an instruction where `round()` is a libm call.
        (s * NS_PER_S + 0.5) as Nanos
    } else {
        0
    }
}

/// Milliseconds to nanoseconds.
pub fn from_millis(ms: f64) -> Nanos {
    from_secs(ms / 1e3)
}

/// Nanoseconds to seconds.
pub fn secs(ns: Nanos) -> f64 {
    ns as f64 / NS_PER_S
}

/// `x as f64`, through a signed conversion when `x` fits (one instruction on x86-64 instead
/// of an unsigned-conversion sequence; the result is the same).
///
/// The large case is a call LLVM cannot see through: written inline, LLVM folds both arms
/// back into one unsigned conversion (six instructions with SSE2).
#[inline(always)]
pub fn to_f64(x: u64) -> f64 {
    if x <= i64::MAX as u64 {
        x as i64 as f64
    } else {
        large_to_f64(x)
    }
}

#[cold]
#[inline(never)]
fn large_to_f64(x: u64) -> f64 {
    x as f64
}

/// `x as u64` (truncating, saturating, NaN to 0), through a signed conversion when `x` is in
/// `[0, 2^63)`: a few instructions instead of the unsigned sequence; the result is the same.
#[inline(always)]
pub fn to_u64(x: f64) -> u64 {
    if (0.0..9_223_372_036_854_775_808.0).contains(&x) {
        x as i64 as u64
    } else {
        other_to_u64(x)
    }
}

#[cold]
#[inline(never)]
fn other_to_u64(x: f64) -> u64 {
    x as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_conversions_match_as() {
        for x in [0u64, 1, 1 << 53, (1 << 53) + 1, i64::MAX as u64, 1 << 63, u64::MAX] {
            assert_eq!(to_f64(x).to_bits(), (x as f64).to_bits(), "{x}");
        }
        let big = 9_223_372_036_854_775_808.0;
        for x in [0.0, -0.0, 0.4, 0.5, 1.9, -1.0, 1e18, big, big * 1.5, 1e300, f64::INFINITY, -f64::INFINITY, f64::NAN] {
            assert_eq!(to_u64(x), x as u64, "{x}");
        }
    }
}
