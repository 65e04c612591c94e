// The static site (scripts/build-site.sh): served under a sub-path, with a strict
// Content-Security-Policy, and offline after the first visit (a service worker keeps the
// site's own files: the simulator, a lesson, an embed, the handbook). scripts/test.sh serves the site at http://127.0.0.1:PORT/backpressure-lab/;
// against a plain `trunk build` (no service worker, no CSP) these tests are skipped.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, waitForApp, value, poll, URL, SCREENSHOTS } from './lib.mjs';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';

let chromium;
let isSite = false;

before(async () => {
  chromium = await launch();
  const res = await fetch(new globalThis.URL('sw.js', URL));
  isSite = res.ok;
});

after(async () => {
  await chromium?.close();
});

/** Errors the page logs, collected from now on. */
function watch(page) {
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console.error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return problems;
}

describe('the static site', () => {
  test('is served under a sub-path with a strict Content-Security-Policy', async (t) => {
    if (!isSite) return t.skip('not the built site (no sw.js): scripts/build-site.sh builds it');
    assert.notEqual(new globalThis.URL(URL).pathname, '/', 'test.sh serves the site under a sub-path');
    const page = await chromium.browser.newPage();
    const problems = watch(page);
    await page.goto(URL + '?preset=credits&speed=100');
    await waitForApp(page);
    const policy = await page.getAttribute('meta[http-equiv=Content-Security-Policy]', 'content');
    assert.match(policy, /default-src 'self'/);
    assert.match(policy, /script-src 'self' 'wasm-unsafe-eval' 'sha256-[^']+'(;|$)/);
    assert.doesNotMatch(policy, /unsafe-inline'[^;]*;.*script|script-src[^;]*unsafe-inline/);
    // The policy holds: an inline script injected into the page does not run.
    const ran = await page.evaluate(() => {
      window.__injected = false;
      const s = document.createElement('script');
      s.textContent = 'window.__injected = true';
      document.head.appendChild(s);
      return window.__injected;
    });
    assert.equal(ran, false, 'an injected inline script ran');
    assert.ok(problems.every((p) => /Content Security Policy/.test(p)), problems.join('\n'));
    assert.ok((await page.textContent('[data-testid=preset-title]')).startsWith('Credit-based'));
    const manifest = await (await fetch(new globalThis.URL('manifest.webmanifest', URL))).json();
    assert.equal(manifest.start_url, './');
    await page.close();
  });

  test('works offline after the first visit: the simulator, an embed and the handbook', async (t) => {
    if (!isSite) return t.skip('not the built site (no sw.js): scripts/build-site.sh builds it');
    const page = await chromium.browser.newPage();
    const problems = watch(page);
    await page.goto(URL);
    await waitForApp(page);
    // The worker has installed (every file cached) and controls the page.
    await page.evaluate(() => navigator.serviceWorker.ready);
    if (!(await page.evaluate(() => !!navigator.serviceWorker.controller))) {
      await page.reload();
      await waitForApp(page);
    }
    assert.ok(await page.evaluate(() => !!navigator.serviceWorker.controller), 'the service worker does not control the page');
    const cached = await page.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith('bplab-')));
    assert.equal(cached.length, 1, `one cache for this build: ${cached}`);

    await chromium.browser.setOffline(true);
    try {
      await page.goto(URL + '?preset=incident-106&speed=100');
      await waitForApp(page);
      await page.click('[data-testid=play]');
      assert.ok(await poll(async () => (await value(page, 'sim-time')) > 5, 15_000), 'the simulator did not run offline');
      await page.click('[data-testid=play]');
      await page.screenshot({ path: join(SCREENSHOTS, '40-offline.png') });
      // The lessons and challenges the page fetches from its own origin are there too: a
      // lesson opens offline, with its first step and its prediction.
      const lesson = await page.evaluate(async () => {
        const r = await fetch('content/lessons/incident-106.toml');
        return r.ok ? (await r.text()).slice(0, 200) : `HTTP ${r.status}`;
      });
      assert.match(lesson, /title = /, 'the incident lesson is not available offline');
      await page.goto(URL + '?lesson=buffers&step=1');
      await waitForApp(page);
      await page.locator('[data-testid=course-title]').waitFor({ timeout: 15_000 });
      assert.ok((await page.textContent('[data-testid=step-prose]')).length > 50, 'the lesson step has its prose offline');
      assert.ok((await page.textContent('[data-testid=preset-explanation]')).length > 100, 'the preset explanation is there offline');
      await page.screenshot({ path: join(SCREENSHOTS, '42-offline-lesson.png') });

      const example = await chromium.browser.newPage();
      watch(example);
      await example.goto(URL + 'examples/embed.html');
      const frame = await (await example.waitForSelector('iframe[data-testid=embed-incident]')).contentFrame();
      await frame.waitForSelector('[data-testid=embed] [data-testid=play]', { timeout: 20_000 });
      await example.close();

      const handbook = await (await fetch(new globalThis.URL('handbook/index.html', URL))).ok;
      if (handbook) {
        const book = await chromium.browser.newPage();
        await book.goto(URL + 'handbook/');
        assert.ok((await book.title()).length > 0);
        await book.close();
      }
    } finally {
      await chromium.browser.setOffline(false);
    }
    assert.deepEqual(problems.filter((p) => !/ERR_INTERNET_DISCONNECTED|Failed to fetch|sw\.js/.test(p)), []);
    await page.close();
  });

  test('every handbook chapter loads with its first embed running and nothing from another origin', async (t) => {
    if (!isSite) return t.skip('not the built site (no sw.js): scripts/build-site.sh builds it');
    // The chapters of handbook/src/SUMMARY.md, as the built site names them.
    const summary = readFileSync(new globalThis.URL('../../handbook/src/SUMMARY.md', import.meta.url), 'utf8');
    const chapters = [...summary.matchAll(/\]\(([a-z0-9-]+)\.md\)/g)].map((m) => `${m[1]}.html`);
    assert.ok(chapters.length >= 10, `chapters found: ${chapters}`);
    for (const chapter of chapters) {
      const page = await chromium.browser.newPage();
      const problems = watch(page);
      page.on('request', (req) => {
        const u = new globalThis.URL(req.url());
        if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== new globalThis.URL(URL).origin) problems.push(`request to another origin: ${req.url()}`);
      });
      await page.goto(URL + 'handbook/' + chapter);
      const frames = page.locator('iframe');
      assert.ok((await frames.count()) >= 1, `${chapter} has no embed`);
      await frames.first().scrollIntoViewIfNeeded();
      const frame = await (await frames.first().elementHandle()).contentFrame();
      await frame.waitForSelector('[data-testid=embed] [data-testid=play]', { timeout: 30_000 });
      // embed.js sized the frame to its content.
      assert.ok(await poll(async () => (await frames.first().getAttribute('data-bplab-height')) !== null, 10_000), `${chapter}: embed.js did not size the frame`);
      if (chapter === 'incident.html' || chapter === chapters[0]) await page.screenshot({ path: join(SCREENSHOTS, `41-handbook-${chapter.replace('.html', '')}.png`) });
      assert.deepEqual(problems, [], chapter);
      await page.close();
    }
  });
});
