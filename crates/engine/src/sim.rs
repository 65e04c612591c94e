//! The simulation: the state of every node, the event loop and the event handlers.
//!
//! Nodes are numbered along the pipeline: 0 is the producer, `1..=S` are the stages of the
//! scenario in order, and `S + 1` is the consumer. Data moves downstream by [`deliver`]
//! (push) and by the consumer's polls (pull); "data arrived" and "space freed" notifications
//! move along the same indices. Notifications that would re-enter a node already handling an
//! event (the producer's retry, the consumer's wake-up) are scheduled as events at the
//! current time instead of being called, so every handler sees a consistent state.
//!
//! Nothing here fails: overload, OOM kills and losses are counted.
//!
//! [`deliver`]: Simulation::deliver

use crate::event::{Event, EventQueue};
use crate::hist::Histogram;
use crate::rangeset::RangeSet;
use crate::scenario::{Arrivals, Commit, Mode, Scenario, ScenarioError, StageSpec};
use crate::seg::{Seg, SegQueue};
use crate::series::{Point, Series};
use crate::snapshot::{
    ConsumerView, Ledger, LostByCause, PartitionView, ProducerView, Snapshot, StageView, Summary,
    TraceEvent, TraceKind,
};
use crate::time::{self, Nanos};
use rand::SeedableRng;
use rand_distr::{Distribution, Exp, Poisson};
use rand_pcg::Pcg64Mcg;
use std::collections::VecDeque;

/// Entries a queue of runs keeps before merging neighbours (see [`SegQueue`]).
const QUEUE_CAP: usize = 512;
/// Trace events kept for the animation before the oldest are dropped.
const TRACE_CAP: usize = 4_096;
/// A run of completions is recorded in the latency histogram as at most this many groups.
const LATENCY_GROUPS: u64 = 16;
/// Above this many expected arrivals per resolution step, Poisson counts are drawn per step.
const POISSON_COUNT_MODE: f64 = 16.0;

struct Producer {
    arrivals: Arrivals,
    rate: f64,
    gap_ns: f64,
    exp: Exp<f64>,
    count_mode: Option<Poisson<f64>>,
    /// Constant arrivals: arrival `k` is due at `epoch + round((k + 1) * gap)`.
    epoch: Nanos,
    k: u64,
    next_at: Nanos,
    last_tick: Nanos,
    pending: Option<Seg>,
    blocked_since: Option<Nanos>,
    blocked_total: Nanos,
    retry_scheduled: bool,
    /// Sequence number of the next message generated.
    seq: u64,
    produced: u64,
}

impl Producer {
    fn at(&self, k: u64) -> Nanos {
        self.epoch + ((k + 1) as f64 * self.gap_ns).round() as Nanos
    }

    /// (Re)starts the arrival process at `t`.
    fn start(&mut self, t: Nanos, rng: &mut Pcg64Mcg) {
        self.epoch = t;
        self.k = 0;
        self.last_tick = t;
        self.next_at = match (self.arrivals, &self.count_mode) {
            (Arrivals::Constant, _) => self.at(0),
            (Arrivals::Poisson, None) => t + self.exp.sample(rng).round() as Nanos,
            (Arrivals::Poisson, Some(_)) => t,
        };
    }

    /// Every arrival due at or before `now` that has not been generated, as one run.
    fn generate(&mut self, now: Nanos, res: Nanos, rng: &mut Pcg64Mcg) -> Option<Seg> {
        let (n, t0, t1) = match (self.arrivals, &self.count_mode) {
            (Arrivals::Constant, _) => {
                let mut end = ((now - self.epoch) as f64 / self.gap_ns).floor() as u64;
                while self.at(end) <= now {
                    end += 1;
                }
                while end > self.k && self.at(end - 1) > now {
                    end -= 1;
                }
                if end <= self.k {
                    self.next_at = self.at(self.k);
                    return None;
                }
                let run = (end - self.k, self.at(self.k), self.at(end - 1));
                self.k = end;
                self.next_at = self.at(end);
                run
            }
            (Arrivals::Poisson, None) => {
                let (mut n, t0) = (0, self.next_at);
                let mut t1 = t0;
                while self.next_at <= now {
                    n += 1;
                    t1 = self.next_at;
                    self.next_at += self.exp.sample(rng).round() as Nanos;
                }
                (n, t0, t1)
            }
            (Arrivals::Poisson, Some(step)) => {
                let elapsed = now - self.last_tick;
                let n = if elapsed == res {
                    step.sample(rng) as u64
                } else {
                    let mean = self.rate * time::secs(elapsed);
                    Poisson::new(mean)
                        .map(|p| p.sample(rng) as u64)
                        .unwrap_or(0)
                };
                let t0 = (self.last_tick + 1).min(now);
                self.last_tick = now;
                self.next_at = now + res.max(1);
                (n, t0, now)
            }
        };
        if n == 0 {
            return None;
        }
        let seg = Seg {
            n,
            t0,
            t1,
            off: self.seq,
        };
        self.seq += n;
        Some(seg)
    }
}

