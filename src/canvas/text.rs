//! Text that fits: labels are measured, then the longest variant that fits its room is
//! drawn, or the last one shortened with an ellipsis, or nothing. Never squeezed. Widths
//! measured are kept across frames ([`WidthCache`]).
//!
//! Pure Rust: the measuring is behind [`Measure`], so the choice is tested natively with an
//! approximate measure and done in the browser with the canvas's `measureText`.

/// Measures text at a size in CSS pixels.
pub trait Measure {
    fn width(&mut self, text: &str, px: f64, bold: bool) -> f64;
}

/// A font: size in CSS pixels and weight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Font {
    pub px: f64,
    pub bold: bool,
}

impl Font {
    pub const fn new(px: f64, bold: bool) -> Font {
        Font { px, bold }
    }

    /// The CSS font shorthand the canvas takes.
    pub fn css(&self) -> String {
        format!("{}{}px system-ui, -apple-system, \"Segoe UI\", Roboto, sans-serif", if self.bold { "600 " } else { "" }, self.px)
    }
}

/// Titles of boxes.
pub const TITLE: Font = Font::new(13.0, true);
/// Key figures.
pub const VALUE: Font = Font::new(12.5, true);
/// Ordinary labels.
pub const LABEL: Font = Font::new(12.0, false);
/// Secondary labels; the smallest text drawn.
pub const SMALL: Font = Font::new(11.0, false);

/// A rough measure for tests (and a fallback): system-ui averages about 0.55 em a glyph,
/// a little more in bold.
pub struct Approx;

impl Measure for Approx {
    fn width(&mut self, text: &str, px: f64, bold: bool) -> f64 {
        let per = if bold { 0.6 } else { 0.55 };
        text.chars().count() as f64 * px * per
    }
}

/// The first of `options` (longest first) that fits in `max_w`; else the last one cut
/// short with an ellipsis, keeping at least `min_chars` of it; else `None` (draw nothing).
/// A figure is never cut: a last option with digits in it is drawn whole or not at all.
/// (`dyn`: both diagrams' pens share one copy.)
pub fn fit(m: &mut dyn Measure, options: &[&str], font: Font, max_w: f64, min_chars: usize) -> Option<String> {
    if max_w <= 0.0 {
        return None;
    }
    for o in options {
        if !o.is_empty() && m.width(o, font.px, font.bold) <= max_w {
            return Some((*o).to_string());
        }
    }
    let last = options.iter().rev().find(|o| !o.is_empty())?;
    if last.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    ellipsize(m, last, font, max_w, min_chars)
}

/// `text` cut to fit `max_w` with a trailing ellipsis, keeping at least `min_chars`.
pub fn ellipsize(m: &mut dyn Measure, text: &str, font: Font, max_w: f64, min_chars: usize) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    if m.width(text, font.px, font.bold) <= max_w {
        return Some(text.to_string());
    }
    // Binary search on the number of characters kept.
    let (mut lo, mut hi) = (0usize, chars.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let s: String = chars[..mid].iter().collect::<String>().trim_end().to_string() + "…";
        if m.width(&s, font.px, font.bold) <= max_w {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    if lo < min_chars.max(1) {
        return None;
    }
    Some(chars[..lo].iter().collect::<String>().trim_end().to_string() + "…")
}

/// Measured widths, kept across frames (labels repeat), for the diagram and the sequence
/// diagram. Cleared when it grows large. A sorted `Vec` searched by halves: as quick as a
/// hash map for a few hundred labels, and smaller in the download.
#[derive(Default)]
pub struct WidthCache {
    entries: Vec<(String, f64)>,
}

impl WidthCache {
    pub fn key(s: &str, font: Font) -> String {
        format!("{}{}{s}", font.px, if font.bold { "b" } else { "n" })
    }

    pub fn get(&self, key: &str) -> Option<f64> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok().map(|i| self.entries[i].1)
    }

    pub fn put(&mut self, key: String, w: f64) {
        if self.entries.len() > 4_000 {
            self.entries.clear();
        }
        if let Err(i) = self.entries.binary_search_by(|(k, _)| k.as_str().cmp(&key)) {
            self.entries.insert(i, (key, w));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_option_that_fits_wins() {
        let mut m = Approx;
        let f = Font::new(10.0, false); // 5.5 px a glyph
        let opts = ["fetched, uncommitted", "fetched", "f."];
        assert_eq!(fit(&mut m, &opts, f, 200.0, 1).unwrap(), "fetched, uncommitted");
        assert_eq!(fit(&mut m, &opts, f, 60.0, 1).unwrap(), "fetched");
        assert_eq!(fit(&mut m, &opts, f, 12.0, 1).unwrap(), "f.");
        assert_eq!(fit(&mut m, &opts, f, 5.0, 1), None);
        // Figures are drawn whole or not at all: "1…" would be a lie.
        assert_eq!(fit(&mut m, &["credits 177", "177"], f, 12.0, 1), None);
        assert_eq!(fit(&mut m, &["credits 177", "177"], f, 20.0, 1).unwrap(), "177");
    }

    #[test]
    fn ellipsis_keeps_what_fits_and_never_overflows() {
        let mut m = Approx;
        let f = Font::new(10.0, false);
        let s = ellipsize(&mut m, "Consumer · async hand-off", f, 70.0, 3).unwrap();
        assert!(s.ends_with('…'), "{s}");
        assert!(m.width(&s, 10.0, false) <= 70.0);
        assert_eq!(ellipsize(&mut m, "Consumer", f, 12.0, 3), None, "fewer than 3 chars: nothing");
        assert_eq!(ellipsize(&mut m, "ok", f, 100.0, 3).unwrap(), "ok");
    }

    #[test]
    fn the_width_cache_finds_each_label_in_its_font() {
        let mut c = WidthCache::default();
        let bold = Font::new(12.0, true);
        for (i, s) in ["delta", "alpha", "charlie", "bravo"].into_iter().enumerate() {
            c.put(WidthCache::key(s, LABEL), i as f64);
        }
        c.put(WidthCache::key("alpha", bold), 9.0);
        assert_eq!(c.get(&WidthCache::key("alpha", LABEL)), Some(1.0));
        assert_eq!(c.get(&WidthCache::key("delta", LABEL)), Some(0.0));
        assert_eq!(c.get(&WidthCache::key("alpha", bold)), Some(9.0));
        assert_eq!(c.get(&WidthCache::key("echo", LABEL)), None);
    }
}
