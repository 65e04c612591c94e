//! The frame policy of both animation loops (the simulator's in `stage`, the comparison's
//! in `compare`): how many events the engine may handle in a frame ([`Budget`]) and which
//! charts are redrawn ([`Rota`]). Pure, tested natively.
//!
//! One policy for both views. A frame at 60 Hz lasts 16.7 ms, and the engine shares it
//! with the diagrams (one per lane in the comparison), a chart and the DOM updates, so the
//! engine gets 3–4 ms. The budget is cut quickly (×2/3) when a frame overruns and grows
//! slowly (×5/4) when there is room and the run is behind: a stutter costs more than a run
//! that catches up a few frames later. Its floor is low (2,000 events) so that a slow
//! device still keeps its frame rate: at 2 µs an event, 2,000 events take 4 ms, where a
//! floor of 10,000 would hold it at 20 ms a frame. The comparison's lanes share one
//! budget (`Lanes::frame` caps their common target by it), so the same numbers fit.
//! Charts are the most expensive drawing (plotters redraws a whole chart), so at most one
//! is redrawn a frame, each at most every 0.3 s while on screen and every 3 s while
//! scrolled away: no frame pays for every chart at once.

/// Events the first frame may handle.
pub const START_BUDGET: u64 = 200_000;
/// The fewest events a frame may handle.
pub const MIN_BUDGET: u64 = 2_000;
/// The most events a frame may handle.
pub const MAX_BUDGET: u64 = 5_000_000;
/// Engine time (seconds) over which a frame's budget shrinks.
pub const ENGINE_HIGH_S: f64 = 0.004;
/// Engine time (seconds) under which the budget grows, when the run is behind.
pub const ENGINE_LOW_S: f64 = 0.003;

/// A replay (after a seek or a change) may handle this many times a frame's budget: the
/// person is waiting for it, and nothing new is animated meanwhile (3–4 ms of engine become
/// 12–16 ms; frames still come at 30–60 Hz, so the progress and Cancel stay live).
pub const REPLAY_SHARE: u64 = 4;

/// Charts redrawn in one frame at most.
pub const CHARTS_PER_FRAME: usize = 1;
/// Wall seconds between two redraws of the same chart at least.
pub const CHART_EVERY_S: f64 = 0.3;
/// A chart scrolled out of view is redrawn this rarely (kept nearly fresh for a full-page
/// screenshot or a quick scroll; drawn at once when it comes back into view).
pub const OFFSCREEN_CHART_EVERY_S: f64 = 3.0;
/// Wall seconds between two refreshes of the tables (observability, comparison summary).
pub const TABLES_EVERY_S: f64 = 0.25;

/// Events one frame may handle, adapted so that the engine takes 3–4 ms a frame when a run
/// cannot keep up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    events: u64,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget { events: START_BUDGET }
    }
}

impl Budget {
    pub fn events(self) -> u64 {
        self.events
    }

    /// After a frame whose engine took `engine_s` wall seconds; `behind`: the run did not
    /// reach the time it aimed at (its budget ran out).
    pub fn adapt(&mut self, engine_s: f64, behind: bool) {
        if engine_s > ENGINE_HIGH_S {
            self.events = (self.events * 2 / 3).max(MIN_BUDGET);
        } else if engine_s < ENGINE_LOW_S && behind {
            self.events = (self.events + self.events / 4).min(MAX_BUDGET);
        }
    }
}

/// What a chart showed when last drawn.
#[derive(Clone, Copy, Debug)]
struct Drawn {
    /// Simulated time drawn (NaN: never, or must be redrawn).
    t: f64,
    /// Wall time of the draw.
    at: f64,
}

const UNDRAWN: Drawn = Drawn { t: f64::NAN, at: f64::NEG_INFINITY };

/// Which charts to redraw, round robin: a chart is due when its data moved since it was
/// drawn and it was not drawn lately; the search starts after the last one drawn.
#[derive(Clone, Debug, Default)]
pub struct Rota {
    drawn: Vec<Drawn>,
    cursor: usize,
}

impl Rota {
    /// A rota of `n` charts, every one due.
    pub fn new(n: usize) -> Rota {
        Rota { drawn: vec![UNDRAWN; n], cursor: 0 }
    }

    pub fn len(&self) -> usize {
        self.drawn.len()
    }

    pub fn is_empty(&self) -> bool {
        self.drawn.is_empty()
    }

    /// Every chart due again (a new scenario, window, theme or size).
    pub fn invalidate(&mut self) {
        self.drawn.fill(UNDRAWN);
    }

