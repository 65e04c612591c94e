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
//!
//! This module holds the group's state: its settings, where its records come from, the
//! downstream dependency, and its members ([`member`]: one member's state, its
//! construction and what a kill leaves of it). The handlers that run the group are in
//! `sim/group/`.

mod member;

pub(crate) use member::{LoopState, Member, Worker};

use crate::scenario::{Commit, Mode, Ordering, Scenario, ShedSpec};
use crate::service::Service;
use crate::stage::Node;
use crate::time::{self, Nanos};
use crate::topic::Topic;
use std::collections::VecDeque;

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
        let partitions = topic.map_or(0, Topic::partitions);
        let service = Service::new(k.service, k.rate_per_worker);
        let msg_bytes = s.producer.message_bytes.max(1);
        let mib = |m: f64| (m * 1_048_576.0).round() as u64;
        let members = (0..k.members).map(|_| Member::new(partitions, k.workers, k.limiter.as_ref(), res)).collect();
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
    /// Messages an idle worker takes at once: at most `chunk` (the group's `chunk`: one resolution step of its
    /// work), and at most its fair share of the `queued` messages among the `free` workers
    /// that may start now, so a coarse resolution never has one worker take what several
    /// idle ones would share (resolution coarsens time, never capacity).
    #[inline(always)]
    pub fn take(chunk: u64, queued: u64, free: u64) -> u64 {
        if chunk <= 1 {
            return 1;
        }
        chunk.min(queued.div_ceil(free.max(1)))
    }

    pub fn cap(&self, m: usize) -> u32 {
        let mb = &self.members[m];
        let workers = mb.workers.len() as u32;
        mb.limiter.as_ref().map_or(workers, |l| l.limit().clamp(1, workers))
    }
}