struct Channel {
    cap: u64,
    q: SegQueue,
}

struct Partition {
    log_end: u64,
    position: u64,
    committed: u64,
    /// Records `[position, log_end)`.
    unfetched: SegQueue,
    /// Records `[committed, position)`: fetched, kept for redelivery after a crash.
    uncommitted: SegQueue,
    /// Offsets processed at least once (pruned below what can still be redelivered).
    processed: RangeSet,
}

impl Partition {
    fn commit(&mut self, c: u64) {
        let c = c.min(self.position);
        if c > self.committed {
            self.committed = c;
            self.uncommitted.drop_below(c);
        }
    }

    /// Back to the committed offset: everything fetched since is fetched again.
    fn rewind(&mut self) {
        self.unfetched.prepend(&mut self.uncommitted);
        self.position = self.committed;
    }
}

struct Topic {
    parts: Vec<Partition>,
    /// Next partition for the producer's round-robin.
    rr: usize,
    /// First partition a poll reads from (rotates, so polls are fair).
    poll_rr: usize,
    fetch_latency: Nanos,
}

impl Topic {
    /// Appends a run, spreading its messages over the partitions round-robin.
    fn append(&mut self, seg: Seg) {
        let p = self.parts.len() as u64;
        let groups = seg.n.min(p);
        for g in 0..groups {
            // Messages g, g + P, g + 2P, ... of the run go to partition rr + g.
            let count = (seg.n - g).div_ceil(p);
            let t0 = seg.time_of(g);
            let t1 = seg.time_of(g + (count - 1) * p);
            let part = &mut self.parts[(self.rr + g as usize) % p as usize];
            part.unfetched.push_back(Seg {
                n: count,
                t0,
                t1,
                off: part.log_end,
            });
            part.log_end += count;
        }
        self.rr = (self.rr + (seg.n % p) as usize) % p as usize;
    }

    fn unfetched(&self) -> u64 {
        self.parts.iter().map(|p| p.unfetched.total()).sum()
    }

    fn lag(&self) -> u64 {
        self.parts.iter().map(|p| p.log_end - p.committed).sum()
    }
}

enum Stage {
    Channel(Channel),
    Topic(Topic),
}

/// Where the consumer's records come from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Pushed straight from the producer.
    Producer,
    /// Taken from the channel at this stage index.
    Channel(usize),
    /// Polled from the topic at this stage index.
    Topic(usize),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum LoopState {
    /// Not polling (down, or between steps).
    Idle,
    /// A poll is under way.
    Fetching,
    /// Waiting for data to arrive.
    Waiting,
    /// Sync mode: waiting for the batch to be processed.
    Processing,
}

#[derive(Clone, Copy, Default)]
struct Worker {
    busy: bool,
    seg: Seg,
    part: u32,
    start: Nanos,
}

impl Default for Seg {
    fn default() -> Self {
        Seg {
            n: 0,
            t0: 0,
            t1: 0,
            off: 0,
        }
    }
}

struct Consumer {
    source: Source,
    mode: Mode,
    commit: Commit,
    max_poll: u64,
    service_ns: f64,
    chunk: u64,
    auto_commit_every: Nanos,
    poll_timeout: Nanos,
    baseline: u64,
    per_message: u64,
    limit: u64,
    restart_delay: Nanos,

    up: bool,
    restart_at: Nanos,
    state: LoopState,
    gen: u32,
    epoch: u32,
    /// Received, not yet started; one queue per partition (one without a topic).
    queues: Vec<SegQueue>,
    queued: u64,
    workers: Vec<Worker>,
    idle: Vec<u32>,
    in_flight: u64,
    batch_left: u64,
    last_auto_commit: Nanos,
    polls: u64,
    window_in_flight: u64,
}

impl Consumer {
    fn heap(&self) -> u64 {
        self.baseline
            .saturating_add(self.per_message.saturating_mul(self.in_flight))
    }
}

