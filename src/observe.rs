//! The observability panel: the incident's own tools, simulated. A
//! `kafka-consumer-groups --describe` table (partition, committed offset, log-end offset,
//! lag, owner), the queue sizes of every stage, and what each member's worker threads are
//! doing (as `jstack` would tell: running, waiting on the downstream, blocked, idle).
//! Reads the slow snapshot (a few refreshes a second); the states are derived by
//! [`worker_states`], which is pure.

use crate::format;
use crate::html::{esc, header_row};
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

/// The rows of the consumer-groups table as HTML (`<tbody>` content), and the total lag;
/// `None` without a topic. Table bodies are built as text: a few hundred cells of plain
/// figures, refreshed a few times a second, need no reactive graph of their own.
pub fn consumer_group_rows(s: &Snapshot) -> Option<(String, u64)> {
    let parts = s.stages.iter().find_map(|v| match v {
        StageView::Topic { partitions } => Some(partitions),
        _ => None,
    })?;
    let total: u64 = parts.iter().map(|p| p.lag).sum();
    let shown = parts.len().min(MAX_ROWS);
    let mut html = String::new();
    for (i, p) in parts[..shown].iter().enumerate() {
        let owner = p.owner.map(|m| format!("consumer-{}", m + 1)).unwrap_or_else(|| "-".into());
        let hot = if p.lag > 0 { " class=\"hot\"" } else { "" };
        html.push_str(&format!(
            "<tr><td>bplab</td><td>events</td><td>{i}</td><td>{}</td><td>{}</td><td{hot}>{}</td><td>{owner}</td></tr>",
            p.committed, p.log_end, p.lag
        ));
    }
    if parts.len() > shown {
        let rest: u64 = parts[shown..].iter().map(|p| p.lag).sum();
        html.push_str(&format!("<tr><td colspan=\"5\">… {} more partitions</td><td>{rest}</td><td></td></tr>", parts.len() - shown));
    }
    Some((html, total))
}

/// The queue-sizes rows as HTML: where messages are held, how many, the bound, a note.
pub fn queue_rows(s: &Snapshot) -> String {
    let mut rows: Vec<(String, u64, String, String)> = Vec::new();
    let p = &s.producer;
    rows.push(("producer (blocked send)".into(), p.pending, "–".into(), if p.blocked { "blocked".into() } else { "sending".into() }));
    for (i, v) in s.stages.iter().enumerate() {
        let name = format!("{}: {}", i + 1, stage_name(v));
        rows.push(match v {
            StageView::Channel { depth, capacity, dropped } => (
                name,
                *depth,
                capacity.map_or("unbounded".into(), |c| format::count(c as f64)),
                if *dropped > 0 { format!("{} dropped", format::count(*dropped as f64)) } else { String::new() },
            ),
            StageView::Map => (name, 0, "–".into(), "passes through".into()),
            StageView::Filter { pass_ratio, dropped } => {
                (name, 0, "–".into(), format!("passes {:.0} %, {} filtered", pass_ratio * 100.0, format::count(*dropped as f64)))
            }
            StageView::KafkaProducer { depth, capacity, broker_rate_per_s, dropped } => (
                name,
                *depth,
                format!("{} records", format::count(*capacity as f64)),
                if *dropped > 0 {
                    format!("broker takes {}/s, {} dropped", format::count(*broker_rate_per_s), format::count(*dropped as f64))
                } else {
                    format!("broker takes {}/s", format::count(*broker_rate_per_s))
                },
            ),
            StageView::Topic { partitions } => {
                let lag: u64 = partitions.iter().map(|p| p.lag).sum();
                let unfetched: u64 = partitions.iter().map(|p| p.log_end.saturating_sub(p.position)).sum();
                (name, lag, "never full".into(), format!("lag; {} not fetched yet", format::count(unfetched as f64)))
            }
        });
    }
    let c = &s.consumer;
    if c.polls {
        rows.push(("consumer fetch cache".into(), c.members.iter().map(|m| m.fetch_cache).sum(), "fetch sizes".into(), String::new()));
    }
    let heap = c.members.iter().map(|m| m.heap_bytes).max().unwrap_or(0);
    rows.push((
        "consumer in flight".into(),
        c.members.iter().map(|m| m.in_flight).sum(),
        "heap".into(),
        format!("heap {} of {}", format::bytes(heap as f64), format::bytes(c.heap_limit_bytes as f64)),
    ));
    if let Some((busy, queued, slots)) = c.downstream {
        rows.push(("downstream dependency (queued)".into(), queued, format!("{slots} slots"), format!("{busy} calls in service")));
    }
    rows.iter()
        .map(|(name, held, cap, note)| {
            format!(
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td class=\"wrap\">{}</td></tr>",
                esc(name),
                format::count(*held as f64),
                esc(cap),
                esc(note)
            )
        })
        .collect()
}

/// One member's poll-loop state, in words.
fn member_status(s: &Snapshot, m: &MemberView) -> String {
    let c = &s.consumer;
    if !m.up {
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
    }
}

