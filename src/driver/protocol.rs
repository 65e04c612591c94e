//! One frame's protocol messages for the sequence diagram: on the links with credits or
//! `request(n)`, every send, grant or request and its arrival, the producer stopping and
//! resuming, and the receiver restarting (its window reopens). The newest [`KEEP`] are kept
//! exactly as they happened, never merged, with the count of all that happened in the
//! frame, so the diagram can draw real messages and say how many it leaves out.

use bplab_engine::{Snapshot, StageView, TraceEvent, TraceKind};
use std::collections::VecDeque;

/// Protocol events kept per frame, newest first out.
pub const KEEP: usize = 64;

/// What a frame's protocol did: its newest events and how many there were.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProtocolFrame {
    /// The newest events of the frame (at most [`KEEP`]), in time order.
    pub events: Vec<TraceEvent>,
    /// Protocol events in the whole frame (`events` holds the newest of them).
    pub total: u64,
    /// Simulated time of the frame's first protocol event.
    pub first_t: f64,
}

/// Collects a frame's protocol events (see the module's docs).
#[derive(Clone, Debug, Default)]
pub struct Protocol {
    /// `windowed[j]`: link `j` (into node `j`) has credits or `request(n)`.
    windowed: Vec<bool>,
    /// The producer sends over a windowed link (through operators, which pass demand on):
    /// its stopping and resuming belong to the protocol.
    producer: bool,
    /// The consumer's link is windowed: a restart reopens its window.
    consumer: bool,
    events: VecDeque<TraceEvent>,
    total: u64,
    first_t: f64,
}

impl Protocol {
    /// For the pipeline `snap` shows.
    pub fn new(snap: &Snapshot) -> Protocol {
        let windowed: Vec<bool> = snap.links.iter().map(Option::is_some).collect();
        let first_store = snap.stages.iter().position(|s| !matches!(s, StageView::Map | StageView::Filter { .. }));
        // The first link the producer's sends meet that is not into an operator.
        let producer_link = first_store.map_or(snap.stages.len() + 1, |i| i + 1);
        Protocol {
            producer: windowed.get(producer_link).copied().unwrap_or(false),
            consumer: windowed.last().copied().unwrap_or(false),
            windowed,
            ..Protocol::default()
        }
    }

    fn windowed(&self, j: u16) -> bool {
        self.windowed.get(j as usize).copied().unwrap_or(false)
    }

    /// Is `ev` one of the protocol's events?
    pub fn counts(&self, ev: &TraceEvent) -> bool {
        match ev.kind {
            TraceKind::Moved { to, .. } => self.windowed(to),
            TraceKind::Granted { link, .. } | TraceKind::Requested { link, .. } | TraceKind::PermitsArrived { link, .. } => {
                self.windowed(link)
            }
            TraceKind::Blocked | TraceKind::Unblocked => self.producer,
            TraceKind::Restarted { .. } => self.consumer,
            _ => false,
        }
    }

    /// Notes a chunk of the frame's trace.
    pub fn note(&mut self, chunk: &[TraceEvent]) {
        if self.windowed.iter().all(|w| !w) {
            return;
        }
        for ev in chunk {
            if !self.counts(ev) {
                continue;
            }
            if self.total == 0 {
                self.first_t = ev.t_s;
            }
            self.total += 1;
            if self.events.len() == KEEP {
                self.events.pop_front();
            }
            self.events.push_back(*ev);
        }
    }

    /// The frame's events, and a fresh start for the next frame.
    pub fn take(&mut self) -> ProtocolFrame {
        let frame = ProtocolFrame { events: self.events.drain(..).collect(), total: self.total, first_t: self.first_t };
        self.total = 0;
        frame
    }

    /// Forgets what was noted (a replay animates nothing).
    pub fn clear(&mut self) {
        self.events.clear();
        self.total = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bplab_engine::{preset, Simulation};

    #[test]
    fn keeps_the_newest_events_unmerged_and_counts_them_all() {
        let sim = Simulation::new(&preset("credits").unwrap()).unwrap();
        let mut p = Protocol::new(&sim.snapshot());
        assert!(p.producer && p.consumer);
        let ev = |t: f64, kind| TraceEvent { t_s: t, kind };
        let sends: Vec<TraceEvent> = (0..100).map(|i| ev(i as f64, TraceKind::Moved { from: 0, to: 1, n: 100 })).collect();
        p.note(&sends);
        p.note(&[ev(100.0, TraceKind::Processed { member: 0, n: 500 }), ev(101.0, TraceKind::Granted { link: 1, n: 500 })]);
        let f = p.take();
        assert_eq!(f.total, 101, "processing is not a protocol message");
        assert_eq!(f.first_t, 0.0);
        assert_eq!(f.events.len(), KEEP);
        assert_eq!(f.events.last().unwrap().kind, TraceKind::Granted { link: 1, n: 500 });
        assert_eq!(f.events[0].t_s, 37.0, "the newest 64 of 101");
        assert!(f.events[..KEEP - 1].iter().all(|e| e.kind == TraceKind::Moved { from: 0, to: 1, n: 100 }));
        assert_eq!(p.take(), ProtocolFrame { first_t: 0.0, ..ProtocolFrame::default() });
    }

    #[test]
    fn a_pipeline_without_windows_notes_nothing() {
        let sim = Simulation::new(&preset("incident-106").unwrap()).unwrap();
        let mut p = Protocol::new(&sim.snapshot());
        p.note(&[
            TraceEvent { t_s: 1.0, kind: TraceKind::Blocked },
            TraceEvent { t_s: 1.0, kind: TraceKind::Moved { from: 0, to: 1, n: 3 } },
        ]);
        assert_eq!(p.take().total, 0);
    }

    #[test]
    fn through_map_and_filter_the_publisher_belongs_to_the_protocol() {
        let sim = Simulation::new(&preset("reactive-request-n").unwrap()).unwrap();
        let p = Protocol::new(&sim.snapshot());
        assert!(p.producer && p.consumer);
        assert_eq!(p.windowed, vec![false, false, false, true, true]);
    }
}
