//! Named scenarios, each with the lesson it teaches. Ids are stable: the CLI and the page
//! (and anyone's scripts) refer to them. Every strategy the engine models has one.

use crate::scenario::{
    AimdLimiterSpec, Arrivals, ChannelSpec, Commit, DownstreamSpec, FilterSpec, FlowControl, Gradient2LimiterSpec, KafkaProducerSpec,
    LimiterSpec, LinkSpec, MapSpec, Mode, OnFull, Ordering, Pattern, PauseSpec, ProducerMemorySpec, Scenario, ServiceDist, ShedSpec,
    SlowMessage, StageSpec, ThrottleSpec, TopicSpec,
};

/// Groups in the preset picker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// The reference incident and its direct variants.
    Incident,
    /// Buffers and what a full one does.
    Buffers,
    /// Credits and `request(n)`.
    Demand,
    /// Closing the loop across a topic, and adapting concurrency.
    Adaptive,
    /// Dropping work on purpose.
    Shedding,
    /// Kafka consumer and producer semantics.
    Kafka,
}

impl Family {
    pub fn label(self) -> &'static str {
        match self {
            Family::Incident => "Incident 106",
            Family::Buffers => "Buffers and overflow",
            Family::Demand => "Credits and request(n)",
            Family::Adaptive => "Feedback loops",
            Family::Shedding => "Load shedding",
            Family::Kafka => "Kafka semantics",
        }
    }
}

/// A named scenario and the lesson it teaches.
pub struct Preset {
    pub id: &'static str,
    pub family: Family,
    pub title: &'static str,
    /// One paragraph: what happens and why.
    pub explanation: &'static str,
    build: fn() -> Scenario,
}

impl Preset {
    pub fn scenario(&self) -> Scenario {
        (self.build)()
    }
}

fn channel(capacity: Option<u64>, on_full: OnFull) -> StageSpec {
    StageSpec::Channel(ChannelSpec { capacity, link: LinkSpec { on_full, ..LinkSpec::default() }, shed: None })
}

fn topic() -> StageSpec {
    StageSpec::Topic(TopicSpec::default())
}

/// Producer → channel → consumer (sync, one message at a time), the in-process pipeline.
fn in_process(capacity: Option<u64>, on_full: OnFull) -> Scenario {
    let mut s = Scenario { stages: vec![channel(capacity, on_full)], ..Scenario::default() };
    s.consumer.mode = Mode::Sync;
    s.consumer.max_poll_records = 1;
    s.consumer.commit = Commit::Sync;
    s.duration_s = 120.0;
    s
}

fn incident_106() -> Scenario {
    Scenario::default()
}

fn incident_106_5k() -> Scenario {
    let mut s = Scenario::default();
    s.consumer.rate_per_worker = 5_000.0;
    s.duration_s = 180.0;
    s
}

fn incident_commit_after() -> Scenario {
    let mut s = Scenario::default();
    s.consumer.commit = Commit::Sync;
    s
}

fn fix_sync_poll() -> Scenario {
    let mut s = Scenario::default();
    s.consumer.mode = Mode::Sync;
    s.duration_s = 600.0;
    s
}

fn fix_blocking_channel() -> Scenario {
    let mut s = in_process(Some(100), OnFull::Block);
    s.duration_s = 600.0;
    s
}

fn buffer_bloat() -> Scenario {
    let mut s = in_process(None, OnFull::Block);
    // The channel lives in the producer's heap: 64 MiB to start, a 512 MiB limit.
    s.producer.memory = ProducerMemorySpec { baseline_mib: 64.0, heap_limit_mib: Some(512.0), restart_delay_s: 10.0 };
    s
}

fn bursts_absorbed() -> Scenario {
    let mut s = in_process(Some(5_000), OnFull::DropNewest);
    s.producer.rate_per_s = 1_500.0;
    s.producer.pattern = Pattern::OnOff { on_s: 2.0, off_s: 3.0, off_factor: 0.0, random: false };
    s.consumer.rate_per_worker = 1_000.0;
    s
}

