//! The observability panel: the incident's own tools, simulated. A
//! `kafka-consumer-groups --describe` table (partition, committed offset, log-end offset,
//! lag, owner), the queue sizes of every stage, and what each member's worker threads are
//! doing (as `jstack` would tell: running, waiting on the downstream, blocked, idle).
//! Reads the slow snapshot (a few refreshes a second); the states are derived by
//! [`worker_states`], which is pure.

use crate::app::Lab;
use crate::format;
use bplab_engine::{MemberView, Mode, Snapshot, StageView};
use leptos::prelude::*;

/// Partitions listed before the rest are summarised in one row.
const MAX_ROWS: usize = 24;

/// What a member's worker threads are doing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkerStates {
    /// Processing a message.
    pub busy: u32,
    /// Holding a message, waiting for a slot at the downstream dependency.
    pub waiting: u32,
    /// Free, while work waits: held back by the concurrency limit or by per-partition order.
    pub blocked: u32,
    pub idle: u32,
}

/// Derives the worker states of a member from its view and the worker count.
pub fn worker_states(m: &MemberView, workers: u32) -> WorkerStates {
    if !m.up {
        return WorkerStates::default();
    }
    let busy_all = m.busy_workers.min(workers);
    let waiting = m.waiting_workers.min(busy_all);
    let free = workers - busy_all;
    // Work is waiting when the member holds more than its workers are on.
    let blocked = if m.in_flight > busy_all as u64 { free } else { 0 };
    WorkerStates { busy: busy_all - waiting, waiting, blocked, idle: free - blocked }
}

fn stage_name(v: &StageView) -> &'static str {
    match v {
        StageView::Channel { .. } => "channel",
        StageView::Map => "map",
        StageView::Filter { .. } => "filter",
        StageView::KafkaProducer { .. } => "Kafka producer client",
        StageView::Topic { .. } => "topic",
    }
}

#[component]
pub fn Observability() -> impl IntoView {
    let lab = expect_context::<Lab>();
    view! {
        <section class="observe" aria-labelledby="observe-title">
            <h2 id="observe-title">"Observability: what the operators' tools would show"</h2>
            <div class="observe-grid">
                <ConsumerGroups />
                <Queues />
                <Workers />
            </div>
            <p class="hint">{move || format!("As of t = {}.", format::secs(lab.slow.with(|s| s.t_s)))}</p>
        </section>
    }
}

#[component]
fn ConsumerGroups() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let table = move || {
        lab.slow.with(|s: &Snapshot| {
            let parts = s.stages.iter().find_map(|v| match v {
                StageView::Topic { partitions } => Some(partitions.clone()),
                _ => None,
            });
            let Some(parts) = parts else {
                return view! { <p class="hint">"No topic in this pipeline: messages are pushed to the consumer, so there are no offsets or lag to describe."</p> }.into_any();
            };
            let total_lag: u64 = parts.iter().map(|p| p.lag).sum();
            let shown = parts.len().min(MAX_ROWS);
            let rows = parts[..shown]
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let owner = p.owner.map(|m| format!("consumer-{}", m + 1)).unwrap_or_else(|| "-".into());
                    view! {
                        <tr>
                            <td>"bplab"</td>
                            <td>"events"</td>
                            <td>{i}</td>
                            <td>{p.committed}</td>
                            <td>{p.log_end}</td>
                            <td class:hot={p.lag > 0}>{p.lag}</td>
                            <td>{owner}</td>
                        </tr>
                    }
                })
                .collect_view();
            let more = (parts.len() > shown).then(|| {
                let rest: u64 = parts[shown..].iter().map(|p| p.lag).sum();
                view! { <tr><td colspan="5">{format!("… {} more partitions", parts.len() - shown)}</td><td>{rest}</td><td></td></tr> }
            });
            view! {
                <div class="scroll" tabindex="0" role="region" aria-label="Consumer group offsets">
                    <table class="mono" data-testid="consumer-groups">
                        <thead>
                            <tr>
                                <th scope="col">"GROUP"</th>
                                <th scope="col">"TOPIC"</th>
                                <th scope="col">"PARTITION"</th>
                                <th scope="col">"CURRENT-OFFSET"</th>
                                <th scope="col">"LOG-END-OFFSET"</th>
                                <th scope="col">"LAG"</th>
                                <th scope="col">"CONSUMER-ID"</th>
                            </tr>
                        </thead>
                        <tbody>{rows}{more}</tbody>
                        <tfoot>
                            <tr><td colspan="5">"total"</td><td data-testid="total-lag" data-value=total_lag>{total_lag}</td><td></td></tr>
                        </tfoot>
                    </table>
                </div>
            }
            .into_any()
        })
    };
    view! {
        <div class="tool">
            <h3><code>"kafka-consumer-groups.sh --describe --group bplab"</code></h3>
            {table}
        </div>
    }
}

