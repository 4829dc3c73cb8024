// README is a tested user's guide: every fenced code block is extracted and run, in README order, in a fresh
// app folder where `tessera-tensor` is this package (a link in node_modules, as `npm install <path>` makes, and
// `tessera` in node_modules/.bin). TypeScript blocks are type-checked together against the package's published
// types, then transpiled and run with node; sh blocks run with sh. A comment on the line before a fence steers it:
//   <!-- readme-test: skip (why) -->        not run (installs from a registry, runs for minutes, needs a GPU, ...)
//   <!-- readme-test: file train.ts -->     saved under that name, so that later blocks can import it
//   <!-- readme-test: data mnist,cora -->   skipped (counted, with a message) when a dataset is absent
//   <!-- readme-test: expect /regex/ -->    its output must match
// Directives combine with ';'. A fence without a language (or `text`) is a listing and is not run; any other
// language fails the test, so that a new block cannot slip past it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { dataDir } from '../src/data/paths.js';
import { listCommands } from '../src/cli/commands.js';
// The command modules register themselves, as src/cli/main.ts imports them.
import '../src/cli/info.js';
import '../src/cli/bench.js';
import '../src/cli/srgnn.js';
import '../src/cli/gde.js';
import '../src/cli/mup.js';
import '../src/cli/detect.js';
import '../src/cli/spl.js';
import '../src/cli/deepar.js';
import '../src/cli/serve.js';
import '../src/cli/launch.js';

type TypeScript = typeof import('typescript');
const ts = createRequire(import.meta.url)('typescript') as TypeScript;

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BLOCK_TIMEOUT_MS = 180_000;

export interface ReadmeBlock {
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
  skip?: string;
  file?: string;
  data: string[];
  expect?: RegExp;
}

const RUNNABLE = ['ts', 'js', 'sh'];
const LISTING = ['', 'text'];

/** The fenced blocks of a Markdown text with the directives of the comment right above each. */
export function readmeBlocks(markdown: string): ReadmeBlock[] {
  const lines = markdown.split('\n');
  const blocks: ReadmeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const indent = open[1].length;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !/^\s*```\s*$/.test(lines[j])) body.push(lines[j++].slice(indent));
    if (j === lines.length) throw new Error(`README line ${i + 1}: the code block is not closed`);
    const block: ReadmeBlock = { line: i + 1, lang: open[2], code: body.join('\n') + '\n', data: [] };
    const comment = /^\s*<!--\s*readme-test:(.*)-->\s*$/.exec(lines[i - 1] ?? '');
    if (comment) {
      // ';' separates directives, except inside a skip's parentheses.
      for (const directive of comment[1].split(/;(?![^(]*\))/).map((d) => d.trim()).filter(Boolean)) {
        const [, name, arg] = /^(\w+)\s*(.*)$/.exec(directive) ?? [];
        if (name === 'skip' && /^\(.+\)$/.test(arg)) block.skip = arg.slice(1, -1);
        else if (name === 'file' && /^[\w.-]+\.(ts|js)$/.test(arg)) block.file = arg;
        else if (name === 'data' && arg) block.data = arg.split(',').map((d) => d.trim());
        else if (name === 'expect' && /^\/.+\/$/.test(arg)) block.expect = new RegExp(arg.slice(1, -1));
        else throw new Error(`README line ${i}: bad readme-test directive '${directive}' (skip (why), file <name>.ts, data <sets>, expect /regex/)`);
      }
    }
    blocks.push(block);
    i = j;
  }
  return blocks;
}

const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8');
const blocks = readmeBlocks(readme);
const app = mkdtempSync(join(tmpdir(), 'tessera-readme-'));
process.on('exit', () => rmSync(app, { recursive: true, force: true }));

const missingData = (b: ReadmeBlock) => b.data.filter((name) => !existsSync(join(dataDir(), name)));
const runnable = blocks.filter((b) => RUNNABLE.includes(b.lang) && !b.skip);
const sourceName = (b: ReadmeBlock) => b.file ?? `block-line${b.line}.${b.lang}`;

/** The app: package.json, the package linked in node_modules with its command in .bin, and every ts/js block saved. */
function makeApp(): void {
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'readme-app', private: true, type: 'module' }));
  mkdirSync(join(app, 'node_modules', '.bin'), { recursive: true });
  symlinkSync(packageRoot, join(app, 'node_modules', 'tessera-tensor'), 'dir');
  // What npm puts in .bin for the package's "bin" entry (npm also makes the target executable; tsc does not).
  writeFileSync(join(app, 'node_modules', '.bin', 'tessera'), `#!/bin/sh\nexec "${process.execPath}" "${join(packageRoot, 'dist', 'src', 'cli', 'main.js')}" "$@"\n`, { mode: 0o755 });
  for (const b of runnable) if (b.lang !== 'sh') writeFileSync(join(app, sourceName(b)), b.code);
}

