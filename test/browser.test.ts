// The browser build (dist/browser/, from scripts/bundle-browser.mjs) in
// headless Chromium, driven by playwright-core: the example page trains the
// two-moons MLP on webgpu (Chromium's SwiftShader adapter, a CPU Vulkan
// implementation it ships) and, with navigator.gpu hidden, on the reference
// fallback. Without /usr/bin/chromium the file is skipped with a message,
// except under CI=true (.ci/browser-deps.sh installs it), where it fails.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import type { MoonsPageResult } from '../examples/browser/main.js';

const CHROMIUM = '/usr/bin/chromium';
const site = fileURLToPath(new URL('../browser/', import.meta.url)); // dist/test/ -> dist/browser/
// 100 steps reach 98.4% (as on the reference backend). On a 2-core machine
// SwiftShader took 29-54 s for them, about 12 s of it before the first step
// (the kernels' first use).
const STEPS = 100;
const PAGE_TIMEOUT_MS = 90_000;
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.map': 'application/json',
};
// --enable-unsafe-webgpu is what exposes navigator.gpu on Linux; with no GPU
// Chromium then offers its SwiftShader adapter. The rest keeps a fresh
// profile (playwright makes one per launch) off the network.
const CHROMIUM_ARGS = [
  '--no-sandbox', '--enable-unsafe-webgpu', '--disable-dev-shm-usage',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
];

const s = suite('browser');

/** Serves dist/browser/ read-only on 127.0.0.1 at a free port. */
function serveSite(): Promise<Server> {
  const server = createServer((req, res) => {
    let file = '';
    try {
      const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname));
      file = join(site, path === '/' ? 'index.html' : path);
    } catch { /* a malformed URL is answered 404 below */ }
    if (req.method !== 'GET' || !file.startsWith(site) || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((ok, fail) => server.listen(0, '127.0.0.1', () => ok(server)).on('error', fail));
}

/** Path of a file of the browser build, which must exist. */
function builtFile(name: string): string {
  const file = join(site, name);
  if (!existsSync(file)) throw new Error(`${file} is missing: build it with node scripts/bundle-browser.mjs`);
  return file;
}

interface PageRun { result?: MoonsPageResult; error?: string; console: string[] }

/** Opens the example page in a fresh context and waits for it to report. */
async function runPage(browser: Browser, url: string, hideWebGpu: boolean): Promise<PageRun> {
  const context = await browser.newContext();
  try {
    if (hideWebGpu) {
      await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
    }
    const page = await context.newPage();
    const messages: string[] = [];
    page.on('console', (m) => messages.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => messages.push(`pageerror: ${e.message}`));
    await page.goto(url);
    try {
      await page.waitForFunction(() => window.moonsResult ?? window.moonsError, undefined, { timeout: PAGE_TIMEOUT_MS });
    } catch (e) {
      const shown = await page.evaluate(() => document.body.innerText);
      throw new Error(`${(e as Error).message}\npage shows: ${shown}\nconsole: ${messages.join(' | ') || 'empty'}`);
    }
    const [result, error] = await page.evaluate(() => [window.moonsResult, window.moonsError] as const);
    if (result) {
      console.log(`browser: ${result.backend} reached ${(100 * result.accuracy).toFixed(1)}% in ${result.steps} steps, ` +
        `${(result.ms / 1000).toFixed(1)} s`);
    }
    return { result, error, console: messages };
  } finally {
    await context.close();
  }
}

function describeRun(run: PageRun): string {
  return run.error ? `page failed: ${run.error}` : `${JSON.stringify(run.result)}; console: ${run.console.join(' | ') || 'empty'}`;
}

if (!existsSync(CHROMIUM)) {
  if (process.env.CI === 'true') {
    s('chromium is installed (required under CI)', () => {
      assert.unreachable(`${CHROMIUM} is missing: .ci/browser-deps.sh installs it`);
    });
  } else {
    console.log(`browser: SKIPPED, ${CHROMIUM} not found (Debian: apt-get install chromium)`);
  }
} else {
  let server: Server | undefined;
  let browser: Browser | undefined;
  let started: Promise<{ browser: Browser; origin: string }> | undefined;

  // Started by the first test that needs it rather than in s.before, whose errors uvu does not print.
  const session = () => started ??= (async () => {
    builtFile('tessera.js');
    server = await serveSite();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
    return { browser, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  })();

  s.after(async () => {
    await browser?.close();
    await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
  });

  s('the bundle imports nothing (no node:* modules, no Dawn)', () => {
    const code = readFileSync(builtFile('tessera.js'), 'utf8');
    const imports = [...code.matchAll(/\b(?:from|import)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1]);
    assert.equal(imports, [], `tessera.js imports ${imports.join(', ')}`);
    assert.not.match(code, /\brequire\(/, 'tessera.js calls require()');
  });

  s('the example page trains the two-moons MLP on webgpu to > 90%', async () => {
    const { browser, origin } = await session();
    const run = await runPage(browser, `${origin}/index.html?steps=${STEPS}`, false);
    assert.ok(run.result, describeRun(run));
    assert.is(run.result.backend, 'webgpu', describeRun(run));
    assert.ok(run.result.accuracy > 0.9, describeRun(run));
  });

  s('without navigator.gpu the page falls back to the reference backend', async () => {
    const { browser, origin } = await session();
    const run = await runPage(browser, `${origin}/index.html?steps=${STEPS}`, true);
    assert.ok(run.result, describeRun(run));
    assert.is(run.result.backend, 'reference', describeRun(run));
    assert.ok(run.result.accuracy > 0.9, describeRun(run));
  });
}

s.run();
