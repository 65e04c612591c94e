//! The Kafka-like topic: partitions as append-only logs (offsets, positions, commits,
//! records waiting to be fetched or kept for redelivery), the sticky partitioner, and
//! retention. A typed part of the simulation (`Simulation::topic`), not a node to look up.

use crate::rangeset::RangeSet;
use crate::scenario::TopicSpec;
use crate::seg::{Seg, SegQueue, QUEUE_CAP};

use crate::time::{self, Nanos};

#[derive(Clone)]
pub(crate) struct Partition {
    /// Offsets below this were deleted by retention.
    pub log_start: u64,
    pub log_end: u64,
    /// Next offset to fetch.
    pub position: u64,
    pub committed: u64,
    /// Records `[position, log_end)`.
    pub unfetched: SegQueue,
    /// Records `[max(committed, log_start), position)`: fetched, kept for redelivery.
    pub uncommitted: SegQueue,
    /// Offsets handled (processed or shed) at least once, pruned below what can recur.
    pub done: RangeSet,
    /// Member that owns the partition now.
    pub owner: Option<u16>,
    /// The log's end when the owner's fetch in flight reached the broker, frozen by the
    /// first append at or after that instant; it holds for the fetch request `upto_req`
    /// only (any other request: nothing appended since, the fetch takes the log).
    fetch_upto: u64,
    upto_req: u64,
}

impl Partition {
    pub fn commit(&mut self, c: u64) {
        let c = c.min(self.position);
        if c > self.committed {
            self.committed = c;
            self.uncommitted.drop_below(c);
        }
    }

    /// Back to the committed offset: everything fetched since is fetched again.
    pub fn rewind(&mut self) {
        self.unfetched.prepend(&mut self.uncommitted);
        self.position = self.committed.max(self.log_start);
    }

    pub fn lag(&self) -> u64 {
        self.log_end - self.committed.max(self.log_start).min(self.log_end)
    }
}

#[derive(Clone)]
pub(crate) struct Topic {
    pub parts: Vec<Partition>,
    /// The partition the producer is filling now (sticky partitioner).
    rr: usize,
    /// Records sent to it in the current batch, and a batch's size in records.
    in_batch: u64,
    batch: u64,
    fetch_latency: Nanos,
    retention: Option<Nanos>,
    retention_records: Option<u64>,
    /// Partitions with unfetched records: a member that wants a fetch skips its scan of the
    /// partitions when there are none (counted where records are appended and fetched;
    /// recounted after rewinds and retention).
    unfetched_parts: usize,
    /// Unfetched records over all partitions (kept with `unfetched_parts`): a bound on what
    /// a fetch brings.
    unfetched_records: u64,
    /// Per member: when its fetch in flight reaches (reached) the broker (`Nanos::MAX`: none
    /// in flight), and that request's number (unique over all members, from 1). Kept per
    /// member, not per partition, so that a request and a fetch cost the same whatever the
    /// number of partitions (this is on every poll's path).
    broker_at: Vec<Nanos>,
    request: Vec<u64>,
    requests: u64,
}

impl Topic {
    /// The topic of `spec`, with batches of `batch` records (the producer client's
    /// `batch.size` in messages) and retention in messages of `msg_bytes`.
    pub fn new(spec: &TopicSpec, batch: u64, msg_bytes: u64, resolution: Nanos) -> Topic {
        Topic {
            parts: (0..spec.partitions)
                .map(|_| Partition {
                    log_start: 0,
                    log_end: 0,
                    position: 0,
                    committed: 0,
                    unfetched: SegQueue::new(QUEUE_CAP, resolution).strict(),
                    uncommitted: SegQueue::new(QUEUE_CAP, resolution).strict(),
                    done: RangeSet::new(),
                    owner: None,
                    fetch_upto: u64::MAX,
                    upto_req: 0,
                })
                .collect(),
            rr: 0,
            in_batch: 0,
            batch,
            fetch_latency: time::from_millis(spec.fetch_latency_ms),
            retention: spec.retention_ms.map(time::from_millis),
            retention_records: spec.retention_bytes.map(|b| (b / msg_bytes).max(1)),
            unfetched_parts: 0,
            unfetched_records: 0,
            broker_at: Vec::new(),
            request: Vec::new(),
            requests: 0,
        }
    }

    /// Does retention delete anything (by age or by size)?
    pub fn has_retention(&self) -> bool {
        self.retention.is_some() || self.retention_records.is_some()
    }

    /// Time between two retention sweeps.
    pub fn retention_every(&self) -> Nanos {
        self.retention.map_or(time::from_secs(1.0), |r| (r / 20).clamp(time::from_millis(10.0), time::from_secs(1.0)))
    }

