//! The simulation's orchestration: the state it is made of, set-up, the event loop and
//! its dispatch, tracing, and the accounting every component reports to (drops, losses,
//! time integrals).
//!
//! Nodes are numbered along the pipeline: 0 is the producer, `1..=S` are the scenario's
//! stages in order, and `S + 1` is the consumer group. Link `j` carries messages from node
//! `j - 1` into node `j`. A sender asks `Simulation::space` how much link `j` takes now
//! (the receiver's room, the link's credits or outstanding demand, through transparent
//! operators), delivers that much, and applies the link's `on_full` policy to the rest
//! (keep it and block, or drop it, counted by policy). Receivers report consumption, which
//! grants credits or requests more upstream after the link's latency.
//!
//! "Data arrived" and "space freed" notifications run along the same indices. Ones that
//! would re-enter a node already handling an event (the producer's retry, a consumer's
//! wake-up) are scheduled as events at the current time instead, so every handler sees a
//! consistent state. The components live in their own modules: the producer
//! (`producer.rs`), links (`link.rs`), channels (`channel.rs`), operators and Kafka's
//! producer client (`stage.rs`), the topic (`topic.rs`), the consumer group (`consumer/`);
//! the producer's heap and its OOM kills are in `memory.rs`; reading a run out is in
//! `report.rs`.
//!
//! Nothing here fails: overload, drops, OOM kills and losses are counted.

mod channel;
mod direct;
mod group;
mod kafka;
mod link;
mod memory;
mod producer;
mod report;
mod retention;

use crate::consumer::Group;
use crate::event::{Event, EventQueue};
use crate::hist::Histogram;
use crate::link::Link;
use crate::producer::Producer;
use crate::scenario::{KafkaProducerSpec, LinkSpec, Scenario, ScenarioError, StageSpec};
use crate::seg::Seg;
use crate::series::Series;
use crate::snapshot::{DropCause, DroppedBy, LossCause, LostByCause, TraceEvent, TraceKind};
use crate::stage::Node;
use crate::time::{self, to_f64, Nanos};
use crate::topic::Topic;
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use std::collections::VecDeque;

/// Trace events kept for the animation before the oldest are dropped.
const TRACE_CAP: usize = 4_096;

#[derive(Clone, Default)]
pub(crate) struct Stats {
    consumed: u64,
    duplicated: u64,
    dropped: DroppedBy,
    lost: LostByCause,
    oom_kills: u64,
    first_oom: Option<Nanos>,
    producer_oom_kills: u64,
    first_producer_oom: Option<Nanos>,
    /// Most messages the producer's process held: over the run, and since the last sample.
    max_producer_held: u64,
    window_producer_held: u64,
    max_heap: u64,
    max_in_flight: u64,
    max_lag: u64,
    rebalances: u64,
    evictions: u64,
    events: u64,
    /// Messages generated (sent or pending at the producer).
    generated: u64,
    /// Integral over time of messages in the system (generated, not yet departed), msg·ns.
    area_system: f64,
    /// Integral of messages waiting (in the system, not in service), msg·ns.
    area_queue: f64,
    area_at: Nanos,
    /// Messages in service now (held by busy workers).
    in_service: u64,
    /// Sum of time in system over departures (processed, dropped, lost), seconds.
    sojourn_s: f64,
    /// Departures: processed + dropped + lost (kept as one sum for the time integrals).
    departures: u64,
}

impl Stats {
    pub fn departed(&self) -> u64 {
        debug_assert_eq!(self.departures, self.consumed + self.dropped.total() + self.lost.total());
        self.departures
    }

    pub fn in_system(&self) -> u64 {
        self.generated - self.departed()
    }
}

/// How far a call to [`Simulation::run_until`] got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunStatus {
    /// Events handled by this call.
    pub events: u64,
    /// True when the target time was reached; false when the event budget ran out first.
    pub reached: bool,
}

