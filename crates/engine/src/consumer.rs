//! The consumer group: members with poll loops, fetch caches, worker pools, heaps and
//! commits, and the group's partition assignment and rebalances.
//!
//! A member pulls: from a topic through its fetch cache (a fetch brings up to
//! `max.partition.fetch.bytes` per partition, whatever `max.poll.records` is; a poll returns
//! at most `max.poll.records` from the cache), or straight from a channel. When flow
//! control is on its link (credits, `request(n)`), or it has no stage before it, messages
//! are pushed to it instead. Polled records wait in per-partition queues for a worker; a
//! worker processes a run of them, or calls the downstream dependency for it.
//!
//! Crashes (OOM kills), evictions for exceeding `max.poll.interval.ms` and rejoins trigger
//! rebalances; partitions then restart from their committed offsets, so uncommitted work
//! is delivered again (counted as duplicates when it had been processed) and committed,
//! unprocessed work a dead member held is lost.

use crate::control::Limiter;
use crate::event::Event;
use crate::hist::Histogram;
use crate::scenario::{Commit, Mode, Ordering, Scenario, ShedSpec};
use crate::seg::{Seg, SegQueue};
use crate::service::Service;
use crate::sim::{binomial, Simulation, QUEUE_CAP};
use crate::snapshot::{DropCause, LossCause, TraceKind};
use crate::stage::Node;
use crate::time::{self, Nanos};
use crate::topic::Topic;
use std::collections::VecDeque;

/// A run of completions is recorded in the latency histogram as at most this many groups.
const LATENCY_GROUPS: u64 = 16;

/// Where the group's records come from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Source {
    /// Pushed to it (by the producer, an operator, or a channel under flow control).
    Push,
    /// Taken from the channel at this node.
    Channel(usize),
    /// Polled from the topic (`Simulation::topic`).
    Topic,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum LoopState {
    /// Not polling (down, rebalancing, committing, or between steps).
    Idle,
    /// A poll is under way.
    Fetching,
    /// Waiting for data to arrive (or, paused, for the next poll).
    Waiting,
    /// Sync mode: waiting for the batch to be processed.
    Processing,
}

#[derive(Clone, Copy, Default)]
pub(crate) struct Worker {
    pub busy: bool,
    pub seg: Seg,
    pub part: u32,
    pub start: Nanos,
    /// Waiting for a downstream slot.
    pub queued_call: bool,
    /// Service time drawn for a call waiting for a downstream slot.
    pub call_ns: Nanos,
    pub inflight_at_start: u32,
}

#[derive(Clone)]
pub(crate) struct Member {
    pub up: bool,
    pub restart_at: Nanos,
    pub evicted: bool,
    pub paused: bool,
    pub state: LoopState,
    /// Invalidates stale poll, fetch and interval events.
    pub gen: u32,
    /// Invalidates stale worker and commit events (after a kill).
    pub epoch: u32,
    /// Received, not yet started; one queue per partition (one without a topic).
    pub queues: Vec<SegQueue>,
    pub queued: u64,
    pub cache: Vec<SegQueue>,
    pub cache_total: u64,
    pub fetching: bool,
    /// Invalidates fetches in flight across kills and rebalances.
    pub fetch_gen: u32,
    pub workers: Vec<Worker>,
    pub idle: Vec<u32>,
    pub busy: u32,
    pub busy_parts: Vec<bool>,
    pub in_flight: u64,
    pub batch_left: u64,
    pub last_auto_commit: Nanos,
    /// When poll() was last called, for `max.poll.interval.ms`.
    pub last_poll: Nanos,
    /// A waiting poll returns empty at this time.
    pub poll_deadline: Nanos,
    /// One timer event each, re-armed lazily, rather than one event per poll.
    pub interval_armed: bool,
    pub timeout_armed: bool,
    pub polls: u64,
    pub window_in_flight: u64,
    pub limiter: Option<Limiter>,
    pub pending_commits: Vec<(u32, u64)>,
    pub commit_wait: bool,
    pub shed_avg: f64,
}

#[derive(Clone)]
pub(crate) struct Downstream {
    pub slots: u32,
    pub busy: u32,
    /// Calls waiting for a slot: (member, worker).
    pub queue: VecDeque<(u16, u32)>,
    pub service: Service,
}

#[derive(Clone)]
pub(crate) struct Group {
    pub partitions: usize,
    /// The group pulls from its upstream (rather than being pushed to).
    pub polls: bool,
    pub source: Source,
    pub mode: Mode,
    pub commit: Commit,
    pub ordering: Ordering,
    pub max_poll: u64,
    pub chunk: u64,
    pub auto_commit_every: Nanos,
    pub commit_latency: Nanos,
    pub poll_timeout: Nanos,
    pub part_fetch: u64,
    pub fetch_max: u64,
    pub max_poll_interval: Nanos,
    pub rebalance: Nanos,
    pub pause: Option<(u64, u64)>,
    pub shed: Option<ShedSpec>,
    pub baseline: u64,
    pub per_message: u64,
    pub limit: u64,
    /// The heap never changes (no bytes per message) and never exceeds the limit: no
    /// member can be killed and the largest heap is the baseline.
    pub heap_inert: bool,
    pub restart_delay: Nanos,
    pub members: Vec<Member>,
    pub rebalancing: bool,
    pub reb_gen: u32,
    pub service: Service,
    pub downstream: Option<Downstream>,
    pub slow: Option<(Nanos, f64)>,
    /// Round-trip times of calls to the downstream: whole run, and since the last sample.
    pub rtt: crate::hist::Histogram,
    pub rtt_window: crate::hist::Histogram,
}

