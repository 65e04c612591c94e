//! Commits: auto-commit of the polled position at polls, and manual commits of what is
//! processed (`commitSync`, `commitAsync`) after their latency.

use crate::event::Event;
use crate::scenario::Commit;
use crate::sim::Simulation;
use crate::snapshot::TraceKind;

impl Simulation {
    /// The check inline (every poll makes it), the commit (once an interval) out of line.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub(super) fn maybe_auto_commit(&mut self, m: usize) {
        if self.group.commit != Commit::Auto || self.now - self.group.members[m].last_auto_commit < self.group.auto_commit_every {
            return;
        }
        self.auto_commit(m);
    }

    #[inline(never)]
    fn auto_commit(&mut self, m: usize) {
        self.group.members[m].last_auto_commit = self.now;
        let Some(t) = &self.topic else { return };
        // The position of what poll() returned so far: fetched minus what waits in the cache.
        let offsets: Vec<(u32, u64)> = (0..self.group.partitions)
            .filter(|&p| self.owns(m, p))
            .map(|p| (p as u32, t.position(p) - self.group.members[m].cache[p].total()))
            .collect();
        self.apply_commits(m, &offsets);
    }

    /// Commits offsets now (ownership permitting).
    pub(super) fn apply_commits(&mut self, m: usize, offsets: &[(u32, u64)]) {
        let mut any = false;
        for &(p, off) in offsets {
            if self.owns(m, p as usize) {
                if let Some(t) = &mut self.topic {
                    t.commit(p as usize, off);
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
    pub(super) fn commit_processed(&mut self, m: usize, parts: &[usize], wait: bool) {
        let Some(t) = &self.topic else { return };
        let offsets: Vec<(u32, u64)> = parts.iter().map(|&p| (p as u32, t.handled_through(p))).collect();
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
}
