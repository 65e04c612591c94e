//! The scenario: plain serde data describing one pipeline, and its validation.
//!
//! A scenario is a producer, a chain of zero or more stages (channels, at most one topic,
//! which must come last) and a consumer. Every number has a unit in its name. The only
//! errors the engine ever returns are [`ScenarioError`]s from [`Scenario::validate`]: each
//! names the field and the allowed range.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One complete, self-contained experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scenario {
    /// Seed of the random streams (Poisson arrivals); same seed, same run.
    pub seed: u64,
    /// How long a headless run lasts, in simulated seconds.
    pub duration_s: f64,
    pub sim: SimSettings,
    pub producer: ProducerSpec,
    /// Stages between producer and consumer, upstream first.
    pub stages: Vec<StageSpec>,
    pub consumer: ConsumerSpec,
}

/// Engine resolution and recording.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimSettings {
    /// Arrivals closer together than this are delivered together (0 = every message alone).
    pub resolution_ms: f64,
    /// Simulated time between two points of the time series.
    pub sample_interval_ms: f64,
    /// Points kept; beyond this the series is halved (neighbours merged) and the interval doubles.
    pub max_points: u32,
}

/// How the producer's messages arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arrivals {
    /// Evenly spaced, exactly `rate_per_s`.
    Constant,
    /// A Poisson process of rate `rate_per_s` (exponential gaps, seeded).
    Poisson,
}

/// A push producer: it sends as fast as its source produces, blocking only when the next
/// stage is a full channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProducerSpec {
    pub rate_per_s: f64,
    pub arrivals: Arrivals,
}

/// A stage between producer and consumer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StageSpec {
    /// A Go-style buffered channel: a full channel blocks the sender.
    Channel(ChannelSpec),
    /// A Kafka-like topic: partitions are append-only logs, never full.
    Topic(TopicSpec),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelSpec {
    /// Messages the channel holds before a send blocks.
    pub capacity: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicSpec {
    /// Partitions; the producer spreads records over them round-robin.
    pub partitions: u32,
    /// Round trip of one fetch from the broker.
    #[serde(default = "default_fetch_latency_ms")]
    pub fetch_latency_ms: f64,
}

fn default_fetch_latency_ms() -> f64 {
    1.0
}

/// How the consumer's poll loop treats a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Poll, process the whole batch, then poll again.
    Sync,
    /// Hand the batch to the workers and poll again at once (`processAsync`).
    Async,
}

/// When offsets are committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Commit {
    /// `enable.auto.commit`: at a poll, once `auto_commit_interval_ms` has passed, the
    /// position of the records polled so far is committed, processed or not.
    Auto,
    /// Only offsets of processed records are committed (after each batch in sync mode,
    /// as processing completes in async mode).
    AfterProcessing,
}

/// The consumer: a poll loop feeding a pool of workers, in a process with a bounded heap.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsumerSpec {
    pub mode: Mode,
    /// `max.poll.records`: records one poll returns at most.
    pub max_poll_records: u32,
    pub workers: u32,
    /// Messages one worker processes per second.
    pub rate_per_worker: f64,
    pub commit: Commit,
    /// `auto.commit.interval.ms`.
    pub auto_commit_interval_ms: f64,
    /// How long a poll waits for data before returning empty.
    pub poll_timeout_ms: f64,
    pub memory: MemorySpec,
}

/// The consumer's heap: a baseline plus a cost per in-flight message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemorySpec {
    pub baseline_mib: f64,
    pub bytes_per_message: u64,
    /// Past this the process is OOM-killed.
    pub heap_limit_mib: f64,
    /// Time from a kill until the consumer polls again.
    pub restart_delay_s: f64,
}

impl Default for Scenario {
    /// The reference incident: `incident-106`.
    fn default() -> Self {
        Scenario {
            seed: 1,
            duration_s: 120.0,
            sim: SimSettings::default(),
            producer: ProducerSpec::default(),
            stages: vec![
                StageSpec::Channel(ChannelSpec { capacity: 10_000 }),
                StageSpec::Topic(TopicSpec {
                    partitions: 10,
                    fetch_latency_ms: 1.0,
                }),
            ],
            consumer: ConsumerSpec::default(),
        }
    }
}

impl Default for SimSettings {
    fn default() -> Self {
        SimSettings {
            resolution_ms: 1.0,
            sample_interval_ms: 100.0,
            max_points: 2_000,
        }
    }
}