/** Type-checks the ts blocks together and writes each as JavaScript beside it; the diagnostics, formatted. */
function compileBlocks(): string[] {
  const files = runnable.filter((b) => b.lang === 'ts').map((b) => join(app, sourceName(b)));
  const options: import('typescript').CompilerOptions = {
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'], strict: true, skipLibCheck: true, outDir: app, rootDir: app,
    types: ['node'], typeRoots: [join(packageRoot, 'node_modules', '@types')],
  };
  const program = ts.createProgram(files, options);
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...program.emit().diagnostics];
  return diagnostics.map((d) => {
    const where = d.file && d.start !== undefined ? `${d.file.fileName.slice(app.length + 1)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : '';
    return where + ts.flattenDiagnosticMessageText(d.messageText, '\n');
  });
}

function run(b: ReadmeBlock): { status: number | null; output: string; stdout: string; seconds: number } {
  const t0 = performance.now();
  const env = { ...process.env, PATH: `${join(app, 'node_modules', '.bin')}:${process.env.PATH}`, TESSERA_QUIET: '1' };
  const r = b.lang === 'sh'
    ? spawnSync('sh', ['-e', '-c', b.code], { cwd: app, env, encoding: 'utf8', timeout: BLOCK_TIMEOUT_MS })
    : spawnSync(process.execPath, [join(app, sourceName(b).replace(/\.ts$/, '.js'))], { cwd: app, env, encoding: 'utf8', timeout: BLOCK_TIMEOUT_MS });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}`, stdout: r.stdout ?? '', seconds: (performance.now() - t0) / 1000 };
}

const s = suite('readme');

s('every README code block is runnable, a listing, or skipped with a reason', () => {
  const unknown = blocks.filter((b) => !RUNNABLE.includes(b.lang) && !LISTING.includes(b.lang));
  assert.equal(unknown.map((b) => `line ${b.line}: ${b.lang}`), [], 'code blocks in a language the test does not run');
  const skipped = blocks.filter((b) => b.skip);
  const listings = blocks.filter((b) => LISTING.includes(b.lang));
  const withData = runnable.filter((b) => b.data.length > 0);
  console.log(`  README: ${blocks.length} code blocks: ${runnable.length} run (${withData.length} of them need data), ` +
    `${skipped.length} skipped by a marker, ${listings.length} listings`);
  for (const b of skipped) console.log(`    skipped, line ${b.line} (${b.lang}): ${b.skip}`);
  assert.ok(runnable.length >= 8, `only ${runnable.length} runnable blocks found`);
  assert.ok(listings.every((b) => !b.skip && !b.file && !b.expect), 'a listing carries a directive: give it a language');
});

s('every `tessera <command> --flag` in a README code block names a command and flags it has', () => {
  const commands = new Map(listCommands().map(([name, spec]) => [name, new Set([...Object.keys(spec.flags ?? {}), 'help', 'json'])]));
  const problems: string[] = [];
  let checked = 0;
  for (const b of blocks) {
    b.code.split('\n').forEach((text, k) => {
      const use = /(?:^|[\s;&|(])tessera ([a-z][\w-]*)(.*)$/.exec(text.replace(/\s#.*$/, ''));
      if (!use) return;
      checked++;
      const [, command, rest] = use;
      const flags = commands.get(command);
      if (!flags) { problems.push(`line ${b.line + 1 + k}: no command '${command}'`); return; }
      for (const [, flag] of rest.matchAll(/(?:^|[\s[|])--([a-z][\w-]*)/g)) {
        if (!flags.has(flag)) problems.push(`line ${b.line + 1 + k}: 'tessera ${command}' has no flag --${flag}`);
      }
    });
  }
  assert.equal(problems, []);
  assert.ok(checked >= 20, `only ${checked} command lines found`);
});

let compiled: string[] | undefined;
s('the TypeScript blocks type-check against the package types', () => {
  makeApp();
  compiled = compileBlocks();
  assert.equal(compiled, [], `type errors:\n${compiled.join('\n')}`);
});

for (const b of runnable) {
  const absent = missingData(b);
  const name = `README line ${b.line} (${b.lang}${b.file ? `, ${b.file}` : ''}) runs`;
  if (absent.length > 0) {
    console.log(`  (skipping README line ${b.line}: dataset ${absent.join(', ')} not under ${dataDir()}; set TESSERA_DATA)`);
    s.skip(name);
    continue;
  }
  s(name, () => {
    assert.ok(compiled, 'the app was not made');
    const { status, output, stdout, seconds } = run(b);
    const last = stdout.trim().split('\n').at(-1) ?? '';
    console.log(`  README line ${b.line}: ${seconds.toFixed(1)} s${b.expect ? `, ${last.slice(0, 100)}` : ''}`);
    assert.is(status, 0, `README line ${b.line} exited with ${status}:\n${output.slice(-3000)}`);
    if (b.expect) assert.match(output, b.expect, `README line ${b.line}: output does not match ${b.expect}:\n${output.slice(-3000)}`);
  });
}

s.run();
