//! Reading a run out: time-series points, the summary, the ledger (counted from the queues
//! themselves, independently of the counters) and the snapshot the page draws.

use crate::consumer::Source;
use crate::rangeset::RangeSet;
use crate::seg::SegQueue;
use crate::series::Point;
use crate::sim::Simulation;
use crate::snapshot::{ConsumerView, Ledger, MemberView, PartitionView, ProducerView, Snapshot, StageView, Summary, WindowView};
use crate::stage::Node;
use crate::time;
use crate::topic::Topic;

impl Simulation {
    pub(crate) fn on_sample(&mut self) {
        // Pruning only bounds memory (pruning less is always safe): once a simulated second.
        if self.now % crate::time::from_secs(1.0) < self.sample_every {
            self.prune_done();
        }
        let point = self.take_sample();
        self.series.record(point, &self.lag_scratch, &self.depth_scratch);
        self.window.clear();
        self.group.rtt_window.clear();
        for mb in &mut self.group.members {
            mb.window_in_flight = mb.in_flight;
        }
        self.producer_heap_sampled();
        self.events.push(self.now + self.sample_every, crate::event::Event::Sample);
    }

    /// The point of now, with the partitions' lags and stages' depths in the scratch
    /// buffers; the peak lag noted.
    fn take_sample(&mut self) -> Point {
        let point = self.point();
        self.stats.max_lag = self.stats.max_lag.max(point.lag);
        self.lag_scratch.clear();
        if let Some(t) = &self.topic {
            self.lag_scratch.extend(t.parts.iter().map(|p| p.lag()));
        }
        self.depth_scratch.clear();
        for st in &self.stages {
            self.depth_scratch.push(match st {
                Node::Channel(b) => b.q.total(),
                Node::Kafka(k) => k.buf.q.total(),
                Node::Topic => self.topic.as_ref().map_or(0, Topic::lag),
                Node::Map | Node::Filter(_) => 0,
            });
        }
        point
    }

    /// Ends the series with a point at now, after everything that happened at this instant
    /// (see [`Series::finish`]): the end of a run agrees with its summary.
    pub(crate) fn close_series(&mut self) {
        let point = self.take_sample();
        self.series.finish(point, &self.lag_scratch, &self.depth_scratch);
    }

    /// Forgets handled offsets below anything that can still be delivered or held again.
    fn prune_done(&mut self) {
        let Some(t) = &self.topic else { return };
        let mut low: Vec<u64> = t.parts.iter().map(|p| p.committed.max(p.log_start).min(p.position)).collect();
        for mb in &self.group.members {
            // Not just the fronts: a redelivered (older) record can wait behind newer ones.
            for (p, q) in mb.queues.iter().enumerate().chain(mb.cache.iter().enumerate()) {
                if let Some(off) = q.iter().map(|s| s.off).min() {
                    low[p] = low[p].min(off);
                }
            }
            for w in mb.workers.iter().filter(|w| w.busy) {
                let p = w.part as usize;
                low[p] = low[p].min(w.seg.off);
            }
        }
        if let Some(t) = &mut self.topic {
            for (p, part) in t.parts.iter_mut().enumerate() {
                part.done.prune_below(low[p]);
            }
        }
    }

    fn permits(&self) -> u64 {
        self.links.iter().filter_map(|l| l.window.as_ref()).map(|w| w.permits).sum()
    }

    fn blocked_ns(&self) -> time::Nanos {
        self.producer.blocked_total + self.producer.blocked_since.map_or(0, |s| self.now - s)
    }

    fn max_heap_now(&self) -> u64 {
        (0..self.group.members.len()).map(|m| self.group.heap(m)).max().unwrap_or(0)
    }