impl Group {
    pub fn new(s: &Scenario, topic: Option<&Topic>, stages: &[Node], res: Nanos) -> Group {
        let k = &s.consumer;
        // The topic, when there is one, is the last stage.
        let source = match stages.last() {
            _ if topic.is_some() => Source::Topic,
            Some(Node::Channel(_)) if matches!(k.link.control, crate::scenario::FlowControl::None {}) => Source::Channel(stages.len()),
            _ => Source::Push,
        };
        let partitions = topic.map_or(0, |t| t.parts.len());
        let queues = partitions.max(1);
        let service = Service::new(k.service, k.rate_per_worker);
        let msg_bytes = s.producer.message_bytes.max(1);
        let mib = |m: f64| (m * 1_048_576.0).round() as u64;
        let members = (0..k.members)
            .map(|_| Member {
                up: true,
                restart_at: 0,
                evicted: false,
                paused: false,
                state: LoopState::Idle,
                gen: 0,
                epoch: 0,
                queues: (0..queues)
                    .map(|_| {
                        let q = SegQueue::new(QUEUE_CAP, res);
                        if partitions > 0 {
                            q.strict()
                        } else {
                            q
                        }
                    })
                    .collect(),
                queued: 0,
                cache: (0..partitions).map(|_| SegQueue::new(QUEUE_CAP, res).strict()).collect(),
                cache_total: 0,
                fetching: false,
                fetch_gen: 0,
                workers: vec![Worker::default(); k.workers as usize],
                idle: (0..k.workers).rev().collect(),
                busy: 0,
                busy_parts: vec![false; queues],
                in_flight: 0,
                batch_left: 0,
                last_auto_commit: 0,
                last_poll: 0,
                poll_deadline: 0,
                interval_armed: false,
                timeout_armed: false,
                polls: 0,
                window_in_flight: 0,
                limiter: k.limiter.as_ref().map(Limiter::new),
                pending_commits: Vec::new(),
                commit_wait: false,
                shed_avg: 0.0,
            })
            .collect();
        Group {
            partitions,
            polls: source != Source::Push,
            source,
            mode: k.mode,
            commit: k.commit,
            ordering: k.ordering,
            max_poll: k.max_poll_records as u64,
            chunk: ((res as f64 / service.mean_ns()).floor() as u64).max(1),
            auto_commit_every: time::from_millis(k.auto_commit_interval_ms),
            commit_latency: time::from_millis(k.commit_latency_ms),
            poll_timeout: time::from_millis(k.poll_timeout_ms),
            part_fetch: (k.fetch.max_partition_fetch_bytes / msg_bytes).max(1),
            fetch_max: (k.fetch.fetch_max_bytes / msg_bytes).max(1),
            max_poll_interval: time::from_millis(k.max_poll_interval_ms),
            rebalance: time::from_millis(k.rebalance_ms),
            pause: k.pause.as_ref().map(|p| (p.high, p.low)),
            shed: k.shed.clone(),
            baseline: mib(k.memory.baseline_mib),
            per_message: k.memory.bytes_per_message,
            limit: mib(k.memory.heap_limit_mib),
            heap_inert: k.memory.bytes_per_message == 0 && mib(k.memory.baseline_mib) <= mib(k.memory.heap_limit_mib),
            restart_delay: time::from_secs(k.memory.restart_delay_s),
            members,
            rebalancing: false,
            reb_gen: 0,
            service,
            downstream: k.downstream.as_ref().map(|d| Downstream {
                slots: d.slots,
                busy: 0,
                queue: VecDeque::new(),
                service: Service::new(d.service, d.rate_per_slot),
            }),
            slow: k.slow_message.as_ref().map(|m| (time::from_secs(m.at_s), m.factor)),
            rtt: crate::hist::Histogram::new(),
            rtt_window: crate::hist::Histogram::new(),
        }
    }

    pub fn heap(&self, m: usize) -> u64 {
        let mb = &self.members[m];
        self.baseline.saturating_add(self.per_message.saturating_mul(mb.in_flight + mb.cache_total))
    }

    pub fn in_flight(&self) -> u64 {
        self.members.iter().map(|m| m.in_flight).sum()
    }

    pub fn cache_total(&self) -> u64 {
        self.members.iter().map(|m| m.cache_total).sum()
    }

    pub fn polls(&self) -> u64 {
        self.members.iter().map(|m| m.polls).sum()
    }

    /// Concurrency cap of member `m` now.
    pub fn cap(&self, m: usize) -> u32 {
        let mb = &self.members[m];
        let workers = mb.workers.len() as u32;
        mb.limiter.as_ref().map_or(workers, |l| l.limit().clamp(1, workers))
    }
}

impl Simulation {
    /// At time 0: assign partitions and start every member's loop.
    pub(crate) fn group_start(&mut self) {
        if self.group.source == Source::Topic {
            self.assign();
        }
        for m in 0..self.group.members.len() {
            self.member_next(m);
        }
    }

    /// Round-robin assignment of partitions over live members; every partition restarts
    /// from its committed offset.
    fn assign(&mut self) {
        let live: Vec<u16> = self.group.members.iter().enumerate().filter(|(_, m)| m.up && !m.evicted).map(|(i, _)| i as u16).collect();
        if let Some(t) = &mut self.topic {
            for (p, part) in t.parts.iter_mut().enumerate() {
                part.rewind();
                part.owner = (!live.is_empty()).then(|| live[p % live.len()]);
            }
            t.recount_unfetched();
        }
    }

