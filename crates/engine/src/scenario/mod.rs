//! The scenario: plain serde data describing one pipeline, and its validation.
//!
//! A scenario is a producer, a chain of zero or more stages and a consumer (group). Stages
//! are bounded or unbounded channels, Reactive Streams operators (`map`, `filter`), a Kafka
//! producer client, and at most one topic, which must come last. Every stage (and the
//! consumer) says how messages enter it in its `link`: the flow control on that link
//! (none, credits, `request(n)`) and what the sender does when the receiver is full
//! (block, optionally with a timeout; drop newest; drop oldest; fail).
//!
//! Every number has its unit in its name. The only errors the engine ever returns are
//! [`ScenarioError`]s from [`Scenario::validate`]: each names the field (as a dotted path
//! that `bplab run --set` accepts) and the allowed range. `docs/scenario.md` documents
//! every field.

mod consumer;
pub mod control;
mod link;
pub mod pattern;
mod stage;
mod tagged;

pub use crate::validate::{FieldError, ScenarioError};
pub use consumer::{Commit, ConsumerSpec, DownstreamSpec, FetchSpec, MemorySpec, Mode, Ordering, PauseSpec, ServiceDist, SlowMessage};
pub use control::{AimdLimiterSpec, AimdThrottleSpec, Gradient2LimiterSpec, LimiterSpec, PidThrottleSpec, ThrottleSpec, VegasLimiterSpec};
pub use link::{FlowControl, LinkSpec, OnFull, ShedSpec};
pub use pattern::{Arrivals, Pattern};
pub use stage::{ChannelSpec, FilterSpec, KafkaProducerSpec, MapSpec, StageSpec, TopicSpec};

use crate::validate::Check;
use serde::{Deserialize, Serialize};

/// One complete, self-contained experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scenario {
    /// Seed of every random stream (arrivals, service times, drops); same seed, same run.
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
    /// Arrivals (and completions) closer together than this are handled together as one
    /// run; 0 handles every message alone (exact, slower at high rates).
    pub resolution_ms: f64,
    /// Simulated time between two points of the time series.
    pub sample_interval_ms: f64,
    /// Points kept; beyond this the series is halved (neighbours merged) and the interval doubles.
    pub max_points: u32,
}

/// A push producer: it sends as fast as its source produces and only slows down when a
/// send blocks, or when a throttle lowers its rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProducerSpec {
    /// Base rate; the pattern modulates it and a throttle may lower it.
    pub rate_per_s: f64,
    pub arrivals: Arrivals,
    pub pattern: Pattern,
    /// Size of one message on the wire (Kafka producer buffer, batches, retention, fetches).
    pub message_bytes: u64,
    /// Dynamic throttling of the producer from the consumer's lag.
    pub throttle: Option<ThrottleSpec>,
    /// The producer process's heap: what it holds, and an optional limit.
    pub memory: ProducerMemorySpec,
}

/// The producer process's heap: a baseline plus `message_bytes` for every message it holds
/// (its pending send and everything in the stages before the topic: channels and the Kafka
/// client's buffer live in its process). Past an optional limit the process is OOM-killed:
/// everything it held is lost, and it produces again after `restart_delay_s`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProducerMemorySpec {
    /// Heap in use before any message.
    pub baseline_mib: f64,
    /// Past this the producer is OOM-killed; absent = no limit.
    pub heap_limit_mib: Option<f64>,
    /// Time from a kill until the producer produces again.
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
                StageSpec::Channel(ChannelSpec { capacity: Some(10_000), ..ChannelSpec::default() }),
                StageSpec::Topic(TopicSpec::default()),
            ],
            consumer: ConsumerSpec::default(),
        }
    }
}

impl Default for SimSettings {
    fn default() -> Self {
        SimSettings { resolution_ms: 1.0, sample_interval_ms: 100.0, max_points: 2_000 }
    }
}

impl Default for ProducerSpec {
    fn default() -> Self {
        ProducerSpec {
            rate_per_s: 10_000.0,
            arrivals: Arrivals::Constant,
            pattern: Pattern::default(),
            message_bytes: 1_024,
            throttle: None,
            memory: ProducerMemorySpec::default(),
        }
    }
}

