//! Backpressure Lab's engine: a deterministic discrete-event simulation of a producer, a
//! chain of buffers and topics, and a consumer, built to show how flow control (or its
//! absence) decides where a backlog accumulates and what it costs.
//!
//! The crate has no IO, no wall clock and no web dependency; it builds for native targets
//! and for `wasm32-unknown-unknown`. The flow is one-way:
//! [`Scenario`] (validated plain data) → [`Simulation`] (stepped by its owner) →
//! [`Snapshot`] / [`Series`] / [`Summary`] (plain data for views).
//!
//! Teaching sits on top of a finished run: [`goal`] checks conditions on its summary and
//! series (`lost == 0`, `heap_bytes <= 512 MiB`), [`challenge`] grades a solution to a
//! challenge (locked knobs, goals, a run digest) and [`lesson`] reads and checks lesson
//! files, so the page and the CLI give the same verdicts.
//!
//! Memory is bounded by design: messages travel as runs ([`seg::Seg`]) in bounded queues,
//! and the time series is downsampled, so neither a backlog of 10^9 messages nor a 24-hour
//! run grows the footprint.

pub mod challenge;
mod consumer;
pub mod control;
pub mod diff;
pub mod event;
pub mod experiment;
pub mod export;
pub mod goal;
pub mod hist;
pub mod lesson;
mod link;
pub mod markup;
pub mod presets;
mod producer;
pub mod rangeset;
pub mod scenario;
pub mod seg;
pub mod series;
pub mod service;
mod shed;
pub mod sim;
pub mod snapshot;
mod stage;
pub mod sweep;
pub mod theory;
pub mod time;
mod topic;
pub mod traffic;
pub mod validate;

pub use presets::{preset, Family, Preset, PRESETS};
pub use scenario::{
    AimdLimiterSpec, AimdThrottleSpec, Arrivals, ChannelSpec, Commit, ConsumerSpec, DownstreamSpec, FetchSpec, FieldError, FilterSpec,
    FlowControl, KafkaProducerSpec, LimiterSpec, LinkSpec, MapSpec, MemorySpec, Mode, OnFull, Ordering, Pattern, PauseSpec,
    ProducerMemorySpec, ProducerSpec, Scenario, ScenarioError, ServiceDist, ShedSpec, SimSettings, SlowMessage, StageSpec, ThrottleSpec,
    TopicSpec,
};
pub use series::{Point, Series};
pub use sim::{RunStatus, Simulation};
pub use snapshot::{
    ConsumerView, DropCause, DroppedBy, Ledger, LossCause, LostByCause, MemberView, PartitionView, ProducerView, Snapshot, StageView,
    Summary, TraceEvent, TraceKind, WindowView,
};
