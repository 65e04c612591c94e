//! The stages between producer and consumer: channels, `map`, `filter`, Kafka's producer
//! client and the topic. (Their checks need the neighbouring stages and the producer, so
//! they are in [`super::Scenario::validate`].)

use super::link::{LinkSpec, ShedSpec};
use serde::{Deserialize, Serialize};

/// A stage between producer and consumer.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StageSpec {
    /// A buffer (Go channel, blocking queue, Reactor `publishOn`/`onBackpressureBuffer`).
    Channel(ChannelSpec),
    /// A Reactive Streams `map`: passes messages (and demand) straight through.
    Map(MapSpec),
    /// A Reactive Streams `filter`: passes `pass_ratio` of the messages; requests one more
    /// upstream for each one it drops, as Reactor's filter does.
    Filter(FilterSpec),
    /// Kafka's producer client: `buffer.memory` of records waiting to be sent in batches to a
    /// broker that accepts `broker_rate_per_s` (ingest capacity or produce quota: the broker
    /// delays its answers, the client sees throttling, not errors). A full buffer blocks
    /// `send()` for up to `max.block.ms`, then the send fails.
    KafkaProducer(KafkaProducerSpec),
    /// A Kafka-like topic: partitions are append-only logs, never full; the consumer pulls.
    Topic(TopicSpec),
}

// Read through `tagged`: errors inside name the innermost field and its line.
impl super::tagged::Tagged for StageSpec {
    const VARIANTS: &'static [&'static str] = &["channel", "map", "filter", "kafka_producer", "topic"];
    fn variant<'de, D: serde::Deserializer<'de>>(tag: &str, rest: D) -> Result<Self, D::Error> {
        match tag {
            "channel" => ChannelSpec::deserialize(rest).map(StageSpec::Channel),
            "map" => MapSpec::deserialize(rest).map(StageSpec::Map),
            "filter" => FilterSpec::deserialize(rest).map(StageSpec::Filter),
            "kafka_producer" => KafkaProducerSpec::deserialize(rest).map(StageSpec::KafkaProducer),
            "topic" => TopicSpec::deserialize(rest).map(StageSpec::Topic),
            _ => unreachable!("checked against VARIANTS"),
        }
    }
}

impl<'de> Deserialize<'de> for StageSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::tagged::deserialize(d)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelSpec {
    /// Messages held before the link's `on_full` applies; absent = unbounded.
    pub capacity: Option<u64>,
    pub link: LinkSpec,
    pub shed: Option<ShedSpec>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct MapSpec {
    pub link: LinkSpec,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilterSpec {
    /// Fraction of messages that pass (0 < pass_ratio ≤ 1).
    pub pass_ratio: f64,
    pub link: LinkSpec,
}

impl Default for FilterSpec {
    fn default() -> Self {
        FilterSpec { pass_ratio: 0.5, link: LinkSpec::default() }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaProducerSpec {
    /// `buffer.memory` (default 32 MiB).
    pub buffer_memory_bytes: u64,
    /// `batch.size` (default 16 KiB).
    pub batch_size_bytes: u64,
    /// `linger.ms` (default 5 ms, Kafka 4.0).
    pub linger_ms: f64,
    /// `max.block.ms` (default 60 s).
    pub max_block_ms: f64,
    /// Records per second the broker accepts from this producer.
    pub broker_rate_per_s: f64,
}

impl Default for KafkaProducerSpec {
    fn default() -> Self {
        KafkaProducerSpec {
            buffer_memory_bytes: 33_554_432,
            batch_size_bytes: 16_384,
            linger_ms: 5.0,
            max_block_ms: 60_000.0,
            broker_rate_per_s: 1_000_000.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TopicSpec {
    /// Partitions; the producer spreads records over them round-robin.
    pub partitions: u32,
    /// Round trip of one fetch from the broker.
    pub fetch_latency_ms: f64,
    /// `retention.ms`: records older than this are deleted, consumed or not.
    pub retention_ms: Option<f64>,
    /// `retention.bytes` per partition: the oldest records go first.
    pub retention_bytes: Option<u64>,
}

impl Default for TopicSpec {
    fn default() -> Self {
        TopicSpec { partitions: 10, fetch_latency_ms: 1.0, retention_ms: None, retention_bytes: None }
    }
}
