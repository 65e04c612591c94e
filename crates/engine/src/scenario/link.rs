//! How messages enter a stage or the consumer: the link's flow control (none, credits,
//! `request(n)`), what a sender does when the receiver is full, and load shedding at the
//! receiver; with their checks.

use super::limits::*;
use crate::validate::Check;
use serde::{Deserialize, Serialize};

/// Flow control on a link: who decides how much the sender may send.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FlowControl {
    /// Only the receiver's capacity limits the sender. (An empty struct variant, not a unit
    /// one: serde ignores unknown keys beside a unit variant's tag.)
    None {},
    /// Credit-based: the sender holds credits and spends one per message; every send is a
    /// batch of exactly `batch` messages, sent while it holds at least `batch` credits; the
    /// receiver grants `grant` credits back each time it has finished `grant` messages;
    /// grants travel back in `latency_ms`. See docs/scenario.md for the whole rule.
    Credit { initial: u64, grant: u64, batch: u64, latency_ms: f64 },
    /// Reactive Streams `request(n)`: the receiver requests `prefetch` up front and, each time
    /// `replenish` × prefetch of them have been consumed, requests that many again (Reactor's
    /// `limitRate(high, low)` with low = 75% of high by default). Requests take `latency_ms`.
    Request { prefetch: u64, replenish: f64, latency_ms: f64 },
}

// Read through `tagged`, each variant from a struct of its own: errors inside name the
// innermost field and its line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoneDe {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreditDe {
    initial: u64,
    grant: u64,
    batch: u64,
    latency_ms: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestDe {
    prefetch: u64,
    replenish: f64,
    latency_ms: f64,
}

impl super::tagged::Tagged for FlowControl {
    const VARIANTS: &'static [&'static str] = &["none", "credit", "request"];
    fn variant<'de, D: serde::Deserializer<'de>>(tag: &str, rest: D) -> Result<Self, D::Error> {
        Ok(match tag {
            "none" => {
                NoneDe::deserialize(rest)?;
                FlowControl::None {}
            }
            "credit" => {
                let CreditDe { initial, grant, batch, latency_ms } = CreditDe::deserialize(rest)?;
                FlowControl::Credit { initial, grant, batch, latency_ms }
            }
            "request" => {
                let RequestDe { prefetch, replenish, latency_ms } = RequestDe::deserialize(rest)?;
                FlowControl::Request { prefetch, replenish, latency_ms }
            }
            _ => unreachable!("checked against VARIANTS"),
        })
    }
}

impl<'de> Deserialize<'de> for FlowControl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::tagged::deserialize(d)
    }
}

impl Default for FlowControl {
    fn default() -> Self {
        FlowControl::None {}
    }
}

/// What a sender does when the receiver cannot take a message now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OnFull {
    /// Wait (a Go channel send, a blocking queue's `put`); see `block_timeout_ms`.
    #[default]
    Block,
    /// Discard the message being sent.
    DropNewest,
    /// Make room by discarding the oldest message held by the receiver (bounded receivers only).
    DropOldest,
    /// The send fails at once (the caller sees an error; the message is gone).
    Fail,
}

/// How messages enter a stage or the consumer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct LinkSpec {
    pub control: FlowControl,
    pub on_full: OnFull,
    /// With `on_full = "block"`: a send blocked longer than this fails (like `max.block.ms`).
    pub block_timeout_ms: Option<f64>,
}

/// Load shedding: dropping work early, on purpose, to protect latency.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ShedSpec {
    /// Drop arrivals while the queue holds `max_queue` or more.
    QueueLength { max_queue: u64 },
    /// Drop queued messages older than `max_age_ms` instead of starting them (a deadline).
    Deadline { max_age_ms: f64 },
    /// Random early detection: drop arrivals with a probability rising linearly from 0 at
    /// `min_queue` to `max_p` at `max_queue` (and 1 above), on an EWMA of the queue length
    /// with weight `weight`.
    Red { min_queue: u64, max_queue: u64, max_p: f64, weight: f64 },
}

/// [`ShedSpec`] without its tag, read through `tagged`: errors inside name the innermost field
/// and its line.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum ShedSpecDe {
    QueueLength { max_queue: u64 },
    Deadline { max_age_ms: f64 },
    Red { min_queue: u64, max_queue: u64, max_p: f64, weight: f64 },
}