fn block_timeout() -> Scenario {
    let mut s = in_process(Some(100), OnFull::Block);
    if let StageSpec::Channel(c) = &mut s.stages[0] {
        c.link.block_timeout_ms = Some(200.0);
    }
    s
}

fn drop_newest() -> Scenario {
    in_process(Some(1_000), OnFull::DropNewest)
}

fn drop_oldest() -> Scenario {
    in_process(Some(1_000), OnFull::DropOldest)
}

fn fail_fast() -> Scenario {
    in_process(Some(1_000), OnFull::Fail)
}

fn credits() -> Scenario {
    let mut s = Scenario::default();
    s.stages.clear();
    s.consumer.mode = Mode::Sync;
    s.consumer.link.control = FlowControl::Credit { initial: 1_000, grant: 500, batch: 100, latency_ms: 5.0 };
    s
}

fn reactive_request_n() -> Scenario {
    let mut s = Scenario {
        stages: vec![
            StageSpec::Map(MapSpec::default()),
            StageSpec::Filter(FilterSpec { pass_ratio: 0.5, link: LinkSpec::default() }),
            StageSpec::Channel(ChannelSpec {
                capacity: Some(256),
                link: LinkSpec { control: FlowControl::Request { prefetch: 256, replenish: 0.75, latency_ms: 0.1 }, ..LinkSpec::default() },
                shed: None,
            }),
        ],
        ..Scenario::default()
    };
    s.consumer.mode = Mode::Sync;
    s.consumer.link.control = FlowControl::Request { prefetch: 64, replenish: 0.75, latency_ms: 0.1 };
    s
}

fn throttled(spec: ThrottleSpec) -> Scenario {
    let mut s = Scenario::default();
    s.consumer.mode = Mode::Sync;
    s.producer.throttle = Some(spec);
    s.duration_s = 300.0;
    s
}

fn throttle_aimd() -> Scenario {
    throttled(ThrottleSpec::aimd())
}

fn throttle_pid() -> Scenario {
    throttled(ThrottleSpec::pid())
}

/// A consumer calling a dependency of 10 slots × 100 calls/s (capacity 1,000 calls/s) for
/// each message, fed at 1,200 msg/s (Poisson, 20% over capacity), with 200 threads.
fn downstream(limiter: Option<LimiterSpec>) -> Scenario {
    let mut s = Scenario::default();
    s.producer.rate_per_s = 1_200.0;
    s.producer.arrivals = Arrivals::Poisson;
    s.stages = vec![topic()];
    s.consumer.mode = Mode::Async;
    s.consumer.commit = Commit::Sync;
    s.consumer.workers = 200;
    s.consumer.downstream = Some(DownstreamSpec { slots: 10, rate_per_slot: 100.0, service: ServiceDist::Lognormal { sigma: 0.1 } });
    s.consumer.limiter = limiter;
    s.duration_s = 300.0;
    s
}

fn concurrency_unbounded() -> Scenario {
    downstream(None)
}

fn adaptive_aimd() -> Scenario {
    downstream(Some(LimiterSpec::Aimd(AimdLimiterSpec { min_limit: 1, initial_limit: 20, timeout_ms: 30.0, ..AimdLimiterSpec::default() })))
}

fn adaptive_vegas() -> Scenario {
    downstream(Some(LimiterSpec::vegas()))
}

fn adaptive_gradient2() -> Scenario {
    downstream(Some(LimiterSpec::Gradient2(Gradient2LimiterSpec { min_limit: 1, ..Gradient2LimiterSpec::default() })))
}

fn shedding(shed: ShedSpec) -> Scenario {
    let mut s = Scenario::default();
    s.consumer.shed = Some(shed);
    s
}

fn shed_queue_length() -> Scenario {
    shedding(ShedSpec::QueueLength { max_queue: 5_000 })
}

fn shed_deadline() -> Scenario {
    shedding(ShedSpec::Deadline { max_age_ms: 2_000.0 })
}

fn shed_red() -> Scenario {
    shedding(ShedSpec::Red { min_queue: 2_000, max_queue: 10_000, max_p: 0.2, weight: 0.002 })
}

fn pause_resume() -> Scenario {
    let mut s = Scenario::default();
    s.consumer.pause = Some(PauseSpec { high: 20_000, low: 10_000 });
    s.duration_s = 300.0;
    s
}

