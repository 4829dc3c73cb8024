// The page of `tessera serve` in Debian's headless Chromium (playwright-core, as browser.test.ts):
// a real photo upload drawn with its detections, a training job started from a folder of
// annotated images and followed to its new version, and a screenshot (its path is printed).
// Without /usr/bin/chromium the file is skipped with a message, except under CI=true.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { T } from './helpers.js';
import { encodePng } from '../src/plot/png.js';
import { startServer, DEFAULT_SERVE_OPTIONS, type RunningServer } from '../src/serve/server.js';
import { trainDemoDetector } from '../src/serve/demo.js';

const CHROMIUM = '/usr/bin/chromium';
const s = suite('serve-browser');

if (!existsSync(CHROMIUM)) {
  if (process.env.CI === 'true') s('chromium is installed (required under CI)', () => assert.unreachable(`${CHROMIUM} is missing: .ci/browser-deps.sh installs it`));
  else console.log(`serve-browser: SKIPPED, ${CHROMIUM} not found (Debian: apt-get install chromium)`);
} else {
  const root = mkdtempSync(join(tmpdir(), 'tessera-serve-browser-'));
  const models = join(root, 'models');
  let server: RunningServer, browser: Browser;

  s.before(async () => {
    await T.setBackend('cpu');
    mkdirSync(join(models, 'shapes'), { recursive: true });
    const dir = join(models, 'shapes', 'v1');
    await trainDemoDetector(dir, 64, 4);
    // A short training: a low threshold so that its best guesses are drawn.
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    config.config.scoreThreshold = 0.05;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    server = await startServer({ ...DEFAULT_SERVE_OPTIONS, modelsDir: models, token: 'page-token', port: 0, preload: ['shapes'], trainImageSize: 64 });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run'], timeout: 30_000 });
  });

  s.after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(models, { recursive: true, force: true });
  });

  s('upload a photo, see its detections drawn; train from a folder and see the new version', async () => {
    const d = T.data.shapesDetection({ count: 9, size: 64, scale: [12, 32], maxObjects: 3, seed: 11 });
    const plane = 3 * 64 * 64;
    const page = await browser.newPage();
    await page.goto(server.url + '/');
    await page.waitForSelector('#detect-model option', { state: 'attached' });
    await page.setInputFiles('#photo', { name: 'photo.png', mimeType: 'image/png', buffer: encodePng(d.images.subarray(0, plane), 3, 64, 64) });
    await page.click('#detect');
    await page.waitForFunction(() => /\d+ detections/.test(document.getElementById('detect-status')!.textContent ?? ''), undefined, { timeout: 60_000 });
    const items = await page.locator('li.detection').count();
    assert.ok(items > 0, 'the detector found something');
    // The first box's colour is on the canvas: boxes were drawn.
    const drawn = await page.evaluate(() => {
      const c = document.getElementById('canvas') as HTMLCanvasElement;
      const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i] === 230 && px[i + 1] === 25 && px[i + 2] === 75) n++;
      return { n, width: c.width };
    });
    assert.ok(drawn.width >= 512 && drawn.n > 50, JSON.stringify(drawn));

    // A YOLO folder on disk, uploaded through the folder picker.
    const folder = join(root, 'brand');
    mkdirSync(join(folder, 'images'), { recursive: true });
    mkdirSync(join(folder, 'labels'), { recursive: true });
    writeFileSync(join(folder, 'classes.txt'), d.classNames.join('\n') + '\n');
    for (let i = 1; i < 9; i++) {
      writeFileSync(join(folder, 'images', `p${i}.png`), encodePng(d.images.subarray(i * plane, (i + 1) * plane), 3, 64, 64));
      const b = d.boxes[i];
      writeFileSync(join(folder, 'labels', `p${i}.txt`), Array.from(d.labels[i], (c, k) => {
        const [x1, y1, x2, y2] = b.subarray(4 * k, 4 * k + 4);
        return `${c} ${(x1 + x2) / 128} ${(y1 + y2) / 128} ${(x2 - x1) / 64} ${(y2 - y1) / 64}`;
      }).join('\n') + '\n');
    }
    await page.fill('#token', 'page-token');
    await page.fill('#train-model', 'brand');
    await page.fill('#train-epochs', '2');
    await page.setInputFiles('#train-files', folder);
    await page.click('#train');
    await page.waitForFunction(() => /succeeded|failed/.test(document.getElementById('train-status')!.textContent ?? ''), undefined, { timeout: 180_000 });
    const status = await page.textContent('#train-status');
    assert.match(status ?? '', /succeeded.*version v1 serving|version v1 serving/, status ?? '');
    await page.waitForFunction(() => document.getElementById('models')!.textContent!.includes('brand'), undefined, { timeout: 10_000 });
    const shot = join(root, 'serve-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`serve-browser: screenshot in ${shot}`);
    await page.close();
  });
}

s.run();
