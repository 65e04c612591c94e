// End-to-end tests of the built page (dist/), as a person uses it, in Debian's Chromium driven by
// playwright-core. scripts/test.sh builds dist/, serves it and sets BPLAB_URL; by hand:
//
//   BPLAB_URL=http://127.0.0.1:8080/ node --test tests/e2e/
//
// Every test saves a screenshot to tests/e2e/screenshots/<test>.png, pass or fail, and fails
// on any console error, uncaught page error or failed request (see lib.mjs). The presets are
// tested one by one in presets.test.mjs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, withPage, value, readouts, setInput, poll, playText, topSpeed, playUntil, axe, READOUTS, SCREENSHOTS } from './lib.mjs';

// The page's contract: the data-testid values below.
const KNOBS = [
  'knob-producer-rate',
  'knob-s0-capacity',
  'knob-s1-partitions',
  'knob-max-poll-records',
  'knob-workers',
  'knob-rate-per-worker',
  'knob-bytes-per-message',
  'knob-heap-limit',
];
const REQUIRED = [
  'select[data-testid=preset-select] optgroup',
  'button[data-testid=play]',
  'button[data-testid=reset]',
  'button[data-testid=step]',
  'input[type=range][data-testid=speed]',
  '[data-testid=speed-value]',
  'input[type=number][data-testid=seed]',
  'button[data-testid=new-seed]',
  'input[type=range][data-testid=timeline]',
  'button[data-testid=help]',
  ...KNOBS.flatMap((id) => [`[data-testid=${id}] input[type=range]`, `[data-testid=${id}] input[type=number]`]),
  '[data-testid=knob-mode] select',
  '[data-testid=knob-s0-on-full] select',
  ...READOUTS.map((name) => `[data-testid=readout-${name}][data-value]`),
  '[data-testid=sim-time][data-value]',
  'canvas[data-testid=diagram]',
  ...['counts', 'rates', 'memory', 'backlog', 'latency', 'producer', 'losses', 'partitions'].map((c) => `canvas[data-testid=chart-${c}]`),
  '[data-testid=window-60]',
  '[data-testid=preset-explanation]',
  '[data-testid=consumer-groups]',
  '[data-testid=queues]',
  '[data-testid=workers]',
  '[aria-live=polite][data-testid=announcer]',
];

let chromium;

before(async () => {
  chromium = await launch();
});

after(async () => {
  await chromium?.close();
});

/** Canvas pixels as a data URL, to tell whether a chart was redrawn with other data. */
async function canvasPixels(page, testid) {
  return page.locator(`canvas[data-testid=${testid}]`).evaluate((c) => c.toDataURL());
}

