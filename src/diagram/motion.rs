//! What moves: the paths dots travel (flow density, from `flow`), the dots themselves,
//! and with reduced motion, fixed chevrons instead.

use super::flow::{self, Path};
use super::layout::LANE_X_V;
use super::scene::Scene;
use crate::canvas::{along, P};
use crate::theme::{GREEN, ORANGE, PURPLE, VERMILLION};
use bplab_engine::{DropCause, StageView};

impl Scene<'_, '_> {
    /// The polyline a path's dots travel.
    pub(super) fn path_points(&self, p: Path) -> Option<Vec<P>> {
        let n = self.lay.nodes.len();
        let cn = n - 1;
        let members = self.snap.consumer.members.len();
        let member_lane = |m: u16| if members > 1 && !self.lay.vertical { Some((m as usize).min(members - 1)) } else { Some(0) };
        match p {
            Path::Push { link } => {
                let j = link as usize;
                if j == 0 || j >= n {
                    return None;
                }
                let l = self.lanes(j, if j == cn { Some(0) } else { None });
                Some(vec![l.fwd.0, l.fwd.1])
            }
            Path::Token { link, .. } => {
                let j = link as usize;
                if j == 0 || j >= n {
                    return None;
                }
                let s = self.sender(j);
                let mut pts = Vec::new();
                for k in (s + 1..=j).rev() {
                    let l = self.lanes(k, if k == cn { Some(0) } else { None });
                    pts.push(l.back.0);
                    pts.push(l.back.1);
                }
                Some(pts)
            }
            Path::Poll { member } | Path::Commit { member } => {
                if self.snap.stages.is_empty() {
                    return None;
                }
                let l = self.lanes(cn, member_lane(member));
                Some(vec![l.back.0, l.back.1])
            }
            Path::Batch { member } => {
                if self.snap.stages.is_empty() {
                    return None;
                }
                let l = self.lanes(cn, member_lane(member));
                Some(vec![l.fwd.0, l.fwd.1])
            }
            Path::Drop { node } => {
                let i = node as usize;
                if i == 0 || i >= n {
                    return None;
                }
                let bin = self.bin_rect(i);
                let b = self.lay.nodes[i];
                let filter = matches!(self.snap.stages.get(i - 1), Some(StageView::Filter { .. }));
                let inside = matches!(
                    self.d.drop_cause.get(i).copied().flatten(),
                    Some(DropCause::DropOldest | DropCause::ShedQueueLength | DropCause::ShedRed | DropCause::ShedDeadline)
                );
                let spot = (bin.x + if bin.w >= 110.0 { 14.0 } else { 9.0 }, bin.mid_y() + 2.0);
                if self.lay.vertical {
                    // Below the link's labels, then up into the bin.
                    if filter || inside {
                        Some(vec![(spot.0, b.y + 4.0), spot])
                    } else {
                        let l = self.lanes(i, None);
                        let y = b.y - 6.0;
                        Some(vec![(l.fwd.0 .0, y), (spot.0, y), spot])
                    }
                } else if filter || inside {
                    Some(vec![(spot.0, b.bottom() - 1.0), spot])
                } else {
                    let l = self.lanes(i, if i == cn { Some(0) } else { None });
                    let (x, y) = l.fwd.1;
                    Some(vec![(x - 4.0, y), (x - 4.0, bin.mid_y()), spot])
                }
            }
            Path::Done { member } => {
                let c = self.lay.consumer();
                let card = self.lay.members.get(member as usize).copied().unwrap_or(c);
                if self.lay.downstream.is_some() {
                    let (_, back) = self.call_lanes();
                    return Some(vec![back.0, back.1]);
                }
                if self.lay.vertical {
                    let x = c.x + LANE_X_V;
                    Some(vec![(x, c.bottom() - 2.0), (x, c.bottom() + 24.0)])
                } else {
                    let y = card.mid_y();
                    Some(vec![(c.right() - 2.0, y), (c.right() + 26.0, y)])
                }
            }
        }
    }

    pub(super) fn dots(&mut self) {
        let data = self.data_color();
        let dots = self.d.flow.dots.clone();
        for d in &dots {
            let Some(pts) = self.path_points(d.path) else { continue };
            let len: f64 = pts.windows(2).map(|w| ((w[1].0 - w[0].0).powi(2) + (w[1].1 - w[0].1).powi(2)).sqrt()).sum();
            let f = d.progress(self.now, flow::travel_s(len));
            if f >= 1.0 {
                continue;
            }
            let (pos, dir) = along(&pts, f);
            match d.path {
                Path::Push { .. } | Path::Batch { .. } => self.pen.circle(pos, flow::radius(d.n), data, 0.85),
                Path::Token { .. } => self.pen.diamond(pos, flow::radius(d.n).max(4.0), PURPLE),
                Path::Poll { .. } => self.pen.triangle(pos, 3.5 + 0.5 * (d.n as f64).log10().min(3.0), dir, ORANGE),
                Path::Commit { .. } => self.pen.square(pos, 3.0, GREEN),
                Path::Drop { .. } => self.pen.circle(pos, flow::radius(d.n).min(5.0), VERMILLION, 0.9),
                Path::Done { .. } => {
                    // Leaving: fades out on its way.
                    self.pen.circle(pos, flow::radius(d.n).min(6.0), GREEN, 0.9 * (1.0 - f))
                }
            }
        }
    }

    /// Reduced motion: fixed chevrons on every path that carries something now.
    pub(super) fn chevrons(&mut self) {
        let data = self.data_color();
        let mut paths: Vec<Path> = Vec::new();
        let n = self.lay.nodes.len();
        for j in 1..n {
            paths.push(Path::Push { link: j as u16 });
            paths.push(Path::Token { link: j as u16, request: false });
            paths.push(Path::Token { link: j as u16, request: true });
            paths.push(Path::Drop { node: j as u16 });
        }
        for m in 0..self.snap.consumer.members.len() as u16 {
            paths.extend([Path::Poll { member: m }, Path::Batch { member: m }, Path::Done { member: m }]);
        }
        for p in paths {
            if self.d.rates.get(p) <= 0.0 {
                continue;
            }
            let Some(pts) = self.path_points(p) else { continue };
            let color = match p {
                Path::Push { .. } | Path::Batch { .. } => data,
                Path::Token { .. } => PURPLE,
                Path::Poll { .. } => ORANGE,
                Path::Drop { .. } => VERMILLION,
                Path::Done { .. } | Path::Commit { .. } => GREEN,
            };
            for f in [0.3, 0.55, 0.8] {
                let (pos, dir) = along(&pts, f);
                self.pen.triangle(pos, 4.5, dir, color);
            }
        }
    }
}
