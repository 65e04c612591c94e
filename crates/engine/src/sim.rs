//! The simulation core: the state of every node, the event loop, the producer, and the
//! links between nodes with their flow control.
//!
//! Nodes are numbered along the pipeline: 0 is the producer, `1..=S` are the scenario's
//! stages in order, and `S + 1` is the consumer group. Link `j` carries messages from node
//! `j - 1` into node `j`. A sender asks [`Simulation::space`] how much link `j` takes now
//! (the receiver's room, the link's credits or outstanding demand, through transparent
//! operators), delivers that much, and applies the link's `on_full` policy to the rest
//! (keep it and block, or drop it, counted by policy). Receivers report consumption, which
//! grants credits or requests more upstream after the link's latency.
//!
//! "Data arrived" and "space freed" notifications run along the same indices. Ones that
//! would re-enter a node already handling an event (the producer's retry, a consumer's
//! wake-up) are scheduled as events at the current time instead, so every handler sees a
//! consistent state. The consumer group lives in `consumer.rs`, reporting in `report.rs`.
//!
//! Nothing here fails: overload, drops, OOM kills and losses are counted.

use crate::control::Throttle;
use crate::event::{Event, EventQueue};
use crate::hist::Histogram;
use crate::scenario::{FlowControl, LinkSpec, OnFull, Scenario, ScenarioError, ShedSpec, StageSpec};
use crate::seg::{Seg, SegQueue};
use crate::series::Series;
use crate::snapshot::{DropCause, DroppedBy, LostByCause, TraceEvent, TraceKind};
use crate::time::{self, to_f64, Nanos};
use crate::traffic::ArrivalGen;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use std::collections::VecDeque;

pub(crate) use crate::consumer::Group;

/// Entries a queue of runs keeps before merging neighbours (see [`SegQueue`]).
pub(crate) const QUEUE_CAP: usize = 512;
/// Trace events kept for the animation before the oldest are dropped.
const TRACE_CAP: usize = 4_096;

#[derive(Clone)]
pub(crate) struct Producer {
    pub gen: ArrivalGen,
    pub throttle: Option<Throttle>,
    pub pending: Option<Seg>,
    pub blocked_since: Option<Nanos>,
    pub blocked_total: Nanos,
    /// Invalidates stale block-timeout events.
    pub block_gen: u32,
    pub retry_scheduled: bool,
    /// Invalidates scheduled arrivals when the schedule changes (throttling).
    pub produce_gen: u32,
    /// Sequence number of the next message generated.
    pub seq: u64,
    /// Messages sent: accepted downstream, or dropped/failed by the first link's policy.
    pub produced: u64,
}

/// A buffer: channel, queue, Kafka producer client's `buffer.memory`.
#[derive(Clone)]
pub(crate) struct Buffer {
    pub cap: Option<u64>,
    pub q: SegQueue,
    pub shed: Option<ShedSpec>,
    /// RED's moving average of the queue length.
    pub avg: f64,
    pub dropped: u64,
}

impl Buffer {
    pub fn room(&self) -> u64 {
        self.cap.map_or(u64::MAX, |c| c.saturating_sub(self.q.total()))
    }
}

/// Deterministic thinning: passes exactly `ratio` of the messages in the long run.
#[derive(Clone)]
pub(crate) struct Filter {
    pub ratio: f64,
    /// Fractional pass credit carried between runs, in [0, 1).
    pub phase: f64,
    /// Offsets for the messages that pass (a fresh contiguous sequence).
    pub seq: u64,
    pub dropped: u64,
}

impl Filter {
    /// How many of the next `k` messages pass.
    fn passes(&self, k: u64) -> u64 {
        (self.phase + k as f64 * self.ratio).floor() as u64
    }

    /// The most messages that can be sent so that at most `room` pass.
    fn originals_for(&self, room: u64) -> u64 {
        if room == u64::MAX {
            return u64::MAX;
        }
        let mut k = (((room + 1) as f64 - self.phase) / self.ratio).floor().max(0.0) as u64;
        while k > 0 && self.passes(k) > room {
            k -= 1;
        }
        while self.passes(k + 1) <= room && k < room.saturating_mul(1_000_000) {
            k += 1;
        }
        k
    }
}

/// Kafka's producer client in front of the topic.
#[derive(Clone)]
pub(crate) struct KafkaClient {
    pub buf: Buffer,
    pub batch: u64,
    pub linger: Nanos,
    pub rate: f64,
    /// The sender may send the next batch at this time (the broker's rate).
    pub next_free: Nanos,
    pub drain_at: Option<Nanos>,
}

#[derive(Clone)]
pub(crate) struct Partition {
    /// Offsets below this were deleted by retention.
    pub log_start: u64,
    pub log_end: u64,
    /// Next offset to fetch.
    pub position: u64,
    pub committed: u64,
    /// Records `[position, log_end)`.
    pub unfetched: SegQueue,
    /// Records `[max(committed, log_start), position)`: fetched, kept for redelivery.
    pub uncommitted: SegQueue,
    /// Offsets handled (processed or shed) at least once, pruned below what can recur.
    pub done: crate::rangeset::RangeSet,
    /// Member that owns the partition now.
    pub owner: Option<u16>,
}

