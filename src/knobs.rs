//! The page's knobs: each reads and writes one scenario field, with a unit, a range and a
//! scale. Pure data and functions, so the mapping is tested natively; the controls module
//! only renders them.

use crate::format;
use bplab_engine::{Mode, Scenario, StageSpec};

/// Positions of a range input (0 ..= SLIDER_STEPS).
pub const SLIDER_STEPS: f64 = 1_000.0;

pub struct Knob {
    /// Stable id, used in `data-testid="knob-<id>"`.
    pub id: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    pub min: f64,
    pub max: f64,
    /// Logarithmic slider (the range spans decades).
    pub log: bool,
    pub integer: bool,
    pub help: &'static str,
    /// `None` when the field does not apply to this scenario (the knob is disabled).
    pub get: fn(&Scenario) -> Option<f64>,
    pub set: fn(&mut Scenario, f64),
}

fn channel(s: &mut Scenario) -> Option<&mut bplab_engine::ChannelSpec> {
    s.stages.iter_mut().find_map(|st| match st {
        StageSpec::Channel(c) => Some(c),
        _ => None,
    })
}

fn topic(s: &mut Scenario) -> Option<&mut bplab_engine::TopicSpec> {
    s.stages.iter_mut().find_map(|st| match st {
        StageSpec::Topic(t) => Some(t),
        _ => None,
    })
}

pub static KNOBS: &[Knob] = &[
    Knob {
        id: "producer-rate",
        label: "Producer rate",
        unit: "msg/s",
        min: 10.0,
        max: 1_000_000.0,
        log: true,
        integer: false,
        help: "How fast the producer's source generates messages.",
        get: |s| Some(s.producer.rate_per_s),
        set: |s, v| s.producer.rate_per_s = v,
    },
    Knob {
        id: "channel-capacity",
        label: "Channel capacity",
        unit: "msg",
        min: 1.0,
        max: 1_000_000.0,
        log: true,
        integer: true,
        help: "Messages the Go channel buffers before a send blocks the producer.",
        get: |s| s.channel().and_then(|c| c.capacity).map(|c| c as f64),
        set: |s, v| {
            if let Some(c) = channel(s) {
                c.capacity = Some(v as u64);
            }
        },
    },
    Knob {
        id: "partitions",
        label: "Partitions",
        unit: "",
        min: 1.0,
        max: 64.0,
        log: false,
        integer: true,
        help: "Partitions of the topic; records are spread over them round-robin.",
        get: |s| s.topic().map(|t| t.partitions as f64),
        set: |s, v| {
            if let Some(t) = topic(s) {
                t.partitions = v as u32;
            }
        },
    },
    Knob {
        id: "max-poll-records",
        label: "max.poll.records",
        unit: "records",
        min: 1.0,
        max: 100_000.0,
        log: true,
        integer: true,
        help: "Records one poll returns at most.",
        get: |s| Some(s.consumer.max_poll_records as f64),
        set: |s, v| s.consumer.max_poll_records = v as u32,
    },
    Knob {
        id: "workers",
        label: "Workers",
        unit: "",
        min: 1.0,
        max: 1_000.0,
        log: true,
        integer: true,
        help: "Threads processing records in parallel.",
        get: |s| Some(s.consumer.workers as f64),
        set: |s, v| s.consumer.workers = v as u32,
    },
    Knob {
        id: "rate-per-worker",
        label: "Processing rate per worker",
        unit: "msg/s",
        min: 1.0,
        max: 1_000_000.0,
        log: true,
        integer: false,
        help: "Messages one worker processes per second.",
        get: |s| Some(s.consumer.rate_per_worker),
        set: |s, v| s.consumer.rate_per_worker = v,
    },
    Knob {
        id: "bytes-per-message",
        label: "Heap per in-flight message",
        unit: "bytes",
        min: 16.0,
        max: 1_048_576.0,
        log: true,
        integer: true,
        help: "Memory one fetched, unprocessed message costs the consumer.",
        get: |s| Some(s.consumer.memory.bytes_per_message as f64),
        set: |s, v| s.consumer.memory.bytes_per_message = v as u64,
    },
    Knob {
        id: "heap-limit",
        label: "Heap limit",
        unit: "MiB",
        min: 128.0,
        max: 65_536.0,
        log: true,
        integer: false,
        help: "Past this the consumer is OOM-killed (64 MiB of it is the baseline).",
        get: |s| Some(s.consumer.memory.heap_limit_mib),
        set: |s, v| s.consumer.memory.heap_limit_mib = v,
    },
];

