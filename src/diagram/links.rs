//! The links' painters: arrows between boxes (push, poll, credits and demand through
//! map and filter), their labels and rates, the permits held, calls to the downstream
//! service and the throttle's feedback loop.

use super::flow::Path;
use super::layout::{self, LANE_X_V};
use super::scene::{abbrev_rate, compact, rate_figure, LinkKind, Scene};
use super::state::topic;
use crate::canvas::text::{Font, SMALL};
use crate::canvas::{Align, P};
use crate::format;
use crate::theme::{GREEN, ORANGE, PURPLE, VERMILLION};
use bplab_engine::StageView;
use plotters::style::RGBColor;

impl Scene<'_, '_> {
    pub(super) fn lanes(&self, j: usize, member: Option<usize>) -> layout::Lanes {
        self.lay.lanes(j, member)
    }

    /// Link `j` with its arrows and labels; a fan to every member for a pull link into a
    /// consumer group.
    pub(super) fn link(&mut self, j: usize) {
        let t = *self.pen.theme;
        let kind = self.link_kind(j);
        let consumer = j == self.consumer_node();
        let members = self.snap.consumer.members.len();
        let fan = consumer && kind == LinkKind::Pull && members > 1 && !self.lay.vertical;
        let data = self.data_color();
        let rate = match kind {
            LinkKind::Pull => self.d.rates.sum(|p| matches!(p, Path::Batch { .. })),
            _ => self.d.rates.get(Path::Push { link: j as u16 }),
        };
        let width = (1.5 + 0.45 * (rate + 1.0).log10()).min(4.5);
        let blocked_here = self.snap.producer.blocked && self.sender(j) == 0 && j == 1;
        let targets: Vec<Option<usize>> = if fan { (0..members).map(Some).collect() } else { vec![if consumer { Some(0) } else { None }] };
        for m in &targets {
            let l = self.lanes(j, *m);
            let member_down = m.and_then(|m| self.snap.consumer.members.get(m)).is_some_and(|mv| !mv.up);
            let c = if member_down { t.grid } else { t.muted };
            self.pen.arrow(l.fwd.0, l.fwd.1, c, if fan { width.min(2.5) } else { width }, false);
            match kind {
                LinkKind::Pull => self.pen.arrow(l.back.0, l.back.1, if member_down { t.grid } else { ORANGE }, 1.5, true),
                LinkKind::Window => self.pen.arrow(l.back.0, l.back.1, PURPLE, 1.5, true),
                LinkKind::Push => {}
            }
        }
        // Demand and credits pass through map and filter: their tokens travel on to the
        // sender upstream of them.
        if kind == LinkKind::Window {
            let s = self.sender(j);
            for k in s + 1..j {
                let lk = self.lanes(k, None);
                let next = self.lanes(k + 1, None);
                // Across operator `k`, then back over link `k`.
                self.pen.line(next.back.1, lk.back.0, PURPLE, 1.0, true);
                if k == s + 1 {
                    self.pen.arrow(lk.back.0, lk.back.1, PURPLE, 1.5, true);
                } else {
                    self.pen.line(lk.back.0, lk.back.1, PURPLE, 1.5, true);
                }
            }
        }
        // A closed gate where the blocked producer waits.
        if blocked_here {
            let l = self.lanes(j, targets[0]);
            let (gx, gy) = l.fwd.0;
            if self.lay.vertical {
                self.pen.line((gx - 12.0, gy + 5.0), (gx + 12.0, gy + 5.0), VERMILLION, 4.0, false);
            } else {
                self.pen.line((gx + 5.0, gy - 12.0), (gx + 5.0, gy + 12.0), VERMILLION, 4.0, false);
            }
        }
        // Labels.
        let (top_opts, top_color): (Vec<String>, RGBColor) = match kind {
            LinkKind::Push => (vec!["push".into()], t.muted),
            LinkKind::Pull => {
                let mpr = self.snap.consumer.max_poll_records;
                if topic(self.snap).is_some() && consumer {
                    (vec!["poll / fetch".into(), "poll".into()], ORANGE)
                } else {
                    (vec![format!("poll({mpr})"), "poll".into()], ORANGE)
                }
            }
            LinkKind::Window => {
                let w = self.window(j).cloned().unwrap_or_default();
                if w.request {
                    (
                        vec![
                            format!("request(n) · {} in transit", format::count(w.in_transit as f64)),
                            "request(n)".into(),
                            "req(n)".into(),
                        ],
                        PURPLE,
                    )
                } else {
                    (vec![format!("credits · {} in transit", format::count(w.in_transit as f64)), "credits".into(), "cred.".into()], PURPLE)
                }
            }
        };
        let rate_opts: Vec<String> = if rate > 0.0 {
            vec![abbrev_rate(rate), rate_figure(rate), compact(rate)]
        } else if blocked_here {
            vec!["blocked".into(), "stop".into()]
        } else {
            vec!["0/s".into(), "0".into()]
        };
        let rate_s: Vec<&str> = rate_opts.iter().map(|s| s.as_str()).collect();
        let rate_color = if blocked_here { VERMILLION } else { data };
        let top: Vec<&str> = top_opts.iter().map(|s| s.as_str()).collect();
        let (a, b) = (self.lay.nodes[j - 1], self.lay.nodes[j]);
        if self.lay.vertical {
            let l = self.lanes(j, None);
            let lx = l.fwd.0 .0 + 14.0;
            let bin_left = self.lay.bins[j].x - 6.0;
            let room = bin_left - lx;
            let y0 = a.bottom();
            self.pen.fit_halo(&top, lx, y0 + 10.0, room, SMALL, top_color, Align::Left);
            self.pen.fit_halo(&rate_s, lx, y0 + 24.0, room, Font::new(11.0, true), rate_color, Align::Left);
        } else {
            let (x0, x1) = (a.right(), b.x);
            let gap = x1 - x0 - 6.0;
            let cx = (x0 + x1) / 2.0;
            let ly = a.mid_y();
            if fan {
                self.pen.fit_halo(&top, cx, a.y + 10.0, gap, SMALL, top_color, Align::Center);
                self.pen.fit_halo(&rate_s, cx, a.y + 24.0, gap, Font::new(11.0, true), rate_color, Align::Center);
            } else {
                self.pen.fit_halo(&top, cx, ly - 22.0, gap, SMALL, top_color, Align::Center);
                self.pen.fit_halo(&rate_s, cx, ly + 22.0, gap, Font::new(11.0, true), rate_color, Align::Center);
            }
        }
        // The permits the sender holds.
        if kind == LinkKind::Window {
            let w = self.window(j).cloned().unwrap_or_default();
            let pulse = self.now - self.d.arrived.get(j).copied().unwrap_or(f64::NEG_INFINITY) < 0.3 && !self.d.reduced_motion;
            let what = if w.request { "demand" } else { "credits" };
            let held_l = format!("{what} held {}", format::count(w.permits as f64));
            let held_s = format!("◆ {}", format::count(w.permits as f64));
            let held_xs = format!("◆{}", compact(w.permits as f64));
            let color = if w.permits == 0 { VERMILLION } else { PURPLE };
            let font = if pulse { Font::new(12.0, true) } else { Font::new(11.0, true) };
            if self.lay.vertical {
                let l = self.lanes(j, None);
                let lx = l.fwd.0 .0 + 14.0;
                let room = self.lay.bins[j].x - 6.0 - lx;
                self.pen.fit_halo(&[&held_l, &held_s, &held_xs], lx, a.bottom() + 38.0, room, font, color, Align::Left);
            } else {
                let (x0, x1) = (a.right(), b.x);
                let ly = a.mid_y();
                self.pen.fit_halo(&[&held_l, &held_s, &held_xs], (x0 + x1) / 2.0, ly + 38.0, x1 - x0 - 6.0, font, color, Align::Center);
            }
        }
    }