impl Partition {
    pub fn commit(&mut self, c: u64) {
        let c = c.min(self.position);
        if c > self.committed {
            self.committed = c;
            self.uncommitted.drop_below(c);
        }
    }

    /// Back to the committed offset: everything fetched since is fetched again.
    pub fn rewind(&mut self) {
        self.unfetched.prepend(&mut self.uncommitted);
        self.position = self.committed.max(self.log_start);
    }

    pub fn lag(&self) -> u64 {
        self.log_end - self.committed.max(self.log_start).min(self.log_end)
    }
}

#[derive(Clone)]
pub(crate) struct Topic {
    pub parts: Vec<Partition>,
    /// The partition the producer is filling now (sticky partitioner).
    pub rr: usize,
    /// Records sent to it in the current batch, and a batch's size in records.
    pub in_batch: u64,
    pub batch: u64,
    pub fetch_latency: Nanos,
    pub retention: Option<Nanos>,
    pub retention_records: Option<u64>,
    /// Partitions with unfetched records: a member that wants a fetch skips its scan of the
    /// partitions when there are none (counted where records are appended and fetched;
    /// recounted after rewinds and retention).
    pub unfetched_parts: usize,
}

impl Topic {
    /// Appends a run as Kafka's default partitioner does for records without a key (the
    /// sticky partitioner, KIP-480 and KIP-794): records fill one partition's batch
    /// (`batch.size`), then the next partition round-robin, so each batch lands whole.
    fn append(&mut self, mut seg: Seg) {
        let p = self.parts.len();
        while seg.n > 0 {
            let room = self.batch - self.in_batch;
            let (now, rest) = if seg.n <= room {
                (seg, None)
            } else {
                let (a, b) = seg.split(room);
                (a, Some(b))
            };
            let part = &mut self.parts[self.rr];
            self.unfetched_parts += part.unfetched.is_empty() as usize;
            part.unfetched.push_back(Seg { off: part.log_end, ..now });
            part.log_end += now.n;
            self.in_batch += now.n;
            if self.in_batch == self.batch {
                self.in_batch = 0;
                self.rr = (self.rr + 1) % p;
            }
            match rest {
                Some(r) => seg = r,
                None => break,
            }
        }
    }

    /// Counts the partitions with unfetched records afresh.
    pub fn recount_unfetched(&mut self) {
        self.unfetched_parts = self.parts.iter().filter(|p| !p.unfetched.is_empty()).count();
    }

    pub fn unfetched(&self) -> u64 {
        self.parts.iter().map(|p| p.unfetched.total()).sum()
    }

    pub fn lag(&self) -> u64 {
        self.parts.iter().map(Partition::lag).sum()
    }
}

#[derive(Clone)]
pub(crate) enum Node {
    Channel(Buffer),
    Map,
    Filter(Filter),
    Kafka(KafkaClient),
    Topic(Topic),
}

/// Credits or demand held by a link's sender.
#[derive(Clone)]
pub(crate) struct Window {
    pub request: bool,
    pub permits: u64,
    /// Credits: the sender sends only with at least this many.
    pub batch: u64,
    pub replenish: u64,
    /// Finished by the receiver since its last grant.
    pub consumed: u64,
    pub latency: Nanos,
    pub in_transit: u64,
}

#[derive(Clone)]
pub(crate) struct Link {
    pub spec: LinkSpec,
    pub window: Option<Window>,
}

impl Link {
    fn new(spec: &LinkSpec) -> Link {
        let window = match &spec.control {
            FlowControl::None {} => None,
            FlowControl::Credit { initial, grant, batch, latency_ms } => Some(Window {
                request: false,
                permits: *initial,
                batch: *batch,
                replenish: *grant,
                consumed: 0,
                latency: time::from_millis(*latency_ms),
                in_transit: 0,
            }),
            FlowControl::Request { prefetch, replenish, latency_ms } => Some(Window {
                request: true,
                permits: *prefetch,
                batch: 1,
                replenish: ((*prefetch as f64 * replenish).round() as u64).max(1),
                consumed: 0,
                latency: time::from_millis(*latency_ms),
                in_transit: 0,
            }),
        };
        Link { spec: spec.clone(), window }
    }

    /// What the window lets the sender send now.
    fn permits(&self) -> u64 {
        match &self.window {
            None => u64::MAX,
            Some(w) if w.permits >= w.batch => w.permits,
            Some(_) => 0,
        }
    }
}

