//! Where everything goes: node boxes, member cards, drop bins and the lanes between nodes,
//! left to right on a wide canvas and top to bottom on a narrow one. Pure Rust, tested
//! natively.

use crate::canvas::{Rect, P};
use bplab_engine::{Snapshot, StageView};

/// Canvases narrower than this (CSS pixels) get the top-to-bottom layout.
pub const NARROW: f64 = 600.0;
const PAD: f64 = 8.0;
/// Height of the strip under the boxes that holds the drop bins (left to right).
pub const BIN_H: f64 = 34.0;
/// Room right of the consumer for processed messages leaving (left to right).
const EXIT_W: f64 = 30.0;
const MIN_GAP: f64 = 42.0;

/// What a node is, with what decides its size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Producer,
    Channel,
    Map,
    Filter,
    Kafka,
    Topic { partitions: usize },
    Consumer { members: usize },
}

/// The pipeline's structure: what the layout depends on (not the live numbers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    pub kinds: Vec<Kind>,
    pub downstream: bool,
    /// The producer's box shows its heap (a row and a bar): it has a heap limit, or
    /// channels or a Kafka client that fill its heap. Top to bottom its box is taller.
    pub producer_heap: bool,
}

impl Shape {
    pub fn of(snap: &Snapshot) -> Shape {
        let mut kinds = vec![Kind::Producer];
        for s in &snap.stages {
            kinds.push(match s {
                StageView::Channel { .. } => Kind::Channel,
                StageView::Map => Kind::Map,
                StageView::Filter { .. } => Kind::Filter,
                StageView::KafkaProducer { .. } => Kind::Kafka,
                StageView::Topic { partitions } => Kind::Topic { partitions: partitions.len() },
            });
        }
        kinds.push(Kind::Consumer { members: snap.consumer.members.len().max(1) });
        let buffers = kinds.iter().any(|k| matches!(k, Kind::Channel | Kind::Kafka));
        Shape { kinds, downstream: snap.consumer.downstream.is_some(), producer_heap: buffers || snap.producer.heap_limit_bytes.is_some() }
    }

    pub fn members(&self) -> usize {
        match self.kinds.last() {
            Some(Kind::Consumer { members }) => *members,
            _ => 1,
        }
    }
}

/// Where everything goes, in CSS pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub w: f64,
    pub h: f64,
    pub vertical: bool,
    /// One box per node: producer, stages, consumer.
    pub nodes: Vec<Rect>,
    /// Where each node's "dropped" bin goes (node 0's is unused).
    pub bins: Vec<Rect>,
    /// One card per consumer-group member, inside the consumer's box.
    pub members: Vec<Rect>,
    pub downstream: Option<Rect>,
    /// The height the content needs (the top-to-bottom layout grows the canvas to it).
    pub needed_h: f64,
}

fn min_w(k: Kind) -> f64 {
    match k {
        Kind::Producer => 104.0,
        Kind::Channel => 100.0,
        Kind::Map => 52.0,
        Kind::Filter => 66.0,
        Kind::Kafka => 104.0,
        Kind::Topic { .. } => 160.0,
        Kind::Consumer { members } => {
            if members > 1 {
                184.0
            } else {
                164.0
            }
        }
    }
}

fn max_w(k: Kind) -> f64 {
    match k {
        Kind::Producer | Kind::Channel => 210.0,
        Kind::Map => 100.0,
        Kind::Filter => 130.0,
        Kind::Kafka => 230.0,
        Kind::Topic { .. } => 420.0,
        Kind::Consumer { .. } => 480.0,
    }
}

fn weight(k: Kind) -> f64 {
    match k {
        Kind::Producer | Kind::Channel | Kind::Kafka => 1.0,
        Kind::Map | Kind::Filter => 0.4,
        Kind::Topic { .. } => 1.7,
        Kind::Consumer { .. } => 2.0,
    }
}

const DS_MIN: f64 = 104.0;
const DS_MAX: f64 = 200.0;

/// Height of one member card in the top-to-bottom layout: a full card for one or two
/// members, a compact one for more.
pub fn member_h_v(members: usize) -> f64 {
    if members <= 2 {
        96.0
    } else {
        76.0
    }
}
/// Height of the producer's box top to bottom when it shows its heap: title, rate, state,
/// the heap's row and bar.
pub const PRODUCER_HEAP_H_V: f64 = 96.0;

/// Gap between boxes in the top-to-bottom layout (arrows and their labels live there).
pub const GAP_V: f64 = 48.0;

/// Rows of partition lanes drawn before the rest are summarised (top to bottom).
pub const MAX_LANES_V: usize = 16;

/// Top to bottom, the lanes run this far right of the boxes' left edge (clear of short
/// titles such as "map" and "filter", which they cross).
pub const LANE_X_V: f64 = 64.0;