impl Default for ProducerSpec {
    fn default() -> Self {
        ProducerSpec {
            rate_per_s: 10_000.0,
            arrivals: Arrivals::Constant,
        }
    }
}

impl Default for ConsumerSpec {
    fn default() -> Self {
        ConsumerSpec {
            mode: Mode::Async,
            max_poll_records: 1_000,
            workers: 1,
            rate_per_worker: 500.0,
            commit: Commit::Auto,
            auto_commit_interval_ms: 5_000.0,
            poll_timeout_ms: 100.0,
            memory: MemorySpec::default(),
        }
    }
}

impl Default for MemorySpec {
    fn default() -> Self {
        MemorySpec {
            baseline_mib: 64.0,
            bytes_per_message: 1_024,
            heap_limit_mib: 512.0,
            restart_delay_s: 10.0,
        }
    }
}

/// One problem with one field.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    /// Dotted path, as `--set` takes it: `consumer.max_poll_records`, `stages.0.capacity`.
    pub field: String,
    /// What is allowed, and what was given.
    pub message: String,
}

/// Everything wrong with a scenario (never empty).
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioError {
    pub errors: Vec<FieldError>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", e.field, e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// Allowed ranges, shared by validation, the CLI and the page's sliders.
pub mod limits {
    pub const RATE_PER_S: (f64, f64) = (0.001, 10_000_000.0);
    pub const CHANNEL_CAPACITY: (u64, u64) = (1, 1_000_000_000);
    pub const PARTITIONS: (u64, u64) = (1, 1_024);
    pub const FETCH_LATENCY_MS: (f64, f64) = (0.0, 10_000.0);
    pub const MAX_POLL_RECORDS: (u64, u64) = (1, 1_000_000);
    pub const WORKERS: (u64, u64) = (1, 10_000);
    pub const RATE_PER_WORKER: (f64, f64) = (0.001, 10_000_000.0);
    pub const AUTO_COMMIT_INTERVAL_MS: (f64, f64) = (1.0, 3_600_000.0);
    pub const POLL_TIMEOUT_MS: (f64, f64) = (1.0, 60_000.0);
    pub const BASELINE_MIB: (f64, f64) = (0.0, 1_048_576.0);
    pub const BYTES_PER_MESSAGE: (u64, u64) = (0, 1_073_741_824);
    pub const HEAP_LIMIT_MIB: (f64, f64) = (1.0, 1_048_576.0);
    pub const RESTART_DELAY_S: (f64, f64) = (0.0, 3_600.0);
    pub const RESOLUTION_MS: (f64, f64) = (0.0, 100.0);
    pub const SAMPLE_INTERVAL_MS: (f64, f64) = (1.0, 3_600_000.0);
    pub const MAX_POINTS: (u64, u64) = (16, 1_000_000);
    pub const DURATION_S: (f64, f64) = (0.001, 31_536_000.0);
    pub const STAGES: usize = 16;
}

struct Check {
    errors: Vec<FieldError>,
}

impl Check {
    fn fail(&mut self, field: &str, message: String) {
        self.errors.push(FieldError {
            field: field.to_string(),
            message,
        });
    }

    fn float(&mut self, field: &str, v: f64, (lo, hi): (f64, f64), unit: &str) {
        if !v.is_finite() || v < lo || v > hi {
            self.fail(
                field,
                format!("must be a number from {lo} to {hi} {unit} (got {v})"),
            );
        }
    }

    fn int(&mut self, field: &str, v: u64, (lo, hi): (u64, u64), unit: &str) {
        if v < lo || v > hi {
            self.fail(
                field,
                format!("must be a whole number from {lo} to {hi} {unit} (got {v})"),
            );
        }
    }
}

impl Scenario {
    /// Checks every field; on failure lists every problem, each naming its field and range.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        use limits::*;
        let mut c = Check { errors: Vec::new() };
        c.float("duration_s", self.duration_s, DURATION_S, "s");
        c.float(
            "sim.resolution_ms",
            self.sim.resolution_ms,
            RESOLUTION_MS,
            "ms",
        );
        c.float(
            "sim.sample_interval_ms",
            self.sim.sample_interval_ms,
            SAMPLE_INTERVAL_MS,
            "ms",
        );
        c.int(
            "sim.max_points",
            self.sim.max_points as u64,
            MAX_POINTS,
            "points",
        );
        c.float(
            "producer.rate_per_s",
            self.producer.rate_per_s,
            RATE_PER_S,
            "msg/s",
        );
        if self.stages.len() > STAGES {
            c.fail(
                "stages",
                format!("at most {STAGES} stages (got {})", self.stages.len()),
            );
        }
        for (i, stage) in self.stages.iter().enumerate() {
            match stage {
                StageSpec::Channel(ch) => c.int(
                    &format!("stages.{i}.capacity"),
                    ch.capacity,
                    CHANNEL_CAPACITY,
                    "messages",
                ),
                StageSpec::Topic(t) => {
                    c.int(
                        &format!("stages.{i}.partitions"),
                        t.partitions as u64,
                        PARTITIONS,
                        "partitions",
                    );
                    c.float(
                        &format!("stages.{i}.fetch_latency_ms"),
                        t.fetch_latency_ms,
                        FETCH_LATENCY_MS,
                        "ms",
                    );
                    if i + 1 != self.stages.len() {
                        c.fail(
                            &format!("stages.{i}"),
                            "a topic must be the last stage: the consumer is what reads it".into(),
                        );
                    }
                }
            }
        }
        let k = &self.consumer;
        c.int(
            "consumer.max_poll_records",
            k.max_poll_records as u64,
            MAX_POLL_RECORDS,
            "records",
        );
        c.int("consumer.workers", k.workers as u64, WORKERS, "workers");
        c.float(
            "consumer.rate_per_worker",
            k.rate_per_worker,
            RATE_PER_WORKER,
            "msg/s",
        );
        c.float(
            "consumer.auto_commit_interval_ms",
            k.auto_commit_interval_ms,
            AUTO_COMMIT_INTERVAL_MS,
            "ms",
        );
        c.float(
            "consumer.poll_timeout_ms",
            k.poll_timeout_ms,
            POLL_TIMEOUT_MS,
            "ms",
        );
        let m = &k.memory;
        c.float(
            "consumer.memory.baseline_mib",
            m.baseline_mib,
            BASELINE_MIB,
            "MiB",
        );
        c.int(
            "consumer.memory.bytes_per_message",
            m.bytes_per_message,
            BYTES_PER_MESSAGE,
            "bytes",
        );
        c.float(
            "consumer.memory.heap_limit_mib",
            m.heap_limit_mib,
            HEAP_LIMIT_MIB,
            "MiB",
        );
        c.float(
            "consumer.memory.restart_delay_s",
            m.restart_delay_s,
            RESTART_DELAY_S,
            "s",
        );
        if m.baseline_mib.is_finite()
            && m.heap_limit_mib.is_finite()
            && m.baseline_mib >= m.heap_limit_mib
        {
            c.fail(
                "consumer.memory.baseline_mib",
                format!(
                    "must be below consumer.memory.heap_limit_mib ({} MiB), or the consumer dies at start (got {})",
                    m.heap_limit_mib, m.baseline_mib
                ),
            );
        }
        if c.errors.is_empty() {
            Ok(())
        } else {
            Err(ScenarioError { errors: c.errors })
        }
    }

    /// The topic, if the pipeline has one.
    pub fn topic(&self) -> Option<&TopicSpec> {
        self.stages.iter().find_map(|s| match s {
            StageSpec::Topic(t) => Some(t),
            _ => None,
        })
    }

    /// The first channel, if any.
    pub fn channel(&self) -> Option<&ChannelSpec> {
        self.stages.iter().find_map(|s| match s {
            StageSpec::Channel(c) => Some(c),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        Scenario::default().validate().unwrap();
    }

    #[test]
    fn errors_name_field_and_range() {
        let mut s = Scenario::default();
        s.consumer.max_poll_records = 0;
        s.producer.rate_per_s = f64::NAN;
        s.stages.reverse();
        let e = s.validate().unwrap_err();
        let text = e.to_string();
        assert!(text.contains("consumer.max_poll_records: must be a whole number from 1 to 1000000 records (got 0)"), "{text}");
        assert!(
            text.contains(
                "producer.rate_per_s: must be a number from 0.001 to 10000000 msg/s (got NaN)"
            ),
            "{text}"
        );
        assert!(
            text.contains("stages.0: a topic must be the last stage"),
            "{text}"
        );
        assert_eq!(e.errors.len(), 3);
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let e = serde_json::from_str::<Scenario>(r#"{"producer": {"rate": 5}}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `rate`"), "{e}");
        let e = serde_json::from_str::<Scenario>(
            r#"{"stages": [{"kind": "channel", "capacity": 5, "cap": 1}]}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown field `cap`"), "{e}");
    }

    #[test]
    fn round_trips_through_json() {
        let s = Scenario::default();
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Scenario>(&text).unwrap(), s);
    }
}
