//! One member of the consumer group: its poll loop's state, queues, fetch cache, workers
//! and commits in progress; how it is built and what an OOM kill leaves of it.

use crate::control::Limiter;
use crate::scenario::LimiterSpec;
use crate::seg::QUEUE_CAP;
use crate::seg::{Seg, SegQueue};
use crate::time::Nanos;

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
    /// Service time drawn for its call to the downstream (made once its own time is spent).
    pub call_ns: Nanos,
    /// When it called the downstream (for the call's round trip).
    pub call_at: Nanos,
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
    /// `polls as usize % partitions` (1 without a topic), kept as `polls` counts: the
    /// partition a poll starts at (see [`Member::count_poll`]).
    pub poll_start: usize,
    pub window_in_flight: u64,
    pub limiter: Option<Limiter>,
    pub pending_commits: Vec<(u32, u64)>,
    pub commit_wait: bool,
    pub shed_avg: f64,
}

impl Member {
    /// A member at time 0, up and idle: one queue per partition (one without a topic), one
    /// fetch cache per partition, `workers` idle workers and the limiter in its initial state.
    pub fn new(partitions: usize, workers: u32, limiter: Option<&LimiterSpec>, resolution: Nanos) -> Member {
        let queues = partitions.max(1);
        Member {
            up: true,
            restart_at: 0,
            evicted: false,
            paused: false,
            state: LoopState::Idle,
            gen: 0,
            epoch: 0,
            queues: (0..queues)
                .map(|_| {
                    let q = SegQueue::new(QUEUE_CAP, resolution);
                    if partitions > 0 {
                        q.strict()
                    } else {
                        q
                    }
                })
                .collect(),
            queued: 0,
            cache: (0..partitions).map(|_| SegQueue::new(QUEUE_CAP, resolution).strict()).collect(),
            cache_total: 0,
            fetching: false,
            fetch_gen: 0,
            workers: vec![Worker::default(); workers as usize],
            idle: (0..workers).rev().collect(),
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
            poll_start: 0,
            window_in_flight: 0,
            limiter: limiter.map(Limiter::new),
            pending_commits: Vec::new(),
            commit_wait: false,
            shed_avg: 0.0,
        }
    }

    /// Counts a poll: `polls` and `poll_start`, which stays `polls as usize % n` for `n`
    /// fetch caches (1 when there are none) without a division per poll.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub fn count_poll(&mut self) {
        self.polls += 1;
        self.poll_start += 1;
        // `polls as usize` wraps to 0 where usize is 32 bits (the page), and so does the start.
        if self.poll_start >= self.cache.len().max(1) || self.polls as usize == 0 {
            self.poll_start = 0;
        }
        debug_assert_eq!(self.poll_start, (self.polls as usize) % self.cache.len().max(1));
    }

    /// The process dies (OOM kill): every run it held in memory goes to `discarded` as
    /// (partition, run), queues first, then the fetch cache, then the runs in service; then
    /// [`Member::reset_after_kill`]. Returns how many messages were in service.
    pub fn kill(&mut self, restart_at: Nanos, discarded: &mut Vec<(usize, Seg)>) -> u64 {
        let mut in_service = 0;
        for (p, q) in self.queues.iter_mut().enumerate() {
            while let Some(s) = q.pop_front(u64::MAX) {
                discarded.push((p, s));
            }
        }
        for (p, q) in self.cache.iter_mut().enumerate() {
            while let Some(s) = q.pop_front(u64::MAX) {
                discarded.push((p, s));
            }
        }
        for w in self.workers.iter_mut().filter(|w| w.busy) {
            discarded.push((w.part as usize, w.seg));
            in_service += w.seg.n;
            w.busy = false;
        }
        self.reset_after_kill(restart_at);
        in_service
    }

    /// What a kill leaves of the member, field by field (the destructuring names every
    /// field, so a new one must be decided here too). The queues, cache and workers have
    /// been emptied by [`Member::kill`].
    fn reset_after_kill(&mut self, at: Nanos) {
        let Member {
            up,
            restart_at,
            evicted,
            paused,
            state,
            gen,
            epoch,
            queues: _,
            queued,
            cache: _,
            cache_total,
            fetching,
            fetch_gen,
            workers,
            idle,
            busy,
            busy_parts,
            in_flight,
            batch_left,
            last_auto_commit: _,
            last_poll: _,
            poll_deadline: _,
            interval_armed,
            timeout_armed,
            polls: _,
            poll_start: _,
            window_in_flight: _,
            limiter: _,
            pending_commits,
            commit_wait,
            shed_avg: _,
        } = self;
        // Down until the `Restart` event at `at`; not evicted (the group learns of the death
        // through the rebalance the kill starts); a new process starts unpaused, idle.
        *up = false;
        *restart_at = at;
        *evicted = false;
        *paused = false;
        *state = LoopState::Idle;
        // New generations: polls, fetches, worker completions, commits and timers of the
        // dead process arrive later as stale events and are ignored.
        *gen = gen.wrapping_add(1);
        *epoch = epoch.wrapping_add(1);
        *fetch_gen = fetch_gen.wrapping_add(1);
        *fetching = false;
        *interval_armed = false;
        *timeout_armed = false;
        // Nothing held: `queues`, `cache` and the workers' runs were taken out by `kill`
        // (a worker's other fields are overwritten when it next starts).
        *queued = 0;
        *cache_total = 0;
        *in_flight = 0;
        *batch_left = 0;
        *idle = (0..workers.len() as u32).rev().collect();
        *busy = 0;
        busy_parts.iter_mut().for_each(|b| *b = false);
        // Commits not yet sent die with the process.
        pending_commits.clear();
        *commit_wait = false;
        // Survive the kill:
        // - `last_auto_commit`: set afresh when the member restarts.
        // - `last_poll`, `poll_deadline`: read only while the loop is up and waiting or
        //   armed, and set again by the first poll after the restart.
        // - `polls`: a count over the whole run (the summary's and the snapshot's), not
        //   process state; `poll_start` follows it.
        // - `window_in_flight`: the peak in flight since the last sample, for the series;
        //   the peak before the kill did happen in this window. Reset at each sample.
        // - `limiter` and `shed_avg` (RED's moving average): the run keeps them across
        //   restarts, as if held outside the process. A fresh process would start from the
        //   initial limit and an empty average; kept as they are so that runs (and presets'
        //   outputs) stay what they were.
    }
}