fn fetch_cache() -> Scenario {
    let mut s = Scenario::default();
    s.producer.rate_per_s = 2_000.0;
    s.producer.message_bytes = 65_536;
    s.stages = vec![StageSpec::Topic(TopicSpec { partitions: 50, ..TopicSpec::default() })];
    s.consumer.mode = Mode::Sync;
    s.consumer.max_poll_records = 10;
    s.consumer.rate_per_worker = 1_000.0;
    s.consumer.memory.bytes_per_message = 65_536;
    s.consumer.memory.heap_limit_mib = 100.0;
    s.duration_s = 60.0;
    s
}

fn rebalance_storm() -> Scenario {
    let mut s = Scenario::default();
    s.producer.rate_per_s = 40.0;
    s.stages = vec![StageSpec::Topic(TopicSpec { partitions: 4, ..TopicSpec::default() })];
    s.consumer.mode = Mode::Sync;
    s.consumer.max_poll_records = 500;
    s.consumer.rate_per_worker = 35.0;
    s.consumer.max_poll_interval_ms = 10_000.0;
    s.consumer.rebalance_ms = 2_000.0;
    s.duration_s = 300.0;
    s
}

fn consumer_group() -> Scenario {
    let mut s = Scenario::default();
    s.producer.rate_per_s = 3_000.0;
    s.stages = vec![StageSpec::Topic(TopicSpec { partitions: 10, ..TopicSpec::default() })];
    s.consumer.members = 3;
    s.consumer.rate_per_worker = 1_100.0;
    s.consumer.memory.heap_limit_mib = 70.0;
    s.consumer.rebalance_ms = 3_000.0;
    s.duration_s = 300.0;
    s
}

fn producer_quota() -> Scenario {
    let mut s = Scenario {
        stages: vec![StageSpec::KafkaProducer(KafkaProducerSpec { broker_rate_per_s: 5_000.0, ..KafkaProducerSpec::default() }), topic()],
        ..Scenario::default()
    };
    s.consumer.mode = Mode::Sync;
    s.consumer.workers = 20;
    s.duration_s = 120.0;
    s
}

fn retention_loss() -> Scenario {
    let mut s = Scenario::default();
    s.producer.rate_per_s = 1_000.0;
    s.stages = vec![StageSpec::Topic(TopicSpec { retention_ms: Some(60_000.0), ..TopicSpec::default() })];
    s.consumer.mode = Mode::Sync;
    s.consumer.rate_per_worker = 500.0;
    s.duration_s = 300.0;
    s
}

fn head_of_line() -> Scenario {
    let mut s = Scenario::default();
    s.producer.rate_per_s = 800.0;
    s.stages = vec![StageSpec::Topic(TopicSpec { partitions: 4, ..TopicSpec::default() })];
    s.consumer.mode = Mode::Async;
    s.consumer.commit = Commit::Sync;
    s.consumer.workers = 4;
    s.consumer.rate_per_worker = 250.0;
    s.consumer.ordering = Ordering::PerPartition;
    s.consumer.slow_message = Some(SlowMessage { at_s: 10.0, factor: 5_000.0 });
    s.duration_s = 60.0;
    s
}

