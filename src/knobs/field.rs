//! The knob table's types: sections, stage kinds, scopes and scales; a numeric [`Knob`]
//! (its slider mapping and the parsing of typed values) and a [`Choice`]. Pure.

use crate::format;
use bplab_engine::{Scenario, StageSpec};

/// Positions of a range input (0 ..= SLIDER_STEPS).
pub const SLIDER_STEPS: f64 = 1_000.0;

/// The index that addresses the consumer's link or shedding instead of a stage's.
pub const CONSUMER: usize = usize::MAX;

/// The groups of the control panel, in the order they appear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Traffic,
    Throttle,
    /// The producer process's heap and its OOM kills.
    ProducerMemory,
    /// How messages reach the consumer when nothing polls (no topic).
    ConsumerLink,
    Polling,
    Workers,
    Memory,
    Protection,
    Downstream,
    Engine,
}

impl Section {
    pub const ALL: [Section; 10] = [
        Section::Traffic,
        Section::Throttle,
        Section::ProducerMemory,
        Section::ConsumerLink,
        Section::Polling,
        Section::Workers,
        Section::Memory,
        Section::Protection,
        Section::Downstream,
        Section::Engine,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Section::Traffic => "traffic",
            Section::Throttle => "throttle",
            Section::ProducerMemory => "producer-memory",
            Section::ConsumerLink => "consumer-link",
            Section::Polling => "polling",
            Section::Workers => "workers",
            Section::Memory => "memory",
            Section::Protection => "protection",
            Section::Downstream => "downstream",
            Section::Engine => "engine",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Section::Traffic => "Producer traffic",
            Section::Throttle => "Producer throttle (from lag)",
            Section::ProducerMemory => "Producer: memory",
            Section::ConsumerLink => "Consumer: how messages arrive",
            Section::Polling => "Consumer: polling and commits",
            Section::Workers => "Consumer: workers and service",
            Section::Memory => "Consumer: memory",
            Section::Protection => "Consumer: pause and shedding",
            Section::Downstream => "Consumer: downstream and limiter",
            Section::Engine => "Simulation",
        }
    }

    /// Where the fields of a section live: the consumer link and the consumer's shedding
    /// are addressed with [`CONSUMER`].
    pub fn index(self) -> usize {
        match self {
            Section::ConsumerLink | Section::Protection => CONSUMER,
            _ => 0,
        }
    }
}

/// Kinds of stage, for stage-scoped fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StageKind {
    Channel,
    Map,
    Filter,
    KafkaProducer,
    Topic,
}

impl StageKind {
    pub fn of(s: &StageSpec) -> StageKind {
        match s {
            StageSpec::Channel(_) => StageKind::Channel,
            StageSpec::Map(_) => StageKind::Map,
            StageSpec::Filter(_) => StageKind::Filter,
            StageSpec::KafkaProducer(_) => StageKind::KafkaProducer,
            StageSpec::Topic(_) => StageKind::Topic,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            StageKind::Channel => "channel",
            StageKind::Map => "map",
            StageKind::Filter => "filter",
            StageKind::KafkaProducer => "Kafka producer client",
            StageKind::Topic => "topic",
        }
    }

    /// The stage has a link of its own (flow control and what a full receiver does).
    pub fn has_link(self) -> bool {
        matches!(self, StageKind::Channel | StageKind::Map | StageKind::Filter)
    }
}

/// Where a field applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Global(Section),
    Stage(StageKind),
    /// A stage's link (channel, map, filter) or the consumer's (index [`CONSUMER`]).
    Link,
    /// Shedding on a channel or on the consumer (index [`CONSUMER`]).
    Shed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    Linear,
    Log,
    /// Logarithmic from `min`, with the slider's first position meaning 0 (latencies,
    /// timeouts and sizes where 0 is a real choice).
    LogZero,
}

/// A numeric knob: a slider plus a number box.
pub struct Knob {
    /// Stable id, used in `data-testid="knob-<id>"` (stage and consumer fields get a prefix).
    pub id: &'static str,
    /// The scenario path `--set` writes it at (`knobs::paths`): `*` is `stages.{i}` (or
    /// `consumer` for [`CONSUMER`]); see `paths` for the marks `?`, `!` and `|`.
    pub path: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    pub scope: Scope,
    /// The slider's range.
    pub min: f64,
    pub max: f64,
    /// What a typed value may be: the engine's range for the field.
    pub hard: (f64, f64),
    pub scale: Scale,
    pub integer: bool,
    /// `None` when the field does not apply to this scenario (the knob is hidden).
    pub get: fn(&Scenario, usize) -> Option<f64>,
    pub set: fn(&mut Scenario, usize, f64),
}

