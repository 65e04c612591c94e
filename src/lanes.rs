//! The comparison model: several strategies run side by side on identical seeded traffic,
//! in lockstep. Each lane is a preset's pipeline given the *first* lane's producer traffic
//! (rate, arrivals, pattern, message size) and one shared seed; a lane keeps its own
//! throttle, since a throttle is part of the strategy. Pure Rust over [`Driver`]s, tested
//! natively; `compare` renders it.

use crate::driver::Driver;
use bplab_engine::{FlowControl, Ledger, Scenario, Series, StageSpec, Summary, PRESETS};

/// Lanes shown at most.
pub const MAX_LANES: usize = 8;
/// Wall time credited to one frame at most.
const MAX_FRAME_S: f64 = 0.1;

/// One click away: push (no flow control: buffer it or drop it) against Kafka's pull.
pub const PUSH_VS_PULL: &[&str] = &["buffer-bloat", "drop-newest", "fix-sync-poll"];
/// One click away: the incident against each remedy.
pub const INCIDENT_VS_REMEDIES: &[&str] =
    &["incident-106", "fix-sync-poll", "fix-blocking-channel", "credits", "throttle-aimd", "pause-resume", "shed-queue-length"];

pub struct Lane {
    pub id: &'static str,
    pub title: &'static str,
    pub driver: Driver,
    /// The preset's own traffic was kept: the shared one does not fit its pipeline.
    pub own_traffic: bool,
}

/// One row of the comparison table.
#[derive(Clone, Debug, PartialEq)]
pub struct LaneRow {
    pub id: &'static str,
    pub title: &'static str,
    pub summary: Summary,
    pub own_traffic: bool,
    /// Where the backlog is now, and the run's largest backlog.
    pub held: Held,
    pub peak: Held,
    pub flow: Flow,
}

pub struct Lanes {
    pub lanes: Vec<Lane>,
    pub seed: u64,
    target_s: f64,
}

/// `scenario` on the traffic of `base`: the same seed and producer traffic; its own
/// throttle and everything downstream.
pub fn on_shared_traffic(scenario: &Scenario, base: &Scenario, seed: u64) -> Scenario {
    let mut s = scenario.clone();
    s.seed = seed;
    s.producer.rate_per_s = base.producer.rate_per_s;
    s.producer.arrivals = base.producer.arrivals;
    s.producer.pattern = base.producer.pattern.clone();
    s.producer.message_bytes = base.producer.message_bytes;
    s
}

fn known(id: &str) -> Option<&'static bplab_engine::Preset> {
    PRESETS.iter().find(|p| p.id == id)
}

impl Lanes {
    /// Lanes for the presets `ids` (unknown ids are skipped; at most [`MAX_LANES`]).
    pub fn new(ids: &[&str], seed: u64) -> Lanes {
        let mut l = Lanes { lanes: Vec::new(), seed, target_s: 0.0 };
        l.set(ids, seed);
        l
    }

    /// Rebuilds every lane from time 0.
    pub fn set(&mut self, ids: &[&str], seed: u64) {
        self.seed = seed;
        self.target_s = 0.0;
        let presets: Vec<&'static bplab_engine::Preset> = ids.iter().filter_map(|id| known(id)).take(MAX_LANES).collect();
        let Some(first) = presets.first() else {
            self.lanes.clear();
            return;
        };
        let base = first.scenario();
        self.lanes = presets
            .iter()
            .map(|p| {
                let own = p.scenario();
                let shared = on_shared_traffic(&own, &base, seed);
                let (scenario, own_traffic) = if shared.validate().is_ok() {
                    (shared, false)
                } else {
                    let mut s = own;
                    s.seed = seed;
                    (s, true)
                };
                let driver = Driver::new(&scenario).unwrap_or_else(|e| panic!("presets are valid: {e}"));
                Lane { id: p.id, title: p.title, driver, own_traffic }
            })
            .collect();
    }

