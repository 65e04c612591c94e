//! The engine against queueing theory: M/M/1, M/D/1, M/M/1/K, M/M/c and D/D/1 built from
//! scenarios, Little's law on every preset, with tolerances taken from the models' known
//! asymptotic variances (never from the run's own batch means).
//!
//! How the tolerances are derived. For a birth–death process with birth rates `λ_k` and
//! stationary law `π`, the time average of `f(state)` over a run of length `T` has variance
//! `σ²/T` asymptotically, with (Whitt, "Asymptotic formulas for Markov processes with
//! applications to simulation", Oper. Res. 1992)
//!
//! ```text
//! σ² = 2 Σ_k ( Σ_{j≤k} π_j (f_j − E f) )² / (λ_k π_k)
//! ```
//!
//! [`BirthDeath::asymptotic_variance`] computes it on the state space truncated where the
//! stationary tail is below 1e-30 of the mass (see [`BirthDeath::new`]); a unit test checks
//! it against the closed form for M/M/1's L, `2ρ(1+ρ)/(μ(1−ρ)⁴)`. Every check asserts
//! `|measured − theory| ≤ 4 SE (+ any deterministic error, stated)`: a false alarm has
//! probability about 6e-5 per check, and the seeds are fixed, so a pass is reproducible.
//!
//! Warm-up: the runs start empty. Time averages and customer averages are taken over
//! `[w, T]` by differencing the engine's running totals at `w` and `T`, with `w` = 50
//! relaxation times `1/(μ(1−√ρ)²)` (the inverse of M/M/1's spectral gap `(√μ − √λ)²`, the
//! rate at which its transient dies out; for M/M/c that of a single server of rate `cμ`, and
//! a finite M/M/1/K relaxes faster than M/M/1): the start-up bias is then down by `e^{−50}`.
//! The latency histogram cannot be differenced, so the median check bounds the warm-up's
//! share instead.
//!
//! Each check prints measured value, theory and tolerance (`cargo test --test it theory --
//! --nocapture`).

use bplab_engine::scenario::{ChannelSpec, LinkSpec, OnFull, ServiceDist, StageSpec};
use bplab_engine::{Arrivals, Mode, Pattern, Scenario, Simulation, PRESETS};

// ---- numerics: birth–death processes ------------------------------------------------

/// A birth–death process's stationary law, on `0..pi.len()`.
struct BirthDeath {
    pi: Vec<f64>,
    birth: Vec<f64>,
}

/// Stationary mass below which the tail of an infinite chain is cut off (relative to the
/// total): 1e-30 is far below any tolerance here, and the tail's share of σ² is of the same
/// order (its terms are ~ π_k · k²).
const TAIL: f64 = 1e-30;

impl BirthDeath {
    /// The chain with birth rate `birth(k)` out of state `k` and death rate `death(k)` out of
    /// state `k ≥ 1`. A chain whose birth rate reaches 0 stops there (finite); an infinite one
    /// is truncated at the first state past the mode whose weight is below [`TAIL`] of the
    /// total (the ratio `λ_k/μ_{k+1}` is then below 1 and the rest is a geometric tail).
    fn new(birth: impl Fn(usize) -> f64, death: impl Fn(usize) -> f64) -> BirthDeath {
        let mut w = vec![1.0f64];
        let mut rates = Vec::new();
        let mut sum = 1.0;
        loop {
            let k = w.len() - 1;
            let b = birth(k);
            rates.push(b);
            if b == 0.0 {
                break;
            }
            let ratio = b / death(k + 1);
            let next = w[k] * ratio;
            w.push(next);
            sum += next;
            if ratio < 1.0 && next < TAIL * sum {
                rates.push(birth(k + 1));
                break;
            }
            assert!(w.len() < 10_000_000, "chain too long to truncate");
        }
        BirthDeath { pi: w.iter().map(|x| x / sum).collect(), birth: rates }
    }

    fn states(&self) -> usize {
        self.pi.len()
    }

    fn mean(&self, f: impl Fn(usize) -> f64) -> f64 {
        self.pi.iter().enumerate().map(|(k, p)| p * f(k)).sum()
    }

    /// σ² of the time average of `f`: Var(time average over T) ≈ σ²/T (time units of the
    /// rates). The partial sums `S_k = Σ_{j≤k} π_j (f_j − m)` are summed from the top
    /// (`S_k = −Σ_{j>k} …`, the same number since the total is zero): adding up from the
    /// bottom would leave a rounding error of ~1e-16 that, divided by the tiny `π_k` of the
    /// tail, would swamp the result.
    fn asymptotic_variance(&self, f: impl Fn(usize) -> f64) -> f64 {
        let n = self.states();
        let m = self.mean(&f);
        let mut s = 0.0;
        let mut total = 0.0;
        // k runs from n−2 down to 0: S_{n−1} = 0 (the whole sum).
        for k in (0..n - 1).rev() {
            s -= self.pi[k + 1] * (f(k + 1) - m);
            total += s * s / (self.birth[k] * self.pi[k]);
        }
        2.0 * total
    }
}

fn mm1_chain(lambda: f64, mu: f64) -> BirthDeath {
    BirthDeath::new(|_| lambda, |_| mu)
}

