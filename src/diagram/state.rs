//! The diagram's state between frames, pure and tested natively: what the trace told
//! (dots to spawn, rates, OOM kills, rebalances, slow messages, drops, permits arriving)
//! and what the snapshots showed (scales that follow growth at once and shrink slowly,
//! partition trends, head-of-line blocking). The painters (`scene` and the modules it
//! draws with) read it; only `Diagram::draw` touches a canvas.

use super::flow::{self, Flow, Rates, Source};
use super::layout::Shape;
use crate::canvas::WidthCache;
use bplab_engine::{DropCause, PartitionView, Snapshot, StageView, TraceEvent, TraceKind};

/// Wall seconds an OOM kill (or a rebalance, a limit change) stays highlighted.
pub(super) const FLASH_S: f64 = 1.6;

/// What one partition did lately, for trends and head-of-line blocking.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct PartHist {
    pub(super) committed: u64,
    /// Simulated time the committed offset last moved.
    pub(super) changed_t: f64,
    pub(super) lag_ref: u64,
    pub(super) lag_ref_t: f64,
    /// -1 draining, 0 steady, 1 growing.
    pub(super) trend: i8,
}

/// A slow message started at member `member` in partition `part` (simulated time `t`): the
/// partition is held up while its lag grows or its committed offset stays where it was.
#[derive(Clone, Debug)]
pub(super) struct Slow {
    pub(super) member: u16,
    pub(super) part: usize,
    pub(super) t: f64,
    pub(super) wall: f64,
    pub(super) stuck: Vec<usize>,
}

#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Marks {
    pub(super) flash_until: f64,
    /// In flight and lost at the last OOM kill.
    pub(super) kill: Option<(u64, u64)>,
    pub(super) limit_flash_until: f64,
}

/// Animation state that outlives a frame.
pub struct Diagram {
    pub(super) reduced_motion: bool,
    pub(super) flow: Flow,
    pub(super) rates: Rates,
    pub(super) shape: Option<Shape>,
    pub(super) source: Source,
    /// Simulated time of the last draw.
    pub(super) last_t: f64,
    pub(super) lane_scale: f64,
    /// Per node: the scale of an unbounded channel's gauge.
    pub(super) depth_scale: Vec<f64>,
    pub(super) parts: Vec<PartHist>,
    pub(super) slow: Option<Slow>,
    pub(super) marks: Vec<Marks>,
    pub(super) rebalance_until: f64,
    /// Per node: drops counted from the trace, and the latest cause.
    pub(super) drops: Vec<u64>,
    pub(super) drop_cause: Vec<Option<DropCause>>,
    /// Wall time permits last arrived, per link.
    pub(super) arrived: Vec<f64>,
    /// The canvas height this diagram set (top-to-bottom layout), if any.
    pub(super) set_height: Option<f64>,
    pub(super) widths: WidthCache,
}

impl Diagram {
    pub fn new(reduced_motion: bool) -> Diagram {
        Diagram {
            reduced_motion,
            flow: Flow::default(),
            rates: Rates::default(),
            shape: None,
            source: Source::Topic,
            last_t: 0.0,
            lane_scale: 1.0,
            depth_scale: Vec::new(),
            parts: Vec::new(),
            slow: None,
            marks: Vec::new(),
            rebalance_until: f64::NEG_INFINITY,
            drops: Vec::new(),
            drop_cause: Vec::new(),
            arrived: Vec::new(),
            set_height: None,
            widths: WidthCache::default(),
        }
    }

    /// Back to a fresh run (the page reset, or loaded another scenario).
    fn restart(&mut self) {
        self.flow.clear();
        self.rates.clear();
        self.last_t = 0.0;
        self.lane_scale = 1.0;
        self.depth_scale.clear();
        self.parts.clear();
        self.slow = None;
        self.marks.clear();
        self.rebalance_until = f64::NEG_INFINITY;
        self.drops.clear();
        self.drop_cause.clear();
        self.arrived.clear();
    }

    /// Takes the trace of one frame at wall time `now_wall_s`: dots to spawn, rates, and
    /// the events worth a highlight (OOM kills, rebalances, slow messages, drops).
    pub fn ingest(&mut self, trace: &[TraceEvent], now_wall_s: f64) {
        if trace.first().is_some_and(|e| e.t_s + 1e-9 < self.last_t) {
            self.restart();
        }
        let now = now_wall_s;
        let tallies = flow::tally(trace, self.source);
        self.rates.add(&tallies, trace);
        self.flow.ingest(&tallies, now, self.reduced_motion);
        for ev in trace {
            match ev.kind {
                TraceKind::OomKill { member, in_flight, lost } => {
                    self.rates.stop_member(member);
                    let m = self.mark(member);
                    m.flash_until = now + FLASH_S;
                    m.kill = Some((in_flight, lost));
                }
                TraceKind::ProducerOomKill { .. } => self.rates.stop_pushes(),
                TraceKind::Evicted { member } => {
                    self.rates.stop_member(member);
                    self.mark(member).flash_until = now + FLASH_S;
                }
                TraceKind::LimitChanged { member, .. } => self.mark(member).limit_flash_until = now + 0.4,
                TraceKind::Rebalance => self.rebalance_until = now + FLASH_S,
                TraceKind::SlowStarted { member, partition } => {
                    self.slow = Some(Slow { member, part: partition as usize, t: ev.t_s, wall: now, stuck: Vec::new() })
                }
                TraceKind::Dropped { node, n, cause } => {
                    let i = node as usize;
                    if self.drops.len() <= i {
                        self.drops.resize(i + 1, 0);
                        self.drop_cause.resize(i + 1, None);
                    }
                    self.drops[i] += n;
                    self.drop_cause[i] = Some(cause);
                }
                TraceKind::PermitsArrived { link, .. } => {
                    let i = link as usize;
                    if self.arrived.len() <= i {
                        self.arrived.resize(i + 1, f64::NEG_INFINITY);
                    }
                    self.arrived[i] = now;
                }
                _ => {}
            }
        }
    }

