// Links and exports: an experiment reopens from its link with the same readouts; a bad link
// names each problem and applies the rest; the CSV and JSON downloads equal the CLI's output
// for the same link; an experiment file goes page → CLI → page.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, withPage, value, setInput, poll, readouts, topSpeed, playUntil } from './lib.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// Some need the page built with `--features share` (links with structural changes: not
// shipped until they fit the download budget): BPLAB_SHARE=1 with such a build runs them.
const SKIP = process.env.BPLAB_SHARE === '1' ? false : 'the page is built without the share feature (set BPLAB_SHARE=1 with a share build)';
// The shipped page applies a link's knob and structural changes; the share build every change.
const SHIPPED_SKIP = process.env.BPLAB_SHARE === '1' ? 'a share build applies every change' : false;
let chromium;
let dir;

before(async () => {
  chromium = await launch();
  dir = mkdtempSync(join(tmpdir(), 'bplab-links-'));
});

after(async () => {
  await chromium?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** `bplab ARGS…` (built by cargo if needed): its stdout; fails the test on a non-zero exit. */
function bplab(args) {
  const r = spawnSync('cargo', ['run', '-q', '-p', 'bplab-cli', '--', ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `bplab ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Waits until the run stands still at `t` (any replay over). */
async function settledAt(page, t) {
  return poll(async () => {
    const v = await value(page, 'sim-time');
    const replaying = await page.evaluate(() => {
      const b = document.querySelector('[data-testid=replaying]');
      return !!b && !b.hidden && !b.closest('[hidden]');
    });
    return !replaying && Math.abs(v - t) < 1e-6;
  }, 20_000, 50);
}

/** Clicks `testid` and returns the downloaded file's text. */
async function download(page, testid) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid=${testid}]`)]);
  const file = join(dir, dl.suggestedFilename());
  await dl.saveAs(file);
  return { name: dl.suggestedFilename(), text: readFileSync(file, 'utf8'), file };
}

describe('links', () => {
  test('a changed experiment reopens from its Copy link at the same moment with the same readouts', async () => {
    let link;
    let before;
    await withPage(chromium.browser, '20-link-made', async (page) => {
      await setInput(page.locator('[data-testid=knob-producer-rate] input[type=range]'), 700);
      await page.selectOption('[data-testid=knob-mode] select', 'sync');
      await setInput(page.locator('[data-testid=knob-workers] input[type=range]'), 300);
      await topSpeed(page);
      assert.ok(await playUntil(page, (v) => v('sim-time') >= 90, null, 30_000), 'the run did not reach 90 s');
      // playUntil has paused the run where it stopped.
      const t = await value(page, 'sim-time');
      await page.click('[data-testid=embed-open]');
      await page.click('[data-testid=copy-link]');
      // Copied, or (a clipboard the browser refuses) shown selected to copy by hand.
      assert.match(await page.textContent('[data-testid=copy-status]'), /^(Link copied|Select the link and copy it)$/);
      link = await page.inputValue('[data-testid=link-text]');
      const address = await page.evaluate(() => location.href);
      assert.equal(link, address, 'the copied link is the address bar');
      assert.match(link, /[?&]v=1&preset=incident-106&/);
      assert.match(link, new RegExp(`[?&]t=${String(t).replace('.', '\\.')}(&|$)`));
      assert.ok(link.length < 400, `${link.length} characters: ${link}`);
      before = await readouts(page);
      console.log(`link: ${link}`);
    });
    await withPage(chromium.browser, '21-link-opened', async (page) => {
      const t = Number(new URL(link).searchParams.get('t'));
      assert.ok(await settledAt(page, t), `the page did not settle at t = ${t}: ${await value(page, 'sim-time')}`);
      assert.deepEqual(await readouts(page), before);
      assert.equal(await page.locator('[data-testid=link-problems]').count(), 0);
    }, { query: link.slice(link.indexOf('?')) });
  });
});

describe('links with every change (share build)', { skip: SKIP }, () => {
  test('a bad link names each problem, applies the rest and can be dismissed', async () => {
    const query = '?preset=credits&consumer.workers=0&bogus=1&speed=5000&t=abc&seed=12&seed=13';
    await withPage(chromium.browser, '22-link-problems', async (page) => {
      const box = page.locator('[data-testid=link-problems]');
      await box.waitFor();
      const items = await box.locator('li').allInnerTexts();
      const keys = items.map((t) => t.split(':')[0]);
      assert.deepEqual(keys.sort(), ['bogus', 'consumer.workers', 'seed', 'speed', 't'], items.join('\n'));
      assert.ok(items.some((t) => /^consumer\.workers: must be a whole number from 1 to 10000 .*kept 1/.test(t)), items.join('\n'));
      assert.equal(await page.textContent('[data-testid=preset-title]').then((t) => t.startsWith('Credit-based')), true);
      assert.equal(await page.textContent('[data-testid=speed-value]'), '1000×');
      assert.equal(await page.inputValue('[data-testid=seed]'), '13');
      await page.click('[data-testid=link-problems-dismiss]');
      assert.equal(await box.count(), 0);
      // The address bar holds what was applied, without the bad keys.
      const address = await page.evaluate(() => location.search);
      assert.equal(address, '?v=1&preset=credits&seed=13&speed=1000');
    }, { query });
  });
});

describe('exports', () => {
  test('the CSV and JSON downloads are the CLI output for the same link', async () => {
    const query = '?v=1&preset=fix-sync-poll&seed=3&consumer.workers=2&t=25';
    await withPage(chromium.browser, '23-exports', async (page) => {
      assert.ok(await settledAt(page, 25), 'the page did not open at t = 25');
      await page.click('[data-testid=embed-open]');
      const csv = await download(page, 'export-csv');
      const json = await download(page, 'export-json');
      assert.equal(csv.name, 'bplab-fix-sync-poll-25s.csv');
      const link = `https://example.org/lab/${query}`;
      assert.equal(csv.text, bplab(['run', '--link', link, '--duration', '25', '--format', 'csv']));
      assert.equal(json.text, bplab(['run', '--link', link, '--duration', '25', '--format', 'json']));
      const shown = await page.textContent('[data-testid=export-command]');
      assert.match(shown, /^bplab run --link '\?v=1&preset=fix-sync-poll&consumer\.workers=2&seed=3' --duration 25 --format csv$/);
      const png = await download(page, 'export-diagram');
      assert.equal(png.name, 'bplab-fix-sync-poll-diagram.png');
      assert.equal(readFileSync(png.file).subarray(1, 4).toString(), 'PNG');
    }, { query });
  });
});

describe('experiment files', () => {
  test('an experiment file goes page → CLI and CLI → page; a bad file names each problem and changes nothing', async () => {
    await withPage(chromium.browser, '24-experiment-file', async (page) => {
      await setInput(page.locator('[data-testid=knob-workers] input[type=range]'), 400);
      await page.click('[data-testid=embed-open]');
      const file = await download(page, 'export-file');
      assert.equal(file.name, 'bplab-incident-106-experiment.json');
      const members = JSON.parse(file.text);
      const address = await page.evaluate(() => location.search);
      assert.equal(members.preset, 'incident-106');
      const workers = new URLSearchParams(address).get('consumer.workers');
      assert.ok(workers > 1, address);
      assert.equal(members['consumer.workers'], Number(workers));
      // The file runs unchanged in the CLI, as the page's link does.
      assert.equal(bplab(['run', file.file, '--duration', '5']), bplab(['run', '--link', address, '--duration', '5']));

      // A file the CLI wrote opens in the page, and the page's run of it is the CLI's.
      const made = join(dir, 'made.json');
      const set = ['--set', 'consumer.workers=3', '--set', 'producer.rate_per_s=1234', '--set', 'seed=5'];
      writeFileSync(made, bplab(['link', '--preset', 'credits', ...set, '--format', 'file']));
      await page.setInputFiles('[data-testid=open-file]', made);
      await poll(async () => (await page.textContent('[data-testid=file-status]')) === 'Opened made.json.', 5_000);
      const opened = await page.evaluate(() => location.search);
      assert.equal(opened, '?v=1&preset=credits&consumer.workers=3&producer.rate_per_s=1234&seed=5');
      const run = await download(page, 'export-json');
      assert.equal(run.text, bplab(['run', made, '--format', 'json']));

      // A bad file: each problem named, nothing changed (nor the knobs, nor the address).
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify({ preset: 'credits', 'consumer.workers': 0, bogus: 1, speed: 'fast' }));
      await page.setInputFiles('[data-testid=open-file]', bad);
      const status = page.locator('[data-testid=file-status]');
      await poll(async () => (await status.textContent()).startsWith('bad.json was not opened'), 5_000);
      const text = await status.textContent();
      assert.match(text, /consumer\.workers: must be a whole number from 1 to 10000 \w+ \(got "0"\)(;|$)/);
      assert.match(text, /bogus: the page has no knob for this path/);
      assert.match(text, /speed: must be a number from 0\.1 to 1000/);
      assert.doesNotMatch(text, /kept|ignored/);
      assert.equal(await page.textContent('[data-testid=scenario-error]'), text);
      assert.equal(await page.evaluate(() => location.search), opened);
      assert.equal(await page.locator('[data-testid=knob-workers] input[type=number]').inputValue(), '3');
      await page.keyboard.press('Escape');

      // Dropped on the page, a file opens too; a whole-scenario file (bplab show) is named.
      const drop = (name, text) =>
        page.evaluate(([name, text]) => {
          const data = new DataTransfer();
          data.items.add(new File([text], name, { type: 'application/json' }));
          document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
        }, [name, text]);
      await drop('whole.json', bplab(['show', '--preset', 'credits', '--format', 'json']));
      const error = page.locator('[data-testid=scenario-error]');
      await poll(async () => (await error.textContent()).startsWith('whole.json was not opened'), 5_000);
      assert.match(await error.textContent(), /preset: missing: an experiment file names its preset/);
      await drop('again.json', file.text);
      await poll(async () => (await page.evaluate(() => location.search)).includes('preset=incident-106'), 5_000);
      assert.equal(await page.evaluate(() => location.search), address);
      assert.equal(await error.textContent(), '');
    });
  });
});