    /// The charts to redraw at wall time `now`, at most [`CHARTS_PER_FRAME`], in rota
    /// order, each with what `ready` gave for it. `state(i)` tells chart `i`'s simulated
    /// time and whether it is on screen; `ready(i)`, asked only of charts otherwise due,
    /// gives what drawing it needs (its canvas), or `None` to pass it over this frame.
    pub fn due<R>(&self, now: f64, state: impl Fn(usize) -> (f64, bool), mut ready: impl FnMut(usize) -> Option<R>) -> Vec<(usize, R)> {
        let n = self.drawn.len();
        (0..n)
            .map(|k| (self.cursor + k) % n)
            .filter(|&i| {
                let (t, on_screen) = state(i);
                let every = if on_screen { CHART_EVERY_S } else { OFFSCREEN_CHART_EVERY_S };
                let d = self.drawn[i];
                d.t != t && now - d.at >= every
            })
            .filter_map(|i| Some((i, ready(i)?)))
            .take(CHARTS_PER_FRAME)
            .collect()
    }

    /// Chart `i` was drawn at wall time `now`, showing simulated time `t`; the next search
    /// starts after it.
    pub fn drawn(&mut self, i: usize, t: f64, now: f64) {
        if let Some(d) = self.drawn.get_mut(i) {
            *d = Drawn { t, at: now };
            self.cursor = (i + 1) % self.drawn.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_shrinks_fast_on_a_slow_frame_and_grows_slowly_when_behind() {
        let mut b = Budget::default();
        assert_eq!(b.events(), START_BUDGET);
        b.adapt(0.010, false);
        assert_eq!(b.events(), START_BUDGET * 2 / 3);
        let after_cut = b.events();
        // Room, but not behind: no reason to grow.
        b.adapt(0.001, false);
        assert_eq!(b.events(), after_cut);
        // In the band: kept.
        b.adapt(0.0035, true);
        assert_eq!(b.events(), after_cut);
        b.adapt(0.001, true);
        assert_eq!(b.events(), after_cut + after_cut / 4);
    }

    #[test]
    fn the_budget_stays_between_its_floor_and_its_ceiling() {
        let mut b = Budget::default();
        for _ in 0..100 {
            b.adapt(1.0, true);
        }
        assert_eq!(b.events(), MIN_BUDGET);
        for _ in 0..200 {
            b.adapt(0.0, true);
        }
        assert_eq!(b.events(), MAX_BUDGET);
    }

    /// The indices `due` gives when every chart can be drawn.
    fn due(r: &Rota, now: f64, state: impl Fn(usize) -> (f64, bool)) -> Vec<usize> {
        r.due(now, state, Some).into_iter().map(|(i, _)| i).collect()
    }

    #[test]
    fn the_rota_draws_one_chart_a_frame_in_turn() {
        let mut r = Rota::new(3);
        let state = |_| (1.0, true);
        assert_eq!(due(&r, 0.0, state), vec![0]);
        r.drawn(0, 1.0, 0.0);
        assert_eq!(due(&r, 0.0, state), vec![1]);
        r.drawn(1, 1.0, 0.0);
        assert_eq!(due(&r, 0.0, state), vec![2]);
        r.drawn(2, 1.0, 0.0);
        // Nothing moved: nothing due, however long it waits.
        assert!(due(&r, 10.0, state).is_empty());
        // The data moved: due again, from after the last one drawn, once CHART_EVERY_S passed.
        let moved = |_| (2.0, true);
        assert!(due(&r, CHART_EVERY_S / 2.0, moved).is_empty());
        assert_eq!(due(&r, CHART_EVERY_S, moved), vec![0]);
    }

    #[test]
    fn charts_off_screen_wait_longer_and_charts_without_a_canvas_are_skipped() {
        let mut r = Rota::new(3);
        for i in 0..3 {
            r.drawn(i, 1.0, 0.0);
        }
        let state = |i| (2.0, i != 1);
        // Chart 0 has no canvas: passed over, and asked again next frame.
        let ready = |i: usize| (i != 0).then_some(i * 10);
        assert_eq!(r.due(1.0, state, ready), vec![(2, 20)]);
        r.drawn(2, 2.0, 1.0);
        assert!(r.due(1.0, state, ready).is_empty());
        assert_eq!(r.due(OFFSCREEN_CHART_EVERY_S, state, ready), vec![(1, 10)]);
        assert_eq!(due(&r, OFFSCREEN_CHART_EVERY_S, state), vec![0]);
    }

    #[test]
    fn invalidating_makes_every_chart_due_at_once() {
        let mut r = Rota::new(2);
        r.drawn(0, 5.0, 0.0);
        r.drawn(1, 5.0, 0.0);
        r.invalidate();
        assert_eq!(due(&r, 0.0, |_| (5.0, true)), vec![0]);
        assert!(due(&Rota::new(0), 0.0, |_| (0.0, true)).is_empty());
    }
}
