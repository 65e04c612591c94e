//! Geometry on a canvas, in CSS pixels: rectangles, points, walking along a polyline, and
//! finding labels drawn over one another. Pure, tested natively.

/// A rectangle: top-left corner, width and height.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub const fn new(x: f64, y: f64, w: f64, h: f64) -> Rect {
        Rect { x, y, w, h }
    }
    pub fn right(&self) -> f64 {
        self.x + self.w
    }
    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }
    pub fn mid_x(&self) -> f64 {
        self.x + self.w / 2.0
    }
    pub fn mid_y(&self) -> f64 {
        self.y + self.h / 2.0
    }
    pub fn inset(&self, dx: f64, dy: f64) -> Rect {
        Rect::new(self.x + dx, self.y + dy, (self.w - 2.0 * dx).max(0.0), (self.h - 2.0 * dy).max(0.0))
    }
}

/// A point.
pub type P = (f64, f64);

/// Pairs of labels whose boxes overlap (by more than a pixel: neighbouring rows may touch).
pub fn overlapping(labels: &[(Rect, String)]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, (a, sa)) in labels.iter().enumerate() {
        for (b, sb) in &labels[i + 1..] {
            if a.x + 1.0 < b.right() && b.x + 1.0 < a.right() && a.y + 1.0 < b.bottom() && b.y + 1.0 < a.bottom() {
                out.push((sa.clone(), sb.clone()));
            }
        }
    }
    out
}

/// Point at fraction `f` of the polyline `pts` (by length).
pub fn along(pts: &[P], f: f64) -> (P, P) {
    if pts.len() < 2 {
        let p = pts.first().copied().unwrap_or((0.0, 0.0));
        return (p, (1.0, 0.0));
    }
    let seg_len = |a: P, b: P| ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
    let total: f64 = pts.windows(2).map(|w| seg_len(w[0], w[1])).sum();
    let mut left = total * f.clamp(0.0, 1.0);
    for w in pts.windows(2) {
        let l = seg_len(w[0], w[1]);
        if left <= l || l == 0.0 {
            let t = if l > 0.0 { left / l } else { 0.0 };
            return ((w[0].0 + (w[1].0 - w[0].0) * t, w[0].1 + (w[1].1 - w[0].1) * t), (w[1].0 - w[0].0, w[1].1 - w[0].1));
        }
        left -= l;
    }
    let n = pts.len();
    (pts[n - 1], (pts[n - 1].0 - pts[n - 2].0, pts[n - 1].1 - pts[n - 2].1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_labels_are_found_and_touching_rows_are_not() {
        let l = |x, y, s: &str| (Rect::new(x, y, 40.0, 12.0), s.to_string());
        let labels = [l(0.0, 0.0, "a"), l(0.0, 12.0, "b"), l(30.0, 5.0, "c"), l(100.0, 0.0, "d")];
        assert_eq!(overlapping(&labels), vec![("a".into(), "c".into()), ("b".into(), "c".into())]);
    }

    #[test]
    fn along_walks_a_polyline_by_length() {
        let pts = [(0.0, 0.0), (10.0, 0.0), (10.0, 30.0)];
        assert_eq!(along(&pts, 0.0).0, (0.0, 0.0));
        assert_eq!(along(&pts, 0.25).0, (10.0, 0.0));
        assert_eq!(along(&pts, 0.5).0, (10.0, 10.0));
        assert_eq!(along(&pts, 1.0).0, (10.0, 30.0));
    }

    #[test]
    fn rectangles_know_their_edges_and_insets() {
        let r = Rect::new(10.0, 20.0, 30.0, 40.0);
        assert_eq!((r.right(), r.bottom(), r.mid_x(), r.mid_y()), (40.0, 60.0, 25.0, 40.0));
        assert_eq!(r.inset(5.0, 30.0), Rect::new(15.0, 50.0, 20.0, 0.0));
    }
}
