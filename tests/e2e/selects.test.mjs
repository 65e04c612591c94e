// At 1280 px no select cuts its choice short: the scenario picker on every preset, every
// knob's select and the comparison's lane pickers show their whole text.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, withPage } from './lib.mjs';

let chromium;

before(async () => {
  chromium = await launch({ width: 1280, height: 900 });
});

after(async () => {
  await chromium?.close();
});

/** Visible selects whose chosen option's text is wider than the room the select gives it. */
const clipped = (page) =>
  page.evaluate(() => {
    const ctx = document.createElement('canvas').getContext('2d');
    const out = [];
    for (const sel of document.querySelectorAll('select')) {
      if (!sel.offsetParent || sel.selectedIndex < 0) continue;
      const cs = getComputedStyle(sel);
      ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
      const text = sel.options[sel.selectedIndex].text;
      // The arrow takes about 20 px beside the padding.
      const room = sel.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 20;
      const need = ctx.measureText(text).width;
      if (need > room) out.push(`${sel.dataset.testid || sel.id}: "${text}" needs ${need.toFixed(0)} px, has ${room.toFixed(0)}`);
    }
    return out;
  });

describe('selects at 1280 px', () => {
  test('no select cuts its choice short, on any preset or lane', async () => {
    await withPage(chromium.browser, '13-selects-1280', async (page) => {
      const presets = await page.$$eval('[data-testid=preset-select] option', (os) => os.map((o) => o.value));
      const problems = [];
      for (const id of presets) {
        await page.selectOption('[data-testid=preset-select]', id);
        await page.waitForTimeout(50);
        // Open every knob section so that each select is measured.
        await page.$$eval('details.section', (ds) => ds.forEach((d) => { d.open = true; }));
        problems.push(...(await clipped(page)).map((p) => `${id}: ${p}`));
      }
      await page.click('[data-testid=view-compare]');
      await page.click('[data-testid=compare-remedies]');
      await page.waitForFunction(() => document.querySelectorAll('.lane').length === 7);
      const lanes = await page.$$eval('.lane-pick select option', (os) => [...new Set(os.map((o) => o.value))]);
      const first = page.locator('.lane-pick select').first();
      for (const id of lanes) {
        await first.selectOption(id);
        await page.waitForTimeout(30);
        problems.push(...(await clipped(page)).filter((p) => !p.startsWith('preset-select')).map((p) => `lane ${id}: ${p}`));
      }
      assert.deepEqual([...new Set(problems)], []);
    });
  });
});
