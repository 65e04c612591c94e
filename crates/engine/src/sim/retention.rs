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
        t.apply_retention(now, &mut deleted);
        for (p, seg) in deleted {
            // Deleted before being handled, and no consumer holds a copy: lost to retention.
            let gone = self.unheld_undone(p, seg.off, seg.end());
            self.lose(gone, &seg, LossCause::Retention);
        }
        self.events.push(now + every, Event::Retention { node: node as u16 });
    }
}
