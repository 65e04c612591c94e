// Embeds: the example chapter with three iframes (each plays on its own, the one out of
// sight stands still, embed.js sizes them), the compact layout at 300 px, and the Embed
// dialog's snippet.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launch, withPage, poll, axe, setInput, URL, SCREENSHOTS } from './lib.mjs';

// Embeds ship in every build; with BPLAB_SHARE=1 (a `--features share` build) the dialog
// also carries knob changes.
const SHARE = process.env.BPLAB_SHARE === '1';
let chromium;

before(async () => {
  chromium = await launch({ width: 1000, height: 900 });
});

after(async () => {
  await chromium?.close();
});

/** The simulated time an embed shows. */
const simTime = (frame) => frame.evaluate(() => Number(document.querySelector('[data-testid=sim-time]')?.getAttribute('data-value')));

/** The frame of `<iframe data-testid=…>`, once its app has started. */
async function embedFrame(page, testid) {
  const handle = await page.waitForSelector(`iframe[data-testid=${testid}]`);
  const frame = await handle.contentFrame();
  await frame.waitForFunction(() => window.wasmBindings !== undefined && document.querySelector('[data-testid=embed] [data-testid=play]'), null, { timeout: 20_000 });
  return frame;
}

describe('embeds', () => {
  test('the example chapter: three embeds play on their own, the one out of sight stands still, embed.js sizes them', async () => {
    const page = await chromium.browser.newPage();
    const problems = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    try {
      await page.goto(`${URL}examples/embed.html`, { waitUntil: 'load' });
      const incident = await embedFrame(page, 'embed-incident');
      const sync = await embedFrame(page, 'embed-sync');
      // embed.js set each frame's height from the embed's own report.
      assert.ok(await poll(() => page.evaluate(() => [...document.querySelectorAll('iframe')].slice(0, 2).every((f) => f.dataset.bplabHeight)), 5_000),
        'embed.js did not size the first two frames');
      const heights = await page.evaluate(() => [...document.querySelectorAll('iframe')].slice(0, 2).map((f) => f.getBoundingClientRect().height));
      for (const h of heights) assert.ok(h > 300 && h < 2000, `frame height ${h}`);
      // Each plays on its own.
      await incident.click('[data-testid=play]');
      assert.ok(await poll(async () => (await simTime(incident)) > 5, 10_000), 'the incident embed did not play');
      assert.equal(await simTime(sync), 0, 'playing one embed moved another');
      await sync.click('[data-testid=play]');
      assert.ok(await poll(async () => (await simTime(sync)) > 5, 10_000), 'the second embed did not play');
      await page.screenshot({ path: join(SCREENSHOTS, '30-embed-chapter.png'), fullPage: false });
      // Out of sight, the incident stands still; back in sight, it goes on.
      await page.evaluate(() => document.querySelector('.spacer').scrollIntoView({ block: 'end' }));
      await new Promise((r) => setTimeout(r, 300));
      const parked = await simTime(incident);
      await new Promise((r) => setTimeout(r, 1_000));
      assert.equal(await simTime(incident), parked, 'the embed out of sight kept running');
      await page.evaluate(() => document.querySelector('iframe[data-testid=embed-incident]').scrollIntoView());
      assert.ok(await poll(async () => (await simTime(incident)) > parked, 5_000), 'the embed did not resume in sight');
      // The third, far below, loads lazily when reached and plays.
      await page.evaluate(() => document.querySelector('iframe[data-testid=embed-credits]').scrollIntoView());
      const credits = await embedFrame(page, 'embed-credits');
      await credits.click('[data-testid=play]');
      assert.ok(await poll(async () => (await simTime(credits)) > 1, 10_000), 'the credits embed did not play');
      await page.screenshot({ path: join(SCREENSHOTS, '31-embed-credits.png'), fullPage: false });
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });

  test('at 300 px the embed fits, shows one chart and the key readouts, and opens the full page in the same state', async () => {
    await withPage(chromium.browser, '32-embed-300px', async (page) => {
      assert.ok(await page.locator('[data-testid=embed]').isVisible());
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `the embed scrolls sideways by ${overflow} px`);
      const charts = await page.locator('canvas.chart').evaluateAll((cs) => cs.filter((c) => !c.closest('[hidden]')).map((c) => c.dataset.testid));
      assert.deepEqual(charts, ['chart-latency']);
      assert.ok(await page.locator('[data-testid=diagram]').isVisible());
      assert.ok(await page.locator('[data-testid=readout-latency-p99]').isVisible());
      assert.ok(!(await page.locator('[data-testid=readout-produced]').isVisible()));
      assert.ok(await page.locator('[data-testid=announcer]').count(), 'the live region is there');
      const href = await page.getAttribute('[data-testid=open-full]', 'href');
      assert.match(href, /\?v=1&preset=fix-sync-poll&seed=4&speed=50$/);
      assert.deepEqual(await axe(page), []);
    }, { query: '?preset=fix-sync-poll&seed=4&speed=50&chart=latency&embed=1', viewport: { width: 300, height: 800 } });
  });

  test('the Share dialog gives the link and writes a snippet that opens this experiment as an embed', async () => {
    let src;
    await withPage(chromium.browser, '33-embed-dialog', async (page) => {
      await page.click('[data-testid=embed-open]');
      await page.selectOption('[data-testid=embed-chart]', 'backlog');
      const snippet = await page.inputValue('[data-testid=embed-snippet]');
      assert.match(snippet, /^<iframe src="[^"]+\?v=1&amp;preset=credits&amp;seed=2&amp;chart=backlog&amp;embed=1" title="Backpressure Lab: Credit-based[^"]*" width="100%" height="640" loading="lazy"/);
      assert.match(snippet, /<script src="[^"]+\/embed\.js" async><\/script>$/);
      src = /src="([^"]+)"/.exec(snippet)[1].replaceAll('&amp;', '&');
      assert.equal(await page.locator('[data-testid=embed-uncarried]').count(), 0, 'nothing changed, nothing left out');
      // Modal: the focus is in the dialog and Tab goes round its controls.
      assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'link-text');
      assert.equal(await page.inputValue('[data-testid=link-text]'), await page.evaluate(() => location.href), 'the link is the address bar');
      for (let i = 0; i < 8; i++) await page.keyboard.press('Tab');
      assert.ok(await page.evaluate(() => document.activeElement?.closest('[data-testid=embed-dialog]') !== null), 'Tab stays in the dialog');
      await page.keyboard.press('Escape');
      assert.ok(!(await page.locator('[data-testid=embed-dialog]').isVisible()));
      assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'embed-open', 'the focus is back on its button');
      // A changed knob is carried by the snippet's link, as `--set` writes it.
      await setInput(page.locator('[data-testid=knob-workers] input[type=range]'), 300);
      await page.click('[data-testid=embed-open]');
      const changed = await page.locator('[data-testid=embed-snippet]').inputValue();
      assert.match(changed, /consumer\.workers=\d+/, changed);
      assert.equal(await page.locator('[data-testid=embed-uncarried]').count(), 0, 'a knob change is carried');
      await page.keyboard.press('Escape');
    }, { query: '?preset=credits&seed=2' });
    await withPage(chromium.browser, '34-embed-from-snippet', async (page) => {
      assert.ok(await page.locator('[data-testid=embed]').isVisible());
      const charts = await page.locator('canvas.chart').evaluateAll((cs) => cs.filter((c) => !c.closest('[hidden]')).map((c) => c.dataset.testid));
      assert.deepEqual(charts, ['chart-backlog']);
    }, { query: src.slice(src.indexOf('?')) });
  });
});
