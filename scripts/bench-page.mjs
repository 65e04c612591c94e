#!/usr/bin/env node
// Performance figures of the built page (dist/, from `scripts/trunk-release.sh`), printed, not
// asserted: headless Chromium plays a preset at a speed, and the page's animation loop
// reports its frame timings in `window.__bplab_stats` (src/stats.rs). By default four runs:
// incident-106 and consumer-group, each at 100× and at 1000× real time. For each it prints
//   - the simulated speed actually reached (goal at 1000× on incident-106: ≥ 950×), and
//     what the page's speed readout (`speed-reached`) said at the end,
//   - the share of frames over 25 ms (goal ≤ 5 %), frame-to-frame time p50 / p95,
//   - engine time per frame (mean, p95), the diagram's and the charts' time,
// then the release wasm + JS size, raw and gzip -9 (budget 360,000 bytes gzip -9), and the
// machine's load average before and after (the figures depend on it).
//
//   node scripts/bench-page.mjs                 # serves dist/ itself on a free port
//   BPLAB_URL=http://127.0.0.1:8080/ node scripts/bench-page.mjs
//   BENCH_SECONDS=20 BENCH_PRESET=consumer-group BENCH_SPEED=1000 node scripts/bench-page.mjs
//   (BENCH_PRESET or BENCH_SPEED: that one run only; BENCH_SECONDS: measured seconds a run,
//   30 by default, after BENCH_WARMUP seconds, 3 by default)
import { createServer } from 'node:http';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { extname, join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { chromium } from 'playwright-core';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const SECONDS = Number(process.env.BENCH_SECONDS || 30);
const WARMUP_S = Number(process.env.BENCH_WARMUP || 3);
const ONE = process.env.BENCH_PRESET || process.env.BENCH_SPEED;
const RUNS = ONE
  ? [[process.env.BENCH_PRESET || 'incident-106', Number(process.env.BENCH_SPEED || 100)]]
  : [['incident-106', 100], ['incident-106', 1000], ['consumer-group', 100], ['consumer-group', 1000]];
/** A frame over this many milliseconds is a visible stutter (more than one vsync late). */
const LATE_MS = 25;
/** Seconds between two readings of the stats (their ring keeps 1,024 frames, ~17 s). */
const POLL_S = 5;
const CHROMIUM = process.env.BPLAB_CHROMIUM || '/usr/bin/chromium';

const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
const ms = (n) => `${n.toFixed(2)} ms`;
function pct(values, p) {
  if (!values.length) return 0;
  const v = [...values].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))];
}
const mean = (v) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0);

// GNU gzip -9, as scripts/test.sh measures (zlib at level 9 comes out about 1% larger on
// the wasm); zlib when gzip is missing.
function gzipped(path, bytes) {
  try {
    return execFileSync('gzip', ['-9', '-c', path], { maxBuffer: 1 << 26 }).length;
  } catch {
    return gzipSync(bytes, { level: 9 }).length;
  }
}

function sizes() {
  if (!existsSync(DIST)) return null;
  const files = readdirSync(DIST).filter((f) => f.endsWith('.wasm') || f.endsWith('.js'));
  let raw = 0;
  let gz = 0;
  const rows = [];
  for (const f of files) {
    const b = readFileSync(join(DIST, f));
    const g = gzipped(join(DIST, f), b);
    raw += b.length;
    gz += g;
    rows.push(`  ${f}: ${kb(b.length)} raw, ${kb(g)} gzip -9`);
  }
  return { raw, gz, rows };
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };

async function serve() {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = join(DIST, path === '/' ? 'index.html' : path);
    if (!file.startsWith(DIST) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => server.close() };
}

const s = sizes();
if (!s) {
  console.error('bench-page: no dist/ (run `scripts/trunk-release.sh` first)');
  process.exit(1);
}
const served = process.env.BPLAB_URL ? null : await serve();
const base = process.env.BPLAB_URL || served.url;

const load0 = loadavg();
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const errors = [];