    fn owns(&self, m: usize, p: usize) -> bool {
        let mb = &self.group.members[m];
        !self.group.rebalancing && mb.up && !mb.evicted && self.topic.as_ref().is_some_and(|t| t.parts[p].owner == Some(m as u16))
    }

    // ---- the poll loop --------------------------------------------------------------

    /// Decides a member's next step once its loop is free.
    pub(crate) fn member_next(&mut self, m: usize) {
        let now = self.now;
        let g = &mut self.group;
        let mb = &mut g.members[m];
        if !mb.up || g.rebalancing || mb.commit_wait {
            mb.state = LoopState::Idle;
            return;
        }
        if mb.evicted {
            // The next poll() after an eviction rejoins the group.
            mb.evicted = false;
            mb.state = LoopState::Idle;
            self.start_rebalance();
            return;
        }
        if g.mode == Mode::Sync && mb.batch_left > 0 {
            mb.state = LoopState::Processing;
            return;
        }
        mb.gen = mb.gen.wrapping_add(1);
        let gen = mb.gen;
        if g.source == Source::Topic {
            // Every poll() call restarts the max.poll.interval.ms clock (a group member's;
            // a consumer of a channel has no group to leave).
            mb.last_poll = now;
            if !mb.interval_armed {
                mb.interval_armed = true;
                let epoch = mb.epoch;
                self.events.push(now + g.max_poll_interval, Event::PollIntervalCheck { member: m as u16, gen: epoch });
            }
        }
        match g.source {
            Source::Topic => {
                let ready = !mb.paused && mb.cache_total > 0;
                if ready {
                    mb.state = LoopState::Fetching;
                    self.events.push(now, Event::PollDone { member: m as u16, gen });
                } else {
                    mb.state = LoopState::Waiting;
                    mb.poll_deadline = now + g.poll_timeout;
                    if !mb.timeout_armed {
                        mb.timeout_armed = true;
                        let epoch = mb.epoch;
                        self.events.push(mb.poll_deadline, Event::PollTimeout { member: m as u16, gen: epoch });
                    }
                    self.maybe_fetch(m);
                }
            }
            Source::Channel(node) => {
                let ready = self.channel_has_data(node);
                let mb = &mut self.group.members[m];
                if ready {
                    mb.state = LoopState::Fetching;
                    self.events.push(now, Event::PollDone { member: m as u16, gen });
                } else {
                    mb.state = LoopState::Waiting;
                }
            }
            Source::Push => mb.state = LoopState::Waiting,
        }
    }

    /// Data arrived upstream of a pulling group.
    pub(crate) fn group_wake(&mut self) {
        for m in 0..self.group.members.len() {
            let mb = &self.group.members[m];
            if !(mb.up && mb.state == LoopState::Waiting && !mb.paused) {
                continue;
            }
            match self.group.source {
                Source::Topic => self.maybe_fetch(m),
                Source::Channel(_) => self.member_next(m),
                Source::Push => {}
            }
        }
    }

    /// Sends a fetch for the member's owned, unpaused partitions whose cache is empty.
    fn maybe_fetch(&mut self, m: usize) {
        let Some(t) = &self.topic else { return };
        let mb = &self.group.members[m];
        if !mb.up || mb.fetching || mb.paused || mb.evicted || self.group.rebalancing {
            return;
        }
        debug_assert_eq!(t.unfetched_parts, t.parts.iter().filter(|p| !p.unfetched.is_empty()).count());
        if t.unfetched_parts == 0 {
            // Nothing to fetch anywhere (the usual case right after a poll has drained it all).
            return;
        }
        // A plain loop: as `any`, LLVM kept the scan out of line (a call per wake-up).
        let mut wanted = false;
        for (part, cache) in t.parts.iter().zip(&mb.cache) {
            // Cheapest and most often false first: a drained partition.
            if !part.unfetched.is_empty() && part.owner == Some(m as u16) && cache.is_empty() {
                wanted = true;
                break;
            }
        }
        if wanted {
            let latency = t.fetch_latency;
            let gen = mb.fetch_gen;
            self.group.members[m].fetching = true;
            self.events.push(self.now + latency, Event::FetchDone { member: m as u16, gen });
        }
    }

    pub(crate) fn on_fetch_done(&mut self, m: usize, gen: u32) {
        let Some(t) = &mut self.topic else { return };
        let (part_fetch, mut left) = (self.group.part_fetch, self.group.fetch_max);
        let mb = &mut self.group.members[m];
        if gen != mb.fetch_gen || !mb.up {
            return;
        }
        mb.fetching = false;
        if mb.paused || mb.evicted || self.group.rebalancing {
            return;
        }
        let mut got = 0;
        for (part, cache) in t.parts.iter_mut().zip(mb.cache.iter_mut()) {
            // A drained partition first: the common case once the consumer has caught up.
            if part.unfetched.is_empty() || left == 0 || part.owner != Some(m as u16) || !cache.is_empty() {
                continue;
            }
            let mut take = part_fetch.min(left);
            while take > 0 {
                let Some(seg) = part.unfetched.pop_front(take) else { break };
                part.uncommitted.push_back(seg);
                part.position = seg.end();
                cache.push_back(seg);
                mb.cache_total += seg.n;
                take -= seg.n;
                left -= seg.n;
                got += seg.n;
            }
            t.unfetched_parts -= part.unfetched.is_empty() as usize;
        }
        if got == 0 {
            return;
        }
        self.note(TraceKind::Fetched { member: m as u16, n: got });
        if self.check_heap(m) {
            return;
        }
        let mb = &mut self.group.members[m];
        if mb.state == LoopState::Waiting && !mb.paused {
            // The poll that was waiting for this fetch returns now.
            mb.state = LoopState::Fetching;
            self.on_poll_done(m);
        }
    }

