//! The simulator view: the pipeline diagram (and the credit sequence diagram when the
//! pipeline has credits or `request(n)`), the timeline, the readouts, the narrated event
//! log, the charts and the observability panel, and the animation loop that feeds them.
//!
//! Each frame (on `dom::use_animation_frames`) the loop asks the driver for the events the
//! frame's budget allows, publishes the snapshot, hands the trace to the diagrams and the
//! narrator, and redraws the chart the rota says is due; budget and rota are the frame
//! policy of `pacing`, shared with the comparison.

use crate::charts::{Chart, Ctx, EXPORT_SIZE};
use crate::controls::Timeline;
use crate::diagram::Diagram;
use crate::dom::{canvas_by_testid, media_matches, now_s, use_animation_frames};
use crate::observe::Observability;
use crate::pacing::{Budget, Rota, SpeedGauge, REPLAY_SHARE, TABLES_EVERY_S};
use crate::plotdata::stage_labels;
use crate::readouts::Readouts;
use crate::sequence::SequenceDiagram;
use crate::state::{Lab, View};
use crate::stats::{Sample, Stats, PUBLISH_EVERY};
use crate::theme::Theme;
use leptos::html::{Canvas, Section};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlCanvasElement;

struct FrameState {
    last: f64,
    budget: Budget,
    /// The charts that apply, with their canvases (looked up once: every chart card is
    /// rendered for the view's lifetime).
    charts: Vec<(Chart, Option<HtmlCanvasElement>)>,
    rota: Rota,
    redraw_seen: u64,
    slow_at: f64,
    slow_t: f64,
    stats: Stats,
    /// The speed really reached while playing, and the simulated time of the last frame.
    gauge: SpeedGauge,
    last_sim: f64,
}