/// One run of one scenario. Deterministic: the same scenario (seed included) gives the
/// same events, series and summary.
#[derive(Clone)]
pub struct Simulation {
    scenario: Scenario,
    now: Nanos,
    events: EventQueue,
    rng: Pcg64Mcg,
    sample_every: Nanos,
    producer: Producer,
    /// Stage `i` is node `i + 1`.
    stages: Vec<Node>,
    /// The topic (at most one, the last stage: its node is `Node::Topic`).
    topic: Option<Topic>,
    /// `links[j]` carries messages into node `j` (`links[0]` is unused).
    links: Vec<Link>,
    group: Group,
    stats: Stats,
    series: Series,
    latency: Histogram,
    window: Histogram,
    tracing: bool,
    trace: VecDeque<TraceEvent>,
    lag_scratch: Vec<u64>,
    depth_scratch: Vec<u64>,
    /// Runs a poll returned, before they are queued (reused: no allocation per poll).
    arrived_scratch: Vec<(usize, Seg)>,
    /// The run's shape allows the direct path (`direct.rs`), decided at set-up.
    direct_ok: bool,
    /// The direct path is in use: allowed, and not tracing.
    direct: bool,
}

impl Simulation {
    /// Validates the scenario and sets up a run at time 0.
    // Never inlined: the page builds simulations in several places, and one copy of this
    // large function is enough.
    #[inline(never)]
    pub fn new(scenario: &Scenario) -> Result<Simulation, ScenarioError> {
        scenario.validate()?;
        let s = scenario.clone();
        let res = time::from_millis(s.sim.resolution_ms);
        let p = &s.producer;
        let producer = Producer::new(p, res, s.seed);
        let msg_bytes = p.message_bytes.max(1);
        // The producer client's batch.size decides how many records go to a partition in a row.
        let batch_bytes = s
            .stages
            .iter()
            .find_map(|st| match st {
                StageSpec::KafkaProducer(k) => Some(k.batch_size_bytes),
                _ => None,
            })
            .unwrap_or(KafkaProducerSpec::default().batch_size_bytes);
        let mut links = vec![Link::new(&LinkSpec::default(), res)];
        let mut topic = None;
        let stages: Vec<Node> = s
            .stages
            .iter()
            .map(|spec| {
                let (node, link) = match spec {
                    StageSpec::Topic(t) => {
                        topic = Some(Topic::new(t, (batch_bytes / msg_bytes).max(1), msg_bytes, res));
                        (Node::Topic, LinkSpec::default())
                    }
                    other => Node::new(other, msg_bytes, res),
                };
                links.push(Link::new(&link, res));
                node
            })
            .collect();
        links.push(Link::new(&s.consumer.link, res));
        // The size of one send on each link, from the consumer back: an operator's link
        // takes the one after it.
        for j in (1..links.len()).rev() {
            let (capacity, after) = match stages.get(j - 1) {
                Some(Node::Channel(b)) => (b.cap, None),
                Some(Node::Kafka(k)) => (k.buf.cap, None),
                Some(Node::Map | Node::Filter(_)) => (None, Some(links[j + 1].unit)),
                _ => (None, None),
            };
            links[j].set_unit(capacity, after);
        }
        let group = Group::new(&s, topic.as_ref(), &stages, res);
        let partitions = group.partitions;
        let sample_every = time::from_millis(s.sim.sample_interval_ms);
        let mut sim = Simulation {
            series: Series::new(time::secs(sample_every), s.sim.max_points as usize, partitions, s.stages.len()),
            rng: Pcg64Mcg::seed_from_u64(s.seed ^ 0x005E_ED0F_5E41_1CE5),
            scenario: s,
            now: 0,
            events: EventQueue::new(),
            sample_every,
            producer,
            stages,
            topic,
            links,
            group,
            stats: Stats::default(),
            latency: Histogram::new(),
            window: Histogram::new(),
            tracing: false,
            trace: VecDeque::new(),
            lag_scratch: Vec::with_capacity(partitions),
            depth_scratch: Vec::new(),
            arrived_scratch: Vec::new(),
            direct_ok: false,
            direct: false,
        };
        sim.events.push(0, Event::Sample);
        let first = sim.producer.gen.next_due();
        if first != Nanos::MAX {
            sim.events.push(first, Event::Produce { gen: 0 });
        }
        if let Some(t) = &sim.producer.throttle {
            let every = t.interval().max(1);
            sim.events.push(every, Event::Throttle);
        }
        if let Some(t) = &sim.topic {
            if t.has_retention() {
                // The topic is the last stage.
                sim.events.push(t.retention_every(), Event::Retention { node: sim.stages.len() as u16 });
            }
        }
        sim.group_start();
        // Not on wasm: the page always traces (for the animation), so there the direct path
        // would be dead code in every visitor's download.
        sim.direct_ok = cfg!(not(target_arch = "wasm32")) && sim.direct_eligible();
        sim.direct = sim.direct_ok;
        Ok(sim)
    }

