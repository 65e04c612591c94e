//! The knob table itself: every field with its accessors into the scenario ([`FIELDS`]).
//! Slider ranges are what people try; `hard` ranges are the engine's own `limits`, what
//! they may type.

use bplab_engine::scenario::control::limits as ctl;
use bplab_engine::scenario::limits as lim;
use bplab_engine::scenario::pattern::limits as tl;
use bplab_engine::scenario::{AimdThrottleSpec, PidThrottleSpec};
use bplab_engine::{
    Arrivals, ChannelSpec, Commit, DownstreamSpec, FlowControl, LimiterSpec, LinkSpec, Mode, OnFull, Ordering, Pattern, PauseSpec,
    Scenario, ServiceDist, ShedSpec, SlowMessage, StageSpec, ThrottleSpec,
};

use super::field::{Choice, Field, Knob, Scale, Scope, Section, StageKind, CONSUMER};

fn stage(s: &Scenario, i: usize) -> Option<&StageSpec> {
    s.stages.get(i)
}

fn channel_at(s: &Scenario, i: usize) -> Option<&ChannelSpec> {
    match stage(s, i) {
        Some(StageSpec::Channel(c)) => Some(c),
        _ => None,
    }
}

fn channel_mut(s: &mut Scenario, i: usize) -> Option<&mut ChannelSpec> {
    match s.stages.get_mut(i) {
        Some(StageSpec::Channel(c)) => Some(c),
        _ => None,
    }
}

fn link_at(s: &Scenario, i: usize) -> Option<&LinkSpec> {
    if i == CONSUMER {
        return s.topic().is_none().then_some(&s.consumer.link);
    }
    match stage(s, i)? {
        StageSpec::Channel(c) => Some(&c.link),
        StageSpec::Map(m) => Some(&m.link),
        StageSpec::Filter(f) => Some(&f.link),
        _ => None,
    }
}

/// A link that may carry flow control: a channel's or the consumer's (map and filter pass
/// demand through; the engine refuses credits or `request(n)` on them).
fn window_link_at(s: &Scenario, i: usize) -> Option<&LinkSpec> {
    match (i, stage(s, i)) {
        (CONSUMER, _) | (_, Some(StageSpec::Channel(_))) => link_at(s, i),
        _ => None,
    }
}

fn link_mut(s: &mut Scenario, i: usize) -> Option<&mut LinkSpec> {
    if i == CONSUMER {
        return Some(&mut s.consumer.link);
    }
    match s.stages.get_mut(i)? {
        StageSpec::Channel(c) => Some(&mut c.link),
        StageSpec::Map(m) => Some(&mut m.link),
        StageSpec::Filter(f) => Some(&mut f.link),
        _ => None,
    }
}

fn shed_at(s: &Scenario, i: usize) -> Option<&Option<ShedSpec>> {
    if i == CONSUMER {
        return Some(&s.consumer.shed);
    }
    channel_at(s, i).map(|c| &c.shed)
}

fn shed_mut(s: &mut Scenario, i: usize) -> Option<&mut Option<ShedSpec>> {
    if i == CONSUMER {
        return Some(&mut s.consumer.shed);
    }
    channel_mut(s, i).map(|c| &mut c.shed)
}

fn has_topic(s: &Scenario) -> bool {
    s.topic().is_some()
}

fn topic_mut(s: &mut Scenario, i: usize) -> Option<&mut bplab_engine::TopicSpec> {
    match s.stages.get_mut(i) {
        Some(StageSpec::Topic(t)) => Some(t),
        _ => None,
    }
}

fn topic_at(s: &Scenario, i: usize) -> Option<&bplab_engine::TopicSpec> {
    match stage(s, i) {
        Some(StageSpec::Topic(t)) => Some(t),
        _ => None,
    }
}

fn kafka_at(s: &Scenario, i: usize) -> Option<&bplab_engine::KafkaProducerSpec> {
    match stage(s, i) {
        Some(StageSpec::KafkaProducer(k)) => Some(k),
        _ => None,
    }
}

fn kafka_mut(s: &mut Scenario, i: usize) -> Option<&mut bplab_engine::KafkaProducerSpec> {
    match s.stages.get_mut(i) {
        Some(StageSpec::KafkaProducer(k)) => Some(k),
        _ => None,
    }
}

fn u(v: u64) -> Option<f64> {
    Some(v as f64)
}

fn dist_name(d: &ServiceDist) -> &'static str {
    match d {
        ServiceDist::Deterministic {} => "deterministic",
        ServiceDist::Exponential {} => "exponential",
        ServiceDist::Lognormal { .. } => "lognormal",
    }
}

fn dist_from(v: &str, old: ServiceDist) -> ServiceDist {
    match v {
        "exponential" => ServiceDist::Exponential {},
        "lognormal" => match old {
            ServiceDist::Lognormal { sigma } => ServiceDist::Lognormal { sigma },
            _ => ServiceDist::Lognormal { sigma: 0.5 },
        },
        _ => ServiceDist::Deterministic {},
    }
}

fn sigma_of(d: &ServiceDist) -> Option<f64> {
    match d {
        ServiceDist::Lognormal { sigma } => Some(*sigma),
        _ => None,
    }
}

fn set_sigma(d: &mut ServiceDist, v: f64) {
    if let ServiceDist::Lognormal { sigma } = d {
        *sigma = v;
    }
}

const DISTS: &[(&str, &str)] = &[("deterministic", "fixed (deterministic)"), ("exponential", "exponential"), ("lognormal", "log-normal")];

const SHEDS: &[(&str, &str)] =
    &[("none", "none"), ("queue_length", "queue-length threshold"), ("deadline", "deadline (max age)"), ("red", "random early detection")];

fn shed_name(s: &Option<ShedSpec>) -> &'static str {
    match s {
        None => "none",
        Some(ShedSpec::QueueLength { .. }) => "queue_length",
        Some(ShedSpec::Deadline { .. }) => "deadline",
        Some(ShedSpec::Red { .. }) => "red",
    }
}

fn shed_default(v: &str) -> Option<ShedSpec> {
    match v {
        "queue_length" => Some(ShedSpec::QueueLength { max_queue: 5_000 }),
        "deadline" => Some(ShedSpec::Deadline { max_age_ms: 2_000.0 }),
        "red" => Some(ShedSpec::Red { min_queue: 2_000, max_queue: 10_000, max_p: 0.2, weight: 0.002 }),
        _ => None,
    }
}

fn pattern_name(p: &Pattern) -> &'static str {
    match p {
        Pattern::Flat {} => "flat",
        Pattern::OnOff { .. } => "on_off",
        Pattern::Ramp { .. } => "ramp",
        Pattern::Step { .. } => "step",
        Pattern::Sine { .. } => "sine",
    }
}

fn pattern_default(v: &str) -> Pattern {
    match v {
        "on_off" => Pattern::OnOff { on_s: 10.0, off_s: 10.0, off_factor: 0.0, random: false },
        "ramp" => Pattern::Ramp { start_s: 0.0, duration_s: 60.0, from_factor: 0.1, to_factor: 1.0 },
        "step" => Pattern::Step { at_s: 30.0, before_factor: 1.0, after_factor: 2.0 },
        "sine" => Pattern::Sine { period_s: 60.0, amplitude: 0.5, phase_s: 0.0 },
        _ => Pattern::Flat {},
    }
}