describe('links in the shipped page', { skip: SHIPPED_SKIP }, () => {
  test('a link opens its preset, seed, knob and structural changes and view; what cannot apply is named', async () => {
    const stages = 'stages=[{"kind":"channel","capacity":200}]';
    const query = `?v=1&preset=credits&seed=9&consumer.workers=3&${stages}&duration_s=30&speed=200&chart=latency&theme=dark&t=abc`;
    await withPage(chromium.browser, '24-link-shipped', async (page) => {
      const box = page.locator('[data-testid=link-problems]');
      await box.waitFor();
      const items = await box.locator('li').allInnerTexts();
      assert.deepEqual(items.map((t) => t.split(':')[0]).sort(), ['duration_s', 't'], items.join('\n'));
      assert.ok(items.some((t) => /^duration_s: .*bplab run --link/.test(t)), items.join('\n'));
      assert.ok(items.some((t) => /^t: must be a number/.test(t)), items.join('\n'));
      // The structural change applied: a channel of 200 before the consumer, in the link.
      assert.equal(await page.inputValue('[data-testid=knob-s0-capacity] input[type=number]'), '200');
      assert.match(decodeURIComponent(await page.evaluate(() => location.search)), /&stages=\[\{"kind":"channel"\}\]&stages\.0\.capacity=200/);
      assert.ok((await page.textContent('[data-testid=preset-title]')).startsWith('Credit-based'));
      assert.equal(await page.inputValue('[data-testid=seed]'), '9');
      assert.equal(await page.inputValue('[data-testid=knob-workers] input[type=number]'), '3');
      assert.equal(await page.textContent('[data-testid=speed-value]'), '200×');
      assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
      await page.click('[data-testid=link-problems-dismiss]');
      assert.equal(await box.count(), 0);
      // The address bar follows the experiment (replaceState: no new history entry), so a
      // reload or a copied address reproduces it.
      const entries = await page.evaluate(() => history.length);
      await setInput(page.locator('[data-testid=knob-workers] input[type=number]'), '5');
      assert.ok(await poll(async () => /consumer\.workers=5/.test(page.url()), 5_000), page.url());
      assert.match(page.url(), /preset=credits/);
      assert.match(page.url(), /seed=9/);
      assert.equal(await page.evaluate(() => history.length), entries, 'no history entry per change');
      await page.reload();
      await page.locator('[data-testid=knob-workers]').waitFor();
      assert.equal(await page.inputValue('[data-testid=knob-workers] input[type=number]'), '5');
      assert.equal(await page.inputValue('[data-testid=knob-s0-capacity] input[type=number]'), '200');
    }, { query });
  });
});