    fn mark(&mut self, member: u16) -> &mut Marks {
        let i = member as usize;
        if self.marks.len() <= i {
            self.marks.resize(i + 1, Marks::default());
        }
        &mut self.marks[i]
    }

    /// Follows `snap` at wall time `now_wall_s`, before a draw: a new run or a new pipeline
    /// starts over; rates, dots, scales, trends and the slow message catch up. Returns the
    /// pipeline's shape.
    pub fn follow(&mut self, snap: &Snapshot, now_wall_s: f64) -> Shape {
        let now = now_wall_s;
        let shape = Shape::of(snap);
        if snap.t_s + 1e-9 < self.last_t || self.shape.as_ref() != Some(&shape) {
            self.restart();
            self.shape = Some(shape.clone());
        }
        self.source = match snap.stages.last() {
            Some(StageView::Topic { .. }) => Source::Topic,
            Some(_) if snap.consumer.polls => Source::Channel,
            _ => Source::Push,
        };
        self.rates.update(self.last_t, snap.t_s);
        self.last_t = snap.t_s;
        self.flow.expire(now);
        self.observe(snap, now);
        shape
    }

    /// Follows the snapshot: scales, partition trends, head-of-line blocking.
    fn observe(&mut self, snap: &Snapshot, now: f64) {
        let t = snap.t_s;
        if self.depth_scale.len() < snap.stages.len() + 2 {
            self.depth_scale.resize(snap.stages.len() + 2, 1.0);
        }
        for (i, s) in snap.stages.iter().enumerate() {
            if let StageView::Channel { depth, capacity: None, .. } = s {
                let sc = &mut self.depth_scale[i + 1];
                *sc = (*depth as f64 * 1.25).max(*sc * 0.997).max(10.0);
            }
        }
        let Some(parts) = topic(snap) else { return };
        let max_lag = parts.iter().map(|p| p.log_end.saturating_sub(p.committed)).max().unwrap_or(0) as f64;
        // Follows growth at once and shrinks slowly, so bars keep their meaning.
        self.lane_scale = (max_lag * 1.1).max(self.lane_scale * 0.995).max(10.0);
        if self.parts.len() != parts.len() {
            self.parts =
                parts.iter().map(|p| PartHist { committed: p.committed, changed_t: t, lag_ref: p.lag, lag_ref_t: t, trend: 0 }).collect();
        }
        for (h, p) in self.parts.iter_mut().zip(parts) {
            if p.committed != h.committed {
                h.committed = p.committed;
                h.changed_t = t;
            }
            if t - h.lag_ref_t >= 1.0 {
                let (a, b) = (h.lag_ref as f64, p.lag as f64);
                let tol = (a.max(b) * 0.02).max(1.0);
                h.trend = if b > a + tol {
                    1
                } else if b < a - tol {
                    -1
                } else {
                    0
                };
                h.lag_ref = p.lag;
                h.lag_ref_t = t;
            }
        }
        if let Some(s) = &mut self.slow {
            let hist = &self.parts;
            // The engine names the partition; it is held up while it does not commit past
            // where it was or its lag keeps growing.
            s.stuck = parts
                .iter()
                .zip(hist)
                .enumerate()
                .filter(|(i, (p, h))| *i == s.part && p.lag > 0 && ((h.changed_t <= s.t + 0.2 && t - h.changed_t >= 1.0) || h.trend > 0))
                .map(|(i, _)| i)
                .collect();
            // Done once nothing owned is held any more (or the group rebalanced it away).
            if s.stuck.is_empty() && t - s.t >= 3.0 && now - s.wall > 2.0 {
                self.slow = None;
            }
        }
    }

