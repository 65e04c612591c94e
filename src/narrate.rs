//! Turns the engine's trace into short sentences for a live region (`aria-live="polite"`)
//! and the visible event log: OOM kills and restarts (the consumers' and the producer's),
//! the producer blocking, shedding and
//! overflow drops starting, rebalances, evictions, pause/resume, a slow message. Pure,
//! tested natively.
//!
//! Complete and in order at every speed. Announcements are released at most once per
//! [`MIN_GAP_WALL_S`] of wall time, and each one tells *everything* noted since the last,
//! in simulated-time order, so the log never falls behind the run. When more than
//! [`MAX_SINGLE`] notes crowd one announcement (100× and faster), notes of one kind are
//! told together, honestly: "3 OOM kills between 14 min 49 s and 16 min 49 s (consumer 1)
//! …; each restarted 10 s later". Kills, restarts, rebalances and evictions are never
//! dropped; a kind of event that is a state rather than news (a producer blocking on
//! every send, pause/resume cycling, shedding) is noted again only after it has been quiet
//! for a while in simulated time. Every time is written by [`format::moment`].

use crate::format;
use bplab_engine::{DropCause, Snapshot, TraceEvent, TraceKind};

/// Wall seconds between two announcements at least.
pub const MIN_GAP_WALL_S: f64 = 1.5;
/// Simulated seconds a recurring kind of event must be quiet before it is announced again.
const QUIET_S: f64 = 10.0;
/// Notes told one by one in an announcement; past this many, each kind is told together.
pub const MAX_SINGLE: usize = 3;

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
    Kill,
    Throttle,
    Limit,
    Slow,
    ProducerKill,
    ProducerRestarted,
}

const TOPICS: usize = 16;
/// Simulated seconds between two announcements of a throttle's rate or a concurrency limit.
const THROTTLE_QUIET_S: f64 = 5.0;

fn slot(t: Topic) -> usize {
    t as usize
}

/// One thing worth telling, noted at simulated time `t`.
#[derive(Clone, Debug, PartialEq)]
struct Note {
    t: f64,
    topic: Topic,
    /// What happened, without its time ("consumer 1 restarted").
    body: String,
    member: u16,
    /// For a kill: messages held and lost.
    held: u64,
    lost: u64,
}

#[derive(Default)]
pub struct Narrator {
    /// Simulated time each topic was last seen (announced or not).
    last_seen: [Option<f64>; TOPICS],
    pending: Vec<Note>,
    last_emit_wall: Option<f64>,
    /// The producer rate last announced for a throttle, and when.
    told_rate: Option<(f64, f64)>,
    /// The concurrency limit last announced per member, and when.
    told_limit: Vec<Option<(f64, f64)>>,
    /// Records deleted by retention so far, as last observed.
    retention_lost: u64,
}

fn at(t: f64) -> String {
    format!("At {}", format::moment(t))
}

/// Whether a control loop's new setting `value` at `t` is worth telling, given the one last
/// told: it has halved or doubled since, a few simulated seconds later (or time went back).
fn news(told: Option<(f64, f64)>, value: f64, t: f64) -> bool {
    told.is_none_or(|(v, at_s)| t < at_s || (t - at_s >= THROTTLE_QUIET_S && !(0.5..=2.0).contains(&(value / v.max(1e-9)))))
}

fn member(m: u16) -> String {
    format!("consumer {}", m + 1)
}

/// "consumer 1" or "consumers 1 and 3", for the members of `notes` (each once, in order).
fn members(notes: &[&Note]) -> String {
    // Kept sorted as they come (no sort: it would add kilobytes to the download).
    let mut ms: Vec<u16> = Vec::new();
    for n in notes {
        if let Err(i) = ms.binary_search(&n.member) {
            ms.insert(i, n.member);
        }
    }
    match ms.as_slice() {
        [m] => member(*m),
        _ => {
            let nums: Vec<String> = ms.iter().map(|m| (m + 1).to_string()).collect();
            let (last, rest) = nums.split_last().expect("two or more members");
            format!("consumers {} and {last}", rest.join(", "))
        }
    }
}