/// Space the consumer's box keeps above its member cards (title, group line).
pub const CONSUMER_HEAD: f64 = 40.0;

impl Layout {
    /// Lays out `shape` on a `w` × `h` canvas (CSS pixels).
    pub fn new(shape: &Shape, w: f64, h: f64) -> Layout {
        let mins: f64 = shape.kinds.iter().map(|k| min_w(*k)).sum::<f64>()
            + if shape.downstream { DS_MIN } else { EXIT_W }
            + MIN_GAP * (shape.kinds.len() - 1 + shape.downstream as usize) as f64
            + 2.0 * PAD;
        if w < NARROW || mins > w {
            Layout::vertical(shape, w, h)
        } else {
            Layout::horizontal(shape, w, h)
        }
    }

    fn horizontal(shape: &Shape, w: f64, h: f64) -> Layout {
        let n = shape.kinds.len();
        let gaps = n - 1 + shape.downstream as usize;
        let tail = if shape.downstream { 0.0 } else { EXIT_W };
        // Widths: the minimum, plus a share of what is left by weight, up to a maximum.
        let mut items: Vec<(f64, f64, f64)> = shape.kinds.iter().map(|k| (min_w(*k), max_w(*k), weight(*k))).collect();
        if shape.downstream {
            items.push((DS_MIN, DS_MAX, 0.8));
        }
        let base: f64 = items.iter().map(|i| i.0).sum();
        let avail = w - 2.0 * PAD - tail - base;
        let gap = (avail * 0.45 / gaps.max(1) as f64).clamp(MIN_GAP, 96.0);
        let mut extra = (avail - gap * gaps as f64).max(0.0);
        let mut widths: Vec<f64> = items.iter().map(|i| i.0).collect();
        for _ in 0..4 {
            let open: f64 = items.iter().zip(&widths).filter(|(i, wd)| **wd < i.1).map(|(i, _)| i.2).sum();
            if extra < 0.5 || open <= 0.0 {
                break;
            }
            let mut used = 0.0;
            for (i, wd) in items.iter().zip(widths.iter_mut()) {
                if *wd < i.1 {
                    let add = (extra * i.2 / open).min(i.1 - *wd);
                    *wd += add;
                    used += add;
                }
            }
            extra -= used;
        }
        // Whatever is left widens the gaps (arrows carry labels), centred overall.
        let gap = gap + if gaps > 0 { (extra / gaps as f64).min(60.0) } else { 0.0 };
        let total: f64 = widths.iter().sum::<f64>() + gap * gaps as f64 + tail;
        let mut x = PAD + ((w - 2.0 * PAD - total) / 2.0).max(0.0);
        let (top, box_h) = (PAD, (h - 2.0 * PAD - BIN_H).max(120.0));
        let mut nodes = Vec::new();
        for wd in &widths {
            nodes.push(Rect::new(x, top, *wd, box_h));
            x += wd + gap;
        }
        let downstream = if shape.downstream { nodes.pop() } else { None };
        let consumer = *nodes.last().expect("a consumer");
        let bins = nodes.iter().map(|b| Rect::new(b.x, b.bottom() + 4.0, b.w, BIN_H - 6.0)).collect();
        let members = member_cards(consumer, shape.members());
        let mut downstream = downstream;
        if let Some(d) = &mut downstream {
            // The dependency is a smaller box level with the members.
            let dh = (box_h * 0.6).max(96.0).min(box_h);
            d.y = top + (box_h - dh) / 2.0;
            d.h = dh;
        }
        Layout { w, h, vertical: false, nodes, bins, members, downstream, needed_h: 2.0 * PAD + 120.0 + BIN_H }
    }

    fn vertical(shape: &Shape, w: f64, _h: f64) -> Layout {
        let x = PAD;
        let bw = (w - 2.0 * PAD).max(120.0);
        let mut y = PAD;
        let mut nodes = Vec::new();
        for k in &shape.kinds {
            let bh = match k {
                Kind::Producer if shape.producer_heap => PRODUCER_HEAP_H_V,
                Kind::Producer => 64.0,
                Kind::Channel | Kind::Kafka => 62.0,
                Kind::Map | Kind::Filter => 40.0,
                Kind::Topic { partitions } => 30.0 + (*partitions).min(MAX_LANES_V) as f64 * 15.0 + 20.0,
                Kind::Consumer { members } => CONSUMER_HEAD + *members as f64 * member_h_v(*members) + 6.0,
            };
            nodes.push(Rect::new(x, y, bw, bh));
            y += bh + GAP_V;
        }
        let downstream = if shape.downstream {
            let r = Rect::new(x, y, bw, 74.0);
            y += 74.0 + GAP_V * 0.5;
            Some(r)
        } else {
            // Processed messages leave below the consumer.
            y += 4.0 - GAP_V + 28.0;
            None
        };
        // Bins sit right of the arrow, in the gap above the node they belong to.
        let bin_w = (bw * 0.42).clamp(110.0, 190.0);
        let bins = nodes.iter().map(|b| Rect::new(b.right() - bin_w, b.y - GAP_V + 6.0, bin_w, GAP_V - 12.0)).collect();
        let consumer = *nodes.last().expect("a consumer");
        let members = member_cards(consumer, shape.members());
        Layout { w, h: y.max(_h), vertical: true, nodes, bins, members, downstream, needed_h: y.ceil() }
    }