    /// Drops per node: from the snapshot where it has them (channels, filters), the rest
    /// shared out as the trace saw them (the consumer's shedding, the Kafka client's
    /// timeouts).
    pub(super) fn drop_counts(&self, snap: &Snapshot) -> Vec<u64> {
        let n = snap.stages.len() + 2;
        let mut out = vec![0u64; n];
        let mut known = 0;
        for (i, s) in snap.stages.iter().enumerate() {
            match s {
                StageView::Channel { dropped, .. } | StageView::Filter { dropped, .. } => {
                    out[i + 1] = *dropped;
                    known += dropped;
                }
                _ => {}
            }
        }
        let rest = snap.summary.dropped.saturating_sub(known);
        if rest > 0 {
            let others: Vec<usize> =
                (1..n).filter(|&i| i == n - 1 || matches!(snap.stages.get(i - 1), Some(StageView::KafkaProducer { .. }))).collect();
            let seen: u64 = others.iter().map(|&i| self.drops.get(i).copied().unwrap_or(0)).sum();
            if seen == 0 {
                out[n - 1] += rest;
            } else {
                let mut given = 0;
                for (k, &i) in others.iter().enumerate() {
                    let share = if k + 1 == others.len() {
                        rest - given
                    } else {
                        (rest as f64 * self.drops.get(i).copied().unwrap_or(0) as f64 / seen as f64).round() as u64
                    };
                    out[i] += share;
                    given += share;
                }
            }
        }
        out
    }
}

pub(super) fn topic(snap: &Snapshot) -> Option<&[PartitionView]> {
    snap.stages.iter().find_map(|s| match s {
        StageView::Topic { partitions } => Some(partitions.as_slice()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bplab_engine::{preset, Simulation};

    /// Runs preset `id` to `t_s` in frames of 0.1 s, feeding the diagram as the page does
    /// (a wall second per simulated second) and calling `each` after every frame.
    fn run(d: &mut Diagram, id: &str, t_s: f64, mut each: impl FnMut(&Diagram, &Snapshot)) -> Snapshot {
        let mut sim = Simulation::new(&preset(id).unwrap()).unwrap();
        sim.set_tracing(true);
        let mut trace = Vec::new();
        let mut t = 0.0;
        while t < t_s {
            t += 0.1;
            sim.run_until(t, u64::MAX);
            trace.clear();
            sim.drain_trace(&mut trace);
            d.ingest(&trace, t);
            let snap = sim.snapshot();
            d.follow(&snap, t);
            each(d, &snap);
        }
        sim.snapshot()
    }

    #[test]
    fn an_oom_kill_is_marked_with_what_it_held_and_a_new_run_starts_over() {
        let mut d = Diagram::new(false);
        // The lanes' scale covers every partition's lag at once.
        let mut under = Vec::new();
        let snap = run(&mut d, "incident-106", 60.0, |d, s| {
            let lag = topic(s).unwrap().iter().map(|p| p.log_end - p.committed).max().unwrap_or(0);
            if d.lane_scale < lag as f64 {
                under.push((s.t_s, d.lane_scale, lag));
            }
        });
        assert!(under.is_empty(), "{under:?}");
        assert!(snap.summary.oom_kills >= 1, "no OOM kill by 60 s");
        let kills: Vec<(u64, u64)> = d.marks.iter().filter_map(|m| m.kill).collect();
        assert!(kills.iter().any(|&(in_flight, _)| in_flight > 0), "{kills:?}");
        assert_eq!(d.parts.len(), topic(&snap).unwrap().len());

        // Back at time 0 (a reset): everything from the old run is forgotten.
        let fresh = Simulation::new(&preset("incident-106").unwrap()).unwrap().snapshot();
        d.follow(&fresh, 100.0);
        assert!(d.marks.is_empty() && d.drops.is_empty());
        assert_eq!(d.last_t, 0.0);
        assert_eq!(d.lane_scale, 10.0);
    }

    #[test]
    fn drops_are_counted_where_they_happen() {
        // A channel's drops come from the snapshot.
        let mut d = Diagram::new(false);
        let snap = run(&mut d, "drop-newest", 20.0, |_, _| {});
        let counts = d.drop_counts(&snap);
        assert!(snap.summary.dropped > 0);
        assert_eq!(counts.iter().sum::<u64>(), snap.summary.dropped);
        let StageView::Channel { dropped, .. } = snap.stages[0] else { panic!("drop-newest starts with a channel") };
        assert_eq!(counts[1], dropped);
        assert_eq!(d.drop_cause[1], Some(DropCause::DropNewest));

        // The consumer's shedding is not in the snapshot's stages: it is the rest, at the
        // consumer.
        let mut d = Diagram::new(false);
        let snap = run(&mut d, "shed-queue-length", 30.0, |_, _| {});
        let counts = d.drop_counts(&snap);
        assert!(snap.summary.dropped > 0);
        assert_eq!(counts.iter().sum::<u64>(), snap.summary.dropped);
        assert_eq!(counts.last().copied(), Some(snap.summary.dropped));
    }

    #[test]
    fn a_slow_message_holds_up_its_partition() {
        let mut d = Diagram::new(false);
        let mut held = Vec::new();
        run(&mut d, "head-of-line", 30.0, |d, _| {
            if let Some(s) = &d.slow {
                held.extend(s.stuck.iter().copied().filter(|&p| p == s.part));
            }
        });
        assert!(!held.is_empty(), "no partition was ever held up");
        // Trends are -1, 0 or 1.
        assert!(d.parts.iter().all(|p| (-1..=1).contains(&p.trend)));
    }
}