    /// Appends a run as Kafka's default partitioner does for records without a key (the
    /// sticky partitioner, KIP-480 and KIP-794): records fill one partition's batch
    /// (`batch.size`), then the next partition round-robin, so each batch lands whole.
    /// `at` is now: an append at or after a fetch reached the broker does not ride it.
    pub fn append(&mut self, mut seg: Seg, at: Nanos) {
        let p = self.parts.len();
        while seg.n > 0 {
            let room = self.batch - self.in_batch;
            let (now, rest) = if seg.n <= room {
                (seg, None)
            } else {
                let (a, b) = seg.split(room);
                (a, Some(b))
            };
            let part = &mut self.parts[self.rr];
            if let Some(o) = part.owner.map(usize::from) {
                if o < self.broker_at.len() && at >= self.broker_at[o] && part.upto_req != self.request[o] {
                    // The owner's fetch in flight reached the broker before this append.
                    part.fetch_upto = part.log_end;
                    part.upto_req = self.request[o];
                }
            }
            self.unfetched_parts += part.unfetched.is_empty() as usize;
            part.unfetched.push_back(Seg { off: part.log_end, ..now });
            self.unfetched_records += now.n;
            part.log_end += now.n;
            self.in_batch += now.n;
            if self.in_batch == self.batch {
                self.in_batch = 0;
                // The next partition, round robin (without a division per batch).
                self.rr += 1;
                if self.rr == p {
                    self.rr = 0;
                }
            }
            match rest {
                Some(r) => seg = r,
                None => break,
            }
        }
    }

    /// Hands the partitions round robin to the `live` members (to nobody if there are none);
    /// every partition restarts from its committed offset.
    pub fn assign(&mut self, live: &[u16]) {
        for (p, part) in self.parts.iter_mut().enumerate() {
            part.rewind();
            part.owner = (!live.is_empty()).then(|| live[p % live.len()]);
        }
        self.recount_unfetched();
    }

    /// Takes every partition from its owner (a rebalance begins).
    pub fn revoke_all(&mut self) {
        for part in &mut self.parts {
            part.owner = None;
        }
    }

    /// How many partitions.
    pub fn partitions(&self) -> usize {
        self.parts.len()
    }

    /// The member that owns partition `p`.
    pub fn owner(&self, p: usize) -> Option<u16> {
        self.parts[p].owner
    }

    /// Round trip of one fetch.
    pub fn fetch_latency(&self) -> Nanos {
        self.fetch_latency
    }

    /// Would a fetch by member `m` bring anything: does it own a partition with unfetched
    /// records whose fetch cache (`caches[p]`) is empty?
    #[inline]
    pub fn wants_fetch(&self, m: u16, caches: &[SegQueue]) -> bool {
        debug_assert_eq!(self.unfetched_parts, self.parts.iter().filter(|p| !p.unfetched.is_empty()).count());
        if self.unfetched_parts == 0 {
            // Nothing to fetch anywhere (the usual case right after a poll has drained it all).
            return false;
        }
        // A plain loop: as `any`, LLVM kept the scan out of line (a call per wake-up).
        for (part, cache) in self.parts.iter().zip(caches) {
            // Cheapest and most often false first: a drained partition.
            if !part.unfetched.is_empty() && part.owner == Some(m) && cache.is_empty() {
                return true;
            }
        }
        false
    }

    /// Member `m` sends a fetch request, which reaches the broker at `broker_at`: it will
    /// carry what its partitions' logs hold then, nothing appended later. (No event at
    /// `broker_at`: the first append from then on freezes the log's end, see `append`.)
    pub fn fetch_requested(&mut self, m: u16, broker_at: Nanos) {
        let m = usize::from(m);
        if m >= self.broker_at.len() {
            // Once per member over the run, not per message.
            self.broker_at.resize(m + 1, Nanos::MAX);
            self.request.resize(m + 1, 0);
        }
        self.requests += 1;
        self.broker_at[m] = broker_at;
        self.request[m] = self.requests;
    }

    /// A fetch by member `m`: from each partition it owns whose cache is empty, up to
    /// `per_partition` records, `max` in all, into `caches[p]` (and kept in the partition's
    /// uncommitted records for redelivery). Returns how many records it brought.
    pub fn fetch(&mut self, m: u16, caches: &mut [SegQueue], per_partition: u64, max: u64) -> u64 {
        let (mut left, mut got) = (max, 0);
        let request = self.request.get(usize::from(m)).copied().unwrap_or(0);
        for (part, cache) in self.parts.iter_mut().zip(caches.iter_mut()) {
            // A drained partition first: the common case once the consumer has caught up.
            if part.unfetched.is_empty() || left == 0 || part.owner != Some(m) || !cache.is_empty() {
                continue;
            }
            got += fetch_from(part, request, per_partition, &mut left, |seg| cache.push_back(seg));
            self.unfetched_parts -= part.unfetched.is_empty() as usize;
        }
        self.unfetched_records -= got;
        self.answered(m);
        got
    }

