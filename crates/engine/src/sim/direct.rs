//! The direct path: the two hot handlers of the simplest pipeline, a producer pushing
//! straight into one plain consumer (no stages, no flow control on the link, no throttle,
//! one member, no limiter, downstream, shedding, slow message or pause, async mode, a heap
//! that cannot overflow). M/M/1, M/D/1 and M/M/c are this shape.
//!
//! For such a run the general handlers walk the whole pipeline for every message (`push`
//! → `space` → `deliver` → `group_receive` → `enqueue` → `accept_in_flight` → `dispatch`)
//! and test every optional feature on the way. These handlers do the same state changes in
//! the same order, with none of the tests that cannot pass, so a run gives bit-for-bit the
//! same events, series and summary either way (`direct_and_general_paths_agree` below).
//! The choice is made once, in [`Simulation::new`], and the general path takes over while
//! tracing is on (the animation wants each move recorded).

use crate::consumer::{Group, Worker};
use crate::event::Event;
use crate::hist::Histogram;
use crate::scenario::{FlowControl, Mode, Ordering};
use crate::sim::{RunStatus, Simulation};
use crate::time::Nanos;

impl Simulation {
    /// Whether this run's shape allows the direct path (decided once, at set-up).
    pub(crate) fn direct_eligible(&self) -> bool {
        let g = &self.group;
        self.stages.is_empty()
            && self.links.len() == 2
            && self.links[1].window.is_none()
            && matches!(self.scenario.consumer.link.control, FlowControl::None {})
            && self.producer.throttle.is_none()
            && g.members.len() == 1
            && g.members[0].limiter.is_none()
            && g.downstream.is_none()
            && g.shed.is_none()
            && g.slow.is_none()
            && g.pause.is_none()
            && g.mode == Mode::Async
            && g.heap_inert
            && g.partitions == 0
            && g.members[0].queues.len() == 1
    }

    /// `run_until` on the direct path: its two events handled here, inline, the others
    /// (samples) by `handle`.
    #[inline(never)]
    pub(crate) fn run_direct(&mut self, target: Nanos, max_events: u64) -> RunStatus {
        self.run_loop(target, max_events, |sim, event| match event {
            Event::Produce { gen } if gen == sim.producer.produce_gen => sim.on_produce_direct(),
            Event::WorkerDone { worker, epoch, .. } => sim.on_worker_done_direct(worker as usize, epoch),
            other => sim.handle(other),
        })
    }

    /// `Produce` on the direct path: what `on_produce` does when the producer's send always
    /// fits (the consumer takes everything) and the only member is always up.
    #[inline(always)]
    fn on_produce_direct(&mut self) {
        if let Some(seg) = self.take_generated() {
            let n = seg.n;
            self.producer.produced += n;
            let mb = &mut self.group.members[0];
            mb.queues[0].push_back(seg);
            mb.queued += n;
            mb.in_flight += n;
            mb.window_in_flight = mb.window_in_flight.max(mb.in_flight);
            self.stats.max_in_flight = self.stats.max_in_flight.max(mb.in_flight);
            self.dispatch_direct();
        }
        self.schedule_produce();
    }

    /// `WorkerDone` on the direct path: `on_worker_done` without a topic, downstream,
    /// limiter, flow-control window or batch.
    #[inline(always)]
    fn on_worker_done_direct(&mut self, w: usize, epoch: u32) {
        let mb = &self.group.members[0];
        if epoch != mb.epoch {
            return;
        }
        let worker = mb.workers[w];
        if !worker.busy {
            return;
        }
        let seg = worker.seg;
        self.touch();
        self.stats.in_service -= seg.n;
        let mb = &mut self.group.members[0];
        mb.workers[w].busy = false;
        mb.idle.push(w as u32);
        mb.busy -= 1;
        mb.busy_parts[worker.part as usize] = false;
        mb.in_flight -= seg.n;
        self.stats.consumed += seg.n;
        self.stats.departures += seg.n;
        self.stats.sojourn_s += self.sojourn_of(&seg);
        if seg.n == 1 {
            let latency = self.now.saturating_sub(seg.t0);
            Histogram::record_pair(&mut self.latency, &mut self.window, latency, 1);
        } else {
            self.record_latency(seg, worker.start);
        }
        self.dispatch_direct();
    }

    /// `dispatch_queued` for the one member's one queue: no limiter, no deadline shedding,
    /// no slow message, no downstream.
    #[inline(always)]
    fn dispatch_direct(&mut self) {
        let mb = &self.group.members[0];
        if mb.queued > 0 && !mb.idle.is_empty() {
            self.start_direct();
        }
    }

