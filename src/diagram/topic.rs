//! The topic's painter: one lane per partition (deleted, fetched, waiting), lag figures
//! with their trend, owners, a held-up partition, and the legend.

use super::scene::{Scene, MEMBER_COLORS};
use crate::canvas::text::{LABEL, SMALL, VALUE};
use crate::canvas::{Align, Measure, Rect};
use crate::format;
use crate::theme::{PURPLE, VERMILLION};
use bplab_engine::PartitionView;
use plotters::style::RGBColor;

impl Scene<'_, '_> {
    pub(super) fn topic(&mut self, r: Rect, parts: &[PartitionView]) {
        let t = *self.pen.theme;
        let title_l = format!("Topic · {} partitions", parts.len());
        let title_m = format!("Topic ({})", parts.len());
        let y = self.frame(r, &[&title_l, &title_m, "Topic"], t.muted, 1.5);
        let lag: u64 = parts.iter().map(|p| p.lag).sum();
        let lag_l = format!("lag {} (log end − committed)", format::count(lag as f64));
        let lag_s = format!("lag {}", format::count(lag as f64));
        let footer = 34.0;
        let region = Rect::new(r.x + 8.0, y, r.w - 16.0, (r.bottom() - footer - y).max(0.0));
        let n = parts.len().max(1);
        let lane_h = (region.h / n as f64).min(26.0);
        // Too many to draw: a row at the bottom says how many are left out.
        let region = if lane_h >= 4.0 { region } else { Rect::new(region.x, region.y, region.w, (region.h - 14.0).max(0.0)) };
        let shown = if lane_h >= 4.0 { n } else { (region.h / 4.0).floor() as usize };
        let lane_h = if shown > 0 { (region.h / shown as f64).min(26.0) } else { 0.0 };
        let labels = lane_h >= 12.0;
        let members = self.snap.consumer.members.len();
        let scale = self.d.lane_scale.max(1.0);
        let stuck = self.d.slow.as_ref().map(|s| s.stuck.clone()).unwrap_or_default();
        // Label columns: partition name, lag figure, owner.
        let name_w = if labels { self.pen.width(&format!("p{}", n - 1), SMALL.px, false) + 6.0 } else { 0.0 };
        let lag_w = if labels { self.pen.width("888.8 k ↑", SMALL.px, false) + 4.0 } else { 0.0 };
        let own_w = if labels && members > 1 { self.pen.width("m8", SMALL.px, false) + 14.0 } else { 0.0 };
        let mut bar_w = region.w - name_w - lag_w - own_w;
        let (name_w, lag_w) = if bar_w < 40.0 && labels {
            // Too narrow for names: keep the lag figures.
            bar_w = region.w - lag_w - own_w;
            (0.0, lag_w)
        } else {
            (name_w, lag_w)
        };
        let data = self.data_color();
        for (i, p) in parts.iter().take(shown).enumerate() {
            let ly = region.y + i as f64 * lane_h;
            let bh = (lane_h - if lane_h >= 6.0 { 3.0 } else { 1.0 }).max(1.0);
            let mid = ly + bh / 2.0;
            let bx = region.x + name_w;
            let is_stuck = stuck.contains(&i);
            if name_w > 0.0 {
                self.pen.text(&format!("p{i}"), region.x, mid, SMALL, t.muted, Align::Left);
            }
            self.pen.fill_rect(Rect::new(bx, ly, bar_w, bh), t.grid, 1.0);
            // committed .. log start: deleted by retention before anyone processed it.
            let start = p.log_start.max(p.committed);
            let deleted = ((start - p.committed) as f64 / scale * bar_w).min(bar_w);
            let fetched = (p.position.saturating_sub(start)) as f64 / scale * bar_w;
            let waiting = (p.log_end.saturating_sub(p.position.max(start))) as f64 / scale * bar_w;
            let fetched = fetched.min(bar_w - deleted);
            let waiting = waiting.min(bar_w - deleted - fetched);
            if deleted > 0.0 {
                let d = Rect::new(bx, ly, deleted, bh);
                self.pen.fill_rect(d, VERMILLION, 0.35);
                self.pen.hatch(d, VERMILLION, 0.9);
            }
            self.pen.fill_rect(Rect::new(bx + deleted, ly, fetched, bh), PURPLE, 1.0);
            self.pen.fill_rect(Rect::new(bx + deleted + fetched, ly, waiting, bh), data, 1.0);
            if is_stuck {
                self.pen.round_rect(Rect::new(bx - 1.0, ly - 1.0, bar_w + 2.0, bh + 2.0), 2.0, None, Some((VERMILLION, 2.0)));
            }
            if labels {
                let trend = self.d.parts.get(i).map_or(0, |h| h.trend);
                let arrow = match trend {
                    1 => " ↑",
                    -1 => " ↓",
                    _ => "",
                };
                let fig = format!("{}{arrow}", format::count(p.lag as f64));
                let color = if is_stuck { VERMILLION } else { t.fg };
                self.pen.fit(&[&fig, &format::count(p.lag as f64)], bx + bar_w + lag_w, mid, lag_w - 2.0, SMALL, color, Align::Right);
                if own_w > 0.0 {
                    let ox = bx + bar_w + lag_w + 4.0;
                    match p.owner {
                        Some(o) => {
                            self.pen.fill_rect(Rect::new(ox, mid - 3.5, 7.0, 7.0), MEMBER_COLORS[o as usize % MEMBER_COLORS.len()], 1.0);
                            self.pen.text(&format!("m{o}"), ox + 9.0, mid, SMALL, t.muted, Align::Left);
                        }
                        None => self.pen.text("–", ox + 2.0, mid, SMALL, t.muted, Align::Left),
                    }
                }
            }
        }
        if shown < parts.len() {
            let more = format!("+{} more partitions", parts.len() - shown);
            self.pen.fit(
                &[&more, &format!("+{}", parts.len() - shown)],
                region.x,
                region.bottom() + 7.0,
                region.w,
                SMALL,
                t.muted,
                Align::Left,
            );
        }
        let stuck_note = stuck.first().map(|p| format!("p{p} held up by a slow message"));
        let fy = r.bottom() - 26.0;
        match &stuck_note {
            Some(note) => {
                let short = format!("p{} held up", stuck[0]);
                self.pen.fit(&[note, &short, "held up"], r.x + 8.0, fy, r.w - 16.0, LABEL, VERMILLION, Align::Left);
            }
            None => {
                self.pen.fit(&[&lag_l, &lag_s], r.x + 8.0, fy, r.w - 16.0, VALUE, t.fg, Align::Left);
            }
        }
        // Legend: long labels when all fit, else short ones.
        let ly = r.bottom() - 10.0;
        let room = r.w - 16.0;
        let mut entries: Vec<(RGBColor, &str, &str)> =
            vec![(PURPLE, "fetched, uncommitted", "fetched"), (data, "not fetched yet", "unfetched")];
        if parts.iter().any(|p| p.log_start > p.committed) {
            entries.push((VERMILLION, "deleted unread", "deleted"));
        }
        let need = |s: &mut Self, long: bool| {
            entries.iter().map(|e| 21.0 + s.pen.width(if long { e.1 } else { e.2 }, SMALL.px, false)).sum::<f64>() - 10.0
        };
        let long = need(self, true) <= room;
        if long || need(self, false) <= room {
            let mut x = r.x + 8.0;
            for (c, l, sh) in entries.iter().copied() {
                let label = if long { l } else { sh };
                self.pen.fill_rect(Rect::new(x, ly - 4.0, 8.0, 8.0), c, 1.0);
                self.pen.text(label, x + 11.0, ly, SMALL, t.muted, Align::Left);
                x += 21.0 + self.pen.width(label, SMALL.px, false);
            }
            // The bars' scale follows the largest lag lately: say what a full bar is.
            let n = format::count(self.d.lane_scale.max(1.0));
            let (full, short) = (format!("full bar = {n} msg"), format!("bar = {n}"));
            self.pen.fit(&[&full, &short], x, ly, r.x + r.w - 8.0 - x, SMALL, t.muted, Align::Left);
        }
    }
}