describe('Backpressure Lab page', () => {
  test('loads with every control, readout, chart and tool of the contract', async () => {
    await withPage(chromium.browser, '01-load', async (page) => {
      for (const sel of REQUIRED) {
        assert.ok((await page.locator(sel).count()) > 0, `missing ${sel}`);
      }
      assert.equal(await value(page, 'sim-time'), 0);
      assert.equal(await playText(page), 'Play');
      // Every knob is labelled: its range by a <label for>, its number box by aria-label.
      const unlabelled = await page.$$eval('input, select', (els) =>
        els.filter((el) => !el.labels?.length && !el.getAttribute('aria-label') && !el.closest('label')).map((el) => el.outerHTML.slice(0, 80)));
      assert.deepEqual(unlabelled, [], 'controls without a label');
    });
  });

  test('a knob change replays the run to the same time and the charts follow', async () => {
    await withPage(chromium.browser, '02-knob-change', async (page) => {
      for (let i = 0; i < 3; i++) await page.click('[data-testid=step]');
      const stepped = await poll(async () => (await value(page, 'sim-time')) >= 3, 5_000);
      assert.ok(stepped, `three steps did not reach 3 s: ${JSON.stringify(await readouts(page))}`);
      const before = await readouts(page);
      const range = page.locator('[data-testid=knob-producer-rate] input[type=range]');
      const number = page.locator('[data-testid=knob-producer-rate] input[type=number]');
      await page.waitForTimeout(700);
      const chartBefore = await canvasPixels(page, 'chart-counts');
      const numberBefore = await number.inputValue();
      await setInput(range, 400);
      const changed = await poll(async () => (await value(page, 'readout-produced')) !== before.produced, 5_000);
      const afterValues = await readouts(page);
      assert.ok(changed, `readout-produced stayed ${before.produced}\nbefore: ${JSON.stringify(before)}\nafter: ${JSON.stringify(afterValues)}`);
      assert.notEqual(await number.inputValue(), numberBefore, 'the number input did not follow the range');
      assert.ok(Math.abs(afterValues['sim-time'] - before['sim-time']) < 1e-6, 'the run was not replayed to the same time');
      const redrawn = await poll(async () => (await canvasPixels(page, 'chart-counts')) !== chartBefore, 3_000);
      assert.ok(redrawn, 'chart-counts still shows the run from before the change');
      // A typed value outside the engine's range is refused with a message; nothing changes.
      const mpr = page.locator('[data-testid=knob-max-poll-records] input[type=number]');
      const good = await mpr.inputValue();
      await mpr.fill('0');
      await mpr.press('Enter');
      await mpr.blur();
      const error = await poll(async () => (await page.textContent('[data-testid=knob-max-poll-records] [role=alert]')).trim(), 2_000);
      assert.match(error, /max\.poll\.records: 0 is out of range; enter a whole number from 1 to 1000000 records/);
      assert.equal(await value(page, 'readout-produced'), afterValues.produced, 'a refused value changed the run');
      assert.equal(await mpr.inputValue(), good, 'the refused text stayed in the box (the run kept the last good value)');
      // A value refused because of another field: said with the knobs' labels, the box restored.
      const baseline = page.locator('[data-testid=knob-baseline] input[type=number]');
      const goodBaseline = await baseline.inputValue();
      await baseline.fill('600');
      await baseline.press('Enter');
      const cross = await poll(async () => (await page.textContent('[data-testid=knob-baseline] [role=alert]')).trim(), 2_000);
      assert.match(cross, /^Baseline heap: must be below Heap limit \(512 MiB\)/);
      assert.equal(await baseline.inputValue(), goodBaseline);
      // The seed's message is whole, and the box shows the seed in use again.
      const seed = page.locator('input[type=number][data-testid=seed]');
      await seed.fill('-3');
      await seed.press('Enter');
      const seedError = await poll(async () => (await page.textContent('.transport [role=alert]')).trim(), 2_000);
      assert.equal(seedError, 'Seed: enter a whole number from 0 to 18446744073709551615');
      assert.equal(await seed.inputValue(), '1');
    });
  });

  test('after a knob change the event log tells the new run, not the old one', async () => {
    await withPage(chromium.browser, '02-log-after-change', async (page) => {
      // One step at 1000× is 100 simulated seconds: past the incident's first OOM kill (48.3 s).
      await page.click('[data-testid=step]');
      const told = await poll(async () => /OOM/.test((await page.textContent('[data-testid=event-log]')) || ''), 10_000);
      assert.ok(told, 'the OOM kill was not told');
      const before = await value(page, 'readout-produced');
      const rate = page.locator('[data-testid=knob-producer-rate] input[type=number]');
      await rate.fill('400');
      await rate.press('Enter');
      assert.ok(await poll(async () => (await value(page, 'readout-produced')) !== before, 5_000), 'the change did not replay the run');
      // 400 msg/s is below what the consumer processes: no OOM kill in the new run.
      assert.equal(await value(page, 'readout-oom-kills'), 0);
      const log = (await page.textContent('[data-testid=event-log]')) || '';
      assert.doesNotMatch(log, /OOM/, `the log still tells the previous run: ${log}`);
    }, { query: '?preset=incident-106&speed=1000' });
  });

  test('keyboard only: space, s, r, ?, Escape and the timeline', async () => {
    await withPage(chromium.browser, '03-keyboard', async (page) => {
      await page.bringToFront();
      await page.evaluate(() => document.activeElement?.blur());
      await page.keyboard.press('Space');
      assert.equal(await playText(page), 'Pause', 'space did not start playing');
      const t1 = await poll(async () => ((await value(page, 'sim-time')) > 1 ? await value(page, 'sim-time') : 0), 5_000);
      assert.ok(t1 > 1, 'sim-time did not advance after space');
      assert.equal(await page.evaluate(() => window.scrollY), 0, 'space scrolled the page');
      await page.keyboard.press('Space');
      assert.equal(await playText(page), 'Play', 'space did not pause');
      const paused = await value(page, 'sim-time');
      await page.waitForTimeout(300);
      assert.equal(await value(page, 'sim-time'), paused, 'sim-time moved while paused');

      // ? opens the help, Escape closes it and gives the focus back.
      await page.keyboard.press('?');
      await page.waitForSelector('[data-testid=help-dialog]');
      assert.equal(await page.evaluate(() => document.activeElement?.dataset?.testid), 'help-close');
      await page.keyboard.press('Escape');
      assert.ok(await poll(async () => !(await page.locator('[data-testid=help-dialog]').isVisible()), 2_000), 'Escape did not close the help');

      // Tab to the timeline; Home goes back to 0 and the run replays from there.
      let onTimeline = false;
      for (let i = 0; i < 300 && !onTimeline; i++) {
        await page.keyboard.press('Tab');
        onTimeline = await page.evaluate(() => document.activeElement?.dataset?.testid === 'timeline');
      }
      assert.ok(onTimeline, 'Tab never reached the timeline');
      await page.keyboard.press('Home');
      assert.ok(await poll(async () => (await value(page, 'sim-time')) === 0, 3_000), 'Home on the timeline did not go back to 0');
      await page.keyboard.press('End');
      assert.ok(await poll(async () => Math.abs((await value(page, 'sim-time')) - paused) < 0.11, 5_000),
        `End did not replay to ${paused} s: ${await value(page, 'sim-time')}`);

      await page.evaluate(() => document.activeElement?.blur());
      await page.keyboard.press('r');
      assert.ok(await poll(async () => (await value(page, 'sim-time')) === 0, 2_000), 'r did not reset');
      assert.equal(await value(page, 'readout-produced'), 0);
      await page.keyboard.press('s');
      assert.ok(await poll(async () => (await value(page, 'sim-time')) > 0, 2_000), 's did not step');
      assert.equal(await playText(page), 'Play', 's started playing');

      // Space on the focused Play button toggles exactly once.
      let onPlay = false;
      await page.evaluate(() => document.activeElement?.blur());
      for (let i = 0; i < 40 && !onPlay; i++) {
        await page.keyboard.press('Tab');
        onPlay = await page.evaluate(() => document.activeElement?.dataset?.testid === 'play');
      }
      assert.ok(onPlay, 'Tab never reached the Play button');
      await page.keyboard.press('Space');
      assert.equal(await playText(page), 'Pause');
      await page.keyboard.press('Space');
      assert.equal(await playText(page), 'Play');

      // A knob by keyboard: focus the max.poll.records slider and press the arrow keys.
      const slider = page.locator('[data-testid=knob-max-poll-records] input[type=range]');
      await slider.focus();
      const before = await page.inputValue('[data-testid=knob-max-poll-records] input[type=number]');
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('ArrowLeft');
      assert.ok(await poll(async () => (await page.inputValue('[data-testid=knob-max-poll-records] input[type=number]')) !== before, 2_000),
        'the arrow keys did not move the knob');
    });
  });

  test('compare: the incident against each remedy, on the same traffic', async () => {
    await withPage(chromium.browser, '04-compare-remedies', async (page) => {
      await page.click('[data-testid=view-compare]');
      await page.click('[data-testid=compare-remedies]');
      await page.waitForFunction(() => document.querySelectorAll('.lane').length === 7);
      await topSpeed(page);
      const reached = await playUntil(page, (v) => v('sim-time') >= 60, null, 45_000);
      assert.ok(reached, `the lanes did not reach 60 s: t = ${await value(page, 'sim-time')}`);
      await page.waitForTimeout(600);
      const row = async (k, what) => value(page, `cmp-${k}-${what}`);
      assert.ok((await row(1, 'oom')) >= 1 && (await row(1, 'lost')) > 0, 'the incident lane is OOM-killed and loses records');
      for (let k = 2; k <= 7; k++) assert.equal(await row(k, 'oom'), 0, `remedy lane ${k} OOM-killed`);
      assert.ok((await row(3, 'blocked')) > 0, 'the blocking channel blocks the producer');
      assert.ok((await row(7, 'dropped')) > 0, 'shedding drops');
      const caption = await page.textContent('[data-testid=compare-table] caption');
      assert.match(caption, /After 6\d\.\d s of simulated time/);
      // The table says what the p99 is over, puts lost beside it, and where the backlog is held.
      const headers = await page.$$eval('[data-testid=compare-table] thead th', (ths) => ths.map((th) => th.textContent.trim()));
      const p99 = headers.indexOf('p99 latency of processed');
      assert.ok(p99 > 0 && headers[p99 + 1] === 'lost', `p99 of processed, lost beside it: ${headers}`);
      for (const h of ['held now: producer', 'held now: channels', 'held now: topic', 'held now: consumer', 'peak backlog']) {
        assert.ok(headers.includes(h), `column ${h}: ${headers}`);
      }
      assert.ok((await row(1, 'held-topic')) + (await row(1, 'held-consumer')) > 0, 'the incident holds a backlog in the topic or its consumers');
      assert.equal(await page.textContent('[data-testid=cmp-1-flow]'), 'pull');
      await page.screenshot({ path: join(SCREENSHOTS, '04-compare-remedies-60s.png'), fullPage: true });
      await page.click('[data-testid=compare-push-pull]');
      await page.waitForFunction(() => document.querySelectorAll('.lane').length === 3);
      // Push vs pull: the unbounded buffer and sync polling differ in where the backlog is held.
      assert.ok(await playUntil(page, (v) => v('sim-time') >= 30, null, 45_000), 'push vs pull did not reach 30 s');
      await page.waitForTimeout(600);
      const held = async (k) => ({ channels: await row(k, 'held-channels'), topic: await row(k, 'held-topic') });
      const [bloat, sync] = [await held(1), await held(3)];
      assert.ok(bloat.channels > 1_000 && bloat.topic === 0, `the unbounded buffer holds its backlog in the channel: ${JSON.stringify(bloat)}`);
      assert.ok(sync.topic > 1_000 && sync.channels === 0, `sync polling holds its backlog in the topic: ${JSON.stringify(sync)}`);
      assert.match(await page.textContent('[data-testid=cmp-1-peak-backlog]'), / in channels$/);
      assert.match(await page.textContent('[data-testid=cmp-3-peak-backlog]'), / in topic$/);
      const badges = await page.$$eval('.lane .badge.flow', (bs) => bs.map((b) => b.textContent.trim()));
      assert.deepEqual(badges, ['push', 'push', 'pull'], 'lanes labelled push or pull');
      await page.screenshot({ path: join(SCREENSHOTS, '04-compare-push-pull-30s.png'), fullPage: true });
    });
  });

  test('a chart downloads as an 800×400 PNG', async () => {
    await withPage(chromium.browser, '05-png', async (page) => {
      await page.click('[data-testid=step]');
      await page.waitForTimeout(300);
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=png-memory]')]);
      assert.match(download.suggestedFilename(), /^bplab-incident-106-memory\.png$/);
      const png = readFileSync(await download.path());
      assert.equal(png.readUInt32BE(16), 800, 'PNG width');
      assert.equal(png.readUInt32BE(20), 400, 'PNG height');
    }, { fullPage: false });
  });

  for (const scheme of ['light', 'dark']) {
    test(`accessibility (axe-core, ${scheme}): no serious or critical violations`, async () => {
      await withPage(chromium.browser, `06-axe-${scheme}`, async (page) => {
        // Play past the first OOM kill, so badges, alarms and the event log are on show.
        await topSpeed(page);
        assert.ok(await playUntil(page, (v) => v('readout-oom-kills') > 0, null));
        await page.waitForTimeout(1_600);
        const sim = await axe(page);
        assert.deepEqual(sim, [], `simulator:\n${JSON.stringify(sim, null, 2)}`);
        await page.keyboard.press('?');
        const help = await axe(page);
        assert.deepEqual(help, [], `help dialog:\n${JSON.stringify(help, null, 2)}`);
        await page.keyboard.press('Escape');
        await page.click('[data-testid=embed-open]');
        await page.click('[data-testid=copy-link]');
        const share = await axe(page);
        assert.deepEqual(share, [], `share dialog:\n${JSON.stringify(share, null, 2)}`);
        await page.keyboard.press('Escape');
        await page.click('[data-testid=view-compare]');
        await page.waitForSelector('[data-testid=compare-table]');
        await page.waitForTimeout(500);
        const cmp = await axe(page);
        assert.deepEqual(cmp, [], `compare:\n${JSON.stringify(cmp, null, 2)}`);
      }, { colorScheme: scheme });
    });
  }

  for (const [width, scheme] of [[360, 'light'], [360, 'dark'], [800, 'light']]) {
    test(`usable at ${width} px (${scheme}): nothing wider than the screen`, async () => {
      await withPage(chromium.browser, `07-width-${width}-${scheme}`, async (page) => {
        await page.click('[data-testid=step]');
        await page.waitForTimeout(800);
        const wide = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(wide <= width, `the page is ${wide} px wide at ${width} px`);
        await page.click('[data-testid=view-compare]');
        await page.waitForSelector('[data-testid=compare-table]');
        await page.waitForTimeout(300);
        const wideCmp = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(wideCmp <= width, `the compare view is ${wideCmp} px wide at ${width} px`);
        await page.click('[data-testid=view-simulator]');
        await page.waitForTimeout(500);
      }, { viewport: { width, height: 800 }, colorScheme: scheme });
    });
  }
});