fn mmc_chain(lambda: f64, mu: f64, c: usize) -> BirthDeath {
    BirthDeath::new(|_| lambda, move |k| mu * k.min(c) as f64)
}

fn mm1k_chain(lambda: f64, mu: f64, cap: usize) -> BirthDeath {
    BirthDeath::new(move |k| if k < cap { lambda } else { 0.0 }, |_| mu)
}

/// Erlang's C formula: probability that an arrival waits in M/M/c with offered load `a = λ/μ`.
fn erlang_c(c: usize, a: f64) -> f64 {
    let mut term = 1.0; // a^k / k!
    let mut sum = 0.0;
    for k in 0..c {
        sum += term;
        term *= a / (k + 1) as f64;
    }
    let top = term * c as f64 / (c as f64 - a);
    top / (sum + top)
}

/// P(Poisson(x) ≤ k) for k = 0..n: P(Gamma(k+1, 1) > x), the chance that k+1 exponential
/// services outlast x mean service times.
fn poisson_cdf(x: f64, n: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(n);
    let mut term = (-x).exp();
    let mut sum = 0.0;
    for j in 0..n {
        sum += term;
        out.push(sum.min(1.0));
        term *= x / (j + 1) as f64;
    }
    out
}

#[test]
fn whitt_variance_matches_the_mm1_closed_form() {
    for (rho, mu) in [(0.5, 1.0), (0.9, 1.0), (0.9, 1000.0), (0.7, 3.0), (0.95, 1.0)] {
        let chain = mm1_chain(rho * mu, mu);
        let l = chain.mean(|k| k as f64);
        assert!((l - rho / (1.0 - rho)).abs() < 1e-9 * l, "L {l}");
        let numeric = chain.asymptotic_variance(|k| k as f64);
        let closed = 2.0 * rho * (1.0 + rho) / (mu * (1.0 - rho).powi(4));
        println!("M/M/1 ρ={rho} μ={mu}: σ²(L) numeric {numeric:.6e}, closed form {closed:.6e}, {} states", chain.states());
        assert!((numeric - closed).abs() < 1e-9 * closed, "ρ={rho}: {numeric} vs {closed}");
    }
}

#[test]
fn the_numerics_agree_with_known_closed_forms() {
    // M/M/c: the chain's P(k ≥ c) is Erlang C, and its Lq is C ρ/(1−ρ).
    let (c, mu, rho) = (4, 1.0, 0.8);
    let chain = mmc_chain(rho * c as f64 * mu, mu, c);
    let wait = chain.mean(|k| (k >= c) as u8 as f64);
    let ec = erlang_c(c, rho * c as f64);
    assert!((wait - ec).abs() < 1e-12, "{wait} vs {ec}");
    let lq = chain.mean(|k| k.saturating_sub(c) as f64);
    assert!((lq - ec * rho / (1.0 - rho)).abs() < 1e-9);
    // M/M/1/K: P_K.
    let (k, rho) = (10, 0.9);
    let chain = mm1k_chain(rho, 1.0, k);
    assert_eq!(chain.states(), k + 1);
    let pk = (1.0 - rho) * rho.powi(k as i32) / (1.0 - rho.powi(k as i32 + 1));
    assert!((chain.pi[k] - pk).abs() < 1e-12);
    // The conditional sojourn tail g(k) = P(Poisson(μt) ≤ k) averages to e^{−(μ−λ)t} over
    // M/M/1's stationary law (PASTA): at the median, 1/2.
    let (lambda, mu) = (0.9, 1.0);
    let chain = mm1_chain(lambda, mu);
    let t = std::f64::consts::LN_2 / (mu - lambda);
    let g = poisson_cdf(mu * t, chain.states());
    assert!((chain.mean(|k| g[k]) - 0.5).abs() < 1e-12);
}

// ---- running the engine --------------------------------------------------------------

/// A single-server (or `c`-server) queue fed straight by the producer: the consumer's queue
/// and workers are the queue. Every message is its own event (`resolution_ms = 0`), and
/// messages cost no heap, so nothing is ever OOM-killed.
fn classic(lambda: f64, mu: f64, c: u32, service: ServiceDist, seed: u64) -> Scenario {
    let mut s = Scenario { seed, ..Scenario::default() };
    s.producer.arrivals = Arrivals::Poisson;
    s.producer.rate_per_s = lambda;
    s.stages = vec![];
    s.consumer.workers = c;
    s.consumer.rate_per_worker = mu;
    s.consumer.service = service;
    s.consumer.memory.bytes_per_message = 0;
    s.sim.resolution_ms = 0.0;
    s.sim.sample_interval_ms = 1_000.0;
    s
}

/// M/M/1/K: a channel of K − 1 that drops what does not fit, in front of a consumer that
/// takes one message whenever its single worker is free.
fn mm1k(lambda: f64, mu: f64, cap: u64, seed: u64) -> Scenario {
    let mut s = classic(lambda, mu, 1, ServiceDist::Exponential {}, seed);
    s.stages = vec![StageSpec::Channel(ChannelSpec {
        capacity: Some(cap - 1),
        link: LinkSpec { on_full: OnFull::DropNewest, ..LinkSpec::default() },
        shed: None,
    })];
    s.consumer.mode = Mode::Sync;
    s.consumer.max_poll_records = 1;
    s
}