#[derive(Clone, Default)]
pub(crate) struct Stats {
    pub consumed: u64,
    pub duplicated: u64,
    pub dropped: DroppedBy,
    pub lost: LostByCause,
    pub oom_kills: u64,
    pub first_oom: Option<Nanos>,
    pub max_heap: u64,
    pub max_in_flight: u64,
    pub max_lag: u64,
    pub rebalances: u64,
    pub evictions: u64,
    pub events: u64,
    /// Messages generated (sent or pending at the producer).
    pub generated: u64,
    /// Integral over time of messages in the system (generated, not yet departed), msg·ns.
    pub area_system: f64,
    /// Integral of messages waiting (in the system, not in service), msg·ns.
    pub area_queue: f64,
    pub area_at: Nanos,
    /// Messages in service now (held by busy workers).
    pub in_service: u64,
    /// Sum of time in system over departures (processed, dropped, lost), seconds.
    pub sojourn_s: f64,
    /// Departures: processed + dropped + lost (kept as one sum for the time integrals).
    pub departures: u64,
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
    pub(crate) scenario: Scenario,
    pub(crate) now: Nanos,
    pub(crate) events: EventQueue,
    pub(crate) rng: Pcg64Mcg,
    pub(crate) sample_every: Nanos,
    pub(crate) producer: Producer,
    /// Stage `i` is node `i + 1`.
    pub(crate) stages: Vec<Node>,
    /// `links[j]` carries messages into node `j` (`links[0]` is unused).
    pub(crate) links: Vec<Link>,
    pub(crate) group: Group,
    pub(crate) stats: Stats,
    pub(crate) series: Series,
    pub(crate) latency: Histogram,
    pub(crate) window: Histogram,
    pub(crate) tracing: bool,
    pub(crate) trace: VecDeque<TraceEvent>,
    pub(crate) lag_scratch: Vec<u64>,
    pub(crate) depth_scratch: Vec<u64>,
    /// Runs a poll returned, before they are queued (reused: no allocation per poll).
    pub(crate) arrived_scratch: Vec<(usize, Seg)>,
    /// The stage index of the topic (there is at most one), found once.
    pub(crate) topic_at: Option<usize>,
    /// The run's shape allows the direct path (`direct.rs`), decided at set-up.
    pub(crate) direct_ok: bool,
    /// The direct path is in use: allowed, and not tracing.
    pub(crate) direct: bool,
}

