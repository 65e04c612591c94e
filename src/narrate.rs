//! Turns the engine's trace into short sentences for a live region (`aria-live="polite"`)
//! and the visible event log: OOM kills, the producer blocking, shedding and overflow
//! drops starting, rebalances, evictions, pause/resume, a slow message. Pure, tested
//! natively.
//!
//! Throttled twice: a kind of event that keeps recurring (a producer blocking on every
//! send, pause/resume cycling) is announced again only after it has been quiet for a while
//! in simulated time; and announcements are released at most once per
//! [`MIN_GAP_WALL_S`] of wall time, several at once joined into one sentence.

use crate::format;
use bplab_engine::{DropCause, Snapshot, TraceEvent, TraceKind};

/// Wall seconds between two announcements at least.
pub const MIN_GAP_WALL_S: f64 = 1.5;
/// Simulated seconds a recurring kind of event must be quiet before it is announced again.
const QUIET_S: f64 = 10.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Topic {
    Blocked,
    Shedding,
    Overflow,
    Filter,
    Rebalance,
    Paused,
    Resumed,
    Evicted,
    Restarted,
    Retention,
}

const TOPICS: usize = 10;
/// Simulated seconds between two announcements of a throttle's rate or a concurrency limit.
const THROTTLE_QUIET_S: f64 = 5.0;

fn slot(t: Topic) -> usize {
    t as usize
}

#[derive(Default)]
pub struct Narrator {
    /// Simulated time each topic was last seen (announced or not).
    last_seen: [Option<f64>; TOPICS],
    pending: Vec<String>,
    last_emit_wall: Option<f64>,
    /// The producer rate last announced for a throttle, and when.
    told_rate: Option<(f64, f64)>,
    /// The concurrency limit last announced per member, and when.
    told_limit: Vec<Option<(f64, f64)>>,
    /// Records deleted by retention so far, as last observed.
    retention_lost: u64,
}

fn at(t: f64) -> String {
    format!("At {}", format::secs(t))
}

/// Whether a control loop's new setting `value` at `t` is worth telling, given the one last
/// told: it has halved or doubled since, a few simulated seconds later (or time went back).
fn news(told: Option<(f64, f64)>, value: f64, t: f64) -> bool {
    told.is_none_or(|(v, at_s)| t < at_s || (t - at_s >= THROTTLE_QUIET_S && !(0.5..=2.0).contains(&(value / v.max(1e-9)))))
}

fn member(m: u16) -> String {
    format!("consumer {}", m + 1)
}

impl Narrator {
    pub fn new() -> Narrator {
        Narrator::default()
    }

    /// Forgets everything (a reset, a new scenario, a seek).
    pub fn clear(&mut self) {
        *self = Narrator::default();
    }

    /// True when `topic` has not been seen for [`QUIET_S`] before `t`; records `t`.
    fn fresh(&mut self, topic: Topic, t: f64) -> bool {
        let s = &mut self.last_seen[slot(topic)];
        let fresh = s.is_none_or(|last| t - last >= QUIET_S || t < last);
        *s = Some(t);
        fresh
    }

    fn say(&mut self, text: String) {
        if !self.pending.contains(&text) {
            self.pending.push(text);
        }
    }

