//! Time series with a bounded number of points.
//!
//! A point is recorded every sample interval. When `max_points` are held, neighbours are
//! merged pairwise and the stride doubles, so a 24-hour run keeps as many points as a
//! 1-minute one; samples that fall between kept points are folded into the next kept one.
//! Gauges that can spike between samples (in-flight, heap) are recorded as the maximum over
//! the interval.
//!
//! The one downsampling rule: a point stands for the samples folded into it, and reads as
//! the last of them for cumulative counters (and the producer's rate, limit and blocked
//! time) and as the largest over them for every gauge, each on its own: lag, depths,
//! in-flight, cache, heaps, latency percentiles, and also each partition's lag and each
//! stage's depth. So peaks (the heap right before an OOM kill, a partition's worst lag)
//! survive; a point's topic depth equals its `lag`, no partition's lag exceeds it, and
//! together they reach at least it (they may have peaked at different samples).
//!
//! A run closed with [`Series::finish`] (`Simulation::run_to_end`) ends with a point at its
//! last instant, taken after everything that happened at that instant: it agrees with the
//! summary.

use serde::{Deserialize, Serialize};

/// One sample of the whole pipeline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Simulated time, seconds.
    pub t_s: f64,
    /// Cumulative messages accepted into the pipeline.
    pub produced: u64,
    /// Cumulative messages processed (each counted once).
    pub consumed: u64,
    /// Cumulative messages lost (discarded after their offsets were committed).
    pub lost: u64,
    /// Cumulative re-processings of already processed messages.
    pub duplicated: u64,
    /// Cumulative messages dropped by a policy (overflow, filter, shedding).
    pub dropped: u64,
    /// Messages in channels.
    pub channel_depth: u64,
    /// Topic lag: log-end offset minus committed offset, summed over partitions.
    pub lag: u64,
    /// Records in the topic the consumer has not fetched yet.
    pub unfetched: u64,
    /// Messages fetched or received by the consumer and not processed yet (max over the interval).
    pub in_flight: u64,
    /// Records in the consumers' fetch caches.
    pub fetch_cache: u64,
    /// Consumer heap in bytes, the largest member's (max over the interval).
    pub heap_bytes: u64,
    /// Credits or `request(n)` demand held by senders, all links.
    pub permits: u64,
    /// Concurrency limit (sum over members): the adaptive limiter's, or the workers.
    pub concurrency_limit: u64,
    /// The producer's rate now (pattern and throttle applied), msg/s.
    pub producer_rate_per_s: f64,
    /// Cumulative OOM kills.
    pub oom_kills: u64,
    /// The producer's heap in bytes (max over the interval): baseline + `message_bytes` for
    /// each message its process holds (pending, in channels, in the Kafka client).
    #[serde(default)]
    pub producer_heap_bytes: u64,
    /// Cumulative OOM kills of the producer.
    #[serde(default)]
    pub producer_oom_kills: u64,
    /// Cumulative time the producer spent blocked, seconds.
    pub producer_blocked_s: f64,
    /// Produce-to-processed latency of messages processed in the interval, seconds.
    pub latency_p50_s: Option<f64>,
    pub latency_p95_s: Option<f64>,
    pub latency_p99_s: Option<f64>,
    /// Round trip of calls to the downstream dependency, 99th percentile, in the interval.
    pub call_rtt_p99_s: Option<f64>,
}

/// A figure as the outputs write it: a count (a whole number) or a value (`None`: the run
/// has none, written `null`, an empty CSV cell).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    Count(u64),
    Value(Option<f64>),
}

impl Num {
    /// The figure as a number (`None` for no value).
    pub fn as_f64(self) -> Option<f64> {
        match self {
            Num::Count(n) => Some(n as f64),
            Num::Value(v) => v,
        }
    }
}