#[derive(Default)]
struct Stats {
    consumed: u64,
    duplicated: u64,
    lost: LostByCause,
    oom_kills: u64,
    first_oom: Option<Nanos>,
    max_heap: u64,
    max_in_flight: u64,
    max_lag: u64,
    events: u64,
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
pub struct Simulation {
    scenario: Scenario,
    now: Nanos,
    events: EventQueue,
    rng: Pcg64Mcg,
    res: Nanos,
    sample_every: Nanos,
    producer: Producer,
    stages: Vec<Stage>,
    consumer: Consumer,
    stats: Stats,
    series: Series,
    latency: Histogram,
    window: Histogram,
    tracing: bool,
    trace: VecDeque<TraceEvent>,
    lag_scratch: Vec<u64>,
}

impl Simulation {
    /// Validates the scenario and sets up a run at time 0.
    pub fn new(scenario: &Scenario) -> Result<Simulation, ScenarioError> {
        scenario.validate()?;
        let s = scenario.clone();
        let res = time::from_millis(s.sim.resolution_ms);
        let mut rng = Pcg64Mcg::seed_from_u64(s.seed);
        let rate = s.producer.rate_per_s;
        let count_mode = (s.producer.arrivals == Arrivals::Poisson
            && rate * time::secs(res) >= POISSON_COUNT_MODE)
            .then(|| Poisson::new(rate * time::secs(res)).expect("validated rate"));
        let mut producer = Producer {
            arrivals: s.producer.arrivals,
            rate,
            gap_ns: time::NS_PER_S / rate,
            exp: Exp::new(rate / time::NS_PER_S).expect("validated rate"),
            count_mode,
            epoch: 0,
            k: 0,
            next_at: 0,
            last_tick: 0,
            pending: None,
            blocked_since: None,
            blocked_total: 0,
            retry_scheduled: false,
            seq: 0,
            produced: 0,
        };
        producer.start(0, &mut rng);

        let stages: Vec<Stage> = s
            .stages
            .iter()
            .map(|spec| match spec {
                StageSpec::Channel(c) => Stage::Channel(Channel {
                    cap: c.capacity,
                    q: SegQueue::new(QUEUE_CAP, res),
                }),
                StageSpec::Topic(t) => Stage::Topic(Topic {
                    parts: (0..t.partitions)
                        .map(|_| Partition {
                            log_end: 0,
                            position: 0,
                            committed: 0,
                            unfetched: SegQueue::new(QUEUE_CAP, res),
                            uncommitted: SegQueue::new(QUEUE_CAP, res),
                            processed: RangeSet::new(),
                        })
                        .collect(),
                    rr: 0,
                    poll_rr: 0,
                    fetch_latency: time::from_millis(t.fetch_latency_ms),
                }),
            })
            .collect();
        let source = match stages.last() {
            None => Source::Producer,
            Some(Stage::Channel(_)) => Source::Channel(stages.len() - 1),
            Some(Stage::Topic(_)) => Source::Topic(stages.len() - 1),
        };
        let partitions = match source {
            Source::Topic(i) => match &stages[i] {
                Stage::Topic(t) => t.parts.len(),
                Stage::Channel(_) => unreachable!(),
            },
            _ => 0,
        };

        let k = &s.consumer;
        let mib = |m: f64| (m * 1_048_576.0).round() as u64;
        let service_ns = time::NS_PER_S / k.rate_per_worker;
        let consumer = Consumer {
            source,
            mode: k.mode,
            commit: k.commit,
            max_poll: k.max_poll_records as u64,
            service_ns,
            chunk: ((res as f64 / service_ns).floor() as u64).max(1),
            auto_commit_every: time::from_millis(k.auto_commit_interval_ms),
            poll_timeout: time::from_millis(k.poll_timeout_ms),
            baseline: mib(k.memory.baseline_mib),
            per_message: k.memory.bytes_per_message,
            limit: mib(k.memory.heap_limit_mib),
            restart_delay: time::from_secs(k.memory.restart_delay_s),
            up: true,
            restart_at: 0,
            state: LoopState::Idle,
            gen: 0,
            epoch: 0,
            queues: (0..partitions.max(1))
                .map(|_| SegQueue::new(QUEUE_CAP, res))
                .collect(),
            queued: 0,
            workers: vec![Worker::default(); k.workers as usize],
            idle: (0..k.workers).rev().collect(),
            in_flight: 0,
            batch_left: 0,
            last_auto_commit: 0,
            polls: 0,
            window_in_flight: 0,
        };

        let sample_every = time::from_millis(s.sim.sample_interval_ms);
        let mut sim = Simulation {
            series: Series::new(
                time::secs(sample_every),
                s.sim.max_points as usize,
                partitions,
            ),
            scenario: s,
            now: 0,
            events: EventQueue::new(),
            rng,
            res,
            sample_every,
            producer,
            stages,
            consumer,
            stats: Stats::default(),
            latency: Histogram::new(),
            window: Histogram::new(),
            tracing: false,
            trace: VecDeque::new(),
            lag_scratch: Vec::with_capacity(partitions),
        };
        sim.stats.max_heap = sim.consumer.heap();
        sim.events.push(0, Event::Sample);
        let first = sim.producer.next_at;
        sim.events.push(first, Event::Produce);
        sim.consumer_next_poll();
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
        let mut handled = 0;
        while let Some(at) = self.events.peek_time() {
            if at > target {
                break;
            }
            if handled == max_events {
                return RunStatus {
                    events: handled,
                    reached: false,
                };
            }
            let (at, event) = self.events.pop().expect("peeked");
            self.now = at;
            self.handle(event);
            handled += 1;
        }
        self.stats.events += handled;
        self.now = target;
        RunStatus {
            events: handled,
            reached: true,
        }
    }

    /// Runs to `duration_s` with no event budget.
    pub fn run_to_end(&mut self) {
        let end = self.scenario.duration_s;
        self.run_until(end, u64::MAX);
    }

