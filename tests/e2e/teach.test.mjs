// Lessons and challenges in the page (docs/lessons.md, docs/challenges.md): a learner goes
// through the Incident 106 lesson (predicts, runs, sees the prediction scored and the
// explanation), a challenge fails from its start naming when each goal broke and passes
// with its solution with the digest `bplab check` gives, locked knobs cannot be changed,
// presenter mode steps with the keyboard, a malformed lesson names its field, and axe finds
// nothing serious on the panel. Needs the built site (the lessons' JSON is made by
// scripts/build-site.sh).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, withPage, value, poll, axe, URL } from './lib.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BPLAB = process.env.BPLAB || join(process.env.CARGO_TARGET_DIR || join(ROOT, 'target'), 'debug', 'bplab');

let chromium;
let isSite = false;

before(async () => {
  chromium = await launch();
  isSite = (await fetch(new globalThis.URL('content/lessons/incident-106.json', URL))).ok;
});

after(async () => {
  await chromium?.close();
});

/** The run digest `bplab check` prints for a challenge and a link. */
function cliDigest(challenge, link) {
  let out;
  try {
    out = execFileSync(BPLAB, ['check', challenge, '--link', link], { encoding: 'utf8' });
  } catch (e) {
    out = e.stdout; // exit 1: the solution fails; the digest is printed all the same
  }
  return /digest: ([0-9a-f]{16})/.exec(out)[1];
}