/// A choice among a few options: a `<select>`.
pub struct Choice {
    pub id: &'static str,
    /// The scenario path `--set` writes it at (`knobs::paths`): `*` is `stages.{i}` (or
    /// `consumer` for [`CONSUMER`]); see `paths` for the marks `?`, `!` and `|`.
    pub path: &'static str,
    pub label: &'static str,
    pub scope: Scope,
    /// (value, label) pairs.
    pub options: &'static [(&'static str, &'static str)],
    pub get: fn(&Scenario, usize) -> Option<&'static str>,
    pub set: fn(&mut Scenario, usize, &str),
}

pub enum Field {
    Num(Knob),
    Pick(Choice),
}

impl Field {
    pub fn id(&self) -> &'static str {
        match self {
            Field::Num(k) => k.id,
            Field::Pick(c) => c.id,
        }
    }

    pub fn path(&self) -> &'static str {
        match self {
            Field::Num(k) => k.path,
            Field::Pick(c) => c.path,
        }
    }

    pub fn scope(&self) -> Scope {
        match self {
            Field::Num(k) => k.scope,
            Field::Pick(c) => c.scope,
        }
    }

    /// Whether the field applies to `s` (at `index`).
    pub fn applies(&self, s: &Scenario, index: usize) -> bool {
        match self {
            Field::Num(k) => (k.get)(s, index).is_some(),
            Field::Pick(c) => (c.get)(s, index).is_some(),
        }
    }
}

/// The `data-testid` of a field's wrapper: `knob-<id>`, `knob-s<i>-<id>` for stage fields,
/// `knob-consumer-<id>` for the consumer's link and shedding.
pub fn testid(id: &str, scope: Scope, index: usize) -> String {
    match (scope, index) {
        (Scope::Global(_), _) => format!("knob-{id}"),
        (_, CONSUMER) => format!("knob-consumer-{id}"),
        (_, i) => format!("knob-s{i}-{id}"),
    }
}

impl Knob {
    fn log_min(&self) -> f64 {
        self.min.max(f64::MIN_POSITIVE)
    }

    /// Slider position of a value.
    pub fn to_pos(&self, v: f64) -> f64 {
        let v = v.max(if self.scale == Scale::LogZero { 0.0 } else { self.min }).min(self.max);
        let f = match self.scale {
            Scale::Linear => (v - self.min) / (self.max - self.min),
            Scale::Log => (v / self.log_min()).ln() / (self.max / self.log_min()).ln(),
            Scale::LogZero => {
                if v < self.min {
                    return 0.0;
                }
                // Position 0 is 0; 1..=STEPS spans min..=max logarithmically.
                let g = (v / self.log_min()).ln() / (self.max / self.log_min()).ln();
                return (1.0 + g * (SLIDER_STEPS - 1.0)).round();
            }
        };
        (f * SLIDER_STEPS).round()
    }

    /// Value at a slider position, rounded to two significant digits on log scales so
    /// dragging lands on values people would type.
    pub fn from_pos(&self, pos: f64) -> f64 {
        let pos = pos.clamp(0.0, SLIDER_STEPS);
        let v = match self.scale {
            Scale::Linear => {
                let v = self.min + pos / SLIDER_STEPS * (self.max - self.min);
                round_sig(v, 3)
            }
            Scale::Log => round_sig(self.log_min() * (self.max / self.log_min()).powf(pos / SLIDER_STEPS), 2),
            Scale::LogZero => {
                if pos < 0.5 {
                    return 0.0;
                }
                let g = (pos - 1.0) / (SLIDER_STEPS - 1.0);
                round_sig(self.log_min() * (self.max / self.log_min()).powf(g), 2)
            }
        };
        let v = if self.integer { v.round() } else { v };
        v.max(if self.scale == Scale::LogZero { 0.0 } else { self.min }).min(self.max)
    }

    /// Parses typed text against the engine's range; the error names the field and says
    /// what is allowed.
    pub fn parse(&self, text: &str) -> Result<f64, String> {
        let (lo, hi) = self.hard;
        let range = format!(
            "{} from {} to {}{}",
            if self.integer { "a whole number" } else { "a number" },
            format::plain(lo),
            format::plain(hi),
            if self.unit.is_empty() { String::new() } else { format!(" {}", self.unit) }
        );
        let v = format::parse_number(text.trim()).ok_or_else(|| format!("{}: enter {range}", self.label))?;
        if !v.is_finite() || v < lo || v > hi || (self.integer && v.fract() != 0.0) {
            return Err(format!("{}: {} is out of range; enter {range}", self.label, text.trim()));
        }
        Ok(v)
    }
}

fn round_sig(v: f64, digits: i32) -> f64 {
    if v <= 0.0 {
        return v;
    }
    let scale = 10f64.powi(digits - 1 - v.log10().floor() as i32);
    (v * scale).round() / scale
}
