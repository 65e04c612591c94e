// Every preset, as a person would run it: load it from the picker, play at 100× real time to
// a simulated time where its lesson shows (the run is paused in the very frame it gets there,
// so at 100× it stops within a few seconds of simulated time), and check the outcome its
// explanation promises.
// The figures were checked against the headless engine: `bplab run --preset ID --duration T`
// (see docs/commands.md). One screenshot each: screenshots/preset-NN-ID.png.
//
//   BPLAB_URL=http://127.0.0.1:8080/ node --test tests/e2e/presets.test.mjs
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, withPage, readouts, speed100, playUntil, value } from './lib.mjs';

const near = (x, want, tol) => Math.abs(x - want) <= tol * want;

// `until`: a simulated time to play to, or a predicate on the readouts (in the page).
// `expect(r, page)`: assertions on the readouts at that point.
const PRESETS = [
  ['incident-106', {
    until: (v) => v('readout-oom-kills') > 0 && v('readout-lost') > 0,
    expect: async (r, page) => {
      assert.ok(await page.locator('[data-testid=oom-badge]').isVisible(), 'no OOM badge');
      assert.ok(near(r['first-oom'], 48.3, 0.05), `first OOM at ${r['first-oom']} s, expected ≈ 48.3 s`);
      assert.ok(r.lost > 0, 'the kill loses the committed, unprocessed records');
      // The live region and the log tell of the kill.
      const told = await page.waitForFunction(() => /OOM-killed/.test(document.querySelector('[data-testid=event-log]')?.textContent || ''), null, { timeout: 4_000 }).then(() => true, () => false);
      assert.ok(told, 'the event log does not tell of the OOM kill');
    },
  }],
  ['incident-106-5k', {
    until: (v) => v('readout-oom-kills') > 0 && v('readout-lost') > 0,
    expect: async (r) => assert.ok(near(r['first-oom'], 91.8, 0.05), `first OOM at ${r['first-oom']} s, expected ≈ 91.8 s`),
  }],
  ['incident-commit-after-processing', {
    t: 60,
    expect: async (r) => {
      assert.ok(r['oom-kills'] >= 1, 'still OOM-killed');
      assert.equal(r.lost, 0, 'committing after processing loses nothing');
    },
  }],
  ['fix-sync-poll', {
    t: 120,
    expect: async (r) => {
      assert.equal(r['oom-kills'], 0);
      assert.equal(r.lost, 0);
      assert.ok(r['max-in-flight'] <= 1000, `max in flight ${r['max-in-flight']} > max.poll.records`);
      assert.ok(r['max-lag'] > 100_000, 'the backlog waits in the topic as lag');
      assert.equal(r['producer-blocked'], 0, 'a topic never blocks the producer');
      assert.ok(near(r['throughput-now'], 500, 0.03), `throughput now ${r['throughput-now']}: the worker's 500 msg/s`);
    },
  }],
  ['fix-blocking-channel', {
    t: 120,
    expect: async (r) => {
      assert.equal(r['oom-kills'], 0);
      assert.ok(r['producer-blocked'] > 0, 'the producer blocks');
      assert.ok(near(r.throughput, 500, 0.02), `throughput ${r.throughput}`);
      assert.ok(near(r.produced / r['sim-time'], 500, 0.02), `produced ${r.produced} in ${r['sim-time']} s: not slowed to 500 msg/s`);
    },
  }],
  ['buffer-bloat', {
    // The channel fills the producer's heap: (512 − 64) MiB ÷ (9,500 msg/s × 1 KiB) ≈ 48.3 s.
    until: (v) => v('readout-producer-oom-kills') > 0 && v('sim-time') >= 50,
    expect: async (r, page) => {
      assert.equal(r['producer-blocked'], 0, 'nothing ever blocks');
      assert.equal(r.dropped, 0);
      assert.ok(r['latency-p99'] > 20, `latency p99 ${r['latency-p99']} s should grow without limit`);
      assert.ok(r['producer-oom-kills'] >= 1, 'the producer runs out of memory');
      assert.equal(r['oom-kills'], 0, 'the consumer holds one message at a time');
      assert.ok(r.lost > 450_000, `lost ${r.lost}: everything the channel held`);
      assert.ok(await page.locator('[data-testid=producer-oom-badge]').isVisible(), 'no producer OOM badge');
      const told = await page.waitForFunction(() => /the producer was OOM-killed/.test(document.querySelector('[data-testid=event-log]')?.textContent || ''), null, { timeout: 4_000 }).then(() => true, () => false);
      assert.ok(told, 'the event log does not tell of the producer\'s OOM kill');
    },
  }],
  ['bursts-absorbed', {
    t: 60,
    expect: async (r) => {
      assert.equal(r.dropped, 0, 'a buffer sized for the bursts drops nothing');
      assert.equal(r['producer-blocked'], 0, 'and never blocks');
      assert.ok(r['latency-p99'] < 1.5, `p99 ${r['latency-p99']} s: a little latency at the end of each burst`);
      // Where in a burst cycle the run stops depends on the frame it stops in (a loaded
      // machine overshoots by seconds at 100×): the lesson is that the consumer keeps up on
      // average, everything produced so far is processed within a burst's length.
      assert.ok(r.produced - r.consumed <= 1_000, `produced ${r.produced}, consumed ${r.consumed}: the buffer should drain between bursts`);
      assert.ok(near(r.throughput, 600, 0.06), `throughput ${r.throughput}: the 600 msg/s average`);
    },
  }],
  ['block-timeout', {
    t: 60,
    expect: async (r) => {
      assert.ok(r['producer-blocked'] > 0, 'the producer is held back');
      assert.equal(r['oom-kills'], 0);
    },
  }],
  ['drop-newest', {
    t: 60,
    expect: async (r) => {
      assert.ok(r.dropped > 0.9 * (r.produced - r.consumed), `dropped ${r.dropped}`);
      assert.equal(r['producer-blocked'], 0);
      assert.ok(r['latency-p99'] > 1.5 && r['latency-p99'] < 2.5, `p99 ${r['latency-p99']} s: a full buffer takes 2 s to drain`);
    },
  }],
  ['drop-oldest', {
    t: 60,
    expect: async (r) => {
      assert.ok(r.dropped > 0);
      assert.equal(r['producer-blocked'], 0);
      assert.ok(r['latency-p99'] < 0.5, `p99 ${r['latency-p99']} s: the consumer sees the freshest data`);
    },
  }],
  ['fail-fast', {
    t: 60,
    expect: async (r) => {
      assert.ok(r.dropped > 0, 'failed sends are counted');
      assert.equal(r['producer-blocked'], 0, 'nothing waits');
    },
  }],
  ['credits', {
    t: 60,
    expect: async (r) => {
      assert.ok(r['producer-blocked'] > 0, 'the producer waits for credits');
      assert.ok(r['max-in-flight'] <= 1000, `max in flight ${r['max-in-flight']} > 1000 credits`);
      assert.ok(near(r.throughput, 500, 0.03), `throughput ${r.throughput}`);
      assert.equal(r.dropped, 0);
    },
  }],
  ['reactive-request-n', {
    t: 60,
    expect: async (r) => {
      assert.ok(r['producer-blocked'] > 0, 'the publisher emits only what was requested');
      assert.ok(r.dropped > 0, 'the filter drops half');
      assert.ok(r['max-in-flight'] <= 64, `max in flight ${r['max-in-flight']} > request(64)`);
    },
  }],
  ['throttle-aimd', {
    t: 120,
    expect: async (r) => {
      assert.equal(r['oom-kills'], 0);
      assert.ok(r.produced < 0.15 * 10_000 * r['sim-time'], `produced ${r.produced}: the throttle does not hold the producer back`);
      assert.ok(r['max-lag'] < 40_000, `max lag ${r['max-lag']}: the lag is not held near its target`);
    },
  }],
  ['throttle-pid', {
    t: 120,
    expect: async (r) => {
      assert.equal(r['oom-kills'], 0);
      assert.ok(r.produced < 0.15 * 10_000 * r['sim-time'], `produced ${r.produced}`);
      assert.ok(r['max-lag'] < 40_000, `max lag ${r['max-lag']}`);
    },
  }],
  ['concurrency-unbounded', {
    t: 60,
    expect: async (r) => {
      assert.ok(r['call-rtt-p99'] > 0.15, `call RTT p99 ${r['call-rtt-p99']} s: calls should wait inside the dependency`);
      assert.ok(r.throughput > 950, `throughput ${r.throughput}`);
    },
  }],
  ['adaptive-aimd', {
    t: 60,
    expect: async (r) => assert.ok(r['call-rtt-p99'] < 0.1, `call RTT p99 ${r['call-rtt-p99']} s`),
  }],
  ['adaptive-vegas', {
    t: 60,
    expect: async (r) => {
      assert.ok(r['call-rtt-p99'] < 0.05, `call RTT p99 ${r['call-rtt-p99']} s`);
      // The limit bounds busy workers, and a worker spends its own 2 ms before its ~10 ms
      // call (issue 10, fault 4): a limit a little above the 10 slots carries ~940/s of the
      // dependency's 1,000/s (`bplab run --preset adaptive-vegas --duration 60`: 944/s).
      assert.ok(r.throughput > 900, `throughput ${r.throughput}`);
    },
  }],
  ['adaptive-gradient2', {
    t: 60,
    expect: async (r) => assert.ok(r['call-rtt-p99'] < 0.1, `call RTT p99 ${r['call-rtt-p99']} s`),
  }],
  ['shed-queue-length', {
    t: 60,
    expect: async (r) => {
      assert.ok(r.dropped > 0, 'shed on purpose');
      assert.equal(r['oom-kills'], 0);
      assert.equal(r.lost, 0);
      assert.ok(r['max-in-flight'] <= 5_100, `max in flight ${r['max-in-flight']}`);
    },
  }],
  ['shed-deadline', {
    t: 60,
    expect: async (r) => {
      assert.ok(r.dropped > 0);
      assert.ok(r['latency-p99'] <= 2.2, `p99 ${r['latency-p99']} s above the 2 s deadline`);
    },
  }],
  ['shed-red', {
    t: 60,
    expect: async (r) => {
      assert.ok(r.dropped > 0);
      assert.equal(r['oom-kills'], 0);
    },
  }],
  ['pause-resume', {
    t: 60,
    expect: async (r, page) => {
      assert.equal(r['oom-kills'], 0);
      assert.ok(r['max-in-flight'] <= 21_000, `max in flight ${r['max-in-flight']}`);
      assert.ok(r['max-lag'] > 100_000, 'the backlog stays in the topic');
      const told = await page.waitForFunction(() => /paused fetching/.test(document.querySelector('[data-testid=event-log]')?.textContent || ''), null, { timeout: 4_000 }).then(() => true, () => false);
      assert.ok(told, 'the event log does not tell of the pause');
    },
  }],
  ['fetch-cache', {
    t: 5,
    expect: async (r, page) => {
      assert.ok(r['oom-kills'] >= 1, 'the fetch cache alone runs the heap out');
      assert.ok(await page.locator('[data-testid=oom-badge]').isVisible());
      assert.ok(r['max-in-flight'] <= 10, 'while max.poll.records keeps in flight at 10');
    },
  }],
  ['rebalance-storm', {
    t: 100,
    expect: async (r) => {
      assert.ok(r.duplicated > 0, 'records are processed twice');
      assert.ok(r.rebalances > 0);
    },
  }],
  ['consumer-group', {
    t: 90,
    expect: async (r) => {
      assert.ok(r['oom-kills'] >= 2, 'one member dies, then the others');
      assert.ok(r.rebalances > 0);
    },
  }],
  ['producer-quota', {
    t: 30,
    expect: async (r) => {
      assert.ok(r['producer-blocked'] > 0, 'send() blocks on a full buffer.memory');
      assert.ok(near(r.throughput, 5_000, 0.03), `throughput ${r.throughput}: the broker's 5,000/s`);
    },
  }],
  ['retention-loss', {
    t: 150,
    expect: async (r) => {
      assert.ok(r.lost > 0, 'retention deleted unconsumed records');
      assert.equal(r['oom-kills'], 0, 'without any crash');
    },
  }],
  ['head-of-line', {
    t: 30,
    expect: async (r, page) => {
      // One partition stalls behind the slow record: its lag dwarfs the others'.
      await page.waitForTimeout(500);
      const lags = await page.$$eval('[data-testid=consumer-groups] tbody tr td:nth-child(6)', (tds) => tds.map((td) => Number(td.textContent)));
      assert.equal(lags.length, 4, `lags ${lags}`);
      const sorted = [...lags].sort((a, b) => a - b);
      assert.ok(sorted[3] > 5 * Math.max(1, sorted[1]), `partition lags ${lags}: no partition stalls`);
    },
  }],
];

