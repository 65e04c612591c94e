// The sequence diagram is exact at every speed: played at 1000×, every row it draws is one
// real message of the credit protocol (a send of one batch, a grant of the configured size)
// with a balance inside the window, and when a frame holds more than it draws, a caption
// row says how many it shows of how many. The canvas lists its rows in `data-rows`, one per
// line: `kind link n balance` (`-` for none), the caption as `gap shown total`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, withPage, value, poll, topSpeed, playText } from './lib.mjs';

let chromium;

before(async () => {
  chromium = await launch();
});

after(async () => {
  await chromium?.close();
});

// The `credits` preset: 1,000 credits, batches of 100, grants of 500 (its lesson says so,
// and `bplab show --preset credits` prints them).
const WINDOW = 1000;
const BATCH = 100;
const GRANT = 500;

const rowsOf = (page) => page.getAttribute('[data-testid=sequence]', 'data-rows');

/** Checks every row of one drawing; returns what it saw. */
function check(text, at) {
  const seen = { sends: 0, grants: 0, gap: null };
  const lines = text.trim().split('\n');
  for (const [i, line] of lines.entries()) {
    const f = line.split(' ');
    const where = `${at}, row ${i} "${line}" of:\n${text}`;
    if (f[0] === 'gap') {
      assert.equal(i, 0, `the caption is the top row: ${where}`);
      const [shown, total] = [Number(f[1]), Number(f[2])];
      assert.equal(shown, lines.length - 1, `the caption counts the rows drawn: ${where}`);
      assert.ok(total >= shown, where);
      seen.gap = { shown, total };
      continue;
    }
    const [kind, , n, bal] = [f[0], Number(f[1]), Number(f[2]), f[3] === '-' ? null : Number(f[3])];
    assert.ok(bal !== null && bal >= 0 && bal <= WINDOW, `balance outside 0..${WINDOW}: ${where}`);
    switch (kind) {
      case 'initial':
        assert.equal(n, WINDOW, where);
        break;
      case 'send':
        assert.equal(n, BATCH, `a send is one batch: ${where}`);
        seen.sends += 1;
        break;
      case 'grant':
      case 'grant-arrived':
      case 'arrive':
        assert.equal(n, GRANT, `a grant is the configured size: ${where}`);
        seen.grants += 1;
        break;
      case 'stop':
        assert.ok(bal < BATCH, `stopped holding a whole batch of credits: ${where}`);
        break;
      case 'resume':
        break;
      default:
        assert.fail(`a row that is not a protocol message: ${where}`);
    }
  }
  return seen;
}

describe('sequence diagram', () => {
  test('credits at 1000×: every row is one real message, and a caption says what is left out', async () => {
    await withPage(chromium.browser, '13-sequence-credits-1000x', async (page) => {
      await page.bringToFront();
      const canvas = page.locator('[data-testid=sequence]');
      await canvas.scrollIntoViewIfNeeded();
      assert.ok(await canvas.isVisible(), 'credits has a sequence diagram');
      // Before playing: the initial credits.
      const first = await poll(() => rowsOf(page), 5_000);
      assert.equal(first.trim(), `initial 1 ${WINDOW} ${WINDOW}`);
      await topSpeed(page);
      // Every drawing, read in the page on every animation frame.
      await page.evaluate(() => {
        window.__seqRows = [];
        const read = () => {
          const t = document.querySelector('[data-testid=sequence]').getAttribute('data-rows');
          if (window.__seqRows.at(-1) !== t) window.__seqRows.push(t);
          requestAnimationFrame(read);
        };
        requestAnimationFrame(read);
      });
      await page.click('[data-testid=play]');
      await poll(async () => (await value(page, 'sim-time')) >= 600, 30_000, 50);
      if ((await playText(page)) === 'Pause') await page.click('[data-testid=play]');
      const texts = new Set(await page.evaluate(() => window.__seqRows));
      texts.add(await rowsOf(page));
      await canvas.screenshot({ path: new URL('./screenshots/13-sequence-credits-1000x-canvas.png', import.meta.url).pathname });
      let sends = 0;
      let grants = 0;
      let gaps = 0;
      for (const text of texts) {
        const seen = check(text, 'credits at 1000×');
        sends += seen.sends;
        grants += seen.grants;
        gaps += seen.gap ? 1 : 0;
      }
      console.log(`${texts.size} drawings: ${sends} sends and ${grants} grants checked, ${gaps} with a caption`);
      assert.ok(texts.size >= 10, `only ${texts.size} different drawings`);
      assert.ok(sends > 20 && grants > 2, `${sends} sends, ${grants} grants`);
      assert.ok(gaps > 0, 'at 1000× a frame holds ~160 protocol events and the diagram draws fewer: no caption said so');
      const caption = await canvas.evaluate((el) => el.getAttribute('data-rows').split('\n')[0]);
      assert.match(caption, /^gap \d+ \d+$/);
    }, { query: '?preset=credits' });
  });
});
