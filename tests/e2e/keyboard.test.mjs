// Keyboard use beyond the shortcuts: the help dialog keeps the focus while open, Space on a
// slider does not scroll the page, and a skip link is the first stop of Tab.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, withPage, playText, poll } from './lib.mjs';

let chromium;

before(async () => {
  chromium = await launch();
});

after(async () => {
  await chromium?.close();
});

const focused = (page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    return { testid: el?.dataset?.testid ?? null, inDialog: !!el?.closest('[data-testid=help-dialog]'), tag: el?.tagName };
  });

describe('keyboard', () => {
  test('the help dialog keeps the focus: Tab and Shift+Tab wrap, Escape gives it back', async () => {
    await withPage(chromium.browser, '08-focus-trap', async (page) => {
      await page.bringToFront();
      await page.focus('[data-testid=help]');
      await page.keyboard.press('Enter');
      await page.waitForSelector('[data-testid=help-dialog]', { state: 'visible' });
      assert.ok(await poll(async () => (await focused(page)).testid === 'help-close', 2_000), 'the Close button did not get the focus');
      for (let i = 0; i < 5; i++) {
        await page.keyboard.press('Tab');
        const f = await focused(page);
        assert.ok(f.inDialog, `Tab ${i + 1} left the dialog for ${JSON.stringify(f)}`);
      }
      for (let i = 0; i < 5; i++) {
        await page.keyboard.press('Shift+Tab');
        const f = await focused(page);
        assert.ok(f.inDialog, `Shift+Tab ${i + 1} left the dialog for ${JSON.stringify(f)}`);
      }
      // A click outside the dialog's controls (on its text) then Tab: back in.
      await page.click('#help-title');
      await page.keyboard.press('Tab');
      assert.ok((await focused(page)).inDialog, 'Tab after a click on the dialog text left the dialog');
      await page.keyboard.press('Escape');
      assert.ok(await poll(async () => !(await page.locator('[data-testid=help-dialog]').isVisible()), 2_000), 'Escape did not close the help');
      assert.equal((await focused(page)).testid, 'help', 'the focus did not go back to the button that opened the help');
    });
  });

  test('Space on a focused slider plays or pauses and does not scroll the page', async () => {
    await withPage(chromium.browser, '09-space-on-range', async (page) => {
      await page.bringToFront();
      const slider = page.locator('[data-testid=knob-max-poll-records] input[type=range]');
      await slider.focus();
      const before = await page.evaluate(() => window.scrollY);
      const value = await slider.inputValue();
      await page.keyboard.press('Space');
      await page.waitForTimeout(300);
      assert.equal(await page.evaluate(() => window.scrollY), before, 'Space on a slider scrolled the page');
      assert.equal(await playText(page), 'Pause', 'Space on a slider did not play');
      assert.equal(await slider.inputValue(), value, 'Space moved the slider');
      await page.keyboard.press('Space');
      assert.equal(await playText(page), 'Play', 'Space on a slider did not pause');
      assert.equal(await page.evaluate(() => window.scrollY), before, 'Space on a slider scrolled the page');
    });
  });

  test('a skip link to the simulator is the first stop of Tab', async () => {
    await withPage(chromium.browser, '10-skip-link', async (page) => {
      await page.bringToFront();
      await page.keyboard.press('Tab');
      const f = await focused(page);
      assert.equal(f.testid, 'skip-link', `the first Tab stop is ${JSON.stringify(f)}`);
      assert.ok(await page.locator('[data-testid=skip-link]').isVisible(), 'the focused skip link is not visible');
      await page.screenshot({ path: new URL('./screenshots/10-skip-link-focused.png', import.meta.url).pathname });
      await page.keyboard.press('Enter');
      // The next Tab goes into the simulator (the timeline is its first control), not the knobs.
      await page.keyboard.press('Tab');
      const next = await page.evaluate(() => document.activeElement?.dataset?.testid ?? document.activeElement?.id);
      assert.equal(next, 'timeline', 'Tab after the skip link did not go to the simulator\'s first control');
    });
  });
});
