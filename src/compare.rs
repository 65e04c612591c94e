//! The comparison view: two or more strategies side by side on identical seeded traffic,
//! each with its diagram and key charts, a push or pull badge, and a summary table
//! (throughput, p99 latency of processed messages with the lost ones beside it, dropped,
//! where the backlog is held now and its peak, max heap, OOM kills, duplicated, producer
//! blocked time). "Push vs pull" and
//! "incident vs each remedy" are one click away. The lanes themselves (`lanes`) are pure;
//! this module renders them and runs their animation loop.

use crate::charts::{Chart, Ctx};
use crate::diagram::Diagram;
use crate::dom::{canvas_by_testid, media_matches, now_s, use_animation_frames};
use crate::format;
use crate::html::{esc, header_row};
use crate::lanes::{Flow, LaneRow, INCIDENT_VS_REMEDIES, MAX_LANES, PUSH_VS_PULL};
use crate::pacing::{Budget, Rota, TABLES_EVERY_S};
use crate::plotdata::stage_labels;
use crate::state::{Lab, View};
use bplab_engine::{Snapshot, PRESETS};
use leptos::html::Section;
use leptos::prelude::*;

/// The charts each lane shows.
const LANE_CHARTS: [Chart; 2] = [Chart::Memory, Chart::Backlog];

struct LoopState {
    last: f64,
    budget: Budget,
    diagrams: Vec<Diagram>,
    /// Every lane's charts, lane by lane.
    rota: Rota,
    rows_at: f64,
    redraw_seen: u64,
}

#[component]
pub fn Compare() -> impl IntoView {
    let lab = Lab::from_context();
    let root = NodeRef::<Section>::new();
    let state = StoredValue::new_local(LoopState {
        last: now_s(),
        budget: Budget::default(),
        diagrams: Vec::new(),
        rota: Rota::default(),
        rows_at: -1.0,
        redraw_seen: u64::MAX,
    });
    let seed = Memo::new(move |_| lab.scenario.with(|s| s.seed));

    // The loop's first frame comes after this view is mounted (a frame without it does nothing).
    use_animation_frames(move || tick(lab, root, state, seed));

    let set_lanes = move |ids: &[&'static str]| {
        lab.playing.set(false);
        lab.compare_ids.set(ids.to_vec());
    };
    let pickers = move || {
        let ids = lab.compare_ids.get();
        let n = ids.len();
        ids.into_iter()
            .enumerate()
            .map(|(k, id)| {
                let options = crate::html::preset_options(id, false);
                view! {
                    <div class="lane-pick">
                        <label>
                            <span>{format!("Lane {}", k + 1)}</span>
                            <select
                                data-testid=format!("lane-select-{}", k + 1)
                                on:change=move |ev| {
                                    let v = event_target_value(&ev);
                                    if let Some(p) = PRESETS.iter().find(|p| p.id == v) {
                                        let mut ids = lab.compare_ids.get_untracked();
                                        ids[k] = p.id;
                                        set_lanes(&ids);
                                    }
                                }
                                inner_html=options
                            ></select>
                        </label>
                        <button
                            data-testid=format!("lane-remove-{}", k + 1)
                            aria-label=format!("Remove lane {}", k + 1)
                            disabled=n <= 2
                            on:click=move |_| {
                                let mut ids = lab.compare_ids.get_untracked();
                                if ids.len() > 2 {
                                    ids.remove(k);
                                    set_lanes(&ids);
                                }
                            }
                        >
                            "Remove"
                        </button>
                    </div>
                }
            })
            .collect_view()
    };

    let lanes_view = move || {
        let ids = lab.compare_ids.get();
        ids.into_iter()
            .enumerate()
            .map(|(k, id)| {
                let p = PRESETS.iter().find(|p| p.id == id);
                let title = p.map_or(id, |p| p.title);
                let flow = p.map(|p| Flow::of(&p.scenario()));
                view! {
                    <article class="lane" data-testid=format!("lane-{}", k + 1) aria-label=format!("Lane {}: {title}", k + 1)>
                        <h3>
                            {format!("{}. {title} ", k + 1)}
                            {flow.map(|f| view! {
                                <span class="badge flow" data-testid=format!("lane-{}-flow", k + 1) title=f.explain()>{f.label()}</span>
                            })}
                        </h3>
                        <canvas class="lane-diagram" data-testid=format!("lane-diagram-{}", k + 1) role="img"
                            aria-label=format!("Animated pipeline of lane {}", k + 1)></canvas>
                        {LANE_CHARTS
                            .iter()
                            .map(|c| view! {
                                <canvas class="lane-chart" data-testid=format!("lane-{}-chart-{}", k + 1, c.id()) role="img" aria-label=c.description()></canvas>
                            })
                            .collect_view()}
                    </article>
                }
            })
            .collect_view()
    };

    view! {
        <section class="compare" node_ref=root aria-label="Compare strategies">
            <div class="compare-bar">
                <div class="quick" role="group" aria-label="Ready-made comparisons">
                    <button data-testid="compare-push-pull" on:click=move |_| set_lanes(PUSH_VS_PULL)>"Push vs pull"</button>
                    <button data-testid="compare-remedies" on:click=move |_| set_lanes(INCIDENT_VS_REMEDIES)>
                        "Incident vs each remedy"
                    </button>
                </div>
                <div class="pickers">{pickers}</div>
                <button
                    data-testid="lane-add"
                    disabled=move || lab.compare_ids.with(|v| v.len() >= MAX_LANES)
                    on:click=move |_| {
                        let mut ids = lab.compare_ids.get_untracked();
                        if ids.len() < MAX_LANES {
                            let next = PRESETS.iter().map(|p| p.id).find(|id| !ids.contains(id)).unwrap_or(PRESETS[0].id);
                            ids.push(next);
                            set_lanes(&ids);
                        }
                    }
                >
                    "Add lane"
                </button>
            </div>
            <p class="hint">
                {move || format!(
                    "Every lane runs with seed {} and the first lane's producer traffic (rate, arrivals, pattern, message size); each keeps its own throttle. Play, step and reset act on all lanes together.",
                    seed.get()
                )}
            </p>
            <SummaryTable clock=lab.clock rows=lab.compare_rows />
            <div class="lanes">{lanes_view}</div>
        </section>
    }
}