    fn point(&self) -> Point {
        let window_in_flight: u64 = self.group.members.iter().map(|m| m.window_in_flight.max(m.in_flight)).sum();
        let window_heap = self
            .group
            .members
            .iter()
            .map(|m| {
                let held = m.window_in_flight.max(m.in_flight) + m.cache_total;
                self.group.baseline.saturating_add(self.group.per_message.saturating_mul(held))
            })
            .max()
            .unwrap_or(0);
        let [p50, p95, p99] = self.window.quantiles_s([0.5, 0.95, 0.99]);
        Point {
            t_s: time::secs(self.now),
            produced: self.producer.produced,
            consumed: self.stats.consumed,
            lost: self.stats.lost.total(),
            duplicated: self.stats.duplicated,
            dropped: self.stats.dropped.total(),
            channel_depth: self.buffered(),
            lag: self.topic.as_ref().map_or(0, Topic::lag),
            unfetched: self.topic.as_ref().map_or(0, Topic::unfetched),
            in_flight: window_in_flight,
            fetch_cache: self.group.cache_total(),
            heap_bytes: window_heap,
            permits: self.permits(),
            concurrency_limit: (0..self.group.members.len()).map(|m| self.group.cap(m) as u64).sum(),
            producer_rate_per_s: self.producer_rate(),
            oom_kills: self.stats.oom_kills,
            producer_heap_bytes: self.max_producer_heap(true),
            producer_oom_kills: self.stats.producer_oom_kills,
            producer_blocked_s: time::secs(self.blocked_ns()),
            latency_p50_s: p50,
            latency_p95_s: p95,
            latency_p99_s: p99,
            call_rtt_p99_s: self.group.rtt_window.quantile_s(0.99),
        }
    }

    fn producer_rate(&self) -> f64 {
        if !self.producer_running() {
            0.0
        } else {
            self.producer.gen.rate_now()
        }
    }

    /// Figures for the whole run so far.
    pub fn summary(&self) -> Summary {
        let t = time::secs(self.now);
        let mut area = self.stats.area_system;
        let mut area_q = self.stats.area_queue;
        // Integrate up to now without mutating.
        let dt = (self.now - self.stats.area_at) as f64;
        let in_system = self.stats.in_system() as f64;
        area += in_system * dt;
        area_q += (in_system - self.stats.in_service as f64).max(0.0) * dt;
        let departed = self.stats.departed();
        Summary {
            t_s: t,
            produced: self.producer.produced,
            consumed: self.stats.consumed,
            dropped: self.stats.dropped.total(),
            dropped_by: self.stats.dropped,
            lost: self.stats.lost.total(),
            lost_by_cause: self.stats.lost,
            duplicated: self.stats.duplicated,
            oom_kills: self.stats.oom_kills,
            first_oom_s: self.stats.first_oom.map(time::secs),
            producer_oom_kills: self.stats.producer_oom_kills,
            first_producer_oom_s: self.stats.first_producer_oom.map(time::secs),
            producer_heap_bytes: self.producer_heap(),
            max_producer_heap_bytes: self.max_producer_heap(false),
            rebalances: self.stats.rebalances,
            evictions: self.stats.evictions,
            max_heap_bytes: self.stats.max_heap.max(self.max_heap_now()),
            max_in_flight: self.stats.max_in_flight,
            // The peak over the samples, and now (the summary is read between samples).
            max_lag: self.stats.max_lag.max(self.topic.as_ref().map_or(0, Topic::lag)),
            latency_p50_s: self.latency.quantile_s(0.5),
            latency_p95_s: self.latency.quantile_s(0.95),
            latency_p99_s: self.latency.quantile_s(0.99),
            latency_mean_s: self.latency.mean_s(),
            call_rtt_p50_s: self.group.rtt.quantile_s(0.5),
            call_rtt_p99_s: self.group.rtt.quantile_s(0.99),
            time_avg_in_system: if self.now > 0 { area / self.now as f64 } else { 0.0 },
            time_avg_queue: if self.now > 0 { area_q / self.now as f64 } else { 0.0 },
            sojourn_mean_s: (departed > 0).then(|| self.stats.sojourn_s / departed as f64),
            departure_rate_per_s: if t > 0.0 { departed as f64 / t } else { 0.0 },
            producer_blocked_s: time::secs(self.blocked_ns()),
            producer_rate_per_s: self.producer_rate(),
            throughput_msgs_per_s: if t > 0.0 { self.stats.consumed as f64 / t } else { 0.0 },
            in_flight: self.group.in_flight(),
            fetch_cache: self.group.cache_total(),
            lag: self.topic.as_ref().map_or(0, Topic::lag),
            channel_depth: self.buffered(),
            producer_pending: self.producer.pending.map_or(0, |s| s.n),
            polls: self.group.polls(),
            events: self.stats.events,
            ledger: self.ledger(),
        }
    }

