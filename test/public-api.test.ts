// Models are users of the library: every file under src/models may import
// only files of its own model folder, the package's public entry points (the
// targets of package.json "exports": the root and the model subpaths) and
// Node built-ins. An import of any other library file (src/ops, src/tensor.ts,
// src/sparse/...) fails here with the file and the specifier. The other way
// round, no library file imports a model (the CLI, which runs them, aside), so
// no import cycle can pass through src/models.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// Compiled to dist/test/: the repository root is two folders up.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const modelsDir = join(root, 'src', 'models');
const s = suite('public-api');

interface PackageJson { name: string; exports: Record<string, string | Record<string, string>> }

/** Source files (src/**.ts) of the package's "exports" targets, and the subpaths naming them. */
function publicEntries(pkg: PackageJson): Map<string, string> {
  const entries = new Map<string, string>();
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const js = typeof target === 'string' ? target : target.import;
    const m = js && /^\.\/dist\/(src\/.*)\.js$/.exec(js);
    if (m) entries.set(join(root, `${m[1]}.ts`), subpath);
  }
  return entries;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** Module specifiers of static imports, re-exports and dynamic import() calls. */
function specifiers(source: string): string[] {
  const out: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of source.matchAll(re)) out.push(m[1]);
  return out;
}

/** The model folder (src/models/<name>) a file lies in. */
function modelFolder(file: string): string {
  const [name] = relative(modelsDir, file).split(sep);
  return join(modelsDir, name);
}

/** Why `spec` imported from `file` is not allowed, or null when it is. */
function violation(file: string, spec: string, entries: Map<string, string>, packageName: string): string | null {
  if (spec.startsWith('node:')) return null;
  if (spec === packageName || spec.startsWith(`${packageName}/`)) {
    const subpath = spec === packageName ? '.' : `.${spec.slice(packageName.length)}`;
    return [...entries.values()].includes(subpath) ? null : `'${spec}' is not in package.json "exports"`;
  }
  if (!spec.startsWith('.')) return `'${spec}' is neither a Node built-in nor a public entry of ${packageName}`;
  const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
  const own = modelFolder(file);
  if (target.startsWith(own + sep)) return null;
  if (entries.has(target)) return null;
  return `'${spec}' resolves to ${relative(root, target)}, an internal module (public entries: ${[...entries.keys()].map((e) => relative(root, e)).join(', ')})`;
}

function violations(): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
  const entries = publicEntries(pkg);
  const found: string[] = [];
  for (const file of sourceFiles(modelsDir)) {
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      const why = violation(file, spec, entries, pkg.name);
      if (why) found.push(`${relative(root, file)}: ${why}`);
    }
  }
  return found;
}

s('the checker sees the models and flags an internal import', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
  const entries = publicEntries(pkg);
  const file = join(modelsDir, 'gnn', 'gcn.ts');
  assert.ok(sourceFiles(modelsDir).includes(file), 'src/models/gnn/gcn.ts is scanned');
  assert.equal(specifiers(readFileSync(file, 'utf8')).length > 0, true, 'gcn.ts has imports');
  assert.equal(specifiers("import { a } from '../../ops/matmul.js';\nexport * from './x.js';\nconst m = await import('../../tensor.js');"),
    ['../../ops/matmul.js', './x.js', '../../tensor.js']);
  assert.match(violation(file, '../../ops/matmul.js', entries, pkg.name) ?? '', /src\/ops\/matmul\.ts, an internal module/);
  assert.match(violation(file, '../../core.js', entries, pkg.name) ?? '', /internal module/);
  assert.match(violation(file, `${pkg.name}/secret`, entries, pkg.name) ?? '', /not in package\.json "exports"/);
  assert.is(violation(file, '../../index.js', entries, pkg.name), null);
  assert.is(violation(file, './layers.js', entries, pkg.name), null);
  assert.is(violation(file, 'node:fs', entries, pkg.name), null);
});

s('the model subpaths are public entries of package.json', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
  const subpaths = [...publicEntries(pkg).values()];
  for (const name of ['./models/gnn', './models/mup', './models/gde']) assert.ok(subpaths.includes(name), `exports has ${name}`);
});

s('files under src/models import only the public API', () => {
  const found = violations();
  assert.equal(found, [], `internal imports:\n${found.join('\n')}`);
});

s('the library imports no model (only the CLI and the server run them)', () => {
  const found: string[] = [];
  const src = join(root, 'src');
  for (const file of sourceFiles(src)) {
    if (file.startsWith(modelsDir + sep) || file.startsWith(join(src, 'cli') + sep) || file.startsWith(join(src, 'serve') + sep)) continue;
    for (const spec of specifiers(readFileSync(file, 'utf8'))) {
      if (spec.startsWith('.') && resolve(dirname(file), spec).startsWith(modelsDir + sep)) found.push(`${relative(root, file)}: '${spec}'`);
    }
  }
  assert.equal(found, [], `library files importing a model:\n${found.join('\n')}`);
});

s.run();
