//! The poll loop of each member: deciding the next step, fetches from the topic into the
//! fetch cache, polls (from the cache, or a channel), records pushed to the group,
//! shedding on receipt, pause/resume, the heap check, poll timeouts and
//! `max.poll.interval.ms`.

use crate::consumer::{LoopState, Source};
use crate::event::Event;
use crate::scenario::{Commit, Mode};
use crate::seg::{Seg, SegQueue, QUEUE_CAP};
use crate::shed;
use crate::sim::Simulation;
use crate::snapshot::{DropCause, LossCause, TraceKind};

impl Simulation {
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
    pub(super) fn maybe_fetch(&mut self, m: usize) {
        let Some(t) = &self.topic else { return };
        let mb = &self.group.members[m];
        if !mb.up || mb.fetching || mb.paused || mb.evicted || self.group.rebalancing {
            return;
        }
        if t.wants_fetch(m as u16, &mb.cache) {
            let latency = t.fetch_latency();
            let gen = mb.fetch_gen;
            self.group.members[m].fetching = true;
            // The request reaches the broker half a round trip from now and carries what the
            // log holds then; the records arrive half a round trip later.
            if latency > 0 {
                let Some(t) = &mut self.topic else { return };
                t.fetch_requested(m as u16, self.now + latency / 2);
            }
            self.events.push(self.now + latency, Event::FetchDone { member: m as u16, gen });
        }
    }

