//! The topic's retention at run time: records past `retention.ms` or `retention.bytes`
//! are deleted, and what nobody had handled is lost.

use super::Simulation;
use crate::event::Event;
use crate::seg::Seg;
use crate::snapshot::LossCause;

impl Simulation {
    /// Deletes records past the topic's retention; unprocessed ones are lost.
    pub(crate) fn on_retention(&mut self, node: usize) {
        let now = self.now;
        let Some(t) = &mut self.topic else { return };
        let every = t.retention_every();
        let mut deleted: Vec<(usize, Seg)> = Vec::new();
        for (p, part) in t.parts.iter_mut().enumerate() {
            let mut new_start = part.log_start;
            if let Some(r) = t.retention {
                // The log is in offset order and (nearly) in time order: what was produced
                // before the cutoff is a prefix.
                let cutoff = now.saturating_sub(r);
                'scan: for q in [&part.uncommitted, &part.unfetched] {
                    for s in q.iter() {
                        let old = s.count_before(cutoff);
                        new_start = new_start.max(s.off + old);
                        if old < s.n {
                            break 'scan;
                        }
                    }
                }
            }
            if let Some(keep) = t.retention_records {
                new_start = new_start.max(part.log_end.saturating_sub(keep));
            }
            if new_start <= part.log_start {
                continue;
            }
            for q in [&mut part.uncommitted, &mut part.unfetched] {
                while let Some(front) = q.front().copied() {
                    if front.off >= new_start {
                        break;
                    }
                    let take = (new_start - front.off).min(front.n);
                    let seg = q.pop_front(take).expect("front exists");
                    deleted.push((p, seg));
                }
            }
            part.log_start = new_start;
            if part.position < new_start {
                part.position = new_start;
            }
        }
        t.recount_unfetched();
        for (p, seg) in deleted {
            // Deleted before being handled, and no consumer holds a copy: lost to retention.
            let gone = self.unheld_undone(p, seg.off, seg.end());
            self.lose(gone, &seg, LossCause::Retention);
        }
        self.events.push(now + every, Event::Retention { node: node as u16 });
    }
}
