#!/usr/bin/env node
// Performance figures of the built page (dist/, from `trunk build --release`), printed, not
// asserted: headless Chromium plays incident-106 at 100× real time and the page's animation
// loop reports its frame timings in `window.__bplab_stats` (src/stats.rs). Prints
//   - frame-to-frame time p50 / p95 (goal: p95 ≤ 16.7 ms),
//   - engine time per frame p50 / p95 / max (goal ≤ 4 ms),
//   - chart drawing per frame (mean, p95) and per chart drawn, the diagram's time,
//   - the simulated speed actually reached,
//   - the release wasm + JS size, raw and gzip -9 (budget 360,000 bytes gzip -9).
//
//   node scripts/bench-page.mjs                 # serves dist/ itself on a free port
//   BPLAB_URL=http://127.0.0.1:8080/ node scripts/bench-page.mjs
//   BENCH_SECONDS=20 BENCH_PRESET=consumer-group BENCH_SPEED=1000 node scripts/bench-page.mjs
import { createServer } from 'node:http';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { extname, join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const SECONDS = Number(process.env.BENCH_SECONDS || 10);
const WARMUP_S = Number(process.env.BENCH_WARMUP || 3);
const PRESET = process.env.BENCH_PRESET || 'incident-106';
const SPEED = Number(process.env.BENCH_SPEED || 100);
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
  console.error('bench-page: no dist/ (run `trunk build --release` first)');
  process.exit(1);
}
const served = process.env.BPLAB_URL ? null : await serve();
const base = process.env.BPLAB_URL || served.url;

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const errors = [];
page.on('pageerror', (e) => errors.push(e.message));
page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
await page.goto(`${base}?preset=${PRESET}&speed=${SPEED}&play=1`);
await page.waitForFunction(() => window.wasmBindings !== undefined, null, { timeout: 30_000 });
await page.waitForTimeout(WARMUP_S * 1000);
const simT = async () => Number(await page.getAttribute('[data-testid=sim-time]', 'data-value'));
const t0 = await simT();
const f0 = await page.evaluate(() => window.__bplab_stats?.frames ?? 0);
const w0 = Date.now();
await page.waitForTimeout(SECONDS * 1000);
const stats = await page.evaluate(() => window.__bplab_stats);
const wall = (Date.now() - w0) / 1000;
const t1 = await simT();
await browser.close();
served?.close();

const n = Math.min(stats.frames - f0, stats.frame_ms.length);
const take = (k) => stats[k].slice(-n);
const frame = take('frame_ms').filter((x) => x > 0);
const engine = take('engine_ms');
const charts = take('charts_ms');
const drawn = take('charts');
const diagram = take('diagram_ms');
const chartsDrawn = drawn.reduce((a, b) => a + b, 0);
const chartMsTotal = charts.reduce((a, b) => a + b, 0);

console.log(`bench-page: ${PRESET} at ${SPEED}× real time, ${n} frames over ${wall.toFixed(1)} s of wall time (after ${WARMUP_S} s of warm-up), 1280×900, headless Chromium`);
console.log(`  simulated ${(t1 - t0).toFixed(1)} s in ${wall.toFixed(1)} s: ${((t1 - t0) / wall).toFixed(1)}× real time reached (asked ${SPEED}×); t = ${t1.toFixed(1)} s`);
console.log(`  frame-to-frame   p50 ${ms(pct(frame, 50))}   p95 ${ms(pct(frame, 95))}   max ${ms(Math.max(...frame))}   (goal: p95 ≤ 16.7 ms)`);
console.log(`  engine / frame   p50 ${ms(pct(engine, 50))}   p95 ${ms(pct(engine, 95))}   max ${ms(Math.max(...engine))}   (goal ≤ 4 ms)`);
console.log(`  charts / frame   mean ${ms(mean(charts))}   p95 ${ms(pct(charts, 95))}   max ${ms(Math.max(...charts))}   (${chartsDrawn} charts drawn, ${ms(chartsDrawn ? chartMsTotal / chartsDrawn : 0)} per chart)`);
console.log(`  diagram / frame  p50 ${ms(pct(diagram, 50))}   p95 ${ms(pct(diagram, 95))}`);
console.log(`  release wasm + JS: ${kb(s.raw)} raw, ${kb(s.gz)} (${s.gz} bytes) gzip -9 (budget 360,000 bytes gzip -9)`);
for (const r of s.rows) console.log(r);
if (errors.length) {
  console.log(`  page errors: ${errors.join(' | ')}`);
  process.exitCode = 1;
}