/// Every preset, in the order the page lists them.
pub static PRESETS: &[Preset] = &[
    Preset {
        id: "incident-106",
        family: Family::Incident,
        title: "Incident 106: async hand-off until OOM",
        explanation: "A push producer sends 10,000 msg/s through a Go channel into a 10-partition topic. \
            The consumer polls 1,000 records at a time and hands each batch to processAsync, which \
            returns at once, so it polls again immediately: it fetches everything the producer writes, \
            but processes only 500 msg/s. The difference, about 9,500 msg/s, piles up in the consumer's \
            heap as in-flight work while topic lag looks healthy, because auto-commit commits what was \
            polled, not what was processed. At 1 KiB a message the 448 MiB of headroom is gone after \
            about 48 s: the consumer is OOM-killed, and every record it had fetched and committed but \
            not processed is lost for good.",
        build: incident_106,
    },
    Preset {
        id: "incident-106-5k",
        family: Family::Incident,
        title: "Incident 106 with a 5,000 msg/s consumer",
        explanation: "The same pipeline with a consumer ten times faster. Doubling capacity only halves the \
            growth rate: in-flight still grows at 5,000 msg/s and the OOM kill comes at about 92 s \
            instead of 48 s. Without backpressure, a faster consumer delays the failure; it does not \
            prevent it.",
        build: incident_106_5k,
    },
    Preset {
        id: "incident-commit-after-processing",
        family: Family::Incident,
        title: "Incident 106, committing only what is processed",
        explanation: "The incident with commitSync after processing instead of auto-commit. The consumer \
            still runs out of heap, but nothing is lost: offsets only move past processed records, so \
            after each kill the group rewinds and delivers the unprocessed records again. The price is \
            a crash loop (the restarted consumer fetches the whole backlog and dies again) and lag that \
            now tells the truth. Committing correctly fixes the data loss, not the overload.",
        build: incident_commit_after,
    },
    Preset {
        id: "fix-sync-poll",
        family: Family::Incident,
        title: "Fix: process synchronously, poll when done",
        explanation: "The consumer processes each batch before it polls again, so it never holds more than \
            max.poll.records (1,000) records: the heap stays flat and nothing is lost. The consumer is \
            still slower than the producer, so the backlog grows, but in the topic, as lag, where it is \
            durable, visible to monitoring and cheap. This is Kafka's pull model doing its job: the \
            consumer controls its fetch rate. A topic decouples the producer from a slow consumer, so \
            the producer never slows down: end-to-end backpressure needs a loop such as throttling \
            from lag.",
        build: fix_sync_poll,
    },
    Preset {
        id: "fix-blocking-channel",
        family: Family::Buffers,
        title: "Fix: a small blocking channel, no topic",
        explanation: "Producer and consumer in one process joined by a Go channel of capacity 100 and nothing \
            else. When the channel is full the producer's send blocks, so its effective rate falls to the \
            consumer's 500 msg/s and the blocked time shows how long it waits: this is backpressure end to \
            end. With a topic in between, the producer never feels a slow consumer: the log absorbs the \
            difference as lag. That is why a durable queue needs an explicit loop (throttling from lag) \
            to push back on its producers.",
        build: fix_blocking_channel,
    },
    Preset {
        id: "buffer-bloat",
        family: Family::Buffers,
        title: "No backpressure: an unbounded buffer",
        explanation: "The same in-process pipeline with an unbounded channel. Nothing ever blocks, so the \
            producer keeps its 10,000 msg/s and the channel grows by 9,500 messages every second. \
            Throughput is the consumer's 500 msg/s either way; what the big buffer buys is latency that \
            grows as long as the buffer does (every message waits behind all the others) and memory that \
            runs out. The channel lives in the producer's heap (64 MiB to start, 512 MiB at most): 1 KiB \
            messages fill the (512 − 64) MiB left at 9,500 × 1 KiB per second, so at ≈ 48.3 s the \
            producer is OOM-killed and the ≈ 459,000 messages in the channel are lost; it restarts 10 s \
            later and fills up again. A large buffer hides the mismatch; it does not absorb it.",
        build: buffer_bloat,
    },
    Preset {
        id: "bursts-absorbed",
        family: Family::Buffers,
        title: "What buffers are for: absorbing bursts",
        explanation: "The producer sends in bursts: 2 s at 1,500 msg/s, then 3 s of silence, 600 msg/s on \
            average, against a consumer that handles 1,000 msg/s. During a burst the channel fills by \
            500 msg/s, up to about 1,000 messages; between bursts the consumer drains it. The buffer of \
            5,000 never fills, nothing is dropped, and the price is a little latency at the end of each \
            burst. A buffer sized for the bursts smooths a rate that is fine on average; no buffer can \
            fix a rate that is too high on average (compare buffer-bloat).",
        build: bursts_absorbed,
    },
    Preset {
        id: "block-timeout",
        family: Family::Buffers,
        title: "Blocking send with a timeout (max.block.ms)",
        explanation: "A bounded channel of 100 whose send blocks for at most 200 ms, then fails, like \
            Kafka's max.block.ms. The producer is held back while the channel drains; here a slot frees \
            every 2 ms, so no send waits 200 ms and none fails. A timeout turns backpressure into errors \
            (retry, drop or slow down) only when the receiver stalls longer than it: at 1 ms about half \
            the sends fail.",
        build: block_timeout,
    },
    Preset {
        id: "drop-newest",
        family: Family::Buffers,
        title: "Bounded buffer, drop the newest",
        explanation: "A channel of 1,000 that discards arriving messages when full (a select with default in \
            Go). The producer never slows down and the consumer works at full speed on what got in: about \
            95% of the messages are dropped, counted by policy, and latency stays bounded at the time it \
            takes to drain a full buffer (2 s). Right for data where a sample is enough.",
        build: drop_newest,
    },
    Preset {
        id: "drop-oldest",
        family: Family::Buffers,
        title: "Bounded buffer, drop the oldest",
        explanation: "A channel of 1,000 that makes room for new messages by discarding the oldest (a ring \
            buffer, onBackpressureLatest in spirit). Same drop rate as drop-newest, but what the consumer \
            sees is always the freshest data: right for telemetry and prices, wrong for orders.",
        build: drop_oldest,
    },
    Preset {
        id: "fail-fast",
        family: Family::Buffers,
        title: "Bounded buffer, fail the send",
        explanation: "A channel of 1,000 whose send fails at once when full (offer() returning false, a 429 \
            or 503). Nothing waits; every refusal is visible to the sender, which can retry later, pick \
            another instance or give up. The counts match drop-newest; the difference is who knows.",
        build: fail_fast,
    },
    Preset {
        id: "credits",
        family: Family::Demand,
        title: "Credit-based flow control (1,000 credits, send 100, grant 500)",
        explanation: "The consumer gives the producer 1,000 credits. The producer collects its messages into \
            batches of 100 and sends a batch whenever it holds at least 100 credits, spending one per \
            message: 1,000, 900, … 100, 0 left, then it stops. Each time the consumer has processed 500 \
            messages it grants 500 credits back, which take 5 ms to arrive, and the producer sends five \
            more batches. It can never have more than 1,000 messages outstanding, so the consumer's \
            memory is bounded by construction and the producer's rate settles at the consumer's 500 \
            msg/s: it waits, blocked, for credits.",
        build: credits,
    },
    Preset {
        id: "reactive-request-n",
        family: Family::Demand,
        title: "Reactive Streams request(n): map → filter → buffer → subscriber",
        explanation: "A Reactive Streams chain. The subscriber requests 64 (limitRate(64, 48)) and asks for 48 \
            more each time 48 have been consumed; the buffer in front of it prefetches 256 from upstream \
            and replenishes at 75%; demand passes through filter (which asks for one more for every item \
            it drops, so half the requests are used up by filtered items) and map to the publisher, which \
            only emits what was requested. No stage ever holds more than it asked for: backpressure is \
            built into the protocol.",
        build: reactive_request_n,
    },
    Preset {
        id: "throttle-aimd",
        family: Family::Adaptive,
        title: "Throttling the producer from lag: AIMD",
        explanation: "The fix-sync-poll pipeline plus a loop the topic does not provide: once a second the \
            producer reads the consumer's lag; above 10,000 it halves its rate, below it adds 50 msg/s \
            (additive increase, multiplicative decrease, as TCP does). The producer's rate saws around \
            the consumer's 500 msg/s and the lag stays near its target instead of growing forever: \
            end-to-end backpressure across a durable queue.",
        build: throttle_aimd,
    },
    Preset {
        id: "throttle-pid",
        family: Family::Adaptive,
        title: "Throttling the producer from lag: PID",
        explanation: "The same loop with a PID controller on the lag error: proportional, integral (with \
            anti-windup) and derivative terms. With auto-commit the lag it reads moves in \
            5-second steps, so it never settles: the rate swings between about 30 and 820 msg/s in a \
            30-second cycle. A controller is only as good as its signal: with consumer.commit = sync it \
            settles.",
        build: throttle_pid,
    },
    Preset {
        id: "concurrency-unbounded",
        family: Family::Adaptive,
        title: "200 threads against a dependency with 10 slots",
        explanation: "Each message needs a call to a dependency that serves 10 calls at a time, 100 calls/s \
            each: 1,000 calls/s. Messages arrive at 1,200/s, so something must queue. The consumer has 200 \
            threads and uses them all: 190 calls wait inside the dependency, every round trip takes about \
            200 ms instead of 10, and every other client of that dependency suffers too. Throughput is \
            capped at 1,000/s either way; compare where the queue sits with the adaptive limiters, which \
            find the dependency's capacity from round-trip times alone.",
        build: concurrency_unbounded,
    },
    Preset {
        id: "adaptive-aimd",
        family: Family::Adaptive,
        title: "Adaptive concurrency: AIMD (Netflix concurrency-limits)",
        explanation: "The same consumer with an AIMD limit on calls in flight: +1 per successful call, ×0.9 \
            for each call slower than 30 ms. Round trips stay short and the excess waits in the consumer, \
            where it is visible and can be paused or shed, instead of inside the dependency. But AIMD \
            backs off once per late call, and a burst of late calls cuts the limit far below the 10 \
            slots: throughput drops by about a fifth. (The library usually wraps it in a windowed limit \
            that decides once per window.) Compare Vegas and Gradient2, which read the round-trip time \
            itself.",
        build: adaptive_aimd,
    },
    Preset {
        id: "adaptive-vegas",
        family: Family::Adaptive,
        title: "Adaptive concurrency: Vegas",
        explanation: "Vegas estimates the queue inside the dependency from how much the round-trip time \
            exceeds the fastest one seen (limit × (1 − rtt_noload / rtt)) and keeps it between alpha and \
            beta (3 and 6 × log10(limit)). It settles a little above the 10 slots with short round trips.",
        build: adaptive_vegas,
    },
    Preset {
        id: "adaptive-gradient2",
        family: Family::Adaptive,
        title: "Adaptive concurrency: Gradient2",
        explanation: "Gradient2 compares a long-term average round-trip time with the short-term one and \
            scales the limit by their ratio (with a tolerance of 1.5 and a queue allowance of 4). It \
            reacts quickly to a slower dependency, and probes upward when round trips are stable.",
        build: adaptive_gradient2,
    },
    Preset {
        id: "shed-queue-length",
        family: Family::Shedding,
        title: "Load shedding: queue-length threshold",
        explanation: "Incident 106 with one change: the consumer refuses to queue more than 5,000 records and \
            drops the rest (its offsets are committed, as if handled). In-flight memory is bounded, so \
            there is no OOM kill and nothing is lost by accident; about 95% is dropped on purpose, \
            counted, and the work that is done stays fresh. Shedding is backpressure's last resort: \
            when you cannot slow the producer, decide what not to do.",
        build: shed_queue_length,
    },
    Preset {
        id: "shed-deadline",
        family: Family::Shedding,
        title: "Load shedding: deadline",
        explanation: "Records older than 2 s when a worker reaches them are dropped instead of processed: \
            a result nobody waits for any more is worthless. The consumer only spends time on records \
            that can still be useful, so latency of processed records stays under the deadline. Memory \
            stays bounded too, as a side effect: nothing is kept past 2 s, so at most rate × 2 s (20,000 \
            records) is held and the heap peaks near 84 MiB; but over 90% of the records are shed.",
        build: shed_deadline,
    },
    Preset {
        id: "shed-red",
        family: Family::Shedding,
        title: "Load shedding: random early detection (RED)",
        explanation: "Arrivals are dropped with a probability that rises from 0 at an average queue of 2,000 \
            to 20% at 10,000, and to 100% beyond: the drop rate grows smoothly with congestion instead \
            of all at once at a hard limit, as routers do with RED.",
        build: shed_red,
    },
    Preset {
        id: "pause-resume",
        family: Family::Kafka,
        title: "Kafka pause() / resume() on in-flight watermarks",
        explanation: "The incident's asynchronous consumer, but it pauses its partitions when 20,000 records \
            are in flight and resumes at 10,000. Records already fetched are kept. Processing stays \
            asynchronous and parallel, memory stays bounded, and the backlog stays in the topic as lag: \
            the pull model restored without giving up async processing.",
        build: pause_resume,
    },
    Preset {
        id: "fetch-cache",
        family: Family::Kafka,
        title: "max.poll.records does not limit fetching",
        explanation: "A consumer polls only 10 records at a time, yet runs out of heap. Fetches fill the \
            consumer's fetch cache with up to max.partition.fetch.bytes (1 MiB) per partition, whatever \
            max.poll.records is, and poll() then hands them out 10 at a time. With 50 partitions of 64 KiB \
            records, the cache alone needs about 50 MiB. max.poll.records sets the batch you process, not \
            the memory you hold: size fetches (max.partition.fetch.bytes, fetch.max.bytes) for the heap.",
        build: fetch_cache,
    },
    Preset {
        id: "rebalance-storm",
        family: Family::Kafka,
        title: "max.poll.interval.ms exceeded: a rebalance storm",
        explanation: "The consumer (35 msg/s) falls behind the producer (40 msg/s), so each poll soon returns \
            500 records, which take about 14 s to process: longer than max.poll.interval.ms (10 s). The member is removed from the group before it finishes; its \
            commit fails, the group rebalances, and the same records are delivered and processed again. \
            Duplicates pile up and progress stalls. Smaller batches or a longer interval fix it.",
        build: rebalance_storm,
    },
    Preset {
        id: "consumer-group",
        family: Family::Kafka,
        title: "A consumer group of three, one crash",
        explanation: "Three members share 10 partitions (4, 3 and 3), each able to process 1,100 msg/s, \
            asynchronously, against a load of 3,000 msg/s: 3,300 msg/s of capacity for 3,000 of work. But \
            the member with four partitions gets 1,200 msg/s; its in-flight grows until its small heap \
            (70 MiB) runs out. When it dies the group stops for a rebalance and its partitions move to the \
            survivors, which now get 1,500 msg/s each and die in turn: a failure cascade. Capacity in \
            aggregate is not capacity per member.",
        build: consumer_group,
    },
    Preset {
        id: "producer-quota",
        family: Family::Kafka,
        title: "Producer buffer.memory against a broker quota",
        explanation: "The producer writes 10,000 msg/s through Kafka's producer client to a broker that \
            accepts 5,000 records/s (a quota: it delays its answers, the client sees throttling, not \
            errors). The client's 32 MiB buffer.memory fills in a few seconds, then send() blocks, up to \
            max.block.ms: the producer is held to the broker's rate. Backpressure reaches the producer \
            from the broker, not from the consumer.",
        build: producer_quota,
    },
    Preset {
        id: "retention-loss",
        family: Family::Kafka,
        title: "Retention deletes what nobody consumed",
        explanation: "A topic keeps records for 60 s; the consumer handles 500 of the 1,000 msg/s written. \
            Lag grows until the oldest unconsumed records are older than the retention, then the broker \
            deletes them: they are lost without any crash. Lag is not just a delay; on a finite log it \
            becomes data loss.",
        build: retention_loss,
    },
    Preset {
        id: "head-of-line",
        family: Family::Kafka,
        title: "Head-of-line blocking: one slow record stalls its partition",
        explanation: "Records are processed in order per partition (one worker per partition). At 10 s one \
            record takes 5,000 times longer than the others (20 s). Its partition stops while the three \
            others carry on: that partition's lag climbs, its records' latency explodes, and nothing \
            can overtake the slow one.",
        build: head_of_line,
    },
];

/// The scenario of preset `id`.
pub fn preset(id: &str) -> Option<Scenario> {
    PRESETS.iter().find(|p| p.id == id).map(Preset::scenario)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_valid_and_ids_are_unique() {
        let mut ids: Vec<&str> = PRESETS.iter().map(|p| p.id).collect();
        for p in PRESETS {
            p.scenario().validate().unwrap_or_else(|e| panic!("{}: {e}", p.id));
            assert!(p.explanation.len() > 150, "{} needs a real explanation", p.id);
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), PRESETS.len());
    }
}
