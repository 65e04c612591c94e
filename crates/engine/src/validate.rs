//! Validation's vocabulary: the errors a scenario can have ([`FieldError`],
//! [`ScenarioError`]) and the one range checker every spec uses (`Check`).
//!
//! A leaf: it knows nothing of what it checks. Each spec (the scenario, its stages, links,
//! patterns, throttles, limiters) says which fields to check against which range; the
//! wording of the messages ("must be a number from 0 to 1 ms (got 2)") lives here alone.

use std::fmt;

/// One problem with one field.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    /// Dotted path, as `--set` takes it: `consumer.max_poll_records`, `stages.0.capacity`.
    pub field: String,
    /// What is allowed, and what was given.
    pub message: String,
}

/// Everything wrong with a scenario (never empty).
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioError {
    pub errors: Vec<FieldError>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", e.field, e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// `prefix.name`, or `name` alone under an empty prefix.
pub(crate) fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Appends field errors to a list: the range checks (inclusive bounds; a float must also be
/// finite) and free-form failures, all worded alike.
pub(crate) struct Check<'a> {
    errors: &'a mut Vec<FieldError>,
}

impl<'a> Check<'a> {
    pub fn new(errors: &'a mut Vec<FieldError>) -> Check<'a> {
        Check { errors }
    }

    pub fn fail(&mut self, field: &str, message: String) {
        self.errors.push(FieldError { field: field.to_string(), message });
    }

    /// `v` must be finite and within `[lo, hi]`; `unit` (possibly empty) follows the range.
    pub fn float(&mut self, field: &str, v: f64, (lo, hi): (f64, f64), unit: &str) {
        if !v.is_finite() || v < lo || v > hi {
            let unit = unit_suffix(unit);
            self.fail(field, format!("must be a number from {lo} to {hi}{unit} (got {v})"));
        }
    }

    /// `v` must be within `[lo, hi]`.
    pub fn int(&mut self, field: &str, v: u64, (lo, hi): (u64, u64), unit: &str) {
        if v < lo || v > hi {
            let unit = unit_suffix(unit);
            self.fail(field, format!("must be a whole number from {lo} to {hi}{unit} (got {v})"));
        }
    }
}

fn unit_suffix(unit: &str) -> String {
    if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_range_and_the_value() {
        let mut errors = Vec::new();
        let mut c = Check::new(&mut errors);
        c.float("a.b", f64::NAN, (0.0, 1.0), "");
        c.float("a.c", 0.5, (0.0, 1.0), "ms");
        c.int("a.d", 0, (1, 10), "calls");
        c.fail(&join("", "e"), "free".into());
        let text = ScenarioError { errors }.to_string();
        assert_eq!(text, "a.b: must be a number from 0 to 1 (got NaN); a.d: must be a whole number from 1 to 10 calls (got 0); e: free");
    }
}
