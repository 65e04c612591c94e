//! Painters of the pipeline's boxes: the frame and title every box has, the producer,
//! map and filter, channels (a tank or a bar), the Kafka producer client and the
//! downstream service.

use super::flow::Path;
use super::scene::{abbrev_rate, rate_figure, Scene};
use crate::canvas::text::{Font, LABEL, SMALL, TITLE, VALUE};
use crate::canvas::{Align, Rect};
use crate::format;
use crate::theme::{GREEN, ORANGE, PURPLE, VERMILLION};
use bplab_engine::StageView;
use plotters::style::RGBColor;

impl Scene<'_, '_> {
    /// A node's frame and title; returns the y below the title.
    pub(super) fn frame(&mut self, r: Rect, titles: &[&str], border: RGBColor, width: f64) -> f64 {
        let t = *self.pen.theme;
        self.pen.round_rect(r, 8.0, Some((t.panel, 1.0)), Some((border, width)));
        self.pen.fit(titles, r.x + 8.0, r.y + 13.0, r.w - 16.0, TITLE, t.fg, Align::Left);
        r.y + 24.0
    }

    /// The producer: its rate, or blocked, or OOM-killed and restarting; what it is doing;
    /// its heap (a bar against its limit, when it has one); how long it was blocked; what it sent.
    pub(super) fn producer(&mut self, r: Rect) {
        let p = self.snap.producer.clone();
        let t = *self.pen.theme;
        let down = p.restart_in_s.is_some();
        let alarm = p.blocked || down;
        let border = if alarm { VERMILLION } else { t.muted };
        let titles: &[&str] = &["Producer", "Prod."];
        let mut y = self.frame(r, titles, border, if alarm { 3.0 } else { 1.5 });
        if alarm {
            self.pen.hatch(r.inset(2.0, 2.0), VERMILLION, 0.12);
        }
        let (x, w, bottom) = (r.x + 8.0, r.w - 16.0, r.bottom() - 4.0);
        // A row of text, when it fits.
        let row = |s: &mut Self, y: &mut f64, opts: &[&str], font: Font, color: RGBColor| {
            if *y + font.px * 0.6 <= bottom {
                s.pen.fit(opts, x, *y + 8.0, w, font, color, Align::Left);
                *y += font.px + 6.0;
            }
        };
        if let Some(restart) = p.restart_in_s {
            let secs = format::secs(restart);
            let (long, mid) = (format!("OOM-KILLED · restart in {secs}"), format!("OOM-KILLED · {secs}"));
            row(self, &mut y, &[&long, &mid, "OOM-KILLED", "OOM"], VALUE, VERMILLION);
            let lost = format::count(self.snap.summary.lost_by_cause.producer_oom as f64);
            let (what, short) = (format!("lost {lost} it held"), format!("lost {lost}"));
            row(self, &mut y, &[&what, &short], LABEL, t.fg);
        } else if p.blocked {
            let hold = format!("holding {}", format::count(p.pending as f64));
            row(self, &mut y, &["BLOCKED: send waits", "BLOCKED", "blocked"], VALUE, VERMILLION);
            row(self, &mut y, &[&hold, &format::count(p.pending as f64)], LABEL, t.fg);
        } else {
            let rate = format!("{} msg/s", rate_figure(p.rate_per_s));
            row(self, &mut y, &[&rate, &abbrev_rate(p.rate_per_s)], VALUE, self.data_color());
            if p.throttled {
                row(self, &mut y, &["throttled by the lag", "throttled"], LABEL, PURPLE);
            } else {
                let state = if p.rate_per_s <= 0.0 { "idle" } else { "pushing" };
                row(self, &mut y, &[state], LABEL, t.muted);
            }
        }
        // The heap: the process holds its pending send, its channels, its Kafka client's buffer.
        let heap = format::bytes(p.heap_bytes as f64);
        match p.heap_limit_bytes {
            Some(limit) if y + SMALL.px + 10.0 <= bottom => {
                let frac = p.heap_bytes as f64 / limit.max(1) as f64;
                let long = format!("heap {heap} / {}", format::bytes(limit as f64));
                let mid = format!("heap {:.0}%", frac * 100.0);
                self.pen.fit(&[&long, &mid], x, y + 7.0, w, SMALL, t.fg, Align::Left);
                let color = if frac > 0.85 {
                    VERMILLION
                } else if frac > 0.6 {
                    ORANGE
                } else {
                    GREEN
                };
                self.pen.bar(Rect::new(x, y + 14.0, w, 6.0), frac, color);
                y += SMALL.px + 16.0;
            }
            Some(_) => {}
            // Without a limit, only where its channels or Kafka client fill it (as the layout's
            // `Shape::producer_heap` says).
            None if self.snap.stages.iter().any(|s| matches!(s, StageView::Channel { .. } | StageView::KafkaProducer { .. })) => {
                row(self, &mut y, &[&format!("heap {heap}"), &heap], SMALL, t.muted)
            }
            None => {}
        }
        if p.blocked_s > 0.0 && self.snap.t_s > 0.0 {
            let pct = 100.0 * p.blocked_s / self.snap.t_s;
            let long = format!("blocked {pct:.0}% of the time");
            let short = format!("blocked {pct:.0}%");
            row(self, &mut y, &[&long, &short], SMALL, t.muted);
        }
        let sent = format!("sent {}", format::count(p.produced as f64));
        row(self, &mut y, &[&sent], SMALL, t.muted);
    }