fn limiter_name(l: &Option<LimiterSpec>) -> &'static str {
    match l {
        None => "none",
        Some(LimiterSpec::Aimd(_)) => "aimd",
        Some(LimiterSpec::Vegas(_)) => "vegas",
        Some(LimiterSpec::Gradient2(_)) => "gradient2",
    }
}

// The slider ranges below are what people try; the engine's ranges (`hard`) are what
// they may type.

const LAT_MS: (f64, f64) = lim::LATENCY_MS;

macro_rules! num {
    ($id:literal, $path:literal, $label:literal, $unit:literal, $scope:expr, $min:expr, $max:expr, $hard:expr, $scale:ident, $int:literal,
     get: $get:expr, set: $set:expr $(,)?) => {
        Field::Num(Knob {
            id: $id,
            path: $path,
            label: $label,
            unit: $unit,
            scope: $scope,
            min: $min,
            max: $max,
            hard: $hard,
            scale: Scale::$scale,
            integer: $int,
            get: $get,
            set: $set,
        })
    };
}

macro_rules! pick {
    ($id:literal, $path:literal, $label:literal, $scope:expr, $options:expr, get: $get:expr, set: $set:expr $(,)?) => {
        Field::Pick(Choice { id: $id, path: $path, label: $label, scope: $scope, options: $options, get: $get, set: $set })
    };
}

const fn uh(r: (u64, u64)) -> (f64, f64) {
    (r.0 as f64, r.1 as f64)
}

const G_TRAFFIC: Scope = Scope::Global(Section::Traffic);
const G_THROTTLE: Scope = Scope::Global(Section::Throttle);
const G_POLL: Scope = Scope::Global(Section::Polling);
const G_WORK: Scope = Scope::Global(Section::Workers);
const G_MEM: Scope = Scope::Global(Section::Memory);
const G_PMEM: Scope = Scope::Global(Section::ProducerMemory);
const G_PROT: Scope = Scope::Global(Section::Protection);
const G_DOWN: Scope = Scope::Global(Section::Downstream);
const G_ENGINE: Scope = Scope::Global(Section::Engine);
const S_CHANNEL: Scope = Scope::Stage(StageKind::Channel);
const S_FILTER: Scope = Scope::Stage(StageKind::Filter);
const S_KAFKA: Scope = Scope::Stage(StageKind::KafkaProducer);
const S_TOPIC: Scope = Scope::Stage(StageKind::Topic);

