//! Named scenarios, each with the lesson it teaches. Ids are stable: the CLI and the page
//! (and anyone's scripts) refer to them.

use crate::scenario::{ChannelSpec, Commit, Mode, Scenario, StageSpec};

/// A named scenario and the lesson it teaches.
pub struct Preset {
    pub id: &'static str,
    pub title: &'static str,
    /// One paragraph: what happens and why.
    pub explanation: &'static str,
    build: fn() -> Scenario,
}

impl Preset {
    pub fn scenario(&self) -> Scenario {
        (self.build)()
    }
}

fn incident_106() -> Scenario {
    Scenario::default()
}

fn incident_106_5k() -> Scenario {
    let mut s = Scenario::default();
    s.consumer.rate_per_worker = 5_000.0;
    s.duration_s = 180.0;
    s
}

fn fix_sync_poll() -> Scenario {
    let mut s = Scenario::default();
    s.consumer.mode = Mode::Sync;
    s.duration_s = 600.0;
    s
}

fn fix_blocking_channel() -> Scenario {
    let mut s = Scenario::default();
    s.stages = vec![StageSpec::Channel(ChannelSpec { capacity: Some(100), ..ChannelSpec::default() })];
    s.consumer.mode = Mode::Sync;
    s.consumer.max_poll_records = 1;
    s.consumer.commit = Commit::Sync;
    s.duration_s = 600.0;
    s
}

/// Every preset, in the order the page lists them.
pub static PRESETS: &[Preset] = &[
    Preset {
        id: "incident-106",
        title: "Incident 106: async hand-off until OOM",
        explanation: "A push producer sends 10,000 msg/s through a Go channel into a 10-partition topic. \
            The consumer polls 1,000 records at a time and hands each batch to processAsync, which \
            returns at once, so it polls again immediately: it fetches everything the producer writes, \
            but processes only 500 msg/s. The difference, about 9,500 msg/s, piles up in the consumer's \
            heap as in-flight work while topic lag looks healthy, because auto-commit commits what was \
            polled, not what was processed. At 1 KiB a message the 448 MiB of headroom is gone after \
            about 48 s: the consumer is OOM-killed, and every record it had fetched and committed but \
            not processed is lost for good.",
        build: incident_106,
    },
    Preset {
        id: "incident-106-5k",
        title: "Incident 106 with a 5,000 msg/s consumer",
        explanation: "The same pipeline with a consumer ten times faster. Doubling capacity only halves the \
            growth rate: in-flight still grows at 5,000 msg/s and the OOM kill comes at about 92 s \
            instead of 48 s. Without backpressure, a faster consumer delays the failure; it does not \
            prevent it.",
        build: incident_106_5k,
    },
    Preset {
        id: "fix-sync-poll",
        title: "Fix: process synchronously, poll when done",
        explanation: "The consumer processes each batch before it polls again, so it never holds more than \
            max.poll.records (1,000) records: the heap stays flat and nothing is lost. The consumer is \
            still slower than the producer, so the backlog grows, but in the topic, as lag, where it is \
            durable, visible to monitoring and cheap. This is Kafka's pull model doing its job: the \
            consumer controls its fetch rate. Lag is now the honest signal to act on (add consumers, \
            or throttle the producer from lag).",
        build: fix_sync_poll,
    },
    Preset {
        id: "fix-blocking-channel",
        title: "Fix: a small blocking channel, no topic",
        explanation: "Producer and consumer in one process joined by a Go channel of capacity 100 and nothing \
            else. When the channel is full the producer's send blocks, so its effective rate falls to the \
            consumer's 500 msg/s and the blocked time shows how long it waits: this is backpressure end to \
            end. With a topic in between, the producer never feels a slow consumer: the log absorbs the \
            difference as lag. That is why a durable queue needs an explicit loop (throttling from lag) \
            to push back on its producers.",
        build: fix_blocking_channel,
    },
];

/// The scenario of preset `id`.
pub fn preset(id: &str) -> Option<Scenario> {
    PRESETS.iter().find(|p| p.id == id).map(Preset::scenario)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_valid_and_ids_are_unique() {
        let mut ids: Vec<&str> = PRESETS.iter().map(|p| p.id).collect();
        for p in PRESETS {
            p.scenario()
                .validate()
                .unwrap_or_else(|e| panic!("{}: {e}", p.id));
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), PRESETS.len());
    }
}