    /// A `PollDone` event: the poll completes unless it was overtaken.
    pub(crate) fn on_poll_event(&mut self, m: usize, gen: u32) {
        let mb = &self.group.members[m];
        if gen == mb.gen && mb.state == LoopState::Fetching {
            self.on_poll_done(m);
        }
    }

    fn on_poll_done(&mut self, m: usize) {
        self.maybe_auto_commit(m);
        let mut left = self.group.max_poll;
        let mut got = 0;
        // Taken out of `self` while the handler runs, so that polls allocate nothing.
        let mut arrived = std::mem::take(&mut self.arrived_scratch);
        arrived.clear();
        match self.group.source {
            Source::Topic => {
                let mb = &mut self.group.members[m];
                let n = mb.cache.len();
                let start = (mb.polls as usize) % n.max(1);
                debug_assert_eq!(mb.cache_total, mb.cache.iter().map(SegQueue::total).sum::<u64>());
                let cache_total = &mut mb.cache_total;
                // The caches from `start` round to `start - 1`, as two slices: no index
                // arithmetic or bounds check per partition, most of which are empty.
                let (before, after) = mb.cache.split_at_mut(start);
                for (p, cache) in (start..).zip(after).chain((0..).zip(before)) {
                    if left == 0 || *cache_total == 0 {
                        // Nothing more to take: skip the rest of the caches.
                        break;
                    }
                    while left > 0 {
                        let Some(seg) = cache.pop_front(left) else { break };
                        *cache_total -= seg.n;
                        left -= seg.n;
                        got += seg.n;
                        arrived.push((p, seg));
                    }
                }
            }
            Source::Channel(node) => {
                got = self.poll_channel(node, left, &mut arrived);
            }
            Source::Push => {}
        }
        self.group.members[m].polls += 1;
        self.note(TraceKind::Polled { member: m as u16, n: got });
        let mut accepted = 0;
        for &(p, seg) in &arrived {
            accepted += self.enqueue(m, p, seg);
        }
        self.arrived_scratch = arrived;
        if self.accept_in_flight(m, accepted) {
            return;
        }
        if self.group.mode == Mode::Sync {
            // Prefetch while the batch is processed (in async mode the next poll fetches).
            self.maybe_fetch(m);
        }
        let mb = &mut self.group.members[m];
        match self.group.mode {
            Mode::Async => self.member_next(m),
            Mode::Sync => {
                if mb.batch_left == 0 {
                    self.member_next(m);
                } else {
                    mb.state = LoopState::Processing;
                }
            }
        }
    }

    /// Pushed to the group (no poll): the first member takes it.
    pub(crate) fn group_receive(&mut self, seg: Seg) {
        if !self.group.members[0].up {
            self.lose(seg.n, &seg, LossCause::ConsumerDown);
            return;
        }
        let accepted = self.enqueue(0, 0, seg);
        self.accept_in_flight(0, accepted);
    }

    /// Queues a received run at member `m`, shedding first if configured; returns how many
    /// were queued.
    fn enqueue(&mut self, m: usize, p: usize, mut seg: Seg) -> u64 {
        let queued = self.group.members[m].queued;
        let shed = match &self.group.shed {
            Some(ShedSpec::QueueLength { max_queue }) => seg.n.saturating_sub(max_queue.saturating_sub(queued)),
            Some(ShedSpec::Red { min_queue, max_queue, max_p, weight }) => {
                let mb = &mut self.group.members[m];
                mb.shed_avg += weight * (queued as f64 - mb.shed_avg);
                let avg = mb.shed_avg;
                let prob = if avg < *min_queue as f64 {
                    0.0
                } else if avg >= *max_queue as f64 {
                    1.0
                } else {
                    max_p * (avg - *min_queue as f64) / (*max_queue - *min_queue) as f64
                };
                binomial(&mut self.rng, seg.n, prob)
            }
            _ => 0,
        };
        if shed > 0 {
            let cause = if matches!(self.group.shed, Some(ShedSpec::Red { .. })) { DropCause::ShedRed } else { DropCause::ShedQueueLength };
            let (gone, kept) = if shed >= seg.n {
                (seg, None)
            } else {
                let (a, b) = seg.split(shed);
                (a, Some(b))
            };
            self.shed_at_consumer(p, gone, cause);
            match kept {
                Some(k) => seg = k,
                None => return 0,
            }
        }
        let mb = &mut self.group.members[m];
        mb.queues[p].push_back(seg);
        seg.n
    }

    /// Sheds a run the consumer holds: dropped, and its offsets count as handled so that
    /// commits can move past them.
    fn shed_at_consumer(&mut self, p: usize, seg: Seg, cause: DropCause) {
        let node = self.consumer_node();
        let dup = match &mut self.topic {
            Some(t) => {
                let part = &mut t.parts[p];
                let dup = part.done.count_in(seg.off, seg.end());
                part.done.insert(seg.off, seg.end());
                dup
            }
            None => 0,
        };
        // Shedding a redelivered copy of handled work is no new departure.
        if dup < seg.n {
            let fresh = Seg { n: seg.n - dup, ..seg };
            self.drop_run(node, fresh, cause);
        }
        self.window_consumed(node, seg.n);
    }

