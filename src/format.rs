//! Numbers as people read them: 1.2 M msg, 448 MiB, 48.3 s.

/// Counts with SI suffixes: 950, 12.3 k, 4.50 M.
pub fn count(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let a = v.abs();
    let (x, suffix) = if a >= 1e12 {
        (v / 1e12, " T")
    } else if a >= 1e9 {
        (v / 1e9, " G")
    } else if a >= 1e6 {
        (v / 1e6, " M")
    } else if a >= 1e4 {
        (v / 1e3, " k")
    } else {
        return format!("{}", v.round() as i64);
    };
    format!("{}{suffix}", three_digits(x))
}

fn three_digits(x: f64) -> String {
    let a = x.abs();
    if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// Bytes in binary units: 512 B, 64.0 MiB, 1.50 GiB.
pub fn bytes(v: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = v;
    let mut u = 0;
    while x.abs() >= 1024.0 && u < UNITS.len() - 1 {
        x /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{} B", x.round() as i64)
    } else {
        format!("{} {}", three_digits(x), UNITS[u])
    }
}

/// Durations: 850 µs, 12.0 ms, 48.3 s, 12 min 5 s, 2 h 3 min.
pub fn secs(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let a = v.abs();
    if a == 0.0 {
        "0 s".into()
    } else if a < 1e-3 {
        format!("{:.0} µs", v * 1e6)
    } else if a < 1.0 {
        format!("{} ms", three_digits(v * 1e3))
    } else if a < 120.0 {
        format!("{} s", three_digits(v))
    } else if a < 7_200.0 {
        format!("{} min {} s", (v / 60.0).floor(), (v % 60.0).floor())
    } else {
        format!("{} h {} min", (v / 3600.0).floor(), ((v % 3600.0) / 60.0).floor())
    }
}

/// A moment of a run, or a span of simulated time, in the one shape the narration uses:
/// seconds with a tenth below a minute (0.5 s, 48.3 s), then minutes and whole seconds
/// (1 min 32 s, 14 min 49 s), then hours too (3 h 5 min 0 s): never "92.4 s" beside
/// "2 min 15 s".
pub fn moment(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let a = v.abs();
    if a < 59.95 {
        return format!("{v:.1} s");
    }
    let whole = a.round() as u64;
    let sign = if v < 0.0 { "-" } else { "" };
    let (h, m, s) = (whole / 3600, whole % 3600 / 60, whole % 60);
    if h > 0 {
        format!("{sign}{h} h {m} min {s} s")
    } else {
        format!("{sign}{m} min {s} s")
    }
}

/// A knob's value as typed into its number box: integers plainly, others with at most
/// four significant digits and no trailing zeros.
pub fn plain(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let digits = (4 - v.abs().log10().floor() as i32 - 1).clamp(0, 9) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Reads a number as `str::parse::<f64>` does: the same grammar (an optional sign, then
/// digits with an optional point and exponent, or `inf`, `infinity`, `nan` in any case) and
/// the same value. On wasm the browser's `parseFloat`, correctly rounded like Rust's, reads
/// the checked text: Rust's float parser would add some 14 KB (gzip) of code and tables
/// to the download.
pub fn parse_number(text: &str) -> Option<f64> {
    #[cfg(target_arch = "wasm32")]
    {
        let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
        let special = if unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity") {
            f64::INFINITY
        } else if unsigned.eq_ignore_ascii_case("nan") {
            f64::NAN
        } else {
            return decimal_syntax(unsigned).then(|| js_sys::parse_float(text));
        };
        Some(if text.starts_with('-') { -special } else { special })
    }
    #[cfg(not(target_arch = "wasm32"))]
    text.parse().ok()
}

/// The shortest text that reads back as `x` (finite): on wasm the browser's
/// `Number.prototype.toString` (`1e-7`, `1e+21`), which costs the download nothing; Rust's
/// shortest float formatting would add some 5 KB (gzip).
pub fn show_number(x: f64) -> String {
    #[cfg(target_arch = "wasm32")]
    return js_sys::Number::from(x).to_string_with_radix(10).map(String::from).unwrap_or_default();
    #[cfg(not(target_arch = "wasm32"))]
    format!("{x}")
}

/// How a link's numbers are read and written in the page (`bplab_engine::experiment`).
pub const LINK_NUMBERS: bplab_engine::experiment::Numbers = bplab_engine::experiment::Numbers { parse: parse_number, show: show_number };

/// `digits [. digits] [(e|E) [+|-] digits]` with a digit on at least one side of the point.
#[cfg(target_arch = "wasm32")]
fn decimal_syntax(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let mut mantissa = digits(&mut i);
    if b.get(i) == Some(&b'.') {
        i += 1;
        mantissa += digits(&mut i);
    }
    if mantissa == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Axis tick labels: one SI prefix for the whole axis (chosen from its largest value) and
/// no trailing zeros, so an axis reads "0, 25 k, 50 k, 75 k, 100 k" rather than mixing
/// "50.0 k" and "100 k".
#[derive(Clone, Copy, Debug)]
pub struct Ticks {
    div: f64,
    suffix: &'static str,
}

impl Ticks {
    pub fn for_max(max: f64) -> Ticks {
        let a = max.abs();
        let (div, suffix) = if a >= 1e12 {
            (1e12, " T")
        } else if a >= 1e9 {
            (1e9, " G")
        } else if a >= 1e6 {
            (1e6, " M")
        } else if a >= 1e4 {
            (1e3, " k")
        } else {
            (1.0, "")
        };
        Ticks { div, suffix }
    }

    pub fn label(&self, v: f64) -> String {
        if v == 0.0 || !v.is_finite() {
            return "0".into();
        }
        let x = v / self.div;
        // Enough decimals for the value itself (at most 3), then trimmed.
        let s = format!("{x:.3}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        format!("{s}{}", self.suffix)
    }
}

/// Durations for an axis tick: at most three significant digits, no trailing zeros:
/// 100 µs, 1 ms, 10 ms, 1 s, 2.5 min.
pub fn secs_tick(v: f64) -> String {
    let t = Ticks { div: 1.0, suffix: "" };
    let a = v.abs();
    if a == 0.0 || !v.is_finite() {
        "0 s".into()
    } else if a < 1e-3 {
        format!("{} µs", t.label(round3(v * 1e6)))
    } else if a < 1.0 {
        format!("{} ms", t.label(round3(v * 1e3)))
    } else if a < 120.0 {
        format!("{} s", t.label(round3(v)))
    } else if a < 7_200.0 {
        format!("{} min", t.label(round3(v / 60.0)))
    } else {
        format!("{} h", t.label(round3(v / 3_600.0)))
    }
}

fn round3(x: f64) -> f64 {
    let scale = 10f64.powi(2 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

/// Percentages for an axis: 0 %, 25 %, 100 %.
pub fn percent(v: f64) -> String {
    format!("{} %", Ticks { div: 1.0, suffix: "" }.label(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_read_naturally() {
        assert_eq!(count(950.0), "950");
        assert_eq!(count(12_345.0), "12.3 k");
        assert_eq!(count(4_500_000.0), "4.50 M");
        assert_eq!(bytes(536_870_912.0), "512 MiB");
        assert_eq!(bytes(1_024.0), "1.00 KiB");
        assert_eq!(bytes(100.0), "100 B");
        assert_eq!(secs(48.2911), "48.3 s");
        assert_eq!(secs(0.0123), "12.3 ms");
        assert_eq!(secs(725.0), "12 min 5 s");
        assert_eq!(secs(7_380.0), "2 h 3 min");
        assert_eq!(moment(0.5), "0.5 s");
        assert_eq!(moment(48.29), "48.3 s");
        assert_eq!(moment(59.96), "1 min 0 s");
        assert_eq!(moment(92.4), "1 min 32 s");
        assert_eq!(moment(889.0), "14 min 49 s");
        assert_eq!(moment(11_100.0), "3 h 5 min 0 s");
        assert_eq!(plain(10_000.0), "10000");
        assert_eq!(plain(0.12345), "0.1235");
        assert_eq!(plain(2.5), "2.5");
    }

    #[test]
    fn axis_ticks_share_one_prefix_and_drop_trailing_zeros() {
        let t = Ticks::for_max(108_000.0);
        let labels: Vec<String> = [0.0, 25_000.0, 50_000.0, 100_000.0].iter().map(|v| t.label(*v)).collect();
        assert_eq!(labels, ["0", "25 k", "50 k", "100 k"]);
        assert_eq!(Ticks::for_max(15_000.0).label(2_500.0), "2.5 k");
        assert_eq!(Ticks::for_max(900.0).label(450.0), "450");
        assert_eq!(Ticks::for_max(1.0).label(0.25), "0.25");
        assert_eq!(Ticks::for_max(3e6).label(500_000.0), "0.5 M");
        assert_eq!(percent(50.0), "50 %");
        assert_eq!(secs_tick(10f64.powf(-1.0)), "100 ms");
        assert_eq!(secs_tick(1.0), "1 s");
        assert_eq!(secs_tick(10.0), "10 s");
        assert_eq!(secs_tick(1e-4), "100 µs");
        assert_eq!(secs_tick(1_000.0), "16.7 min");
    }
}