/// The simulator: diagrams, timeline, readouts, narration, charts and tables. `embed`: the
/// compact layout of an iframe (the diagrams, the readouts, one chart, the narration's live
/// region).
#[component]
pub fn Stage(#[prop(optional)] embed: bool) -> impl IntoView {
    let lab = Lab::from_context();
    let root = NodeRef::<Section>::new();
    let diagram_ref = NodeRef::<Canvas>::new();
    let seq_ref = NodeRef::<Canvas>::new();
    let diagram = StoredValue::new_local(Diagram::new(media_matches("(prefers-reduced-motion: reduce)")));
    let seq = StoredValue::new_local(SequenceDiagram::new());
    let charts = Memo::new(move |_| {
        lab.scenario.with(|s| {
            if embed {
                let asked = lab.link_view.with_value(|v| v.chart.clone());
                let family = lab.preset.with(|id| bplab_engine::PRESETS.iter().find(|p| p.id == id).map(|p| p.family));
                vec![Chart::for_embed(asked.as_deref(), family, s)]
            } else {
                Chart::ALL.into_iter().filter(|c| c.applies(s)).collect::<Vec<_>>()
            }
        })
    });
    let seq_applies = Memo::new(move |_| lab.slow.with(SequenceDiagram::applies));
    let frame = StoredValue::new_local(FrameState {
        last: now_s(),
        budget: Budget::default(),
        charts: Vec::new(),
        rota: Rota::default(),
        redraw_seen: u64::MAX,
        slow_at: -1.0,
        slow_t: -1.0,
        stats: Stats::default(),
        gauge: SpeedGauge::default(),
        last_sim: 0.0,
    });
    let parts = Parts { root, diagram: diagram_ref, seq: seq_ref, diagram_state: diagram, seq_state: seq, frame, charts };

    // The loop's first frame comes after this view is mounted; a frame without its
    // canvases draws nothing.
    use_animation_frames(move || tick(lab, parts));
    let resize = window_event_listener(leptos::ev::resize, move |_| lab.redraw.update(|n| *n += 1));
    on_cleanup(move || resize.remove());

    // Every chart is rendered once and hidden when it does not apply to the pipeline; the
    // last one on show spans the row when their number is odd.
    let chart_cards = Chart::ALL
        .into_iter()
        .map(|c| {
            let shown = move || charts.with(|l| l.contains(&c));
            let span = move || charts.with(|l| l.len() % 2 == 1 && l.last() == Some(&c));
            view! {
                <figure class="chart-card" hidden=move || !shown() class:span=span>
                    <canvas class="chart" data-testid=format!("chart-{}", c.id()) role="img" aria-label=c.description()></canvas>
                    <figcaption class="chart-tools">
                        <button
                            class="png"
                            data-testid=format!("png-{}", c.id())
                            aria-label=format!("PNG {}×{}: download the {} chart as an image", EXPORT_SIZE.0, EXPORT_SIZE.1, c.id())
                            title="Download as PNG (800×400)"
                            on:click=move |_| export_png(lab, c)
                        >
                            "PNG 800×400"
                        </button>
                    </figcaption>
                </figure>
            }
        })
        .collect_view();

    view! {
        <section class="stage" aria-label="Pipeline, timeline and charts" node_ref=root>
            // The skip link's target (the diagram, then the timeline come next).
            <div class="diagrams" id="simulator" tabindex="-1">
                <canvas
                    node_ref=diagram_ref
                    class="diagram"
                    data-testid="diagram"
                    role="img"
                    aria-label="Animated pipeline: producer, stages and consumer with their fill levels, lag per partition and the consumer's heap"
                ></canvas>
                    <canvas
                        node_ref=seq_ref
                        class="sequence"
                        hidden=move || !seq_applies.get()
                        data-testid="sequence"
                        role="img"
                        aria-label="Sequence diagram of the credits or demand granted and the messages sent"
                    ></canvas>
            </div>
            {(!embed).then(|| view! { <Timeline /> })}
            <Readouts />
            <EventLog log=lab.log />
            <section class="charts-panel" aria-labelledby="charts-title">
                <div class="panel-head" hidden=embed>
                    <h2 id="charts-title">"Charts"</h2>
                    <div class="window" role="radiogroup" aria-label="Time window of the charts">
                        <label>
                            <input
                                type="radio"
                                name="window"
                                data-testid="window-all"
                                prop:checked=move || lab.window.get().is_none()
                                on:change=move |_| {
                                    lab.window.set(None);
                                    lab.redraw.update(|n| *n += 1);
                                }
                            />
                            "whole run"
                        </label>
                        <label>
                            <input
                                type="radio"
                                name="window"
                                data-testid="window-60"
                                prop:checked=move || lab.window.get().is_some()
                                on:change=move |_| {
                                    lab.window.set(Some(60.0));
                                    lab.redraw.update(|n| *n += 1);
                                }
                            />
                            "last 60 s"
                        </label>
                    </div>
                </div>
                <div class="charts">{chart_cards}</div>
            </section>
            {(!embed).then(|| view! { <Observability snapshot=lab.slow /> })}
        </section>
    }
}

/// The narrated events (`log`, most recent first): a visible log, and a polite live region
/// that reads the latest.
#[component]
fn EventLog(log: RwSignal<Vec<String>>) -> impl IntoView {
    let latest = move || log.with(|l| l.first().cloned().unwrap_or_default());
    // Drawn as HTML: no view code per line.
    let items = move || log.with(|l| l.iter().map(|t| format!("<li>{}</li>", crate::html::esc(t))).collect::<String>());
    view! {
        <section class="events" aria-labelledby="events-title">
            <h2 id="events-title">"What just happened"</h2>
            <p class="sr-only" aria-live="polite" aria-atomic="true" data-testid="announcer">{latest}</p>
            <p class="hint" data-testid="events-empty" hidden=move || log.with(|l| !l.is_empty())>
                "Press Play: key events (OOM kills, the producer blocking, shedding, rebalances) are told here."
            </p>
            <ul class="event-log" data-testid="event-log" hidden=move || log.with(Vec::is_empty) inner_html=items></ul>
        </section>
    }
}

#[derive(Clone, Copy)]
struct Parts {
    root: NodeRef<Section>,
    diagram: NodeRef<Canvas>,
    seq: NodeRef<Canvas>,
    diagram_state: StoredValue<Diagram, LocalStorage>,
    seq_state: StoredValue<SequenceDiagram, LocalStorage>,
    frame: StoredValue<FrameState, LocalStorage>,
    /// The charts that apply to the pipeline.
    charts: Memo<Vec<Chart>>,
}