    /// Accounts `n` newly queued messages; returns true if the member was killed.
    fn accept_in_flight(&mut self, m: usize, n: u64) -> bool {
        let mb = &mut self.group.members[m];
        mb.queued += n;
        mb.in_flight += n;
        if self.group.mode == Mode::Sync {
            mb.batch_left += n;
        }
        mb.window_in_flight = mb.window_in_flight.max(mb.in_flight);
        let in_flight: u64 = self.group.in_flight();
        self.stats.max_in_flight = self.stats.max_in_flight.max(in_flight);
        if self.check_heap(m) {
            return true;
        }
        self.check_pause(m);
        self.dispatch(m);
        false
    }

    /// Kills member `m` if its heap is over the limit.
    #[inline]
    fn check_heap(&mut self, m: usize) -> bool {
        if self.group.heap_inert {
            return false;
        }
        let heap = self.group.heap(m);
        self.stats.max_heap = self.stats.max_heap.max(heap);
        if heap > self.group.limit {
            self.oom_kill(m);
            return true;
        }
        false
    }

    #[inline]
    fn check_pause(&mut self, m: usize) {
        if self.group.pause.is_some() {
            self.check_pause_thresholds(m);
        }
    }

    fn check_pause_thresholds(&mut self, m: usize) {
        let Some((high, low)) = self.group.pause else { return };
        let mb = &mut self.group.members[m];
        if !mb.paused && mb.in_flight >= high {
            mb.paused = true;
            self.note(TraceKind::Paused { member: m as u16 });
        } else if mb.paused && mb.in_flight <= low {
            mb.paused = false;
            let waiting = mb.state == LoopState::Waiting;
            self.note(TraceKind::Resumed { member: m as u16 });
            if waiting {
                self.member_next(m);
            }
        }
    }

    fn maybe_auto_commit(&mut self, m: usize) {
        if self.group.commit != Commit::Auto || self.now - self.group.members[m].last_auto_commit < self.group.auto_commit_every {
            return;
        }
        self.group.members[m].last_auto_commit = self.now;
        let Some(t) = &self.topic else { return };
        // The position of what poll() returned so far: fetched minus what waits in the cache.
        let offsets: Vec<(u32, u64)> = (0..self.group.partitions)
            .filter(|&p| self.owns(m, p))
            .map(|p| (p as u32, t.parts[p].position - self.group.members[m].cache[p].total()))
            .collect();
        self.apply_commits(m, &offsets);
    }

    /// Commits offsets now (ownership permitting).
    fn apply_commits(&mut self, m: usize, offsets: &[(u32, u64)]) {
        let mut any = false;
        for &(p, off) in offsets {
            if self.owns(m, p as usize) {
                if let Some(t) = &mut self.topic {
                    t.parts[p as usize].commit(off);
                    any = true;
                }
            }
        }
        if any {
            self.note(TraceKind::Committed { member: m as u16 });
        }
    }

    /// Commits what is processed, contiguously, on `parts`: at once, or after the commit
    /// latency (`commitSync` makes the loop wait for it).
    fn commit_processed(&mut self, m: usize, parts: &[usize], wait: bool) {
        let Some(t) = &self.topic else { return };
        let offsets: Vec<(u32, u64)> = parts.iter().map(|&p| (p as u32, t.parts[p].done.first_gap_from(t.parts[p].committed))).collect();
        if self.group.commit_latency == 0 {
            self.apply_commits(m, &offsets);
            return;
        }
        let mb = &mut self.group.members[m];
        mb.pending_commits.extend(offsets);
        if wait {
            mb.commit_wait = true;
        }
        let epoch = mb.epoch;
        self.events.push(self.now + self.group.commit_latency, Event::CommitDone { member: m as u16, epoch });
    }

    pub(crate) fn on_commit_done(&mut self, m: usize, epoch: u32) {
        if epoch != self.group.members[m].epoch {
            return;
        }
        let pending = std::mem::take(&mut self.group.members[m].pending_commits);
        self.apply_commits(m, &pending);
        let mb = &mut self.group.members[m];
        if mb.commit_wait {
            mb.commit_wait = false;
            self.member_next(m);
        }
    }

    pub(crate) fn on_poll_timeout(&mut self, m: usize, epoch: u32) {
        let mb = &mut self.group.members[m];
        if epoch != mb.epoch {
            return;
        }
        mb.timeout_armed = false;
        if mb.state != LoopState::Waiting {
            return;
        }
        if self.now < mb.poll_deadline {
            mb.timeout_armed = true;
            let at = mb.poll_deadline;
            self.events.push(at, Event::PollTimeout { member: m as u16, gen: epoch });
            return;
        }
        self.maybe_auto_commit(m);
        self.member_next(m);
    }

    pub(crate) fn on_interval_check(&mut self, m: usize, epoch: u32) {
        let interval = self.group.max_poll_interval;
        let mb = &mut self.group.members[m];
        if epoch != mb.epoch {
            return;
        }
        mb.interval_armed = false;
        if !mb.up || mb.evicted || self.group.rebalancing {
            return;
        }
        if self.now < mb.last_poll + interval {
            mb.interval_armed = true;
            let at = mb.last_poll + interval;
            self.events.push(at, Event::PollIntervalCheck { member: m as u16, gen: epoch });
            return;
        }
        // No poll() for max.poll.interval.ms: the member leaves the group.
        self.group.members[m].evicted = true;
        self.stats.evictions += 1;
        self.note(TraceKind::Evicted { member: m as u16 });
        self.start_rebalance();
    }