    /// Record trace events for the animation (off by default: headless runs skip the cost).
    pub fn set_tracing(&mut self, on: bool) {
        self.tracing = on;
        if !on {
            self.trace.clear();
        }
    }

    /// Moves the trace events recorded since the last call into `out`, oldest first.
    pub fn drain_trace(&mut self, out: &mut Vec<TraceEvent>) {
        out.extend(self.trace.drain(..));
    }

    /// Entries held by all the queues of runs: the engine's memory for messages. Bounded
    /// whatever the number of messages (see [`SegQueue`]).
    pub fn queued_runs(&self) -> usize {
        let stages: usize = self
            .stages
            .iter()
            .map(|s| match s {
                Stage::Channel(c) => c.q.entries(),
                Stage::Topic(t) => t.parts.iter().map(|p| p.unfetched.entries() + p.uncommitted.entries()).sum(),
            })
            .sum();
        stages + self.consumer.queues.iter().map(SegQueue::entries).sum::<usize>()
    }

    /// Most entries [`Simulation::queued_runs`] can ever report for this scenario.
    pub fn queued_runs_bound(&self) -> usize {
        let per_queue = QUEUE_CAP + 1;
        let queues: usize = self
            .stages
            .iter()
            .map(|s| match s {
                Stage::Channel(_) => 1,
                Stage::Topic(t) => 2 * t.parts.len(),
            })
            .sum::<usize>()
            + self.consumer.queues.len();
        queues * per_queue
    }

    /// The recorded time series.
    pub fn series(&self) -> &Series {
        &self.series
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Produce => self.on_produce(),
            Event::ProducerRetry => self.on_producer_retry(),
            Event::PollDone { gen } => {
                if gen == self.consumer.gen && self.consumer.state == LoopState::Fetching {
                    self.on_poll_done();
                }
            }
            Event::PollTimeout { gen } => {
                if gen == self.consumer.gen && self.consumer.state == LoopState::Waiting {
                    self.on_poll_timeout();
                }
            }
            Event::WorkerDone { worker, epoch } => {
                if epoch == self.consumer.epoch {
                    self.on_worker_done(worker as usize);
                }
            }
            Event::Restart => self.on_restart(),
            Event::Sample => self.on_sample(),
        }
    }

    fn note(&mut self, kind: TraceKind) {
        if self.tracing {
            if self.trace.len() == TRACE_CAP {
                self.trace.pop_front();
            }
            self.trace.push_back(TraceEvent {
                t_s: time::secs(self.now),
                kind,
            });
        }
    }

    fn consumer_node(&self) -> usize {
        self.stages.len() + 1
    }

    // ---- producer -------------------------------------------------------------------

    fn on_produce(&mut self) {
        if let Some(seg) = self.producer.generate(self.now, self.res, &mut self.rng) {
            self.note(TraceKind::Generated { n: seg.n });
            self.producer_send(seg);
        }
        if self.producer.pending.is_none() {
            let next = self.producer.next_at.max(self.now + self.res);
            self.events.push(next, Event::Produce);
        }
    }

    fn producer_send(&mut self, seg: Seg) {
        let accepted = self.deliver(0, seg);
        self.producer.produced += accepted;
        if accepted < seg.n {
            let rest = if accepted == 0 {
                seg
            } else {
                seg.split(accepted).1
            };
            self.producer.pending = Some(rest);
            if self.producer.blocked_since.is_none() {
                self.producer.blocked_since = Some(self.now);
                self.note(TraceKind::Blocked);
            }
        }
    }

    fn on_producer_retry(&mut self) {
        self.producer.retry_scheduled = false;
        let Some(pending) = self.producer.pending.take() else {
            return;
        };
        self.producer_send(pending);
        if self.producer.pending.is_none() {
            if let Some(since) = self.producer.blocked_since.take() {
                self.producer.blocked_total += self.now - since;
            }
            self.note(TraceKind::Unblocked);
            self.producer.start(self.now, &mut self.rng);
            self.events.push(self.producer.next_at, Event::Produce);
        }
    }

    // ---- moving data between nodes --------------------------------------------------

    /// Room at node `to` for a push.
    fn space(&self, to: usize) -> u64 {
        if to == self.consumer_node() {
            return u64::MAX;
        }
        match &self.stages[to - 1] {
            Stage::Channel(c) => c.cap - c.q.total(),
            Stage::Topic(_) => u64::MAX,
        }
    }

    /// Pushes `seg` from node `from` into node `from + 1`; returns how many were accepted
    /// (a prefix of the run).
    fn deliver(&mut self, from: usize, seg: Seg) -> u64 {
        let to = from + 1;
        if to == self.consumer_node() {
            self.note(TraceKind::Moved {
                from: from as u16,
                to: to as u16,
                n: seg.n,
            });
            self.consumer_receive(seg);
            return seg.n;
        }
        let accepted = match &mut self.stages[to - 1] {
            Stage::Channel(c) => {
                let room = c.cap - c.q.total();
                let take = seg.n.min(room);
                if take == 0 {
                    return 0;
                }
                c.q.push_back(if take == seg.n {
                    seg
                } else {
                    seg.split(take).0
                });
                take
            }
            Stage::Topic(t) => {
                t.append(seg);
                seg.n
            }
        };
        self.note(TraceKind::Moved {
            from: from as u16,
            to: to as u16,
            n: accepted,
        });
        self.on_data(to);
        accepted
    }

