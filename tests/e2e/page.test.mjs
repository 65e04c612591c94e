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

// The page's contract (data-testid values), see docs/commands.md.
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
// Bound on the wall-clock wait for incident-106 to reach its first OOM kill at top speed.
const OOM_TIMEOUT_MS = 30_000;

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
    });
  });

  test('incident-106 at top speed ends in an OOM kill that loses messages', async () => {
    await withPage('03-incident-106-oom', async (page) => {
      await waitForApp(page);
      await page.selectOption('[data-testid=preset-select]', 'incident-106');
      await page.click('[data-testid=reset]');

      const speed = page.locator('input[type=range][data-testid=speed]');
      const speedMax = await speed.evaluate((el) => el.max);
      await setInput(speed, speedMax);
      const factor = (await page.textContent('[data-testid=speed-value]')).trim();
      // "100×", "1,000×", "10k×"…
      const m = factor.replace(/[,\s]/g, '').match(/([0-9]*\.?[0-9]+)([kKM]?)/);
      const factorNumber = m ? Number(m[1]) * ({ k: 1e3, K: 1e3, M: 1e6 }[m[2]] ?? 1) : NaN;
      assert.ok(factorNumber >= 100, `top speed shows "${factor}", expected at least 100×`);

      await page.click('[data-testid=play]');
      assert.equal((await page.textContent('[data-testid=play]')).trim(), 'Pause', 'Play did not turn into Pause');

      const started = Date.now();
      const oom = await poll(async () => {
        const badge = await page.locator('[data-testid=oom-badge]').isVisible();
        const lost = await value(page, 'readout-lost');
        return badge && lost > 0;
      }, OOM_TIMEOUT_MS, 250);
      const r = await readouts(page);
      assert.ok(oom,
        `no OOM badge with lost > 0 within ${OOM_TIMEOUT_MS / 1000} s of wall time at ${factor}: ${JSON.stringify(r)}`);
      console.log(`incident-106: OOM after ${((Date.now() - started) / 1000).toFixed(1)} s wall, ` +
        `sim-time ${r['sim-time']} s, first-oom ${r['first-oom']}, lost ${r.lost}, oom-kills ${r['oom-kills']}`);
      assert.ok(r['oom-kills'] > 0, `oom-kills is ${r['oom-kills']} while the badge shows`);
      assert.notEqual(r['first-oom'], null, 'first-oom is empty after an OOM kill');

      await page.click('[data-testid=play]');
      assert.equal((await page.textContent('[data-testid=play]')).trim(), 'Play', 'Pause did not turn into Play');
    });
  });
});
