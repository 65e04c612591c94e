//! From the engine's trace to what moves on the diagram: which path each event travels,
//! how many messages each path carried in a frame, the dots that stand for them (at most
//! one per path every [`SPAWN_EVERY_S`] of wall time, sized by what it carries, so 1,000 and
//! 1,000,000 msg/s both read as a stream) and smoothed rates. Pure Rust, tested natively.

use bplab_engine::{TraceEvent, TraceKind};

/// Dots move at this speed (CSS pixels per wall second), so short paths do not pile up.
pub const SPEED: f64 = 150.0;
/// Longest time (wall clock) a dot travels; dots are forgotten after it.
pub const MAX_TRAVEL_S: f64 = 1.6;
/// Seconds (wall clock) between two dots on the same path.
pub const SPAWN_EVERY_S: f64 = 0.12;
/// Between two poll or commit dots of a member (there are many members and polls).
pub const SPAWN_EVERY_POLL_S: f64 = 0.25;

/// Wall seconds a dot takes over a path `len` pixels long.
pub fn travel_s(len: f64) -> f64 {
    (len / SPEED).clamp(0.25, MAX_TRAVEL_S)
}
/// Dots alive at once, at most.
pub const MAX_DOTS: usize = 600;
/// The engine keeps at most this many trace events between two drains; a frame that
/// brings this many may have lost its oldest ones.
pub const TRACE_CAP: usize = 4_096;

/// A way things travel on the diagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Path {
    /// Messages pushed over link `link` (into node `link`).
    Push { link: u16 },
    /// Credits granted (or demand requested) on link `link`, travelling upstream.
    Token { link: u16, request: bool },
    /// A poll by member `member`, travelling upstream to its source.
    Poll { member: u16 },
    /// Records coming back to member `member` (fetched from the topic, or taken from a
    /// channel by a poll).
    Batch { member: u16 },
    /// Offsets committed by member `member`, travelling back to the topic.
    Commit { member: u16 },
    /// Messages dropped at node `node`, falling into its bin.
    Drop { node: u16 },
    /// Messages processed by member `member`, leaving (or, with a downstream dependency,
    /// the replies of its calls).
    Done { member: u16 },
}

/// How the consumer takes its input, which decides what a poll shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Pushed to it.
    Push,
    /// Polls a channel: the poll itself brings the records.
    Channel,
    /// Polls a topic: fetches bring records into the cache, polls read the cache.
    Topic,
}

/// Messages (or polls, or commits) per path in one frame's trace, in first-seen order.
pub fn tally(trace: &[TraceEvent], source: Source) -> Vec<(Path, u64)> {
    let mut out: Vec<(Path, u64)> = Vec::new();
    let mut add = |p: Path, n: u64| {
        if n == 0 {
            return;
        }
        match out.iter_mut().find(|e| e.0 == p) {
            Some(e) => e.1 += n,
            None => out.push((p, n)),
        }
    };
    for ev in trace {
        match ev.kind {
            TraceKind::Moved { to, n, .. } => add(Path::Push { link: to }, n),
            TraceKind::Polled { member, n } => {
                add(Path::Poll { member }, 1);
                if source == Source::Channel {
                    add(Path::Batch { member }, n);
                }
            }
            TraceKind::Fetched { member, n } => add(Path::Batch { member }, n),
            TraceKind::Processed { member, n } => add(Path::Done { member }, n),
            TraceKind::Dropped { node, n, .. } => add(Path::Drop { node }, n),
            TraceKind::Granted { link, n } => add(Path::Token { link, request: false }, n),
            TraceKind::Requested { link, n } => add(Path::Token { link, request: true }, n),
            TraceKind::Committed { member } if source == Source::Topic => add(Path::Commit { member }, 1),
            _ => {}
        }
    }
    out
}

/// A dot on its way.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dot {
    pub path: Path,
    /// Wall time it set off.
    pub born: f64,
    /// What it stands for: messages (polls and commits for those paths).
    pub n: u64,
}

impl Dot {
    /// How far along a path it takes `travel` seconds to cross, 0 to 1 (more: arrived).
    pub fn progress(&self, now: f64, travel: f64) -> f64 {
        ((now - self.born) / travel.max(1e-3)).max(0.0)
    }
}

/// Radius of a dot standing for `n`: grows with the order of magnitude.
pub fn radius(n: u64) -> f64 {
    (2.5 + 1.1 * ((n as f64) + 1.0).log10()).min(8.0)
}

/// Moving dots and what each path has carried since its last dot.
#[derive(Clone, Debug, Default)]
pub struct Flow {
    pub dots: Vec<Dot>,
    /// Per path: messages not yet shown by a dot, and when its last dot set off.
    carried: Vec<(Path, u64, f64)>,
}