    pub(crate) fn on_fetch_done(&mut self, m: usize, gen: u32) {
        if self.topic.is_none() {
            return;
        }
        let (part_fetch, fetch_max) = (self.group.part_fetch, self.group.fetch_max);
        let mb = &mut self.group.members[m];
        if gen != mb.fetch_gen || !mb.up {
            return;
        }
        mb.fetching = false;
        if mb.paused || mb.evicted || self.group.rebalancing {
            return;
        }
        if mb.state == LoopState::Waiting && mb.cache_total == 0 && self.group.shed.is_none() && self.fetch_and_poll(m) {
            return;
        }
        let Some(t) = &mut self.topic else { return };
        let mb = &mut self.group.members[m];
        let got = t.fetch(m as u16, &mut mb.cache, part_fetch, fetch_max);
        mb.cache_total += got;
        if got == 0 {
            // What was appended after the request reached the broker needs another fetch.
            if mb.state == LoopState::Waiting {
                self.maybe_fetch(m);
            }
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

    /// `on_fetch_done` for a member whose poll waits for this fetch with an empty fetch
    /// cache, when the poll takes the whole fetch (the usual case of a caught-up consumer:
    /// a fetch every tick). The runs go straight to the partition queues, merged as the
    /// fetch cache would have merged them on the way, so queues, counts, heap peaks and
    /// trace are those of the fetch, the heap check and the poll one after the other.
    /// Returns false, having changed nothing, unless every unfetched record of the log
    /// would fit this poll (and the fetch cache, and the heap) and no auto-commit is due at
    /// this poll (it reads the cache).
    fn fetch_and_poll(&mut self, m: usize) -> bool {
        let Some(t) = &mut self.topic else { return false };
        let g = &mut self.group;
        let mb = &mut g.members[m];
        if g.commit == Commit::Auto && self.now - mb.last_auto_commit >= g.auto_commit_every {
            return false;
        }
        // What the fetch brings is at most what the log holds unfetched: when that fits one
        // poll, a fetch cache without compacting and the heap, so does the fetch.
        let bound = t.unfetched_records();
        if bound > g.max_poll
            || bound > QUEUE_CAP as u64
            || !g.heap_inert && g.baseline.saturating_add(g.per_message.saturating_mul(mb.in_flight + bound)) > g.limit
        {
            return false;
        }
        // The fetch cache's merging, one partition at a time (the cache is empty, and holds
        // no more runs than the log: it does not compact).
        let cache = &mb.cache[0];
        let queues = &mut mb.queues;
        let mut held: Option<(usize, Seg)> = None;
        let fetched = t.fetch_each(m as u16, g.part_fetch, g.fetch_max, |p, seg| match &mut held {
            Some((hp, h)) if *hp == p && cache.merges(h, &seg) => h.absorb(seg),
            _ => {
                if let Some((hp, h)) = held.replace((p, seg)) {
                    queues[hp].push_back(h);
                }
            }
        });
        if let Some((hp, h)) = held {
            queues[hp].push_back(h);
        }
        let got = fetched;
        if got == 0 {
            // As `on_fetch_done` after a fetch that brought nothing.
            if mb.state == LoopState::Waiting {
                self.maybe_fetch(m);
            }
            return true;
        }
        let heap = g.baseline.saturating_add(g.per_message.saturating_mul(mb.in_flight + got));
        mb.state = LoopState::Fetching;
        self.note(TraceKind::Fetched { member: m as u16, n: got });
        if !self.group.heap_inert {
            self.stats.max_heap = self.stats.max_heap.max(heap);
        }
        // The poll (`on_poll_done`, with no commit due).
        let mb = &mut self.group.members[m];
        mb.last_poll = self.now;
        mb.count_poll();
        self.note(TraceKind::Polled { member: m as u16, n: got });
        self.after_poll(m, got);
        true
    }

    /// A `PollDone` event: the poll completes unless it was overtaken.
    pub(crate) fn on_poll_event(&mut self, m: usize, gen: u32) {
        let mb = &self.group.members[m];
        if gen == mb.gen && mb.state == LoopState::Fetching {
            self.on_poll_done(m);
        }
    }

    pub(super) fn on_poll_done(&mut self, m: usize) {
        if self.group.source == Source::Topic {
            // Kafka resets the poll timer while poll() waits: the interval runs from when
            // the poll returns (it bounds the processing between polls).
            self.group.members[m].last_poll = self.now;
        }
        self.maybe_auto_commit(m);
        let left = self.group.max_poll;
        let mut got = 0;
        if self.group.source == Source::Topic && self.group.shed.is_none() {
            self.poll_topic_unshed(m, left);
            return;
        }
        // Taken out of `self` while the handler runs, so that polls allocate nothing.
        let mut arrived = std::mem::take(&mut self.arrived_scratch);
        arrived.clear();
        match self.group.source {
            Source::Topic => {
                let mb = &mut self.group.members[m];
                got = take_from_caches(&mut mb.cache, &mut mb.cache_total, mb.poll_start, left, |p, seg| arrived.push((p, seg)));
            }
            Source::Channel(node) => {
                got = self.poll_channel(node, left, &mut arrived);
            }
            Source::Push => {}
        }
        self.group.members[m].count_poll();
        self.note(TraceKind::Polled { member: m as u16, n: got });
        let mut accepted = 0;
        for &(p, seg) in &arrived {
            accepted += self.enqueue(m, p, seg);
        }
        self.arrived_scratch = arrived;
        self.after_poll(m, accepted);
    }

    /// `on_poll_done`'s poll of the topic when the group sheds nothing on receipt: each run
    /// taken from the fetch cache goes straight into its partition's queue (what `enqueue`
    /// does without shedding), in the same order, with the same counts and trace.
    fn poll_topic_unshed(&mut self, m: usize, left: u64) {
        let mb = &mut self.group.members[m];
        let queues = &mut mb.queues;
        let got = take_from_caches(&mut mb.cache, &mut mb.cache_total, mb.poll_start, left, |p, seg| queues[p].push_back(seg));
        mb.count_poll();
        self.note(TraceKind::Polled { member: m as u16, n: got });
        self.after_poll(m, got);
    }

    /// The end of a poll that queued `accepted` messages: accounting, then the loop's next step.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    fn after_poll(&mut self, m: usize, accepted: u64) {
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
    pub(super) fn enqueue(&mut self, m: usize, p: usize, mut seg: Seg) -> u64 {
        let queued = self.group.members[m].queued;
        let g = &mut self.group;
        let (shed, cause) = shed::on_arrival(g.shed.as_ref(), queued, seg.n, &mut g.members[m].shed_avg, &mut self.rng);
        if shed > 0 {
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
    pub(super) fn shed_at_consumer(&mut self, p: usize, seg: Seg, cause: DropCause) {
        let node = self.consumer_node();
        let dup = match &mut self.topic {
            Some(t) => t.mark_handled(p, seg.off, seg.end()),
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
    pub(super) fn accept_in_flight(&mut self, m: usize, n: u64) -> bool {
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
    pub(super) fn check_heap(&mut self, m: usize) -> bool {
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
    pub(super) fn check_pause(&mut self, m: usize) {
        if self.group.pause.is_some() {
            self.check_pause_thresholds(m);
        }
    }

    pub(super) fn check_pause_thresholds(&mut self, m: usize) {
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
        // Waiting inside poll() (for data, or with no partitions at all) is not time between
        // polls: Kafka keeps resetting the timer while a poll is in progress.
        let in_poll = mb.state == LoopState::Waiting;
        if in_poll || self.now < mb.last_poll + interval {
            mb.interval_armed = true;
            let at = if in_poll { self.now + interval } else { mb.last_poll + interval };
            self.events.push(at, Event::PollIntervalCheck { member: m as u16, gen: epoch });
            return;
        }
        // No poll() for max.poll.interval.ms: the member leaves the group.
        self.group.members[m].evicted = true;
        self.stats.evictions += 1;
        self.note(TraceKind::Evicted { member: m as u16 });
        self.start_rebalance();
    }
}

/// A poll's take from a member's fetch caches: up to `left` records, the caches from
/// partition `start` round to `start - 1`, each run given to `sink` with its partition;
/// `cache_total` kept. Returns the records taken. Two slices, not an index per partition:
/// no arithmetic or bounds check for the partitions, most of which are empty.
fn take_from_caches(caches: &mut [SegQueue], cache_total: &mut u64, start: usize, mut left: u64, mut sink: impl FnMut(usize, Seg)) -> u64 {
    debug_assert_eq!(*cache_total, caches.iter().map(SegQueue::total).sum::<u64>());
    let mut got = 0;
    let (before, after) = caches.split_at_mut(start);
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
            sink(p, seg);
        }
    }
    got
}
