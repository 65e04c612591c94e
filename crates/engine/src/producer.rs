//! The producer: a push source (arrival generator, optionally throttled from lag) that
//! sends into link 1 and blocks, retries or times out there as the link's policy says;
//! and its process's heap (`Heap`), which an OOM kill empties.

use crate::control::Throttle;
use crate::scenario::ProducerSpec;
use crate::seg::Seg;
use crate::time::{self, Nanos};
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
    pub heap: Heap,
    /// When an OOM-killed producer comes back (`None` while it runs).
    pub down_until: Option<Nanos>,
}

/// The producer process's heap, as arithmetic on the messages it holds (see
/// `sim/memory.rs`): `baseline + bytes × held`.
#[derive(Clone)]
pub(crate) struct Heap {
    pub baseline: u64,
    /// Bytes one held message costs: `producer.message_bytes`.
    pub bytes: u64,
    /// `heap_limit_mib` in bytes, if any.
    pub limit: Option<u64>,
    /// Most messages the process holds without exceeding its limit (`u64::MAX`: no limit).
    pub room: u64,
    pub restart_delay: Nanos,
}

impl Heap {
    fn new(p: &ProducerSpec) -> Heap {
        let mib = |m: f64| (m * 1_048_576.0).round() as u64;
        let baseline = mib(p.memory.baseline_mib);
        let bytes = p.message_bytes.max(1);
        let limit = p.memory.heap_limit_mib.map(mib);
        let room = limit.map_or(u64::MAX, |l| l.saturating_sub(baseline) / bytes);
        Heap { baseline, bytes, limit, room, restart_delay: time::from_secs(p.memory.restart_delay_s) }
    }

    /// The heap when the process holds `held` messages.
    pub fn bytes_for(&self, held: u64) -> u64 {
        self.baseline.saturating_add(self.bytes.saturating_mul(held))
    }
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
            heap: Heap::new(p),
            down_until: None,
        }
    }
}
