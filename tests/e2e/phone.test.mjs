// The phone's first screen: at 360 and 390 px the story, Play and the diagram come first
// (the diagram's top inside the first viewport), the knobs after them; tables wider than
// the screen say that they scroll sideways.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launch, withPage, SCREENSHOTS } from './lib.mjs';

let chromium;

before(async () => {
  chromium = await launch();
});

after(async () => {
  await chromium?.close();
});

const top = (page, sel) => page.locator(sel).first().evaluate((el) => el.getBoundingClientRect().top + window.scrollY);

/** Whether the wide table region `sel` overflows, and whether its sideways hint shows. */
const hint = (page, sel) =>
  page.locator(sel).evaluate((t) => {
    const region = t.closest('.scroll');
    const before = getComputedStyle(region, '::before');
    return {
      overflows: region.scrollWidth > region.clientWidth + 1,
      hint: before.content !== 'none' && before.display !== 'none' && /sideways/.test(before.content),
    };
  });

describe('phone first screen', () => {
  for (const [width, height] of [[360, 740], [390, 844]]) {
    test(`at ${width}×${height} the story, Play and the diagram come first, the knobs after`, async () => {
      await withPage(chromium.browser, `11-phone-${width}`, async (page) => {
        await page.waitForTimeout(500);
        await page.screenshot({ path: join(SCREENSHOTS, `11-phone-${width}-first-screen.png`) });
        const diagram = await top(page, 'canvas[data-testid=diagram]');
        assert.ok(diagram < height - 120, `the diagram starts at ${diagram} px, below the first ${height} px`);
        const play = await top(page, '[data-testid=play]');
        const story = await top(page, '[data-testid=preset-title]');
        const knobs = await top(page, '.controls');
        assert.ok(story < diagram && play < diagram, `story at ${story}, Play at ${play}, diagram at ${diagram}`);
        assert.ok(knobs > diagram, `the knobs (at ${knobs} px) come before the diagram (at ${diagram} px)`);
        assert.ok((await top(page, '[data-testid=timeline]')) < knobs, 'the timeline comes after the knobs');
        // The whole lesson is a press away.
        await page.click('[data-testid=explanation-more]');
        const full = await page.locator('[data-testid=preset-explanation]').evaluate((p) => p.scrollHeight <= p.clientHeight + 1);
        assert.ok(full, 'More did not show the whole lesson');
        assert.equal(await page.getAttribute('[data-testid=explanation-more]', 'aria-expanded'), 'true');
        await page.click('[data-testid=explanation-more]');
        // Play changes the diagram on screen, not only t =.
        const before = await page.locator('canvas[data-testid=diagram]').evaluate((c) => c.toDataURL());
        await page.click('[data-testid=play]');
        await page.waitForTimeout(1_200);
        await page.click('[data-testid=play]');
        assert.notEqual(await page.locator('canvas[data-testid=diagram]').evaluate((c) => c.toDataURL()), before, 'the diagram did not change');
        await page.screenshot({ path: join(SCREENSHOTS, `11-phone-${width}-played.png`) });
        // Every table (consumer groups, queues, workers): readable, or saying that it scrolls sideways.
        for (const id of ['consumer-groups', 'queues', 'workers']) {
          const t = await hint(page, `[data-testid=${id}]`);
          assert.ok(!t.overflows || t.hint, `${id} scrolls sideways with no hint: ${JSON.stringify(t)}`);
        }
        assert.ok((await hint(page, '[data-testid=consumer-groups]')).overflows, 'expected kafka-consumer-groups to be wider than a phone');
        await page.locator('[data-testid=consumer-groups]').scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(SCREENSHOTS, `11-phone-${width}-groups.png`) });
        await page.click('[data-testid=view-compare]');
        await page.waitForSelector('[data-testid=compare-table]');
        await page.waitForTimeout(300);
        const cmp = await hint(page, '[data-testid=compare-table]');
        assert.ok(!cmp.overflows || cmp.hint, `the comparison table scrolls sideways with no hint: ${JSON.stringify(cmp)}`);
        await page.locator('[data-testid=compare-table]').scrollIntoViewIfNeeded();
        await page.screenshot({ path: join(SCREENSHOTS, `11-phone-${width}-compare-table.png`) });
        // Swiped to its last column, the table still says which strategy each row is.
        const strategy = await page.locator('[data-testid=compare-table]').evaluate((t) => {
          const region = t.closest('.scroll');
          region.scrollLeft = region.scrollWidth;
          return { scrolled: region.scrollLeft, left: t.querySelector('tbody th').getBoundingClientRect().left - region.getBoundingClientRect().left };
        });
        assert.ok(strategy.scrolled > 0 && Math.abs(strategy.left) < 2, `the strategy column scrolled away: ${JSON.stringify(strategy)}`);
        await page.waitForTimeout(100);
        await page.screenshot({ path: join(SCREENSHOTS, `11-phone-${width}-compare-table-swiped.png`) });
        const wide = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(wide <= width, `the page is ${wide} px wide`);
      }, { viewport: { width, height } });
    });
  }
});