    pub fn consumer(&self) -> Rect {
        *self.nodes.last().expect("a consumer")
    }

    /// The lanes of link `j` (into node `j`): forward (data) from its start to its end, and
    /// backward (requests, credits) from its end to its start. With several members the
    /// link into the consumer fans out to member `m`.
    pub fn lanes(&self, j: usize, member: Option<usize>) -> Lanes {
        let (a, b) = (self.nodes[j - 1], self.nodes[j]);
        let fan = j == self.nodes.len() - 1 && self.members.len() > 1;
        let to_member = if fan { member.and_then(|m| self.members.get(m)).copied() } else { None };
        if self.vertical {
            let x = a.x + LANE_X_V;
            let (y0, y1) = (a.bottom() + 2.0, b.y - 2.0);
            Lanes { fwd: ((x + 6.0, y0), (x + 6.0, y1)), back: ((x - 6.0, y1), (x - 6.0, y0)) }
        } else {
            let y = a.mid_y();
            let (x0, x1) = (a.right() + 2.0, b.x - 2.0);
            let ym = to_member.map_or(y, |m| m.mid_y());
            Lanes { fwd: ((x0, y + 7.0), (x1, ym + 7.0)), back: ((x1, ym - 7.0), (x0, y - 7.0)) }
        }
    }
}

/// The two lanes of a link.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lanes {
    pub fwd: (P, P),
    pub back: (P, P),
}