    pub(super) fn operator(&mut self, r: Rect, titles: &[&str], detail: &[&str], ratio: Option<f64>) {
        let t = *self.pen.theme;
        self.frame(r, titles, t.muted, 1.5);
        let y = if self.lay.vertical { r.y + 13.0 } else { r.bottom() - 12.0 };
        if self.lay.vertical {
            // Right of the title.
            self.pen.fit(detail, r.right() - 8.0, y, r.w * 0.5, SMALL, t.muted, Align::Right);
        } else {
            self.pen.fit(detail, r.mid_x(), y, r.w - 10.0, SMALL, t.muted, Align::Center);
        }
        if let (Some(ratio), false) = (ratio, self.lay.vertical) {
            // A sieve: what passes of each message.
            let bar = Rect::new(r.x + 8.0, r.bottom() - 30.0, r.w - 16.0, 6.0);
            if bar.y > r.y + 30.0 {
                self.pen.bar(bar, ratio, self.data_color());
            }
        }
    }

    /// A gauge of `frac` in `r`: a tank filling from the bottom when tall, a bar when wide.
    pub(super) fn gauge(&mut self, r: Rect, frac: f64, color: RGBColor) {
        if r.h > r.w * 0.8 && r.h > 40.0 {
            let t = *self.pen.theme;
            self.pen.fill_rect(r, t.grid, 1.0);
            let f = frac.clamp(0.0, 1.0);
            let fh = (r.h * f).max(if f > 0.0 { 1.0 } else { 0.0 });
            self.pen.fill_rect(Rect::new(r.x, r.bottom() - fh, r.w, fh), color, 1.0);
        } else {
            self.pen.bar(r, frac, color);
        }
    }

    pub(super) fn channel(&mut self, node: usize, r: Rect, depth: u64, capacity: Option<u64>) {
        let t = *self.pen.theme;
        let dropping = self.d.rates.get(Path::Drop { node: node as u16 }) > 0.0;
        // Full, or draining and refilling between two frames while dropping: full for the
        // reader's purpose.
        let full = capacity.is_some_and(|c| depth >= c || (depth as f64 >= 0.98 * c as f64 && dropping));
        let title_full = match capacity {
            Some(c) => format!("Channel · capacity {}", format::count(c as f64)),
            None => "Channel · unbounded".to_string(),
        };
        let title_mid = match capacity {
            Some(c) => format!("Channel ({})", format::count(c as f64)),
            None => "Channel (∞)".to_string(),
        };
        let y = self.frame(
            r,
            &[&title_full, &title_mid, "Channel", "Chan."],
            if full { VERMILLION } else { t.muted },
            if full { 3.0 } else { 1.5 },
        );
        let frac = match capacity {
            Some(c) => depth as f64 / c.max(1) as f64,
            None => depth as f64 / self.d.depth_scale.get(node).copied().unwrap_or(1.0).max(1.0),
        };
        let fill = if full { VERMILLION } else { self.data_color() };
        let figure = match capacity {
            Some(c) => format!("{} / {}", format::count(depth as f64), format::count(c as f64)),
            None => format!("{} / ∞", format::count(depth as f64)),
        };
        let figure_xs = format::count(depth as f64);
        let blocked = self.snap.producer.blocked && self.sender(node) == 0 && full;
        let status: &[&str] = if full && dropping {
            &["full: dropping", "dropping", "full"]
        } else if full && blocked {
            &["full: sender waits", "full: waits", "full"]
        } else if full {
            &["full"]
        } else if capacity.is_none() {
            &["queue grows without bound", "grows unbounded", "unbounded"]
        } else {
            &["depth / capacity", "depth"]
        };
        let status_color = if full { VERMILLION } else { t.muted };
        if self.lay.vertical {
            // Title row, then a bar, then the figure and status on one row.
            let bar = Rect::new(r.x + 8.0, y, r.w - 16.0, 10.0);
            self.gauge(bar, frac, fill);
            let fy = bar.bottom() + 12.0;
            let fw = self.pen.fit(&[&figure, &figure_xs], r.x + 8.0, fy, r.w - 16.0, VALUE, t.fg, Align::Left);
            self.pen.fit(status, r.right() - 8.0, fy, r.w - 32.0 - fw, SMALL, status_color, Align::Right);
        } else {
            let tank = Rect::new(r.x + 10.0, y + 2.0, r.w - 20.0, (r.bottom() - 44.0 - y).max(8.0));
            self.gauge(tank, frac, fill);
            self.pen.fit(&[&figure, &figure_xs], r.x + 8.0, r.bottom() - 28.0, r.w - 16.0, VALUE, t.fg, Align::Left);
            self.pen.fit(status, r.x + 8.0, r.bottom() - 11.0, r.w - 16.0, SMALL, status_color, Align::Left);
        }
    }