    /// Reads one frame's trace.
    pub fn ingest(&mut self, trace: &[TraceEvent]) {
        for ev in trace {
            let t = ev.t_s;
            match ev.kind {
                TraceKind::OomKill { member: m, in_flight, lost } => {
                    let loss = if lost > 0 {
                        format!("; {} of them are lost for good", format::count(lost as f64))
                    } else {
                        "; they will be delivered again".into()
                    };
                    self.say(format!(
                        "{}: {} was OOM-killed holding {} messages{loss}.",
                        at(t),
                        member(m),
                        format::count(in_flight as f64)
                    ));
                }
                TraceKind::Blocked if self.fresh(Topic::Blocked, t) => {
                    self.say(format!("{}: the producer is blocked: its receiver is full or out of credits (backpressure).", at(t)));
                }
                TraceKind::Unblocked => {
                    // Blocking continues as long as sends keep blocking: count it as seen.
                    self.last_seen[slot(Topic::Blocked)] = Some(t);
                }
                TraceKind::Dropped { cause, n, .. } => {
                    let (topic, what) = match cause {
                        DropCause::ShedQueueLength => (Topic::Shedding, "shedding started: the queue is over its threshold"),
                        DropCause::ShedDeadline => (Topic::Shedding, "shedding started: messages are past their deadline"),
                        DropCause::ShedRed => (Topic::Shedding, "shedding started: random early detection is dropping arrivals"),
                        DropCause::DropNewest => (Topic::Overflow, "the buffer is full: new messages are dropped"),
                        DropCause::DropOldest => (Topic::Overflow, "the buffer is full: the oldest messages are dropped"),
                        DropCause::Fail => (Topic::Overflow, "the buffer is full: sends fail"),
                        DropCause::BlockTimeout => (Topic::Overflow, "blocked sends are timing out and failing"),
                        DropCause::Filter => (Topic::Filter, "the filter drops part of the stream"),
                    };
                    if n > 0 && topic != Topic::Filter && self.fresh(topic, t) {
                        self.say(format!("{}: {what}.", at(t)));
                    }
                }
                TraceKind::Rebalance if self.fresh(Topic::Rebalance, t) => {
                    self.say(format!("{}: the consumer group is rebalancing; consumption stops.", at(t)));
                }
                TraceKind::Evicted { member: m } if self.fresh(Topic::Evicted, t) => {
                    self.say(format!("{}: {} left the group: max.poll.interval.ms exceeded.", at(t), member(m)));
                }
                TraceKind::Restarted { member: m } if self.fresh(Topic::Restarted, t) => {
                    self.say(format!("{}: {} restarted.", at(t), member(m)));
                }
                TraceKind::Paused { member: m } if self.fresh(Topic::Paused, t) => {
                    self.say(format!("{}: {} paused fetching (too much in flight).", at(t), member(m)));
                }
                TraceKind::Resumed { member: m } if self.fresh(Topic::Resumed, t) => {
                    self.say(format!("{}: {} resumed fetching.", at(t), member(m)));
                }
                // A throttle adjusts the rate at every update: worth telling when the rate
                // has halved or doubled since it was last told (and not more than every
                // few simulated seconds).
                TraceKind::Throttled { rate_per_s } if news(self.told_rate, rate_per_s, t) => {
                    self.told_rate = Some((rate_per_s, t));
                    self.say(format!("{}: the throttle set the producer to {} msg/s.", at(t), format::count(rate_per_s)));
                }
                TraceKind::LimitChanged { member: m, limit } => {
                    let i = m as usize;
                    if self.told_limit.len() <= i {
                        self.told_limit.resize(i + 1, None);
                    }
                    if news(self.told_limit[i], limit as f64, t) {
                        self.told_limit[i] = Some((limit as f64, t));
                        self.say(format!("{}: {} now allows {} calls in flight (adaptive concurrency limit).", at(t), member(m), limit));
                    }
                }
                TraceKind::SlowStarted { member: m, partition } => {
                    self.say(format!("{}: a slow message started on {}; partition {} waits behind it.", at(t), member(m), partition));
                }
                _ => {}
            }
        }
    }

    /// Reads what the trace does not carry, from the frame's snapshot: records that topic
    /// retention deleted before anyone processed them.
    pub fn observe(&mut self, snap: &Snapshot) {
        let deleted = snap.summary.lost_by_cause.retention;
        if deleted > self.retention_lost && self.fresh(Topic::Retention, snap.t_s) {
            self.say(format!(
                "{}: retention deleted {} records before anyone processed them: they are lost.",
                at(snap.t_s),
                format::count((deleted - self.retention_lost) as f64)
            ));
        }
        self.retention_lost = deleted;
    }

