//! The frame policy of both animation loops (the simulator's in `stage`, the comparison's
//! in `compare`): how many events the engine may handle in a frame ([`Budget`]), which
//! charts are redrawn ([`Rota`]), and how fast the run really goes ([`SpeedGauge`]). Pure,
//! tested natively.
//!
//! One policy for both views. A frame at 60 Hz lasts 16.7 ms, and the engine shares it
//! with the diagrams (one per lane in the comparison), a chart and the DOM updates, which
//! take a few milliseconds; so the engine gets 7–9 ms when the run is behind. At 1000× a
//! frame asks for 16.7 simulated seconds, and the engine needs all the time it can get
//! (with 3–4 ms, and the engine built for size, the incident reached about half the speed
//! it reaches now: docs/benchmarks.md). The budget is cut quickly (×2/3) when a frame
//! overruns and grows slowly (×5/4) when there is room and the run is behind: a stutter
//! costs more than a run that catches up a few frames later. Its floor is low (2,000
//! events) so that a slow device still keeps its frame rate: at 2 µs an event, 2,000
//! events take 4 ms. The comparison's lanes share one budget (`Lanes::frame` caps their
//! common target by it), so the same numbers fit.
//! Charts are the most expensive drawing (plotters redraws a whole chart), so at most one
//! is redrawn a frame, each at most every 0.3 s while on screen and every 3 s while
//! scrolled away: no frame pays for every chart at once.
//!
//! Where a run still cannot keep up (a slow device, a busy machine, a heavy scenario), the
//! [`SpeedGauge`] measures the speed reached over the last seconds of wall time, and the
//! transport says so ("asked 1000×, running 310×").

/// Events the first frame may handle.
pub const START_BUDGET: u64 = 200_000;
/// The fewest events a frame may handle.
pub const MIN_BUDGET: u64 = 2_000;
/// The most events a frame may handle.
pub const MAX_BUDGET: u64 = 5_000_000;
/// Engine time (seconds) over which a frame's budget shrinks.
pub const ENGINE_HIGH_S: f64 = 0.009;
/// Engine time (seconds) under which the budget grows, when the run is behind.
pub const ENGINE_LOW_S: f64 = 0.007;

/// A replay (after a seek or a change) may handle this many times a frame's budget: the
/// person is waiting for it, and nothing new is animated meanwhile (7–9 ms of engine become
/// 14–18 ms; frames still come at 30–60 Hz, so the progress and Cancel stay live).
pub const REPLAY_SHARE: u64 = 2;

/// Charts redrawn in one frame at most.
pub const CHARTS_PER_FRAME: usize = 1;
/// Wall seconds between two redraws of the same chart at least.
pub const CHART_EVERY_S: f64 = 0.3;
/// A chart scrolled out of view is redrawn this rarely (kept nearly fresh for a full-page
/// screenshot or a quick scroll; drawn at once when it comes back into view).
pub const OFFSCREEN_CHART_EVERY_S: f64 = 3.0;
/// Wall seconds between two refreshes of the tables (observability, comparison summary).
pub const TABLES_EVERY_S: f64 = 0.25;

/// Events one frame may handle, adapted so that the engine takes 7–9 ms a frame when a run
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

/// Wall seconds over which the speed reached is measured (a sliding window).
pub const GAUGE_WINDOW_S: f64 = 3.0;
/// Wall seconds of steady playing before the gauge gives a figure.
pub const GAUGE_MIN_S: f64 = 1.0;
/// The run is told to be behind when it reaches less than this share of the speed asked…
pub const BEHIND_BELOW: f64 = 0.9;
/// …and no longer once it reaches this share again (no flicker around the threshold).
pub const CAUGHT_UP_AT: f64 = 0.95;

/// The speed a run really reaches: simulated seconds per wall second over the last
/// [`GAUGE_WINDOW_S`] of steady playing. The loop feeds it every frame that played
/// (`played`), and clears it whenever the run stops, replays, jumps or changes speed, so
/// that a figure always measures one stretch of playing at one speed.
#[derive(Clone, Debug, Default)]
pub struct SpeedGauge {
    /// (wall seconds, simulated seconds) advanced by each frame, oldest first.
    frames: std::collections::VecDeque<(f64, f64)>,
    wall: f64,
    sim: f64,
    /// The speed the figures are measured against.
    asked: f64,
    /// Whether the run is told to be behind (see [`BEHIND_BELOW`], [`CAUGHT_UP_AT`]).
    behind: bool,
}

impl SpeedGauge {
    /// Forgets every frame (paused, replaying, a seek, a new scenario).
    pub fn clear(&mut self) {
        self.frames.clear();
        self.wall = 0.0;
        self.sim = 0.0;
        self.behind = false;
    }

    /// A frame played at speed `asked` advanced the run by `sim_s` in `wall_s`.
    pub fn played(&mut self, asked: f64, wall_s: f64, sim_s: f64) {
        if asked != self.asked {
            self.clear();
            self.asked = asked;
        }
        if !(wall_s > 0.0 && sim_s >= 0.0) {
            return;
        }
        self.frames.push_back((wall_s, sim_s));
        self.wall += wall_s;
        self.sim += sim_s;
        while self.frames.len() > 1 && self.wall - self.frames[0].0 >= GAUGE_WINDOW_S {
            let (w, s) = self.frames.pop_front().unwrap_or_default();
            self.wall -= w;
            self.sim -= s;
        }
    }