fn tick(lab: Lab, parts: Parts) {
    let Parts { root, diagram, seq, diagram_state, seq_state, frame, charts } = parts;
    let now = now_s();
    // The set of charts follows the pipeline; a new one starts out with every chart due.
    charts.with_untracked(|list| {
        frame.update_value(|f| {
            if !f.charts.iter().map(|c| c.0).eq(list.iter().copied()) {
                f.charts = list.iter().map(|&chart| (chart, None)).collect();
                f.rota = Rota::new(list.len());
            }
            if let Some(root_el) = root.get_untracked() {
                for c in f.charts.iter_mut().filter(|c| c.1.is_none()) {
                    c.1 = canvas_by_testid(&root_el, &format!("chart-{}", c.0.id()));
                }
            }
        })
    });
    // Another view on show, or an embed scrolled out of sight: nothing moves.
    if lab.view.get_untracked() != View::Simulator || !lab.on_screen.get_untracked() {
        frame.update_value(|f| {
            f.last = now;
            f.gauge.clear();
        });
        return;
    }
    // Which charts are on screen, asked first, while the layout is still clean (before this
    // frame changes the DOM, so the question costs no layout of its own).
    let height = window().inner_height().ok().and_then(|h| h.as_f64()).unwrap_or(f64::INFINITY);
    let visible = |el: &web_sys::Element| {
        let r = el.get_bounding_client_rect();
        r.bottom() > 0.0 && r.top() < height
    };
    let on_screen: Vec<bool> = frame.with_value(|f| f.charts.iter().map(|c| c.1.as_ref().is_none_or(|el| visible(el))).collect());
    // The diagrams are drawn only on screen (their trace is taken every frame regardless).
    let diagram_seen = diagram.get_untracked().is_some_and(|el| visible(&el));
    let seq_seen = seq.get_untracked().is_some_and(|el| visible(&el));
    let (dt, budget) = frame.with_value(|f| (now - f.last, f.budget.events()));
    let playing = lab.playing.get_untracked();
    let speed = lab.speed.get_untracked();
    let started = now_s();
    let mut out = None;
    lab.driver.update_value(|d| {
        d.set_playing(playing);
        d.set_speed(speed);
        // A replay (after a seek or a change) gets a larger share of the frame.
        let replay = d.replaying();
        let f = d.frame(dt, if replay { budget * REPLAY_SHARE } else { budget });
        let progress = d.replay_progress().map(|p| (p * 100.0).floor() as u8);
        out = Some((d.sim().snapshot(), d.take_trace(), d.take_protocol(), f, d.sim().now_s(), d.horizon_s(), progress, replay, d.speed()));
    });
    let Some((snapshot, trace, protocol, fr, sim_t, horizon, progress, replay, asked)) = out else { return };
    let engine_s = now_s() - started;

    // The speed reached: measured over frames that played on from the previous one (not
    // a replay, nor a jump such as a seek to the tip: no frame advances more than it asks).
    let behind = frame
        .try_update_value(|f| {
            let advance = sim_t - f.last_sim;
            f.last_sim = sim_t;
            if playing && !replay && !fr.replaying && advance >= 0.0 && advance <= dt * asked * 1.001 + 1e-6 {
                f.gauge.played(asked, dt, advance);
            } else {
                f.gauge.clear();
            }
            f.gauge.behind()
        })
        .flatten();
    if lab.reached.get_untracked() != behind {
        lab.reached.set(behind);
    }

    // Plain data out.
    if lab.replaying.get_untracked() != progress {
        lab.replaying.set(progress);
    }
    if lab.clock.get_untracked() != sim_t {
        lab.clock.set(sim_t);
    }
    if lab.horizon.get_untracked() != horizon {
        lab.horizon.set(horizon);
    }
    let (slow_at, slow_t) = frame.with_value(|f| (f.slow_at, f.slow_t));
    if now - slow_at >= TABLES_EVERY_S && sim_t != slow_t {
        lab.slow.set(snapshot.clone());
        frame.update_value(|f| {
            f.slow_at = now;
            f.slow_t = sim_t;
        });
    }
    lab.snapshot.set(snapshot);
    let theme = lab.theme();

    // Narration.
    let mut said = None;
    lab.narrator.update_value(|n| {
        n.ingest(&trace);
        lab.snapshot.with_untracked(|snap| n.observe(snap));
        said = n.poll(now);
    });
    if let Some(text) = said {
        lab.announce(text);
    }

    // Diagrams.
    let d0 = now_s();
    if let Some(canvas) = diagram.get_untracked() {
        lab.snapshot.with_untracked(|snap| {
            diagram_state.update_value(|d| {
                d.ingest(&trace, now);
                if diagram_seen {
                    d.draw(&canvas, snap, &theme, now);
                }
            });
        });
    }
    if let Some(canvas) = seq.get_untracked().filter(|_| lab.snapshot.with_untracked(SequenceDiagram::applies)) {
        lab.snapshot.with_untracked(|snap| {
            seq_state.update_value(|s| {
                s.ingest(&protocol, snap);
                if seq_seen {
                    s.draw(&canvas, snap, &theme);
                }
            });
        });
    }
    let diagram_s = now_s() - d0;

    // Charts, as the rota says.
    let c0 = now_s();
    let redraw = lab.redraw.get_untracked();
    let due: Vec<(usize, Chart, HtmlCanvasElement)> = frame
        .try_update_value(|f| {
            if f.redraw_seen != redraw {
                f.redraw_seen = redraw;
                f.rota.invalidate();
            }
            let state = |i: usize| (sim_t, on_screen.get(i).copied().unwrap_or(true));
            f.rota.due(now, state, |i| f.charts[i].1.clone()).into_iter().map(|(i, canvas)| (i, f.charts[i].0, canvas)).collect()
        })
        .unwrap_or_default();
    if !due.is_empty() {
        with_chart_ctx(lab, &theme, false, |ctx| {
            for (_, chart, canvas) in &due {
                if let Err(e) = chart.draw(canvas, ctx) {
                    leptos::logging::warn!("chart {}: {e:?}", chart.id());
                }
            }
        });
        frame.update_value(|f| {
            for (i, _, _) in &due {
                f.rota.drawn(*i, sim_t, now);
            }
        });
    }
    let charts_s = now_s() - c0;

    frame.update_value(|f| {
        f.stats.record(Sample {
            frame_ms: dt * 1e3,
            engine_ms: engine_s * 1e3,
            charts_ms: charts_s * 1e3,
            diagram_ms: diagram_s * 1e3,
            charts: due.len() as u32,
            events: fr.events,
        });
        if f.stats.frames % PUBLISH_EVERY == 0 {
            f.stats.publish();
        }
        f.last = now;
        if replay {
            // A replay is behind by definition; its budget is REPLAY_SHARE times the frame's.
            f.budget.adapt(engine_s / REPLAY_SHARE as f64, true);
        } else {
            f.budget.adapt(engine_s, fr.behind);
        }
    });
}