fn between(notes: &[&Note]) -> String {
    let (a, b) = (notes[0].t, notes[notes.len() - 1].t);
    format!("between {} and {}", format::moment(a), format::moment(b))
}

fn kill_body(in_flight: u64, lost: u64) -> String {
    let loss = if lost > 0 {
        format!("; {} of them are lost for good", format::count(lost as f64))
    } else {
        "; they will be delivered again".into()
    };
    format!("was OOM-killed holding {} messages{loss}", format::count(in_flight as f64))
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

    fn note(&mut self, t: f64, topic: Topic, body: String) {
        self.note_member(t, topic, body, 0);
    }

    fn note_member(&mut self, t: f64, topic: Topic, body: String, m: u16) {
        self.push(Note { t, topic, body, member: m, held: 0, lost: 0 });
    }

    /// Keeps the notes in time order (they nearly always come in it).
    fn push(&mut self, note: Note) {
        let at = self.pending.partition_point(|n| n.t <= note.t);
        self.pending.insert(at, note);
    }

    /// Reads one frame's trace.
    pub fn ingest(&mut self, trace: &[TraceEvent]) {
        for ev in trace {
            let t = ev.t_s;
            match ev.kind {
                TraceKind::OomKill { member: m, in_flight, lost } => {
                    let body = format!("{} {}", member(m), kill_body(in_flight, lost));
                    self.push(Note { t, topic: Topic::Kill, body, member: m, held: in_flight, lost });
                }
                TraceKind::Blocked if self.fresh(Topic::Blocked, t) => {
                    self.note(t, Topic::Blocked, "the producer is blocked: its receiver is full or out of credits (backpressure)".into());
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
                        self.note(t, topic, what.into());
                    }
                }
                TraceKind::Rebalance => {
                    self.note(t, Topic::Rebalance, "the consumer group is rebalancing; consumption stops".into());
                }
                TraceKind::Evicted { member: m } => {
                    self.note_member(t, Topic::Evicted, format!("{} left the group: max.poll.interval.ms exceeded", member(m)), m);
                }
                TraceKind::Restarted { member: m } => {
                    self.note_member(t, Topic::Restarted, format!("{} restarted", member(m)), m);
                }
                TraceKind::ProducerOomKill { lost } => {
                    let body = format!(
                        "the producer was OOM-killed: its heap passed its limit, and the {} messages its process held (its channels) are lost",
                        format::count(lost as f64)
                    );
                    self.push(Note { t, topic: Topic::ProducerKill, body, member: 0, held: lost, lost });
                }
                TraceKind::ProducerRestarted => {
                    self.note(t, Topic::ProducerRestarted, "the producer restarted and produces again".into());
                }
                TraceKind::Paused { member: m } if self.fresh(Topic::Paused, t) => {
                    self.note_member(t, Topic::Paused, format!("{} paused fetching (too much in flight)", member(m)), m);
                }
                TraceKind::Resumed { member: m } if self.fresh(Topic::Resumed, t) => {
                    self.note_member(t, Topic::Resumed, format!("{} resumed fetching", member(m)), m);
                }
                // A throttle adjusts the rate at every update: worth telling when the rate
                // has halved or doubled since it was last told (and not more than every
                // few simulated seconds).
                TraceKind::Throttled { rate_per_s } if news(self.told_rate, rate_per_s, t) => {
                    self.told_rate = Some((rate_per_s, t));
                    self.note(t, Topic::Throttle, format!("the throttle set the producer to {} msg/s", format::count(rate_per_s)));
                }
                TraceKind::LimitChanged { member: m, limit } => {
                    let i = m as usize;
                    if self.told_limit.len() <= i {
                        self.told_limit.resize(i + 1, None);
                    }
                    if news(self.told_limit[i], limit as f64, t) {
                        self.told_limit[i] = Some((limit as f64, t));
                        let body = format!("{} now allows {} calls in flight (adaptive concurrency limit)", member(m), limit);
                        self.note_member(t, Topic::Limit, body, m);
                    }
                }
                TraceKind::SlowStarted { member: m, partition } => {
                    let body = format!("a slow message started on {}; partition {} waits behind it", member(m), partition);
                    self.note_member(t, Topic::Slow, body, m);
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
            let n = format::count((deleted - self.retention_lost) as f64);
            self.note(snap.t_s, Topic::Retention, format!("retention deleted {n} records before anyone processed them: they are lost"));
        }
        self.retention_lost = deleted;
    }

    /// The next announcement, if one is due at wall time `now`: everything noted since the
    /// last one, in simulated-time order; past [`MAX_SINGLE`] notes, each kind told
    /// together (see the module's documentation).
    pub fn poll(&mut self, now_wall_s: f64) -> Option<String> {
        if self.pending.is_empty() || self.last_emit_wall.is_some_and(|l| now_wall_s - l < MIN_GAP_WALL_S) {
            return None;
        }
        self.last_emit_wall = Some(now_wall_s);
        let notes = std::mem::take(&mut self.pending);
        if notes.len() <= MAX_SINGLE {
            let said: Vec<String> = notes.iter().map(|n| format!("{}: {}.", at(n.t), n.body)).collect();
            return Some(said.join(" "));
        }
        Some(crowded(&notes))
    }
}

/// Many notes (in time order) as one announcement: one sentence per kind, the kinds in the
/// order they first happened; a kill's restart told with it when every kill of the batch
/// restarted the same time later.
fn crowded(notes: &[Note]) -> String {
    let mut topics: Vec<Topic> = Vec::new();
    for n in notes {
        if !topics.contains(&n.topic) {
            topics.push(n.topic);
        }
    }
    let of = |topic: Topic| notes.iter().filter(|n| n.topic == topic).collect::<Vec<&Note>>();
    let delay = restart_delay(&of(Topic::Kill), &of(Topic::Restarted));
    let producer_delay = restart_delay(&of(Topic::ProducerKill), &of(Topic::ProducerRestarted));
    let restarted = |delay: Option<f64>, n: usize| {
        let who = if n == 1 { "it restarted" } else { "each restarted" };
        delay.map(|d| format!("; {who} {} later", format::moment(d))).unwrap_or_default()
    };
    let mut out = Vec::new();
    for topic in topics {
        let group = of(topic);
        let sentence = match topic {
            Topic::Restarted if delay.is_some() => continue,
            Topic::ProducerRestarted if producer_delay.is_some() => continue,
            Topic::ProducerKill => {
                let head = if let [k] = group.as_slice() {
                    format!("{}: {}", at(k.t), k.body)
                } else {
                    let lost: u64 = group.iter().map(|k| k.lost).sum();
                    format!("{} producer OOM kills {}, losing {} messages in all", group.len(), between(&group), format::count(lost as f64))
                };
                format!("{head}{}", restarted(producer_delay, group.len()))
            }
            Topic::ProducerRestarted if group.len() > 1 => format!("{} producer restarts {}", group.len(), between(&group)),
            Topic::Kill => {
                let mut s = if let [k] = group.as_slice() {
                    format!("{}: {}", at(k.t), k.body)
                } else {
                    let held: u64 = group.iter().map(|k| k.held).sum();
                    let lost: u64 = group.iter().map(|k| k.lost).sum();
                    let loss = if lost > 0 {
                        format!("; {} of them lost for good", format::count(lost as f64))
                    } else {
                        "; they will be delivered again".into()
                    };
                    format!(
                        "{} OOM kills {} ({}), holding {} messages in all{loss}",
                        group.len(),
                        between(&group),
                        members(&group),
                        format::count(held as f64)
                    )
                };
                s.push_str(&restarted(delay, group.len()));
                s
            }
            Topic::Restarted if group.len() > 1 => format!("{} restarts {} ({})", group.len(), between(&group), members(&group)),
            Topic::Rebalance if group.len() > 1 => {
                format!("{} rebalances of the consumer group {}; consumption stops during each", group.len(), between(&group))
            }
            Topic::Evicted if group.len() > 1 => {
                format!("{} members left the group {} ({}): max.poll.interval.ms exceeded", group.len(), between(&group), members(&group))
            }
            _ => match group.as_slice() {
                [n] => format!("{}: {}", at(n.t), n.body),
                _ => {
                    let last = group[group.len() - 1];
                    format!("{} times {}, the last: {}", group.len(), between(&group), last.body)
                }
            },
        };
        // ASCII only: `to_uppercase` would link Unicode's case tables into the page.
        let mut sentence = sentence;
        if let Some(first) = sentence.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        out.push(format!("{sentence}."));
    }
    out.join(" ")
}

/// The delay after which every kill of `kills` restarted, when each has its restart (the
/// first later one of its member) among `restarts`, all of them used, and all the same.
fn restart_delay(kills: &[&Note], restarts: &[&Note]) -> Option<f64> {
    let mut used = vec![false; restarts.len()];
    let mut delays = Vec::new();
    for k in kills {
        if let Some(i) = (0..restarts.len()).find(|&i| !used[i] && restarts[i].member == k.member && restarts[i].t >= k.t) {
            used[i] = true;
            delays.push(restarts[i].t - k.t);
        }
    }
    let same =
        !kills.is_empty() && delays.len() == kills.len() && used.iter().all(|u| *u) && delays.iter().all(|d| (d - delays[0]).abs() < 1e-6);
    same.then(|| delays[0])
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
        n.ingest(&[ev(92.4, TraceKind::Restarted { member: 0 })]);
        assert_eq!(n.poll(10.0).unwrap(), "At 1 min 32 s: consumer 1 restarted.", "one time format");
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
    fn crowded_notes_are_told_together_in_order_and_none_is_dropped() {
        let mut n = Narrator::new();
        let mut trace = Vec::new();
        for i in 0..10 {
            trace.push(ev(i as f64 * 20.0, TraceKind::Rebalance));
            trace.push(ev(i as f64 * 20.0 + 1.0, TraceKind::Restarted { member: 0 }));
        }
        trace.push(ev(300.0, TraceKind::OomKill { member: 0, in_flight: 10, lost: 0 }));
        n.ingest(&trace);
        let said = n.poll(0.0).unwrap();
        assert_eq!(
            said,
            "10 rebalances of the consumer group between 0.0 s and 3 min 0 s; consumption stops during each. \
             10 restarts between 1.0 s and 3 min 1 s (consumer 1). \
             At 5 min 0 s: consumer 1 was OOM-killed holding 10 messages; they will be delivered again."
        );
        assert!(n.pending.is_empty());
        // Kills that all restarted the same time later are told with their restarts.
        for k in 0..3 {
            let t = 889.0 + k as f64 * 60.0;
            n.ingest(&[
                ev(t, TraceKind::OomKill { member: k % 2, in_flight: 1_000, lost: 400 }),
                ev(t, TraceKind::Rebalance),
                ev(t + 10.0, TraceKind::Restarted { member: k % 2 }),
            ]);
        }
        let said = n.poll(10.0).unwrap();
        assert_eq!(
            said,
            "3 OOM kills between 14 min 49 s and 16 min 49 s (consumers 1 and 2), holding 3000 messages in all; \
             1200 of them lost for good; each restarted 10.0 s later. \
             3 rebalances of the consumer group between 14 min 49 s and 16 min 49 s; consumption stops during each."
        );
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
        let told: Vec<String> = texts(&n);
        assert_eq!(told.len(), 3, "{told:#?}");
        assert!(told[0].contains("10.0 k msg/s"), "{}", told[0]);
        assert!(told.last().unwrap().contains("476 msg/s"), "the last one told is within 2× of where it settles: {told:#?}");
        // Small wobbles around one rate are not news.
        let mut n = Narrator::new();
        let wobble: Vec<TraceEvent> =
            (0..500).map(|i| ev(i as f64 * 0.1, TraceKind::Throttled { rate_per_s: 500.0 + (i % 7) as f64 * 20.0 })).collect();
        n.ingest(&wobble);
        assert_eq!(n.pending.len(), 1, "{:#?}", texts(&n));
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
            texts(&n),
            vec![
                "At 0.5 s: consumer 2 now allows 20 calls in flight (adaptive concurrency limit).".to_string(),
                "At 7.0 s: consumer 2 now allows 9 calls in flight (adaptive concurrency limit).".to_string(),
            ]
        );
    }

    /// The moments a sentence names, in seconds, in the order written ("… later" spans
    /// left out); fails on a time not in [`format::moment`]'s one shape.
    fn times_in(text: &str) -> Vec<f64> {
        let words: Vec<&str> = text.split_whitespace().map(|w| w.trim_end_matches([',', ';', '.', ':', ')'])).collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let (mut t, mut j, mut units) = (0.0, i, Vec::new());
            while j + 1 < words.len() {
                let Ok(v) = words[j].parse::<f64>() else { break };
                let scale = match words[j + 1] {
                    "h" => 3600.0,
                    "min" => 60.0,
                    "s" => 1.0,
                    "ms" | "µs" => panic!("a time in {} in {text:?}", words[j + 1]),
                    _ => break,
                };
                t += v * scale;
                units.push(words[j + 1]);
                j += 2;
            }
            if units.is_empty() {
                i += 1;
                continue;
            }
            if units == ["s"] {
                assert!(t < 60.0, "{t} s is not written in minutes in {text:?}");
            } else {
                assert!(!words[j - 2].contains('.'), "whole seconds past a minute in {text:?}");
            }
            if words.get(j) != Some(&"later") {
                out.push(t);
            }
            i = j;
        }
        out
    }

    /// The sum of the numbers written just before `word` ("3 OOM kills": 3 for "OOM").
    fn grouped(text: &str, word: &str) -> u64 {
        let words: Vec<&str> = text.split_whitespace().collect();
        words.windows(2).filter(|w| w[1] == word).filter_map(|w| w[0].parse::<u64>().ok()).sum()
    }

    /// The notes pending, as they would be told one by one.
    fn texts(n: &Narrator) -> Vec<String> {
        n.pending.iter().map(|x| format!("{}: {}.", at(x.t), x.body)).collect()
    }

    /// Plays `id` at `speed` for `until_s` simulated seconds as the page does (frames of
    /// 1/60 s, the trace of each handed to the narrator, announcements polled on the wall
    /// clock); returns what was said and the whole trace.
    fn play(id: &str, speed: f64, until_s: f64) -> (Vec<String>, Vec<TraceEvent>) {
        let mut d = crate::driver::Driver::new(&bplab_engine::preset(id).unwrap()).unwrap();
        d.set_playing(true);
        d.set_speed(speed);
        let mut n = Narrator::new();
        let (mut said, mut trace) = (Vec::new(), Vec::new());
        let (mut wall, frame) = (0.0, 1.0 / 60.0);
        while d.sim().now_s() < until_s {
            wall += frame;
            d.frame(frame, u64::MAX);
            let tr = d.take_trace();
            n.ingest(&tr);
            n.observe(&d.sim().snapshot());
            trace.extend(tr);
            said.extend(n.poll(wall));
        }
        // What is still pending comes out at the next announcement.
        said.extend(n.poll(wall + MIN_GAP_WALL_S));
        assert!(n.pending.is_empty());
        (said, trace)
    }

    #[test]
    fn at_100x_and_1000x_every_kill_restart_and_rebalance_is_told_in_order_in_one_time_format() {
        for (id, speed) in [("incident-106", 100.0), ("consumer-group", 100.0), ("consumer-group", 1_000.0)] {
            let (said, trace) = play(id, speed, 1_800.0);
            let count = |f: fn(&TraceKind) -> bool| trace.iter().filter(|e| f(&e.kind)).count() as u64;
            let kills = count(|k| matches!(k, TraceKind::OomKill { .. }));
            let restarts = count(|k| matches!(k, TraceKind::Restarted { .. }));
            let rebalances = count(|k| matches!(k, TraceKind::Rebalance));
            assert!(kills >= 3 && restarts >= 3, "{id}: {kills} kills, {restarts} restarts");
            let all = format!("{id} at {speed}×:\n{}", said.join("\n"));
            let kills_told = |s: &String| grouped(s, "OOM") + s.matches("was OOM-killed").count() as u64;
            assert_eq!(said.iter().map(kills_told).sum::<u64>(), kills, "{all}");
            let restarts_told: u64 = said
                .iter()
                .map(|s| {
                    let each = if s.contains("each restarted") { grouped(s, "OOM") } else { 0 };
                    grouped(s, "restarts") + (s.matches(" restarted.").count() + s.matches("it restarted").count()) as u64 + each
                })
                .sum();
            assert_eq!(restarts_told, restarts, "{all}");
            let rebalances_told: u64 = said.iter().map(|s| grouped(s, "rebalances") + s.matches("is rebalancing").count() as u64).sum();
            assert_eq!(rebalances_told, rebalances, "{all}");
            // In order: each announcement tells only what happened after the one before.
            let spans: Vec<(f64, f64)> = said
                .iter()
                .map(|s| {
                    let t = times_in(s);
                    assert!(!t.is_empty(), "no time in {s:?}");
                    (t.iter().copied().fold(f64::INFINITY, f64::min), t.iter().copied().fold(0.0, f64::max))
                })
                .collect();
            assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0), "{spans:?}\n{all}");
            if id == "consumer-group" {
                assert!(rebalances >= 3);
                assert!(said.iter().any(|s| s.contains("OOM kills between")), "crowded kills are told together:\n{all}");
            }
        }
    }

    #[test]
    fn the_producers_kills_and_restarts_are_told_one_by_one_and_together_when_they_crowd() {
        for (speed, until_s) in [(10.0, 120.0), (1_000.0, 1_200.0)] {
            let (said, trace) = play("buffer-bloat", speed, until_s);
            let count = |f: fn(&TraceKind) -> bool| trace.iter().filter(|e| f(&e.kind)).count() as u64;
            let kills = count(|k| matches!(k, TraceKind::ProducerOomKill { .. }));
            let restarts = count(|k| matches!(k, TraceKind::ProducerRestarted));
            assert!(kills >= 2 && restarts >= 2, "{kills} kills, {restarts} restarts");
            let all = format!("buffer-bloat at {speed}×:\n{}", said.join("\n"));
            // "3 producer OOM kills", "2 producer restarts": the number before the words.
            let n_before = |s: &str, what: &str| -> u64 {
                let w: Vec<&str> = s.split_whitespace().collect();
                w.windows(3).filter(|w| w[1] == "producer" && w[2] == what).filter_map(|w| w[0].parse::<u64>().ok()).sum()
            };
            let kills_told: u64 = said.iter().map(|s| n_before(s, "OOM") + s.matches("the producer was OOM-killed").count() as u64).sum();
            assert_eq!(kills_told, kills, "{all}");
            let restarts_told: u64 = said
                .iter()
                .map(|s| {
                    let each = if s.contains("each restarted") { n_before(s, "OOM") } else { 0 };
                    n_before(s, "restarts")
                        + (s.matches("the producer restarted").count() + s.matches("it restarted").count()) as u64
                        + each
                })
                .sum();
            assert_eq!(restarts_told, restarts, "{all}");
            assert!(!said.iter().any(|s| s.contains("consumer 1 was OOM-killed")), "the consumer holds one message: {all}");
            if speed == 10.0 {
                assert!(said[0].starts_with("At 48.3 s: the producer was OOM-killed"), "{all}");
                assert!(said.iter().any(|s| s.contains("At 58.3 s: the producer restarted")), "{all}");
            } else {
                assert!(said.iter().any(|s| s.contains("producer OOM kills between")), "crowded kills are told together:\n{all}");
            }
        }
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
        let said = texts(&n).first().cloned().expect("retention deleted nothing in 150 s");
        assert!(said.contains("retention deleted") && said.contains("lost"), "{said}");
        assert!(sim.summary().lost_by_cause.retention > 0);
        // Ongoing deletion is not news again until it has been quiet.
        n.pending.clear();
        sim.run_until(t + 5.0, u64::MAX);
        n.observe(&sim.snapshot());
        assert!(n.pending.is_empty(), "{:?}", texts(&n));
    }
}