impl Simulation {
    /// Validates the scenario and sets up a run at time 0.
    pub fn new(scenario: &Scenario) -> Result<Simulation, ScenarioError> {
        scenario.validate()?;
        let s = scenario.clone();
        let res = time::from_millis(s.sim.resolution_ms);
        let p = &s.producer;
        let producer = Producer {
            gen: ArrivalGen::new(p.arrivals, &p.pattern, p.rate_per_s, res, s.seed),
            throttle: p.throttle.as_ref().map(|t| Throttle::new(t, p.rate_per_s)),
            pending: None,
            blocked_since: None,
            blocked_total: 0,
            block_gen: 0,
            retry_scheduled: false,
            produce_gen: 0,
            seq: 0,
            produced: 0,
        };
        let msg_bytes = p.message_bytes.max(1);
        // The producer client's batch.size decides how many records go to a partition in a row.
        let batch_bytes = s
            .stages
            .iter()
            .find_map(|st| match st {
                StageSpec::KafkaProducer(k) => Some(k.batch_size_bytes),
                _ => None,
            })
            .unwrap_or(crate::scenario::KafkaProducerSpec::default().batch_size_bytes);
        let mut links = vec![Link::new(&LinkSpec::default())];
        let stages: Vec<Node> = s
            .stages
            .iter()
            .map(|spec| {
                let (node, link) = match spec {
                    StageSpec::Channel(c) => (
                        Node::Channel(Buffer {
                            cap: c.capacity,
                            q: SegQueue::new(QUEUE_CAP, res),
                            shed: c.shed.clone(),
                            avg: 0.0,
                            dropped: 0,
                        }),
                        c.link.clone(),
                    ),
                    StageSpec::Map(m) => (Node::Map, m.link.clone()),
                    StageSpec::Filter(f) => (Node::Filter(Filter { ratio: f.pass_ratio, phase: 0.0, seq: 0, dropped: 0 }), f.link.clone()),
                    StageSpec::KafkaProducer(k) => (
                        Node::Kafka(KafkaClient {
                            buf: Buffer {
                                cap: Some((k.buffer_memory_bytes / msg_bytes).max(1)),
                                q: SegQueue::new(QUEUE_CAP, res),
                                shed: None,
                                avg: 0.0,
                                dropped: 0,
                            },
                            batch: (k.batch_size_bytes / msg_bytes).max(1),
                            linger: time::from_millis(k.linger_ms),
                            rate: k.broker_rate_per_s,
                            next_free: 0,
                            drain_at: None,
                        }),
                        LinkSpec { block_timeout_ms: Some(k.max_block_ms), ..LinkSpec::default() },
                    ),
                    StageSpec::Topic(t) => (
                        Node::Topic(Topic {
                            parts: (0..t.partitions)
                                .map(|_| Partition {
                                    log_start: 0,
                                    log_end: 0,
                                    position: 0,
                                    committed: 0,
                                    unfetched: SegQueue::new(QUEUE_CAP, res).strict(),
                                    uncommitted: SegQueue::new(QUEUE_CAP, res).strict(),
                                    done: crate::rangeset::RangeSet::new(),
                                    owner: None,
                                })
                                .collect(),
                            rr: 0,
                            in_batch: 0,
                            batch: (batch_bytes / msg_bytes).max(1),
                            fetch_latency: time::from_millis(t.fetch_latency_ms),
                            retention: t.retention_ms.map(time::from_millis),
                            retention_records: t.retention_bytes.map(|b| (b / msg_bytes).max(1)),
                            unfetched_parts: 0,
                        }),
                        LinkSpec::default(),
                    ),
                };
                links.push(Link::new(&link));
                node
            })
            .collect();
        links.push(Link::new(&s.consumer.link));
        let group = Group::new(&s, &stages, res);
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
            topic_at: None,
            direct_ok: false,
            direct: false,
        };
        sim.topic_at = sim.stages.iter().position(|s| matches!(s, Node::Topic(_)));
        sim.events.push(0, Event::Sample);
        let first = sim.producer.gen.next_due();
        if first != Nanos::MAX {
            sim.events.push(first, Event::Produce { gen: 0 });
        }
        if let Some(t) = &sim.producer.throttle {
            let every = t.interval().max(1);
            sim.events.push(every, Event::Throttle);
        }
        for (i, node) in sim.stages.iter().enumerate() {
            if let Node::Topic(t) = node {
                if t.retention.is_some() || t.retention_records.is_some() {
                    sim.events.push(Self::retention_every(t), Event::Retention { node: (i + 1) as u16 });
                }
            }
        }
        sim.group_start();
        // Not on wasm: the page always traces (for the animation), so there the direct path
        // would be dead code in every visitor's download.
        sim.direct_ok = cfg!(not(target_arch = "wasm32")) && sim.direct_eligible();
        sim.direct = sim.direct_ok;
        Ok(sim)
    }

    fn retention_every(t: &Topic) -> Nanos {
        t.retention.map_or(time::from_secs(1.0), |r| (r / 20).clamp(time::from_millis(10.0), time::from_secs(1.0)))
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

    /// Runs to `duration_s` with no event budget.
    pub fn run_to_end(&mut self) {
        let end = self.scenario.duration_s;
        self.run_until(end, u64::MAX);
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
            Event::Grant { link, n } => self.on_grant(link as usize, n),
            Event::Drain { node } => self.on_drain(node as usize),
            Event::Retention { node } => self.on_retention(node as usize),
            Event::Throttle => self.on_throttle(),
            Event::Sample => self.on_sample(),
            // The group's events (consumer.rs), in the same match: one jump per event.
            Event::FetchDone { member, gen } => self.on_fetch_done(member as usize, gen),
            Event::PollDone { member, gen } => self.on_poll_event(member as usize, gen),
            Event::PollTimeout { member, gen } => self.on_poll_timeout(member as usize, gen),
            Event::PollIntervalCheck { member, gen } => self.on_interval_check(member as usize, gen),
            Event::WorkerDone { member, worker, epoch } => self.on_worker_done(member as usize, worker as usize, epoch),
            Event::CommitDone { member, epoch } => self.on_commit_done(member as usize, epoch),
            Event::Restart { member } => self.on_restart(member as usize),
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
    pub(crate) fn lose(&mut self, n: u64, seg: &Seg, cause: crate::snapshot::LossCause) {
        if n == 0 {
            return;
        }
        self.touch();
        let mid = (seg.t0 as f64 + seg.t1 as f64) / 2.0;
        self.stats.sojourn_s += n as f64 * (self.now as f64 - mid).max(0.0) * 1e-9;
        self.stats.lost.add(cause, n);
        self.stats.departures += n;
    }

    // ---- producer -------------------------------------------------------------------

    fn on_produce(&mut self) {
        if self.producer.pending.is_some() {
            return;
        }
        self.generate_and_send();
        if self.producer.pending.is_none() {
            self.schedule_produce();
        }
    }

    /// Sends whatever the source generated up to now.
    fn generate_and_send(&mut self) {
        if let Some(seg) = self.take_generated() {
            self.note(TraceKind::Generated { n: seg.n });
            self.producer_send(seg);
        }
    }

    /// What the source generated up to now, counted and numbered (shared with the direct
    /// path, where it is inline).
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    pub(crate) fn take_generated(&mut self) -> Option<Seg> {
        let (n, t0, t1) = self.producer.gen.generate(self.now)?;
        self.touch();
        self.stats.generated += n;
        let seg = Seg { n, t0, t1, off: self.producer.seq };
        self.producer.seq += n;
        Some(seg)
    }

    /// Schedules the next arrivals, invalidating any earlier schedule. (Inline with its
    /// event push: once per arrival on the direct path.)
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    pub(crate) fn schedule_produce(&mut self) {
        self.producer.produce_gen = self.producer.produce_gen.wrapping_add(1);
        let next = self.producer.gen.next_due();
        if next != Nanos::MAX {
            let gen = self.producer.produce_gen;
            self.events.push_inline(next.max(self.now + 1), Event::Produce { gen });
        }
    }

    fn producer_send(&mut self, seg: Seg) {
        let before = seg.n;
        let rest = self.push(0, seg);
        let kept = rest.map_or(0, |r| r.n);
        self.producer.produced += before - kept;
        match rest {
            Some(rest) => {
                self.producer.pending = Some(rest);
                if self.producer.blocked_since.is_none() {
                    self.producer.blocked_since = Some(self.now);
                    self.producer.block_gen = self.producer.block_gen.wrapping_add(1);
                    if let Some(t) = self.links[1].spec.block_timeout_ms {
                        let gen = self.producer.block_gen;
                        self.events.push(self.now + time::from_millis(t), Event::BlockTimeout { gen });
                    }
                    self.note(TraceKind::Blocked);
                }
            }
            None => {
                if let Some(since) = self.producer.blocked_since.take() {
                    self.producer.blocked_total += self.now - since;
                    self.note(TraceKind::Unblocked);
                    self.producer.gen.restart(self.now);
                    self.schedule_produce();
                }
            }
        }
    }

    fn on_producer_retry(&mut self) {
        self.producer.retry_scheduled = false;
        if let Some(pending) = self.producer.pending.take() {
            self.producer_send(pending);
        }
    }

    /// The send has been blocked for the link's `block_timeout_ms`: it fails.
    fn on_block_timeout(&mut self, gen: u32) {
        if gen != self.producer.block_gen || self.producer.blocked_since.is_none() {
            return;
        }
        if let Some(pending) = self.producer.pending.take() {
            self.producer.produced += pending.n;
            self.drop_run(0, pending, DropCause::BlockTimeout);
        }
        self.producer_send(Seg { n: 0, t0: self.now, t1: self.now, off: self.producer.seq });
    }

    fn on_throttle(&mut self) {
        let lag = self.backlog() as f64;
        let Some(t) = &mut self.producer.throttle else { return };
        let rate = t.update(lag);
        let every = t.interval().max(1);
        self.events.push(self.now + every, Event::Throttle);
        // What arrived before the change goes out at the old rate; then the new schedule.
        if self.producer.pending.is_none() {
            self.generate_and_send();
        }
        self.producer.gen.set_rate(rate);
        self.note(TraceKind::Throttled { rate_per_s: rate });
        if self.producer.pending.is_none() {
            self.schedule_produce();
        }
    }

    /// What a throttle reacts to: topic lag, or without a topic, everything queued.
    pub(crate) fn backlog(&self) -> u64 {
        match self.topic() {
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

    // ---- links ----------------------------------------------------------------------

    /// How many messages link `j` (into node `j`) takes now.
    ///
    /// Inline: a sender asks several times per run it moves. Operators, which ask their own
    /// downstream, are out of line (the recursion would otherwise keep this from inlining).
    #[inline]
    pub(crate) fn space(&self, j: usize) -> u64 {
        let permits = self.links[j].permits();
        if j == self.consumer_node() {
            return permits;
        }
        let room = match &self.stages[j - 1] {
            Node::Channel(b) => {
                if self.links[j].spec.on_full == OnFull::DropOldest {
                    u64::MAX
                } else {
                    b.room()
                }
            }
            Node::Kafka(k) => k.buf.room(),
            Node::Map | Node::Filter(_) => self.operator_space(j),
            Node::Topic(_) => u64::MAX,
        };
        room.min(permits)
    }

    /// What the operator at node `j` takes: what its downstream takes (for a filter, the
    /// most originals of which at most that many pass).
    #[inline(never)]
    fn operator_space(&self, j: usize) -> u64 {
        match &self.stages[j - 1] {
            Node::Filter(f) => f.originals_for(self.space(j + 1)),
            _ => self.space(j + 1),
        }
    }

    /// Sends `seg` from node `from` over link `from + 1`: delivers what fits and applies the
    /// link's `on_full` policy to the rest. Returns what the sender keeps (blocked).
    pub(crate) fn push(&mut self, from: usize, seg: Seg) -> Option<Seg> {
        if seg.n == 0 {
            return None;
        }
        let j = from + 1;
        let take = seg.n.min(self.space(j));
        let rest = if take == 0 {
            Some(seg)
        } else if take == seg.n {
            self.deliver(from, seg);
            None
        } else {
            let (head, tail) = seg.split(take);
            self.deliver(from, head);
            Some(tail)
        };
        let rest = rest?;
        match self.links[j].spec.on_full {
            OnFull::Block => Some(rest),
            OnFull::DropNewest => {
                self.drop_run(j, rest, DropCause::DropNewest);
                None
            }
            OnFull::Fail => {
                self.drop_run(j, rest, DropCause::Fail);
                None
            }
            OnFull::DropOldest => {
                // Only channels take this policy (validated): they never refuse, see `space`.
                self.drop_run(j, rest, DropCause::DropOldest);
                None
            }
        }
    }

    /// Moves `seg` (which fits) from node `from` into node `from + 1`.
    fn deliver(&mut self, from: usize, seg: Seg) {
        let j = from + 1;
        if let Some(w) = &mut self.links[j].window {
            w.permits -= seg.n;
        }
        self.note(TraceKind::Moved { from: from as u16, to: j as u16, n: seg.n });
        if j == self.consumer_node() {
            self.group_receive(seg);
            return;
        }
        match &mut self.stages[j - 1] {
            Node::Channel(_) => self.buffer_arrive(j, seg),
            Node::Map => self.deliver(j, seg),
            Node::Filter(f) => {
                let pass = f.passes(seg.n);
                f.phase = f.phase + seg.n as f64 * f.ratio - pass as f64;
                let out = Seg { n: pass, t0: seg.t0, t1: seg.t1, off: f.seq };
                f.seq += pass;
                if pass < seg.n {
                    let dropped = Seg { n: seg.n - pass, ..seg };
                    self.drop_run(j, dropped, DropCause::Filter);
                }
                if pass > 0 {
                    self.deliver(j, out);
                }
            }
            Node::Kafka(k) => {
                k.buf.q.push_back(seg);
                self.kafka_schedule(j);
            }
            Node::Topic(t) => {
                t.append(seg);
                self.on_data(j);
            }
        }
    }

    /// A run arrives at channel `j`: shedding first, then drop-oldest, then the queue.
    fn buffer_arrive(&mut self, j: usize, mut seg: Seg) {
        // Speed only (the result is the same either way), so not in the wasm build, where
        // the download counts more.
        if cfg!(not(target_arch = "wasm32")) && self.passes_through(j, &seg) {
            // What queueing the run and `transfer` would do, without the queue round trip.
            let kept = self.push(j, seg);
            debug_assert!(kept.is_none(), "the downstream took the whole run");
            self.taken_from(j, seg.n);
            return;
        }
        let drop_oldest = self.links[j].spec.on_full == OnFull::DropOldest;
        let Node::Channel(b) = &mut self.stages[j - 1] else { unreachable!("buffer_arrive on a channel") };
        let depth = b.q.total();
        let shed = match &b.shed {
            Some(ShedSpec::QueueLength { max_queue }) => seg.n.saturating_sub(max_queue.saturating_sub(depth)),
            Some(ShedSpec::Red { min_queue, max_queue, max_p, weight }) => {
                b.avg += weight * (depth as f64 - b.avg);
                let p = if b.avg < *min_queue as f64 {
                    0.0
                } else if b.avg >= *max_queue as f64 {
                    1.0
                } else {
                    max_p * (b.avg - *min_queue as f64) / (*max_queue - *min_queue) as f64
                };
                binomial(&mut self.rng, seg.n, p)
            }
            _ => 0,
        };
        let cause = match &b.shed {
            Some(ShedSpec::Red { .. }) => DropCause::ShedRed,
            _ => DropCause::ShedQueueLength,
        };
        let mut evict = 0;
        if drop_oldest {
            if let Some(cap) = b.cap {
                let incoming = seg.n - shed;
                evict = (depth + incoming).saturating_sub(cap).min(depth);
            }
        }
        let mut evicted = Vec::new();
        let mut left = evict;
        while left > 0 {
            let Some(old) = b.q.pop_front(left) else { break };
            left -= old.n;
            evicted.push(old);
        }
        let (b_cap, b_total) = (b.cap, b.q.total());
        for old in evicted {
            self.drop_run(j, old, DropCause::DropOldest);
            self.window_consumed(j, old.n);
        }
        if shed > 0 {
            let (gone, kept) = if shed == seg.n {
                (seg, None)
            } else {
                let (a, b) = seg.split(shed);
                (a, Some(b))
            };
            self.drop_run(j, gone, cause);
            self.window_consumed(j, gone.n);
            match kept {
                Some(k) => seg = k,
                None => return,
            }
        }
        // With drop-oldest, a run larger than the whole channel keeps only its newest part.
        if let Some(cap) = b_cap {
            let over = (b_total + seg.n).saturating_sub(cap);
            if over > 0 {
                let (old, new) = seg.split(over.min(seg.n - 1));
                self.drop_run(j, old, DropCause::DropOldest);
                self.window_consumed(j, old.n);
                seg = new;
            }
        }
        let Node::Channel(b) = &mut self.stages[j - 1] else { unreachable!() };
        b.q.push_back(seg);
        self.on_data(j);
    }

    /// Does a run arriving at channel `j` go straight on? It does when the channel is empty,
    /// sheds nothing, holds the run, and is drained by a sender (not polled by the group)
    /// whose link takes the whole run now: queued, it would leave again at once, whole.
    #[inline]
    fn passes_through(&self, j: usize, seg: &Seg) -> bool {
        let Node::Channel(b) = &self.stages[j - 1] else { return false };
        b.q.is_empty()
            && b.shed.is_none()
            && b.cap.is_none_or(|c| seg.n <= c)
            && !(j + 1 == self.consumer_node() && self.group.polls)
            && self.space(j + 1) >= seg.n
    }

    /// Node `node` has new data: its downstream takes it.
    pub(crate) fn on_data(&mut self, node: usize) {
        let next = node + 1;
        if next == self.consumer_node() && self.group.polls {
            self.group_wake();
        } else if matches!(self.stages[node - 1], Node::Channel(_)) {
            self.transfer(node);
        }
    }

    /// Deadline shedding on channel `node`: messages whose turn has come after their
    /// deadline are dropped instead of passed on.
    #[inline]
    pub(crate) fn shed_stale(&mut self, node: usize) {
        // The check inline, the work (rare: deadline shedding configured) out of line.
        if let Node::Channel(Buffer { shed: Some(ShedSpec::Deadline { max_age_ms }), .. }) = self.stages[node - 1] {
            self.shed_stale_deadline(node, max_age_ms);
        }
    }

    #[inline(never)]
    fn shed_stale_deadline(&mut self, node: usize, max_age_ms: f64) {
        let now = self.now;
        let Node::Channel(b) = &mut self.stages[node - 1] else { return };
        let cutoff = now.saturating_sub(time::from_millis(max_age_ms));
        let mut gone = Vec::new();
        while let Some(front) = b.q.front().copied() {
            let stale = front.count_before(cutoff);
            if stale == 0 {
                break;
            }
            gone.push(b.q.pop_front(stale).expect("front exists"));
        }
        let mut n = 0;
        for seg in gone {
            n += seg.n;
            self.drop_run(node, seg, DropCause::ShedDeadline);
        }
        if n > 0 {
            self.taken_from(node, n);
        }
    }

    /// Moves what the next link takes out of channel `node` (a sender goroutine), applying
    /// that link's policy to what it does not take.
    pub(crate) fn transfer(&mut self, node: usize) {
        self.shed_stale(node);
        let mut moved = 0;
        loop {
            let room = self.space(node + 1);
            let policy = self.links[node + 1].spec.on_full;
            let want = if policy == OnFull::Block { room } else { u64::MAX };
            if want == 0 {
                break;
            }
            let Node::Channel(b) = &mut self.stages[node - 1] else { return };
            let Some(seg) = b.q.pop_front(want) else { break };
            moved += seg.n;
            if let Some(rest) = self.push(node, seg) {
                // Blocked: put it back in front.
                moved -= rest.n;
                let Node::Channel(b) = &mut self.stages[node - 1] else { unreachable!() };
                let mut front = SegQueue::new(QUEUE_CAP, 0);
                front.push_back(rest);
                b.q.prepend(&mut front);
                break;
            }
        }
        if moved > 0 {
            self.taken_from(node, moved);
        }
    }

    /// `n` messages left channel `node`: the receiver side of its inbound link and the
    /// sender upstream learn about it.
    pub(crate) fn taken_from(&mut self, node: usize, n: u64) {
        self.window_consumed(node, n);
        self.on_space(node);
    }

    /// Node `node` has room again (or its link got permits): its upstream may push.
    pub(crate) fn on_space(&mut self, node: usize) {
        if node == 1 {
            if self.producer.pending.is_some() && !self.producer.retry_scheduled {
                self.producer.retry_scheduled = true;
                self.events.push(self.now, Event::ProducerRetry);
            }
            return;
        }
        match &self.stages[node - 2] {
            Node::Channel(_) => self.transfer(node - 1),
            Node::Map | Node::Filter(_) => self.on_space(node - 1),
            Node::Kafka(_) | Node::Topic(_) => {}
        }
    }

    /// The receiver of link `j` finished `n` messages: grant or request more when due.
    #[inline]
    pub(crate) fn window_consumed(&mut self, j: usize, n: u64) {
        if self.links[j].window.is_some() {
            self.window_consumed_windowed(j, n);
        }
    }

    fn window_consumed_windowed(&mut self, j: usize, n: u64) {
        let Some(w) = &mut self.links[j].window else { return };
        w.consumed += n;
        let mut grants = Vec::new();
        while w.consumed >= w.replenish {
            w.consumed -= w.replenish;
            w.in_transit += w.replenish;
            grants.push((w.replenish, w.latency, w.request));
        }
        for (n, latency, request) in grants {
            self.events.push(self.now + latency, Event::Grant { link: j as u16, n });
            self.note(if request { TraceKind::Requested { link: j as u16, n } } else { TraceKind::Granted { link: j as u16, n } });
        }
    }

    fn on_grant(&mut self, j: usize, n: u64) {
        if let Some(w) = &mut self.links[j].window {
            w.permits += n;
            w.in_transit -= n;
        }
        self.note(TraceKind::PermitsArrived { link: j as u16, n });
        self.on_space(j);
    }

    // ---- Kafka producer client and topic --------------------------------------------

    fn kafka_schedule(&mut self, j: usize) {
        let now = self.now;
        let Node::Kafka(k) = &mut self.stages[j - 1] else { return };
        if k.buf.q.is_empty() {
            return;
        }
        let full = k.buf.q.total() >= k.batch;
        let oldest = k.buf.q.front().map_or(now, |s| s.t0);
        let ready = if full { now } else { (oldest + k.linger).max(now) };
        let at = ready.max(k.next_free);
        if k.drain_at.is_none_or(|d| at < d) {
            k.drain_at = Some(at);
            self.events.push(at, Event::Drain { node: j as u16 });
        }
    }

    /// The client sends one batch to the broker, at the broker's pace.
    fn on_drain(&mut self, j: usize) {
        let now = self.now;
        let Node::Kafka(k) = &mut self.stages[j - 1] else { return };
        if k.drain_at != Some(now) {
            return;
        }
        k.drain_at = None;
        let full = k.buf.q.total() >= k.batch;
        let lingered = k.buf.q.front().is_some_and(|s| s.t0 + k.linger <= now);
        if now < k.next_free || !(full || lingered) {
            self.kafka_schedule(j);
            return;
        }
        let mut left = k.batch;
        let mut batch = Vec::new();
        while left > 0 {
            let Some(seg) = k.buf.q.pop_front(left) else { break };
            left -= seg.n;
            batch.push(seg);
        }
        let sent = k.batch - left;
        k.next_free = now + ((sent as f64 / k.rate) * 1e9).round() as Nanos;
        for seg in batch {
            self.deliver(j, seg);
        }
        if sent > 0 {
            self.taken_from(j, sent);
        }
        self.kafka_schedule(j);
    }

    /// The stage index of the topic, if any.
    #[inline]
    pub(crate) fn topic_index(&self) -> Option<usize> {
        self.topic_at
    }

    pub(crate) fn topic(&self) -> Option<&Topic> {
        self.topic_index().map(|i| match &self.stages[i] {
            Node::Topic(t) => t,
            _ => unreachable!(),
        })
    }

    pub(crate) fn topic_mut(&mut self) -> Option<&mut Topic> {
        let i = self.topic_index()?;
        match &mut self.stages[i] {
            Node::Topic(t) => Some(t),
            _ => unreachable!(),
        }
    }

    /// Deletes records past the topic's retention; unprocessed ones are lost.
    fn on_retention(&mut self, node: usize) {
        let now = self.now;
        let Node::Topic(t) = &mut self.stages[node - 1] else { return };
        let every = Self::retention_every(t);
        let mut deleted: Vec<(usize, Seg)> = Vec::new();
        for (p, part) in t.parts.iter_mut().enumerate() {
            let mut new_start = part.log_start;
            if let Some(r) = t.retention {
                // The log is in offset order and (nearly) in time order: what was produced
                // before the cutoff is a prefix.
                let cutoff = now.saturating_sub(r);
                'scan: for q in [&part.uncommitted, &part.unfetched] {
                    for s in q.iter() {
                        let old = s.count_before(cutoff);
                        new_start = new_start.max(s.off + old);
                        if old < s.n {
                            break 'scan;
                        }
                    }
                }
            }
            if let Some(keep) = t.retention_records {
                new_start = new_start.max(part.log_end.saturating_sub(keep));
            }
            if new_start <= part.log_start {
                continue;
            }
            for q in [&mut part.uncommitted, &mut part.unfetched] {
                while let Some(front) = q.front().copied() {
                    if front.off >= new_start {
                        break;
                    }
                    let take = (new_start - front.off).min(front.n);
                    let seg = q.pop_front(take).expect("front exists");
                    deleted.push((p, seg));
                }
            }
            part.log_start = new_start;
            if part.position < new_start {
                part.position = new_start;
            }
        }
        t.recount_unfetched();
        for (p, seg) in deleted {
            // Deleted before being handled, and no consumer holds a copy: lost to retention.
            let gone = self.unheld_undone(p, seg.off, seg.end());
            self.lose(gone, &seg, crate::snapshot::LossCause::Retention);
        }
        self.events.push(now + every, Event::Retention { node: node as u16 });
    }
}

/// A binomial draw without per-trial cost at large `n` (normal approximation above 64).
pub(crate) fn binomial(rng: &mut Pcg64Mcg, n: u64, p: f64) -> u64 {
    if p <= 0.0 || n == 0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    if n <= 64 {
        return (0..n).filter(|_| rng.random::<f64>() < p).count() as u64;
    }
    let mean = n as f64 * p;
    let sd = (mean * (1.0 - p)).sqrt();
    let z: f64 = rand_distr::Distribution::sample(&rand_distr::StandardNormal, rng);
    (mean + sd * z).round().max(0.0).min(n as f64) as u64
}
