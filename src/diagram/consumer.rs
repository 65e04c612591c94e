//! The consumer group's painters: the group's box, one card per member (state, heap,
//! workers, in flight) and the worker pool (squares or a bar, and the concurrency limit).

use super::scene::{Scene, MEMBER_COLORS};
use super::state::{topic, Marks};
use crate::canvas::text::{Font, LABEL, SMALL};
use crate::canvas::{Align, Measure, Rect};
use crate::format;
use crate::theme::{GREEN, ORANGE, VERMILLION};
use bplab_engine::{Commit, MemberView, Mode};
use plotters::style::RGBColor;

impl Scene<'_, '_> {
    pub(super) fn consumer(&mut self, r: Rect) {
        let g = self.snap.consumer.clone();
        let t = *self.pen.theme;
        let rebalancing = g.rebalancing || self.now < self.d.rebalance_until;
        let n = g.members.len();
        let title_l = if n > 1 { format!("Consumer group · {n} members") } else { "Consumer".to_string() };
        let title_s = if n > 1 { format!("Group ({n})") } else { "Consumer".to_string() };
        self.frame(r, &[&title_l, &title_s, "Cons."], if rebalancing { ORANGE } else { t.muted }, if rebalancing { 3.0 } else { 1.5 });
        let mode = match (g.mode, g.polls) {
            (Mode::Sync, true) => ["poll, process, poll", "sync"],
            (Mode::Async, true) => ["poll, hand off async", "async"],
            (Mode::Sync, false) => ["pushed to; processes in turn", "pushed, sync"],
            (Mode::Async, false) => ["pushed to; hands off async", "pushed, async"],
        };
        let commit = match g.commit {
            Commit::Auto => ["auto-commit", "auto"],
            Commit::Sync => ["commit after processing", "commit after"],
            Commit::Async => ["commitAsync after processing", "commitAsync"],
        };
        let has_topic = topic(self.snap).is_some();
        let line_y = r.y + 30.0;
        if g.rebalancing {
            self.pen.fit(
                &["REBALANCING: partitions paused", "REBALANCING", "rebal."],
                r.x + 8.0,
                line_y,
                r.w - 16.0,
                LABEL,
                ORANGE,
                Align::Left,
            );
        } else {
            let full = if has_topic { format!("{} · {}", mode[0], commit[0]) } else { mode[0].to_string() };
            let mid = if has_topic { format!("{} · {}", mode[1], commit[1]) } else { mode[1].to_string() };
            self.pen.fit(&[&full, &mid, mode[1]], r.x + 8.0, line_y, r.w - 16.0, SMALL, t.muted, Align::Left);
        }
        for (i, m) in g.members.iter().enumerate() {
            if let Some(card) = self.lay.members.get(i).copied() {
                self.member(i, card, m, n > 1);
            }
        }
    }