/// The knob with this id.
pub fn knob(id: &str) -> Option<&'static Knob> {
    KNOBS.iter().find(|k| k.id == id)
}

/// Async hand-off (`processAsync`) on or off.
pub fn is_async(s: &Scenario) -> bool {
    s.consumer.mode == Mode::Async
}

pub fn set_async(s: &mut Scenario, on: bool) {
    s.consumer.mode = if on { Mode::Async } else { Mode::Sync };
}

impl Knob {
    /// Slider position of a value.
    pub fn to_pos(&self, v: f64) -> f64 {
        let v = v.clamp(self.min, self.max);
        let f = if self.log {
            (v / self.min).ln() / (self.max / self.min).ln()
        } else {
            (v - self.min) / (self.max - self.min)
        };
        (f * SLIDER_STEPS).round()
    }

    /// Value at a slider position, rounded to two significant digits on log scales so
    /// dragging lands on values people would type.
    pub fn from_pos(&self, pos: f64) -> f64 {
        let f = (pos / SLIDER_STEPS).clamp(0.0, 1.0);
        let v = if self.log {
            self.min * (self.max / self.min).powf(f)
        } else {
            self.min + f * (self.max - self.min)
        };
        let v = if self.log { round_sig(v, 2) } else { v };
        let v = if self.integer { v.round() } else { v };
        v.clamp(self.min, self.max)
    }

    /// Parses typed text; the error says what is allowed.
    pub fn parse(&self, text: &str) -> Result<f64, String> {
        let range = format!(
            "{} from {} to {}{}",
            if self.integer { "a whole number" } else { "a number" },
            format::plain(self.min),
            format::plain(self.max),
            if self.unit.is_empty() { String::new() } else { format!(" {}", self.unit) }
        );
        let v: f64 = text.trim().parse().map_err(|_| format!("{}: enter {range}", self.label))?;
        if !v.is_finite() || v < self.min || v > self.max || (self.integer && v.fract() != 0.0) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use bplab_engine::preset;

    #[test]
    fn every_knob_round_trips_and_writes_a_valid_scenario() {
        let base = preset("incident-106").unwrap();
        for k in KNOBS {
            let v = (k.get)(&base).unwrap_or_else(|| panic!("{} applies to the incident", k.id));
            assert!(v >= k.min && v <= k.max, "{} default {v} outside its range", k.id);
            for pos in [0.0, 250.0, 500.0, 1000.0] {
                let value = k.from_pos(pos);
                let mut s = base.clone();
                (k.set)(&mut s, value);
                assert_eq!((k.get)(&s), Some(if k.integer { value.round() } else { value }), "{}", k.id);
                s.validate().unwrap_or_else(|e| panic!("{} at {value}: {e}", k.id));
                assert!((k.to_pos(value) - pos).abs() <= 15.0, "{} pos {pos} -> {value}", k.id);
            }
        }
    }

    #[test]
    fn typed_values_are_checked_with_a_clear_message() {
        let k = knob("max-poll-records").unwrap();
        assert_eq!(k.parse(" 500 "), Ok(500.0));
        let e = k.parse("0").unwrap_err();
        assert_eq!(e, "max.poll.records: 0 is out of range; enter a whole number from 1 to 100000 records");
        assert!(k.parse("abc").unwrap_err().starts_with("max.poll.records: enter a whole number"));
        assert!(k.parse("2.5").is_err());
        assert!(knob("producer-rate").unwrap().parse("NaN").is_err());
    }

    #[test]
    fn knobs_that_do_not_apply_are_absent() {
        let s = preset("fix-blocking-channel").unwrap();
        assert_eq!((knob("partitions").unwrap().get)(&s), None);
        assert_eq!((knob("channel-capacity").unwrap().get)(&s), Some(100.0));
    }
}