impl Point {
    /// Every field by name, in the order of the CSV's columns (`export::COLUMNS`; a test
    /// holds both to the fields): what the exports write, without serde.
    pub fn fields(&self, out: &mut dyn FnMut(&'static str, Num)) {
        let c = Num::Count;
        for (name, v) in [
            ("t_s", Num::Value(Some(self.t_s))),
            ("produced", c(self.produced)),
            ("consumed", c(self.consumed)),
            ("dropped", c(self.dropped)),
            ("lost", c(self.lost)),
            ("duplicated", c(self.duplicated)),
            ("channel_depth", c(self.channel_depth)),
            ("lag", c(self.lag)),
            ("unfetched", c(self.unfetched)),
            ("fetch_cache", c(self.fetch_cache)),
            ("in_flight", c(self.in_flight)),
            ("heap_bytes", c(self.heap_bytes)),
            ("permits", c(self.permits)),
            ("concurrency_limit", c(self.concurrency_limit)),
            ("producer_rate_per_s", Num::Value(Some(self.producer_rate_per_s))),
            ("oom_kills", c(self.oom_kills)),
            ("producer_heap_bytes", c(self.producer_heap_bytes)),
            ("producer_oom_kills", c(self.producer_oom_kills)),
            ("producer_blocked_s", Num::Value(Some(self.producer_blocked_s))),
            ("latency_p50_s", Num::Value(self.latency_p50_s)),
            ("latency_p95_s", Num::Value(self.latency_p95_s)),
            ("latency_p99_s", Num::Value(self.latency_p99_s)),
            ("call_rtt_p99_s", Num::Value(self.call_rtt_p99_s)),
        ] {
            out(name, v);
        }
    }

    /// Folds the earlier point `a` into the later point `self`.
    fn absorb_earlier(&mut self, a: &Point) {
        self.channel_depth = self.channel_depth.max(a.channel_depth);
        self.lag = self.lag.max(a.lag);
        self.unfetched = self.unfetched.max(a.unfetched);
        self.in_flight = self.in_flight.max(a.in_flight);
        self.fetch_cache = self.fetch_cache.max(a.fetch_cache);
        self.heap_bytes = self.heap_bytes.max(a.heap_bytes);
        self.producer_heap_bytes = self.producer_heap_bytes.max(a.producer_heap_bytes);
        self.latency_p50_s = max_opt(self.latency_p50_s, a.latency_p50_s);
        self.latency_p95_s = max_opt(self.latency_p95_s, a.latency_p95_s);
        self.call_rtt_p99_s = max_opt(self.call_rtt_p99_s, a.call_rtt_p99_s);
        self.latency_p99_s = max_opt(self.latency_p99_s, a.latency_p99_s);
    }
}

fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// The recorded history of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Simulated seconds between consecutive points (doubles at each downsampling).
    pub interval_s: f64,
    pub points: Vec<Point>,
    /// Partitions of the topic (0 without a topic).
    pub partitions: usize,
    /// Lag per partition, `partitions` values per point, point-major.
    pub partition_lag: Vec<u64>,
    /// Stages of the pipeline (the scenario's `stages`).
    pub stages: usize,
    /// Messages held per stage (channel and client depth, topic lag; 0 for operators),
    /// `stages` values per point, point-major (max over the interval when downsampled).
    pub stage_depth: Vec<u64>,
    #[serde(skip)]
    max_points: usize,
    #[serde(skip)]
    stride: u64,
    #[serde(skip)]
    pending: Option<Point>,
    /// The partitions' lags and stages' depths folded into `pending` (largest of each).
    #[serde(skip)]
    pending_lag: Vec<u64>,
    #[serde(skip)]
    pending_depth: Vec<u64>,
    #[serde(skip)]
    seen: u64,
}

/// `acc[i] = max(acc[i], v[i])`.
fn max_into(acc: &mut [u64], v: &[u64]) {
    for (a, &b) in acc.iter_mut().zip(v) {
        *a = (*a).max(b);
    }
}

impl Series {
    pub fn new(interval_s: f64, max_points: usize, partitions: usize, stages: usize) -> Series {
        Series {
            interval_s,
            points: Vec::new(),
            partitions,
            partition_lag: Vec::new(),
            stages,
            stage_depth: Vec::new(),
            max_points: max_points.max(16) & !1,
            stride: 1,
            pending: None,
            pending_lag: vec![0; partitions],
            pending_depth: vec![0; stages],
            seen: 0,
        }
    }