impl Default for ProducerMemorySpec {
    fn default() -> Self {
        ProducerMemorySpec { baseline_mib: 64.0, heap_limit_mib: None, restart_delay_s: 10.0 }
    }
}

/// Allowed ranges, shared by validation, the CLI and the page's sliders.
pub mod limits {
    pub const RATE_PER_S: (f64, f64) = (0.001, 10_000_000.0);
    pub const MESSAGE_BYTES: (u64, u64) = (1, 104_857_600);
    pub const CHANNEL_CAPACITY: (u64, u64) = (1, 1_000_000_000);
    pub const PARTITIONS: (u64, u64) = (1, 1_024);
    pub const FETCH_LATENCY_MS: (f64, f64) = (0.0, 10_000.0);
    pub const LATENCY_MS: (f64, f64) = (0.0, 60_000.0);
    pub const WINDOW: (u64, u64) = (1, 1_000_000_000);
    pub const BLOCK_TIMEOUT_MS: (f64, f64) = (0.0, 3_600_000.0);
    pub const PASS_RATIO: (f64, f64) = (0.001, 1.0);
    pub const AGE_MS: (f64, f64) = (0.001, 86_400_000.0);
    pub const PROBABILITY: (f64, f64) = (0.0, 1.0);
    pub const EWMA_WEIGHT: (f64, f64) = (0.000_001, 1.0);
    pub const BUFFER_BYTES: (u64, u64) = (1, 1_099_511_627_776);
    pub const LINGER_MS: (f64, f64) = (0.0, 60_000.0);
    pub const RETENTION_MS: (f64, f64) = (1.0, 31_536_000_000.0);
    pub const MAX_POLL_RECORDS: (u64, u64) = (1, 1_000_000);
    pub const MEMBERS: (u64, u64) = (1, 64);
    pub const WORKERS: (u64, u64) = (1, 10_000);
    pub const RATE_PER_WORKER: (f64, f64) = (0.001, 10_000_000.0);
    pub const SIGMA: (f64, f64) = (0.01, 3.0);
    pub const SLOW_FACTOR: (f64, f64) = (1.0, 1_000_000.0);
    pub const AUTO_COMMIT_INTERVAL_MS: (f64, f64) = (1.0, 3_600_000.0);
    pub const POLL_TIMEOUT_MS: (f64, f64) = (1.0, 60_000.0);
    pub const MAX_POLL_INTERVAL_MS: (f64, f64) = (1.0, 86_400_000.0);
    pub const REBALANCE_MS: (f64, f64) = (0.0, 600_000.0);
    pub const SLOTS: (u64, u64) = (1, 100_000);
    pub const BASELINE_MIB: (f64, f64) = (0.0, 1_048_576.0);
    pub const BYTES_PER_MESSAGE: (u64, u64) = (0, 1_073_741_824);
    pub const HEAP_LIMIT_MIB: (f64, f64) = (1.0, 1_048_576.0);
    pub const RESTART_DELAY_S: (f64, f64) = (0.0, 3_600.0);
    pub const RESOLUTION_MS: (f64, f64) = (0.0, 100.0);
    pub const SAMPLE_INTERVAL_MS: (f64, f64) = (1.0, 3_600_000.0);
    pub const MAX_POINTS: (u64, u64) = (16, 1_000_000);
    pub const DURATION_S: (f64, f64) = (0.001, 31_536_000.0);
    pub const TIME_S: (f64, f64) = (0.0, 31_536_000.0);
    pub const STAGES: usize = 16;
}

impl Scenario {
    /// Reads a scenario from any serde format; a malformed document gives an error naming
    /// the field (dotted path) where it went wrong. Does not validate ranges.
    pub fn deserialize_named<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Scenario, ScenarioError> {
        serde_path_to_error::deserialize(d).map_err(|e| {
            let path = e.path().to_string();
            let (field, message) = Scenario::error_field(&path, &e.into_inner().to_string());
            let field = if field.is_empty() { "(scenario)".to_string() } else { field };
            ScenarioError { errors: vec![FieldError { field, message }] }
        })
    }