    pub(super) fn member(&mut self, i: usize, r: Rect, m: &MemberView, named: bool) {
        let t = *self.pen.theme;
        let g = &self.snap.consumer;
        let marks = self.d.marks.get(i).copied().unwrap_or_default();
        let flashing = !self.d.reduced_motion && self.now < marks.flash_until;
        let down = !m.up;
        let border = if down || m.evicted {
            VERMILLION
        } else if m.paused {
            ORANGE
        } else {
            t.grid
        };
        let fill_alpha = if flashing {
            0.25 + 0.2 * ((self.now * 12.0).sin() * 0.5 + 0.5)
        } else if down {
            0.10
        } else {
            0.0
        };
        self.pen.round_rect(
            r,
            6.0,
            Some((if fill_alpha > 0.0 { VERMILLION } else { t.bg }, if fill_alpha > 0.0 { fill_alpha } else { 1.0 })),
            Some((border, if down { 2.5 } else { 1.0 })),
        );
        if down {
            self.pen.hatch(r.inset(1.0, 1.0), VERMILLION, 0.15);
        }
        let (x, w) = (r.x + 6.0, r.w - 12.0);
        if r.h < 15.0 {
            // Too many members for text: a strip per member, its colour and state only
            // (down and evicted are striped and outlined above).
            self.pen.fill_rect(Rect::new(r.x + 2.0, r.y + 1.0, 6.0, (r.h - 2.0).max(1.0)), MEMBER_COLORS[i % MEMBER_COLORS.len()], 1.0);
            let heap = m.heap_bytes as f64 / g.heap_limit_bytes.max(1) as f64;
            self.pen.bar(
                Rect::new(r.x + 12.0, r.y + r.h * 0.3, (r.w - 18.0).max(0.0), (r.h * 0.4).max(1.0)),
                heap,
                if heap > 0.85 { VERMILLION } else { GREEN },
            );
            return;
        }
        // Tall cards spread their rows out.
        let sp = ((r.h - 100.0) / 5.0).clamp(0.0, 9.0);
        let mut y = r.y + 10.0 + sp * 0.5;
        // Status row: colour swatch and name, then the state.
        let mut sx = x;
        if named {
            self.pen.fill_rect(Rect::new(sx, y - 4.5, 9.0, 9.0), MEMBER_COLORS[i % MEMBER_COLORS.len()], 1.0);
            sx += 12.0;
            let nw = self.pen.fit(&[&format!("m{i}")], sx, y, w, LABEL, t.fg, Align::Left);
            sx += nw + 6.0;
        }
        let restart = m.restart_in_s.map(format::secs).unwrap_or_default();
        let slow_here = self.d.slow.as_ref().is_some_and(|s| s.member as usize == i && (!s.stuck.is_empty() || (self.now - s.wall) < 3.0));
        let (state, color): (Vec<String>, RGBColor) = if down {
            let what = if marks.kill.is_some() { "OOM-KILLED" } else { "DOWN" };
            (vec![format!("{what} · restart in {restart}"), format!("{what} · {restart}"), what.to_string()], VERMILLION)
        } else if m.evicted {
            (vec!["EVICTED: poll interval exceeded".into(), "EVICTED".into()], VERMILLION)
        } else if g.rebalancing {
            (vec!["waiting for rebalance".into(), "rebalancing".into()], ORANGE)
        } else if m.paused {
            (vec!["PAUSED: too much in flight".into(), "PAUSED".into()], ORANGE)
        } else if slow_here {
            (vec!["slow message: head of line".into(), "slow message".into(), "slow".into()], VERMILLION)
        } else if m.waiting_for_batch {
            (vec!["processing its batch".into(), "processing".into()], t.muted)
        } else if g.polls {
            (vec!["polling".into()], t.muted)
        } else {
            (vec!["receiving".into()], t.muted)
        };
        let opts: Vec<&str> = state.iter().map(|s| s.as_str()).collect();
        let bold = if color == t.muted { LABEL } else { Font::new(12.0, true) };
        self.pen.fit(&opts, sx, y, r.right() - 6.0 - sx, bold, color, Align::Left);
        y += 16.0 + sp;
        let full = r.h >= 92.0;
        let heap_frac = m.heap_bytes as f64 / g.heap_limit_bytes.max(1) as f64;
        let heap_color = if heap_frac > 0.85 {
            VERMILLION
        } else if heap_frac > 0.6 {
            ORANGE
        } else {
            GREEN
        };
        let heap_l = format!("heap {} / {}", format::bytes(m.heap_bytes as f64), format::bytes(g.heap_limit_bytes as f64));
        let heap_m = format!("heap {:.0}%", heap_frac * 100.0);
        if down {
            if let Some((inflight, lost)) = marks.kill {
                let l = format!("killed with {} in flight; {} lost", format::count(inflight as f64), format::count(lost as f64));
                let s = format!("lost {}", format::count(lost as f64));
                if y + 6.0 <= r.bottom() {
                    self.pen.fit(&[&l, &s], x, y, w, SMALL, t.fg, Align::Left);
                }
            }
            return;
        }
        if full {
            self.pen.fit(&[&heap_l, &heap_m], x, y, w, SMALL, t.fg, Align::Left);
            y += 11.0;
            self.pen.bar(Rect::new(x, y - 3.0, w, 7.0 + sp * 0.4), heap_frac, heap_color);
            y += 12.0 + sp * 1.4;
        } else if y + 6.0 <= r.bottom() {
            let lw = self.pen.fit(&[&heap_m, "heap"], x, y, w * 0.45, SMALL, t.fg, Align::Left);
            if lw > 0.0 {
                self.pen.bar(Rect::new(x + lw + 6.0, y - 3.5, (w - lw - 6.0).max(0.0), 7.0), heap_frac, heap_color);
            }
            y += 15.0;
        }
        // Workers.
        if y + 6.0 <= r.bottom() {
            y = self.workers(i, Rect::new(x, y, w, (r.bottom() - y).max(0.0)), m, full, marks, sp);
        }
        if y + 6.0 <= r.bottom() {
            let inflight = format!("in flight {}", format::count(m.in_flight as f64));
            let both = format!("{inflight} · cache {}", format::count(m.fetch_cache as f64));
            let opts: Vec<&str> = if m.fetch_cache > 0 { vec![&both, &inflight] } else { vec![&inflight] };
            self.pen.fit(&opts, x, y, w, SMALL, t.fg, Align::Left);
        }
    }