    /// [`fetch`](Self::fetch) when every fetch cache of member `m` is empty, each run fetched
    /// handed to `sink` with its partition (in the order `fetch` pushes them into the caches)
    /// instead of being cached. Returns how many records it brought.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub fn fetch_each(&mut self, m: u16, per_partition: u64, max: u64, mut sink: impl FnMut(usize, Seg)) -> u64 {
        let (mut left, mut got) = (max, 0);
        let request = self.request.get(usize::from(m)).copied().unwrap_or(0);
        for (p, part) in self.parts.iter_mut().enumerate() {
            if part.unfetched.is_empty() || left == 0 || part.owner != Some(m) {
                continue;
            }
            got += fetch_from(part, request, per_partition, &mut left, |seg| sink(p, seg));
            self.unfetched_parts -= part.unfetched.is_empty() as usize;
        }
        self.unfetched_records -= got;
        self.answered(m);
        got
    }

    /// Member `m`'s fetch request is answered: later appends are for the next one.
    #[inline]
    fn answered(&mut self, m: u16) {
        if let Some(at) = self.broker_at.get_mut(usize::from(m)) {
            *at = Nanos::MAX;
        }
    }

    /// Offsets `[a, b)` of partition `p` have been handled (processed or shed); returns how
    /// many of them had been handled before (duplicates).
    pub fn mark_handled(&mut self, p: usize, a: u64, b: u64) -> u64 {
        let part = &mut self.parts[p];
        let dup = part.done.count_in(a, b);
        part.done.insert(a, b);
        dup
    }

    /// The offsets of partition `p` handled at least once (pruned below what can recur).
    pub fn handled(&self, p: usize) -> &RangeSet {
        &self.parts[p].done
    }

    /// Next offset of partition `p` to fetch.
    pub fn position(&self, p: usize) -> u64 {
        self.parts[p].position
    }

    /// Partition `p`'s committed offset and its log start (below which retention deleted).
    pub fn committed_and_start(&self, p: usize) -> (u64, u64) {
        (self.parts[p].committed, self.parts[p].log_start)
    }

    /// How far partition `p` is handled without a gap from its committed offset: what a
    /// commit of processed records commits.
    pub fn handled_through(&self, p: usize) -> u64 {
        self.parts[p].done.first_gap_from(self.parts[p].committed)
    }

    /// Commits offset `c` of partition `p` (never past the position, never backwards).
    pub fn commit(&mut self, p: usize, c: u64) {
        self.parts[p].commit(c);
    }

    /// Deletes the records past retention (older than `retention.ms` at `now`, or beyond
    /// `retention.bytes` per partition) into `deleted` as (partition, run); positions move
    /// past what is gone.
    pub fn apply_retention(&mut self, now: Nanos, deleted: &mut Vec<(usize, Seg)>) {
        for (p, part) in self.parts.iter_mut().enumerate() {
            let mut new_start = part.log_start;
            if let Some(r) = self.retention {
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
            if let Some(keep) = self.retention_records {
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
        self.recount_unfetched();
    }

    /// Counts the partitions with unfetched records, and the records, afresh.
    pub fn recount_unfetched(&mut self) {
        self.unfetched_parts = self.parts.iter().filter(|p| !p.unfetched.is_empty()).count();
        self.unfetched_records = self.unfetched();
    }

    /// Unfetched records over all partitions: at least what any fetch brings now.
    #[inline]
    pub fn unfetched_records(&self) -> u64 {
        debug_assert_eq!(self.unfetched_records, self.unfetched());
        self.unfetched_records
    }

    pub fn unfetched(&self) -> u64 {
        self.parts.iter().map(|p| p.unfetched.total()).sum()
    }

    pub fn lag(&self) -> u64 {
        self.parts.iter().map(Partition::lag).sum()
    }
}

/// One partition's part of a fetch (request number `request`): up to `per_partition`
/// records and `left` (kept), only what the log held when the request reached the broker;
/// each run moved to the uncommitted records and given to `sink`. Returns the records taken.
#[inline(always)]
fn fetch_from(part: &mut Partition, request: u64, per_partition: u64, left: &mut u64, mut sink: impl FnMut(Seg)) -> u64 {
    // Only what the log held when the request reached the broker.
    let upto = if request != 0 && part.upto_req == request { part.fetch_upto } else { u64::MAX };
    let mut take = per_partition.min(*left).min(upto.saturating_sub(part.position));
    let mut got = 0;
    while take > 0 {
        let Some(seg) = part.unfetched.pop_front(take) else { break };
        part.uncommitted.push_back(seg);
        part.position = seg.end();
        sink(seg);
        take -= seg.n;
        *left -= seg.n;
        got += seg.n;
    }
    got
}