/// The comparison table's columns.
pub const COLUMNS: &[&str] = &[
    "strategy",
    "throughput",
    "p99 latency of processed",
    "lost",
    "dropped",
    "held now: producer",
    "held now: channels",
    "held now: topic",
    "held now: consumer",
    "peak backlog",
    "producer heap now",
    "producer heap peak",
    "consumer max heap",
    "OOM kills: consumer",
    "OOM kills: producer",
    "duplicated",
    "producer blocked",
];

/// The comparison table's rows as HTML: one per lane, every figure with its raw value in
/// `data-value` (`data-testid="cmp-<lane>-<figure>"`).
pub fn summary_rows(rows: &[LaneRow]) -> String {
    let mut html = String::new();
    for (k, r) in rows.iter().enumerate() {
        let s = &r.summary;
        let n = k + 1;
        let cell = |id: &str, raw: Option<f64>, shown: String, alarm: bool| {
            format!(
                "<td data-testid=\"cmp-{n}-{id}\" data-value=\"{}\"{}>{}</td>",
                raw.map(|v| v.to_string()).unwrap_or_default(),
                if alarm { " class=\"alarm\"" } else { "" },
                esc(&shown)
            )
        };
        let count = |id: &str, v: u64, alarm: bool| cell(id, Some(v as f64), format::count(v as f64), alarm);
        html.push_str(&format!(
            "<tr><th scope=\"row\">{}{} <span class=\"badge flow\" data-testid=\"cmp-{n}-flow\" title=\"{}\">{}</span></th>",
            esc(r.title),
            if r.own_traffic { " (own traffic)" } else { "" },
            esc(r.flow.explain()),
            esc(r.flow.label())
        ));
        html.push_str(&cell("throughput", Some(s.throughput_msgs_per_s), format!("{}/s", format::count(s.throughput_msgs_per_s)), false));
        html.push_str(&cell("p99", s.latency_p99_s, s.latency_p99_s.map(format::secs).unwrap_or_else(|| "–".into()), false));
        html.push_str(&count("lost", s.lost, s.lost > 0));
        html.push_str(&count("dropped", s.dropped, false));
        html.push_str(&count("held-producer", r.held.producer, false));
        html.push_str(&count("held-channels", r.held.channels, false));
        html.push_str(&count("held-topic", r.held.topic, false));
        html.push_str(&count("held-consumer", r.held.consumer, false));
        let peak = r.peak.total();
        let place = r.peak.most().map(|p| format!(" in {p}")).unwrap_or_default();
        html.push_str(&cell("peak-backlog", Some(peak as f64), format!("{}{place}", format::count(peak as f64)), false));
        let bytes = |id: &str, v: u64| cell(id, Some(v as f64), format::bytes(v as f64), false);
        html.push_str(&bytes("producer-heap", s.producer_heap_bytes));
        html.push_str(&bytes("producer-heap-peak", s.max_producer_heap_bytes));
        html.push_str(&bytes("max-heap", s.max_heap_bytes));
        html.push_str(&count("oom", s.oom_kills, s.oom_kills > 0));
        html.push_str(&count("producer-oom", s.producer_oom_kills, s.producer_oom_kills > 0));
        html.push_str(&count("duplicated", s.duplicated, s.duplicated > 0));
        html.push_str(&cell("blocked", Some(s.producer_blocked_s), format::secs(s.producer_blocked_s), false));
        html.push_str("</tr>");
    }
    html
}

