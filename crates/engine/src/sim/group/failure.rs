//! Failures: OOM kills (what is lost and what comes back), restarts, evictions' and
//! rejoins' rebalances, and which offsets nobody holds any more.

use crate::consumer::{LoopState, Source};
use crate::event::Event;
use crate::rangeset::RangeSet;
use crate::scenario::{Commit, Mode};
use crate::seg::Seg;
use crate::sim::Simulation;
use crate::snapshot::{LossCause, TraceKind};

impl Simulation {
    // ---- crashes, restarts, rebalances ----------------------------------------------

    /// The heap overflowed: member `m` dies with everything it held in memory.
    #[cold]
    #[inline(never)]
    pub(super) fn oom_kill(&mut self, m: usize) {
        self.stats.oom_kills += 1;
        self.stats.first_oom.get_or_insert(self.now);
        let in_flight = self.group.members[m].in_flight;
        // Take everything the member held out of it first, so it no longer counts as held.
        let mut discarded: Vec<(usize, Seg)> = Vec::new();
        let restart_at = self.now + self.group.restart_delay;
        let in_service = self.group.members[m].kill(restart_at, &mut discarded);
        if let Some(d) = &mut self.group.downstream {
            d.queue.retain(|(qm, _)| *qm as usize != m);
        }
        self.touch();
        self.stats.in_service -= in_service;
        let mut lost = 0;
        match self.group.source {
            Source::Topic => {
                let covered = self.covered_by_partition(&discarded);
                for (p, seg) in discarded {
                    let Some((committed, log_start)) = self.topic.as_ref().map(|t| t.committed_and_start(p)) else { break };
                    // Below the committed offset nobody delivers it again; between that and
                    // the log start, retention already deleted it. Above both it comes back.
                    let after_commit = unheld(&covered[p], seg.off, seg.end().min(committed));
                    let retention = unheld(&covered[p], seg.off.max(committed), seg.end().min(log_start));
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
                // A new session after the restart: the window starts over.
                let j = self.consumer_node();
                self.links[j].restart_count();
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
        // The restarted receiver opens a fresh window; grants still in transit count.
        if self.links[j].reopen() {
            self.on_space(j);
        }
        if self.topic.is_some() {
            self.start_rebalance();
        } else {
            self.member_next(m);
        }
    }

    /// Stops the group to reassign partitions (eager rebalance).
    pub(super) fn start_rebalance(&mut self) {
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
                parts.iter().map(|&p| (p as u32, t.position(p) - self.group.members[m].cache[p].total())).collect()
            } else {
                parts.iter().map(|&p| (p as u32, t.handled_through(p))).collect()
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
        let covered = self.covered_by_partition(&dropped_copies);
        for (p, seg) in dropped_copies {
            let log_start = self.topic.as_ref().map_or(0, |t| t.committed_and_start(p).1);
            let gone = unheld(&covered[p], seg.off, seg.end().min(log_start));
            self.lose(gone, &seg, LossCause::Retention);
        }
        self.give_back_queued();
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
            t.revoke_all();
        }
        let gen = self.group.reb_gen;
        self.note(TraceKind::Rebalance);
        self.events.push(self.now + self.group.rebalance, Event::RebalanceDone { gen });
    }

    /// At a rebalance, every member taking part in it (up, not evicted) gives back the
    /// records it polled but has not started, at or above its partition's committed offset:
    /// the partition rewinds there, so the log delivers them again, once, to whoever owns it
    /// next. A member keeps what its workers have in hand and what is committed (auto-commit
    /// commits what was polled: nobody would deliver it again); an evicted member keeps all
    /// it holds (it learns of the eviction at its next poll). So a zombie's copy is bounded
    /// by what it held, and copies never pile up over rebalances. A record that retention
    /// deleted meanwhile had its last copy here: lost.
    fn give_back_queued(&mut self) {
        let Some(t) = &self.topic else { return };
        let bounds: Vec<(u64, u64)> = (0..self.group.partitions).map(|p| t.committed_and_start(p)).collect();
        let sync = self.group.mode == Mode::Sync;
        let mut given: Vec<Seg> = Vec::new();
        let mut covered = RangeSet::new();
        for m in 0..self.group.members.len() {
            let mb = &mut self.group.members[m];
            if !mb.up || mb.evicted {
                continue;
            }
            for (p, &(committed, log_start)) in bounds.iter().enumerate() {
                given.clear();
                let mb = &mut self.group.members[m];
                mb.queues[p].take_from(committed, &mut given);
                let n: u64 = given.iter().map(|s| s.n).sum();
                if n == 0 {
                    continue;
                }
                mb.queued -= n;
                mb.in_flight -= n;
                if sync {
                    mb.batch_left -= n;
                    if mb.batch_left == 0 && mb.state == LoopState::Processing {
                        // Nothing left of the batch: the loop restarts after the rebalance.
                        mb.state = LoopState::Idle;
                    }
                }
                // What the others (and the member itself) still hold or handled, once for the
                // member's runs of this partition.
                let lo = given.iter().map(|s| s.off).min().unwrap_or(0);
                let hi = given.iter().map(|s| s.end()).max().unwrap_or(0);
                self.handled_or_held(p, lo, hi, &mut covered);
                for seg in &given {
                    let gone = unheld(&covered, seg.off, seg.end().min(log_start));
                    self.lose(gone, seg, LossCause::Retention);
                }
            }
            self.check_pause(m);
        }
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

    /// What is handled or held of each partition, gathered once per partition for all of
    /// `runs` (only over their offsets; empty for partitions they do not touch): a kill or
    /// a rebalance may discard hundreds of runs while members hold hundreds more.
    fn covered_by_partition(&self, runs: &[(usize, Seg)]) -> Vec<RangeSet> {
        let mut bounds: Vec<Option<(u64, u64)>> = vec![None; self.group.partitions];
        for &(p, seg) in runs {
            let b = bounds[p].get_or_insert((seg.off, seg.end()));
            *b = (b.0.min(seg.off), b.1.max(seg.end()));
        }
        let mut covered: Vec<RangeSet> = (0..self.group.partitions).map(|_| RangeSet::new()).collect();
        for (p, b) in bounds.iter().enumerate() {
            if let Some((lo, hi)) = *b {
                self.handled_or_held(p, lo, hi, &mut covered[p]);
            }
        }
        covered
    }
}

/// Offsets in `[a, b)` that are not in `covered` (what is handled or held): nobody holds a
/// copy of them and they were never handled.
fn unheld(covered: &RangeSet, a: u64, b: u64) -> u64 {
    if a >= b {
        return 0;
    }
    (b - a) - covered.count_in(a, b)
}
