//! Where messages leave: each node's bin of drops (with its cause) and, at the
//! consumer, processed and lost.

use super::flow::Path;
use super::layout::LANE_X_V;
use super::scene::{abbrev_rate, Scene};
use crate::canvas::text::Font;
use crate::canvas::{Align, Measure, Rect};
use crate::format;
use crate::theme::{css, GREEN, VERMILLION};
use bplab_engine::{DropCause, StageView};

impl Scene<'_, '_> {
    /// Where node `node`'s bin goes: left to right, the consumer shares its strip with the
    /// processed count and takes the right half.
    pub(super) fn bin_rect(&self, node: usize) -> Rect {
        let r = self.lay.bins[node];
        if !self.lay.vertical && node == self.consumer_node() {
            Rect::new(r.x + r.w / 2.0, r.y, r.w / 2.0, r.h)
        } else {
            r
        }
    }

    pub(super) fn bin(&mut self, node: usize, count: u64) {
        let t = *self.pen.theme;
        let r = self.bin_rect(node);
        if r.w < 40.0 || r.h < 14.0 {
            return;
        }
        let cause = self.d.drop_cause.get(node).copied().flatten();
        let is_filter = matches!(self.snap.stages.get(node.wrapping_sub(1)), Some(StageView::Filter { .. }));
        let dropped_by = &self.snap.summary.dropped_by;
        let consumer = node == self.consumer_node();
        let why = if is_filter {
            "filtered out"
        } else {
            match cause {
                Some(DropCause::DropNewest) => "dropped (newest)",
                Some(DropCause::DropOldest) => "dropped (oldest)",
                Some(DropCause::Fail) => "send failed",
                Some(DropCause::BlockTimeout) => "timed out",
                Some(DropCause::Filter) => "filtered out",
                Some(DropCause::ShedQueueLength) | Some(DropCause::ShedDeadline) | Some(DropCause::ShedRed) => "shed",
                None if consumer && dropped_by.shed_queue_length + dropped_by.shed_deadline + dropped_by.shed_red > 0 => "shed",
                None => "dropped",
            }
        };
        // A tray: open at the top.
        let tray = Rect::new(r.x + 2.0, r.y + 2.0, r.w - 4.0, r.h - 4.0);
        let color = if count > 0 && !is_filter { VERMILLION } else { t.muted };
        let ctx = self.pen.ctx;
        ctx.begin_path();
        ctx.move_to(tray.x, tray.y);
        ctx.line_to(tray.x + 4.0, tray.bottom());
        ctx.line_to(tray.right() - 4.0, tray.bottom());
        ctx.line_to(tray.right(), tray.y);
        ctx.set_stroke_style_str(&css(color, 1.0));
        ctx.set_line_width(1.5);
        ctx.stroke();
        let fig = format::count(count as f64);
        let l = format!("{fig} {why}");
        let s = format!("✕ {fig}");
        if tray.w >= 110.0 {
            // Right of the spot where the drops fall in.
            self.pen.fit(
                &[&l, &s, &fig],
                tray.right() - 6.0,
                tray.mid_y() + 1.0,
                tray.w - 30.0,
                Font::new(11.0, true),
                color,
                Align::Right,
            );
        } else {
            // A narrow bin (a filter's): right of the drop spot, the figure may reach into
            // the gap on the right.
            self.pen.fit_halo(
                &[&l, &s, &fig],
                tray.right() + 16.0,
                tray.mid_y() + 1.0,
                tray.w - 4.0,
                Font::new(11.0, true),
                color,
                Align::Right,
            );
        }
    }

    /// Processed messages leaving, and losses, under (or right of) the consumer.
    pub(super) fn exit(&mut self) {
        let c = self.lay.consumer();
        let s = &self.snap.summary;
        // The processing rate now (the smoothed rate of processed messages leaving), unless
        // the calls to a downstream dependency already show it as their replies.
        let rate = self.d.rates.sum(|p| matches!(p, Path::Done { .. }));
        let now = if self.lay.downstream.is_none() && self.snap.t_s > 0.0 { format!(" · {}", abbrev_rate(rate)) } else { String::new() };
        let done_r = format!("✓ processed {}{now}", format::count(s.consumed as f64));
        let done = format!("✓ processed {}", format::count(s.consumed as f64));
        let done_s = format!("✓ {}", format::count(s.consumed as f64));
        let lost = format!("lost {}", format::count(s.lost as f64));
        let (x, y, w) = if self.lay.vertical {
            match self.lay.downstream {
                Some(ds) => (ds.x + 8.0, ds.bottom() + 12.0, ds.w - 16.0),
                None => (c.x + LANE_X_V + 16.0, c.bottom() + 14.0, c.w - LANE_X_V - 16.0),
            }
        } else {
            // The consumer's strip holds its bin on the right half when it sheds.
            let bin_w = if self.d.drop_counts(self.snap).last().copied().unwrap_or(0) > 0 { c.w / 2.0 + 4.0 } else { 0.0 };
            (c.x + 4.0, self.lay.bins[self.lay.nodes.len() - 1].mid_y() + 1.0, c.w - 8.0 - bin_w)
        };
        if self.lay.vertical && self.lay.downstream.is_some() && y > self.lay.h - 6.0 {
            return;
        }
        let font = Font::new(11.0, true);
        let lost_s = format!("✕ {}", format::count(s.lost as f64));
        let mut pairs: Vec<(&str, Option<&str>)> = Vec::new();
        if s.lost > 0 {
            pairs.extend([
                (done_r.as_str(), Some(lost.as_str())),
                (done.as_str(), Some(lost.as_str())),
                (done_s.as_str(), Some(lost.as_str())),
                (done_s.as_str(), Some(lost_s.as_str())),
            ]);
        }
        pairs.extend([(done_r.as_str(), None), (done.as_str(), None), (done_s.as_str(), None)]);
        // The first pair that fits whole; losses are never cut to an ellipsis.
        let fits = |sc: &mut Self, (d, l): (&str, Option<&str>)| {
            sc.pen.width(d, font.px, font.bold) + l.map_or(0.0, |l| 10.0 + sc.pen.width(l, font.px, font.bold)) <= w
        };
        if let Some((d, l)) = pairs.iter().copied().find(|p| fits(self, *p)) {
            self.pen.text(d, x, y, font, GREEN, Align::Left);
            if let Some(l) = l {
                let dw = self.pen.width(d, font.px, font.bold);
                self.pen.text(l, x + dw + 10.0, y, font, VERMILLION, Align::Left);
            }
        }
    }
}