/// The engine's running totals at one instant.
#[derive(Clone, Copy, Debug)]
struct Totals {
    t: f64,
    /// ∫ in-system dt, msg·s.
    area: f64,
    /// ∫ waiting dt, msg·s.
    area_queue: f64,
    /// Σ sojourn over departures, s.
    sojourn: f64,
    departed: f64,
    produced: f64,
    drop_newest: f64,
}

fn totals(sim: &Simulation) -> Totals {
    let s = sim.summary();
    let departed = (s.consumed + s.dropped + s.lost) as f64;
    Totals {
        t: s.t_s,
        area: s.time_avg_in_system * s.t_s,
        area_queue: s.time_avg_queue * s.t_s,
        sojourn: s.sojourn_mean_s.unwrap_or(0.0) * departed,
        departed,
        produced: s.produced as f64,
        drop_newest: s.dropped_by.drop_newest as f64,
    }
}

/// Averages over `(a.t, b.t]`.
struct Window {
    span: f64,
    l: f64,
    lq: f64,
    w: f64,
    departures: f64,
    lambda_eff: f64,
    blocked: f64,
    arrivals: f64,
}

fn window(a: Totals, b: Totals) -> Window {
    let span = b.t - a.t;
    let departures = b.departed - a.departed;
    let arrivals = b.produced - a.produced;
    Window {
        span,
        l: (b.area - a.area) / span,
        lq: (b.area_queue - a.area_queue) / span,
        w: (b.sojourn - a.sojourn) / departures,
        departures,
        lambda_eff: departures / span,
        blocked: (b.drop_newest - a.drop_newest) / arrivals,
        arrivals,
    }
}

/// Runs `s` to `warmup` and then to `end` (seconds); returns the window and the simulation.
fn measure(s: &Scenario, warmup: f64, end: f64) -> (Window, Simulation) {
    let mut sim = Simulation::new(s).expect("valid scenario");
    sim.run_until(warmup, u64::MAX);
    let a = totals(&sim);
    sim.run_until(end, u64::MAX);
    let b = totals(&sim);
    (window(a, b), sim)
}

/// M/M/1's relaxation time, `1/(μ(1−√ρ)²)`.
fn relaxation(lambda: f64, mu: f64) -> f64 {
    1.0 / (mu * (1.0 - (lambda / mu).sqrt()).powi(2))
}

/// Asserts `|measured − theory| ≤ 4·se + extra`, printing all three.
fn check(what: &str, measured: f64, theory: f64, se: f64, extra: f64) {
    let tol = 4.0 * se + extra;
    println!(
        "{what}: measured {measured:.6}, theory {theory:.6}, tolerance ±{tol:.6} (4 SE = {:.6}, +{extra:.6}; {:.2}% of theory), off by {:+.2} SE",
        4.0 * se,
        100.0 * tol / theory.abs(),
        (measured - theory) / se,
    );
    assert!((measured - theory).abs() <= tol, "{what}: measured {measured}, theory {theory}, tolerance {tol}");
}

// ---- 1. M/M/1 -----------------------------------------------------------------------

/// L, W, Lq and the median sojourn of M/M/1 at load `rho` (μ = 1,000/s).
fn mm1_case(rho: f64, run_s: f64, seed: u64) {
    let mu = 1_000.0;
    let lambda = rho * mu;
    let chain = mm1_chain(lambda, mu);
    let warmup = 50.0 * relaxation(lambda, mu);
    let (win, sim) = measure(&classic(lambda, mu, 1, ServiceDist::Exponential {}, seed), warmup, warmup + run_s);
    let name = format!("M/M/1 ρ={rho}");
    let t = win.span;

    // L: a time average, σ² from Whitt (equal to the closed form, see the unit test).
    let l = rho / (1.0 - rho);
    let var_l = chain.asymptotic_variance(|k| k as f64);
    check(&format!("{name} L (time average in system)"), win.l, l, (var_l / t).sqrt(), 0.0);

    // Lq = ρ²/(1−ρ): f(k) = (k−1)⁺.
    let lq = rho * rho / (1.0 - rho);
    let var_lq = chain.asymptotic_variance(|k| k.saturating_sub(1) as f64);
    check(&format!("{name} Lq (time average waiting)"), win.lq, lq, (var_lq / t).sqrt(), 0.0);

    // W = 1/(μ−λ): a customer average. Pathwise, Σ sojourns over the window ≈ ∫ N dt (Little),
    // so Ŵ ≈ L̂ T / D with D departures: relative variance ≈ that of L̂ plus that of D, which is
    // Poisson (Burke: M/M/1's departures are a Poisson process), 1/(λT); adding the two
    // ignores their (positive) covariance, so it overstates the variance of the ratio.
    let w = 1.0 / (mu - lambda);
    let se_w = ((var_l / t) / (lambda * lambda) + w * w / win.departures).sqrt();
    check(&format!("{name} W (mean sojourn)"), win.w, w, se_w, 0.0);
    check(&format!("{name} λ_eff (departure rate)"), win.lambda_eff, lambda, (lambda / t).sqrt(), 0.0);

    // Median sojourn: P(S > t) = e^{−(μ−λ)t}, so p50 = ln 2/(μ−λ).
    let s = sim.summary();
    let p50 = std::f64::consts::LN_2 / (mu - lambda);
    // The fraction F̂ of customers with S > p50 estimates 1/2. A customer who finds k in the
    // system stays longer than p50 with probability g(k) = P(Poisson(μ p50) ≤ k) (k+1
    // exponential services), so F̂ ≈ time average of g(N) (PASTA) plus local noise. Its
    // variance: Whitt's σ²(g)/T, plus, per customer, 1/4 for the Bernoulli outcome and 1/4
    // for the Poisson sampling of the arrival epochs, inflated by 1 + 2L for the customers in
    // the system together (they share service times, so their outcomes are correlated):
    // (2 + 2L)/(4 λ T) in all, an overstatement.
    let g = poisson_cdf(mu * p50, chain.states());
    let customers = s.consumed as f64;
    let run = s.t_s;
    let var_f = chain.asymptotic_variance(|k| g[k]) / run + (2.0 + 2.0 * l) / (4.0 * customers);
    // Delta method: p̂50 − p50 ≈ (F̂ − 1/2)/f(p50), with density f(p50) = (μ−λ)/2.
    let density = (mu - lambda) / 2.0;
    let se_p50 = var_f.sqrt() / density;
    // Deterministic errors. The histogram reports the middle of a bucket 1/64 wide (relative):
    // at most p50/128 off. It holds the whole run, warm-up included: customers of the first
    // 20 relaxation times (the transient from empty decays like e^{−t/τ}, e^{−20} after
    // that) can move F̂ by at most their share, (20 τ λ)/customers, times 1/2.
    let quantisation = p50 / 128.0;
    let early = 0.5 * 20.0 * relaxation(lambda, mu) * lambda / customers / density;
    check(&format!("{name} p50 sojourn (histogram median)"), s.latency_p50_s.unwrap(), p50, se_p50, quantisation + early);
}

