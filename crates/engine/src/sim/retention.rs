//! The topic's retention at run time: records past `retention.ms` or `retention.bytes`
//! are deleted, and what nobody had handled is lost.

use super::Simulation;
use crate::event::Event;
use crate::rangeset::RangeSet;
use crate::seg::Seg;
use crate::snapshot::LossCause;

impl Simulation {
    /// Deletes records past the topic's retention; unprocessed ones are lost.
    pub(crate) fn on_retention(&mut self, node: usize) {
        let now = self.now;
        let Some(t) = &mut self.topic else { return };
        let every = t.retention_every();
        let mut deleted: Vec<(usize, Seg)> = Vec::new();
        t.apply_retention(now, &mut deleted);
        // Deleted before being handled, and no consumer holds a copy: lost to retention.
        // The runs come partition by partition; what is handled or held of a partition is
        // gathered once for all of its deleted runs (only over their offsets), not once per
        // run: a sweep may delete hundreds of runs while members hold hundreds more.
        let mut covered = RangeSet::new();
        let mut i = 0;
        while i < deleted.len() {
            let p = deleted[i].0;
            let j = i + deleted[i..].iter().take_while(|(q, _)| *q == p).count();
            let lo = deleted[i..j].iter().map(|(_, s)| s.off).min().unwrap_or(0);
            let hi = deleted[i..j].iter().map(|(_, s)| s.end()).max().unwrap_or(0);
            self.handled_or_held(p, lo, hi, &mut covered);
            for (_, seg) in &deleted[i..j] {
                let gone = seg.n - covered.count_in(seg.off, seg.end());
                self.lose(gone, seg, LossCause::Retention);
            }
            i = j;
        }
        self.events.push(now + every, Event::Retention { node: node as u16 });
    }

    /// The offsets of partition `p` within `[lo, hi)` that were handled or of which a member
    /// holds a copy, into `out`.
    pub(crate) fn handled_or_held(&self, p: usize, lo: u64, hi: u64, out: &mut RangeSet) {
        out.clear();
        let Some(t) = &self.topic else { return };
        let mut add = |a: u64, b: u64| {
            if a < hi && b > lo {
                out.insert(a.max(lo), b.min(hi));
            }
        };
        for (a, b) in t.handled(p).ranges() {
            add(a, b);
        }
        for mb in self.group.members.iter().filter(|mb| mb.up || mb.workers.iter().any(|w| w.busy)) {
            for s in mb.queues.get(p).into_iter().flat_map(|q| q.iter()).chain(mb.cache.get(p).into_iter().flat_map(|q| q.iter())) {
                add(s.off, s.end());
            }
            for w in mb.workers.iter().filter(|w| w.busy && w.part as usize == p) {
                add(w.seg.off, w.seg.end());
            }
        }
    }
}