let chromium;

before(async () => {
  chromium = await launch();
});

after(async () => {
  await chromium?.close();
});

describe('every preset shows its lesson', () => {
  test('the list covers every preset of the picker', async () => {
    await withPage(chromium.browser, 'preset-00-picker', async (page) => {
      const ids = await page.$$eval('[data-testid=preset-select] option', (os) => os.map((o) => o.value));
      assert.deepEqual([...ids].sort(), PRESETS.map(([id]) => id).sort());
    }, { fullPage: false });
  });

  for (const [index, [id, spec]] of PRESETS.entries()) {
    const n = String(index + 1).padStart(2, '0');
    test(`${id}`, async () => {
      await withPage(chromium.browser, `preset-${n}-${id}`, async (page) => {
        await page.selectOption('[data-testid=preset-select]', id);
        assert.equal(await value(page, 'sim-time'), 0, `loading ${id} did not start at t = 0`);
        assert.ok((await page.textContent('[data-testid=preset-explanation]')).trim().length > 100, `${id} has no explanation`);
        await speed100(page);
        const started = Date.now();
        const reached = spec.t
          ? await playUntil(page, (v, t) => v('sim-time') >= t, spec.t)
          : await playUntil(page, spec.until, null);
        const r = await readouts(page);
        console.log(`${id}: ${((Date.now() - started) / 1000).toFixed(1)} s wall -> ${JSON.stringify(r)}`);
        assert.ok(reached, `${id}: the run did not get there within 30 s of wall time: ${JSON.stringify(r)}`);
        if (spec.t) assert.ok(r['sim-time'] >= spec.t && r['sim-time'] < spec.t + 30, `stopped at ${r['sim-time']} s, not just past ${spec.t} s`);
        if (spec.t && !/incident|fetch-cache|consumer-group/.test(id)) {
          // Nothing but the incident-like presets is ever OOM-killed.
          assert.equal(r['oom-kills'], 0, `${id} OOM-killed`);
          assert.ok(!(await page.locator('[data-testid=oom-badge]').isVisible()), `OOM badge in ${id}`);
        }
        await spec.expect(r, page);
      }, { fullPage: false });
    });
  }
});