fn member_cards(consumer: Rect, members: usize) -> Vec<Rect> {
    let inner = Rect::new(consumer.x + 6.0, consumer.y + CONSUMER_HEAD, consumer.w - 12.0, consumer.h - CONSUMER_HEAD - 6.0);
    let m = members.max(1);
    let gap = if m > 1 { 4.0 } else { 0.0 };
    let mh = ((inner.h - gap * (m - 1) as f64) / m as f64).max(10.0);
    (0..m).map(|i| Rect::new(inner.x, inner.y + i as f64 * (mh + gap), inner.w, mh)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(kinds: &[Kind], downstream: bool) -> Shape {
        Shape { kinds: kinds.to_vec(), downstream, producer_heap: kinds.iter().any(|k| matches!(k, Kind::Channel | Kind::Kafka)) }
    }

    impl Rect {
        /// True when `o` lies within this rectangle (with a little tolerance).
        fn contains(&self, o: &Rect) -> bool {
            o.x >= self.x - 0.01 && o.y >= self.y - 0.01 && o.right() <= self.right() + 0.01 && o.bottom() <= self.bottom() + 0.01
        }
        fn overlaps(&self, o: &Rect) -> bool {
            self.x < o.right() && o.x < self.right() && self.y < o.bottom() && o.y < self.bottom()
        }
    }

    fn check(l: &Layout) {
        // Nothing leaves the canvas; boxes never overlap one another.
        let canvas = Rect::new(0.0, 0.0, l.w, l.h.max(l.needed_h));
        let mut all = l.nodes.clone();
        all.extend(l.downstream);
        for (i, a) in all.iter().enumerate() {
            assert!(canvas.contains(a), "{a:?} outside {canvas:?}");
            for b in &all[i + 1..] {
                assert!(!a.overlaps(b), "{a:?} overlaps {b:?}");
            }
        }
        let c = l.consumer();
        for m in &l.members {
            assert!(c.contains(m), "member {m:?} outside consumer {c:?}");
        }
    }

    const INCIDENT: [Kind; 3] = [Kind::Producer, Kind::Topic { partitions: 10 }, Kind::Consumer { members: 1 }];
    const REACTIVE: [Kind; 5] = [Kind::Producer, Kind::Map, Kind::Filter, Kind::Channel, Kind::Consumer { members: 1 }];

    #[test]
    fn wide_canvases_go_left_to_right() {
        for w in [714.0, 1000.0, 1300.0] {
            let l = Layout::new(&shape(&INCIDENT, false), w, 300.0);
            assert!(!l.vertical, "{w}");
            check(&l);
            assert!(l.nodes.windows(2).all(|p| p[0].right() + MIN_GAP - 0.01 <= p[1].x));
        }
        let l = Layout::new(&shape(&[Kind::Producer, Kind::Topic { partitions: 10 }, Kind::Consumer { members: 1 }], true), 760.0, 300.0);
        assert!(!l.vertical);
        check(&l);
        assert!(l.downstream.unwrap().x > l.consumer().right());
    }

    #[test]
    fn narrow_canvases_or_long_pipelines_go_top_to_bottom() {
        let l = Layout::new(&shape(&INCIDENT, false), 374.0, 340.0);
        assert!(l.vertical);
        check(&l);
        assert!(l.needed_h > 340.0, "the narrow layout asks for the height it needs");
        assert!(l.nodes.windows(2).all(|p| p[0].bottom() + GAP_V - 0.01 <= p[1].y));
        // Five boxes do not fit in 560 px side by side.
        let l = Layout::new(&shape(&REACTIVE, false), 560.0, 300.0);
        assert!(l.vertical);
        check(&l);
        // They do in 712 (the canvas of a 1000 px page).
        let l = Layout::new(&shape(&REACTIVE, false), 712.0, 300.0);
        assert!(!l.vertical);
        check(&l);
        let quota = [Kind::Producer, Kind::Kafka, Kind::Topic { partitions: 10 }, Kind::Consumer { members: 1 }];
        assert!(!Layout::new(&shape(&quota, false), 712.0, 300.0).vertical);
    }

    #[test]
    fn every_preset_lays_out_at_phone_laptop_and_desktop_widths() {
        for p in bplab_engine::PRESETS {
            let snap = bplab_engine::Simulation::new(&p.scenario()).unwrap().snapshot();
            let shape = Shape::of(&snap);
            // The canvas widths of 390, 1000 and 1280 px pages.
            for (w, vertical) in [(358.0, true), (712.0, false), (966.0, false)] {
                let l = Layout::new(&shape, w, 300.0);
                assert_eq!(l.vertical, vertical, "{} at {w}", p.id);
                assert_eq!(l.nodes.len(), snap.stages.len() + 2);
                assert_eq!(l.members.len(), snap.consumer.members.len());
                check(&l);
                // Every gap leaves room for a short label between the boxes.
                if !vertical {
                    assert!(l.nodes.windows(2).all(|b| b[1].x - b[0].right() >= MIN_GAP - 0.01), "{} at {w}", p.id);
                }
            }
        }
    }

    #[test]
    fn the_producer_box_has_room_for_its_heap_where_it_shows_it() {
        let snap = |s: &bplab_engine::Scenario| bplab_engine::Simulation::new(s).unwrap().snapshot();
        let mut s = bplab_engine::preset("buffer-bloat").unwrap();
        let bloat = Shape::of(&snap(&s));
        assert!(bloat.producer_heap, "a producer with a heap limit shows its heap");
        s.producer.memory.heap_limit_mib = None;
        assert!(Shape::of(&snap(&s)).producer_heap, "a channel fills its heap");
        let mut s = bplab_engine::preset("fix-sync-poll").unwrap();
        s.stages.retain(|st| matches!(st, bplab_engine::StageSpec::Topic(_)));
        assert!(!Shape::of(&snap(&s)).producer_heap, "no limit and nothing in its process: no heap row");
        // A phone, a compare lane (380 px columns), a 1280 px page; the diagram's heights.
        for (w, h) in [(358.0, 340.0), (378.0, 220.0), (966.0, 320.0), (966.0, 220.0)] {
            let l = Layout::new(&bloat, w, h);
            // Title (24), rate, state, heap row and bar: 96 px.
            assert!(l.nodes[0].h >= PRODUCER_HEAP_H_V, "{w}×{h}: producer box {:?}", l.nodes[0]);
            check(&l);
        }
    }

    #[test]
    fn members_get_a_card_each() {
        let s = shape(&[Kind::Producer, Kind::Topic { partitions: 10 }, Kind::Consumer { members: 3 }], false);
        for (w, h) in [(1000.0, 300.0), (374.0, 340.0)] {
            let l = Layout::new(&s, w, h);
            assert_eq!(l.members.len(), 3);
            check(&l);
            for p in l.members.windows(2) {
                assert!(!p[0].overlaps(&p[1]));
            }
        }
    }

    #[test]
    fn lanes_run_between_boxes() {
        let l = Layout::new(&shape(&INCIDENT, false), 1000.0, 300.0);
        let lanes = l.lanes(1, None);
        assert!(lanes.fwd.0 .0 >= l.nodes[0].right() && lanes.fwd.1 .0 <= l.nodes[1].x);
        assert_eq!(lanes.back.0, (lanes.fwd.1 .0, lanes.fwd.1 .1 - 14.0));
        let v = Layout::new(&shape(&INCIDENT, false), 374.0, 300.0);
        let lanes = v.lanes(2, Some(0));
        assert!(lanes.fwd.0 .1 >= v.nodes[1].bottom() && lanes.fwd.1 .1 <= v.nodes[2].y);
    }
}
