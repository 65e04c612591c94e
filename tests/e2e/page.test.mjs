// End-to-end tests of the built page (dist/), as a person uses it, in Debian's Chromium driven by
// playwright-core. scripts/test.sh builds dist/, serves it and sets BPLAB_URL; by hand:
//
//   BPLAB_URL=http://127.0.0.1:8080/ node --test tests/e2e/
//
// Every test saves a full-page screenshot to tests/e2e/screenshots/<test>.png, pass or fail, and
// fails on any console error, uncaught page error or failed request.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const SCREENSHOTS = join(HERE, 'screenshots');
const URL = process.env.BPLAB_URL;
const CHROMIUM = process.env.BPLAB_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// The page's contract: the data-testid values below. src/ implements them; these lists are the
// reference (docs/commands.md only describes how the tests are run).
const PRESETS = ['incident-106', 'incident-106-5k', 'fix-sync-poll', 'fix-blocking-channel'];
const KNOBS = [
  'producer-rate',
  'channel-capacity',
  'partitions',
  'max-poll-records',
  'workers',
  'rate-per-worker',
  'bytes-per-message',
  'heap-limit',
];
const READOUTS = [
  'produced',
  'consumed',
  'lost',
  'duplicated',
  'oom-kills',
  'first-oom',
  'max-heap',
  'max-in-flight',
  'max-lag',
  'latency-p50',
  'latency-p99',
  'producer-blocked',
  'throughput',
];
const REQUIRED = [
  'select[data-testid=preset-select]',
  'button[data-testid=play]',
  'button[data-testid=reset]',
  'button[data-testid=step]',
  'input[type=range][data-testid=speed]',
  '[data-testid=speed-value]',
  ...KNOBS.flatMap((id) => [
    `[data-testid=knob-${id}] input[type=range]`,
    `[data-testid=knob-${id}] input[type=number]`,
  ]),
  'input[type=checkbox][data-testid=knob-async]',
  ...READOUTS.map((name) => `[data-testid=readout-${name}][data-value]`),
  '[data-testid=sim-time][data-value]',
  'canvas[data-testid=diagram]',
  'canvas[data-testid=chart-counts]',
  'canvas[data-testid=chart-memory]',
  '[data-testid=preset-explanation]',
];

// How long the page may take to download, compile and mount the wasm app.
const MOUNT_TIMEOUT_MS = 20_000;
// Bound on the wall-clock time one preset may play at top speed before its outcome shows.
const PLAY_TIMEOUT_MS = 30_000;
// Simulated time the fix presets play to: well past incident-106's first OOM kill (≈ 48 s) and
// incident-106-5k's (≈ 92 s), so "no OOM" means something.
const FIX_SIM_S = 120;

// What each preset must show after playing at top speed (see README.md, "Presets").
const PRESET_OUTCOMES = {
  'incident-106': { oom: true, firstOomS: 48.3 },
  'incident-106-5k': { oom: true, firstOomS: 91.8 },
  'fix-sync-poll': { oom: false },
  'fix-blocking-channel': { oom: false },
};

let browser;
let profileDir;

before(async () => {
  assert.ok(URL, 'BPLAB_URL is not set: run scripts/test.sh, or serve dist/ and set BPLAB_URL');
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (scripts/setup.sh installs it)`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  profileDir = mkdtempSync(join(tmpdir(), 'bplab-chromium-'));
  // A persistent context on a fresh, empty profile directory (removed in `after`).
  browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });
});

after(async () => {
  await browser?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

/**
 * Opens the page in a new tab, runs `body(page)`, then — pass or fail — saves a full-page
 * screenshot to screenshots/<name>.png and fails if the page logged any error.
 */
async function withPage(name, body) {
  const page = await browser.newPage();
  page.setDefaultTimeout(10_000);
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console.error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.stack || err.message}`));
  page.on('requestfailed', (req) =>
    problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`),
  );
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.url()}`);
  });

  let failure;
  try {
    const response = await page.goto(URL, { waitUntil: 'load' });
    assert.ok(response?.ok(), `GET ${URL} answered ${response?.status()}`);
    await body(page);
  } catch (err) {
    failure = err;
  }
  const file = join(SCREENSHOTS, `${name}.png`);
  try {
    await page.screenshot({ path: file, fullPage: true });
    console.log(`screenshot: ${file}`);
  } catch (err) {
    console.log(`screenshot ${file} failed: ${err.message}`);
  }
  await page.close();
  if (failure) {
    if (problems.length) failure.message += `\nerrors logged by the page:\n  ${problems.join('\n  ')}`;
    throw failure;
  }
  assert.deepEqual(problems, [], `the page logged errors:\n  ${problems.join('\n  ')}`);
}

