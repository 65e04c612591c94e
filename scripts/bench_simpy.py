#!/usr/bin/env python3
"""M/M/1 at rho = 0.9 in SimPy, for comparison with `bplab bench mm1`.

Same model: Poisson arrivals at 0.9/s, one server with exponential service at 1/s, FIFO.
Prints customers per second of wall time and the mean sojourn time (theory: 10 s).
Usage: python3 scripts/bench_simpy.py [customers]   (default 200,000)
"""
import random
import sys
import time

import simpy

LAMBDA, MU = 0.9, 1.0


def run(customers, seed=1):
    rng = random.Random(seed)
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=1)
    done = [0, 0.0]  # count, total sojourn

    def customer(env):
        arrived = env.now
        with server.request() as req:
            yield req
            yield env.timeout(rng.expovariate(MU))
        done[0] += 1
        done[1] += env.now - arrived

    def source(env):
        for _ in range(customers):
            yield env.timeout(rng.expovariate(LAMBDA))
            env.process(customer(env))

    env.process(source(env))
    started = time.perf_counter()
    env.run()
    return time.perf_counter() - started, done


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    wall, (count, total) = run(n)
    print(f"simpy-mm1-rho0.9: {count} customers in {wall:.3f} s wall ({count / wall / 1e6:.3f} M/s), "
          f"mean sojourn {total / count:.2f} s (theory 10.00)")