    #[inline(always)]
    fn start_direct(&mut self) {
        let per_partition = self.group.ordering == Ordering::PerPartition;
        let chunk = self.group.chunk;
        loop {
            let mb = &mut self.group.members[0];
            if mb.queued == 0 || mb.busy as usize >= mb.workers.len() || (per_partition && mb.busy_parts[0]) {
                return;
            }
            let take = Group::take(chunk, mb.queued, mb.idle.len() as u64);
            let Some(w) = mb.idle.pop() else { return };
            let seg = mb.queues[0].pop_front(take).expect("queued messages are in the queue");
            mb.queued -= seg.n;
            mb.busy += 1;
            if per_partition {
                mb.busy_parts[0] = true;
            }
            let inflight = mb.busy;
            let epoch = mb.epoch;
            self.touch();
            self.stats.in_service += seg.n;
            let busy_for = self.group.service.sample_sum_inline(seg.n, &mut self.rng);
            self.group.members[0].workers[w as usize] = Worker {
                busy: true,
                seg,
                part: 0,
                start: self.now,
                queued_call: false,
                call_ns: 0,
                call_at: 0,
                inflight_at_start: inflight,
            };
            self.events.push_inline(self.now + busy_for, Event::WorkerDone { member: 0, worker: w, epoch });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::scenario::{Arrivals, Ordering, Scenario, ServiceDist};
    use crate::sim::Simulation;
    use crate::{preset, PRESETS};

    fn run(s: &Scenario, direct: bool) -> (String, String) {
        let mut sim = Simulation::new(s).expect("valid");
        assert!(sim.direct_ok, "the scenario should take the direct path");
        sim.direct_ok = direct;
        sim.set_tracing(false);
        sim.run_to_end();
        (serde_json::to_string(&sim.summary()).unwrap(), serde_json::to_string(sim.series()).unwrap())
    }

    fn plain(arrivals: Arrivals, rate: f64, service: ServiceDist, workers: u32, ordering: Ordering, res_ms: f64) -> Scenario {
        let mut s = Scenario::default();
        s.stages.clear();
        s.producer.arrivals = arrivals;
        s.producer.rate_per_s = rate;
        s.consumer.service = service;
        s.consumer.workers = workers;
        s.consumer.rate_per_worker = 100.0;
        s.consumer.ordering = ordering;
        s.consumer.memory.bytes_per_message = 0;
        s.sim.resolution_ms = res_ms;
        s.duration_s = 30.0;
        s
    }

    #[test]
    fn direct_and_general_paths_agree() {
        let mut cases = Vec::new();
        for (arrivals, rate) in [(Arrivals::Poisson, 90.0), (Arrivals::Constant, 250.0), (Arrivals::Poisson, 5_000.0)] {
            for service in [ServiceDist::Exponential {}, ServiceDist::Deterministic {}, ServiceDist::Lognormal { sigma: 1.0 }] {
                for (workers, ordering) in [(1, Ordering::Any), (3, Ordering::Any), (3, Ordering::PerPartition)] {
                    for res_ms in [0.0, 1.0] {
                        cases.push(plain(arrivals, rate, service, workers, ordering, res_ms));
                    }
                }
            }
        }
        for s in &cases {
            assert_eq!(run(s, true), run(s, false), "{s:?}");
        }
    }

    #[test]
    fn only_the_plain_shape_takes_the_direct_path() {
        let direct = |s: &Scenario| Simulation::new(s).expect("valid").direct;
        let base = plain(Arrivals::Poisson, 90.0, ServiceDist::Exponential {}, 1, Ordering::Any, 0.0);
        assert!(direct(&base));
        // Every preset has a stage or a flow-controlled link ("credits"): the general path.
        for p in PRESETS {
            assert!(!direct(&preset(p.id).unwrap()), "{}", p.id);
        }
        let mut heap = base.clone();
        heap.consumer.memory.bytes_per_message = 1024;
        assert!(!direct(&heap), "a heap that can overflow");
        let mut shed = base.clone();
        shed.consumer.shed = Some(crate::scenario::ShedSpec::QueueLength { max_queue: 10 });
        assert!(!direct(&shed), "shedding");
        let mut limiter = base.clone();
        limiter.consumer.limiter = Some(crate::LimiterSpec::default());
        assert!(!direct(&limiter), "a concurrency limiter");
        let mut sync = base.clone();
        sync.consumer.mode = crate::scenario::Mode::Sync;
        assert!(!direct(&sync), "sync mode");
    }

    #[test]
    fn tracing_takes_the_general_path_and_changes_nothing() {
        let s = plain(Arrivals::Poisson, 90.0, ServiceDist::Exponential {}, 1, Ordering::Any, 0.0);
        let mut a = Simulation::new(&s).unwrap();
        let mut b = Simulation::new(&s).unwrap();
        b.set_tracing(true);
        a.run_until(10.0, u64::MAX);
        b.run_until(10.0, u64::MAX);
        b.set_tracing(false);
        a.run_to_end();
        b.run_to_end();
        assert_eq!(serde_json::to_string(&a.summary()).unwrap(), serde_json::to_string(&b.summary()).unwrap());
    }
}