/**
 * Waits until the wasm app has started (Trunk's loader sets `window.wasmBindings` once `main` has
 * run and mounted the app), then for its preset selector, which must already be there.
 */
async function waitForApp(page) {
  try {
    await page.waitForFunction(() => window.wasmBindings !== undefined, null, { timeout: MOUNT_TIMEOUT_MS });
  } catch {
    assert.fail(`the wasm app did not start within ${MOUNT_TIMEOUT_MS / 1000} s (no window.wasmBindings)`);
  }
  try {
    await page.waitForSelector('[data-testid=preset-select]', { timeout: 2_000 });
  } catch {
    const body = (await page.locator('body').innerText()).slice(0, 300);
    assert.fail(`the app started but shows no [data-testid=preset-select] (page text: ${JSON.stringify(body)})`);
  }
}

/** The raw number in `data-value` of a readout, or null when it is "" (not applicable). */
async function value(page, testid) {
  const raw = await page.getAttribute(`[data-testid=${testid}]`, 'data-value');
  assert.notEqual(raw, null, `[data-testid=${testid}] has no data-value attribute`);
  if (raw === '') return null;
  const n = Number(raw);
  assert.ok(Number.isFinite(n), `[data-testid=${testid}] data-value=${JSON.stringify(raw)} is not a number`);
  return n;
}

/** Sets a range/number input's value as a person dragging it would: `input`, then `change`. */
async function setInput(locator, newValue) {
  await locator.evaluate((el, v) => {
    el.value = String(v);
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }, newValue);
}

/** Polls `probe` until it returns a truthy value or `timeoutMs` passes; returns its last value. */
async function poll(probe, timeoutMs, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!last && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, intervalMs));
    last = await probe();
  }
  return last;
}

async function readouts(page) {
  const out = {};
  for (const name of READOUTS) out[name] = await value(page, `readout-${name}`);
  out['sim-time'] = await value(page, 'sim-time');
  return out;
}

/** The speed factor the page shows next to the speed slider: "100×", "1,000×", "10k×"… */
async function speedFactor(page) {
  const shown = (await page.textContent('[data-testid=speed-value]')).trim();
  const m = shown.replace(/[,\s]/g, '').match(/([0-9]*\.?[0-9]+)([kKM]?)/);
  return { shown, factor: m ? Number(m[1]) * ({ k: 1e3, K: 1e3, M: 1e6 }[m[2]] ?? 1) : NaN };
}

/** Moves the speed slider to its top and checks that the page reports at least 100×. */
async function topSpeed(page) {
  const speed = page.locator('input[type=range][data-testid=speed]');
  await setInput(speed, await speed.evaluate((el) => el.max));
  const { shown, factor } = await speedFactor(page);
  assert.ok(factor >= 100, `top speed shows "${shown}", expected at least 100×`);
  return shown;
}

async function playText(page) {
  return (await page.textContent('[data-testid=play]')).trim();
}

async function oomBadge(page) {
  return page.locator('[data-testid=oom-badge]').isVisible();
}

/** Pauses with the Play/Pause button if it is playing, and checks that it says Play. */
async function pause(page) {
  if ((await playText(page)) === 'Pause') await page.click('[data-testid=play]');
  assert.equal(await playText(page), 'Play', 'Pause did not turn into Play');
}