    /// The dotted path of a deserialisation error and its message, from the path
    /// `serde_path_to_error` gives (`stages[1].link`) and the error's message, which may name
    /// a key inside a tagged object read ahead of its `kind` (see `tagged`). The path is
    /// empty for the document itself.
    pub fn error_field(path: &str, message: &str) -> (String, String) {
        let path = path.replace('[', ".").replace(']', "");
        let path = if path == "." { String::new() } else { path };
        let join = |a: &str, b: &str| if a.is_empty() { b.to_string() } else { format!("{a}.{b}") };
        let (path, message) = match tagged::split_marked(message) {
            Some((inner, m)) => (join(&path, &inner), m),
            None => (path, message.to_string()),
        };
        // An unknown key is named by its own path, not only its object's.
        let unknown = message.strip_prefix("unknown field `").and_then(|r| r.split_once('`')).map(|(k, _)| k.to_string());
        match unknown {
            Some(key) if !path.ends_with(&format!(".{key}")) && path != key => (join(&path, &key), message),
            _ => (path, message),
        }
    }

    /// Parses and validates a JSON scenario.
    pub fn from_json(text: &str) -> Result<Scenario, ScenarioError> {
        let s = Scenario::deserialize_named(&mut serde_json::Deserializer::from_str(text))?;
        s.validate()?;
        Ok(s)
    }

    /// Checks every field; on failure lists every problem, each naming its field and range.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        use limits::*;
        let mut errors = Vec::new();
        let mut c = Check::new(&mut errors);
        c.float("duration_s", self.duration_s, DURATION_S, "s");
        c.float("sim.resolution_ms", self.sim.resolution_ms, RESOLUTION_MS, "ms");
        c.float("sim.sample_interval_ms", self.sim.sample_interval_ms, SAMPLE_INTERVAL_MS, "ms");
        c.int("sim.max_points", self.sim.max_points as u64, MAX_POINTS, "points");

        let p = &self.producer;
        c.float("producer.rate_per_s", p.rate_per_s, RATE_PER_S, "msg/s");
        c.int("producer.message_bytes", p.message_bytes, MESSAGE_BYTES, "bytes");
        p.pattern.check(&mut c, "producer.pattern");
        if let Some(t) = &p.throttle {
            t.check(&mut c, "producer.throttle");
        }
        let pm = &p.memory;
        c.float("producer.memory.baseline_mib", pm.baseline_mib, BASELINE_MIB, "MiB");
        c.float("producer.memory.restart_delay_s", pm.restart_delay_s, RESTART_DELAY_S, "s");
        if let Some(limit) = pm.heap_limit_mib {
            c.float("producer.memory.heap_limit_mib", limit, HEAP_LIMIT_MIB, "MiB");
            if pm.baseline_mib.is_finite() && limit.is_finite() && pm.baseline_mib >= limit {
                c.fail(
                    "producer.memory.baseline_mib",
                    format!(
                        "must be below producer.memory.heap_limit_mib ({limit} MiB), or the producer dies at start (got {})",
                        pm.baseline_mib
                    ),
                );
            }
        }