    /// Node `node` has new data: its downstream takes it.
    fn on_data(&mut self, node: usize) {
        if node + 1 == self.consumer_node() {
            self.consumer_wake();
        } else {
            self.transfer(node);
        }
    }

    /// Moves what fits from stage `node` (a channel) into node `node + 1`, as a sender
    /// goroutine between two stages would.
    fn transfer(&mut self, node: usize) {
        let mut moved = false;
        loop {
            let room = self.space(node + 1);
            if room == 0 {
                break;
            }
            let seg = match &mut self.stages[node - 1] {
                Stage::Channel(c) => c.q.pop_front(room),
                Stage::Topic(_) => None,
            };
            let Some(seg) = seg else { break };
            moved = true;
            self.deliver(node, seg);
        }
        if moved {
            self.on_space(node);
        }
    }

    /// Node `node` has room again: its upstream may push.
    fn on_space(&mut self, node: usize) {
        if node == 1 {
            if self.producer.pending.is_some() && !self.producer.retry_scheduled {
                self.producer.retry_scheduled = true;
                self.events.push(self.now, Event::ProducerRetry);
            }
        } else {
            self.transfer(node - 1);
        }
    }

    // ---- consumer -------------------------------------------------------------------

    fn topic_mut(&mut self, i: usize) -> &mut Topic {
        match &mut self.stages[i] {
            Stage::Topic(t) => t,
            Stage::Channel(_) => unreachable!("source index names a topic"),
        }
    }

    fn topic(&self) -> Option<&Topic> {
        match self.consumer.source {
            Source::Topic(i) => match &self.stages[i] {
                Stage::Topic(t) => Some(t),
                Stage::Channel(_) => None,
            },
            _ => None,
        }
    }

    /// Decides the poll loop's next step once it is free.
    fn consumer_next_poll(&mut self) {
        if !self.consumer.up {
            return;
        }
        self.consumer.gen = self.consumer.gen.wrapping_add(1);
        let gen = self.consumer.gen;
        match self.consumer.source {
            Source::Topic(i) => {
                let t = self.topic_mut(i);
                let (ready, latency) = (t.unfetched() > 0, t.fetch_latency);
                if ready {
                    self.consumer.state = LoopState::Fetching;
                    self.events
                        .push(self.now + latency, Event::PollDone { gen });
                } else {
                    self.consumer.state = LoopState::Waiting;
                    self.events.push(
                        self.now + self.consumer.poll_timeout,
                        Event::PollTimeout { gen },
                    );
                }
            }
            Source::Channel(i) => {
                let ready = matches!(&self.stages[i], Stage::Channel(c) if !c.q.is_empty());
                if ready {
                    self.consumer.state = LoopState::Fetching;
                    self.events.push(self.now, Event::PollDone { gen });
                } else {
                    self.consumer.state = LoopState::Waiting;
                }
            }
            Source::Producer => self.consumer.state = LoopState::Waiting,
        }
    }

    /// Data arrived upstream of a waiting consumer.
    fn consumer_wake(&mut self) {
        if self.consumer.up
            && self.consumer.state == LoopState::Waiting
            && self.consumer.source != Source::Producer
        {
            self.consumer_next_poll();
        }
    }

    fn on_poll_timeout(&mut self) {
        self.maybe_auto_commit();
        self.consumer_next_poll();
    }

    fn maybe_auto_commit(&mut self) {
        let c = &mut self.consumer;
        if c.commit != Commit::Auto || self.now - c.last_auto_commit < c.auto_commit_every {
            return;
        }
        c.last_auto_commit = self.now;
        if let Source::Topic(i) = c.source {
            for p in &mut self.topic_mut(i).parts {
                let pos = p.position;
                p.commit(pos);
            }
            self.note(TraceKind::Committed);
        }
    }