/** The number a knob's number box shows. */
async function knobValue(page, id) {
  return Number(await page.inputValue(`[data-testid=knob-${id}] input[type=number]`));
}

/** Canvas pixels as a data URL, to tell whether a chart was redrawn with other data. */
async function canvasPixels(page, testid) {
  return page.locator(`canvas[data-testid=${testid}]`).evaluate((c) => c.toDataURL());
}

describe('Backpressure Lab page', () => {
  test('loads without errors and shows every control, readout and chart', async () => {
    await withPage('01-load', async (page) => {
      await waitForApp(page);
      assert.match(await page.title(), /Backpressure Lab/);

      const missing = [];
      for (const sel of REQUIRED) {
        if ((await page.locator(sel).count()) === 0) missing.push(sel);
      }
      assert.deepEqual(missing, [], `missing elements:\n  ${missing.join('\n  ')}`);

      const options = await page.$$eval('[data-testid=preset-select] option', (os) => os.map((o) => o.value));
      for (const id of PRESETS) assert.ok(options.includes(id), `preset option ${id} missing (have ${options})`);

      assert.match((await page.textContent('[data-testid=play]')).trim(), /^(Play|Pause)$/);
      assert.ok((await page.textContent('[data-testid=preset-explanation]')).trim().length > 0,
        'the preset explanation is empty');
      for (const c of ['diagram', 'chart-counts', 'chart-memory']) {
        const box = await page.locator(`canvas[data-testid=${c}]`).boundingBox();
        assert.ok(box && box.width > 0 && box.height > 0, `canvas ${c} is not visible (box ${JSON.stringify(box)})`);
      }
      // Nothing has been lost when the page opens paused at t = 0.
      assert.equal(await page.locator('[data-testid=oom-badge]').count(), 0, 'OOM badge shown at load');
      await readouts(page); // every data-value is "" or a number
    });
  });

  test('moving a knob replays the run to the same time with new readouts', async () => {
    await withPage('02-knob', async (page) => {
      await waitForApp(page);
      await page.selectOption('[data-testid=preset-select]', 'incident-106');

      // Advance the simulation a little with Step, so that there is something to replay.
      const advanced = await poll(async () => {
        await page.click('[data-testid=step]');
        return (await value(page, 'sim-time')) > 0 && (await value(page, 'readout-produced')) > 0;
      }, 10_000, 50);
      assert.ok(advanced, `Step did not advance the run: ${JSON.stringify(await readouts(page))}`);
      const before = await readouts(page);

      const range = page.locator('[data-testid=knob-producer-rate] input[type=range]');
      const number = page.locator('[data-testid=knob-producer-rate] input[type=number]');
      // Let the charts catch up with the stepped run (they redraw at most every 0.2 s).
      await page.waitForTimeout(600);
      const chartBefore = await canvasPixels(page, 'chart-counts');
      const [min, max, current] = (await range.evaluate((el) => [el.min, el.max, el.value])).map(Number);
      // Halve the distance to the minimum (or go up a quarter of the scale when already there).
      const target = current > min ? min + (current - min) / 2 : min + (max - min) / 4;
      const numberBefore = await number.inputValue();
      await setInput(range, target);

      const changed = await poll(async () => (await value(page, 'readout-produced')) !== before.produced, 5_000);
      const afterValues = await readouts(page);
      assert.ok(changed,
        `readout-produced stayed ${before.produced} after producer-rate range ${current} -> ${target}` +
          `\nbefore: ${JSON.stringify(before)}\nafter:  ${JSON.stringify(afterValues)}`);
      assert.notEqual(await number.inputValue(), numberBefore, 'the number input did not follow the range');
      const t0 = before['sim-time'];
      const t1 = afterValues['sim-time'];
      assert.ok(Math.abs(t1 - t0) <= Math.max(1e-6, 1e-3 * t0),
        `the run was not replayed to the same simulated time: ${t0} s before, ${t1} s after`);
      // The charts show the replayed run too, not the one from before the change (the page is
      // paused, so the simulated time is the same as before).
      const redrawn = await poll(async () => (await canvasPixels(page, 'chart-counts')) !== chartBefore, 3_000);
      assert.ok(redrawn, 'chart-counts still shows the run from before the producer-rate change');
    });
  });

  for (const [index, id] of PRESETS.entries()) {
    const expected = PRESET_OUTCOMES[id];
    const what = expected.oom ? 'ends in an OOM kill that loses messages' : 'never OOMs and loses nothing';
    test(`${id} at top speed ${what}`, async () => {
      await withPage(`03-preset-${index + 1}-${id}`, async (page) => {
        await waitForApp(page);
        await page.selectOption('[data-testid=preset-select]', id);
        assert.equal(await value(page, 'sim-time'), 0, `loading ${id} did not start at t = 0`);
        assert.ok((await page.textContent('[data-testid=preset-explanation]')).trim().length > 0,
          `${id} has no explanation`);
        const shown = await topSpeed(page);

        const started = Date.now();
        await page.click('[data-testid=play]');
        assert.equal(await playText(page), 'Pause', 'Play did not turn into Pause');
        // Incidents: until the badge shows and something is lost. Fixes: until FIX_SIM_S. Checked
        // in the page on every animation frame, which presses Pause the moment it holds, so the
        // run (and the screenshot) stops close to that point even at top speed.
        let reached = true;
        try {
          await page.waitForFunction(({ oom, simS }) => {
            const v = (id) => Number(document.querySelector(`[data-testid=${id}]`)?.getAttribute('data-value'));
            const done = oom
              ? document.querySelector('[data-testid=oom-badge]') !== null && v('readout-lost') > 0
              : v('sim-time') >= simS;
            if (done) document.querySelector('[data-testid=play]').click();
            return done;
          }, { oom: expected.oom, simS: FIX_SIM_S }, { timeout: PLAY_TIMEOUT_MS, polling: 'raf' });
        } catch {
          reached = false;
        }
        const wallS = ((Date.now() - started) / 1000).toFixed(1);
        await pause(page);
        const r = await readouts(page);
        const badge = await oomBadge(page);
        console.log(`${id}: ${wallS} s wall at ${shown} -> ${JSON.stringify(r)}, OOM badge ${badge}`);

        if (expected.oom) {
          assert.ok(reached,
            `no OOM badge with lost > 0 within ${PLAY_TIMEOUT_MS / 1000} s of wall time at ${shown}: ${JSON.stringify(r)}`);
          assert.ok(badge, 'the OOM badge went away on pause');
          assert.ok(r.lost > 0, `lost is ${r.lost}`);
          assert.ok(r['oom-kills'] > 0, `oom-kills is ${r['oom-kills']} while the badge shows`);
          assert.notEqual(r['first-oom'], null, 'first-oom is empty after an OOM kill');
          // README.md: the first kill at ≈ 48.3 s (incident-106) and ≈ 91.8 s (incident-106-5k).
          assert.ok(Math.abs(r['first-oom'] - expected.firstOomS) <= 0.05 * expected.firstOomS,
            `first OOM at ${r['first-oom']} s, expected ≈ ${expected.firstOomS} s`);
        } else {
          assert.ok(reached, `sim-time did not reach ${FIX_SIM_S} s within ${PLAY_TIMEOUT_MS / 1000} s of wall time ` +
            `at ${shown}: ${JSON.stringify(r)}`);
          assert.ok(!badge, `OOM badge shown in ${id}`);
          assert.equal(r['oom-kills'], 0, 'oom-kills');
          assert.equal(r['first-oom'], null, 'first-oom should be empty without a kill');
          assert.equal(r.lost, 0, 'lost');
          assert.ok(r.consumed > 0, 'nothing consumed');
        }
        if (id === 'fix-sync-poll') {
          // In flight never exceeds one poll's worth; the backlog waits in the topic as lag.
          const maxPoll = await knobValue(page, 'max-poll-records');
          assert.equal(maxPoll, 1000, 'fix-sync-poll polls 1000 records at a time');
          assert.ok(r['max-in-flight'] <= maxPoll, `max-in-flight ${r['max-in-flight']} > max.poll.records ${maxPoll}`);
          assert.ok(r['max-lag'] > 0, 'the backlog should show as topic lag');
        }
        if (id === 'fix-blocking-channel') {
          // The producer blocks on the full channel and is slowed to the consumer's 500 msg/s.
          assert.ok(r['producer-blocked'] > 0, `producer-blocked is ${r['producer-blocked']}`);
          assert.ok(Math.abs(r.throughput - 500) <= 0.02 * 500,
            `throughput ${r.throughput} msg/s is not within 2% of 500 msg/s`);
          const producedRate = r.produced / r['sim-time'];
          assert.ok(Math.abs(producedRate - 500) <= 0.02 * 500,
            `the producer produced ${producedRate.toFixed(1)} msg/s, not ≈ 500 msg/s`);
        }
      });
    });
  }

  test('keyboard only: space plays and pauses, s steps, r resets', async () => {
    await withPage('04-keyboard', async (page) => {
      await waitForApp(page);
      await page.bringToFront();
      // Nothing focused: keys go to <body>, where the page's shortcuts listen.
      await page.evaluate(() => document.activeElement?.blur());
      assert.equal(await value(page, 'sim-time'), 0);

      await page.keyboard.press('Space');
      assert.equal(await playText(page), 'Pause', 'space did not start playing');
      const t1 = await poll(async () => {
        const t = await value(page, 'sim-time');
        return t > 0 ? t : 0;
      }, 5_000);
      assert.ok(t1 > 0, 'sim-time did not advance after space');
      const t2 = await poll(async () => {
        const t = await value(page, 'sim-time');
        return t > t1 ? t : 0;
      }, 5_000);
      assert.ok(t2 > t1, `sim-time stopped at ${t1} s while playing`);
      // Space must not scroll the page (the handler prevents the default).
      assert.equal(await page.evaluate(() => window.scrollY), 0, 'space scrolled the page');

      await page.keyboard.press('Space');
      assert.equal(await playText(page), 'Play', 'space did not pause');
      const paused = await value(page, 'sim-time');
      await page.waitForTimeout(400);
      assert.equal(await value(page, 'sim-time'), paused, 'sim-time moved while paused');

      await page.keyboard.press('r');
      const reset = await poll(async () => (await value(page, 'sim-time')) === 0, 2_000);
      assert.ok(reset, `r did not reset: sim-time ${await value(page, 'sim-time')}`);
      assert.equal(await value(page, 'readout-produced'), 0, 'produced is not 0 after reset');

      await page.keyboard.press('s');
      const stepped = await poll(async () => (await value(page, 'sim-time')) > 0, 2_000);
      assert.ok(stepped, 's did not step');
      assert.equal(await playText(page), 'Play', 's started playing');

      // Tab to the Play button and press space there: the button toggles exactly once (the
      // page-wide shortcut must not toggle it a second time).
      let onPlay = false;
      for (let i = 0; i < 15 && !onPlay; i++) {
        await page.keyboard.press('Tab');
        onPlay = await page.evaluate(() => document.activeElement?.dataset?.testid === 'play');
      }
      assert.ok(onPlay, 'Tab never reached the Play button');
      await page.keyboard.press('Space');
      assert.equal(await playText(page), 'Pause', 'space on the focused Play button did not play exactly once');
      await page.keyboard.press('Space');
      assert.equal(await playText(page), 'Play', 'space on the focused Pause button did not pause');
      await page.keyboard.press('r');
      const reset2 = await poll(async () => (await value(page, 'sim-time')) === 0, 2_000);
      assert.ok(reset2, 'r with the Play button focused did not reset');
    });
  });
});