        if self.stages.len() > STAGES {
            c.fail("stages", format!("at most {STAGES} stages (got {})", self.stages.len()));
        }
        let n = self.stages.len();
        for (i, stage) in self.stages.iter().enumerate() {
            let at = format!("stages.{i}");
            let next = self.stages.get(i + 1);
            match stage {
                StageSpec::Channel(ch) => {
                    if let Some(cap) = ch.capacity {
                        c.int(&format!("{at}.capacity"), cap, CHANNEL_CAPACITY, "messages");
                    }
                    ch.link.check(&mut c, &format!("{at}.link"), ch.capacity.is_some());
                    if let Some(s) = &ch.shed {
                        s.check(&mut c, &format!("{at}.shed"));
                    }
                }
                StageSpec::Map(m) => {
                    m.link.check(&mut c, &format!("{at}.link"), false);
                    m.link.check_operator(&mut c, &format!("{at}.link"));
                }
                StageSpec::Filter(f) => {
                    c.float(&format!("{at}.pass_ratio"), f.pass_ratio, PASS_RATIO, "");
                    f.link.check(&mut c, &format!("{at}.link"), false);
                    f.link.check_operator(&mut c, &format!("{at}.link"));
                }
                StageSpec::KafkaProducer(k) => {
                    c.int(&format!("{at}.buffer_memory_bytes"), k.buffer_memory_bytes, BUFFER_BYTES, "bytes");
                    c.int(&format!("{at}.batch_size_bytes"), k.batch_size_bytes, BUFFER_BYTES, "bytes");
                    c.float(&format!("{at}.linger_ms"), k.linger_ms, LINGER_MS, "ms");
                    c.float(&format!("{at}.max_block_ms"), k.max_block_ms, BLOCK_TIMEOUT_MS, "ms");
                    c.float(&format!("{at}.broker_rate_per_s"), k.broker_rate_per_s, RATE_PER_S, "records/s");
                    if k.buffer_memory_bytes < p.message_bytes {
                        c.fail(
                            &format!("{at}.buffer_memory_bytes"),
                            format!(
                                "must hold at least one message of producer.message_bytes ({}) (got {})",
                                p.message_bytes, k.buffer_memory_bytes
                            ),
                        );
                    }
                    if !matches!(next, Some(StageSpec::Topic(_))) {
                        c.fail(&at, "a kafka_producer must be followed by the topic it writes to".into());
                    }
                }
                StageSpec::Topic(t) => {
                    c.int(&format!("{at}.partitions"), t.partitions as u64, PARTITIONS, "partitions");
                    c.float(&format!("{at}.fetch_latency_ms"), t.fetch_latency_ms, FETCH_LATENCY_MS, "ms");
                    if let Some(r) = t.retention_ms {
                        c.float(&format!("{at}.retention_ms"), r, RETENTION_MS, "ms");
                    }
                    if let Some(b) = t.retention_bytes {
                        c.int(&format!("{at}.retention_bytes"), b, BUFFER_BYTES, "bytes");
                    }
                    if i + 1 != n {
                        c.fail(&at, "a topic must be the last stage: the consumer is what reads it".into());
                    }
                }
            }
        }
        let topic = self.topic().is_some();

