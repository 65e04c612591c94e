//! The producer: a push source (arrival generator, optionally throttled from lag) that
//! sends into link 1 and blocks, retries or times out there as the link's policy says.

use crate::control::Throttle;
use crate::scenario::ProducerSpec;
use crate::seg::Seg;
use crate::time::Nanos;
use crate::traffic::ArrivalGen;

#[derive(Clone)]
pub(crate) struct Producer {
    pub gen: ArrivalGen,
    pub throttle: Option<Throttle>,
    pub pending: Option<Seg>,
    pub blocked_since: Option<Nanos>,
    pub blocked_total: Nanos,
    /// Invalidates stale block-timeout events.
    pub block_gen: u32,
    pub retry_scheduled: bool,
    /// Invalidates scheduled arrivals when the schedule changes (throttling).
    pub produce_gen: u32,
    /// Sequence number of the next message generated.
    pub seq: u64,
    /// Messages sent: accepted downstream, or dropped/failed by the first link's policy.
    pub produced: u64,
}

impl Producer {
    pub fn new(p: &ProducerSpec, resolution: Nanos, seed: u64) -> Producer {
        Producer {
            gen: ArrivalGen::new(p.arrivals, &p.pattern, p.rate_per_s, resolution, seed),
            throttle: p.throttle.as_ref().map(|t| Throttle::new(t, p.rate_per_s)),
            pending: None,
            blocked_since: None,
            blocked_total: 0,
            block_gen: 0,
            retry_scheduled: false,
            produce_gen: 0,
            seq: 0,
            produced: 0,
        }
    }
}