/// The comparison table: `rows` after `clock` simulated seconds.
#[component]
fn SummaryTable(clock: RwSignal<f64>, rows: RwSignal<Vec<LaneRow>>) -> impl IntoView {
    view! {
        <div class="scroll wide" tabindex="0" role="region" aria-label="Comparison summary">
            <table class="summary" data-testid="compare-table">
                <caption>{move || format!("After {} of simulated time", format::secs(clock.get()))}</caption>
                <thead inner_html=header_row(COLUMNS)></thead>
                <tbody inner_html=move || rows.with(|r| summary_rows(r))></tbody>
            </table>
        </div>
        <p class="hint">
            "p99 latency counts processed messages only: a lost or dropped message never arrives, so look at lost and dropped beside it. Held now: where the backlog (generated, not yet processed) sits; peak backlog: the largest sampled, and where most of it was."
        </p>
    }
}

fn tick(lab: Lab, root: NodeRef<Section>, state: StoredValue<LoopState, LocalStorage>, seed: Memo<u64>) {
    let Some(root_el) = root.get_untracked() else { return };
    let now = now_s();
    if lab.view.get_untracked() != View::Compare {
        state.update_value(|s| s.last = now);
        return;
    }
    // New lanes or a new seed: rebuild every lane from time 0.
    let (ids, seed) = (lab.compare_ids.get_untracked(), seed.get_untracked());
    let rebuilt = lab.lanes.try_update_value(|l| (l.ids() != ids || l.seed != seed).then(|| l.set(&ids, seed))).flatten();
    let n = lab.lanes.with_value(|l| l.lanes.len());
    if rebuilt.is_some() || state.with_value(|s| s.diagrams.len() != n) {
        let reduced = media_matches("(prefers-reduced-motion: reduce)");
        state.update_value(|s| {
            s.diagrams = (0..n).map(|_| Diagram::new(reduced)).collect();
            s.rota = Rota::new(n * LANE_CHARTS.len());
            s.rows_at = -1.0;
        });
    }
    let (dt, budget) = state.with_value(|s| (now - s.last, s.budget.events()));
    let playing = lab.playing.get_untracked();
    let speed = lab.speed.get_untracked();
    let t0 = now_s();
    let mut traces = Vec::new();
    let mut reached = true;
    lab.lanes.update_value(|l| {
        reached = l.frame(playing, dt, speed, budget);
        traces = l.lanes.iter_mut().map(|lane| lane.driver.take_trace()).collect();
    });
    let engine_s = now_s() - t0;
    let t = lab.lanes.with_value(|l| l.now_s());
    if lab.clock.get_untracked() != t {
        lab.clock.set(t);
    }
    let theme = lab.theme();
    let redraw = lab.redraw.get_untracked();

    // Diagrams every frame.
    let snaps: Vec<Snapshot> = lab.lanes.with_value(|l| l.lanes.iter().map(|lane| lane.driver.sim().snapshot()).collect());
    state.update_value(|s| {
        if s.redraw_seen != redraw {
            s.redraw_seen = redraw;
            s.rota.invalidate();
        }
        for (k, snap) in snaps.iter().enumerate() {
            let (Some(d), Some(c)) = (s.diagrams.get_mut(k), canvas_by_testid(&root_el, &format!("lane-diagram-{}", k + 1))) else {
                continue;
            };
            d.ingest(traces.get(k).map_or(&[][..], |v| &v[..]), now);
            d.draw(&c, snap, &theme, now);
        }
    });

    // Lane charts, as the rota says (every lane's canvases are on show together).
    lab.lanes.with_value(|l| {
        state.update_value(|s| {
            let per = LANE_CHARTS.len();
            let canvas = |i: usize| canvas_by_testid(&root_el, &format!("lane-{}-chart-{}", i / per + 1, LANE_CHARTS[i % per].id()));
            let sim_t = |i: usize| l.lanes.get(i / per).map_or(f64::NAN, |lane| lane.driver.sim().now_s());
            for (i, c) in s.rota.due(now, |i| (sim_t(i), true), canvas) {
                let (Some(lane), Some(snap)) = (l.lanes.get(i / per), snaps.get(i / per)) else { continue };
                let sim = lane.driver.sim();
                let chart = LANE_CHARTS[i % per];
                let labels = stage_labels(sim.scenario());
                let ctx = Ctx {
                    series: sim.series(),
                    window_s: None,
                    heap_limit_bytes: snap.consumer.heap_limit_bytes,
                    producer_heap_limit_bytes: snap.producer.heap_limit_bytes,
                    stages: &labels,
                    theme: &theme,
                    export: false,
                };
                if let Err(e) = chart.draw(&c, &ctx) {
                    leptos::logging::warn!("lane chart: {e:?}");
                }
                s.rota.drawn(i, sim.now_s(), now);
            }
        });
    });

    // The table a few times a second.
    if now - state.with_value(|s| s.rows_at) >= TABLES_EVERY_S {
        let rows: Vec<LaneRow> = lab.lanes.with_value(|l| l.rows());
        if lab.compare_rows.with_untracked(|r| *r != rows) {
            lab.compare_rows.set(rows);
        }
        state.update_value(|s| s.rows_at = now);
    }

    state.update_value(|s| {
        s.last = now;
        s.budget.adapt(engine_s, !reached);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lanes::Lanes;

    #[test]
    fn every_row_has_a_cell_per_column_and_says_where_the_backlog_is() {
        let mut lanes = Lanes::new(PUSH_VS_PULL, 1);
        lanes.step(20.0);
        while !lanes.frame(false, 0.0, 1.0, 1_000_000) {}
        let html = summary_rows(&lanes.rows());
        assert_eq!(html.matches("<tr>").count(), 3);
        assert_eq!(html.matches("<th scope=\"row\">").count() + html.matches("<td ").count(), 3 * COLUMNS.len());
        for id in [
            "p99",
            "lost",
            "held-producer",
            "held-channels",
            "held-topic",
            "held-consumer",
            "peak-backlog",
            "producer-heap",
            "producer-heap-peak",
            "producer-oom",
            "flow",
        ] {
            assert_eq!(html.matches(&format!("data-testid=\"cmp-1-{id}\"")).count(), 1, "{id}");
        }
        assert!(COLUMNS.contains(&"p99 latency of processed"));
        let p99 = COLUMNS.iter().position(|c| c.starts_with("p99")).unwrap();
        assert_eq!(COLUMNS[p99 + 1], "lost", "lost messages beside the p99");
        assert!(html.contains(" in channels</td>") && html.contains(" in topic</td>"), "{html}");
        assert!(html.contains(">pull</span>") && html.contains(">push</span>"));
        // The unbounded buffer's channel is in its producer's heap: 64 MiB + 20 s × 9,500 × 1 KiB.
        let heap = &lanes.rows()[0].summary;
        assert_eq!(heap.producer_heap_bytes, 64 * 1_048_576 + heap.ledger.in_channels * 1_024);
        assert!(
            html.contains(&format!("data-testid=\"cmp-1-producer-heap\" data-value=\"{}\"", heap.producer_heap_bytes as f64)),
            "{html}"
        );
    }
}