impl Flow {
    /// Adds one frame's tallies at wall time `now`; spawns at most one dot per path, and
    /// none with `still` (reduced motion).
    pub fn ingest(&mut self, tallies: &[(Path, u64)], now: f64, still: bool) {
        self.expire(now);
        if still {
            self.dots.clear();
            self.carried.clear();
            return;
        }
        for &(path, n) in tallies {
            let slot = match self.carried.iter().position(|c| c.0 == path) {
                Some(i) => i,
                None => {
                    self.carried.push((path, 0, f64::NEG_INFINITY));
                    self.carried.len() - 1
                }
            };
            let c = &mut self.carried[slot];
            c.1 += n;
            let every = match path {
                Path::Poll { .. } | Path::Commit { .. } => SPAWN_EVERY_POLL_S,
                _ => SPAWN_EVERY_S,
            };
            if now - c.2 >= every && self.dots.len() < MAX_DOTS {
                self.dots.push(Dot { path, born: now, n: c.1 });
                c.1 = 0;
                c.2 = now;
            }
        }
    }

    /// Forgets dots that have arrived.
    pub fn expire(&mut self, now: f64) {
        self.dots.retain(|d| now - d.born < MAX_TRAVEL_S && d.born <= now);
    }

    pub fn clear(&mut self) {
        self.dots.clear();
        self.carried.clear();
    }
}

/// Smoothed rates per path, in messages per simulated second.
#[derive(Clone, Debug, Default)]
pub struct Rates {
    /// Counts since the last update.
    pending: Vec<(Path, u64)>,
    rates: Vec<(Path, f64)>,
    /// Simulated time of the first event when a frame's trace may have been cut short.
    cut_at: Option<f64>,
}

/// Smoothing time constant, simulated seconds.
const TAU_S: f64 = 0.5;

impl Rates {
    pub fn add(&mut self, tallies: &[(Path, u64)], trace: &[TraceEvent]) {
        if trace.len() >= TRACE_CAP {
            // The oldest events may be gone: the counts cover only from here on.
            self.cut_at = trace.first().map(|e| e.t_s);
        }
        for &(p, n) in tallies {
            match self.pending.iter_mut().find(|e| e.0 == p) {
                Some(e) => e.1 += n,
                None => self.pending.push((p, n)),
            }
        }
    }

    /// Turns the counts since the last update into rates, over `from_s..to_s` of simulated
    /// time. Nothing changes when time stood still.
    pub fn update(&mut self, from_s: f64, to_s: f64) {
        let from = self.cut_at.take().map_or(from_s, |c| c.max(from_s));
        let dt = to_s - from;
        if dt <= 1e-9 {
            if to_s - from_s <= 1e-9 {
                // Paused: keep the rates (a still picture of the last flow).
                self.pending.clear();
            }
            return;
        }
        let a = 1.0 - (-(to_s - from_s) / TAU_S).exp();
        for r in self.rates.iter_mut() {
            let n = self.pending.iter().find(|e| e.0 == r.0).map_or(0, |e| e.1);
            r.1 += a * (n as f64 / dt - r.1);
        }
        for &(p, n) in &self.pending {
            if !self.rates.iter().any(|r| r.0 == p) {
                self.rates.push((p, a * n as f64 / dt));
            }
        }
        self.pending.clear();
        // Rates that have died down are forgotten.
        self.rates.retain(|r| r.1 > 1e-3);
    }

    pub fn get(&self, p: Path) -> f64 {
        self.rates.iter().find(|r| r.0 == p).map_or(0.0, |r| r.1)
    }

    /// Sum over the paths `f` selects.
    pub fn sum(&self, f: impl Fn(&Path) -> bool) -> f64 {
        self.rates.iter().filter(|r| f(&r.0)).map(|r| r.1).sum()
    }

    pub fn clear(&mut self) {
        *self = Rates::default();
    }

    /// Member `member` was killed: its polls, records and processing stop now, so their
    /// rates read 0 at once instead of decaying from what they were before the kill.
    pub fn stop_member(&mut self, member: u16) {
        let of = |p: &Path| matches!(*p, Path::Poll { member: m } | Path::Batch { member: m } | Path::Done { member: m } | Path::Commit { member: m } if m == member);
        self.rates.retain(|r| !of(&r.0));
        self.pending.retain(|r| !of(&r.0));
    }