    /// Simulated seconds per wall second over the window, once it spans [`GAUGE_MIN_S`].
    pub fn reached(&self) -> Option<f64> {
        (self.wall >= GAUGE_MIN_S).then(|| self.sim / self.wall)
    }

    /// The speed reached, rounded for reading ([`readable_speed`]), when the run is
    /// behind the speed asked by a meaningful margin; `None` when it keeps up (or has not
    /// played long enough to tell).
    pub fn behind(&mut self) -> Option<f64> {
        let Some(reached) = self.reached() else {
            self.behind = false;
            return None;
        };
        let share = reached / self.asked;
        self.behind = if self.behind { share < CAUGHT_UP_AT } else { share < BEHIND_BELOW };
        self.behind.then(|| readable_speed(reached))
    }
}

/// A speed rounded for reading: to tens from 100×, to units from 10×, to tenths below.
pub fn readable_speed(v: f64) -> f64 {
    if v >= 100.0 {
        (v / 10.0).round() * 10.0
    } else if v >= 10.0 {
        v.round()
    } else {
        (v * 10.0).round() / 10.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_shrinks_fast_on_a_slow_frame_and_grows_slowly_when_behind() {
        let mut b = Budget::default();
        assert_eq!(b.events(), START_BUDGET);
        b.adapt(0.012, false);
        assert_eq!(b.events(), START_BUDGET * 2 / 3);
        let after_cut = b.events();
        // Room, but not behind: no reason to grow.
        b.adapt(0.001, false);
        assert_eq!(b.events(), after_cut);
        // In the band (7–9 ms): kept.
        b.adapt(0.008, true);
        assert_eq!(b.events(), after_cut);
        b.adapt(ENGINE_HIGH_S, true);
        assert_eq!(b.events(), after_cut);
        b.adapt(0.005, true);
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

    /// Feeds `g` `n` frames of 1/60 s at speed `asked`, each advancing `per_frame` simulated s.
    fn feed(g: &mut SpeedGauge, asked: f64, n: usize, per_frame: f64) {
        for _ in 0..n {
            g.played(asked, 1.0 / 60.0, per_frame);
        }
    }

    #[test]
    fn the_gauge_tells_the_speed_reached_only_when_well_behind() {
        let mut g = SpeedGauge::default();
        // Under a second of playing: no figure yet.
        feed(&mut g, 1000.0, 30, 310.0 / 60.0);
        assert_eq!(g.reached(), None);
        assert_eq!(g.behind(), None);
        feed(&mut g, 1000.0, 60, 310.0 / 60.0);
        assert!((g.reached().unwrap() - 310.0).abs() < 1e-6);
        assert_eq!(g.behind(), Some(310.0));
        // Caught up: the figure goes once the window holds the faster frames.
        feed(&mut g, 1000.0, 60 * 4, 1000.0 / 60.0);
        assert!((g.reached().unwrap() - 1000.0).abs() < 1e-6, "{:?}", g.reached());
        assert_eq!(g.behind(), None);
        // A run a few per cent short is not called behind.
        let mut g = SpeedGauge::default();
        feed(&mut g, 100.0, 120, 96.0 / 60.0);
        assert_eq!(g.behind(), None);
    }

    #[test]
    fn the_gauge_measures_a_sliding_window_and_does_not_flicker() {
        let mut g = SpeedGauge::default();
        feed(&mut g, 1000.0, 60 * 10, 200.0 / 60.0);
        // Ten seconds in, the window still spans GAUGE_WINDOW_S, not the whole run.
        assert!(g.wall < GAUGE_WINDOW_S + 0.02 && g.wall >= GAUGE_WINDOW_S - 0.02, "{}", g.wall);
        assert_eq!(g.behind(), Some(200.0));
        // Between the two thresholds: still behind once said (and not said before).
        feed(&mut g, 1000.0, 60 * 4, 920.0 / 60.0);
        assert_eq!(g.behind(), Some(920.0));
        let mut fresh = SpeedGauge::default();
        feed(&mut fresh, 1000.0, 60 * 4, 920.0 / 60.0);
        assert_eq!(fresh.behind(), None);
    }

    #[test]
    fn a_new_speed_or_a_clear_starts_the_measure_again() {
        let mut g = SpeedGauge::default();
        feed(&mut g, 1000.0, 120, 300.0 / 60.0);
        assert_eq!(g.behind(), Some(300.0));
        feed(&mut g, 100.0, 30, 100.0 / 60.0);
        assert_eq!(g.reached(), None, "another speed asked: measured anew");
        feed(&mut g, 100.0, 60, 100.0 / 60.0);
        assert_eq!(g.behind(), None);
        g.clear();
        assert_eq!(g.reached(), None);
        assert_eq!(readable_speed(312.4), 310.0);
        assert_eq!(readable_speed(96.4), 96.0);
        assert_eq!(readable_speed(4.66), 4.7);
    }
}