    // ---- workers --------------------------------------------------------------------

    /// Starts idle workers on queued messages, oldest first, within the concurrency cap.
    #[inline]
    fn dispatch(&mut self, m: usize) {
        let mb = &self.group.members[m];
        if mb.queued > 0 && !mb.idle.is_empty() {
            self.dispatch_queued(m);
        }
    }

    // Out of line so that `dispatch`, a check made twice per message, inlines into callers.
    #[inline(never)]
    fn dispatch_queued(&mut self, m: usize) {
        loop {
            let cap = self.group.cap(m);
            let per_partition = self.group.ordering == Ordering::PerPartition;
            let mb = &mut self.group.members[m];
            if mb.queued == 0 || mb.busy >= cap || mb.idle.is_empty() {
                return;
            }
            let mut best = usize::MAX;
            if mb.queues.len() == 1 {
                if !(mb.queues[0].is_empty() || per_partition && mb.busy_parts[0]) {
                    best = 0;
                }
            } else {
                let mut best_t = Nanos::MAX;
                for (i, q) in mb.queues.iter().enumerate() {
                    if per_partition && mb.busy_parts[i] {
                        continue;
                    }
                    if let Some(f) = q.front() {
                        if f.t0 < best_t {
                            best_t = f.t0;
                            best = i;
                        }
                    }
                }
            }
            if best == usize::MAX {
                return;
            }
            // Deadline shedding: what is already too old is dropped, not started.
            if let Some(ShedSpec::Deadline { max_age_ms }) = self.group.shed {
                let cutoff = self.now.saturating_sub(time::from_millis(max_age_ms));
                let front = *mb.queues[best].front().expect("non-empty");
                let stale = front.count_before(cutoff);
                if stale > 0 {
                    let gone = mb.queues[best].pop_front(stale).expect("non-empty");
                    mb.queued -= gone.n;
                    mb.in_flight -= gone.n;
                    if self.group.mode == Mode::Sync {
                        mb.batch_left -= gone.n;
                    }
                    self.shed_at_consumer(best, gone, DropCause::ShedDeadline);
                    continue;
                }
            }
            let w = mb.idle.pop().expect("an idle worker");
            let seg = mb.queues[best].pop_front(self.group.chunk).expect("non-empty");
            mb.queued -= seg.n;
            mb.busy += 1;
            if per_partition {
                mb.busy_parts[best] = true;
            }
            let inflight = mb.busy;
            let epoch = mb.epoch;
            self.touch();
            self.stats.in_service += seg.n;
            let mut slow = 1.0;
            if let Some((at, factor)) = self.group.slow {
                if self.now >= at {
                    self.group.slow = None;
                    slow = factor;
                    self.note(TraceKind::SlowStarted { member: m as u16, partition: best as u32 });
                }
            }
            let service = match &self.group.downstream {
                Some(d) => {
                    let s = d.service;
                    self.note(TraceKind::CallStarted { member: m as u16, n: seg.n });
                    s
                }
                None => self.group.service,
            };
            let mut busy_for = service.sample_sum(seg.n, &mut self.rng);
            if slow > 1.0 {
                busy_for += ((slow - 1.0) * service.mean_ns()).round() as Nanos;
            }
            let mb = &mut self.group.members[m];
            mb.workers[w as usize] = Worker {
                busy: true,
                seg,
                part: best as u32,
                start: self.now,
                queued_call: false,
                call_ns: busy_for,
                inflight_at_start: inflight,
            };
            match &mut self.group.downstream {
                Some(d) if d.busy >= d.slots => {
                    mb.workers[w as usize].queued_call = true;
                    d.queue.push_back((m as u16, w));
                }
                Some(d) => {
                    d.busy += 1;
                    self.events.push(self.now + busy_for, Event::WorkerDone { member: m as u16, worker: w, epoch });
                }
                None => {
                    self.events.push(self.now + busy_for, Event::WorkerDone { member: m as u16, worker: w, epoch });
                }
            }
        }
    }

