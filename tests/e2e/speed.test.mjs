// Speed: where the page cannot keep up with the speed asked, the transport says what it
// reaches ("asked 1000×, running 310×"), and says nothing while it keeps up; and the speed
// never changes the run: the readouts at t = 120 s are the same after stepping at 100× and
// after playing at 1000×.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, withPage, value, readouts, poll, setInput } from './lib.mjs';

let chromium;

before(async () => {
  chromium = await launch();
});

after(async () => {
  await chromium?.close();
});

/** The speed readout's text, or null while it is hidden. */
const readout = async (page) => (await readoutAndValue(page))?.text ?? null;

/** The speed readout's text and data-value read together, or null while it is hidden. */
const readoutAndValue = (page) =>
  page.evaluate(() => {
    const b = document.querySelector('[data-testid=speed-reached]');
    return b && !b.closest('[hidden]') && !b.hidden ? { text: b.textContent.trim(), value: Number(b.getAttribute('data-value')) } : null;
  });

/** Simulated seconds per wall second over `ms` milliseconds of playing. */
async function measured(page, ms) {
  const t0 = await value(page, 'sim-time');
  const w0 = Date.now();
  await page.waitForTimeout(ms);
  return ((await value(page, 'sim-time')) - t0) / ((Date.now() - w0) / 1000);
}

/** Plays incident-106 at 10× (kept up with: no readout), then at 1000× on a CPU slowed 6
 * times (the readout tells the speed reached, close to the one measured here). Ends with the
 * readout on show, for the screenshot. */
async function behindAndBack(page) {
  await page.bringToFront();
  assert.equal(await readout(page), null, 'a readout before playing');
  await page.click('[data-testid=play]');
  // Kept up with (a first frame slowed by the start may make it say so for a moment).
  await page.waitForTimeout(2_000);
  assert.ok(await poll(async () => (await readout(page)) === null, 8_000), `at 10×, which the page keeps up with: ${await readout(page)}`);

  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 6 });
  await setInput(page.locator('input[type=range][data-testid=speed]'), await page.locator('input[type=range][data-testid=speed]').evaluate((el) => el.max));
  assert.ok(await poll(() => readout(page), 12_000), 'no readout at 1000× on a CPU slowed 6 times');
  // Measured here over the window the page measures over (its last 3 s), then read.
  const seen = await measured(page, 3_000);
  const { text, value: shown } = await readoutAndValue(page);
  const m = /^asked 1000×, running (\d+(?:\.\d)?)×$/.exec(text);
  assert.ok(m, `the readout reads ${JSON.stringify(text)}`);
  const said = Number(m[1]);
  assert.equal(said, shown, 'its data-value is the speed it says');
  console.log(`speed readout: "${text}"; measured ${seen.toFixed(0)}× over 3 s`);
  assert.ok(said < 900, `said ${said}× though well behind is under 900×`);
  assert.ok(said > seen / 1.5 && said < seen * 1.5, `said ${said}×, measured ${seen.toFixed(0)}×`);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
  // Still on show (within its 3 s window) for the screenshot.
  assert.ok(await readout(page), 'the readout went away at once');
  await cdp.detach();
}

describe('speed', () => {
  test('the readout says the speed reached when the page falls behind, at 1280 px', async () => {
    await withPage(chromium.browser, '14-speed-reached-1280', behindAndBack, { query: '?preset=incident-106&speed=10', fullPage: false });
  });

  test('the readout says the speed reached when the page falls behind, at 390 px', async () => {
    await withPage(chromium.browser, '14-speed-reached-390', behindAndBack, {
      query: '?preset=incident-106&speed=10',
      fullPage: false,
      viewport: { width: 390, height: 844 },
    });
  });

  test('the readouts at t = 120 s are the same after stepping at 100× and after playing at 1000×', async () => {
    let stepped;
    await withPage(chromium.browser, '14-stepped-to-120', async (page) => {
      // One step is what 0.1 s of playing would do: 10 s at 100×.
      for (let i = 1; i <= 12; i++) {
        await page.click('[data-testid=step]');
        assert.ok(await poll(async () => (await value(page, 'sim-time')) === 10 * i, 5_000), `stepped to ${await value(page, 'sim-time')} s`);
      }
      stepped = await readouts(page);
    }, { query: '?preset=incident-106&speed=100' });
    await withPage(chromium.browser, '14-played-to-120', async (page) => {
      await page.bringToFront();
      await page.click('[data-testid=play]');
      assert.ok(await poll(async () => (await value(page, 'sim-time')) >= 200, 20_000), `played to ${await value(page, 'sim-time')} s`);
      await page.click('[data-testid=play]');
      // Back to 120.0 s on the timeline (in tenths of a second).
      await setInput(page.locator('input[type=range][data-testid=timeline]'), 1200);
      assert.ok(await poll(async () => (await value(page, 'sim-time')) === 120 && (await readout(page)) === null, 10_000), `sought to ${await value(page, 'sim-time')} s`);
      await page.waitForTimeout(300);
      const played = await readouts(page);
      assert.deepEqual(played, stepped, 'the speed changed the run');
      assert.ok(played['oom-kills'] >= 2, `the run reached its kills: ${JSON.stringify(played)}`);
    }, { query: '?preset=incident-106&speed=1000' });
  });
});