    /// Where every generated message is, counted from the queues themselves. A record held
    /// in several places (a redelivered copy next to a zombie's) is counted once, in the
    /// first of: in flight, fetch cache, topic.
    pub fn ledger(&self) -> Ledger {
        let mut l = Ledger {
            generated: self.stats.generated,
            produced: self.producer.produced,
            producer_pending: self.producer.pending.map_or(0, |s| s.n),
            in_channels: self.buffered(),
            processed: self.stats.consumed,
            dropped: self.stats.dropped.total(),
            lost: self.stats.lost.total(),
            lost_producer_oom: self.stats.lost.producer_oom,
            duplicated: self.stats.duplicated,
            ..Ledger::default()
        };
        let held = |mb: &crate::consumer::Member| mb.up || mb.workers.iter().any(|w| w.busy);
        match (self.group.source, &self.topic) {
            (Source::Topic, Some(t)) => {
                for (p, part) in t.parts.iter().enumerate() {
                    let mut covered: RangeSet = part.done.clone();
                    let mut flight = RangeSet::new();
                    for mb in self.group.members.iter().filter(|mb| held(mb)) {
                        for s in mb.queues[p].iter() {
                            flight.insert(s.off, s.end());
                        }
                        for w in mb.workers.iter().filter(|w| w.busy && w.part as usize == p) {
                            flight.insert(w.seg.off, w.seg.end());
                        }
                    }
                    l.in_flight += flight.ranges().map(|(a, b)| (b - a) - covered.count_in(a, b)).sum::<u64>();
                    for (a, b) in flight.ranges() {
                        covered.insert(a, b);
                    }
                    let mut cache = RangeSet::new();
                    for mb in self.group.members.iter().filter(|mb| held(mb)) {
                        for s in mb.cache[p].iter() {
                            cache.insert(s.off, s.end());
                        }
                    }
                    l.in_cache += cache.ranges().map(|(a, b)| (b - a) - covered.count_in(a, b)).sum::<u64>();
                    for (a, b) in cache.ranges() {
                        covered.insert(a, b);
                    }
                    // Still in the log and to be delivered (again): not fetched yet, or fetched
                    // but uncommitted and no longer held (a dead member's, before the rewind).
                    for s in part.unfetched.iter().chain(part.uncommitted.iter()) {
                        l.in_topic += s.n - covered.count_in(s.off, s.end());
                        covered.insert(s.off, s.end());
                    }
                }
            }
            _ => {
                for mb in self.group.members.iter() {
                    l.in_flight += mb.queues.iter().map(SegQueue::total).sum::<u64>();
                    l.in_flight += mb.workers.iter().filter(|w| w.busy).map(|w| w.seg.n).sum::<u64>();
                }
            }
        }
        l
    }

    /// The `q`-quantile (0..=1) of produce-to-processed latency over the whole run, in
    /// seconds (the middle of its histogram bucket); `None` before anything was processed.
    pub fn latency_quantile_s(&self, q: f64) -> Option<f64> {
        self.latency.quantile_s(q)
    }

    /// Entries held by all the queues of runs: the engine's memory for messages. Bounded
    /// whatever the number of messages (see [`SegQueue`]).
    pub fn queued_runs(&self) -> usize {
        let stages: usize = self
            .stages
            .iter()
            .map(|s| match s {
                Node::Channel(b) => b.q.entries(),
                Node::Kafka(k) => k.buf.q.entries(),
                Node::Topic => self.topic.iter().flat_map(|t| &t.parts).map(|p| p.unfetched.entries() + p.uncommitted.entries()).sum(),
                Node::Map | Node::Filter(_) => 0,
            })
            .sum();
        let members: usize =
            self.group.members.iter().map(|m| m.queues.iter().chain(m.cache.iter()).map(SegQueue::entries).sum::<usize>()).sum();
        stages + members
    }