    pub fn ids(&self) -> Vec<&'static str> {
        self.lanes.iter().map(|l| l.id).collect()
    }

    /// Back to time 0, same lanes and seed.
    pub fn reset(&mut self) {
        let ids = self.ids();
        self.set(&ids, self.seed);
    }

    /// Simulated time every lane has reached.
    pub fn now_s(&self) -> f64 {
        let t = self.lanes.iter().map(|l| l.driver.sim().now_s()).fold(f64::INFINITY, f64::min);
        if t.is_finite() {
            t
        } else {
            0.0
        }
    }

    /// Moves the shared target on by `dt_s` of simulated time.
    pub fn step(&mut self, dt_s: f64) {
        self.target_s = self.now_s().max(self.target_s) + dt_s.max(0.0);
    }

    /// One animation frame: plays `wall_dt_s × speed` on (when playing), then runs every
    /// lane towards the shared target out of one budget of `max_events`. Playing, the
    /// target is capped at what the budget can carry for all lanes together (from each
    /// lane's events per simulated second so far), so a costly lane does not let the cheap
    /// ones run ahead: the lanes stay at the same simulated time and the table compares
    /// like with like. A lane that still falls behind holds the others back (they wait for
    /// it; the debt is dropped, as the driver does). Returns whether every lane reached the
    /// target.
    pub fn frame(&mut self, playing: bool, wall_dt_s: f64, speed: f64, max_events: u64) -> bool {
        if self.lanes.is_empty() {
            return true;
        }
        let now = self.now_s();
        if playing {
            let wanted = now.max(self.target_s) + wall_dt_s.clamp(0.0, MAX_FRAME_S) * speed;
            self.target_s = wanted.min(now + self.reach_s(max_events));
        }
        let mut left = max_events;
        let mut all = true;
        for lane in &mut self.lanes {
            let before = lane.driver.sim().events_handled();
            all &= lane.driver.advance_to(self.target_s, left.max(1));
            left = left.saturating_sub(lane.driver.sim().events_handled() - before);
        }
        if !all && playing {
            // Playing faster than the lanes can run: drop the debt. A step keeps its target.
            self.target_s = self.now_s();
        }
        all
    }

    /// Simulated time that `max_events` carries every lane through, estimated from the
    /// lanes' cost so far (with a margin); one simulated second while a lane has no history.
    fn reach_s(&self, max_events: u64) -> f64 {
        let mut events_per_s = 0.0;
        for lane in &self.lanes {
            let sim = lane.driver.sim();
            let t = sim.now_s();
            if t <= 0.0 {
                return 1.0;
            }
            events_per_s += sim.events_handled() as f64 / t;
        }
        if events_per_s > 0.0 {
            0.8 * max_events as f64 / events_per_s
        } else {
            f64::INFINITY
        }
    }

    /// The table's figures, lane by lane: summary, where the backlog is held now and at
    /// its peak, push or pull.
    pub fn rows(&self) -> Vec<LaneRow> {
        self.lanes
            .iter()
            .map(|lane| {
                let sim = lane.driver.sim();
                let summary = sim.summary();
                let held = Held::now(&summary.ledger);
                LaneRow {
                    id: lane.id,
                    title: lane.title,
                    held,
                    peak: Held::peak(sim.series(), held),
                    flow: Flow::of(sim.scenario()),
                    summary,
                    own_traffic: lane.own_traffic,
                }
            })
            .collect()
    }

    /// The summaries, lane by lane.
    pub fn summaries(&self) -> Vec<Summary> {
        self.lanes.iter().map(|l| l.driver.sim().summary()).collect()
    }
}

/// Where a lane's backlog is held: messages generated and not yet processed, dropped or
/// lost, by place.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Held {
    /// Held by the blocked producer, not yet sent.
    pub producer: u64,
    /// In channels and the Kafka client's buffer.
    pub channels: u64,
    /// In the topic, not fetched yet.
    pub topic: u64,
    /// With the consumers: fetch caches and in flight (queued or in a worker).
    pub consumer: u64,
}

impl Held {
    /// Where the backlog is now, each message counted once (from the ledger).
    pub fn now(ledger: &Ledger) -> Held {
        Held {
            producer: ledger.producer_pending,
            channels: ledger.in_channels,
            topic: ledger.in_topic,
            consumer: ledger.in_cache + ledger.in_flight,
        }
    }

    pub fn total(&self) -> u64 {
        self.producer + self.channels + self.topic + self.consumer
    }

    /// The place that holds the most of it; `None` when nothing is held.
    pub fn most(&self) -> Option<&'static str> {
        let places = [("producer", self.producer), ("channels", self.channels), ("topic", self.topic), ("consumer", self.consumer)];
        places
            .iter()
            .filter(|p| p.1 > 0)
            .fold(None, |best: Option<(&str, u64)>, &p| match best {
                Some(b) if b.1 >= p.1 => Some(b),
                _ => Some(p),
            })
            .map(|p| p.0)
    }

    /// The largest backlog of the run: the sampled point holding the most (channels, the
    /// topic's unfetched records, the consumers' caches and in-flight records; the producer's
    /// pending send is not sampled), or `now` when that is larger.
    pub fn peak(series: &Series, now: Held) -> Held {
        let sampled = series.points.iter().map(|p| Held {
            producer: 0,
            channels: p.channel_depth,
            topic: p.unfetched,
            consumer: p.fetch_cache + p.in_flight,
        });
        sampled.chain(std::iter::once(now)).fold(Held::default(), |a, b| if b.total() > a.total() { b } else { a })
    }
}

