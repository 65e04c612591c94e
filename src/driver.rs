//! The driver: owns the running [`Simulation`] and decides how far it advances each
//! animation frame. Pure Rust (no web types), so it is tested natively.
//!
//! Controls never touch the simulation: they write a new [`Scenario`], and
//! [`Driver::set_scenario`] rebuilds the run and replays it to the same simulated time
//! (deterministic, so "what if the consumer were faster?" is answered for the whole run).
//!
//! The timeline: as the run advances the driver keeps checkpoints, clones of the
//! simulation at multiples of an interval. [`Driver::seek`] restores the nearest one at or
//! before the wanted time and replays from there, in budgeted frames. The number of
//! checkpoints is bounded: past [`MAX_CHECKPOINTS`] every other one is dropped and the
//! interval doubles, so replaying costs at most one interval (1/[`MAX_CHECKPOINTS`]… 2/ of
//! the run) whatever the run's length. Seeking back also keeps the *tip*, the run as it was
//! at its furthest time, so going back to the end (End on the timeline) replays nothing.
//! A replay tells its progress ([`Driver::replay_progress`]) and can be cancelled
//! ([`Driver::cancel_replay`]): the run then stays where the replay had got to.
//!
//! Each frame's trace is merged for the diagrams and the narration ([`merge_trace`]);
//! beside it the driver keeps the frame's protocol messages unmerged ([`protocol`]), for
//! the sequence diagram.

pub mod protocol;

use bplab_engine::{Scenario, ScenarioError, Simulation, TraceEvent, TraceKind};
use protocol::{Protocol, ProtocolFrame};

/// Slowest and fastest playback, as multiples of real time (what a link may ask for).
pub const SPEED_RANGE: (f64, f64) = bplab_engine::experiment::SPEED;
/// The speed a page opens at.
pub const DEFAULT_SPEED: f64 = 10.0;
/// Wall time credited to one frame at most (a background tab must not cause a jump).
const MAX_FRAME_S: f64 = 0.1;
/// Checkpoints kept at most (the one at t = 0 included).
pub const MAX_CHECKPOINTS: usize = 40;
/// Simulated seconds between checkpoints before any thinning.
const FIRST_CHECKPOINT_EVERY_S: f64 = 5.0;
/// Events run between two drains of the engine's trace. The engine keeps its last 4,096
/// trace events; draining every 1,000 events keeps every one, however long the frame.
const TRACE_CHUNK: u64 = 1_000;

/// What one frame did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Frame {
    pub events: u64,
    /// The run is replaying towards the time it was at before a change or a seek.
    pub replaying: bool,
    /// The event budget ran out before the requested time was reached.
    pub behind: bool,
}

pub struct Driver {
    sim: Simulation,
    target_s: f64,
    /// The furthest simulated time this run has reached: the end of the timeline.
    horizon_s: f64,
    /// No frame carries a playing run past this time (a lesson step's or a challenge's run
    /// length), however large its step: the page pauses there. Played on from there, the
    /// run goes past it. `None`: no such time.
    stop_s: Option<f64>,
    replaying: bool,
    playing: bool,
    speed: f64,
    trace: Vec<TraceEvent>,
    /// The frame's protocol messages, unmerged.
    protocol: Protocol,
    /// Clones of the run at multiples of `checkpoint_every_s`, in time order, the first at 0.
    checkpoints: Vec<Simulation>,
    checkpoint_every_s: f64,
    /// The run at its furthest time, kept when a seek goes back from there.
    tip: Option<Simulation>,
    /// Simulated time the current replay started from.
    replay_from_s: f64,
}

fn fresh(scenario: &Scenario) -> Result<Simulation, ScenarioError> {
    let mut sim = Simulation::new(scenario)?;
    sim.set_tracing(true);
    Ok(sim)
}

impl Driver {
    pub fn new(scenario: &Scenario) -> Result<Driver, ScenarioError> {
        let sim = fresh(scenario)?;
        Ok(Driver {
            protocol: Protocol::new(&sim.snapshot()),
            checkpoints: vec![sim.clone()],
            sim,
            target_s: 0.0,
            horizon_s: 0.0,
            stop_s: None,
            replaying: false,
            playing: false,
            speed: DEFAULT_SPEED,
            trace: Vec::new(),
            checkpoint_every_s: FIRST_CHECKPOINT_EVERY_S,
            tip: None,
            replay_from_s: 0.0,
        })
    }