/** Plays `preset` at `speed` for WARMUP_S + SECONDS; returns its figures. */
async function measure(preset, speed) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => errors.push(`${preset} ${speed}×: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && errors.push(`${preset} ${speed}×: ${m.text()}`));
  await page.goto(`${base}?preset=${preset}&speed=${speed}&play=1`);
  await page.waitForFunction(() => window.wasmBindings !== undefined, null, { timeout: 30_000 });
  await page.waitForTimeout(WARMUP_S * 1000);
  const simT = async () => Number(await page.getAttribute('[data-testid=sim-time]', 'data-value'));
  const stats = () => page.evaluate(() => window.__bplab_stats);
  const cols = ['frame_ms', 'engine_ms', 'charts_ms', 'charts', 'diagram_ms'];
  const got = Object.fromEntries(cols.map((c) => [c, []]));
  const t0 = await simT();
  let seen = (await stats())?.frames ?? 0;
  const w0 = Date.now();
  // Read the ring every POLL_S seconds and keep the frames published since the last reading.
  while (Date.now() - w0 < SECONDS * 1000) {
    await page.waitForTimeout(Math.min(POLL_S * 1000, SECONDS * 1000 - (Date.now() - w0)));
    const st = await stats();
    const n = Math.min(st.frames - seen, st.frame_ms.length);
    for (const c of cols) got[c].push(...st[c].slice(st[c].length - n));
    seen = st.frames;
  }
  const wall = (Date.now() - w0) / 1000;
  const t1 = await simT();
  const readout = await page.$eval('[data-testid=speed-reached]', (el) => (el.hidden ? '' : el.textContent.trim())).catch(() => '?');
  await page.close();
  const frame = got.frame_ms.filter((x) => x > 0);
  const drawn = got.charts.reduce((a, b) => a + b, 0);
  return {
    preset, speed, wall, t1, frames: frame.length,
    reached: (t1 - t0) / wall,
    late: frame.length ? (100 * frame.filter((x) => x > LATE_MS).length) / frame.length : 0,
    frame, engine: got.engine_ms, diagram: got.diagram_ms, charts: got.charts_ms, drawn,
    chartMs: got.charts_ms.reduce((a, b) => a + b, 0),
    readout,
  };
}

const results = [];
for (const [preset, speed] of RUNS) results.push(await measure(preset, speed));
await browser.close();
served?.close();
const load1 = loadavg();

const pad = (v, n) => String(v).padStart(n);
console.log(`bench-page: ${SECONDS} s measured per run after ${WARMUP_S} s of warm-up, 1280×900, headless Chromium; load average ${load0[0].toFixed(2)} before, ${load1[0].toFixed(2)} after (1 min), ${load1[1].toFixed(2)} (5 min)`);
console.log(`  ${'preset'.padEnd(15)} ${pad('asked', 6)} ${pad('reached', 9)} ${pad('>25 ms', 7)} ${pad('frame p50', 10)} ${pad('frame p95', 10)} ${pad('engine mean', 12)} ${pad('engine p95', 11)}  readout`);
for (const r of results) {
  console.log(`  ${r.preset.padEnd(15)} ${pad(`${r.speed}×`, 6)} ${pad(`${r.reached.toFixed(1)}×`, 9)} ${pad(`${r.late.toFixed(1)} %`, 7)} ${pad(ms(pct(r.frame, 50)), 10)} ${pad(ms(pct(r.frame, 95)), 10)} ${pad(ms(mean(r.engine)), 12)} ${pad(ms(pct(r.engine, 95)), 11)}  ${r.readout || '(hidden: keeping up)'}`);
}
for (const r of results) {
  console.log(`  ${r.preset} at ${r.speed}×: ${r.frames} frames over ${r.wall.toFixed(1)} s, t = ${r.t1.toFixed(1)} s at the end; frame max ${ms(Math.max(...r.frame))}; ` +
    `engine p50 ${ms(pct(r.engine, 50))} max ${ms(Math.max(...r.engine))}; diagram p50 ${ms(pct(r.diagram, 50))} p95 ${ms(pct(r.diagram, 95))}; ` +
    `charts mean ${ms(mean(r.charts))} (${r.drawn} drawn, ${ms(r.drawn ? r.chartMs / r.drawn : 0)} each)`);
}
console.log(`  goals: at 1000× on incident-106 ≥ 950× reached, ≤ 5 % of frames over ${LATE_MS} ms; frame p95 ≤ 16.7 ms`);
console.log(`  release wasm + JS: ${kb(s.raw)} raw, ${kb(s.gz)} (${s.gz} bytes) gzip -9 (budget 360,000 bytes gzip -9)`);
for (const r of s.rows) console.log(r);
if (errors.length) {
  console.log(`  page errors: ${errors.join(' | ')}`);
  process.exitCode = 1;
}
