// Helpers shared by the end-to-end tests (not a test file itself: node --test runs *.test.mjs).
//
// The page's contract is its data-testid values: readouts carry their raw number in
// data-value (empty when it does not apply), knobs are [data-testid=knob-<id>] (stage knobs
// knob-s<i>-<id>, the consumer's link knob-consumer-<id>) holding a range and a number box or
// a select. Every test saves a screenshot to tests/e2e/screenshots/<name>.png, pass or fail,
// and fails on any console error, uncaught page error or failed request.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
export const SCREENSHOTS = join(HERE, 'screenshots');
export const URL = process.env.BPLAB_URL;
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

// How long the page may take to download, compile and mount the wasm app.
export const MOUNT_TIMEOUT_MS = 20_000;

export const READOUTS = [
  'produced',
  'consumed',
  'throughput',
  'throughput-now',
  'dropped',
  'lost',
  'duplicated',
  'oom-kills',
  'first-oom',
  'producer-oom-kills',
  'max-heap',
  'max-in-flight',
  'max-lag',
  'latency-p50',
  'latency-p99',
  'producer-blocked',
  'rebalances',
  'call-rtt-p99',
];

/** Starts Chromium with a fresh profile; returns { browser, close }. */
export async function launch(viewport = { width: 1280, height: 900 }, options = {}) {
  assert.ok(URL, 'BPLAB_URL is not set: run scripts/test.sh, or serve dist/ and set BPLAB_URL');
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (scripts/setup.sh installs it)`);
  mkdirSync(SCREENSHOTS, { recursive: true });
  const profileDir = mkdtempSync(join(tmpdir(), 'bplab-chromium-'));
  const browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    acceptDownloads: true,
    ...options,
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      rmSync(profileDir, { recursive: true, force: true });
    },
  };
}

/**
 * Opens `URL + query` in a new tab, runs `body(page)`, then — pass or fail — saves a
 * screenshot to screenshots/<name>.png (the full page unless `fullPage: false`) and fails if
 * the page logged any error. `viewport` and `colorScheme` are set before the page loads.
 */
export async function withPage(browser, name, body, { query = '', fullPage = true, viewport, colorScheme } = {}) {
  const page = await browser.newPage();
  if (viewport) await page.setViewportSize(viewport);
  if (colorScheme) await page.emulateMedia({ colorScheme });
  page.setDefaultTimeout(10_000);
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console.error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.stack || err.message}`));
  page.on('requestfailed', (req) => {
    // A PNG download is a data: URL navigation that Chromium reports as aborted.
    if (!req.url().startsWith('data:')) problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`);
  });
  // The site asks nothing of any other origin (its Content-Security-Policy would refuse it).
  page.on('request', (req) => {
    const u = new globalThis.URL(req.url());
    if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== new globalThis.URL(URL).origin) problems.push(`request to another origin: ${req.url()}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.url()}`);
  });

  let failure;
  try {
    const response = await page.goto(URL + query, { waitUntil: 'load' });
    assert.ok(response?.ok(), `GET ${URL + query} answered ${response?.status()}`);
    await waitForApp(page);
    await body(page);
  } catch (err) {
    failure = err;
  }
  const file = join(SCREENSHOTS, `${name}.png`);
  try {
    await page.screenshot({ path: file, fullPage });
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
export async function waitForApp(page) {
  try {
    await page.waitForFunction(() => window.wasmBindings !== undefined, null, { timeout: MOUNT_TIMEOUT_MS });
  } catch {
    assert.fail(`the wasm app did not start within ${MOUNT_TIMEOUT_MS / 1000} s (no window.wasmBindings)`);
  }
  try {
    await page.waitForSelector('[data-testid=play]', { timeout: 2_000 });
  } catch {
    const body = (await page.locator('body').innerText()).slice(0, 300);
    assert.fail(`the app started but shows no [data-testid=play] (page text: ${JSON.stringify(body)})`);
  }
}

/** The raw number in `data-value` of an element, or null when it is "" (not applicable). */
export async function value(page, testid) {
  const raw = await page.getAttribute(`[data-testid=${testid}]`, 'data-value');
  assert.notEqual(raw, null, `[data-testid=${testid}] has no data-value attribute`);
  if (raw === '') return null;
  const n = Number(raw);
  assert.ok(Number.isFinite(n), `[data-testid=${testid}] data-value=${JSON.stringify(raw)} is not a number`);
  return n;
}

/** Every readout and the simulated time, as { name: number|null }. */
export async function readouts(page) {
  return page.evaluate((names) => {
    const out = {};
    const v = (id) => {
      const raw = document.querySelector(`[data-testid=${id}]`)?.getAttribute('data-value');
      return raw === '' || raw == null ? null : Number(raw);
    };
    for (const n of names) out[n] = v(`readout-${n}`);
    out['sim-time'] = v('sim-time');
    return out;
  }, READOUTS);
}

/** Sets a range/number input's value as a person dragging it would: `input`, then `change`. */
export async function setInput(locator, newValue) {
  await locator.evaluate((el, v) => {
    el.value = String(v);
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
  }, newValue);
}

/** Polls `probe` until it returns a truthy value or `timeoutMs` passes; returns its last value. */
export async function poll(probe, timeoutMs, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!last && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, intervalMs));
    last = await probe();
  }
  return last;
}

export async function playText(page) {
  return (await page.textContent('[data-testid=play]')).trim();
}

/** Sets the speed slider to 100× real time (position 750 of 0..1000 on its log scale). */
export async function speed100(page) {
  await setInput(page.locator('input[type=range][data-testid=speed]'), 750);
  const shown = (await page.textContent('[data-testid=speed-value]')).trim();
  assert.equal(shown, '100×');
}

/** Moves the speed slider to its top; returns the speed shown. */
export async function topSpeed(page) {
  const speed = page.locator('input[type=range][data-testid=speed]');
  await setInput(speed, await speed.evaluate((el) => el.max));
  const shown = (await page.textContent('[data-testid=speed-value]')).trim();
  assert.equal(shown, '1000×', 'the top of the speed slider is 1000× real time');
  return shown;
}

/**
 * Plays until `done` (evaluated in the page on every animation frame, with `v(testid)` reading
 * a data-value) holds, then presses Pause in that same frame, so the run stops close to that
 * point even at top speed. Returns whether it held within `timeoutMs`.
 */
export async function playUntil(page, done, arg, timeoutMs = 30_000) {
  if ((await playText(page)) !== 'Pause') await page.click('[data-testid=play]');
  // The predicate is built here, in Node, as a real function that Playwright sends to the
  // page whole: a string predicate (or `new Function` in the page) is evaluated by the
  // page's own scripts, which the site's Content-Security-Policy rightly refuses.
  // eslint-disable-next-line no-new-func
  const predicate = new Function('arg', `
    const v = (id) => {
      const raw = document.querySelector('[data-testid=' + id + ']')?.getAttribute('data-value');
      return raw === '' || raw == null ? null : Number(raw);
    };
    const ok = (${done.toString()})(v, arg);
    if (ok) {
      const b = document.querySelector('[data-testid=play]');
      if (b.textContent.trim() === 'Pause') b.click();
    }
    return ok;
  `);
  try {
    await page.waitForFunction(predicate, arg ?? null, { timeout: timeoutMs, polling: 'raf' });
    return true;
  } catch (err) {
    if (process.env.BPLAB_DEBUG) console.log('playUntil:', err.message);
    if ((await playText(page)) === 'Pause') await page.click('[data-testid=play]');
    return false;
  }
}

/** Runs axe-core (injected from node_modules) on the page; returns the serious and critical violations. */
export async function axe(page) {
  const path = join(HERE, '..', '..', 'node_modules', 'axe-core', 'axe.min.js');
  // Evaluated, not added as a <script>: the site's Content-Security-Policy refuses inline
  // scripts, as it should.
  await page.evaluate(readFileSync(path, 'utf8'));
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(0, 2).join(' ')}`),
    }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