    pub fn sim(&self) -> &Simulation {
        &self.sim
    }

    pub fn playing(&self) -> bool {
        self.playing
    }

    pub fn set_playing(&mut self, on: bool) {
        self.playing = on;
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Sets playback speed, clamped to [`SPEED_RANGE`].
    pub fn set_speed(&mut self, speed: f64) {
        let speed = if speed.is_finite() { speed } else { 1.0 };
        self.speed = speed.clamp(SPEED_RANGE.0, SPEED_RANGE.1);
    }

    /// Simulated time the view is heading to.
    pub fn target_s(&self) -> f64 {
        self.target_s
    }

    /// The end of the timeline: the furthest time this run has been.
    pub fn horizon_s(&self) -> f64 {
        self.horizon_s.max(self.sim.now_s())
    }

    pub fn replaying(&self) -> bool {
        self.replaying
    }

    /// How far the replay under way has got, from 0 to 1 (`None` when not replaying).
    pub fn replay_progress(&self) -> Option<f64> {
        self.replaying.then(|| {
            let span = self.target_s - self.replay_from_s;
            if span > 0.0 {
                ((self.sim.now_s() - self.replay_from_s) / span).clamp(0.0, 1.0)
            } else {
                1.0
            }
        })
    }

    /// Stops the replay under way: the run stays, paused, at the time it had reached.
    pub fn cancel_replay(&mut self) {
        if self.replaying {
            self.replaying = false;
            self.playing = false;
            self.target_s = self.sim.now_s();
            self.trace.clear();
            self.protocol.clear();
        }
    }

    /// Times of the checkpoints held (for tests and the timeline's ticks).
    pub fn checkpoint_times(&self) -> Vec<f64> {
        self.checkpoints.iter().map(Simulation::now_s).collect()
    }

    /// Rebuilds the run from a new scenario and replays it to the current time. On a
    /// validation error nothing changes.
    pub fn set_scenario(&mut self, scenario: &Scenario) -> Result<(), ScenarioError> {
        let sim = fresh(scenario)?;
        self.checkpoints = vec![sim.clone()];
        self.checkpoint_every_s = FIRST_CHECKPOINT_EVERY_S;
        self.protocol = Protocol::new(&sim.snapshot());
        self.sim = sim;
        self.tip = None;
        self.trace.clear();
        self.replaying = self.target_s > 0.0;
        self.replay_from_s = 0.0;
        Ok(())
    }

    /// Back to time 0 with the same scenario, paused; the timeline is emptied.
    pub fn reset(&mut self) {
        let scenario = self.sim.scenario().clone();
        self.target_s = 0.0;
        self.horizon_s = 0.0;
        self.playing = false;
        self.tip = None;
        self.set_scenario(&scenario).unwrap_or_else(|e| panic!("the running scenario is valid: {e}"));
    }

    /// Advances the target by `dt_s` of simulated time (single step).
    pub fn step(&mut self, dt_s: f64) {
        self.target_s = self.sim.now_s().max(self.target_s) + dt_s.max(0.0);
    }

    /// Goes to simulated time `t_s` (clamped to the timeline, 0 ..= horizon): restores the
    /// latest checkpoint at or before it and replays from there in the next frames.
    /// Deterministic, so the run from there on is the run that was.
    pub fn seek(&mut self, t_s: f64) {
        let t = if t_s.is_finite() { t_s.max(0.0).min(self.horizon_s()) } else { 0.0 };
        self.horizon_s = self.horizon_s();
        let now = self.sim.now_s();
        if t < now && self.tip.as_ref().is_none_or(|tip| tip.now_s() < now) {
            // Leaving the furthest point reached: keep it, to come back without a replay.
            let mut tip = self.sim.clone();
            tip.set_tracing(false);
            self.tip = Some(tip);
        }
        // Start from the latest state at or before `t`: the run as it is, a checkpoint or
        // the tip.
        let base = self.checkpoints.iter().rposition(|c| c.now_s() <= t + 1e-9).unwrap_or(0);
        let mut from = self.checkpoints[base].now_s();
        let mut start = Some(&self.checkpoints[base]);
        if let Some(tip) = self.tip.as_ref().filter(|tip| tip.now_s() <= t + 1e-9 && tip.now_s() > from) {
            from = tip.now_s();
            start = Some(tip);
        }
        if now <= t + 1e-9 && now >= from {
            start = None;
        }
        if let Some(start) = start {
            self.sim = start.clone();
            self.sim.set_tracing(false);
            self.sim.set_tracing(true);
        }
        self.trace.clear();
        self.protocol.clear();
        self.target_s = t;
        self.replay_from_s = self.sim.now_s();
        self.replaying = self.sim.now_s() < t;
    }

    /// Goes to simulated time `t_s`, even beyond the timeline (a link's `t`): the run
    /// replays there, in the next frames, and stays paused.
    pub fn go_to(&mut self, t_s: f64) {
        if t_s.is_finite() {
            self.horizon_s = self.horizon_s.max(t_s);
        }
        self.seek(t_s);
    }

    /// The time no frame plays past (see `stop_s`).
    pub fn set_stop(&mut self, stop_s: Option<f64>) {
        self.stop_s = stop_s;
    }

    /// One animation frame, `wall_dt_s` after the previous one, handling at most
    /// `max_events` events.
    pub fn frame(&mut self, wall_dt_s: f64, max_events: u64) -> Frame {
        if self.playing && !self.replaying {
            let now = self.sim.now_s();
            self.target_s += wall_dt_s.clamp(0.0, MAX_FRAME_S) * self.speed;
            if let Some(stop) = self.stop_s.filter(|stop| now < *stop) {
                self.target_s = self.target_s.min(stop);
            }
        }
        let was_replaying = self.replaying;
        let (events, reached) = self.run_to(self.target_s, max_events, !was_replaying);
        let mut behind = false;
        if reached {
            self.replaying = false;
        } else if !self.replaying {
            // Running slower than asked: do not pile up a debt that would jump later. A step
            // (paused) is finished in the next frames instead: it promised a time.
            behind = true;
            if self.playing {
                self.target_s = self.sim.now_s();
            }
        }
        if !self.replaying {
            self.horizon_s = self.horizon_s.max(self.sim.now_s());
        }
        Frame { events, replaying: self.replaying, behind }
    }

    /// Runs to `t_s` at most `max_events` events, stopping at every checkpoint time on
    /// the way to take one. Returns the events handled and whether `t_s` was reached.
    /// The trace is kept (merged, see [`merge_trace`]) when `keep_trace`; otherwise what a
    /// replay goes through, seen before, is not animated again.
    fn run_to(&mut self, t_s: f64, max_events: u64, keep_trace: bool) -> (u64, bool) {
        let mut left = max_events;
        let mut handled = 0;
        let mut chunk = Vec::new();
        loop {
            let now = self.sim.now_s();
            let k = (now / self.checkpoint_every_s + 1e-9).floor() + 1.0;
            let next = k * self.checkpoint_every_s;
            let goal = t_s.min(next);
            let status = self.sim.run_until(goal, left.min(TRACE_CHUNK));
            handled += status.events;
            left = left.saturating_sub(status.events);
            self.sim.drain_trace(&mut chunk);
            if keep_trace {
                self.protocol.note(&chunk);
                merge_trace(&mut self.trace, chunk.drain(..));
            } else {
                chunk.clear();
            }
            if !status.reached {
                if left > 0 {
                    continue;
                }
                return (handled, false);
            }
            if goal >= next - 1e-9 {
                self.checkpoint();
            }
            if goal >= t_s {
                return (handled, true);
            }
        }
    }

    /// Keeps a clone of the run now, unless one exists for this time already.
    fn checkpoint(&mut self) {
        let t = self.sim.now_s();
        let last = self.checkpoints.last().map_or(-1.0, Simulation::now_s);
        if t <= last + 1e-9 {
            // Replaying after a seek passes checkpoints that are already there.
            if self.checkpoints.iter().any(|c| (c.now_s() - t).abs() < 1e-9) {
                return;
            }
        }
        let mut copy = self.sim.clone();
        copy.set_tracing(false);
        let at = self.checkpoints.partition_point(|c| c.now_s() < t);
        self.checkpoints.insert(at, copy);
        if self.checkpoints.len() > MAX_CHECKPOINTS {
            // Keep t = 0 and the multiples of twice the interval.
            let every = self.checkpoint_every_s * 2.0;
            self.checkpoints.retain(|c| {
                let r = c.now_s() / every;
                (r - r.round()).abs() < 1e-6
            });
            self.checkpoint_every_s = every;
        }
    }

    /// Trace events since the last call (empty while replaying).
    pub fn take_trace(&mut self) -> Vec<TraceEvent> {
        std::mem::take(&mut self.trace)
    }

    /// Protocol messages since the last call, unmerged (none while replaying).
    pub fn take_protocol(&mut self) -> ProtocolFrame {
        self.protocol.take()
    }

    /// Runs to `t_s` (no playing, no debt rules): the compare view keeps its lanes in
    /// lockstep this way. Returns whether `t_s` was reached within `max_events`.
    pub fn advance_to(&mut self, t_s: f64, max_events: u64) -> bool {
        self.target_s = t_s.max(self.sim.now_s());
        let (_, reached) = self.run_to(self.target_s, max_events, true);
        self.horizon_s = self.horizon_s.max(self.sim.now_s());
        reached
    }
}

/// Key under which frequent trace events of one frame are merged (their counts summed).
fn merge_key(k: &TraceKind) -> Option<(u8, u16, u16)> {
    Some(match *k {
        TraceKind::Generated { .. } => (0, 0, 0),
        TraceKind::Moved { from, to, .. } => (1, from, to),
        TraceKind::Polled { member, .. } => (2, member, 0),
        TraceKind::Fetched { member, .. } => (3, member, 0),
        TraceKind::Processed { member, .. } => (4, member, 0),
        TraceKind::Granted { link, .. } => (5, link, 0),
        TraceKind::Requested { link, .. } => (6, link, 0),
        TraceKind::PermitsArrived { link, .. } => (7, link, 0),
        TraceKind::Committed { member } => (8, member, 0),
        TraceKind::Dropped { node, cause, .. } => (9, node, cause as u16),
        TraceKind::Blocked => (10, 0, 0),
        TraceKind::Unblocked => (11, 0, 0),
        _ => return None,
    })
}

fn add_n(into: &mut TraceKind, from: &TraceKind) {
    use TraceKind::*;
    match (into, from) {
        (Generated { n }, Generated { n: m })
        | (Moved { n, .. }, Moved { n: m, .. })
        | (Polled { n, .. }, Polled { n: m, .. })
        | (Fetched { n, .. }, Fetched { n: m, .. })
        | (Processed { n, .. }, Processed { n: m, .. })
        | (Granted { n, .. }, Granted { n: m, .. })
        | (Requested { n, .. }, Requested { n: m, .. })
        | (PermitsArrived { n, .. }, PermitsArrived { n: m, .. })
        | (Dropped { n, .. }, Dropped { n: m, .. }) => *n += m,
        _ => {}
    }
}

/// Appends `events` to a frame's trace, merging the frequent kinds (moves, polls,
/// grants, drops, blocking: one event per key, at its first time, counts summed) and
/// keeping every rare one (OOM kills, rebalances, pauses…) in order. A frame at 1,000×
/// holds every kill and every rebalance, and the flows' totals, in a few dozen events.
pub fn merge_trace(into: &mut Vec<TraceEvent>, events: impl Iterator<Item = TraceEvent>) {
    for ev in events {
        match merge_key(&ev.kind) {
            Some(key) => match into.iter_mut().find(|e| merge_key(&e.kind) == Some(key)) {
                Some(e) => add_n(&mut e.kind, &ev.kind),
                None => into.push(ev),
            },
            None => into.push(ev),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bplab_engine::preset;

    #[test]
    fn playing_advances_by_wall_time_times_speed() {
        let mut d = Driver::new(&preset("incident-106").unwrap()).unwrap();
        d.set_speed(10.0);
        d.frame(0.05, u64::MAX);
        assert_eq!(d.sim().now_s(), 0.0, "paused: no progress");
        d.set_playing(true);
        for _ in 0..10 {
            d.frame(0.05, u64::MAX);
        }
        assert!((d.sim().now_s() - 5.0).abs() < 1e-9, "{}", d.sim().now_s());
        // A long pause between frames (background tab) is capped.
        d.frame(30.0, u64::MAX);
        assert!((d.sim().now_s() - 6.0).abs() < 1e-9);
    }

    #[test]
    fn a_stop_ends_playing_exactly_there_however_large_the_frame() {
        let mut d = Driver::new(&preset("incident-106").unwrap()).unwrap();
        d.set_stop(Some(60.0));
        d.set_speed(1_000.0);
        d.set_playing(true);
        // Frames of 0.05 s at 1000×: 50 simulated seconds each; the second would cross 60 s.
        d.frame(0.05, u64::MAX);
        assert_eq!(d.sim().now_s(), 50.0);
        d.frame(0.05, u64::MAX);
        assert_eq!(d.sim().now_s(), 60.0, "the frame ends at the step's length, not past it");
        // The page pauses there; played on from there, the run goes past it.
        d.frame(0.05, u64::MAX);
        assert_eq!(d.sim().now_s(), 110.0);
    }

    #[test]
    fn a_new_scenario_replays_to_the_same_time_and_bad_input_changes_nothing() {
        let base = preset("incident-106").unwrap();
        let mut d = Driver::new(&base).unwrap();
        d.step(60.0);
        d.frame(0.0, u64::MAX);
        let before = d.sim().summary();
        assert_eq!(before.oom_kills, 1);

        let mut bad = base.clone();
        bad.consumer.workers = 0;
        let err = d.set_scenario(&bad).unwrap_err();
        assert!(err.to_string().contains("consumer.workers"));
        assert_eq!(d.sim().summary(), before, "a rejected scenario must not disturb the run");

        let mut sync = base;
        sync.consumer.mode = bplab_engine::Mode::Sync;
        d.set_scenario(&sync).unwrap();
        let mut frames = 0;
        while d.frame(0.0, 50_000).replaying {
            frames += 1;
        }
        assert!(frames > 0, "replay should take several budgeted frames");
        assert_eq!(d.sim().now_s(), 60.0);
        assert_eq!(d.sim().summary().oom_kills, 0);
    }

    #[test]
    fn an_exhausted_budget_drops_the_debt_instead_of_jumping_later() {
        let mut d = Driver::new(&preset("incident-106").unwrap()).unwrap();
        d.set_playing(true);
        d.set_speed(1_000.0);
        let f = d.frame(0.1, 100);
        assert!(f.behind);
        assert_eq!(d.target_s(), d.sim().now_s());
    }

    #[test]
    fn checkpoints_are_bounded_and_spread_over_the_run() {
        let mut d = Driver::new(&preset("fix-blocking-channel").unwrap()).unwrap();
        d.step(1_000.0);
        d.frame(0.0, u64::MAX);
        let times = d.checkpoint_times();
        assert!(times.len() <= MAX_CHECKPOINTS, "{times:?}");
        assert!(times.len() >= MAX_CHECKPOINTS / 2, "{times:?}");
        assert_eq!(times[0], 0.0);
        assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
        // Evenly spaced: the gap is the current interval everywhere.
        let gap = times[1] - times[0];
        assert!(times.windows(2).all(|w| ((w[1] - w[0]) - gap).abs() < 1e-6), "{times:?}");
        assert!(1_000.0 - times.last().unwrap() <= gap + 1e-6);
    }

    #[test]
    fn seeking_back_replays_the_very_same_run_and_forward_again() {
        for id in ["incident-106", "consumer-group", "reactive-request-n"] {
            let mut d = Driver::new(&preset(id).unwrap()).unwrap();
            d.step(37.0);
            d.frame(0.0, u64::MAX);
            let at_37 = d.sim().summary();
            d.step(43.0);
            d.frame(0.0, u64::MAX);
            let at_80 = (d.sim().summary(), d.sim().series().clone());
            assert_eq!(d.horizon_s(), 80.0);

            d.seek(37.0);
            assert!(d.replaying() || d.sim().now_s() == 37.0);
            while d.frame(0.0, 20_000).replaying {}
            assert_eq!(d.sim().now_s(), 37.0, "{id}");
            assert_eq!(d.sim().summary(), at_37, "{id}: the replay differs from the run");
            assert_eq!(d.horizon_s(), 80.0, "seeking back keeps the timeline");
            assert!(d.take_trace().is_empty(), "a replay animates nothing");

            d.seek(80.0);
            while d.frame(0.0, 20_000).replaying {}
            assert_eq!(d.sim().summary(), at_80.0, "{id}");
            assert_eq!(d.sim().series(), &at_80.1, "{id}");

            // Past the end of the timeline: clamped to it.
            d.seek(1e9);
            assert_eq!(d.target_s(), 80.0);
        }
    }

    #[test]
    fn playing_on_after_a_seek_continues_the_same_run() {
        let s = preset("throttle-aimd").unwrap();
        let mut straight = Driver::new(&s).unwrap();
        straight.step(50.0);
        straight.frame(0.0, u64::MAX);
        let mut d = Driver::new(&s).unwrap();
        d.step(30.0);
        d.frame(0.0, u64::MAX);
        d.seek(12.5);
        d.frame(0.0, u64::MAX);
        assert_eq!(d.sim().now_s(), 12.5);
        d.step(37.5);
        d.frame(0.0, u64::MAX);
        assert_eq!(d.sim().summary(), straight.sim().summary());
        assert_eq!(d.horizon_s(), 50.0);
    }

    #[test]
    fn a_long_frame_keeps_every_oom_kill_and_the_flow_totals() {
        let mut d = Driver::new(&preset("incident-106").unwrap()).unwrap();
        d.set_playing(true);
        d.set_speed(1_000.0);
        // One frame of 100 s: far more trace events than the engine keeps.
        d.frame(0.1, u64::MAX);
        let trace = d.take_trace();
        let kills = trace.iter().filter(|e| matches!(e.kind, TraceKind::OomKill { .. })).count() as u64;
        assert_eq!(kills, d.sim().summary().oom_kills);
        assert!(kills >= 2);
        let generated: u64 = trace.iter().map(|e| if let TraceKind::Generated { n } = e.kind { n } else { 0 }).sum();
        assert_eq!(generated, d.sim().summary().produced);
        assert!(trace.len() < 200, "{} events", trace.len());
    }

    #[test]
    fn a_replay_tells_its_progress_and_can_be_cancelled() {
        let mut d = Driver::new(&preset("incident-106").unwrap()).unwrap();
        d.step(600.0);
        d.frame(0.0, u64::MAX);
        assert_eq!(d.replay_progress(), None, "not replaying");
        // Back to the start, then to a moment between two checkpoints far from both.
        d.seek(0.0);
        d.frame(0.0, u64::MAX);
        let gap = d.checkpoint_times()[1];
        let goal = 600.0 - gap * 0.5;
        d.seek(goal);
        assert_eq!(d.replay_progress(), Some(0.0));
        let mut seen = vec![0.0];
        while d.frame(0.0, 2_000).replaying {
            let p = d.replay_progress().unwrap();
            assert!(p >= *seen.last().unwrap() && p < 1.0, "{p} after {seen:?}");
            seen.push(p);
        }
        assert!(seen.len() > 3, "the replay took one frame: {seen:?}");
        assert_eq!(d.replay_progress(), None);
        assert_eq!(d.sim().now_s(), goal);

        // Cancelled half way: it stays where it had got to, paused, and plays on from there.
        d.seek(0.0);
        d.frame(0.0, u64::MAX);
        d.seek(goal);
        while d.replay_progress().unwrap() < 0.3 {
            d.frame(0.0, 2_000);
        }
        let reached = d.sim().now_s();
        d.set_playing(true);
        d.cancel_replay();
        assert!(!d.replaying() && !d.playing());
        assert_eq!(d.replay_progress(), None);
        d.frame(0.05, u64::MAX);
        assert_eq!(d.sim().now_s(), reached, "a cancelled replay went on");
        assert!(reached > 0.0 && reached < goal);
        assert_eq!(d.horizon_s(), 600.0, "cancelling keeps the timeline");
        let mut straight = Driver::new(&preset("incident-106").unwrap()).unwrap();
        straight.step(reached);
        straight.frame(0.0, u64::MAX);
        assert_eq!(d.sim().summary(), straight.sim().summary(), "the run where the replay stopped is the run that was");
    }

    #[test]
    fn back_to_the_end_of_a_long_run_replays_nothing() {
        let mut d = Driver::new(&preset("incident-106").unwrap()).unwrap();
        d.step(3.0 * 3600.0);
        d.frame(0.0, u64::MAX);
        let end = (d.sim().summary(), d.sim().series().clone());
        let every = d.checkpoint_times()[1];
        assert!(every <= 3.0 * 3600.0 / (MAX_CHECKPOINTS as f64 / 2.0), "checkpoints every {every} s");
        // Home, then End: the tip is restored, no event is replayed.
        d.seek(0.0);
        d.frame(0.0, u64::MAX);
        d.seek(1e9);
        let f = d.frame(0.0, 1);
        assert!(!f.replaying && f.events == 0, "{f:?}");
        assert_eq!(d.sim().now_s(), 3.0 * 3600.0);
        assert_eq!((d.sim().summary(), d.sim().series().clone()), end);
        // Anywhere else, at most one checkpoint interval is replayed.
        d.seek(3.0 * 3600.0 - 1.0);
        assert!(d.sim().now_s() >= 3.0 * 3600.0 - 1.0 - every, "{}", d.sim().now_s());
    }

    #[test]
    fn a_step_larger_than_the_budget_is_finished_in_the_next_frames() {
        let mut d = Driver::new(&preset("incident-106").unwrap()).unwrap();
        d.step(100.0);
        let mut frames = 0;
        while d.frame(1.0 / 60.0, 20_000).behind {
            frames += 1;
        }
        assert!(frames > 0, "the step fitted in one frame");
        assert_eq!(d.sim().now_s(), 100.0);
    }

    /// The run's state as text: every figure of the snapshot, the summary and the series,
    /// bit for bit (floats are written in their shortest exact form).
    fn state_of(sim: &Simulation) -> String {
        let json = |v: serde_json::Result<String>| v.unwrap_or_else(|e| panic!("serialisable: {e}"));
        [
            json(serde_json::to_string(&sim.snapshot())),
            json(serde_json::to_string(&sim.summary())),
            json(serde_json::to_string(sim.series())),
        ]
        .join("\n")
    }

    /// Plays `scenario` at `speed` in frames of the wall times `dts` (cycled) with an event
    /// budget of `budget` a frame, then steps to exactly `end_s`.
    fn played(scenario: &Scenario, speed: f64, dts: &[f64], budget: u64, end_s: f64) -> (Driver, usize) {
        let mut d = Driver::new(scenario).unwrap();
        d.set_speed(speed);
        d.set_playing(true);
        let (mut frames, mut behind) = (0, 0);
        while d.sim().now_s() + dts[frames % dts.len()].min(MAX_FRAME_S) * speed < end_s {
            behind += usize::from(d.frame(dts[frames % dts.len()], budget).behind);
            frames += 1;
        }
        d.set_playing(false);
        d.step(end_s - d.sim().now_s());
        d.frame(0.0, u64::MAX);
        assert_eq!(d.sim().now_s(), end_s);
        (d, behind)
    }

    #[test]
    fn speed_never_changes_the_run() {
        let s = preset("incident-106").unwrap();
        let end = 120.0;
        // Without the trace and in one go: the reference.
        let mut bare = Simulation::new(&s).unwrap();
        bare.run_until(end, u64::MAX);
        let reference = state_of(&bare);
        assert!(bare.summary().oom_kills >= 2, "the run reaches the kills");
        // 1×: 7,200 frames of 1/60 s.
        let (slow, _) = played(&s, 1.0, &[1.0 / 60.0], u64::MAX, end);
        assert_eq!(state_of(slow.sim()), reference, "1× differs from the untraced run");
        // 1000×: frames of 16.7 s, a dropped frame now and then and one capped at 0.1 s.
        let (fast, _) = played(&s, 1_000.0, &[1.0 / 60.0, 1.0 / 60.0, 1.0 / 30.0, 0.25], u64::MAX, end);
        assert_eq!(state_of(fast.sim()), reference, "1000× differs from the untraced run");
        // 1000× under a budget that runs out (the run falls behind and drops its debt).
        let (short, behind) = played(&s, 1_000.0, &[1.0 / 60.0], 20_000, end);
        assert!(behind > 0, "the budget never ran out");
        assert_eq!(state_of(short.sim()), reference, "1000× behind differs from the untraced run");
    }

    #[test]
    fn reset_empties_the_timeline() {
        let mut d = Driver::new(&preset("incident-106").unwrap()).unwrap();
        d.step(20.0);
        d.frame(0.0, u64::MAX);
        d.reset();
        assert_eq!(d.horizon_s(), 0.0);
        assert_eq!(d.checkpoint_times(), vec![0.0]);
    }
}