#[test]
fn mm1_at_rho_0_9_matches_theory() {
    // σ²(L) = 2ρ(1+ρ)/(μ(1−ρ)⁴) = 34.2 s·msg² at μ = 1000/s: 4 SE on L = 9 is 4% for T = 4000 s.
    mm1_case(0.9, 4_000.0, 11);
}

#[test]
fn mm1_at_rho_0_5_matches_theory() {
    // σ²(L) = 0.024 s: 4 SE on L = 1 is 2.8% for T = 500 s.
    mm1_case(0.5, 500.0, 12);
}

// ---- 2. M/D/1 -----------------------------------------------------------------------

#[test]
fn md1_matches_pollaczek_khinchine() {
    let (rho, mu) = (0.7, 1_000.0);
    let lambda = rho * mu;
    let warmup = 50.0 * relaxation(lambda, mu);
    let run = 3_000.0;
    let (win, _) = measure(&classic(lambda, mu, 1, ServiceDist::Deterministic {}, 21), warmup, warmup + run);
    // P–K with deterministic service (E[S²] = 1/μ²): Lq = ρ²/(2(1−ρ)), L = Lq + ρ.
    let lq = rho * rho / (2.0 * (1.0 - rho));
    let l = lq + rho;
    // No closed-form σ² for M/D/1 here: M/M/1's at the same ρ bounds it (deterministic
    // service is less variable, which shortens busy periods and lowers the variance of the
    // time average; the M/G/1 asymptotic variance grows with the service moments).
    let mm1 = mm1_chain(lambda, mu);
    let var_l = mm1.asymptotic_variance(|k| k as f64);
    let var_lq = mm1.asymptotic_variance(|k| k.saturating_sub(1) as f64);
    check("M/D/1 ρ=0.7 L", win.l, l, (var_l / win.span).sqrt(), 0.0);
    check("M/D/1 ρ=0.7 Lq", win.lq, lq, (var_lq / win.span).sqrt(), 0.0);
    // W = L/λ; its variance as for M/M/1, plus the count of departures (at most Poisson-like).
    let w = l / lambda;
    let se_w = ((var_l / win.span) / (lambda * lambda) + w * w / win.departures).sqrt();
    check("M/D/1 ρ=0.7 W", win.w, w, se_w, 0.0);
}

// ---- 3. M/M/1/K ---------------------------------------------------------------------

#[test]
fn mm1k_channel_mapping_holds_at_most_k() {
    // Before trusting the formula: the mapping really is a system of capacity K. Step event
    // by event and check that the channel holds at most K − 1, the consumer at most 1, and
    // that every drop happens while the system holds K.
    let (cap, lambda, mu) = (10u64, 900.0, 1_000.0);
    let mut sim = Simulation::new(&mm1k(lambda, mu, cap, 31)).unwrap();
    let mut before = sim.ledger();
    let (mut drops, mut full_seen) = (0u64, 0u64);
    while sim.now_s() < 200.0 {
        sim.run_until(1e9, 1);
        let after = sim.ledger();
        assert!(after.balanced(), "{after:?}");
        assert!(after.in_channels < cap, "channel holds {}", after.in_channels);
        assert!(after.in_flight <= 1, "consumer holds {}", after.in_flight);
        if after.in_channels + after.in_flight == cap {
            full_seen += 1;
        }
        if after.dropped > before.dropped {
            // An arrival was refused: the system was full when it came.
            assert_eq!(after.dropped - before.dropped, 1);
            assert_eq!((before.in_channels, before.in_flight), (cap - 1, 1), "dropped while not full");
            drops += 1;
        }
        before = after;
    }
    let s = sim.summary();
    assert!(s.max_in_flight <= 1);
    assert_eq!(drops, s.dropped_by.drop_newest);
    println!("M/M/1/K mapping: {drops} drops in 200 s, all while K = {cap} were in the system ({full_seen} events at K)");
    assert!(drops > 100 && full_seen > 100);
}