    /// The producer's process was killed: every push starts there (the producer, its
    /// channels, its Kafka client), so push rates read 0 at once.
    pub fn stop_pushes(&mut self) {
        let of = |p: &Path| matches!(*p, Path::Push { .. });
        self.rates.retain(|r| !of(&r.0));
        self.pending.retain(|r| !of(&r.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t_s: f64, kind: TraceKind) -> TraceEvent {
        TraceEvent { t_s, kind }
    }

    #[test]
    fn a_frame_of_many_events_is_one_dot_per_path_carrying_the_sum() {
        let mut trace = Vec::new();
        for i in 0..1_000 {
            let t = i as f64 * 1e-3;
            trace.push(ev(t, TraceKind::Moved { from: 0, to: 1, n: 10 }));
            trace.push(ev(t, TraceKind::Polled { member: 0, n: 10 }));
        }
        trace.push(ev(1.0, TraceKind::Dropped { node: 1, n: 7, cause: bplab_engine::DropCause::DropNewest }));
        let t = tally(&trace, Source::Channel);
        assert_eq!(
            t,
            vec![
                (Path::Push { link: 1 }, 10_000),
                (Path::Poll { member: 0 }, 1_000),
                (Path::Batch { member: 0 }, 10_000),
                (Path::Drop { node: 1 }, 7),
            ]
        );
        // From a topic, the poll reads the cache: only fetches bring records over the link.
        let t =
            tally(&[ev(0.0, TraceKind::Polled { member: 2, n: 500 }), ev(0.0, TraceKind::Fetched { member: 2, n: 800 })], Source::Topic);
        assert_eq!(t, vec![(Path::Poll { member: 2 }, 1), (Path::Batch { member: 2 }, 800)]);

        let mut f = Flow::default();
        f.ingest(&tally(&trace, Source::Channel), 10.0, false);
        assert_eq!(f.dots.len(), 4);
        assert_eq!(f.dots[0], Dot { path: Path::Push { link: 1 }, born: 10.0, n: 10_000 });
    }

    #[test]
    fn dots_are_throttled_per_path_and_carry_what_accumulated() {
        let mut f = Flow::default();
        let one = [(Path::Push { link: 1 }, 5)];
        f.ingest(&one, 0.0, false);
        f.ingest(&one, 0.016, false);
        f.ingest(&one, 0.033, false);
        assert_eq!(f.dots.len(), 1, "one dot per path per interval");
        f.ingest(&one, SPAWN_EVERY_S + 0.001, false);
        assert_eq!(f.dots.len(), 2);
        assert_eq!(f.dots[1].n, 15, "the second dot stands for everything since the first");
        f.expire(SPAWN_EVERY_S + MAX_TRAVEL_S + 0.01);
        assert!(f.dots.is_empty());
    }

    #[test]
    fn reduced_motion_spawns_nothing() {
        let mut f = Flow::default();
        f.ingest(&[(Path::Push { link: 1 }, 5)], 0.0, true);
        assert!(f.dots.is_empty());
    }

    #[test]
    fn dot_size_grows_with_magnitude_and_is_bounded() {
        assert!(radius(1) < radius(1_000));
        assert!(radius(1_000) < radius(100_000));
        assert_eq!(radius(1_000_000_000), 8.0);
    }

    #[test]
    fn a_killed_member_reads_zero_at_once() {
        let mut r = Rates::default();
        let (poll, done, push) = (Path::Batch { member: 0 }, Path::Done { member: 0 }, Path::Push { link: 1 });
        r.add(&[(poll, 10_000), (done, 500), (push, 10_000)], &[]);
        r.update(0.0, 1.0);
        assert!(r.get(poll) > 1_000.0 && r.get(done) > 100.0);
        r.add(&[(poll, 7_000)], &[]);
        r.stop_member(1);
        assert!(r.get(poll) > 1_000.0, "another member's kill changes nothing here");
        r.stop_member(0);
        r.update(1.0, 1.1);
        assert_eq!((r.get(poll), r.get(done)), (0.0, 0.0));
        assert!(r.get(push) > 1_000.0, "the producer keeps pushing");
    }

    #[test]
    fn rates_follow_the_trace_and_hold_while_paused() {
        let mut r = Rates::default();
        let p = Path::Push { link: 1 };
        for i in 0..100 {
            let t0 = i as f64 * 0.1;
            r.add(&[(p, 1_000)], &[]);
            r.update(t0, t0 + 0.1);
        }
        assert!((r.get(p) - 10_000.0).abs() < 10.0, "{}", r.get(p));
        r.update(10.0, 10.0);
        assert!((r.get(p) - 10_000.0).abs() < 10.0, "paused: unchanged");
        // A big jump (1000× speed) converges at once.
        r.add(&[(p, 1_000_000)], &[]);
        r.update(10.0, 26.0);
        assert!((r.get(p) - 62_500.0).abs() < 100.0, "{}", r.get(p));
    }

    #[test]
    fn a_cut_trace_counts_over_the_time_it_covers() {
        let mut r = Rates::default();
        let p = Path::Push { link: 1 };
        let trace: Vec<TraceEvent> =
            (0..TRACE_CAP).map(|i| ev(9.0 + i as f64 / TRACE_CAP as f64, TraceKind::Moved { from: 0, to: 1, n: 1 })).collect();
        r.add(&[(p, TRACE_CAP as u64)], &trace);
        r.update(0.0, 10.0);
        // 4096 messages over the last simulated second, not over ten.
        assert!(r.get(p) > 4_000.0, "{}", r.get(p));
    }
}
