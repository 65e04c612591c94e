//! A link's state: its spec, under flow control the window of credits or `request(n)`
//! demand its sender holds, and the size of one send (a credit link's batch). What links do
//! at run time (space, sending with `on_full`, delivery, grants) is in `sim/link.rs`.

use crate::scenario::{FlowControl, LinkSpec, OnFull};
use crate::time::{self, Nanos};

/// Credits or demand held by a link's sender.
#[derive(Clone)]
pub(crate) struct Window {
    pub request: bool,
    pub permits: u64,
    /// Credits: one send carries exactly this many (the spec's `batch`, cut to a bounded
    /// receiver's capacity), so the sender sends only with at least this many.
    pub batch: u64,
    pub replenish: u64,
    /// Finished by the receiver since its last grant.
    pub consumed: u64,
    pub latency: Nanos,
    pub in_transit: u64,
}

/// What a link's sender does with the leftover of a run that a non-blocking link
/// (`drop_newest`, `fail`) did not take whole: it keeps it for at most one resolution step,
/// sends it as room appears, and only then hands what is still left to the link's policy.
/// A run stands for arrivals spread over up to one step, so it is not dropped for being
/// larger than the room the receiver has at one instant. One rule for every sender: the
/// producer (link 1; the leftover is its `pending`) and each channel's sender (the leftover
/// stays at the front of the channel, `held` messages of it).
#[derive(Clone)]
pub(crate) struct Hold {
    /// How long a leftover is held: the resolution (0: never held).
    pub step: Nanos,
    /// A leftover is held now.
    pub active: bool,
    /// When the held leftover meets its policy (valid while `active`).
    pub until: Nanos,
    /// An expiry event is pending for the current hold (the producer's next arrivals, when
    /// due by `until`, release its hold instead).
    pub armed: bool,
    /// Invalidates stale expiries.
    pub gen: u32,
    /// A channel's sender: how many messages at the front of the channel are held.
    pub held: u64,
}

impl Hold {
    fn new(step: Nanos) -> Hold {
        Hold { step, active: false, until: 0, armed: false, gen: 0, held: 0 }
    }

    /// Does a sender over a link with this policy hold leftovers?
    #[inline]
    pub fn applies(&self, policy: OnFull) -> bool {
        self.step > 0 && matches!(policy, OnFull::DropNewest | OnFull::Fail)
    }

    /// Starts holding a leftover at `now`, unless one is held already.
    pub fn start(&mut self, now: Nanos) {
        if !self.active {
            self.active = true;
            self.armed = false;
            self.until = now + self.step;
        }
    }

    /// The expiry event to schedule, if the hold needs one: when the sender's next chance to
    /// release it (`next_chance`) comes after `until`.
    pub fn arm(&mut self, next_chance: Nanos) -> Option<(Nanos, u32)> {
        if self.active && !self.armed && next_chance > self.until {
            self.armed = true;
            self.gen = self.gen.wrapping_add(1);
            return Some((self.until, self.gen));
        }
        None
    }

    /// Is an expiry event with `gen` the current hold's?
    pub fn is_current(&self, gen: u32) -> bool {
        self.active && self.armed && gen == self.gen
    }
}

#[derive(Clone)]
pub(crate) struct Link {
    pub spec: LinkSpec,
    pub window: Option<Window>,
    /// Its sender's hold (see [`Hold`]).
    pub hold: Hold,
    /// Messages one send over this link carries: a credit link's batch; into a map or
    /// filter, the batch of the link after it (a filter thins each batch it passes on); 1
    /// otherwise (any number). Set once the pipeline is known ([`Link::set_unit`]).
    pub unit: u64,
}

impl Link {
    pub fn new(spec: &LinkSpec, resolution: Nanos) -> Link {
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
        Link { spec: spec.clone(), window, hold: Hold::new(resolution), unit: 1 }
    }

    /// Decides the size of one send, once the pipeline is known: a credit link's batch,
    /// cut to `capacity` (what its receiver can ever hold) when that is smaller, so that a
    /// batch always fits; `after` (the unit of the link after an operator) for a link into
    /// a map or filter; 1 otherwise.
    pub fn set_unit(&mut self, capacity: Option<u64>, after: Option<u64>) {
        self.unit = match &mut self.window {
            Some(w) if !w.request => {
                w.batch = w.batch.min(capacity.unwrap_or(u64::MAX)).max(1);
                w.batch
            }
            _ => after.unwrap_or(1),
        };
    }

    /// A sender that keeps `held` messages it could not send is still filling a batch (it
    /// goes on collecting messages, not blocked) when they are fewer than one send.
    #[inline]
    pub fn filling(&self, held: u64) -> bool {
        held < self.unit
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