    /// The worker pool: a square per worker when they fit, else a bar. Busy workers are
    /// filled, those waiting for the downstream filled orange and striped, idle ones pale.
    /// Returns the y below.
    pub(super) fn workers(&mut self, _i: usize, r: Rect, m: &MemberView, full: bool, marks: Marks, sp: f64) -> f64 {
        let t = *self.pen.theme;
        let total = self.snap.consumer.workers.max(1);
        let busy = m.busy_workers.min(total);
        let waiting = m.waiting_workers.min(busy);
        let working = busy - waiting;
        let limit = m.limit;
        let limited = limit < total;
        let idle = total - busy;
        let text_l = if waiting > 0 {
            format!("workers {working} busy · {waiting} waiting · {idle} idle")
        } else {
            format!("workers {busy}/{total} busy")
        };
        let text_m =
            if waiting > 0 { format!("{working} busy · {waiting} waiting · {idle} idle") } else { format!("{busy}/{total} busy") };
        let text_w2 = if waiting > 0 { format!("{working} busy · {waiting} wait") } else { format!("{busy}/{total} busy") };
        let text_s = if waiting > 0 { format!("{working}+{waiting}w/{total}") } else { format!("{busy}/{total} busy") };
        let limit_l = format!("limit {limit}");
        let data = self.data_color();
        let mut y = r.y;
        let cell = 9.0 + sp * 0.5;
        let per_row = ((r.w + 3.0) / (cell + 3.0)).floor().max(1.0) as u32;
        let squares = total <= per_row * 2 && total <= 48;
        let glyph_h = if squares {
            if total > per_row {
                2.0 * cell + 3.0
            } else {
                cell
            }
        } else {
            8.0
        };
        let compact = !full;
        // Compact: glyphs (or bar) left, figure right, one row.
        let text_c = if limited { format!("{text_s} · {limit_l}") } else { text_s.clone() };
        let text_w = if compact {
            let wc = self.pen.width(&text_c, SMALL.px, false);
            if wc <= r.w * 0.6 {
                wc
            } else {
                self.pen.width(&text_s, SMALL.px, false).min(r.w * 0.5)
            }
        } else {
            0.0
        };
        let gw = if compact { (r.w - text_w - 8.0).max(20.0) } else { r.w };
        if squares && compact && total > ((gw + 3.0) / (cell + 3.0)).floor() as u32 {
            // Not enough room on one row: fall through to the bar.
        }
        let per_row_g = ((gw + 3.0) / (cell + 3.0)).floor().max(1.0) as u32;
        let squares = squares && (!compact || total <= per_row_g);
        let top = y - if compact { 4.5 } else { 0.0 };
        if squares {
            for k in 0..total {
                let (cx, cy) = (r.x + (k % per_row_g) as f64 * (cell + 3.0), top + (k / per_row_g) as f64 * (cell + 3.0));
                let c = Rect::new(cx, cy, cell, cell);
                if k < working {
                    self.pen.fill_rect(c, data, 1.0);
                } else if k < busy {
                    self.pen.fill_rect(c, ORANGE, 1.0);
                    self.pen.hatch(c, t.bg, 0.6);
                } else {
                    // Idle: a pale tile, not an outline (which read as an empty checkbox).
                    self.pen.fill_rect(c, t.muted, 0.3);
                }
                if limited && k + 1 == limit {
                    let lx = cx + cell + 1.5;
                    let flash = self.now < marks.limit_flash_until;
                    self.pen.line((lx, cy - 2.0), (lx, cy + cell + 2.0), if flash { ORANGE } else { t.fg }, 2.0, false);
                }
            }
        } else {
            let bar = Rect::new(r.x, top, gw, 8.0);
            self.pen.fill_rect(bar, t.grid, 1.0);
            let f = |k: u32| k as f64 / total as f64 * gw;
            self.pen.fill_rect(Rect::new(bar.x, bar.y, f(working), bar.h), data, 1.0);
            let wr = Rect::new(bar.x + f(working), bar.y, f(waiting), bar.h);
            self.pen.fill_rect(wr, ORANGE, 1.0);
            self.pen.hatch(wr, t.bg, 0.6);
            if limited {
                let lx = bar.x + f(limit);
                let flash = self.now < marks.limit_flash_until;
                self.pen.line((lx, bar.y - 3.0), (lx, bar.bottom() + 3.0), if flash { ORANGE } else { t.fg }, 2.0, false);
            }
        }
        if compact {
            self.pen.fit(&[&text_c, &text_w2, &text_s], r.right(), y, text_w.max(r.w - gw - 6.0), SMALL, t.fg, Align::Right);
            y += 15.0;
        } else {
            y += glyph_h + 9.0;
            if y + 4.0 <= r.bottom() {
                let a = format!("{text_l} · {limit_l}");
                let b = format!("{text_m} · {limit_l}");
                let one_row = limited && self.pen.width(&b, SMALL.px, false) <= r.w;
                let opts: Vec<&str> = if one_row { vec![&a, &b] } else { vec![&text_l, &text_m, &text_w2, &text_s] };
                self.pen.fit(&opts, r.x, y, r.w, SMALL, t.fg, Align::Left);
                y += 15.0 + sp;
                if limited && !one_row && y + 4.0 <= r.bottom() {
                    let l = format!("concurrency limit {limit}");
                    self.pen.fit(&[&l, &limit_l], r.x, y, r.w, Font::new(11.0, true), t.fg, Align::Left);
                    y += 15.0 + sp;
                }
            }
        }
        y
    }
}
