//! A link's state: its spec and, under flow control, the window of credits or
//! `request(n)` demand its sender holds. What links do at run time (space, sending with
//! `on_full`, delivery, grants) is in `sim/link.rs`.

use crate::scenario::{FlowControl, LinkSpec};
use crate::time::{self, Nanos};

/// Credits or demand held by a link's sender.
#[derive(Clone)]
pub(crate) struct Window {
    pub request: bool,
    pub permits: u64,
    /// Credits: the sender sends only with at least this many.
    pub batch: u64,
    pub replenish: u64,
    /// Finished by the receiver since its last grant.
    pub consumed: u64,
    pub latency: Nanos,
    pub in_transit: u64,
}

#[derive(Clone)]
pub(crate) struct Link {
    pub spec: LinkSpec,
    pub window: Option<Window>,
}

impl Link {
    pub fn new(spec: &LinkSpec) -> Link {
        let window = match &spec.control {
            FlowControl::None {} => None,
            FlowControl::Credit { initial, grant, batch, latency_ms } => Some(Window {
                request: false,
                permits: *initial,
                batch: *batch,
                replenish: *grant,
                consumed: 0,
                latency: time::from_millis(*latency_ms),
                in_transit: 0,
            }),
            FlowControl::Request { prefetch, replenish, latency_ms } => Some(Window {
                request: true,
                permits: *prefetch,
                batch: 1,
                replenish: ((*prefetch as f64 * replenish).round() as u64).max(1),
                consumed: 0,
                latency: time::from_millis(*latency_ms),
                in_transit: 0,
            }),
        };
        Link { spec: spec.clone(), window }
    }

    /// The receiver restarts its session: the count of messages it finished since its last
    /// grant starts over.
    pub fn restart_count(&mut self) {
        if let Some(w) = &mut self.window {
            w.consumed = 0;
        }
    }

    /// The restarted receiver opens a fresh window (its initial credits or prefetch), less
    /// the grants still in transit. Returns whether the link has a window at all.
    pub fn reopen(&mut self) -> bool {
        let initial = match &self.spec.control {
            FlowControl::Credit { initial, .. } => *initial,
            FlowControl::Request { prefetch, .. } => *prefetch,
            FlowControl::None {} => 0,
        };
        let Some(w) = &mut self.window else { return false };
        w.permits = initial.saturating_sub(w.in_transit);
        true
    }

    /// What the window lets the sender send now.
    pub fn permits(&self) -> u64 {
        match &self.window {
            None => u64::MAX,
            Some(w) if w.permits >= w.batch => w.permits,
            Some(_) => 0,
        }
    }
}