/** Each shipped challenge's id and its kept solution (`SOLVED` in tests/it/teach.rs). */
function solutions() {
  const rs = readFileSync(join(ROOT, 'tests', 'it', 'teach.rs'), 'utf8');
  const body = rs.slice(rs.indexOf('const SOLVED'), rs.indexOf('];', rs.indexOf('const SOLVED')));
  return [...body.matchAll(/\(\s*"([a-z-]+)",\s*&\[[^\]]*\],\s*(?:"([^"]+)"|r#"(.+?)"#)\s*,?\s*\)/g)].map((m) => [m[1], m[2] ?? m[3]]);
}

/** A link's query with each value percent-encoded (JSON values hold quotes and braces). */
function query(link) {
  return link.split('&').map((kv) => {
    const at = kv.indexOf('=');
    return `${kv.slice(0, at)}=${encodeURIComponent(kv.slice(at + 1))}`;
  }).join('&');
}

describe('lessons and challenges', () => {
  test('a learner predicts, runs and is told how close: the Incident 106 lesson', async (t) => {
    if (!isSite) return t.skip('no content/lessons/*.json: scripts/build-site.sh makes them');
    await withPage(chromium.browser, '50-lesson-incident', async (page) => {
      await page.locator('[data-testid=course-title]').waitFor();
      assert.match(await page.textContent('[data-testid=course-title]'), /Incident 106/);
      assert.match(await page.textContent('[data-testid=step-title]'), /Reproduce/);
      assert.match(await page.textContent('[data-testid=course-progress]'), /Step 1 of \d+/);
      // Predict first: Play is held back until a prediction is committed.
      await page.click('[data-testid=play]');
      await page.locator('[data-testid=nudge]').waitFor();
      assert.equal(await value(page, 'sim-time'), 0);
      assert.ok(!(await page.locator('[data-testid=step-explanation]').count()), 'no explanation before predicting');
      // A guess with a wrong unit is refused with the units that fit.
      await page.fill('[data-testid=prediction-number]', '30 MiB');
      await page.click('[data-testid=prediction-commit]');
      assert.match(await page.textContent('[data-testid=nudge]'), /unit "MiB" does not fit/);
      await page.fill('[data-testid=prediction-number]', '30 s');
      await page.click('[data-testid=prediction-commit]');
      // The run plays to the step's length (60 s), pauses and scores the guess.
      const result = page.locator('[data-testid=prediction-result]');
      await result.waitFor({ timeout: 60_000 });
      assert.match(await result.textContent(), /you said 30 s; the run gave 48\.3 s \(18\.3 s more than you said\)/);
      assert.match(await page.textContent('[data-testid=step-explanation]'), /448 MiB/);
      // The prediction is marked on the readout it is about.
      assert.equal(await page.getAttribute('.readout:has([data-testid=readout-first-oom])', 'data-said'), 'you said 30 s');
      assert.ok((await value(page, 'sim-time')) >= 60 - 1e-6);
      assert.ok(await page.locator('[data-testid=prediction-number]').isDisabled(), 'the prediction is locked in');
      // Progress is kept in this browser only.
      const saved = await page.evaluate(() => localStorage.getItem('bplab:incident-106'));
      assert.match(saved, /^0;1/);
      // The next step loads its own link (opened at t = 40 s, paused).
      await page.click('[data-testid=lesson-next]');
      await poll(async () => /Diagnose/.test(await page.textContent('[data-testid=step-title]')), 5_000);
      assert.ok(await poll(async () => Math.abs((await value(page, 'sim-time')) - 40) < 1, 20_000), 'step 2 opens at 40 s');
      // A choice: the wrong answer is explained after the run.
      await page.check('[data-testid=prediction-choice-1]');
      await page.click('[data-testid=prediction-commit]');
      await page.locator('[data-testid=prediction-result]').waitFor({ timeout: 30_000 });
      assert.match(await page.textContent('[data-testid=step-explanation]'), /auto-commit/);
      const violations = await axe(page);
      assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
    }, { query: '?lesson=incident-106&speed=1000' });
  });

  test('the Incident 106 lesson ends in a challenge, one click away', async (t) => {
    if (!isSite) return t.skip('no content/lessons/*.json');
    await withPage(chromium.browser, '57-lesson-to-challenge', async (page) => {
      await page.locator('[data-testid=course-title]').waitFor();
      assert.match(await page.textContent('[data-testid=step-title]'), /end-to-end design/);
      await page.fill('[data-testid=prediction-number]', '30k');
      await page.click('[data-testid=prediction-commit]');
      const next = page.locator('[data-testid=step-challenge]');
      await next.waitFor({ timeout: 60_000 });
      await next.click();
      await page.locator('[data-testid=course-title]').waitFor();
      assert.match(await page.textContent('[data-testid=course-title]'), /lag/i);
      assert.match(page.url(), /challenge=throttle-from-lag/);
    }, { query: '?lesson=incident-106&step=10&speed=1000' });
  });

  test('a challenge fails from its start saying when each goal broke, and passes with its solution, with the CLI digest', async (t) => {
    if (!isSite) return t.skip('no content/challenges/*.json: scripts/build-site.sh makes them');
    let share;
    await withPage(chromium.browser, '51-challenge-start', async (page) => {
      await page.locator('[data-testid=course-title]').waitFor();
      assert.match(await page.textContent('[data-testid=course-title]'), /Buffers/);
      // Locked knobs cannot be changed; the free ones can.
      const workers = page.locator('.field:has([data-testid=knob-workers])');
      assert.equal(await workers.getAttribute('inert'), '', 'consumer.workers is locked');
      assert.match(await workers.getAttribute('title'), /frees only stages\.0\.capacity/);
      assert.equal(await page.locator('.field:has([data-testid=knob-s0-capacity])').getAttribute('inert'), null);
      await page.click('[data-testid=play]');
      const verdict = page.locator('[data-testid=verdict]');
      await verdict.waitFor({ timeout: 60_000 });
      assert.match(await verdict.textContent(), /FAIL/);
      assert.match(await page.textContent('[data-testid=goal-1]'), /first broke at 48\.3 s/);
      const digest = await page.textContent('[data-testid=digest]');
      assert.equal(digest, cliDigest('buffers', 'v=1&preset=buffer-bloat'));
      await page.click('[data-testid=hint-more]');
      assert.equal(await page.locator('[data-testid=hints] li').count(), 1);
      // The challenge panel, its verdict and the locked knobs pass axe too.
      const violations = await axe(page);
      assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
    }, { query: '?challenge=buffers&speed=1000' });
    await withPage(chromium.browser, '52-challenge-solved', async (page) => {
      await page.locator('[data-testid=course-title]').waitFor();
      await page.click('[data-testid=play]');
      const verdict = page.locator('[data-testid=verdict]');
      await verdict.waitFor({ timeout: 60_000 });
      assert.match(await verdict.textContent(), /PASS/);
      share = await page.getAttribute('[data-testid=share-solution]', 'href');
      assert.match(share, /stages\.0\.capacity=100/);
      assert.equal(await page.textContent('[data-testid=digest]'), cliDigest('buffers', share));
    }, { query: '?challenge=buffers&preset=buffer-bloat&stages.0.capacity=100&speed=1000' });
  });

  test('every shipped challenge fails from its start and passes with its solution, with the digest bplab check gives', async (t) => {
    if (!isSite) return t.skip('no content/challenges/*.json');
    const solved = solutions();
    assert.equal(solved.length, 8, `solutions found: ${solved.map((s) => s[0])}`);
    for (const [id, solution] of solved) {
      const start = JSON.parse(execFileSync(BPLAB, ['challenges', id], { encoding: 'utf8' })).link;
      for (const [link, pass] of [[start, false], [solution, true]]) {
        await withPage(chromium.browser, `55-challenge-${id}-${pass ? 'solved' : 'start'}`, async (page) => {
          await page.locator('[data-testid=course-title]').waitFor();
          await page.click('[data-testid=play]');
          const verdict = page.locator('[data-testid=verdict]');
          await verdict.waitFor({ timeout: 90_000 });
          assert.match(await verdict.textContent(), pass ? /PASS/ : /FAIL/, `${id}: ${link}`);
          if (!pass) assert.match(await page.textContent('[data-testid=goals]'), /broke at/, `${id}: a failed goal says when it broke`);
          assert.equal(await page.textContent('[data-testid=digest]'), cliDigest(id, link), `${id}: the page's digest is the CLI's for ${link}`);
        }, { query: `?challenge=${id}&${query(link)}&speed=1000`, fullPage: false });
      }
    }
  });

  test('a task is graded again after each change to a free knob; its explanation waits for a pass or a second try', async (t) => {
    if (!isSite) return t.skip('no content/lessons/*.json');
    await withPage(chromium.browser, '56-lesson-task', async (page) => {
      await page.locator('[data-testid=course-title]').waitFor();
      await page.click('[data-testid=play]');
      const verdict = page.locator('[data-testid=verdict]');
      await verdict.waitFor({ timeout: 60_000 });
      assert.match(await verdict.textContent(), /FAIL/);
      assert.equal(await page.locator('[data-testid=step-explanation]').count(), 0, 'no answer after one failed try');
      // The free knob: a full channel blocks the producer instead of dropping.
      await page.selectOption('[data-testid=knob-s0-on-full] select', 'block');
      assert.ok(await poll(async () => /PASS/.test((await verdict.count()) ? await verdict.textContent() : ''), 60_000), 'the changed run is graded again and passes');
      await page.locator('[data-testid=step-explanation]').waitFor();
    }, { query: '?lesson=buffers&step=5&speed=1000' });
  });

  test('presenter mode: large print, knobs away, arrows and Page Down step, n shows the notes', async (t) => {
    if (!isSite) return t.skip('no content/lessons/*.json');
    await withPage(chromium.browser, '53-presenter', async (page) => {
      await page.locator('[data-testid=course-title]').waitFor();
      assert.ok(!(await page.locator('.layout > .controls').isVisible()), 'the knobs are tucked away');
      const first = await page.textContent('[data-testid=step-title]');
      await page.keyboard.press('PageDown');
      await poll(async () => (await page.textContent('[data-testid=step-title]')) !== first, 5_000);
      assert.match(await page.textContent('[data-testid=course-progress]'), /Step 2 of/);
      await page.keyboard.press('ArrowLeft');
      await poll(async () => (await page.textContent('[data-testid=step-title]')) === first, 5_000);
      assert.equal(await page.locator('[data-testid=notes]').count(), 0, 'notes hidden until n');
      await page.keyboard.press('n');
      await page.locator('[data-testid=notes]').waitFor();
      const violations = await axe(page);
      assert.deepEqual(violations, [], JSON.stringify(violations, null, 1));
    }, { query: '?lesson=incident-106&step=1&present=1', viewport: { width: 1600, height: 900 } });
  });

  test('a malformed lesson names its field and leaves the page working', async (t) => {
    if (!isSite) return t.skip('no content/ files');
    await withPage(chromium.browser, '54-lesson-malformed', async (page) => {
      const problem = page.locator('[data-testid=course-problem]');
      await problem.waitFor();
      assert.match(await problem.textContent(), /content\/presets\.json: title: missing/);
      await page.click('[data-testid=play]');
      assert.ok(await poll(async () => (await value(page, 'sim-time')) > 1, 10_000), 'the simulator still runs');
    }, { query: '?lesson=content/presets.json&speed=100' });
  });
});