    /// The next announcement, if one is due at wall time `now`: up to three pending
    /// sentences, OOM kills first; the rest wait for the next one. (At top speed events come
    /// faster than anyone can listen: past a dozen pending, the oldest lesser ones go.)
    pub fn poll(&mut self, now_wall_s: f64) -> Option<String> {
        if self.pending.is_empty() || self.last_emit_wall.is_some_and(|l| now_wall_s - l < MIN_GAP_WALL_S) {
            return None;
        }
        self.last_emit_wall = Some(now_wall_s);
        let urgent = |t: &String| t.contains("OOM-killed");
        let mut items: Vec<String> = self.pending.iter().filter(|t| urgent(t)).take(3).cloned().collect();
        for t in self.pending.iter().filter(|t| !urgent(t)) {
            if items.len() == 3 {
                break;
            }
            items.push(t.clone());
        }
        self.pending.retain(|t| !items.contains(t));
        while self.pending.len() > 12 {
            let k = self.pending.iter().position(|t| !urgent(t)).unwrap_or(0);
            self.pending.remove(k);
        }
        Some(items.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t_s: f64, kind: TraceKind) -> TraceEvent {
        TraceEvent { t_s, kind }
    }

    #[test]
    fn announces_an_oom_kill_with_its_losses() {
        let mut n = Narrator::new();
        n.ingest(&[ev(48.29, TraceKind::OomKill { member: 0, in_flight: 458_737, lost: 425_907 })]);
        let s = n.poll(0.0).unwrap();
        assert_eq!(s, "At 48.3 s: consumer 1 was OOM-killed holding 459 k messages; 426 k of them are lost for good.");
        assert_eq!(n.poll(10.0), None, "nothing pending");
    }

    #[test]
    fn recurring_events_are_announced_once_until_they_have_been_quiet() {
        let mut n = Narrator::new();
        let mut trace = Vec::new();
        for i in 0..1_000 {
            let t = i as f64 * 0.002;
            trace.push(ev(t, TraceKind::Blocked));
            trace.push(ev(t + 0.001, TraceKind::Unblocked));
        }
        n.ingest(&trace);
        let s = n.poll(0.0).unwrap();
        assert!(s.contains("the producer is blocked"), "{s}");
        n.ingest(&[ev(5.0, TraceKind::Blocked)]);
        assert_eq!(n.poll(5.0), None, "still blocking: not news");
        n.ingest(&[ev(30.0, TraceKind::Blocked)]);
        assert!(n.poll(10.0).unwrap().contains("At 30.0 s"));
    }

    #[test]
    fn announcements_are_spaced_in_wall_time_and_joined() {
        let mut n = Narrator::new();
        n.ingest(&[ev(1.0, TraceKind::Rebalance)]);
        assert!(n.poll(100.0).is_some());
        n.ingest(&[
            ev(20.0, TraceKind::Dropped { node: 2, n: 10, cause: DropCause::ShedQueueLength }),
            ev(21.0, TraceKind::Paused { member: 0 }),
        ]);
        assert_eq!(n.poll(100.5), None, "too soon after the last one");
        let s = n.poll(101.6).unwrap();
        assert!(s.contains("shedding started") && s.contains("paused fetching"), "{s}");
    }

    #[test]
    fn oom_kills_go_first_and_nothing_urgent_is_dropped() {
        let mut n = Narrator::new();
        let mut trace = Vec::new();
        for i in 0..10 {
            trace.push(ev(i as f64 * 20.0, TraceKind::Rebalance));
            trace.push(ev(i as f64 * 20.0 + 1.0, TraceKind::Restarted { member: 0 }));
        }
        trace.push(ev(300.0, TraceKind::OomKill { member: 0, in_flight: 10, lost: 0 }));
        n.ingest(&trace);
        let first = n.poll(0.0).unwrap();
        assert!(first.starts_with("At 5 min 0 s: consumer 1 was OOM-killed"), "{first}");
        let mut rest = 0;
        let mut t = 0.0;
        while n.poll(t).is_some() || t < 10.0 {
            t += 2.0;
            rest += 1;
            if rest > 20 {
                break;
            }
        }
        assert!(n.pending.is_empty());
    }

    #[test]
    fn a_throttle_is_told_when_its_rate_halves_or_doubles() {
        let mut n = Narrator::new();
        let mut trace = Vec::new();
        // AIMD-like: from 10,000 msg/s down to about 400 in small steps, every 100 ms.
        let mut rate = 10_000.0;
        for i in 0..400 {
            trace.push(ev(1.0 + i as f64 * 0.1, TraceKind::Throttled { rate_per_s: rate }));
            rate = (rate * 0.97f64).max(400.0);
        }
        n.ingest(&trace);
        let told: Vec<String> = n.pending.clone();
        assert_eq!(told.len(), 3, "{told:#?}");
        assert!(told[0].contains("10.0 k msg/s"), "{}", told[0]);
        assert!(told.last().unwrap().contains("476 msg/s"), "the last one told is within 2× of where it settles: {told:#?}");
        // Small wobbles around one rate are not news.
        let mut n = Narrator::new();
        let wobble: Vec<TraceEvent> =
            (0..500).map(|i| ev(i as f64 * 0.1, TraceKind::Throttled { rate_per_s: 500.0 + (i % 7) as f64 * 20.0 })).collect();
        n.ingest(&wobble);
        assert_eq!(n.pending.len(), 1, "{:#?}", n.pending);
    }

    #[test]
    fn an_adaptive_limit_is_told_when_it_halves_or_doubles() {
        let mut n = Narrator::new();
        let trace: Vec<TraceEvent> = [(0.5, 20), (1.0, 22), (7.0, 9), (8.0, 4), (20.0, 5)]
            .iter()
            .map(|&(t, limit)| ev(t, TraceKind::LimitChanged { member: 1, limit }))
            .collect();
        n.ingest(&trace);
        assert_eq!(
            n.pending,
            vec![
                "At 500 ms: consumer 2 now allows 20 calls in flight (adaptive concurrency limit).".to_string(),
                "At 7.00 s: consumer 2 now allows 9 calls in flight (adaptive concurrency limit).".to_string(),
            ]
        );
    }

    #[test]
    fn retention_losses_are_told_from_the_snapshot() {
        let scenario = bplab_engine::preset("retention-loss").unwrap();
        let mut sim = bplab_engine::Simulation::new(&scenario).unwrap();
        let mut n = Narrator::new();
        let mut t = 0.0;
        while t < 150.0 && n.pending.is_empty() {
            t += 1.0;
            sim.run_until(t, u64::MAX);
            n.observe(&sim.snapshot());
        }
        let said = n.pending.first().expect("retention deleted nothing in 150 s");
        assert!(said.contains("retention deleted") && said.contains("lost"), "{said}");
        assert!(sim.summary().lost_by_cause.retention > 0);
        // Ongoing deletion is not news again until it has been quiet.
        n.pending.clear();
        sim.run_until(t + 5.0, u64::MAX);
        n.observe(&sim.snapshot());
        assert!(n.pending.is_empty(), "{:?}", n.pending);
    }
}
