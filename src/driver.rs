//! The driver: owns the running [`Simulation`] and decides how far it advances each
//! animation frame. Pure Rust (no web types), so it is tested natively.
//!
//! Controls never touch the simulation: they write a new [`Scenario`], and
//! [`Driver::set_scenario`] rebuilds the run and replays it to the same simulated time
//! (deterministic, so "what if the consumer were faster?" is answered for the whole run).

use bplab_engine::{Scenario, ScenarioError, Simulation, TraceEvent};

/// Slowest and fastest playback, as multiples of real time.
pub const SPEED_RANGE: (f64, f64) = (0.1, 1_000.0);
/// Wall time credited to one frame at most (a background tab must not cause a jump).
const MAX_FRAME_S: f64 = 0.1;

/// What one frame did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Frame {
    pub events: u64,
    /// The run is replaying towards the time it was at before a change.
    pub replaying: bool,
    /// The event budget ran out before the requested time was reached.
    pub behind: bool,
}

pub struct Driver {
    sim: Simulation,
    target_s: f64,
    replaying: bool,
    playing: bool,
    speed: f64,
    trace: Vec<TraceEvent>,
}

impl Driver {
    pub fn new(scenario: &Scenario) -> Result<Driver, ScenarioError> {
        let mut sim = Simulation::new(scenario)?;
        sim.set_tracing(true);
        Ok(Driver { sim, target_s: 0.0, replaying: false, playing: false, speed: 10.0, trace: Vec::new() })
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

    /// Rebuilds the run from a new scenario and replays it to the current time. On a
    /// validation error nothing changes.
    pub fn set_scenario(&mut self, scenario: &Scenario) -> Result<(), ScenarioError> {
        let mut sim = Simulation::new(scenario)?;
        sim.set_tracing(true);
        self.sim = sim;
        self.trace.clear();
        self.replaying = self.target_s > 0.0;
        Ok(())
    }

    /// Back to time 0 with the same scenario, paused.
    pub fn reset(&mut self) {
        let scenario = self.sim.scenario().clone();
        self.target_s = 0.0;
        self.playing = false;
        self.set_scenario(&scenario).expect("the running scenario is valid");
    }

    /// Advances the target by `dt_s` of simulated time (single step).
    pub fn step(&mut self, dt_s: f64) {
        self.target_s = self.sim.now_s().max(self.target_s) + dt_s.max(0.0);
    }

    /// One animation frame, `wall_dt_s` after the previous one, handling at most
    /// `max_events` events.
    pub fn frame(&mut self, wall_dt_s: f64, max_events: u64) -> Frame {
        if self.playing && !self.replaying {
            self.target_s += wall_dt_s.clamp(0.0, MAX_FRAME_S) * self.speed;
        }
        let status = self.sim.run_until(self.target_s, max_events);
        let mut behind = false;
        if status.reached {
            self.replaying = false;
        } else if !self.replaying {
            // Running slower than asked: do not pile up a debt that would jump later.
            behind = true;
            self.target_s = self.sim.now_s();
        }
        if !self.replaying {
            self.sim.drain_trace(&mut self.trace);
        }
        Frame { events: status.events, replaying: self.replaying, behind }
    }

    /// Trace events since the last call (empty while replaying).
    pub fn take_trace(&mut self) -> Vec<TraceEvent> {
        std::mem::take(&mut self.trace)
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
}