impl super::tagged::Tagged for ShedSpec {
    const VARIANTS: &'static [&'static str] = &["queue_length", "deadline", "red"];
    fn variant<'de, D: serde::Deserializer<'de>>(tag: &str, rest: D) -> Result<Self, D::Error> {
        Ok(match ShedSpecDe::deserialize(super::tagged::Variant::new(tag, rest))? {
            ShedSpecDe::QueueLength { max_queue } => ShedSpec::QueueLength { max_queue },
            ShedSpecDe::Deadline { max_age_ms } => ShedSpec::Deadline { max_age_ms },
            ShedSpecDe::Red { min_queue, max_queue, max_p, weight } => ShedSpec::Red { min_queue, max_queue, max_p, weight },
        })
    }
}

impl<'de> Deserialize<'de> for ShedSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::tagged::deserialize(d)
    }
}

impl LinkSpec {
    /// Checks the link into a receiver (`bounded`: a channel with a capacity).
    pub(crate) fn check(&self, c: &mut Check<'_>, at: &str, bounded: bool) {
        let link = self;
        match &link.control {
            FlowControl::None {} => {}
            FlowControl::Credit { initial, grant, batch, latency_ms } => {
                c.int(&format!("{at}.control.initial"), *initial, WINDOW, "credits");
                c.int(&format!("{at}.control.grant"), *grant, WINDOW, "credits");
                c.int(&format!("{at}.control.batch"), *batch, WINDOW, "messages");
                c.float(&format!("{at}.control.latency_ms"), *latency_ms, LATENCY_MS, "ms");
                if *batch > *initial {
                    c.fail(
                        &format!("{at}.control.batch"),
                        format!("must not exceed control.initial ({initial}), or nothing is ever sent (got {batch})"),
                    );
                }
                if *grant > *initial {
                    c.fail(
                        &format!("{at}.control.grant"),
                        format!("must not exceed control.initial ({initial}), or credits run dry (got {grant})"),
                    );
                }
            }
            FlowControl::Request { prefetch, replenish, latency_ms } => {
                c.int(&format!("{at}.control.prefetch"), *prefetch, WINDOW, "messages");
                c.float(&format!("{at}.control.replenish"), *replenish, (0.01, 1.0), "of prefetch");
                c.float(&format!("{at}.control.latency_ms"), *latency_ms, LATENCY_MS, "ms");
            }
        }
        if let Some(t) = link.block_timeout_ms {
            c.float(&format!("{at}.block_timeout_ms"), t, BLOCK_TIMEOUT_MS, "ms");
        }
        if link.on_full == OnFull::DropOldest && !bounded {
            c.fail(&format!("{at}.on_full"), "\"drop_oldest\" needs a bounded receiver (a channel with a capacity)".into());
        }
    }

    /// Operators hold nothing: demand passes through them, so flow control belongs on the
    /// buffer or consumer after them.
    pub(crate) fn check_operator(&self, c: &mut Check<'_>, at: &str) {
        let link = self;
        if !matches!(link.control, FlowControl::None { .. }) {
            c.fail(
                &format!("{at}.control"),
                "map and filter pass demand through: put credits or request(n) on the channel or consumer after them".into(),
            );
        }
    }
}

impl ShedSpec {
    pub(crate) fn check(&self, c: &mut Check<'_>, at: &str) {
        let shed = self;
        match shed {
            ShedSpec::QueueLength { max_queue } => c.int(&format!("{at}.max_queue"), *max_queue, CHANNEL_CAPACITY, "messages"),
            ShedSpec::Deadline { max_age_ms } => c.float(&format!("{at}.max_age_ms"), *max_age_ms, AGE_MS, "ms"),
            ShedSpec::Red { min_queue, max_queue, max_p, weight } => {
                c.int(&format!("{at}.min_queue"), *min_queue, (0, CHANNEL_CAPACITY.1), "messages");
                c.int(&format!("{at}.max_queue"), *max_queue, CHANNEL_CAPACITY, "messages");
                c.float(&format!("{at}.max_p"), *max_p, PROBABILITY, "");
                c.float(&format!("{at}.weight"), *weight, EWMA_WEIGHT, "");
                if min_queue >= max_queue {
                    c.fail(&format!("{at}.min_queue"), format!("must be below max_queue ({max_queue}) (got {min_queue})"));
                }
            }
        }
    }
}
