//! Frame timings for the performance bench: the animation loop records, per frame, the
//! wall time since the previous frame, the engine's time, the charts' and the diagram's;
//! every [`PUBLISH_EVERY`] frames they are published as `window.__bplab_stats`
//! (`scripts/bench-page.mjs` reads it). The ring and the percentiles are pure.

/// Frames kept (about 17 s at 60 frames per second).
pub const KEEP: usize = 1_024;
/// Frames between two publications to `window.__bplab_stats`.
pub const PUBLISH_EVERY: u64 = 30;

/// One frame's timings, milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sample {
    pub frame_ms: f64,
    pub engine_ms: f64,
    pub charts_ms: f64,
    pub diagram_ms: f64,
    /// Charts redrawn in this frame.
    pub charts: u32,
    pub events: u64,
}

#[derive(Default)]
pub struct Stats {
    ring: Vec<Sample>,
    next: usize,
    pub frames: u64,
}

/// The `p`-th percentile (0–100) of `v` by nearest rank; 0 when empty.
pub fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    v[rank.min(v.len()) - 1]
}

impl Stats {
    pub fn record(&mut self, s: Sample) {
        if self.ring.len() < KEEP {
            self.ring.push(s);
        } else {
            self.ring[self.next] = s;
        }
        self.next = (self.next + 1) % KEEP;
        self.frames += 1;
    }

    /// Samples held, oldest first.
    pub fn samples(&self) -> Vec<Sample> {
        if self.ring.len() < KEEP {
            self.ring.clone()
        } else {
            self.ring[self.next..].iter().chain(&self.ring[..self.next]).copied().collect()
        }
    }

    pub fn clear(&mut self) {
        *self = Stats::default();
    }

    /// Publishes the samples as `window.__bplab_stats`: `{frames, frame_ms: [...],
    /// engine_ms: [...], charts_ms: [...], diagram_ms: [...], charts: [...], events: [...]}`.
    pub fn publish(&self) {
        use js_sys::{Array, Object, Reflect};
        use wasm_bindgen::JsValue;
        let Some(window) = web_sys::window() else { return };
        let obj = Object::new();
        let samples = self.samples();
        let column = |f: &dyn Fn(&Sample) -> f64| -> JsValue { samples.iter().map(|s| JsValue::from_f64(f(s))).collect::<Array>().into() };
        let _ = Reflect::set(&obj, &"frames".into(), &JsValue::from_f64(self.frames as f64));
        let _ = Reflect::set(&obj, &"frame_ms".into(), &column(&|s| s.frame_ms));
        let _ = Reflect::set(&obj, &"engine_ms".into(), &column(&|s| s.engine_ms));
        let _ = Reflect::set(&obj, &"charts_ms".into(), &column(&|s| s.charts_ms));
        let _ = Reflect::set(&obj, &"diagram_ms".into(), &column(&|s| s.diagram_ms));
        let _ = Reflect::set(&obj, &"charts".into(), &column(&|s| s.charts as f64));
        let _ = Reflect::set(&obj, &"events".into(), &column(&|s| s.events as f64));
        let _ = Reflect::set(&window, &"__bplab_stats".into(), &obj);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_frames_in_order_and_reads_percentiles() {
        let mut s = Stats::default();
        for i in 0..(KEEP + 10) {
            s.record(Sample { frame_ms: i as f64, ..Sample::default() });
        }
        let v = s.samples();
        assert_eq!(v.len(), KEEP);
        assert_eq!(v[0].frame_ms, 10.0);
        assert_eq!(v[KEEP - 1].frame_ms, (KEEP + 9) as f64);
        let mut xs: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&mut xs, 50.0), 50.0);
        assert_eq!(percentile(&mut xs, 95.0), 95.0);
        assert_eq!(percentile(&mut [], 95.0), 0.0);
    }
}