    /// Offers the sample taken at the next base interval; keeps one in `stride`.
    pub fn record(&mut self, mut p: Point, partition_lag: &[u64], stage_depth: &[u64]) {
        let folded = self.pending.take();
        if let Some(earlier) = &folded {
            p.absorb_earlier(earlier);
        }
        self.seen += 1;
        if !(self.seen - 1).is_multiple_of(self.stride) {
            if folded.is_some() {
                max_into(&mut self.pending_lag, partition_lag);
                max_into(&mut self.pending_depth, stage_depth);
            } else {
                self.pending_lag.copy_from_slice(partition_lag);
                self.pending_depth.copy_from_slice(stage_depth);
            }
            self.pending = Some(p);
            return;
        }
        self.push(p, partition_lag, stage_depth, folded.is_some());
        if self.points.len() >= self.max_points {
            self.halve();
        }
    }

    /// Appends a point, with the pending samples' lags and depths folded in if `folded`.
    fn push(&mut self, p: Point, partition_lag: &[u64], stage_depth: &[u64], folded: bool) {
        self.points.push(p);
        let (l0, d0) = (self.partition_lag.len(), self.stage_depth.len());
        self.partition_lag.extend_from_slice(partition_lag);
        self.stage_depth.extend_from_slice(stage_depth);
        if folded {
            max_into(&mut self.partition_lag[l0..], &self.pending_lag);
            max_into(&mut self.stage_depth[d0..], &self.pending_depth);
        }
    }

    /// Closes the series with the sample taken at the run's last instant, after everything
    /// that happened then: it replaces a point already taken at that instant (folding it
    /// in), else it is added after the last one, off the interval's grid. Recording may go
    /// on afterwards.
    pub fn finish(&mut self, mut p: Point, partition_lag: &[u64], stage_depth: &[u64]) {
        let folded = self.pending.take();
        if let Some(earlier) = &folded {
            p.absorb_earlier(earlier);
        }
        if self.points.last().is_some_and(|last| last.t_s == p.t_s) {
            let i = self.points.len() - 1;
            p.absorb_earlier(&self.points[i]);
            self.points[i] = p;
            let (parts, stages) = (self.partitions, self.stages);
            max_into(&mut self.partition_lag[i * parts..], partition_lag);
            max_into(&mut self.stage_depth[i * stages..], stage_depth);
            if folded.is_some() {
                max_into(&mut self.partition_lag[i * parts..], &self.pending_lag);
                max_into(&mut self.stage_depth[i * stages..], &self.pending_depth);
            }
            return;
        }
        self.push(p, partition_lag, stage_depth, folded.is_some());
        if self.points.len() >= self.max_points {
            self.halve();
            // Halving may leave the last point pending: the run's end stays a point.
            if let Some(last) = self.pending.take() {
                let (lags, depths) = (std::mem::take(&mut self.pending_lag), std::mem::take(&mut self.pending_depth));
                self.push(last, &lags, &depths, false);
                self.pending_lag = lags;
                self.pending_depth = depths;
            }
        }
    }

    /// The rate of a cumulative counter now: its change from the last point at least
    /// `window_s` before `now_s` (the first point, early in a run) to `now` (its value at
    /// `now_s`), per simulated second. `None` before any time has passed. A readout of
    /// "throughput now" is this over the last few seconds, where the whole-run average
    /// would still carry the run's past.
    pub fn rate_now(&self, now_s: f64, now: f64, window_s: f64, f: fn(&Point) -> f64) -> Option<f64> {
        let k = self.points.partition_point(|p| p.t_s <= now_s - window_s);
        let p = self.points.get(k.saturating_sub(1))?;
        let dt = now_s - p.t_s;
        (dt > 1e-9).then(|| ((now - f(p)) / dt).max(0.0))
    }

    /// Lag of partition `part` at point `i`.
    pub fn lag_of(&self, i: usize, part: usize) -> u64 {
        self.partition_lag[i * self.partitions + part]
    }

    /// Depth of stage `stage` at point `i`.
    pub fn depth_of(&self, i: usize, stage: usize) -> u64 {
        self.stage_depth[i * self.stages + stage]
    }