    fn on_poll_done(&mut self) {
        self.maybe_auto_commit();
        let mut left = self.consumer.max_poll;
        let mut got = 0;
        match self.consumer.source {
            Source::Topic(i) => {
                let Stage::Topic(t) = &mut self.stages[i] else {
                    unreachable!()
                };
                let n = t.parts.len();
                let start = t.poll_rr;
                t.poll_rr = (t.poll_rr + 1) % n;
                for j in 0..n {
                    if left == 0 {
                        break;
                    }
                    let p = (start + j) % n;
                    let part = &mut t.parts[p];
                    while left > 0 {
                        let Some(seg) = part.unfetched.pop_front(left) else {
                            break;
                        };
                        part.uncommitted.push_back(seg);
                        part.position = seg.end();
                        self.consumer.queues[p].push_back(seg);
                        left -= seg.n;
                        got += seg.n;
                    }
                }
            }
            Source::Channel(i) => {
                let Stage::Channel(c) = &mut self.stages[i] else {
                    unreachable!()
                };
                while left > 0 {
                    let Some(seg) = c.q.pop_front(left) else {
                        break;
                    };
                    self.consumer.queues[0].push_back(seg);
                    left -= seg.n;
                    got += seg.n;
                }
            }
            Source::Producer => {}
        }
        self.consumer.polls += 1;
        self.note(TraceKind::Polled { n: got });
        if let Source::Channel(i) = self.consumer.source {
            if got > 0 {
                self.on_space(i + 1);
            }
        }
        if self.accept_in_flight(got) {
            return;
        }
        match self.consumer.mode {
            Mode::Async => self.consumer_next_poll(),
            Mode::Sync => {
                if self.consumer.batch_left == 0 {
                    self.consumer_next_poll();
                } else {
                    self.consumer.state = LoopState::Processing;
                }
            }
        }
    }

    /// Pushed straight from the producer (no stage in between).
    fn consumer_receive(&mut self, seg: Seg) {
        if !self.consumer.up {
            self.stats.lost.consumer_down += seg.n;
            return;
        }
        self.consumer.queues[0].push_back(seg);
        self.accept_in_flight(seg.n);
    }

    /// Accounts `n` newly received messages (already queued); returns true if the heap
    /// overflowed and the consumer was killed.
    fn accept_in_flight(&mut self, n: u64) -> bool {
        let c = &mut self.consumer;
        c.queued += n;
        c.in_flight += n;
        if c.mode == Mode::Sync {
            c.batch_left += n;
        }
        c.window_in_flight = c.window_in_flight.max(c.in_flight);
        self.stats.max_in_flight = self.stats.max_in_flight.max(c.in_flight);
        let heap = c.heap();
        self.stats.max_heap = self.stats.max_heap.max(heap);
        if heap > c.limit {
            self.oom_kill();
            return true;
        }
        self.dispatch();
        false
    }

    /// Starts idle workers on queued messages, oldest first.
    fn dispatch(&mut self) {
        let c = &mut self.consumer;
        while c.queued > 0 {
            let Some(w) = c.idle.pop() else { break };
            let q = if c.queues.len() == 1 {
                0
            } else {
                let mut best = usize::MAX;
                let mut best_t = Nanos::MAX;
                for (i, q) in c.queues.iter().enumerate() {
                    if let Some(f) = q.front() {
                        if f.t0 < best_t {
                            best_t = f.t0;
                            best = i;
                        }
                    }
                }
                best
            };
            let seg = c.queues[q]
                .pop_front(c.chunk)
                .expect("queued > 0 means a non-empty queue");
            c.queued -= seg.n;
            let busy_for = ((seg.n as f64 * c.service_ns).round() as Nanos).max(1);
            c.workers[w as usize] = Worker {
                busy: true,
                seg,
                part: q as u32,
                start: self.now,
            };
            self.events.push(
                self.now + busy_for,
                Event::WorkerDone {
                    worker: w,
                    epoch: c.epoch,
                },
            );
        }
    }

    fn on_worker_done(&mut self, w: usize) {
        let worker = self.consumer.workers[w];
        self.consumer.workers[w].busy = false;
        self.consumer.idle.push(w as u32);
        let seg = worker.seg;
        self.consumer.in_flight -= seg.n;
        let mut dup = 0;
        if let Source::Topic(i) = self.consumer.source {
            let (commit, mode) = (self.consumer.commit, self.consumer.mode);
            let part = &mut self.topic_mut(i).parts[worker.part as usize];
            dup = part.processed.count_in(seg.off, seg.end());
            part.processed.insert(seg.off, seg.end());
            if commit == Commit::AfterProcessing && mode == Mode::Async {
                let c = part.processed.first_gap_from(part.committed);
                part.commit(c);
            }
        }
        self.stats.consumed += seg.n - dup;
        self.stats.duplicated += dup;
        self.record_latency(seg, worker.start);
        self.note(TraceKind::Processed { n: seg.n });

        let sync_batch_done = if self.consumer.mode == Mode::Sync {
            self.consumer.batch_left -= seg.n;
            self.consumer.batch_left == 0
        } else {
            false
        };
        if sync_batch_done && self.consumer.commit == Commit::AfterProcessing {
            if let Source::Topic(i) = self.consumer.source {
                for p in &mut self.topic_mut(i).parts {
                    let pos = p.position;
                    p.commit(pos);
                }
                self.note(TraceKind::Committed);
            }
        }
        self.dispatch();
        if sync_batch_done && self.consumer.state == LoopState::Processing {
            self.consumer_next_poll();
        }
    }