#[test]
fn mm1k_blocking_probability_matches_theory() {
    let (cap, rho, mu) = (10usize, 0.9, 1_000.0);
    let lambda = rho * mu;
    let chain = mm1k_chain(lambda, mu, cap);
    // A finite chain relaxes faster than M/M/1 at the same ρ; M/M/1's time is an upper bound.
    let warmup = 50.0 * relaxation(lambda, mu);
    let run = 1_000.0;
    let (win, _) = measure(&mm1k(lambda, mu, cap as u64, 32), warmup, warmup + run);
    let pk = (1.0 - rho) * rho.powi(cap as i32) / (1.0 - rho.powi(cap as i32 + 1));
    assert!((pk - chain.pi[cap]).abs() < 1e-12);
    // Blocked fraction = Σ over arrivals of 1{N = K} / arrivals. By PASTA it estimates the
    // time average of f = 1{N = K}, whose variance is Whitt's σ²(f)/T. On top comes the noise
    // of where the Poisson arrivals fall: Σ_arrivals (f − p) = λ∫(f − p)dt + ∫(f − p)dM with M
    // the compensated arrival process, a martingale term of variance λ T p(1−p), i.e.
    // p(1−p)/N on the fraction (the binomial noise of N arrivals). The two terms are
    // negatively correlated (an accepted arrival, f = 0, raises future f; a blocked one
    // changes nothing), so adding the variances overstates the total.
    let var_f = chain.asymptotic_variance(|k| (k == cap) as u8 as f64);
    let se = (var_f / win.span + pk * (1.0 - pk) / win.arrivals).sqrt();
    check("M/M/1/K K=10 ρ=0.9 blocking probability P_K", win.blocked, pk, se, 0.0);
    // L of the finite chain, as a check that the capacity is K and not K ± 1.
    let l = chain.mean(|k| k as f64);
    let var_l = chain.asymptotic_variance(|k| k as f64);
    check("M/M/1/K K=10 ρ=0.9 L", win.l, l, (var_l / win.span).sqrt(), 0.0);
    let l_closed = rho / (1.0 - rho) - (cap as f64 + 1.0) * rho.powi(cap as i32 + 1) / (1.0 - rho.powi(cap as i32 + 1));
    assert!((l - l_closed).abs() < 1e-9);
}

// ---- 4. M/M/c -----------------------------------------------------------------------

#[test]
fn mmc_matches_erlang_c() {
    let (c, rho, mu) = (4usize, 0.8, 1_000.0);
    let lambda = rho * c as f64 * mu;
    let a = lambda / mu;
    let chain = mmc_chain(lambda, mu, c);
    // Relaxation as for a single server of rate cμ at the same load.
    let warmup = 50.0 * relaxation(lambda, c as f64 * mu);
    let run = 600.0;
    let s = classic(lambda, mu, c as u32, ServiceDist::Exponential {}, 41);
    let mut sim = Simulation::new(&s).unwrap();
    sim.run_until(warmup, u64::MAX);
    let start = totals(&sim);
    // Probability of waiting: sample 1{N ≥ c} every Δ (N = messages at the consumer). For a
    // reversible chain the autocovariance R(t) of f(N) is completely monotone, hence
    // decreasing, so Δ Σ_k R(kΔ) ≤ ∫R + ΔR(0): the sampled mean has variance at most
    // (σ²(f) + Δ Var f)/T.
    let dt = 0.002;
    let (mut n, mut waiting) = (0u64, 0u64);
    let mut t = warmup;
    while t < warmup + run {
        t += dt;
        sim.run_until(t, u64::MAX);
        n += 1;
        waiting += (sim.ledger().in_flight >= c as u64) as u64;
    }
    let win = window(start, totals(&sim));
    let ec = erlang_c(c, a);
    let var_f = chain.asymptotic_variance(|k| (k >= c) as u8 as f64);
    let se_c = ((var_f + dt * ec * (1.0 - ec)) / win.span).sqrt();
    check("M/M/4 ρ=0.8 probability of waiting (Erlang C)", waiting as f64 / n as f64, ec, se_c, 0.0);

    let lq = ec * rho / (1.0 - rho);
    let l = lq + a;
    let var_l = chain.asymptotic_variance(|k| k as f64);
    check("M/M/4 ρ=0.8 L", win.l, l, (var_l / win.span).sqrt(), 0.0);
    let var_lq = chain.asymptotic_variance(|k| k.saturating_sub(c) as f64);
    check("M/M/4 ρ=0.8 Lq", win.lq, lq, (var_lq / win.span).sqrt(), 0.0);
    // Wq = C/(cμ − λ), measured as Ŵ − 1/μ over the window's departures. Ŵ's variance as for
    // M/M/1 (W ≈ L/λ, plus the Poisson count of departures: Burke holds for M/M/c).
    let wq = ec / (c as f64 * mu - lambda);
    let w = wq + 1.0 / mu;
    let se_w = ((var_l / win.span) / (lambda * lambda) + w * w / win.departures).sqrt();
    check("M/M/4 ρ=0.8 Wq (mean sojourn − 1/μ)", win.w - 1.0 / mu, wq, se_w, 0.0);
}