    /// The scenario this run was built from.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Simulated time, seconds.
    pub fn now_s(&self) -> f64 {
        time::secs(self.now)
    }

    /// Events handled since the start.
    pub fn events_handled(&self) -> u64 {
        self.stats.events
    }

    /// Handles every event due at or before `t_s`, at most `max_events` of them.
    pub fn run_until(&mut self, t_s: f64, max_events: u64) -> RunStatus {
        let target = time::from_secs(t_s).max(self.now);
        // (`cfg!` keeps the direct path out of the wasm build altogether, see `new`.)
        if cfg!(not(target_arch = "wasm32")) && self.direct {
            return self.run_direct(target, max_events);
        }
        self.run_loop(target, max_events, Simulation::handle)
    }

    /// The event loop, with the handler to apply to each event (inlined into each caller).
    #[inline(always)]
    pub(crate) fn run_loop(&mut self, target: Nanos, max_events: u64, mut handle: impl FnMut(&mut Self, Event)) -> RunStatus {
        let mut handled = 0;
        loop {
            if handled == max_events && self.events.peek_time().is_some_and(|at| at <= target) {
                self.stats.events += handled;
                return RunStatus { events: handled, reached: false };
            }
            let Some((at, event)) = self.events.pop_until(target) else { break };
            self.now = at;
            handle(self, event);
            handled += 1;
        }
        self.stats.events += handled;
        self.now = target;
        RunStatus { events: handled, reached: true }
    }

    /// Runs to `duration_s` with no event budget, and closes the series with a point at the
    /// end that agrees with the summary (after a sample taken at that instant, if any).
    pub fn run_to_end(&mut self) {
        let end = self.scenario.duration_s;
        self.run_until(end, u64::MAX);
        self.close_series();
    }

    /// Record trace events for the animation (off by default: headless runs skip the cost).
    pub fn set_tracing(&mut self, on: bool) {
        self.tracing = on;
        self.direct = self.direct_ok && !on;
        if !on {
            self.trace.clear();
        }
    }

    /// Moves the trace events recorded since the last call into `out`, oldest first.
    pub fn drain_trace(&mut self, out: &mut Vec<TraceEvent>) {
        out.extend(self.trace.drain(..));
    }

    /// The recorded time series.
    pub fn series(&self) -> &Series {
        &self.series
    }

    pub(crate) fn handle(&mut self, event: Event) {
        match event {
            Event::Produce { gen } => {
                if gen == self.producer.produce_gen {
                    self.on_produce();
                }
            }
            Event::ProducerRetry => self.on_producer_retry(),
            Event::BlockTimeout { gen } => self.on_block_timeout(gen),
            Event::HoldExpired { link, gen } => self.on_hold_expired(link as usize, gen),
            Event::Grant { link, n } => self.on_grant(link as usize, n),
            Event::Drain { node } => self.on_drain(node as usize),
            Event::Retention { node } => self.on_retention(node as usize),
            Event::Throttle => self.on_throttle(),
            Event::Sample => self.on_sample(),
            // The group's events (sim/group/), in the same match: one jump per event.
            Event::FetchDone { member, gen } => self.on_fetch_done(member as usize, gen),
            Event::PollDone { member, gen } => self.on_poll_event(member as usize, gen),
            Event::PollTimeout { member, gen } => self.on_poll_timeout(member as usize, gen),
            Event::PollIntervalCheck { member, gen } => self.on_interval_check(member as usize, gen),
            Event::WorkerDone { member, worker, epoch } => self.on_worker_done(member as usize, worker as usize, epoch),
            Event::CallDue { member, worker, epoch } => self.on_call_due(member as usize, worker as usize, epoch),
            Event::CommitDone { member, epoch } => self.on_commit_done(member as usize, epoch),
            Event::Restart { member } => self.on_restart(member as usize),
            Event::ProducerRestart => self.on_producer_restart(),
            Event::RebalanceDone { gen } => self.on_rebalance_done(gen),
        }
    }