/// How messages reach the consumer in a lane's pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// The consumer polls a topic: it takes what it asks for.
    Pull,
    /// The producer sends into channels and the consumer; `credits` and `request(n)` are
    /// the receivers' windows on that push.
    Push { credits: bool, request: bool },
}

impl Flow {
    /// From the scenario: a topic (polled by the consumer group) makes it pull; otherwise
    /// the producer pushes, within credits or `request(n)` if a link grants them.
    pub fn of(s: &Scenario) -> Flow {
        if s.stages.iter().any(|st| matches!(st, StageSpec::Topic(_))) {
            return Flow::Pull;
        }
        let links = s
            .stages
            .iter()
            .filter_map(|st| match st {
                StageSpec::Channel(c) => Some(&c.link),
                StageSpec::Map(m) => Some(&m.link),
                StageSpec::Filter(f) => Some(&f.link),
                _ => None,
            })
            .chain(std::iter::once(&s.consumer.link));
        let (mut credits, mut request) = (false, false);
        for l in links {
            credits |= matches!(l.control, FlowControl::Credit { .. });
            request |= matches!(l.control, FlowControl::Request { .. });
        }
        Flow::Push { credits, request }
    }

    /// A badge's text.
    pub fn label(self) -> &'static str {
        match self {
            Flow::Pull => "pull",
            Flow::Push { request: true, .. } => "push, request(n)",
            Flow::Push { credits: true, .. } => "push, credits",
            Flow::Push { .. } => "push",
        }
    }

    /// What the badge means.
    pub fn explain(self) -> &'static str {
        match self {
            Flow::Pull => "Pull: the consumer polls a topic and takes what it asks for",
            Flow::Push { request: true, .. } => "Push within demand: the producer sends what the receiver requested",
            Flow::Push { credits: true, .. } => "Push within credits: the producer sends while it holds credits",
            Flow::Push { .. } => "Push: the producer sends into the pipeline whatever the consumer's pace",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bplab_engine::preset;

    #[test]
    fn lanes_share_seed_and_traffic_and_keep_their_own_throttle() {
        let mut base = preset("incident-106").unwrap();
        base.producer.rate_per_s = 2_000.0;
        let throttled = preset("throttle-aimd").unwrap();
        let s = on_shared_traffic(&throttled, &base, 42);
        assert_eq!(s.seed, 42);
        assert_eq!(s.producer.rate_per_s, 2_000.0);
        assert!(s.producer.throttle.is_some(), "the throttle is the strategy: kept");
        assert_eq!(s.stages, throttled.stages);
    }

    #[test]
    fn lanes_run_in_lockstep_and_match_a_run_of_their_own() {
        let mut lanes = Lanes::new(INCIDENT_VS_REMEDIES, 7);
        assert_eq!(lanes.lanes.len(), INCIDENT_VS_REMEDIES.len());
        assert!(lanes.lanes.iter().all(|l| !l.own_traffic));
        lanes.step(60.0);
        while !lanes.frame(false, 0.0, 1.0, 200_000) {}
        assert_eq!(lanes.now_s(), 60.0);
        for l in &lanes.lanes {
            assert_eq!(l.driver.sim().now_s(), 60.0, "{}", l.id);
            assert_eq!(l.driver.sim().scenario().seed, 7);
        }
        // The same as running the preset alone with that seed (same traffic already).
        let mut alone = preset("incident-106").unwrap();
        alone.seed = 7;
        let mut sim = bplab_engine::Simulation::new(&alone).unwrap();
        sim.run_until(60.0, u64::MAX);
        assert_eq!(lanes.summaries()[0], sim.summary());
        assert!(lanes.summaries()[0].oom_kills > 0);
        assert_eq!(lanes.summaries()[1].oom_kills, 0, "fix-sync-poll");
    }

    #[test]
    fn playing_moves_every_lane_and_reset_goes_back() {
        let mut lanes = Lanes::new(PUSH_VS_PULL, 1);
        for _ in 0..10 {
            lanes.frame(true, 0.05, 10.0, u64::MAX);
        }
        assert!((lanes.now_s() - 5.0).abs() < 1e-9);
        lanes.reset();
        assert_eq!(lanes.now_s(), 0.0);
        assert_eq!(lanes.ids(), PUSH_VS_PULL.to_vec());
        assert!(Lanes::new(&["nope"], 1).lanes.is_empty());
    }

    #[test]
    fn a_tight_budget_keeps_the_lanes_at_one_time() {
        // The incident costs far more events per simulated second than the blocking channel:
        // with a budget too small for 1000× the lanes still share one simulated time.
        let mut lanes = Lanes::new(INCIDENT_VS_REMEDIES, 1);
        for _ in 0..200 {
            lanes.frame(true, 0.1, 1000.0, 50_000);
            let times: Vec<f64> = lanes.lanes.iter().map(|l| l.driver.sim().now_s()).collect();
            let (lo, hi) = times.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &t| (lo.min(t), hi.max(t)));
            assert!(hi - lo <= 0.25 * hi.max(1.0), "lanes apart: {times:?}");
        }
        assert!(lanes.now_s() > 10.0, "the lanes hardly moved: {}", lanes.now_s());
    }

    #[test]
    fn push_vs_pull_tells_the_unbounded_buffer_from_sync_polling_by_where_the_backlog_is() {
        let mut lanes = Lanes::new(PUSH_VS_PULL, 1);
        lanes.step(60.0);
        while !lanes.frame(false, 0.0, 1.0, 1_000_000) {}
        let rows = lanes.rows();
        let [bloat, drop, sync] = [&rows[0], &rows[1], &rows[2]];
        assert_eq!((bloat.id, drop.id, sync.id), ("buffer-bloat", "drop-newest", "fix-sync-poll"));
        for r in &rows {
            let l = &r.summary.ledger;
            assert!(l.balanced(), "{}", r.id);
            assert_eq!(r.held.total(), l.generated - l.processed - l.dropped - l.lost, "{}: held = the backlog", r.id);
            assert!(r.peak.total() >= r.held.total(), "{}: the peak is at least now", r.id);
        }
        // The unbounded buffer holds its backlog in the channel, sync polling in the topic.
        assert!(bloat.held.channels > 10_000 && bloat.held.topic == 0, "{:?}", bloat.held);
        assert!(sync.held.topic > 10_000 && sync.held.channels == 0, "{:?}", sync.held);
        assert_eq!(bloat.peak.most(), Some("channels"));
        assert_eq!(sync.peak.most(), Some("topic"));
        assert_ne!(bloat.held, sync.held);
        // Dropping keeps little: the backlog is gone as drops.
        assert!(drop.summary.dropped > 0 && drop.held.total() < bloat.held.total() / 10, "{:?}", drop.held);
        assert_eq!(rows.iter().map(|r| r.flow.label()).collect::<Vec<_>>(), ["push", "push", "pull"]);
    }

    #[test]
    fn flow_is_read_from_the_pipeline() {
        let label = |id: &str| Flow::of(&preset(id).unwrap()).label();
        assert_eq!(label("incident-106"), "pull");
        assert_eq!(label("fix-sync-poll"), "pull");
        assert_eq!(label("buffer-bloat"), "push");
        assert_eq!(label("fix-blocking-channel"), "push");
        assert_eq!(label("credits"), "push, credits");
        assert_eq!(label("reactive-request-n"), "push, request(n)");
    }

    #[test]
    fn the_place_holding_most_and_the_peak() {
        let h = Held { producer: 1, channels: 5, topic: 5, consumer: 2 };
        assert_eq!(h.total(), 13);
        assert_eq!(h.most(), Some("channels"), "a tie goes to the place upstream");
        assert_eq!(Held::default().most(), None);
        assert_eq!(Held { topic: 3, ..Held::default() }.most(), Some("topic"));
        let mut series = Series::new(1.0, 100, 0, 1);
        series.points.push(bplab_engine::Point { channel_depth: 7, unfetched: 2, fetch_cache: 1, in_flight: 1, ..Default::default() });
        series.points.push(bplab_engine::Point { channel_depth: 1, ..Default::default() });
        assert_eq!(Held::peak(&series, Held::default()), Held { producer: 0, channels: 7, topic: 2, consumer: 2 });
        assert_eq!(Held::peak(&series, h), h, "now, when larger than every sample");
    }
}