    pub(super) fn kafka(&mut self, r: Rect, depth: u64, capacity: u64, broker: f64) {
        let t = *self.pen.theme;
        let full = capacity > 0 && (depth >= capacity || (depth as f64 >= 0.98 * capacity as f64 && self.snap.producer.blocked));
        let y = self.frame(
            r,
            &["Kafka producer client", "Kafka producer", "Kafka client", "Kafka"],
            if full { VERMILLION } else { t.muted },
            if full { 3.0 } else { 1.5 },
        );
        let frac = depth as f64 / capacity.max(1) as f64;
        let fill = if full { VERMILLION } else { self.data_color() };
        let figure = format!("{} / {}", format::count(depth as f64), format::count(capacity as f64));
        let figure_s = format!("{} ({:.0}%)", format::count(depth as f64), 100.0 * frac);
        let figure_xs = format::count(depth as f64);
        let broker_s = format!("broker quota {}", abbrev_rate(broker));
        let broker_m = format!("broker {}", abbrev_rate(broker));
        let status: &[&str] = if full { &["buffer full: send() blocks", "buffer full", "full"] } else { &["buffer.memory", "buffer"] };
        if self.lay.vertical {
            let bar = Rect::new(r.x + 8.0, y, r.w - 16.0, 10.0);
            self.gauge(bar, frac, fill);
            let fy = bar.bottom() + 12.0;
            let fw = self.pen.fit(&[&figure, &figure_s, &figure_xs], r.x + 8.0, fy, r.w - 16.0, VALUE, t.fg, Align::Left);
            self.pen.fit(&[&broker_s, &broker_m], r.right() - 8.0, fy, r.w - 32.0 - fw, SMALL, t.muted, Align::Right);
        } else {
            self.pen.fit(&[&broker_s, &broker_m, &abbrev_rate(broker)], r.x + 8.0, y + 6.0, r.w - 16.0, SMALL, t.muted, Align::Left);
            let tank = Rect::new(r.x + 10.0, y + 18.0, r.w - 20.0, (r.bottom() - 44.0 - y - 18.0).max(8.0));
            self.gauge(tank, frac, fill);
            self.pen.fit(&[&figure, &figure_s, &figure_xs], r.x + 8.0, r.bottom() - 28.0, r.w - 16.0, VALUE, t.fg, Align::Left);
            self.pen.fit(status, r.x + 8.0, r.bottom() - 11.0, r.w - 16.0, SMALL, if full { VERMILLION } else { t.muted }, Align::Left);
        }
    }

    pub(super) fn downstream(&mut self, r: Rect) {
        let t = *self.pen.theme;
        let Some((busy, queued, slots)) = self.snap.consumer.downstream else { return };
        let full = busy >= slots;
        let y = self.frame(r, &["Downstream service", "Downstream", "Dep."], if full { ORANGE } else { t.muted }, 1.5);
        let data = self.data_color();
        let (x, w) = (r.x + 8.0, r.w - 16.0);
        let cell = 10.0;
        let per_row = ((w + 3.0) / (cell + 3.0)).floor().max(1.0) as u32;
        let mut yy = y + 2.0;
        if slots <= per_row * 2 {
            for k in 0..slots {
                let c = Rect::new(x + (k % per_row) as f64 * (cell + 3.0), yy + (k / per_row) as f64 * (cell + 3.0), cell, cell);
                if k < busy {
                    self.pen.fill_rect(c, data, 1.0);
                } else {
                    self.pen.round_rect(c, 1.0, None, Some((t.muted, 1.0)));
                }
            }
            yy += if slots > per_row { 2.0 * cell + 3.0 } else { cell } + 10.0;
        } else {
            self.pen.bar(Rect::new(x, yy, w, 8.0), busy as f64 / slots.max(1) as f64, data);
            yy += 18.0;
        }
        let slots_l = format!("{busy}/{slots} slots busy");
        let slots_s = format!("{busy}/{slots}");
        self.pen.fit(&[&slots_l, &slots_s], x, yy, w, SMALL, t.fg, Align::Left);
        yy += 15.0;
        if yy + 4.0 <= r.bottom() {
            let q_l = format!("{} calls queued", format::count(queued as f64));
            let q_s = format!("queue {}", format::count(queued as f64));
            self.pen.fit(
                &[&q_l, &q_s, &format::count(queued as f64)],
                x,
                yy,
                w,
                if queued > 0 { Font::new(11.0, true) } else { SMALL },
                if queued > 0 { ORANGE } else { t.muted },
                Align::Left,
            );
            yy += 9.0;
        }
        // The queue as a bar against the pool's size, when there is room.
        if queued > 0 && yy + 8.0 <= r.bottom() - 4.0 {
            self.pen.bar(Rect::new(x, yy, w, 6.0), queued as f64 / (queued as f64 + slots as f64 * 4.0), ORANGE);
        }
    }
}