        let k = &self.consumer;
        k.link.check(&mut c, "consumer.link", false);
        if topic && k.link != LinkSpec::default() {
            c.fail("consumer.link", "a consumer reading a topic polls; its link takes no flow control".into());
        }
        c.int("consumer.members", k.members as u64, MEMBERS, "members");
        if k.members > 1 && !topic {
            c.fail("consumer.members", format!("a group of more than one member needs a topic to share (got {})", k.members));
        }
        c.int("consumer.max_poll_records", k.max_poll_records as u64, MAX_POLL_RECORDS, "records");
        c.int("consumer.workers", k.workers as u64, WORKERS, "workers");
        c.float("consumer.rate_per_worker", k.rate_per_worker, RATE_PER_WORKER, "msg/s");
        k.service.check(&mut c, "consumer.service");
        if let Some(s) = &k.slow_message {
            c.float("consumer.slow_message.at_s", s.at_s, TIME_S, "s");
            c.float("consumer.slow_message.factor", s.factor, SLOW_FACTOR, "×");
        }
        c.float("consumer.auto_commit_interval_ms", k.auto_commit_interval_ms, AUTO_COMMIT_INTERVAL_MS, "ms");
        c.float("consumer.commit_latency_ms", k.commit_latency_ms, LATENCY_MS, "ms");
        c.float("consumer.poll_timeout_ms", k.poll_timeout_ms, POLL_TIMEOUT_MS, "ms");
        c.int("consumer.fetch.max_partition_fetch_bytes", k.fetch.max_partition_fetch_bytes, BUFFER_BYTES, "bytes");
        c.int("consumer.fetch.fetch_max_bytes", k.fetch.fetch_max_bytes, BUFFER_BYTES, "bytes");
        c.float("consumer.max_poll_interval_ms", k.max_poll_interval_ms, MAX_POLL_INTERVAL_MS, "ms");
        c.float("consumer.rebalance_ms", k.rebalance_ms, REBALANCE_MS, "ms");
        if let Some(pz) = &k.pause {
            c.int("consumer.pause.high", pz.high, WINDOW, "messages");
            c.int("consumer.pause.low", pz.low, (0, WINDOW.1), "messages");
            if pz.low >= pz.high {
                c.fail("consumer.pause.low", format!("must be below consumer.pause.high ({}) (got {})", pz.high, pz.low));
            }
            if !topic {
                c.fail("consumer.pause", "pause()/resume() applies to a consumer reading a topic".into());
            }
        }
        if let Some(s) = &k.shed {
            s.check(&mut c, "consumer.shed");
        }
        if let Some(d) = &k.downstream {
            c.int("consumer.downstream.slots", d.slots as u64, SLOTS, "slots");
            c.float("consumer.downstream.rate_per_slot", d.rate_per_slot, RATE_PER_WORKER, "calls/s");
            d.service.check(&mut c, "consumer.downstream.service");
        }
        if let Some(l) = &k.limiter {
            l.check(&mut c, "consumer.limiter");
        }
        let m = &k.memory;
        c.float("consumer.memory.baseline_mib", m.baseline_mib, BASELINE_MIB, "MiB");
        c.int("consumer.memory.bytes_per_message", m.bytes_per_message, BYTES_PER_MESSAGE, "bytes");
        c.float("consumer.memory.heap_limit_mib", m.heap_limit_mib, HEAP_LIMIT_MIB, "MiB");
        c.float("consumer.memory.restart_delay_s", m.restart_delay_s, RESTART_DELAY_S, "s");
        if m.baseline_mib.is_finite() && m.heap_limit_mib.is_finite() && m.baseline_mib >= m.heap_limit_mib {
            c.fail(
                "consumer.memory.baseline_mib",
                format!(
                    "must be below consumer.memory.heap_limit_mib ({} MiB), or the consumer dies at start (got {})",
                    m.heap_limit_mib, m.baseline_mib
                ),
            );
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ScenarioError { errors })
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
        assert!(text.contains("producer.rate_per_s: must be a number from 0.001 to 10000000 msg/s (got NaN)"), "{text}");
        assert!(text.contains("stages.0: a topic must be the last stage"), "{text}");
        assert_eq!(e.errors.len(), 3);
    }

    #[test]
    fn link_and_shed_rules_are_checked() {
        let mut s = Scenario {
            stages: vec![StageSpec::Channel(ChannelSpec {
                capacity: None,
                link: LinkSpec { on_full: OnFull::DropOldest, ..LinkSpec::default() },
                shed: Some(ShedSpec::Red { min_queue: 10, max_queue: 5, max_p: 2.0, weight: 0.1 }),
            })],
            ..Scenario::default()
        };
        s.consumer.link.control = FlowControl::Credit { initial: 10, grant: 20, batch: 5, latency_ms: 1.0 };
        let text = s.validate().unwrap_err().to_string();
        for needle in [
            "stages.0.link.on_full: \"drop_oldest\" needs a bounded receiver",
            "stages.0.shed.max_p: must be a number from 0 to 1 (got 2)",
            "stages.0.shed.min_queue: must be below max_queue (5) (got 10)",
            "consumer.link.control.grant: must not exceed control.initial (10)",
        ] {
            assert!(text.contains(needle), "{needle} not in {text}");
        }
    }

    #[test]
    fn unknown_fields_and_wrong_types_are_rejected() {
        let e = serde_json::from_str::<Scenario>(r#"{"producer": {"rate": 5}}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `rate`"), "{e}");
        let e = serde_json::from_str::<Scenario>(r#"{"stages": [{"kind": "channel", "capacity": 5, "cap": 1}]}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `cap`"), "{e}");
        let e = serde_json::from_str::<Scenario>(r#"{"consumer": {"workers": "four"}}"#).unwrap_err();
        assert!(e.to_string().contains("invalid type: string \"four\", expected u32"), "{e}");
        let e = serde_json::from_str::<Scenario>(r#"{"consumer": {"workers": -1}}"#).unwrap_err();
        assert!(e.to_string().contains("invalid value: integer `-1`"), "{e}");
    }

    #[test]
    fn round_trips_through_json_and_accepts_the_old_commit_name() {
        let s = Scenario::default();
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Scenario>(&text).unwrap(), s);
        let c: Commit = serde_json::from_str("\"after_processing\"").unwrap();
        assert_eq!(c, Commit::Sync);
    }
}
