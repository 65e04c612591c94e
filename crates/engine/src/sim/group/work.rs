//! Workers: dispatching queued runs within the concurrency cap (per-partition order,
//! deadline shedding, the slow message), calls to the downstream dependency and its slots,
//! completions (duplicates, latency, limiter samples, commits after processing).

use crate::consumer::{Group, LoopState, Worker};
use crate::event::Event;
use crate::hist::Histogram;
use crate::scenario::{Commit, Mode, Ordering, ShedSpec};
use crate::seg::Seg;
use crate::shed;
use crate::sim::Simulation;
use crate::snapshot::{DropCause, TraceKind};
use crate::time::Nanos;

/// A run of completions is recorded in the latency histogram as at most this many groups.
const LATENCY_GROUPS: u64 = 16;

impl Simulation {
    // ---- workers --------------------------------------------------------------------

    /// Starts idle workers on queued messages, oldest first, within the concurrency cap.
    #[inline]
    pub(super) fn dispatch(&mut self, m: usize) {
        let mb = &self.group.members[m];
        if mb.queued > 0 && !mb.idle.is_empty() {
            self.dispatch_queued(m);
        }
    }

    // Out of line so that `dispatch`, a check made twice per message, inlines into callers.
    #[inline(never)]
    pub(super) fn dispatch_queued(&mut self, m: usize) {
        let chunk = self.group.chunk;
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
                // The queue whose front is oldest (the first such), skipping busy partitions
                // under per-partition ordering. (A plain scan: on every start of a worker.)
                let mut best_t = Nanos::MAX;
                for (i, (q, &busy)) in mb.queues.iter().zip(&mb.busy_parts).enumerate() {
                    // An empty queue's is `Nanos::MAX`: never earlier.
                    let t0 = q.front_t0();
                    if t0 < best_t && !(per_partition && busy) {
                        best_t = t0;
                        best = i;
                    }
                }
            }
            if best == usize::MAX {
                return;
            }
            // Deadline shedding: what is already too old is dropped, not started.
            if let Some(ShedSpec::Deadline { max_age_ms }) = self.group.shed {
                let cutoff = shed::deadline_cutoff(self.now, max_age_ms);
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
            let free = (mb.idle.len() as u64).min(u64::from(cap - mb.busy));
            let take = Group::take(chunk, mb.queued, free);
            let w = mb.idle.pop().expect("an idle worker");
            let seg = mb.queues[best].pop_front(take).expect("non-empty");
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
            // The worker's own service time; with a downstream, it then calls it and waits
            // for the call too (a slot, then the call's service time).
            let service = self.group.service;
            let mut busy_for = service.sample_sum(seg.n, &mut self.rng);
            if slow > 1.0 {
                busy_for += ((slow - 1.0) * service.mean_ns()).round() as Nanos;
            }
            let call_ns = self.group.downstream.as_ref().map_or(0, |d| d.service.sample_sum(seg.n, &mut self.rng));
            let mb = &mut self.group.members[m];
            mb.workers[w as usize] = Worker {
                busy: true,
                seg,
                part: best as u32,
                start: self.now,
                queued_call: false,
                call_ns,
                call_at: 0,
                inflight_at_start: inflight,
            };
            let done = if self.group.downstream.is_some() {
                Event::CallDue { member: m as u16, worker: w, epoch }
            } else {
                Event::WorkerDone { member: m as u16, worker: w, epoch }
            };
            self.events.push(self.now + busy_for, done);
        }
    }

    /// A worker has spent its own time on its run and calls the downstream: it takes a
    /// slot, or waits for one.
    pub(crate) fn on_call_due(&mut self, m: usize, w: usize, epoch: u32) {
        let mb = &mut self.group.members[m];
        if epoch != mb.epoch || !mb.workers[w].busy {
            // The member died meanwhile: no call is made.
            return;
        }
        let worker = &mut mb.workers[w];
        worker.call_at = self.now;
        let (n, call_ns) = (worker.seg.n, worker.call_ns);
        let Some(d) = &mut self.group.downstream else { return };
        if d.busy >= d.slots {
            worker.queued_call = true;
            d.queue.push_back((m as u16, w as u32));
        } else {
            d.busy += 1;
            self.events.push(self.now + call_ns, Event::WorkerDone { member: m as u16, worker: w as u32, epoch });
        }
        self.note(TraceKind::CallStarted { member: m as u16, n });
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
            dup = t.mark_handled(p, seg.off, seg.end());
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
        // What the limiter samples: the call's round trip (waiting for a slot included), or
        // without a downstream, the worker's time on the run.
        let mut rtt = self.now - worker.start;
        if self.group.downstream.is_some() {
            rtt = self.now - worker.call_at;
            self.group.rtt.record(rtt, 1);
            self.group.rtt_window.record(rtt, 1);
        }
        if let Some(l) = &mut self.group.members[m].limiter {
            let before = l.limit();
            l.on_sample(self.now, rtt, worker.inflight_at_start, false);
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
}