    fn halve(&mut self) {
        let n = self.points.len();
        let parts = self.partitions;
        let stages = self.stages;
        let mut w = 0;
        // Keep points 0, 2, 4, ... each folding in the point before it (so point 0 stays t=0).
        for r in (0..n).step_by(2) {
            let mut p = self.points[r];
            if r > 0 {
                let before = self.points[r - 1];
                p.absorb_earlier(&before);
            }
            self.points[w] = p;
            // Partition lags and stage depths are gauges: the larger of the two points.
            for k in 0..parts {
                let mut l = self.partition_lag[r * parts + k];
                if r > 0 {
                    l = l.max(self.partition_lag[(r - 1) * parts + k]);
                }
                self.partition_lag[w * parts + k] = l;
            }
            for k in 0..stages {
                let mut d = self.stage_depth[r * stages + k];
                if r > 0 {
                    d = d.max(self.stage_depth[(r - 1) * stages + k]);
                }
                self.stage_depth[w * stages + k] = d;
            }
            w += 1;
        }
        if n.is_multiple_of(2) {
            // The last point has no partner yet: the next point recorded absorbs it.
            self.pending = Some(self.points[n - 1]);
            self.pending_lag.copy_from_slice(&self.partition_lag[(n - 1) * parts..n * parts]);
            self.pending_depth.copy_from_slice(&self.stage_depth[(n - 1) * stages..n * stages]);
        }
        self.points.truncate(w);
        self.partition_lag.truncate(w * parts);
        self.stage_depth.truncate(w * stages);
        self.stride *= 2;
        self.interval_s *= 2.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_now_looks_back_a_window_not_the_whole_run() {
        let mut s = Series::new(1.0, 1024, 0, 0);
        // 1,000/s for 100 s, then 100/s.
        let consumed = |t: u64| if t <= 100 { 1_000 * t } else { 100_000 + 100 * (t - 100) };
        for t in 0..=130u64 {
            s.record(Point { t_s: t as f64, consumed: consumed(t), ..Point::default() }, &[], &[]);
        }
        let f = |p: &Point| p.consumed as f64;
        let now = |t: f64| consumed(t.floor() as u64) as f64 + 100.0 * (t - t.floor());
        // Between samples: from the last point a whole window back.
        let r = s.rate_now(130.5, now(130.5), 10.0, f).unwrap();
        assert!((r - 100.0).abs() < 1e-9, "{r}");
        // Over the whole run the average is far higher.
        assert!(s.rate_now(130.0, now(130.0), 1e9, f).unwrap() > 700.0);
        // Early in the run: from the first point.
        assert!((s.rate_now(5.0, consumed(5) as f64, 10.0, f).unwrap() - 1_000.0).abs() < 1e-9);
        assert_eq!(s.rate_now(0.0, 0.0, 10.0, f), None);
        assert_eq!(Series::new(1.0, 8, 0, 0).rate_now(3.0, 1.0, 10.0, f), None);
    }

    #[test]
    fn stays_bounded_keeps_peaks_and_time_order() {
        let mut s = Series::new(0.1, 64, 2, 1);
        for i in 0..100_000u64 {
            let heap = if i == 77_777 { 1_000_000 } else { i };
            let p = Point { t_s: i as f64 * 0.1, produced: i, heap_bytes: heap, ..Point::default() };
            s.record(p, &[i, 2 * i], &[i]);
        }
        assert!(s.points.len() < 64);
        assert_eq!(s.partition_lag.len(), s.points.len() * 2);
        assert!(s.points.windows(2).all(|w| w[0].t_s < w[1].t_s));
        assert!(s.points.iter().any(|p| p.heap_bytes == 1_000_000), "peak lost in downsampling");
        assert_eq!(s.points[0].t_s, 0.0);
        let last = s.points.len() - 1;
        assert_eq!(s.lag_of(last, 1), 2 * s.points[last].produced);
        // Stage depths move with their points when the series is halved (the peak of the
        // two points folded together).
        assert_eq!(s.stage_depth.len(), s.points.len());
        assert_eq!(s.depth_of(last, 0), s.points[last].produced);
    }
}