/// The worker-state rows as HTML, one per member, with a bar of the shares.
pub fn worker_rows(s: &Snapshot) -> String {
    let c = &s.consumer;
    let total = c.workers.max(1) as f64;
    let w = |n: u32| format!("{:.2}", n as f64 / total * 100.0);
    c.members
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let st = worker_states(m, c.workers);
            format!(
                "<tr data-testid=\"member-{n}\"><th scope=\"row\">consumer-{n}</th><td class=\"wrap\">{status}</td>\
                 <td data-state=\"busy\">{}</td><td data-state=\"waiting\">{}</td><td data-state=\"blocked\">{}</td><td data-state=\"idle\">{}</td>\
                 <td class=\"bar-cell\"><div class=\"bar\" aria-hidden=\"true\"><span class=\"busy\" style=\"width:{}%\"></span>\
                 <span class=\"waiting\" style=\"width:{}%\"></span><span class=\"blocked\" style=\"width:{}%\"></span></div></td></tr>",
                st.busy,
                st.waiting,
                st.blocked,
                st.idle,
                w(st.busy),
                w(st.waiting),
                w(st.blocked),
                n = i + 1,
                status = esc(&member_status(s, m)),
            )
        })
        .collect()
}

/// The panel, from `snapshot`: the slow snapshot (a few refreshes a second).
#[component]
pub fn Observability(snapshot: RwSignal<Snapshot>) -> impl IntoView {
    let groups = Memo::new(move |_| snapshot.with(consumer_group_rows));
    let queues = move || snapshot.with(queue_rows);
    let workers = move || snapshot.with(worker_rows);
    view! {
        <section class="observe" aria-labelledby="observe-title">
            <h2 id="observe-title">"Observability: what the operators' tools would show"</h2>
            <div class="observe-grid">
                <div class="tool wide">
                    <h3><code>"kafka-consumer-groups.sh --describe --group bplab"</code></h3>
                    <p class="hint" hidden=move || groups.with(Option::is_some)>
                        "No topic in this pipeline: messages are pushed to the consumer, so there are no offsets or lag to describe."
                    </p>
                    <div class="scroll wide" tabindex="0" role="region" aria-label="Consumer group offsets" hidden=move || groups.with(Option::is_none)>
                        <table class="mono" data-testid="consumer-groups">
                            <thead inner_html=header_row(&["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID"])></thead>
                            <tbody inner_html=move || groups.with(|g| g.as_ref().map(|g| g.0.clone()).unwrap_or_default())></tbody>
                            <tfoot>
                                <tr>
                                    <td colspan="5">"total"</td>
                                    <td data-testid="total-lag" data-value=move || groups.with(|g| g.as_ref().map_or(0, |g| g.1))>
                                        {move || groups.with(|g| g.as_ref().map_or(0, |g| g.1))}
                                    </td>
                                    <td></td>
                                </tr>
                            </tfoot>
                        </table>
                    </div>
                </div>
                <div class="tool">
                    <h3>"Queue sizes (JMX-style)"</h3>
                    <div class="scroll wide" tabindex="0" role="region" aria-label="Queue sizes">
                        <table data-testid="queues">
                            <thead inner_html=header_row(&["where", "held", "bound", "note"])></thead>
                            <tbody inner_html=queues></tbody>
                        </table>
                    </div>
                </div>
                <div class="tool">
                    <h3>"Worker threads per member (jstack-style)"</h3>
                    <div class="scroll wide" tabindex="0" role="region" aria-label="Worker states">
                        <table data-testid="workers">
                            <thead>
                                <tr>
                                    <th scope="col">"member"</th>
                                    <th scope="col">"poll loop"</th>
                                    <th scope="col" title="processing a message">"running"</th>
                                    <th scope="col" title="holding a message, waiting for a slot at the downstream dependency">"waiting"</th>
                                    <th scope="col" title="free while work waits: held back by the concurrency limit or by per-partition order">"blocked"</th>
                                    <th scope="col">"idle"</th>
                                    <th scope="col"><span class="sr-only">"share of threads"</span></th>
                                </tr>
                            </thead>
                            <tbody inner_html=workers></tbody>
                        </table>
                    </div>
                    <p class="hint">
                        "running: processing · waiting: for a slot at the downstream dependency · blocked: free while work waits (concurrency limit or per-partition order) · idle: nothing to do"
                    </p>
                </div>
            </div>
            <p class="hint">{move || format!("As of t = {}.", format::secs(snapshot.with(|s| s.t_s)))}</p>
        </section>
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

    #[test]
    fn tables_read_the_snapshot() {
        let mut sim = bplab_engine::Simulation::new(&bplab_engine::preset("head-of-line").unwrap()).unwrap();
        sim.run_until(30.0, u64::MAX);
        let snap = sim.snapshot();
        let (rows, total) = consumer_group_rows(&snap).unwrap();
        assert_eq!(rows.matches("<tr>").count(), 4);
        assert_eq!(total, snap.summary.lag);
        assert!(queue_rows(&snap).contains("2: topic") || queue_rows(&snap).contains("1: topic"));
        assert!(worker_rows(&snap).contains("data-testid=\"member-1\""));
        let no_topic = bplab_engine::Simulation::new(&bplab_engine::preset("credits").unwrap()).unwrap().snapshot();
        assert!(consumer_group_rows(&no_topic).is_none());
    }
}