    #[inline]
    pub(crate) fn note(&mut self, kind: TraceKind) {
        if self.tracing {
            self.record_trace(kind);
        }
    }

    #[cold]
    fn record_trace(&mut self, kind: TraceKind) {
        if self.trace.len() == TRACE_CAP {
            self.trace.pop_front();
        }
        self.trace.push_back(TraceEvent { t_s: time::secs(self.now), kind });
    }

    pub(crate) fn consumer_node(&self) -> usize {
        self.stages.len() + 1
    }

    // ---- accounting -----------------------------------------------------------------

    /// Brings the time integrals up to now; call before any change to what they integrate.
    #[inline]
    pub(crate) fn touch(&mut self) {
        if self.now > self.stats.area_at {
            let dt = to_f64(self.now - self.stats.area_at);
            let in_system = to_f64(self.stats.in_system());
            self.stats.area_system += in_system * dt;
            self.stats.area_queue += (in_system - to_f64(self.stats.in_service)).max(0.0) * dt;
            self.stats.area_at = self.now;
        }
    }

    /// Total time in system of the messages of `seg`, leaving now, in seconds.
    #[inline]
    pub(crate) fn sojourn_of(&self, seg: &Seg) -> f64 {
        let mid = (to_f64(seg.t0) + to_f64(seg.t1)) / 2.0;
        to_f64(seg.n) * (to_f64(self.now) - mid).max(0.0) * 1e-9
    }

    /// Counts `seg` as dropped at node `node` by `cause`.
    pub(crate) fn drop_run(&mut self, node: usize, seg: Seg, cause: DropCause) {
        if seg.n == 0 {
            return;
        }
        self.touch();
        self.stats.sojourn_s += self.sojourn_of(&seg);
        self.stats.dropped.add(cause, seg.n);
        self.stats.departures += seg.n;
        if node >= 1 && node <= self.stages.len() {
            match &mut self.stages[node - 1] {
                Node::Channel(b) => b.dropped += seg.n,
                Node::Kafka(k) => k.buf.dropped += seg.n,
                Node::Filter(f) => f.dropped += seg.n,
                _ => {}
            }
        }
        self.note(TraceKind::Dropped { node: node as u16, n: seg.n, cause });
    }

    /// Counts `n` messages of `seg` as lost by `cause`.
    pub(crate) fn lose(&mut self, n: u64, seg: &Seg, cause: LossCause) {
        if n == 0 {
            return;
        }
        self.touch();
        let mid = (seg.t0 as f64 + seg.t1 as f64) / 2.0;
        self.stats.sojourn_s += n as f64 * (self.now as f64 - mid).max(0.0) * 1e-9;
        self.stats.lost.add(cause, n);
        self.stats.departures += n;
    }

    /// What a throttle reacts to: topic lag, or without a topic, everything queued.
    pub(crate) fn backlog(&self) -> u64 {
        match &self.topic {
            Some(t) => t.lag(),
            None => self.buffered() + self.group.in_flight(),
        }
    }

    /// Messages held by channels and the Kafka client.
    pub(crate) fn buffered(&self) -> u64 {
        self.stages
            .iter()
            .map(|s| match s {
                Node::Channel(b) => b.q.total(),
                Node::Kafka(k) => k.buf.q.total(),
                _ => 0,
            })
            .sum()
    }
}
