// The timeline's replays: a replay (after a change or a seek) shows its progress and can be
// cancelled, with Escape or its button; going back to the end of a run replays nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, withPage, value, setInput, poll, topSpeed, playUntil } from './lib.mjs';

let chromium;

before(async () => {
  chromium = await launch();
});

after(async () => {
  await chromium?.close();
});

const badge = (page) =>
  page.evaluate(() => {
    const b = document.querySelector('[data-testid=replaying]');
    return b && !b.closest('[hidden]') && !b.hidden ? b.textContent.trim() : null;
  });

/** Changes a knob (a whole replay of the run from 0) and returns the progress figures seen. */
async function replayAfterAChange(page, rate) {
  await setInput(page.locator('[data-testid=knob-producer-rate] input[type=range]'), rate);
  const seen = [];
  await poll(async () => {
    const text = await badge(page);
    if (text) {
      const m = /^replaying… (\d+) %$/.exec(text);
      assert.ok(m, `badge reads ${JSON.stringify(text)}`);
      if (seen.at(-1) !== Number(m[1])) seen.push(Number(m[1]));
    }
    return seen.length >= 3;
  }, 20_000, 20);
  return seen;
}

describe('replays', () => {
  test('a replay shows its progress and stops on Escape or Cancel; End comes back at once', async () => {
    await withPage(chromium.browser, '12-replay-progress-cancel', async (page) => {
      await page.bringToFront();
      await topSpeed(page);
      assert.ok(await playUntil(page, (v) => v('sim-time') >= 1200, null, 40_000), `the run did not reach 1200 s: ${await value(page, 'sim-time')}`);
      const end = await value(page, 'sim-time');
      // Home, then End: back to the furthest point without a replay.
      const horizon = end;
      const timeline = page.locator('input[type=range][data-testid=timeline]');
      await timeline.focus();
      await page.keyboard.press('Home');
      assert.ok(await poll(async () => (await value(page, 'sim-time')) === 0, 3_000), 'Home did not go to 0');
      const t0 = Date.now();
      await page.keyboard.press('End');
      const back = await poll(async () => Math.abs((await value(page, 'sim-time')) - horizon) < 0.11 && (await badge(page)) === null, 5_000, 10);
      const took = Date.now() - t0;
      console.log(`End after Home, ${horizon.toFixed(0)} s run: ${took} ms`);
      assert.ok(back, `End did not come back to ${horizon} s: ${await value(page, 'sim-time')}`);
      assert.ok(took <= 2_000, `End took ${took} ms`);
      // Slow the page down so the replay lasts long enough to watch.
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 8 });

      const seen = await replayAfterAChange(page, 400);
      assert.ok(seen.length >= 3, `progress seen: ${JSON.stringify(seen)}`);
      assert.ok(seen.every((p, i) => i === 0 || p > seen[i - 1]) && seen.at(-1) < 100, `progress not rising: ${JSON.stringify(seen)}`);
      assert.ok(await page.locator('[data-testid=cancel-replay]').isVisible(), 'no Cancel button while replaying');
      await page.screenshot({ path: new URL('./screenshots/12-replaying.png', import.meta.url).pathname });
      await page.keyboard.press('Escape');
      assert.ok(await poll(async () => (await badge(page)) === null, 3_000), 'Escape did not stop the replay');
      assert.ok(!(await page.locator('[data-testid=cancel-replay]').isVisible()), 'Cancel still shown');
      const stopped = await value(page, 'sim-time');
      assert.ok(stopped > 0 && stopped < end, `stopped at ${stopped} s of ${end} s`);
      await page.waitForTimeout(500);
      assert.equal(await value(page, 'sim-time'), stopped, 'the run went on after the cancel');
      assert.equal(Number(await page.getAttribute('[data-testid=timeline-value]', 'data-max')), end, 'the cancel shortened the timeline');

      // Again, with the button.
      await playUntil(page, (v, end) => v('sim-time') >= end, end, 40_000);
      const seen2 = await replayAfterAChange(page, 500);
      assert.ok(seen2.length >= 3, `progress seen: ${JSON.stringify(seen2)}`);
      await page.click('[data-testid=cancel-replay]');
      assert.ok(await poll(async () => (await badge(page)) === null, 3_000), 'Cancel did not stop the replay');
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });

    });
  });
});
