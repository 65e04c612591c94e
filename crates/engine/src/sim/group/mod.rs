//! The consumer group at run time: its handlers, by concern. [`poll`] (the poll loop,
//! fetches, receiving, pause/resume, heap checks, poll timeouts and
//! `max.poll.interval.ms`), [`work`] (workers, downstream calls, completions), [`commit`]
//! (auto and manual commits) and [`failure`] (OOM kills, restarts, rebalances). They
//! change the group's own state, the topic's partitions through `Topic`'s methods, the
//! consumer link through `Link`'s, a polled channel through the channel handlers, and
//! report to the simulation's accounting.

mod commit;
mod failure;
mod poll;
mod work;

use super::Simulation;
use crate::consumer::Source;

impl Simulation {
    /// At time 0: assign partitions and start every member's loop.
    pub(crate) fn group_start(&mut self) {
        if self.group.source == Source::Topic {
            self.assign();
        }
        for m in 0..self.group.members.len() {
            self.member_next(m);
        }
    }

    /// Round-robin assignment of partitions over live members; every partition restarts
    /// from its committed offset.
    pub(super) fn assign(&mut self) {
        let live: Vec<u16> = self.group.members.iter().enumerate().filter(|(_, m)| m.up && !m.evicted).map(|(i, _)| i as u16).collect();
        if let Some(t) = &mut self.topic {
            t.assign(&live);
        }
    }

    pub(super) fn owns(&self, m: usize, p: usize) -> bool {
        let mb = &self.group.members[m];
        !self.group.rebalancing && mb.up && !mb.evicted && self.topic.as_ref().is_some_and(|t| t.owner(p) == Some(m as u16))
    }
}