// ---- 5. Little's law on every preset ------------------------------------------------

/// Little's finite-horizon identity at time T:
///
/// ```text
/// ∫₀ᵀ N(t) dt  =  Σ_{departed by T} sojourn  +  Σ_{inside at T} (T − birth)     (A = D + R)
/// ```
///
/// The engine gives A (`time_avg_in_system · t`) and D (`sojourn_mean_s · departed`), not R:
/// that needs an accessor, say `Simulation::age_in_system_s() -> f64`, the total age now of
/// every message generated and not departed (producer pending, channels, Kafka buffer, topic
/// records still to be delivered, fetch caches, member queues, busy workers — each record
/// once, as `ledger()` counts them), with runs taken at their midpoint as `sojourn_of` does.
///
/// Until then R is measured by draining: a twin run whose pattern steps to 0 at T (so it is
/// the same run up to T, which is checked) and continues until nothing is left. After T no
/// one arrives, so what the drain adds to D beyond what it adds to A is exactly R(T):
/// `D_end − D(T) = Σ_{inside at T} (departure − birth) = R(T) + ∫_T^end N dt`. Hence
/// A(T) = D(T) + R(T) ⇔ A_end = D_end.
///
/// Tolerance: runs make two errors, each at most one resolution step r per message
/// (G generated): the area counts a run from the step that collects it while its sojourns
/// count from its messages' birth times, which are at most r earlier; and runs merged
/// eagerly span at most r, so re-spreading their births evenly moves each by at most r.
/// Hence |A − D − R| ≤ 2 G r, plus 1e-9 relative for floating point. Runs merged when a
/// queue outgrows its 512 entries are not covered by this bound: see [`MERGE_ALLOWANCE`].
struct Little {
    at_t: Totals,
    end: Totals,
    drained: bool,
    generated: u64,
    resolution_s: f64,
}

impl Little {
    fn residual(&self) -> f64 {
        (self.end.sojourn - self.at_t.sojourn) - (self.end.area - self.at_t.area)
    }

    fn tolerance(&self) -> f64 {
        2.0 * self.generated as f64 * self.resolution_s + 1e-9 * self.end.area.max(self.end.sojourn)
    }
}

/// Runs `s` to `t` (checking at every second that 0 ≤ R = A − D ≤ N t, up to the tolerance) and
/// then, with the producer stopped, until nothing is in the system or `drain_cap_s` more
/// seconds have passed.
fn little(name: &str, s: &Scenario, t: f64, drain_cap_s: f64) -> Little {
    // Without a drain only the bracket is wanted: skip the twin.
    let twin = drain_cap_s > 0.0;
    if twin {
        assert_eq!(s.producer.pattern, Pattern::Flat {}, "{name}: the drain replaces a flat pattern");
    }
    let mut stopped = s.clone();
    stopped.producer.pattern = Pattern::Step { at_s: t, before_factor: 1.0, after_factor: 0.0 };
    let r = s.sim.resolution_ms / 1e3;
    let mut sim = Simulation::new(&stopped).unwrap();
    let mut now = 0.0;
    while now < t {
        now = (now + 1.0).min(t);
        sim.run_until(now, u64::MAX);
        let tot = totals(&sim);
        let l = sim.ledger();
        let inside = (l.generated - l.processed - l.dropped - l.lost) as f64;
        let slack = 2.0 * l.generated as f64 * r + (1e-9 + MERGE_ALLOWANCE) * tot.area.max(tot.sojourn);
        let gap = tot.area - tot.sojourn;
        assert!(gap >= -slack && gap <= inside * now + slack, "{name} at {now} s: A − D = {gap}, N t = {}, slack {slack}", inside * now);
    }
    let at_t = totals(&sim);
    if twin {
        // The twin is the same run up to T.
        let mut flat = Simulation::new(s).unwrap();
        flat.run_until(t, u64::MAX);
        let f = totals(&flat);
        assert_eq!(
            (f.area, f.sojourn, f.departed, f.produced),
            (at_t.area, at_t.sojourn, at_t.departed, at_t.produced),
            "{name}: stopping the producer at T changed the run before T"
        );
    }
    // (Messages born just before T may still be collected after it, one resolution step
    // late: the area counts them from then, which the tolerance covers.)
    let mut drained = false;
    while now < t + drain_cap_s {
        now += 10.0;
        sim.run_until(now, u64::MAX);
        let l = sim.ledger();
        if l.processed + l.dropped + l.lost == l.generated {
            drained = true;
            break;
        }
    }
    let generated = sim.ledger().generated;
    Little { at_t, end: totals(&sim), drained, generated, resolution_s: r }
}