    /// Calls from the consumer to the downstream dependency, and their replies.
    pub(super) fn calls(&mut self) {
        let t = *self.pen.theme;
        let Some(ds) = self.lay.downstream else { return };
        let c = self.lay.consumer();
        let rate = self.d.rates.sum(|p| matches!(p, Path::Done { .. }));
        let (fwd, back) = self.call_lanes();
        self.pen.arrow(fwd.0, fwd.1, t.muted, 2.0, false);
        self.pen.arrow(back.0, back.1, GREEN, 1.5, true);
        let l = format!("replies {}", abbrev_rate(rate));
        let m = abbrev_rate(rate);
        let f = rate_figure(rate);
        let s = compact(rate);
        if self.lay.vertical {
            let x = fwd.0 .0 + 14.0;
            self.pen.fit_halo(&["calls ⇣ replies ⇡", "calls"], x, (c.bottom() + ds.y) / 2.0 - 8.0, c.w - 70.0, SMALL, t.muted, Align::Left);
            self.pen.fit_halo(&[&l, &m, &f, &s], x, (c.bottom() + ds.y) / 2.0 + 8.0, c.w - 70.0, Font::new(11.0, true), GREEN, Align::Left);
        } else {
            let cx = (c.right() + ds.x) / 2.0;
            let gap = ds.x - c.right() - 6.0;
            self.pen.fit_halo(&["calls", "call"], cx, fwd.0 .1 - 15.0, gap, SMALL, t.muted, Align::Center);
            self.pen.fit_halo(&[&l, &m, &f, &s], cx, back.0 .1 + 15.0, gap, Font::new(11.0, true), GREEN, Align::Center);
        }
    }

    pub(super) fn call_lanes(&self) -> ((P, P), (P, P)) {
        let c = self.lay.consumer();
        let ds = self.lay.downstream.unwrap_or_default();
        if self.lay.vertical {
            let x = c.x + LANE_X_V;
            (((x + 6.0, c.bottom() + 2.0), (x + 6.0, ds.y - 2.0)), ((x - 6.0, ds.y - 2.0), (x - 6.0, c.bottom() + 2.0)))
        } else {
            let y = ds.mid_y();
            (((c.right() + 2.0, y - 7.0), (ds.x - 2.0, y - 7.0)), ((ds.x - 2.0, y + 7.0), (c.right() + 2.0, y + 7.0)))
        }
    }

    /// The throttle's feedback: the topic's lag sets the producer's rate (a dashed line
    /// over the boxes, left to right; top to bottom the producer's title says it).
    pub(super) fn throttle_loop(&mut self) {
        let Some(ti) = self.snap.stages.iter().position(|s| matches!(s, StageView::Topic { .. })) else { return };
        if self.lay.vertical {
            return;
        }
        let (p, tp) = (self.lay.nodes[0], self.lay.nodes[ti + 1]);
        let top = (p.y - 5.0).max(2.0);
        let (x0, x1) = (tp.mid_x(), p.mid_x());
        self.pen.line((x0, tp.y), (x0, top), PURPLE, 1.5, true);
        self.pen.line((x0, top), (x1, top), PURPLE, 1.5, true);
        self.pen.arrow((x1, top), (x1, p.y), PURPLE, 1.5, false);
        let b = self.lay.nodes[1];
        let cx = (p.right() + b.x) / 2.0;
        self.pen.fit_halo(&["lag sets the rate", "lag → rate", "lag"], cx, p.y + 12.0, b.x - p.right() - 6.0, SMALL, PURPLE, Align::Center);
    }
}
