//! Kafka's producer client at run time: batches sent to the broker when full or lingered,
//! at the broker's rate.

use super::Simulation;
use crate::event::Event;
use crate::stage::{Drain, Node};

impl Simulation {
    /// Plans the Kafka client at node `j`'s next drain, if it moves earlier.
    pub(crate) fn kafka_schedule(&mut self, j: usize) {
        let now = self.now;
        let Node::Kafka(k) = &mut self.stages[j - 1] else { return };
        if let Some(at) = k.plan_drain(now) {
            self.events.push(at, Event::Drain { node: j as u16 });
        }
    }

    /// The client sends one batch to the broker, at the broker's pace.
    pub(crate) fn on_drain(&mut self, j: usize) {
        let now = self.now;
        let Node::Kafka(k) = &mut self.stages[j - 1] else { return };
        let mut batch = Vec::new();
        match k.drain(now, &mut batch) {
            Drain::Stale => {}
            Drain::NotReady => self.kafka_schedule(j),
            Drain::Sent(sent) => {
                for seg in batch {
                    self.deliver(j, seg);
                }
                if sent > 0 {
                    self.taken_from(j, sent);
                }
                self.kafka_schedule(j);
            }
        }
    }
}