    /// Records produce-to-processed latency for a run that started service at `start` and
    /// whose messages completed one service time apart, the last one now.
    fn record_latency(&mut self, seg: Seg, start: Nanos) {
        let n = seg.n;
        let span = self.now - start;
        let groups = n.min(LATENCY_GROUPS);
        for g in 0..groups {
            let (lo, hi) = (g * n / groups, (g + 1) * n / groups);
            let mid = (lo + hi - 1) / 2;
            let done = start + (span as u128 * (mid + 1) as u128 / n as u128) as Nanos;
            let latency = done.saturating_sub(seg.time_of(mid));
            self.latency.record(latency, hi - lo);
            self.window.record(latency, hi - lo);
        }
    }

    /// The heap overflowed: the process dies with everything it held in memory.
    fn oom_kill(&mut self) {
        self.stats.oom_kills += 1;
        self.stats.first_oom.get_or_insert(self.now);
        let mut lost = 0;
        let in_flight = self.consumer.in_flight;
        let busy: Vec<Worker> = self
            .consumer
            .workers
            .iter()
            .filter(|w| w.busy)
            .copied()
            .collect();
        match self.consumer.source {
            Source::Topic(i) => {
                let queues = std::mem::take(&mut self.consumer.queues);
                let t = self.topic_mut(i);
                let discarded = queues
                    .iter()
                    .enumerate()
                    .flat_map(|(p, q)| q.iter().map(move |s| (p, *s)))
                    .chain(busy.iter().map(|w| (w.part as usize, w.seg)));
                for (p, seg) in discarded {
                    // Committed but never processed: nobody will ever deliver it again.
                    let part = &t.parts[p];
                    let end = seg.end().min(part.committed);
                    if end > seg.off {
                        lost += (end - seg.off) - part.processed.count_in(seg.off, end);
                    }
                }
                for p in &mut t.parts {
                    p.rewind();
                }
                self.consumer.queues = queues;
                self.stats.lost.after_commit += lost;
            }
            Source::Channel(_) | Source::Producer => {
                lost = in_flight;
                self.stats.lost.unacknowledged += lost;
            }
        }
        let c = &mut self.consumer;
        for q in &mut c.queues {
            q.clear();
        }
        for w in &mut c.workers {
            w.busy = false;
        }
        c.idle = (0..c.workers.len() as u32).rev().collect();
        c.queued = 0;
        c.in_flight = 0;
        c.batch_left = 0;
        c.epoch = c.epoch.wrapping_add(1);
        c.gen = c.gen.wrapping_add(1);
        c.up = false;
        c.state = LoopState::Idle;
        c.restart_at = self.now + c.restart_delay;
        let at = c.restart_at;
        self.events.push(at, Event::Restart);
        self.note(TraceKind::OomKill { in_flight, lost });
    }

    fn on_restart(&mut self) {
        self.consumer.up = true;
        self.consumer.state = LoopState::Idle;
        self.consumer.last_auto_commit = self.now;
        self.note(TraceKind::Restarted);
        self.consumer_next_poll();
    }

    // ---- sampling and views ---------------------------------------------------------

    fn on_sample(&mut self) {
        // Forget processed offsets that can no longer be delivered again.
        if let Source::Topic(i) = self.consumer.source {
            let busy: Vec<Worker> = self
                .consumer
                .workers
                .iter()
                .filter(|w| w.busy)
                .copied()
                .collect();
            let fronts: Vec<Option<u64>> = self
                .consumer
                .queues
                .iter()
                .map(|q| q.front().map(|s| s.off))
                .collect();
            let t = self.topic_mut(i);
            for (p, part) in t.parts.iter_mut().enumerate() {
                let mut low = part.committed;
                if let Some(off) = fronts[p] {
                    low = low.min(off);
                }
                for w in busy.iter().filter(|w| w.part as usize == p) {
                    low = low.min(w.seg.off);
                }
                part.processed.prune_below(low);
            }
        }
        let point = self.point();
        self.stats.max_lag = self.stats.max_lag.max(point.lag);
        self.lag_scratch.clear();
        if let Some(t) = self.topic() {
            let lags: Vec<u64> = t.parts.iter().map(|p| p.log_end - p.committed).collect();
            self.lag_scratch.extend(lags);
        }
        self.series.record(point, &self.lag_scratch);
        self.window.clear();
        self.consumer.window_in_flight = self.consumer.in_flight;
        self.events
            .push(self.now + self.sample_every, Event::Sample);
    }

    fn channel_depth(&self) -> u64 {
        self.stages
            .iter()
            .map(|s| match s {
                Stage::Channel(c) => c.q.total(),
                Stage::Topic(_) => 0,
            })
            .sum()
    }

    fn blocked_ns(&self) -> Nanos {
        self.producer.blocked_total + self.producer.blocked_since.map_or(0, |s| self.now - s)
    }