fn report(name: &str, lt: &Little, t: f64) {
    let l = lt.at_t.area / t;
    let lw = lt.at_t.sojourn / t; // λ_eff·W = (departed/T)·(D/departed)
    println!(
        "{name:34} T {t:5} s: A {:14.3} D {:14.3} R {:14.3} A−D−R {:+10.3} (2Gr {:9.3} + merges {:9.3}); L {l:10.3} λ_eff·W {lw:10.3} R/T {:10.3}{}",
        lt.at_t.area,
        lt.at_t.sojourn,
        lt.residual(),
        lt.end.area - lt.end.sojourn,
        lt.tolerance(),
        MERGE_ALLOWANCE * lt.end.area,
        lt.residual() / t,
        if lt.drained { "" } else { "  (never drains)" },
    );
}

/// Presets that never drain from their full horizon (by design: their lesson is a crash loop
/// or a stall), with the earlier horizon at which the identity is closed instead. The
/// bracket `0 ≤ A − D ≤ N t` is still checked every second up to their full duration.
const EARLIER: &[(&str, Option<f64>, &str)] = &[
    ("incident-commit-after-processing", Some(30.0), "after the first OOM kill every restart fetches the whole backlog and dies again"),
    ("rebalance-storm", Some(30.0), "once batches take longer than max.poll.interval.ms, the same records are redelivered forever"),
    ("fetch-cache", None, "every restart fetches more than the heap holds, so nothing is ever processed again"),
];

/// Allowance for runs merged when a queue outgrows its 512 entries, as a share of the total
/// sojourn (A = D once drained): the mean birth-time shift may be 0.2% of the mean sojourn.
/// Merging two runs re-spreads their births evenly over the joint span, so where arrivals
/// into a long queue are uneven (the sticky partitioner's bursts, a blocked producer, a rate
/// change) births move by up to a run's span, which the public API does not expose: this
/// allowance is empirical (the largest seen on the presets is 1.0e-3, producer-quota; then
/// head-of-line, 0.9e-3). A bookkeeping error (a departure path that forgets its sojourn,
/// a holder the area misses) is a share of D of the order of that path's traffic. An
/// accessor for the accumulated shift would make the check exact.
const MERGE_ALLOWANCE: f64 = 2e-3;

#[test]
fn littles_identity_holds_on_every_preset() {
    for p in PRESETS {
        let s = p.scenario();
        if s.producer.pattern != (Pattern::Flat {}) {
            // The drained twin replaces the pattern with a step to zero; a patterned preset
            // gets the bracket 0 ≤ A − D ≤ N·t at every second instead.
            little(p.id, &s, s.duration_s, 0.0);
            println!("{:34} has a rate pattern: bracket only", p.id);
            continue;
        }
        let earlier = EARLIER.iter().find(|(id, _, _)| *id == p.id);
        if let Some((_, horizon, why)) = earlier {
            // The bracket over the whole run (the drain is not expected to finish).
            little(p.id, &s, s.duration_s, 0.0);
            println!("{:34} does not drain from {} s: {why}", p.id, s.duration_s);
            let Some(t) = horizon else { continue };
            let lt = little(p.id, &s, *t, 20_000.0);
            report(p.id, &lt, *t);
            assert!(lt.drained, "{}: still not drained", p.id);
            let err = lt.end.area - lt.end.sojourn;
            let tol = lt.tolerance() + MERGE_ALLOWANCE * lt.end.area;
            assert!(err.abs() <= tol, "{}: A − D − R = {err}, tolerance {tol}", p.id);
            continue;
        }
        let t = s.duration_s;
        let lt = little(p.id, &s, t, 20_000.0);
        report(p.id, &lt, t);
        assert!(lt.drained, "{}: still not drained 20,000 s after the producer stopped", p.id);
        let err = lt.end.area - lt.end.sojourn;
        let tol = lt.tolerance() + MERGE_ALLOWANCE * lt.end.area;
        assert!(err.abs() <= tol, "{}: A − D − R = {err}, tolerance {tol}", p.id);
    }
}

#[test]
fn producer_quota_littles_identity_after_draining() {
    let p = bplab_engine::preset("producer-quota").unwrap();
    let mut s = p;
    // Every message its own run, so no eager merging: only compaction is left.
    s.sim.resolution_ms = 0.0;
    let lt = little("producer-quota (resolution 0)", &s, 30.0, 2_000.0);
    report("producer-quota (resolution 0)", &lt, 30.0);
    assert!(lt.drained);
    let err = lt.end.area - lt.end.sojourn;
    let tol = lt.tolerance() + MERGE_ALLOWANCE * lt.end.area;
    assert!(err.abs() <= tol, "A − D − R = {err} msg·s over {} messages, tolerance {tol}", lt.generated);
}