    pub(crate) fn on_worker_done(&mut self, m: usize, w: usize, epoch: u32) {
        // A downstream slot frees whether or not the caller is still alive.
        if let Some(d) = &mut self.group.downstream {
            d.busy -= 1;
            while d.busy < d.slots {
                let Some((qm, qw)) = d.queue.pop_front() else { break };
                let mbq = &mut self.group.members[qm as usize];
                mbq.workers[qw as usize].queued_call = false;
                let busy_for = mbq.workers[qw as usize].call_ns;
                d.busy += 1;
                let e = mbq.epoch;
                self.events.push(self.now + busy_for, Event::WorkerDone { member: qm, worker: qw, epoch: e });
            }
        }
        if epoch != self.group.members[m].epoch {
            return;
        }
        let worker = self.group.members[m].workers[w];
        if !worker.busy {
            return;
        }
        let seg = worker.seg;
        let p = worker.part as usize;
        self.touch();
        self.stats.in_service -= seg.n;
        let mb = &mut self.group.members[m];
        mb.workers[w].busy = false;
        mb.idle.push(w as u32);
        mb.busy -= 1;
        mb.busy_parts[p] = false;
        mb.in_flight -= seg.n;
        let mut dup = 0;
        if let Some(t) = &mut self.topic {
            let part = &mut t.parts[p];
            dup = part.done.count_in(seg.off, seg.end());
            part.done.insert(seg.off, seg.end());
        }
        self.stats.consumed += seg.n - dup;
        self.stats.departures += seg.n - dup;
        self.stats.duplicated += dup;
        if dup < seg.n {
            let fresh = Seg { n: seg.n - dup, ..seg };
            self.stats.sojourn_s += self.sojourn_of(&fresh);
        }
        self.record_latency(seg, worker.start);
        self.note(TraceKind::Processed { member: m as u16, n: seg.n });
        let j = self.consumer_node();
        self.window_consumed(j, seg.n);
        if self.group.downstream.is_some() {
            let rtt = self.now - worker.start;
            self.group.rtt.record(rtt, 1);
            self.group.rtt_window.record(rtt, 1);
        }
        if let Some(l) = &mut self.group.members[m].limiter {
            let before = l.limit();
            l.on_sample(self.now, self.now - worker.start, worker.inflight_at_start, false);
            let after = l.limit();
            if after != before {
                self.note(TraceKind::LimitChanged { member: m as u16, limit: after });
            }
        }
        let sync = self.group.mode == Mode::Sync;
        let commit = self.group.commit;
        let batch_done = if sync {
            let mb = &mut self.group.members[m];
            mb.batch_left -= seg.n;
            mb.batch_left == 0
        } else {
            false
        };
        if self.topic.is_some() && commit != Commit::Auto {
            if sync && batch_done {
                let parts: Vec<usize> = (0..self.group.partitions).filter(|&q| self.owns(m, q)).collect();
                self.commit_processed(m, &parts, commit == Commit::Sync);
            } else if !sync {
                self.commit_processed(m, &[p], false);
            }
        }
        self.check_pause(m);
        self.dispatch(m);
        let mb = &self.group.members[m];
        if batch_done && mb.state == LoopState::Processing && !mb.commit_wait {
            self.member_next(m);
        }
    }

    /// Records produce-to-processed latency for a run that started service at `start`, its
    /// messages completing evenly until now.
    pub(crate) fn record_latency(&mut self, seg: Seg, start: Nanos) {
        let n = seg.n;
        if n == 1 {
            let latency = self.now.saturating_sub(seg.t0);
            Histogram::record_pair(&mut self.latency, &mut self.window, latency, 1);
            return;
        }
        let span = self.now - start;
        let groups = n.min(LATENCY_GROUPS);
        for g in 0..groups {
            let (lo, hi) = (g * n / groups, (g + 1) * n / groups);
            let mid = (lo + hi - 1) / 2;
            let done = start + (span as f64 * (mid + 1) as f64 / n as f64) as Nanos;
            let latency = done.saturating_sub(seg.time_of(mid));
            Histogram::record_pair(&mut self.latency, &mut self.window, latency, hi - lo);
        }
    }

    // ---- crashes, restarts, rebalances ----------------------------------------------

    /// The heap overflowed: member `m` dies with everything it held in memory.
    #[cold]
    #[inline(never)]
    fn oom_kill(&mut self, m: usize) {
        self.stats.oom_kills += 1;
        self.stats.first_oom.get_or_insert(self.now);
        let in_flight = self.group.members[m].in_flight;
        // Take everything the member held out of it first, so it no longer counts as held.
        let mut discarded: Vec<(usize, Seg)> = Vec::new();
        let mut in_service = 0;
        {
            let mb = &mut self.group.members[m];
            for (p, q) in mb.queues.iter_mut().enumerate() {
                while let Some(s) = q.pop_front(u64::MAX) {
                    discarded.push((p, s));
                }
            }
            for (p, q) in mb.cache.iter_mut().enumerate() {
                while let Some(s) = q.pop_front(u64::MAX) {
                    discarded.push((p, s));
                }
            }
            for w in mb.workers.iter_mut().filter(|w| w.busy) {
                discarded.push((w.part as usize, w.seg));
                in_service += w.seg.n;
                w.busy = false;
            }
            mb.idle = (0..mb.workers.len() as u32).rev().collect();
            mb.busy = 0;
            mb.busy_parts.iter_mut().for_each(|b| *b = false);
            mb.queued = 0;
            mb.in_flight = 0;
            mb.cache_total = 0;
            mb.batch_left = 0;
            mb.fetching = false;
            mb.fetch_gen = mb.fetch_gen.wrapping_add(1);
            mb.pending_commits.clear();
            mb.commit_wait = false;
            mb.paused = false;
            mb.epoch = mb.epoch.wrapping_add(1);
            mb.gen = mb.gen.wrapping_add(1);
            mb.interval_armed = false;
            mb.timeout_armed = false;
            mb.up = false;
            mb.evicted = false;
            mb.state = LoopState::Idle;
            mb.restart_at = self.now + self.group.restart_delay;
        }
        if let Some(d) = &mut self.group.downstream {
            d.queue.retain(|(qm, _)| *qm as usize != m);
        }
        self.touch();
        self.stats.in_service -= in_service;
        let mut lost = 0;
        match self.group.source {
            Source::Topic => {
                for (p, seg) in discarded {
                    let Some(part) = self.topic.as_ref().map(|t| &t.parts[p]) else { break };
                    let (committed, log_start) = (part.committed, part.log_start);
                    // Below the committed offset nobody delivers it again; between that and
                    // the log start, retention already deleted it. Above both it comes back.
                    let after_commit = self.unheld_undone(p, seg.off, seg.end().min(committed));
                    let retention = self.unheld_undone(p, seg.off.max(committed), seg.end().min(log_start));
                    self.lose(after_commit, &seg, LossCause::AfterCommit);
                    self.lose(retention, &seg, LossCause::Retention);
                    lost += after_commit + retention;
                }
            }
            Source::Channel(_) | Source::Push => {
                for (_, seg) in discarded {
                    self.lose(seg.n, &seg, LossCause::Unacknowledged);
                    lost += seg.n;
                }
                let j = self.consumer_node();
                if let Some(w) = &mut self.links[j].window {
                    // A new session after the restart: the window starts over.
                    w.consumed = 0;
                }
            }
        }
        let at = self.group.members[m].restart_at;
        self.events.push(at, Event::Restart { member: m as u16 });
        self.note(TraceKind::OomKill { member: m as u16, in_flight, lost });
        if self.topic.is_some() {
            self.start_rebalance();
        }
    }