/// Calls `f` with what every chart is drawn from: the run's series, the chart window, the
/// heap limits, the stages' labels and the theme (`export`: the 800×400 PNG's layout).
fn with_chart_ctx<R>(lab: Lab, theme: &Theme, export: bool, f: impl FnOnce(&Ctx) -> R) -> R {
    let (limit, producer_limit) = lab.snapshot.with_untracked(|s| (s.consumer.heap_limit_bytes, s.producer.heap_limit_bytes));
    let window = lab.window.get_untracked();
    let labels = lab.scenario.with_untracked(stage_labels);
    lab.driver.with_value(|d| {
        f(&Ctx {
            series: d.sim().series(),
            window_s: window,
            heap_limit_bytes: limit,
            producer_heap_limit_bytes: producer_limit,
            stages: &labels,
            theme,
            export,
        })
    })
}

/// Draws `chart` on a detached 800×400 canvas and downloads it as a PNG.
fn export_png(lab: Lab, chart: Chart) {
    let doc = document();
    let Ok(canvas) = doc.create_element("canvas").map(|e| e.unchecked_into::<web_sys::HtmlCanvasElement>()) else { return };
    canvas.set_width(EXPORT_SIZE.0);
    canvas.set_height(EXPORT_SIZE.1);
    let theme = lab.theme();
    let ok = with_chart_ctx(lab, &theme, true, |ctx| chart.draw(&canvas, ctx));
    if let Err(e) = ok {
        leptos::logging::warn!("export {}: {e:?}", chart.id());
        return;
    }
    let Ok(url) = canvas.to_data_url() else { return };
    crate::dom::download(&format!("bplab-{}-{}.png", lab.preset.get_untracked(), chart.id()), &url);
}