/// Every field, in display order within its section.
pub static FIELDS: &[Field] = &[
    // --- producer traffic ----------------------------------------------------------------
    num!("producer-rate", "producer.rate_per_s", "Producer rate", "msg/s", G_TRAFFIC, 1.0, 1_000_000.0, lim::RATE_PER_S, Log, false,
        get: |s, _| Some(s.producer.rate_per_s), set: |s, _, v| s.producer.rate_per_s = v),
    pick!("arrivals", "producer.arrivals", "Arrivals", G_TRAFFIC, &[("constant", "evenly spaced"), ("poisson", "Poisson (random gaps)")],
        get: |s, _| Some(match s.producer.arrivals { Arrivals::Constant => "constant", Arrivals::Poisson => "poisson" }),
        set: |s, _, v| s.producer.arrivals = if v == "poisson" { Arrivals::Poisson } else { Arrivals::Constant }),
    num!("message-bytes", "producer.message_bytes", "Message size", "bytes", G_TRAFFIC, 16.0, 1_048_576.0, uh(lim::MESSAGE_BYTES), Log, true,
        get: |s, _| u(s.producer.message_bytes), set: |s, _, v| s.producer.message_bytes = v as u64),
    pick!("pattern", "producer.pattern.kind", "Rate pattern", G_TRAFFIC,
        &[("flat", "flat"), ("on_off", "bursts (on/off)"), ("ramp", "ramp"), ("step", "step"), ("sine", "daily-style cycle (sine)")],
        get: |s, _| Some(pattern_name(&s.producer.pattern)),
        set: |s, _, v| if pattern_name(&s.producer.pattern) != v { s.producer.pattern = pattern_default(v) }),
    num!("on-s", "producer.pattern.on_s", "ON period", "s", G_TRAFFIC, 0.1, 3_600.0, tl::ON_OFF_S, Log, false, get: |s, _| match s.producer.pattern { Pattern::OnOff { on_s, .. } => Some(on_s), _ => None },
        set: |s, _, v| if let Pattern::OnOff { on_s, .. } = &mut s.producer.pattern { *on_s = v }),
    num!("off-s", "producer.pattern.off_s", "OFF period", "s", G_TRAFFIC, 0.1, 3_600.0, tl::ON_OFF_S, Log, false, get: |s, _| match s.producer.pattern { Pattern::OnOff { off_s, .. } => Some(off_s), _ => None },
        set: |s, _, v| if let Pattern::OnOff { off_s, .. } = &mut s.producer.pattern { *off_s = v }),
    num!("off-factor", "producer.pattern.off_factor", "Rate while OFF", "× rate", G_TRAFFIC, 0.0, 1.0, tl::OFF_FACTOR, Linear, false, get: |s, _| match s.producer.pattern { Pattern::OnOff { off_factor, .. } => Some(off_factor), _ => None },
        set: |s, _, v| if let Pattern::OnOff { off_factor, .. } = &mut s.producer.pattern { *off_factor = v }),
    pick!("on-off-random", "producer.pattern.random!", "Burst lengths", G_TRAFFIC, &[("fixed", "fixed"), ("random", "random (exponential)")],
        get: |s, _| match s.producer.pattern { Pattern::OnOff { random, .. } => Some(if random { "random" } else { "fixed" }), _ => None },
        set: |s, _, v| if let Pattern::OnOff { random, .. } = &mut s.producer.pattern { *random = v == "random" }),
    num!("ramp-start", "producer.pattern.start_s", "Ramp starts at", "s", G_TRAFFIC, 0.0, 600.0, tl::AT_S, Linear, false, get: |s, _| match s.producer.pattern { Pattern::Ramp { start_s, .. } => Some(start_s), _ => None },
        set: |s, _, v| if let Pattern::Ramp { start_s, .. } = &mut s.producer.pattern { *start_s = v }),
    num!("ramp-duration", "producer.pattern.duration_s", "Ramp lasts", "s", G_TRAFFIC, 1.0, 3_600.0, tl::RAMP_S, Log, false, get: |s, _| match s.producer.pattern { Pattern::Ramp { duration_s, .. } => Some(duration_s), _ => None },
        set: |s, _, v| if let Pattern::Ramp { duration_s, .. } = &mut s.producer.pattern { *duration_s = v }),
    num!("ramp-from", "producer.pattern.from_factor", "Ramp from", "× rate", G_TRAFFIC, 0.0, 5.0, tl::FACTOR, Linear, false, get: |s, _| match s.producer.pattern { Pattern::Ramp { from_factor, .. } => Some(from_factor), _ => None },
        set: |s, _, v| if let Pattern::Ramp { from_factor, .. } = &mut s.producer.pattern { *from_factor = v }),
    num!("ramp-to", "producer.pattern.to_factor", "Ramp to", "× rate", G_TRAFFIC, 0.0, 5.0, tl::FACTOR, Linear, false, get: |s, _| match s.producer.pattern { Pattern::Ramp { to_factor, .. } => Some(to_factor), _ => None },
        set: |s, _, v| if let Pattern::Ramp { to_factor, .. } = &mut s.producer.pattern { *to_factor = v }),
    num!("step-at", "producer.pattern.at_s", "Step at", "s", G_TRAFFIC, 0.0, 600.0, tl::AT_S, Linear, false, get: |s, _| match s.producer.pattern { Pattern::Step { at_s, .. } => Some(at_s), _ => None },
        set: |s, _, v| if let Pattern::Step { at_s, .. } = &mut s.producer.pattern { *at_s = v }),
    num!("step-before", "producer.pattern.before_factor", "Before the step", "× rate", G_TRAFFIC, 0.0, 5.0, tl::FACTOR, Linear, false, get: |s, _| match s.producer.pattern { Pattern::Step { before_factor, .. } => Some(before_factor), _ => None },
        set: |s, _, v| if let Pattern::Step { before_factor, .. } = &mut s.producer.pattern { *before_factor = v }),
    num!("step-after", "producer.pattern.after_factor", "After the step", "× rate", G_TRAFFIC, 0.0, 5.0, tl::FACTOR, Linear, false, get: |s, _| match s.producer.pattern { Pattern::Step { after_factor, .. } => Some(after_factor), _ => None },
        set: |s, _, v| if let Pattern::Step { after_factor, .. } = &mut s.producer.pattern { *after_factor = v }),
    num!("sine-period", "producer.pattern.period_s", "Cycle period", "s", G_TRAFFIC, 1.0, 86_400.0, tl::PERIOD_S, Log, false, get: |s, _| match s.producer.pattern { Pattern::Sine { period_s, .. } => Some(period_s), _ => None },
        set: |s, _, v| if let Pattern::Sine { period_s, .. } = &mut s.producer.pattern { *period_s = v }),
    num!("sine-amplitude", "producer.pattern.amplitude", "Cycle amplitude", "× rate", G_TRAFFIC, 0.0, 1.0, tl::AMPLITUDE, Linear, false, get: |s, _| match s.producer.pattern { Pattern::Sine { amplitude, .. } => Some(amplitude), _ => None },
        set: |s, _, v| if let Pattern::Sine { amplitude, .. } = &mut s.producer.pattern { *amplitude = v }),
    num!("sine-phase", "producer.pattern.phase_s", "Cycle phase", "s", G_TRAFFIC, 0.0, 3_600.0, tl::PHASE_S, Linear, false, get: |s, _| match s.producer.pattern { Pattern::Sine { phase_s, .. } => Some(phase_s), _ => None },
        set: |s, _, v| if let Pattern::Sine { phase_s, .. } = &mut s.producer.pattern { *phase_s = v }),
    // --- throttle ------------------------------------------------------------------------
    pick!("throttle", "producer.throttle?.kind", "Throttle", G_THROTTLE, &[("none", "none"), ("aimd", "AIMD"), ("pid", "PID")],
    get: |s, _| Some(match s.producer.throttle { None => "none", Some(ThrottleSpec::Aimd(_)) => "aimd", Some(ThrottleSpec::Pid(_)) => "pid" }),
    set: |s, _, v| {
        let now = match s.producer.throttle { None => "none", Some(ThrottleSpec::Aimd(_)) => "aimd", Some(ThrottleSpec::Pid(_)) => "pid" };
        if now != v {
            s.producer.throttle = match v { "aimd" => Some(ThrottleSpec::aimd()), "pid" => Some(ThrottleSpec::pid()), _ => None };
        }
    }),
    num!("target-lag", "producer.throttle.target_lag", "Target lag", "msg", G_THROTTLE, 100.0, 10_000_000.0, ctl::TARGET_LAG, Log, false, get: |s, _| match &s.producer.throttle { Some(ThrottleSpec::Aimd(a)) => Some(a.target_lag), Some(ThrottleSpec::Pid(p)) => Some(p.target_lag), None => None },
        set: |s, _, v| match &mut s.producer.throttle { Some(ThrottleSpec::Aimd(a)) => a.target_lag = v, Some(ThrottleSpec::Pid(p)) => p.target_lag = v, None => {} }),
    num!("aimd-increase", "producer.throttle.increase_per_s", "Additive increase", "msg/s", G_THROTTLE, 1.0, 100_000.0, ctl::INCREASE_PER_S, Log, false, get: |s, _| match &s.producer.throttle { Some(ThrottleSpec::Aimd(a)) => Some(a.increase_per_s), _ => None },
        set: |s, _, v| if let Some(ThrottleSpec::Aimd(AimdThrottleSpec { increase_per_s, .. })) = &mut s.producer.throttle { *increase_per_s = v }),
    num!("aimd-decrease", "producer.throttle.decrease_factor", "Multiplicative decrease", "×", G_THROTTLE, 0.01, 0.99, ctl::DECREASE_FACTOR, Linear, false, get: |s, _| match &s.producer.throttle { Some(ThrottleSpec::Aimd(a)) => Some(a.decrease_factor), _ => None },
        set: |s, _, v| if let Some(ThrottleSpec::Aimd(AimdThrottleSpec { decrease_factor, .. })) = &mut s.producer.throttle { *decrease_factor = v }),
    num!("pid-kp", "producer.throttle.kp", "Proportional gain kp", "1/s", G_THROTTLE, 0.0, 5.0, ctl::GAIN, Linear, false, get: |s, _| match &s.producer.throttle { Some(ThrottleSpec::Pid(p)) => Some(p.kp), _ => None },
        set: |s, _, v| if let Some(ThrottleSpec::Pid(PidThrottleSpec { kp, .. })) = &mut s.producer.throttle { *kp = v }),
    num!("pid-ki", "producer.throttle.ki", "Integral gain ki", "1/s²", G_THROTTLE, 0.0, 1.0, ctl::GAIN, Linear, false, get: |s, _| match &s.producer.throttle { Some(ThrottleSpec::Pid(p)) => Some(p.ki), _ => None },
        set: |s, _, v| if let Some(ThrottleSpec::Pid(PidThrottleSpec { ki, .. })) = &mut s.producer.throttle { *ki = v }),
    num!("pid-kd", "producer.throttle.kd", "Derivative gain kd", "", G_THROTTLE, 0.0, 5.0, ctl::GAIN, Linear, false, get: |s, _| match &s.producer.throttle { Some(ThrottleSpec::Pid(p)) => Some(p.kd), _ => None },
        set: |s, _, v| if let Some(ThrottleSpec::Pid(PidThrottleSpec { kd, .. })) = &mut s.producer.throttle { *kd = v }),
    num!("throttle-interval", "producer.throttle.interval_ms", "Update interval", "ms", G_THROTTLE, 10.0, 60_000.0, ctl::INTERVAL_MS, Log, false, get: |s, _| s.producer.throttle.as_ref().map(|t| t.interval_ms()),
        set: |s, _, v| match &mut s.producer.throttle { Some(ThrottleSpec::Aimd(a)) => a.interval_ms = v, Some(ThrottleSpec::Pid(p)) => p.interval_ms = v, None => {} }),
    num!("throttle-min-rate", "producer.throttle.min_rate_per_s", "Minimum rate", "msg/s", G_THROTTLE, 0.01, 100_000.0, ctl::MIN_RATE_PER_S, Log, false, get: |s, _| match &s.producer.throttle { Some(ThrottleSpec::Aimd(a)) => Some(a.min_rate_per_s), Some(ThrottleSpec::Pid(p)) => Some(p.min_rate_per_s), None => None },
        set: |s, _, v| match &mut s.producer.throttle { Some(ThrottleSpec::Aimd(a)) => a.min_rate_per_s = v, Some(ThrottleSpec::Pid(p)) => p.min_rate_per_s = v, None => {} }),
    // --- channel stage -------------------------------------------------------------------
    pick!("capacity-mode", "*.capacity?", "Buffer", S_CHANNEL, &[("bounded", "bounded"), ("unbounded", "unbounded")],
    get: |s, i| channel_at(s, i).map(|c| if c.capacity.is_some() { "bounded" } else { "unbounded" }),
    set: |s, i, v| if let Some(c) = channel_mut(s, i) {
        match (v, c.capacity) {
            ("bounded", None) => c.capacity = Some(1_000),
            ("unbounded", Some(_)) => {
                c.capacity = None;
                if c.link.on_full == OnFull::DropOldest { c.link.on_full = OnFull::Block; }
            }
            _ => {}
        }
    }),
    num!("capacity", "*.capacity", "Capacity", "msg", S_CHANNEL, 1.0, 10_000_000.0, uh(lim::CHANNEL_CAPACITY), Log, true,
        get: |s, i| channel_at(s, i).and_then(|c| c.capacity).map(|c| c as f64),
        set: |s, i, v| if let Some(c) = channel_mut(s, i) { c.capacity = Some(v as u64) }),
    // --- filter stage --------------------------------------------------------------------
    num!("pass-ratio", "*.pass_ratio", "Pass ratio", "", S_FILTER, 0.01, 1.0, lim::PASS_RATIO, Linear, false,
        get: |s, i| match stage(s, i) { Some(StageSpec::Filter(f)) => Some(f.pass_ratio), _ => None },
        set: |s, i, v| if let Some(StageSpec::Filter(f)) = s.stages.get_mut(i) { f.pass_ratio = v }),
    // --- Kafka producer client ------------------------------------------------------------
    num!("buffer-memory", "*.buffer_memory_bytes", "buffer.memory", "bytes", S_KAFKA, 65_536.0, 1_073_741_824.0, uh(lim::BUFFER_BYTES), Log, true,
        get: |s, i| kafka_at(s, i).and_then(|k| u(k.buffer_memory_bytes)), set: |s, i, v| if let Some(k) = kafka_mut(s, i) { k.buffer_memory_bytes = v as u64 }),
    num!("batch-size", "*.batch_size_bytes", "batch.size", "bytes", S_KAFKA, 1_024.0, 16_777_216.0, uh(lim::BUFFER_BYTES), Log, true,
        get: |s, i| kafka_at(s, i).and_then(|k| u(k.batch_size_bytes)), set: |s, i, v| if let Some(k) = kafka_mut(s, i) { k.batch_size_bytes = v as u64 }),
    num!("linger", "*.linger_ms", "linger.ms", "ms", S_KAFKA, 0.1, 1_000.0, lim::LINGER_MS, LogZero, false,
        get: |s, i| kafka_at(s, i).map(|k| k.linger_ms), set: |s, i, v| if let Some(k) = kafka_mut(s, i) { k.linger_ms = v }),
    num!("max-block", "*.max_block_ms", "max.block.ms", "ms", S_KAFKA, 1.0, 600_000.0, lim::BLOCK_TIMEOUT_MS, LogZero, false,
        get: |s, i| kafka_at(s, i).map(|k| k.max_block_ms), set: |s, i, v| if let Some(k) = kafka_mut(s, i) { k.max_block_ms = v }),
    num!("broker-rate", "*.broker_rate_per_s", "Broker accepts", "records/s", S_KAFKA, 10.0, 10_000_000.0, lim::RATE_PER_S, Log, false,
        get: |s, i| kafka_at(s, i).map(|k| k.broker_rate_per_s), set: |s, i, v| if let Some(k) = kafka_mut(s, i) { k.broker_rate_per_s = v }),
    // --- topic ---------------------------------------------------------------------------
    num!("partitions", "*.partitions", "Partitions", "", S_TOPIC, 1.0, 1_024.0, uh(lim::PARTITIONS), Log, true,
        get: |s, i| topic_at(s, i).map(|t| t.partitions as f64), set: |s, i, v| if let Some(t) = topic_mut(s, i) { t.partitions = v as u32 }),
    num!("fetch-latency", "*.fetch_latency_ms", "Fetch round trip", "ms", S_TOPIC, 0.1, 1_000.0, lim::FETCH_LATENCY_MS, LogZero, false,
        get: |s, i| topic_at(s, i).map(|t| t.fetch_latency_ms), set: |s, i, v| if let Some(t) = topic_mut(s, i) { t.fetch_latency_ms = v }),
    pick!("retention-mode", "*.retention_ms?", "Retention by time", S_TOPIC, &[("forever", "keep forever"), ("time", "delete after retention.ms")],
    get: |s, i| topic_at(s, i).map(|t| if t.retention_ms.is_some() { "time" } else { "forever" }),
    set: |s, i, v| if let Some(t) = topic_mut(s, i) {
        match (v, t.retention_ms) { ("time", None) => t.retention_ms = Some(60_000.0), ("forever", Some(_)) => t.retention_ms = None, _ => {} }
    }),
    num!("retention-ms", "*.retention_ms", "retention.ms", "ms", S_TOPIC, 1_000.0, 604_800_000.0, lim::RETENTION_MS, Log, false,
        get: |s, i| topic_at(s, i).and_then(|t| t.retention_ms), set: |s, i, v| if let Some(t) = topic_mut(s, i) { t.retention_ms = Some(v) }),
    pick!("retention-bytes-mode", "*.retention_bytes?", "Retention by size", S_TOPIC, &[("unlimited", "unlimited"), ("bytes", "limit per partition")],
    get: |s, i| topic_at(s, i).map(|t| if t.retention_bytes.is_some() { "bytes" } else { "unlimited" }),
    set: |s, i, v| if let Some(t) = topic_mut(s, i) {
        match (v, t.retention_bytes) { ("bytes", None) => t.retention_bytes = Some(104_857_600), ("unlimited", Some(_)) => t.retention_bytes = None, _ => {} }
    }),
    num!("retention-bytes", "*.retention_bytes", "retention.bytes", "bytes", S_TOPIC, 1_048_576.0, 1_099_511_627_776.0, uh(lim::BUFFER_BYTES), Log, true,
        get: |s, i| topic_at(s, i).and_then(|t| t.retention_bytes).map(|b| b as f64), set: |s, i, v| if let Some(t) = topic_mut(s, i) { t.retention_bytes = Some(v as u64) }),
    // --- links (stages with a link, and the consumer without a topic) ----------------------
    pick!("flow-control", "*.link.control.kind", "Flow control", Scope::Link, &[("none", "none (capacity only)"), ("credit", "credits"), ("request", "request(n)")],
    get: |s, i| window_link_at(s, i).map(|l| match l.control { FlowControl::None {} => "none", FlowControl::Credit { .. } => "credit", FlowControl::Request { .. } => "request" }),
    set: |s, i, v| if let Some(l) = link_mut(s, i) {
        let now = match l.control { FlowControl::None {} => "none", FlowControl::Credit { .. } => "credit", FlowControl::Request { .. } => "request" };
        if now != v {
            l.control = match v {
                "credit" => FlowControl::Credit { initial: 1_000, grant: 500, batch: 100, latency_ms: 5.0 },
                "request" => FlowControl::Request { prefetch: 256, replenish: 0.75, latency_ms: 0.1 },
                _ => FlowControl::None {},
            };
        }
    }),
    num!("credit-initial", "*.link.control.initial", "Initial credits", "credits", Scope::Link, 1.0, 1_000_000.0, uh(lim::WINDOW), Log, true,
        get: |s, i| match window_link_at(s, i)?.control { FlowControl::Credit { initial, .. } => u(initial), _ => None },
        set: |s, i, v| if let Some(LinkSpec { control: FlowControl::Credit { initial, .. }, .. }) = link_mut(s, i) { *initial = v as u64 }),
    num!("credit-grant", "*.link.control.grant", "Grant", "credits", Scope::Link, 1.0, 1_000_000.0, uh(lim::WINDOW), Log, true,
        get: |s, i| match window_link_at(s, i)?.control { FlowControl::Credit { grant, .. } => u(grant), _ => None },
        set: |s, i, v| if let Some(LinkSpec { control: FlowControl::Credit { grant, .. }, .. }) = link_mut(s, i) { *grant = v as u64 }),
    num!("credit-batch", "*.link.control.batch", "Send batch", "msg", Scope::Link, 1.0, 1_000_000.0, uh(lim::WINDOW), Log, true,
        get: |s, i| match window_link_at(s, i)?.control { FlowControl::Credit { batch, .. } => u(batch), _ => None },
        set: |s, i, v| if let Some(LinkSpec { control: FlowControl::Credit { batch, .. }, .. }) = link_mut(s, i) { *batch = v as u64 }),
    num!("credit-latency", "*.link.control.latency_ms", "Grant travel time", "ms", Scope::Link, 0.01, 10_000.0, LAT_MS, LogZero, false,
        get: |s, i| match window_link_at(s, i)?.control { FlowControl::Credit { latency_ms, .. } => Some(latency_ms), _ => None },
        set: |s, i, v| if let Some(LinkSpec { control: FlowControl::Credit { latency_ms, .. }, .. }) = link_mut(s, i) { *latency_ms = v }),
    num!("request-prefetch", "*.link.control.prefetch", "Prefetch (request n)", "msg", Scope::Link, 1.0, 1_000_000.0, uh(lim::WINDOW), Log, true,
        get: |s, i| match window_link_at(s, i)?.control { FlowControl::Request { prefetch, .. } => u(prefetch), _ => None },
        set: |s, i, v| if let Some(LinkSpec { control: FlowControl::Request { prefetch, .. }, .. }) = link_mut(s, i) { *prefetch = v as u64 }),
    num!("request-replenish", "*.link.control.replenish", "Replenish at", "× prefetch", Scope::Link, 0.01, 1.0, (0.01, 1.0), Linear, false,
        get: |s, i| match window_link_at(s, i)?.control { FlowControl::Request { replenish, .. } => Some(replenish), _ => None },
        set: |s, i, v| if let Some(LinkSpec { control: FlowControl::Request { replenish, .. }, .. }) = link_mut(s, i) { *replenish = v }),
    num!("request-latency", "*.link.control.latency_ms", "Request travel time", "ms", Scope::Link, 0.01, 10_000.0, LAT_MS, LogZero, false,
        get: |s, i| match window_link_at(s, i)?.control { FlowControl::Request { latency_ms, .. } => Some(latency_ms), _ => None },
        set: |s, i, v| if let Some(LinkSpec { control: FlowControl::Request { latency_ms, .. }, .. }) = link_mut(s, i) { *latency_ms = v }),
    pick!("on-full", "*.link.on_full", "When full", Scope::Link,
    &[("block", "block the sender"), ("drop_newest", "drop the newest"), ("drop_oldest", "drop the oldest"), ("fail", "fail the send")],
    get: |s, i| link_at(s, i).map(|l| match l.on_full { OnFull::Block => "block", OnFull::DropNewest => "drop_newest", OnFull::DropOldest => "drop_oldest", OnFull::Fail => "fail" }),
    set: |s, i, v| if let Some(l) = link_mut(s, i) {
        l.on_full = match v { "drop_newest" => OnFull::DropNewest, "drop_oldest" => OnFull::DropOldest, "fail" => OnFull::Fail, _ => OnFull::Block };
    }),
    pick!("block-timeout-mode", "*.link.block_timeout_ms?", "Blocked send", Scope::Link, &[("forever", "waits as long as it takes"), ("timeout", "fails after a timeout")],
    get: |s, i| link_at(s, i).filter(|l| l.on_full == OnFull::Block).map(|l| if l.block_timeout_ms.is_some() { "timeout" } else { "forever" }),
    set: |s, i, v| if let Some(l) = link_mut(s, i) {
        match (v, l.block_timeout_ms) { ("timeout", None) => l.block_timeout_ms = Some(200.0), ("forever", Some(_)) => l.block_timeout_ms = None, _ => {} }
    }),
    num!("block-timeout", "*.link.block_timeout_ms", "Block timeout", "ms", Scope::Link, 0.1, 600_000.0, lim::BLOCK_TIMEOUT_MS, LogZero, false,
        get: |s, i| link_at(s, i).filter(|l| l.on_full == OnFull::Block).and_then(|l| l.block_timeout_ms),
        set: |s, i, v| if let Some(l) = link_mut(s, i) { l.block_timeout_ms = Some(v) }),
    // --- shedding (channels and the consumer) ---------------------------------------------
    pick!("shed", "*.shed?.kind", "Load shedding", Scope::Shed, SHEDS,
        get: |s, i| shed_at(s, i).map(shed_name),
        set: |s, i, v| if let Some(sh) = shed_mut(s, i) { if shed_name(sh) != v { *sh = shed_default(v) } }),
    num!("shed-max-queue", "*.shed.max_queue", "Shed above", "msg", Scope::Shed, 1.0, 10_000_000.0, uh(lim::CHANNEL_CAPACITY), Log, true,
        get: |s, i| match shed_at(s, i)? { Some(ShedSpec::QueueLength { max_queue }) => u(*max_queue), _ => None },
        set: |s, i, v| if let Some(Some(ShedSpec::QueueLength { max_queue })) = shed_mut(s, i) { *max_queue = v as u64 }),
    num!("shed-max-age", "*.shed.max_age_ms", "Deadline", "ms", Scope::Shed, 1.0, 600_000.0, lim::AGE_MS, Log, false,
        get: |s, i| match shed_at(s, i)? { Some(ShedSpec::Deadline { max_age_ms }) => Some(*max_age_ms), _ => None },
        set: |s, i, v| if let Some(Some(ShedSpec::Deadline { max_age_ms })) = shed_mut(s, i) { *max_age_ms = v }),
    num!("red-min-queue", "*.shed.min_queue", "RED: start dropping at", "msg", Scope::Shed, 1.0, 10_000_000.0, (0.0, lim::CHANNEL_CAPACITY.1 as f64), Log, true,
        get: |s, i| match shed_at(s, i)? { Some(ShedSpec::Red { min_queue, .. }) => u(*min_queue), _ => None },
        set: |s, i, v| if let Some(Some(ShedSpec::Red { min_queue, .. })) = shed_mut(s, i) { *min_queue = v as u64 }),
    num!("red-max-queue", "*.shed.max_queue", "RED: max_p reached at", "msg", Scope::Shed, 1.0, 10_000_000.0, uh(lim::CHANNEL_CAPACITY), Log, true,
        get: |s, i| match shed_at(s, i)? { Some(ShedSpec::Red { max_queue, .. }) => u(*max_queue), _ => None },
        set: |s, i, v| if let Some(Some(ShedSpec::Red { max_queue, .. })) = shed_mut(s, i) { *max_queue = v as u64 }),
    num!("red-max-p", "*.shed.max_p", "RED: max_p", "", Scope::Shed, 0.0, 1.0, lim::PROBABILITY, Linear, false,
        get: |s, i| match shed_at(s, i)? { Some(ShedSpec::Red { max_p, .. }) => Some(*max_p), _ => None },
        set: |s, i, v| if let Some(Some(ShedSpec::Red { max_p, .. })) = shed_mut(s, i) { *max_p = v }),
    num!("red-weight", "*.shed.weight", "RED: EWMA weight", "", Scope::Shed, 0.000_01, 1.0, lim::EWMA_WEIGHT, Log, false,
        get: |s, i| match shed_at(s, i)? { Some(ShedSpec::Red { weight, .. }) => Some(*weight), _ => None },
        set: |s, i, v| if let Some(Some(ShedSpec::Red { weight, .. })) = shed_mut(s, i) { *weight = v }),
    // --- consumer: polling and commits ---------------------------------------------------
    pick!("mode", "consumer.mode", "Poll loop", G_POLL,
        &[("sync", "process the batch, then poll"), ("async", "hand off, poll again (async)")],
        get: |s, _| Some(match s.consumer.mode { Mode::Sync => "sync", Mode::Async => "async" }),
        set: |s, _, v| s.consumer.mode = if v == "async" { Mode::Async } else { Mode::Sync }),
    num!("max-poll-records", "consumer.max_poll_records", "max.poll.records", "records", G_POLL, 1.0, 100_000.0, uh(lim::MAX_POLL_RECORDS), Log, true,
        get: |s, _| u(s.consumer.max_poll_records as u64), set: |s, _, v| s.consumer.max_poll_records = v as u32),
    num!("members", "consumer.members", "Group members", "", G_POLL, 1.0, 64.0, uh(lim::MEMBERS), Linear, true,
        get: |s, _| has_topic(s).then_some(s.consumer.members as f64), set: |s, _, v| s.consumer.members = v as u32),
    pick!("commit", "consumer.commit", "Offset commits", G_POLL,
        &[("auto", "auto-commit what was polled"), ("sync", "commitSync what was processed"), ("async", "commitAsync what was processed")],
        get: |s, _| has_topic(s).then_some(match s.consumer.commit { Commit::Auto => "auto", Commit::Sync => "sync", Commit::Async => "async" }),
        set: |s, _, v| s.consumer.commit = match v { "auto" => Commit::Auto, "async" => Commit::Async, _ => Commit::Sync }),
    num!("auto-commit-interval", "consumer.auto_commit_interval_ms", "auto.commit.interval.ms", "ms", G_POLL, 10.0, 600_000.0, lim::AUTO_COMMIT_INTERVAL_MS, Log, false,
        get: |s, _| (has_topic(s) && s.consumer.commit == Commit::Auto).then_some(s.consumer.auto_commit_interval_ms),
        set: |s, _, v| s.consumer.auto_commit_interval_ms = v),
    num!("commit-latency", "consumer.commit_latency_ms", "Commit round trip", "ms", G_POLL, 0.1, 10_000.0, LAT_MS, LogZero, false,
        get: |s, _| has_topic(s).then_some(s.consumer.commit_latency_ms), set: |s, _, v| s.consumer.commit_latency_ms = v),
    num!("poll-timeout", "consumer.poll_timeout_ms", "Poll timeout", "ms", G_POLL, 1.0, 60_000.0, lim::POLL_TIMEOUT_MS, Log, false,
        get: |s, _| has_topic(s).then_some(s.consumer.poll_timeout_ms), set: |s, _, v| s.consumer.poll_timeout_ms = v),
    num!("max-poll-interval", "consumer.max_poll_interval_ms", "max.poll.interval.ms", "ms", G_POLL, 100.0, 3_600_000.0, lim::MAX_POLL_INTERVAL_MS, Log, false,
        get: |s, _| has_topic(s).then_some(s.consumer.max_poll_interval_ms), set: |s, _, v| s.consumer.max_poll_interval_ms = v),
    num!("rebalance", "consumer.rebalance_ms", "Rebalance pause", "ms", G_POLL, 1.0, 600_000.0, lim::REBALANCE_MS, LogZero, false,
        get: |s, _| has_topic(s).then_some(s.consumer.rebalance_ms), set: |s, _, v| s.consumer.rebalance_ms = v),
    num!("max-partition-fetch", "consumer.fetch.max_partition_fetch_bytes", "max.partition.fetch.bytes", "bytes", G_POLL, 1_024.0, 1_073_741_824.0, uh(lim::BUFFER_BYTES), Log, true,
        get: |s, _| has_topic(s).then_some(s.consumer.fetch.max_partition_fetch_bytes as f64), set: |s, _, v| s.consumer.fetch.max_partition_fetch_bytes = v as u64),
    num!("fetch-max", "consumer.fetch.fetch_max_bytes", "fetch.max.bytes", "bytes", G_POLL, 1_024.0, 1_073_741_824.0, uh(lim::BUFFER_BYTES), Log, true,
        get: |s, _| has_topic(s).then_some(s.consumer.fetch.fetch_max_bytes as f64), set: |s, _, v| s.consumer.fetch.fetch_max_bytes = v as u64),
    // --- consumer: workers and service ---------------------------------------------------
    num!("workers", "consumer.workers", "Workers", "threads", G_WORK, 1.0, 10_000.0, uh(lim::WORKERS), Log, true,
        get: |s, _| u(s.consumer.workers as u64), set: |s, _, v| s.consumer.workers = v as u32),
    num!("rate-per-worker", "consumer.rate_per_worker", "Processing rate per worker", "msg/s", G_WORK, 0.1, 1_000_000.0, lim::RATE_PER_WORKER, Log, false,
        get: |s, _| Some(s.consumer.rate_per_worker), set: |s, _, v| s.consumer.rate_per_worker = v),
    pick!("service", "consumer.service.kind", "Service time", G_WORK, DISTS, get: |s, _| Some(dist_name(&s.consumer.service)),
        set: |s, _, v| s.consumer.service = dist_from(v, s.consumer.service)),
    num!("service-sigma", "consumer.service.sigma", "Log-normal σ", "", G_WORK, 0.01, 3.0, lim::SIGMA, Linear, false, get: |s, _| sigma_of(&s.consumer.service), set: |s, _, v| set_sigma(&mut s.consumer.service, v)),
    pick!("ordering", "consumer.ordering", "Ordering", G_WORK, &[("any", "any idle worker, oldest first"), ("per_partition", "in order per partition")],
        get: |s, _| has_topic(s).then_some(match s.consumer.ordering { Ordering::Any => "any", Ordering::PerPartition => "per_partition" }),
        set: |s, _, v| s.consumer.ordering = if v == "per_partition" { Ordering::PerPartition } else { Ordering::Any }),
    pick!("slow-message", "consumer.slow_message?", "Slow message", G_WORK, &[("none", "none"), ("one", "one poison pill")],
    get: |s, _| Some(if s.consumer.slow_message.is_some() { "one" } else { "none" }),
    set: |s, _, v| match (v, &s.consumer.slow_message) {
        ("one", None) => s.consumer.slow_message = Some(SlowMessage { at_s: 10.0, factor: 1_000.0 }),
        ("none", Some(_)) => s.consumer.slow_message = None,
        _ => {}
    }),
    num!("slow-at", "consumer.slow_message.at_s", "Slow message at", "s", G_WORK, 0.0, 600.0, lim::TIME_S, Linear, false, get: |s, _| s.consumer.slow_message.as_ref().map(|m| m.at_s), set: |s, _, v| if let Some(m) = &mut s.consumer.slow_message { m.at_s = v }),
    num!("slow-factor", "consumer.slow_message.factor", "Slow message takes", "× normal", G_WORK, 1.0, 1_000_000.0, lim::SLOW_FACTOR, Log, false, get: |s, _| s.consumer.slow_message.as_ref().map(|m| m.factor), set: |s, _, v| if let Some(m) = &mut s.consumer.slow_message { m.factor = v }),
    // --- producer: memory ------------------------------------------------------------------
    pick!("producer-oom", "producer.memory.heap_limit_mib?", "Producer OOM kill", G_PMEM, &[("none", "never (no heap limit)"), ("limit", "past a heap limit")],
    get: |s, _| Some(if s.producer.memory.heap_limit_mib.is_some() { "limit" } else { "none" }),
    set: |s, _, v| match (v, s.producer.memory.heap_limit_mib) {
        ("limit", None) => s.producer.memory.heap_limit_mib = Some((s.producer.memory.baseline_mib + 448.0).max(512.0).min(lim::HEAP_LIMIT_MIB.1)),
        ("none", Some(_)) => s.producer.memory.heap_limit_mib = None,
        _ => {}
    }),
    num!("producer-heap-limit", "producer.memory.heap_limit_mib", "Producer heap limit", "MiB", G_PMEM, 16.0, 65_536.0, lim::HEAP_LIMIT_MIB, Log, false,
        get: |s, _| s.producer.memory.heap_limit_mib, set: |s, _, v| s.producer.memory.heap_limit_mib = Some(v)),
    num!("producer-baseline", "producer.memory.baseline_mib", "Producer baseline heap", "MiB", G_PMEM, 1.0, 16_384.0, lim::BASELINE_MIB, LogZero, false,
        get: |s, _| Some(s.producer.memory.baseline_mib), set: |s, _, v| s.producer.memory.baseline_mib = v),
    num!("producer-restart-delay", "producer.memory.restart_delay_s", "Producer restart after a kill", "s", G_PMEM, 0.1, 600.0, lim::RESTART_DELAY_S, LogZero, false,
        get: |s, _| s.producer.memory.heap_limit_mib.map(|_| s.producer.memory.restart_delay_s),
        set: |s, _, v| s.producer.memory.restart_delay_s = v),
    // --- consumer: memory ------------------------------------------------------------------
    num!("heap-limit", "consumer.memory.heap_limit_mib", "Heap limit", "MiB", G_MEM, 16.0, 65_536.0, lim::HEAP_LIMIT_MIB, Log, false,
        get: |s, _| Some(s.consumer.memory.heap_limit_mib), set: |s, _, v| s.consumer.memory.heap_limit_mib = v),
    num!("baseline", "consumer.memory.baseline_mib", "Baseline heap", "MiB", G_MEM, 1.0, 16_384.0, lim::BASELINE_MIB, LogZero, false,
        get: |s, _| Some(s.consumer.memory.baseline_mib), set: |s, _, v| s.consumer.memory.baseline_mib = v),
    num!("bytes-per-message", "consumer.memory.bytes_per_message", "Heap per held message", "bytes", G_MEM, 16.0, 1_048_576.0, uh(lim::BYTES_PER_MESSAGE), LogZero, true,
        get: |s, _| u(s.consumer.memory.bytes_per_message), set: |s, _, v| s.consumer.memory.bytes_per_message = v as u64),
    num!("restart-delay", "consumer.memory.restart_delay_s", "Restart after a kill", "s", G_MEM, 0.1, 600.0, lim::RESTART_DELAY_S, LogZero, false,
        get: |s, _| Some(s.consumer.memory.restart_delay_s), set: |s, _, v| s.consumer.memory.restart_delay_s = v),
    // --- consumer: pause and shedding (shedding fields are Scope::Shed at CONSUMER) ----------
    pick!("pause", "consumer.pause?", "pause() / resume()", G_PROT, &[("off", "off"), ("on", "on in-flight watermarks")],
    get: |s, _| has_topic(s).then_some(if s.consumer.pause.is_some() { "on" } else { "off" }),
    set: |s, _, v| match (v, &s.consumer.pause) {
        ("on", None) => s.consumer.pause = Some(PauseSpec { high: 20_000, low: 10_000 }),
        ("off", Some(_)) => s.consumer.pause = None,
        _ => {}
    }),
    num!("pause-high", "consumer.pause.high", "Pause at", "msg in flight", G_PROT, 10.0, 10_000_000.0, uh(lim::WINDOW), Log, true, get: |s, _| s.consumer.pause.as_ref().map(|p| p.high as f64), set: |s, _, v| if let Some(p) = &mut s.consumer.pause { p.high = v as u64 }),
    num!("pause-low", "consumer.pause.low", "Resume at", "msg in flight", G_PROT, 1.0, 10_000_000.0, (0.0, lim::WINDOW.1 as f64), LogZero, true, get: |s, _| s.consumer.pause.as_ref().map(|p| p.low as f64), set: |s, _, v| if let Some(p) = &mut s.consumer.pause { p.low = v as u64 }),
    // --- consumer: downstream and limiter ---------------------------------------------------
    pick!("downstream", "consumer.downstream?", "Downstream dependency", G_DOWN, &[("none", "none"), ("call", "call one per message")],
    get: |s, _| Some(if s.consumer.downstream.is_some() { "call" } else { "none" }),
    set: |s, _, v| match (v, &s.consumer.downstream) {
        ("call", None) => s.consumer.downstream = Some(DownstreamSpec::default()),
        ("none", Some(_)) => s.consumer.downstream = None,
        _ => {}
    }),
    num!("slots", "consumer.downstream.slots", "Dependency slots", "calls", G_DOWN, 1.0, 10_000.0, uh(lim::SLOTS), Log, true, get: |s, _| s.consumer.downstream.as_ref().map(|d| d.slots as f64), set: |s, _, v| if let Some(d) = &mut s.consumer.downstream { d.slots = v as u32 }),
    num!("rate-per-slot", "consumer.downstream.rate_per_slot", "Calls per slot", "calls/s", G_DOWN, 0.1, 100_000.0, lim::RATE_PER_WORKER, Log, false, get: |s, _| s.consumer.downstream.as_ref().map(|d| d.rate_per_slot), set: |s, _, v| if let Some(d) = &mut s.consumer.downstream { d.rate_per_slot = v }),
    pick!("downstream-service", "consumer.downstream.service.kind", "Call time", G_DOWN, DISTS, get: |s, _| s.consumer.downstream.as_ref().map(|d| dist_name(&d.service)),
        set: |s, _, v| if let Some(d) = &mut s.consumer.downstream { d.service = dist_from(v, d.service) }),
    num!("downstream-sigma", "consumer.downstream.service.sigma", "Call time σ", "", G_DOWN, 0.01, 3.0, lim::SIGMA, Linear, false, get: |s, _| s.consumer.downstream.as_ref().and_then(|d| sigma_of(&d.service)),
        set: |s, _, v| if let Some(d) = &mut s.consumer.downstream { set_sigma(&mut d.service, v) }),
    pick!("limiter", "consumer.limiter?.kind", "Concurrency limit", G_DOWN,
    &[("none", "none (all workers)"), ("aimd", "adaptive: AIMD"), ("vegas", "adaptive: Vegas"), ("gradient2", "adaptive: Gradient2")],
    get: |s, _| Some(limiter_name(&s.consumer.limiter)),
    set: |s, _, v| if limiter_name(&s.consumer.limiter) != v {
        s.consumer.limiter = match v { "aimd" => Some(LimiterSpec::aimd()), "vegas" => Some(LimiterSpec::vegas()), "gradient2" => Some(LimiterSpec::gradient2()), _ => None };
    }),
    num!("limit-initial", "consumer.limiter.initial_limit", "Initial limit", "calls", G_DOWN, 1.0, 10_000.0, uh(ctl::CONCURRENCY), Log, true, get: |s, _| match &s.consumer.limiter { Some(LimiterSpec::Aimd(a)) => u(a.initial_limit as u64), Some(LimiterSpec::Vegas(v)) => u(v.initial_limit as u64), Some(LimiterSpec::Gradient2(g)) => u(g.initial_limit as u64), None => None },
        set: |s, _, v| match &mut s.consumer.limiter { Some(LimiterSpec::Aimd(a)) => a.initial_limit = v as u32, Some(LimiterSpec::Vegas(x)) => x.initial_limit = v as u32, Some(LimiterSpec::Gradient2(g)) => g.initial_limit = v as u32, None => {} }),
    num!("limit-min", "consumer.limiter.min_limit", "Minimum limit", "calls", G_DOWN, 1.0, 10_000.0, uh(ctl::CONCURRENCY), Log, true, get: |s, _| match &s.consumer.limiter { Some(LimiterSpec::Aimd(a)) => u(a.min_limit as u64), Some(LimiterSpec::Gradient2(g)) => u(g.min_limit as u64), _ => None },
        set: |s, _, v| match &mut s.consumer.limiter { Some(LimiterSpec::Aimd(a)) => a.min_limit = v as u32, Some(LimiterSpec::Gradient2(g)) => g.min_limit = v as u32, _ => {} }),
    num!("limit-max", "consumer.limiter.max_limit|max_concurrency", "Maximum limit", "calls", G_DOWN, 1.0, 100_000.0, uh(ctl::CONCURRENCY), Log, true, get: |s, _| match &s.consumer.limiter { Some(LimiterSpec::Aimd(a)) => u(a.max_limit as u64), Some(LimiterSpec::Vegas(v)) => u(v.max_concurrency as u64), Some(LimiterSpec::Gradient2(g)) => u(g.max_concurrency as u64), None => None },
        set: |s, _, v| match &mut s.consumer.limiter { Some(LimiterSpec::Aimd(a)) => a.max_limit = v as u32, Some(LimiterSpec::Vegas(x)) => x.max_concurrency = v as u32, Some(LimiterSpec::Gradient2(g)) => g.max_concurrency = v as u32, None => {} }),
    num!("aimd-backoff", "consumer.limiter.backoff_ratio", "Backoff ratio", "×", G_DOWN, 0.5, 0.999, ctl::BACKOFF_RATIO, Linear, false, get: |s, _| match &s.consumer.limiter { Some(LimiterSpec::Aimd(a)) => Some(a.backoff_ratio), _ => None },
        set: |s, _, v| if let Some(LimiterSpec::Aimd(a)) = &mut s.consumer.limiter { a.backoff_ratio = v }),
    num!("aimd-timeout", "consumer.limiter.timeout_ms", "Late after", "ms", G_DOWN, 1.0, 60_000.0, ctl::TIMEOUT_MS, Log, false, get: |s, _| match &s.consumer.limiter { Some(LimiterSpec::Aimd(a)) => Some(a.timeout_ms), _ => None },
        set: |s, _, v| if let Some(LimiterSpec::Aimd(a)) = &mut s.consumer.limiter { a.timeout_ms = v }),
    num!("limit-smoothing", "consumer.limiter.smoothing", "Smoothing", "", G_DOWN, 0.0, 1.0, ctl::SMOOTHING, Linear, false, get: |s, _| match &s.consumer.limiter { Some(LimiterSpec::Vegas(v)) => Some(v.smoothing), Some(LimiterSpec::Gradient2(g)) => Some(g.smoothing), _ => None },
        set: |s, _, v| match &mut s.consumer.limiter { Some(LimiterSpec::Vegas(x)) => x.smoothing = v, Some(LimiterSpec::Gradient2(g)) => g.smoothing = v, _ => {} }),
    num!("g2-queue", "consumer.limiter.queue_size", "Queue allowance", "calls", G_DOWN, 0.0, 100.0, uh(ctl::QUEUE_CALLS), Linear, true, get: |s, _| match &s.consumer.limiter { Some(LimiterSpec::Gradient2(g)) => u(g.queue_size as u64), _ => None },
        set: |s, _, v| if let Some(LimiterSpec::Gradient2(g)) = &mut s.consumer.limiter { g.queue_size = v as u32 }),
    num!("g2-tolerance", "consumer.limiter.rtt_tolerance", "RTT tolerance", "×", G_DOWN, 1.0, 5.0, (1.0, 1_000.0), Linear, false, get: |s, _| match &s.consumer.limiter { Some(LimiterSpec::Gradient2(g)) => Some(g.rtt_tolerance), _ => None },
        set: |s, _, v| if let Some(LimiterSpec::Gradient2(g)) = &mut s.consumer.limiter { g.rtt_tolerance = v }),
    // --- simulation ----------------------------------------------------------------------
    num!("resolution", "sim.resolution_ms", "Time resolution", "ms", G_ENGINE, 0.01, 100.0, lim::RESOLUTION_MS, LogZero, false,
        get: |s, _| Some(s.sim.resolution_ms), set: |s, _, v| s.sim.resolution_ms = v),
];