#[test]
fn seg_queue_compaction_keeps_birth_times_close() {
    use bplab_engine::seg::{Seg, SegQueue};
    // One message every 100 µs for 6.5 s, then every 200 µs; from the time 32,768 are held,
    // one leaves every 200 µs (a full buffer in front of a 5,000/s sink). The queue holds
    // 512 runs at most; each message's interpolated birth time should stay within the span of
    // a typical run, about 32,768/512 messages = 13 ms at 5,000/s (we allow 50 ms).
    let mut q = SegQueue::new(512, 0);
    let mut births = std::collections::VecDeque::new();
    let (mut off, mut t, mut next_pop) = (0u64, 0u64, 0u64);
    let (mut worst, mut sum, mut n) = (0f64, 0f64, 0u64);
    while t < 30_000_000_000 {
        t += if t < 6_500_000_000 { 100_000 } else { 200_000 };
        q.push_back(Seg::one(t, off));
        births.push_back(t);
        off += 1;
        while next_pop <= t {
            next_pop += 200_000;
            if q.total() > 32_768 {
                let s = q.pop_front(1).unwrap();
                let err = (s.t0 as f64 - births.pop_front().unwrap() as f64).abs() / 1e6;
                worst = worst.max(err);
                sum += err;
                n += 1;
            }
        }
    }
    let front: Vec<(u64, u64)> = q.iter().take(3).map(|s| (s.n, (s.t1 - s.t0) / 1_000_000)).collect();
    println!("birth time error: mean {:.1} ms, worst {worst:.1} ms; front runs (messages, span ms) {front:?}", sum / n as f64);
    assert!(worst <= 50.0, "interpolated birth times off by up to {worst:.1} ms (mean {:.1} ms)", sum / n as f64);
}

#[test]
fn littles_law_on_the_classic_queues() {
    // The same identity on the stable queues above (resolution 0: exact up to rounding), and
    // L = λ_eff·W, which for a stable queue differs from it only by R(T)/T.
    for (name, s, t) in [
        ("M/M/1 ρ=0.9", classic(900.0, 1_000.0, 1, ServiceDist::Exponential {}, 51), 200.0),
        ("M/D/1 ρ=0.7", classic(700.0, 1_000.0, 1, ServiceDist::Deterministic {}, 52), 200.0),
        ("M/M/4 ρ=0.8", classic(3_200.0, 1_000.0, 4, ServiceDist::Exponential {}, 53), 100.0),
        ("M/M/1/10 ρ=0.9", mm1k(900.0, 1_000.0, 10, 54), 200.0),
    ] {
        let lt = little(name, &s, t, 100.0);
        report(name, &lt, t);
        assert!(lt.drained);
        let err = lt.end.area - lt.end.sojourn;
        assert!(err.abs() <= lt.tolerance(), "{name}: A − D − R = {err}");
        // A stable queue: R(T) is the age of the few inside at T, about L·W times a small
        // factor, against A = L·T; R/A ~ W/T ~ 1e-4 here, so L = λ_eff·W within 1%.
        let l = lt.at_t.area / t;
        let lw = lt.at_t.sojourn / t;
        assert!((l - lw).abs() <= 0.01 * l, "{name}: L {l} vs λ_eff·W {lw}");
    }
}

// ---- 6. D/D/1 overload --------------------------------------------------------------

/// Constant arrivals at λ into an unbounded channel, served one at a time in exactly 1/μ.
fn dd1(lambda: f64, mu: f64, resolution_ms: f64) -> Scenario {
    let mut s = classic(lambda, mu, 1, ServiceDist::Deterministic {}, 61);
    s.producer.arrivals = Arrivals::Constant;
    s.stages = vec![StageSpec::Channel(ChannelSpec::default())];
    s.consumer.mode = Mode::Sync;
    s.consumer.max_poll_records = 1;
    s.sim.resolution_ms = resolution_ms;
    s
}

#[test]
fn dd1_overload_backlog_grows_at_the_rate_difference() {
    // Exactly: arrival k (k ≥ 1) at k/λ, departures every 1/μ from the first arrival on, so
    // the backlog is ⌊λt⌋ − ⌊μ(t − 1/λ)⌋ = (λ−μ)t + O(1): within 2. With a resolution r > 0
    // arrivals are collected once per step, up to ⌈λr⌉ late; one message is polled at a time,
    // so completions are not batched: ±(2 + ⌈λr⌉).
    for (lambda, mu, res_ms) in [(1_000.0, 800.0, 0.0), (1_000.0, 800.0, 1.0), (10_000.0, 8_000.0, 1.0), (1_000.0, 800.0, 10.0)] {
        let mut sim = Simulation::new(&dd1(lambda, mu, res_ms)).unwrap();
        let tol = 2.0 + (lambda * res_ms / 1e3).ceil();
        let mut worst: f64 = 0.0;
        let mut t = 0.0;
        while t < 100.0 {
            // Off the arrival and service grids as well as on them.
            t += 0.010_037;
            sim.run_until(t, u64::MAX);
            let l = sim.ledger();
            assert!(l.balanced());
            assert_eq!(l.dropped + l.lost, 0);
            let backlog = (l.generated - l.processed) as f64;
            let err = backlog - (lambda - mu) * t;
            worst = worst.max(err.abs());
            assert!(err.abs() <= tol, "λ={lambda} μ={mu} r={res_ms} ms at {t} s: backlog {backlog}, (λ−μ)t = {}", (lambda - mu) * t);
        }
        println!("D/D/1 λ={lambda} μ={mu} resolution {res_ms} ms: backlog − (λ−μ)t within ±{worst:.3} (tolerance ±{tol}) over 100 s");
    }
}
