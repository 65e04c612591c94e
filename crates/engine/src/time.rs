//! Simulated time: integer nanoseconds since the start of a run.
//!
//! Integers keep event ordering exact and runs reproducible; 2^64 ns is about 584 years,
//! so overflow is not a concern for any run the validator accepts.

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