#[component]
fn Queues() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let rows = move || {
        lab.slow.with(|s| {
            let mut rows: Vec<(String, u64, String, String)> = Vec::new();
            let p = &s.producer;
            rows.push((
                "producer (blocked send)".into(),
                p.pending,
                "–".into(),
                if p.blocked { "blocked".into() } else { "sending".into() },
            ));
            for (i, v) in s.stages.iter().enumerate() {
                let name = format!("{}: {}", i + 1, stage_name(v));
                let row = match v {
                    StageView::Channel { depth, capacity, dropped } => (
                        name,
                        *depth,
                        capacity.map_or("unbounded".into(), |c| c.to_string()),
                        if *dropped > 0 { format!("{} dropped", format::count(*dropped as f64)) } else { String::new() },
                    ),
                    StageView::Map => (name, 0, "–".into(), "passes through".into()),
                    StageView::Filter { pass_ratio, dropped } => {
                        (name, 0, "–".into(), format!("passes {:.0} %, {} filtered", pass_ratio * 100.0, format::count(*dropped as f64)))
                    }
                    StageView::KafkaProducer { depth, capacity, broker_rate_per_s } => {
                        (name, *depth, capacity.to_string(), format!("broker takes {}/s", format::count(*broker_rate_per_s)))
                    }
                    StageView::Topic { partitions } => {
                        let lag: u64 = partitions.iter().map(|p| p.lag).sum();
                        let unfetched: u64 = partitions.iter().map(|p| p.log_end.saturating_sub(p.position)).sum();
                        (name, lag, "never full".into(), format!("{} not yet fetched", format::count(unfetched as f64)))
                    }
                };
                rows.push(row);
            }
            let c = &s.consumer;
            let cache: u64 = c.members.iter().map(|m| m.fetch_cache).sum();
            let flight: u64 = c.members.iter().map(|m| m.in_flight).sum();
            if c.polls {
                rows.push(("consumer fetch cache".into(), cache, "fetch sizes".into(), String::new()));
            }
            rows.push((
                "consumer in flight".into(),
                flight,
                "heap".into(),
                format!("heap {} of {}", format::bytes(c.members.iter().map(|m| m.heap_bytes).max().unwrap_or(0) as f64), format::bytes(c.heap_limit_bytes as f64)),
            ));
            if let Some((busy, queued, slots)) = c.downstream {
                rows.push(("downstream dependency".into(), queued, format!("{slots} slots"), format!("{busy} calls in service")));
            }
            rows.into_iter()
                .map(|(name, held, cap, note)| {
                    view! {
                        <tr>
                            <th scope="row">{name}</th>
                            <td>{format::count(held as f64)}</td>
                            <td>{cap}</td>
                            <td>{note}</td>
                        </tr>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <div class="tool">
            <h3>"Queue sizes (JMX-style)"</h3>
            <div class="scroll" tabindex="0" role="region" aria-label="Queue sizes">
                <table data-testid="queues">
                    <thead>
                        <tr>
                            <th scope="col">"where"</th>
                            <th scope="col">"held"</th>
                            <th scope="col">"bound"</th>
                            <th scope="col">"note"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </div>
    }
}

#[component]
fn Workers() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let rows = move || {
        lab.slow.with(|s| {
            let c = &s.consumer;
            c.members
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let st = worker_states(m, c.workers);
                    let status = if !m.up {
                        match m.restart_in_s {
                            Some(t) => format!("down (OOM-killed), back in {}", format::secs(t)),
                            None => "down".into(),
                        }
                    } else if m.evicted {
                        "evicted (max.poll.interval.ms)".into()
                    } else if c.rebalancing {
                        "rebalancing".into()
                    } else if m.paused {
                        "paused".into()
                    } else if c.mode == Mode::Sync && m.waiting_for_batch {
                        "processing its batch".into()
                    } else {
                        "polling".into()
                    };
                    let total = c.workers.max(1) as f64;
                    let w = |n: u32| format!("width: {:.2}%", n as f64 / total * 100.0);
                    view! {
                        <tr data-testid=format!("member-{}", i + 1)>
                            <th scope="row">{format!("consumer-{}", i + 1)}</th>
                            <td>{status}</td>
                            <td data-state="busy">{st.busy}</td>
                            <td data-state="waiting">{st.waiting}</td>
                            <td data-state="blocked">{st.blocked}</td>
                            <td data-state="idle">{st.idle}</td>
                            <td class="bar-cell">
                                <div class="bar" aria-hidden="true">
                                    <span class="busy" style=w(st.busy)></span>
                                    <span class="waiting" style=w(st.waiting)></span>
                                    <span class="blocked" style=w(st.blocked)></span>
                                </div>
                            </td>
                        </tr>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <div class="tool">
            <h3>"Worker threads per member (jstack-style)"</h3>
            <div class="scroll" tabindex="0" role="region" aria-label="Worker states">
                <table data-testid="workers">
                    <thead>
                        <tr>
                            <th scope="col">"member"</th>
                            <th scope="col">"poll loop"</th>
                            <th scope="col">"running"</th>
                            <th scope="col">"waiting on downstream"</th>
                            <th scope="col">"blocked (limit, order)"</th>
                            <th scope="col">"idle"</th>
                            <th scope="col"><span class="sr-only">"share of threads"</span></th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_states_add_up_to_the_workers() {
        let m = MemberView { up: true, busy_workers: 150, waiting_workers: 140, in_flight: 2_000, ..MemberView::default() };
        let s = worker_states(&m, 200);
        assert_eq!(s, WorkerStates { busy: 10, waiting: 140, blocked: 50, idle: 0 });
        let quiet = MemberView { up: true, busy_workers: 1, in_flight: 1, ..MemberView::default() };
        assert_eq!(worker_states(&quiet, 4), WorkerStates { busy: 1, waiting: 0, blocked: 0, idle: 3 });
        let down = MemberView { up: false, ..MemberView::default() };
        assert_eq!(worker_states(&down, 4), WorkerStates::default());
    }
}