    /// Most entries [`Simulation::queued_runs`] can ever report for this scenario.
    pub fn queued_runs_bound(&self) -> usize {
        let per_queue = crate::seg::QUEUE_CAP + 1;
        let stages: usize = self
            .stages
            .iter()
            .map(|s| match s {
                Node::Channel(_) | Node::Kafka(_) => 1,
                Node::Topic => 2 * self.group.partitions,
                Node::Map | Node::Filter(_) => 0,
            })
            .sum();
        let members: usize = self.group.members.iter().map(|m| m.queues.len() + m.cache.len()).sum();
        (stages + members) * per_queue
    }

    /// The state of every node now, for the diagram and the readouts.
    pub fn snapshot(&self) -> Snapshot {
        let g = &self.group;
        let stages = self
            .stages
            .iter()
            .map(|s| match s {
                Node::Channel(b) => StageView::Channel { depth: b.q.total(), capacity: b.cap, dropped: b.dropped },
                Node::Map => StageView::Map,
                Node::Filter(f) => StageView::Filter { pass_ratio: f.ratio, dropped: f.dropped },
                Node::Kafka(k) => StageView::KafkaProducer {
                    depth: k.buf.q.total(),
                    capacity: k.buf.cap.unwrap_or(0),
                    broker_rate_per_s: k.rate,
                    dropped: k.buf.dropped,
                },
                Node::Topic => StageView::Topic {
                    partitions: self
                        .topic
                        .iter()
                        .flat_map(|t| &t.parts)
                        .map(|p| PartitionView {
                            log_start: p.log_start,
                            log_end: p.log_end,
                            position: p.position,
                            committed: p.committed,
                            lag: p.lag(),
                            owner: p.owner,
                        })
                        .collect(),
                },
            })
            .collect();
        let links = self
            .links
            .iter()
            .map(|l| l.window.as_ref().map(|w| WindowView { request: w.request, permits: w.permits, in_transit: w.in_transit }))
            .collect();
        let members = g
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| MemberView {
                up: m.up,
                evicted: m.evicted,
                paused: m.paused,
                restart_in_s: (!m.up).then(|| time::secs(m.restart_at.saturating_sub(self.now))),
                in_flight: m.in_flight,
                fetch_cache: m.cache_total,
                busy_workers: m.busy,
                waiting_workers: m.workers.iter().filter(|w| w.busy && w.queued_call).count() as u32,
                limit: g.cap(i),
                heap_bytes: g.heap(i),
                polls: m.polls,
                waiting_for_batch: m.state == crate::consumer::LoopState::Processing,
            })
            .collect();
        Snapshot {
            t_s: time::secs(self.now),
            producer: ProducerView {
                rate_per_s: self.producer_rate(),
                produced: self.producer.produced,
                blocked: self.producer.blocked_since.is_some(),
                pending: self.producer.pending.map_or(0, |s| s.n),
                blocked_s: time::secs(self.blocked_ns()),
                throttled: self.producer.throttle.is_some(),
                heap_bytes: self.producer_heap(),
                heap_limit_bytes: self.producer.heap.limit,
                restart_in_s: self.producer.down_until.map(|at| time::secs(at.saturating_sub(self.now))),
            },
            stages,
            links,
            consumer: ConsumerView {
                mode: g.mode,
                commit: g.commit,
                max_poll_records: g.max_poll,
                workers: self.scenario.consumer.workers,
                heap_limit_bytes: g.limit,
                polls: g.polls,
                members,
                downstream: g.downstream.as_ref().map(|d| (d.busy, d.queue.len() as u64, d.slots)),
                rebalancing: g.rebalancing,
            },
            summary: self.summary(),
        }
    }
}