    pub(crate) fn on_restart(&mut self, m: usize) {
        let mb = &mut self.group.members[m];
        mb.up = true;
        mb.state = LoopState::Idle;
        mb.last_auto_commit = self.now;
        self.note(TraceKind::Restarted { member: m as u16 });
        let j = self.consumer_node();
        if let Some(w) = &mut self.links[j].window {
            // The restarted receiver opens a fresh window; grants still in transit count.
            let initial = match &self.scenario.consumer.link.control {
                crate::scenario::FlowControl::Credit { initial, .. } => *initial,
                crate::scenario::FlowControl::Request { prefetch, .. } => *prefetch,
                crate::scenario::FlowControl::None {} => 0,
            };
            w.permits = initial.saturating_sub(w.in_transit);
            self.on_space(j);
        }
        if self.topic.is_some() {
            self.start_rebalance();
        } else {
            self.member_next(m);
        }
    }

    /// Stops the group to reassign partitions (eager rebalance).
    fn start_rebalance(&mut self) {
        // Members give up their partitions: auto-commit commits what was polled; with
        // manual commits, what is processed is committed.
        for m in 0..self.group.members.len() {
            let mb = &self.group.members[m];
            if !mb.up || mb.evicted {
                continue;
            }
            let parts: Vec<usize> = (0..self.group.partitions).filter(|&p| self.owns(m, p)).collect();
            let Some(t) = &self.topic else { break };
            let offsets: Vec<(u32, u64)> = if self.group.commit == Commit::Auto {
                parts.iter().map(|&p| (p as u32, t.parts[p].position - self.group.members[m].cache[p].total())).collect()
            } else {
                parts.iter().map(|&p| (p as u32, t.parts[p].done.first_gap_from(t.parts[p].committed))).collect()
            };
            self.apply_commits(m, &offsets);
        }
        self.group.rebalancing = true;
        self.group.reb_gen = self.group.reb_gen.wrapping_add(1);
        self.stats.rebalances += 1;
        // Fetched records are given back: they are in the partitions' uncommitted runs, unless
        // retention deleted them meanwhile, in which case the cache held the last copy.
        let mut dropped_copies: Vec<(usize, Seg)> = Vec::new();
        for mb in &mut self.group.members {
            for (p, q) in mb.cache.iter_mut().enumerate() {
                while let Some(seg) = q.pop_front(u64::MAX) {
                    dropped_copies.push((p, seg));
                }
            }
        }
        for (p, seg) in dropped_copies {
            let log_start = self.topic.as_ref().map_or(0, |t| t.parts[p].log_start);
            let gone = self.unheld_undone(p, seg.off, seg.end().min(log_start));
            self.lose(gone, &seg, LossCause::Retention);
        }
        for mb in &mut self.group.members {
            for q in &mut mb.cache {
                q.clear();
            }
            mb.cache_total = 0;
            mb.fetching = false;
            mb.fetch_gen = mb.fetch_gen.wrapping_add(1);
            mb.gen = mb.gen.wrapping_add(1);
            if mb.state != LoopState::Processing {
                mb.state = LoopState::Idle;
            }
        }
        if let Some(t) = &mut self.topic {
            for part in &mut t.parts {
                part.owner = None;
            }
        }
        let gen = self.group.reb_gen;
        self.note(TraceKind::Rebalance);
        self.events.push(self.now + self.group.rebalance, Event::RebalanceDone { gen });
    }

    pub(crate) fn on_rebalance_done(&mut self, gen: u32) {
        if gen != self.group.reb_gen || !self.group.rebalancing {
            return;
        }
        self.group.rebalancing = false;
        self.assign();
        for m in 0..self.group.members.len() {
            let mb = &self.group.members[m];
            // Evicted members too: their next poll rejoins the group.
            if mb.up && mb.state == LoopState::Idle {
                self.member_next(m);
            }
        }
    }

    /// Offsets in `[a, b)` of partition `p` that no member holds a copy of and that were
    /// never handled.
    pub(crate) fn unheld_undone(&self, p: usize, a: u64, b: u64) -> u64 {
        if a >= b {
            return 0;
        }
        let Some(t) = &self.topic else { return b - a };
        let mut covered = t.parts[p].done.clone();
        for mb in self.group.members.iter().filter(|mb| mb.up || mb.workers.iter().any(|w| w.busy)) {
            for s in mb.queues.get(p).into_iter().flat_map(|q| q.iter()).chain(mb.cache.get(p).into_iter().flat_map(|q| q.iter())) {
                covered.insert(s.off, s.end());
            }
            for w in mb.workers.iter().filter(|w| w.busy && w.part as usize == p) {
                covered.insert(w.seg.off, w.seg.end());
            }
        }
        (b - a) - covered.count_in(a, b)
    }
}
