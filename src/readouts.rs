//! The summary figures as readouts. Each carries its raw number in `data-value` (empty
//! when it does not apply yet), so tests and scripts read exact values, not formatting.

use crate::format;
use crate::state::Lab;
use bplab_engine::{Series, Summary};
use leptos::prelude::*;

struct Readout {
    id: &'static str,
    label: &'static str,
    hint: &'static str,
    /// From the run's summary and, for rates now, its recorded series.
    value: fn(&Summary, &Series) -> Option<f64>,
    show: fn(f64) -> String,
}

fn some(v: u64) -> Option<f64> {
    Some(v as f64)
}

/// The readouts an embed shows: what the run is doing and what it costs.
const KEY: &[&str] = &["consumed", "throughput-now", "lost", "dropped", "oom-kills", "max-heap", "latency-p99", "max-lag"];

/// The window of "throughput now", simulated seconds.
const NOW_WINDOW_S: f64 = 10.0;

const READOUTS: &[Readout] = &[
    Readout {
        id: "produced",
        label: "Produced",
        hint: "messages accepted into the pipeline",
        value: |s, _| some(s.produced),
        show: format::count,
    },
    Readout {
        id: "consumed",
        label: "Consumed",
        hint: "messages processed, each counted once",
        value: |s, _| some(s.consumed),
        show: format::count,
    },
    Readout {
        id: "throughput",
        label: "Average throughput",
        hint: "consumed per simulated second, averaged over the whole run so far (the rate now is beside it)",
        value: |s, _| Some(s.throughput_msgs_per_s),
        show: |v| format!("{}/s", format::count(v)),
    },
    Readout {
        id: "throughput-now",
        label: "Throughput now",
        hint: "consumed per simulated second over the last 10 s",
        value: |s, series| series.rate_now(s.t_s, s.consumed as f64, NOW_WINDOW_S, |p| p.consumed as f64),
        show: |v| format!("{}/s", format::count(v)),
    },
    Readout {
        id: "dropped",
        label: "Dropped",
        hint: "dropped on purpose by a policy (overflow, filter, shedding)",
        value: |s, _| some(s.dropped),
        show: format::count,
    },
    Readout {
        id: "lost",
        label: "Lost",
        hint: "lost by accident: committed then discarded by a crash, deleted by retention, held by an OOM-killed producer",
        value: |s, _| some(s.lost),
        show: format::count,
    },
    Readout {
        id: "duplicated",
        label: "Duplicated",
        hint: "processed a second time after redelivery",
        value: |s, _| some(s.duplicated),
        show: format::count,
    },
    Readout {
        id: "oom-kills",
        label: "OOM kills",
        hint: "times the consumer ran out of heap",
        value: |s, _| some(s.oom_kills),
        show: format::count,
    },
    Readout {
        id: "first-oom",
        label: "First OOM at",
        hint: "simulated time of the first kill",
        value: |s, _| s.first_oom_s,
        show: format::secs,
    },
    Readout {
        id: "producer-oom-kills",
        label: "Producer OOM kills",
        hint: "times the producer's process ran out of heap, losing what its channels held",
        value: |s, _| some(s.producer_oom_kills),
        show: format::count,
    },
    Readout {
        id: "max-heap",
        label: "Max heap",
        hint: "largest consumer heap seen",
        value: |s, _| some(s.max_heap_bytes),
        show: format::bytes,
    },
    Readout {
        id: "max-in-flight",
        label: "Max in flight",
        hint: "most messages held unprocessed by the consumer",
        value: |s, _| some(s.max_in_flight),
        show: format::count,
    },
    Readout {
        id: "max-lag",
        label: "Max lag",
        hint: "largest topic lag (log end − committed)",
        value: |s, _| some(s.max_lag),
        show: format::count,
    },
    Readout {
        id: "latency-p50",
        label: "Latency p50",
        hint: "produce → processed, median",
        value: |s, _| s.latency_p50_s,
        show: format::secs,
    },
    Readout {
        id: "latency-p99",
        label: "Latency p99",
        hint: "produce → processed, 99th percentile",
        value: |s, _| s.latency_p99_s,
        show: format::secs,
    },
    Readout {
        id: "producer-blocked",
        label: "Producer blocked",
        hint: "time the producer waited on a full receiver or for credits",
        value: |s, _| Some(s.producer_blocked_s),
        show: format::secs,
    },
    Readout {
        id: "rebalances",
        label: "Rebalances",
        hint: "times the consumer group stopped to reassign partitions",
        value: |s, _| some(s.rebalances),
        show: format::count,
    },
    Readout {
        id: "call-rtt-p99",
        label: "Call RTT p99",
        hint: "round trip of calls to the downstream dependency, 99th percentile",
        value: |s, _| s.call_rtt_p99_s,
        show: format::secs,
    },
];

#[component]
pub fn Readouts() -> impl IntoView {
    let lab = Lab::from_context();
    let items = READOUTS
        .iter()
        .map(|r| {
            let value = Memo::new(move |_| lab.snapshot.with(|s| lab.driver.with_value(|d| (r.value)(&s.summary, d.sim().series()))));
            let alarm = move || match r.id {
                "lost" | "oom-kills" | "producer-oom-kills" | "duplicated" => value.get().is_some_and(|v| v > 0.0),
                _ => false,
            };
            view! {
                <div class="readout" class:alarm=alarm class:key=KEY.contains(&r.id) title=r.hint>
                    <dt>{r.label}</dt>
                    <dd
                        data-testid=format!("readout-{}", r.id)
                        data-value=move || value.get().map(|v| v.to_string()).unwrap_or_default()
                    >
                        {move || value.get().map(r.show).unwrap_or_else(|| "–".into())}
                    </dd>
                </div>
            }
        })
        .collect_view();
    view! {
        <aside class="readouts" aria-label="Run summary" aria-live="off">
            <h2>"Measured"</h2>
            <dl>{items}</dl>
        </aside>
    }
}