    fn point(&self) -> Point {
        let c = &self.consumer;
        Point {
            t_s: time::secs(self.now),
            produced: self.producer.produced,
            consumed: self.stats.consumed,
            lost: self.stats.lost.total(),
            duplicated: self.stats.duplicated,
            channel_depth: self.channel_depth(),
            lag: self.topic().map_or(0, Topic::lag),
            unfetched: self.topic().map_or(0, Topic::unfetched),
            in_flight: c.window_in_flight.max(c.in_flight),
            heap_bytes: c.baseline.saturating_add(
                c.per_message
                    .saturating_mul(c.window_in_flight.max(c.in_flight)),
            ),
            oom_kills: self.stats.oom_kills,
            producer_blocked_s: time::secs(self.blocked_ns()),
            latency_p50_s: self.window.quantile_s(0.5),
            latency_p99_s: self.window.quantile_s(0.99),
        }
    }

    /// Figures for the whole run so far.
    pub fn summary(&self) -> Summary {
        let t = time::secs(self.now);
        Summary {
            t_s: t,
            produced: self.producer.produced,
            consumed: self.stats.consumed,
            lost: self.stats.lost.total(),
            lost_by_cause: self.stats.lost,
            duplicated: self.stats.duplicated,
            oom_kills: self.stats.oom_kills,
            first_oom_s: self.stats.first_oom.map(time::secs),
            max_heap_bytes: self.stats.max_heap,
            max_in_flight: self.stats.max_in_flight,
            max_lag: self.stats.max_lag,
            latency_p50_s: self.latency.quantile_s(0.5),
            latency_p99_s: self.latency.quantile_s(0.99),
            latency_mean_s: self.latency.mean_s(),
            producer_blocked_s: time::secs(self.blocked_ns()),
            throughput_msgs_per_s: if t > 0.0 {
                self.stats.consumed as f64 / t
            } else {
                0.0
            },
            in_flight: self.consumer.in_flight,
            lag: self.topic().map_or(0, Topic::lag),
            channel_depth: self.channel_depth(),
            producer_pending: self.producer.pending.map_or(0, |s| s.n),
            polls: self.consumer.polls,
            events: self.stats.events,
        }
    }

    /// Where every produced message is now, counted from the queues themselves.
    pub fn ledger(&self) -> Ledger {
        let mut in_topic = 0;
        let mut in_flight = 0;
        let busy = self.consumer.workers.iter().filter(|w| w.busy);
        match self.topic() {
            Some(t) => {
                for p in &t.parts {
                    in_topic += p.unfetched.total() - p.processed.count_in(p.position, p.log_end);
                }
                let unique =
                    |part: usize, s: &Seg| s.n - t.parts[part].processed.count_in(s.off, s.end());
                for (part, q) in self.consumer.queues.iter().enumerate() {
                    in_flight += q.iter().map(|s| unique(part, s)).sum::<u64>();
                }
                in_flight += busy.map(|w| unique(w.part as usize, &w.seg)).sum::<u64>();
            }
            None => {
                in_flight += self
                    .consumer
                    .queues
                    .iter()
                    .map(SegQueue::total)
                    .sum::<u64>();
                in_flight += busy.map(|w| w.seg.n).sum::<u64>();
            }
        }
        Ledger {
            produced: self.producer.produced,
            producer_pending: self.producer.pending.map_or(0, |s| s.n),
            in_channels: self.channel_depth(),
            in_topic,
            in_flight,
            in_flight_counter: self.consumer.in_flight,
            processed: self.stats.consumed,
            lost: self.stats.lost.total(),
            duplicated: self.stats.duplicated,
        }
    }

    /// The state of every node now, for the diagram and the readouts.
    pub fn snapshot(&self) -> Snapshot {
        let c = &self.consumer;
        Snapshot {
            t_s: time::secs(self.now),
            producer: ProducerView {
                rate_per_s: self.producer.rate,
                produced: self.producer.produced,
                blocked: self.producer.pending.is_some(),
                pending: self.producer.pending.map_or(0, |s| s.n),
                blocked_s: time::secs(self.blocked_ns()),
            },
            stages: self
                .stages
                .iter()
                .map(|s| match s {
                    Stage::Channel(ch) => StageView::Channel {
                        depth: ch.q.total(),
                        capacity: ch.cap,
                    },
                    Stage::Topic(t) => StageView::Topic {
                        partitions: t
                            .parts
                            .iter()
                            .map(|p| PartitionView {
                                log_end: p.log_end,
                                position: p.position,
                                committed: p.committed,
                                lag: p.log_end - p.committed,
                            })
                            .collect(),
                    },
                })
                .collect(),
            consumer: ConsumerView {
                mode: c.mode,
                commit: c.commit,
                max_poll_records: c.max_poll,
                up: c.up,
                restart_in_s: (!c.up).then(|| time::secs(c.restart_at.saturating_sub(self.now))),
                in_flight: c.in_flight,
                queued: c.queued,
                busy_workers: c.workers.iter().filter(|w| w.busy).count() as u32,
                workers: c.workers.len() as u32,
                heap_bytes: c.heap(),
                heap_limit_bytes: c.limit,
                polls: c.polls,
                waiting_for_batch: c.state == LoopState::Processing,
            },
            summary: self.summary(),
        }
    }
}
