// Builds the browser build into dist/browser/ with esbuild (run after
// scripts/embed-wgsl.mjs, which generates the shaders it inlines):
//   tessera.js  the library: src/browser.ts and everything it reaches, one ESM file;
//   moons.js    examples/browser/main.ts, importing ./tessera.js;
//   index.html  the example page, copied from examples/browser/.
// Serve dist/browser/ over http (module scripts do not load from file://).
//
// The bundle must hold nothing Node-only. platform 'browser' makes esbuild
// refuse node:* imports; the `webgpu` package (Dawn for Node), which the
// webgpu runtime imports only when navigator.gpu is absent (a path that
// browser.ts never takes), is replaced by a stub; the metafile check below
// fails the build if any of it got in anyway.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(root, 'dist/browser');
const libraryEntry = join(root, 'src/browser.ts');

const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
  absWorkingDir: root,
};

const DAWN_STUB = 'export function create() {\n' +
  '  throw new Error("webgpu backend: tessera\'s browser build uses navigator.gpu; the webgpu package (Dawn for Node) is not in it");\n' +
  '}\n';

const stubDawn = {
  name: 'stub-dawn',
  setup(b) {
    b.onResolve({ filter: /^webgpu$/ }, () => ({ path: 'webgpu', namespace: 'dawn-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'dawn-stub' }, () => ({ contents: DAWN_STUB, loader: 'js' }));
  },
};

// The example imports ../../src/browser.js (for its types); in the build that is the bundle next to it.
const libraryAsSibling = {
  name: 'library-as-sibling',
  setup(b) {
    b.onResolve({ filter: /browser\.js$/ }, (args) => {
      const target = resolve(args.resolveDir, args.path).replace(/\.js$/, '.ts');
      return target === libraryEntry ? { path: './tessera.js', external: true } : undefined;
    });
  },
};

/** Fails on any input from node_modules/webgpu and on any import left external but the allowed ones. */
function checkBrowserOnly(metafile, allowedExternal) {
  const problems = [];
  for (const input of Object.keys(metafile.inputs)) {
    if (/(^|\/)node_modules\/webgpu\//.test(input)) problems.push(`bundled ${input}`);
  }
  for (const [output, info] of Object.entries(metafile.outputs)) {
    for (const imp of info.imports) {
      if (imp.external && !allowedExternal.includes(imp.path)) problems.push(`${output} imports ${imp.path}`);
    }
  }
  if (problems.length) throw new Error(`bundle-browser: Node-only code in the browser build:\n  ${problems.join('\n  ')}`);
}

mkdirSync(outDir, { recursive: true });
const library = await build({
  ...common,
  entryPoints: [libraryEntry],
  outfile: join(outDir, 'tessera.js'),
  plugins: [stubDawn],
});
checkBrowserOnly(library.metafile, []);

const example = await build({
  ...common,
  entryPoints: [join(root, 'examples/browser/main.ts')],
  outfile: join(outDir, 'moons.js'),
  plugins: [libraryAsSibling],
});
checkBrowserOnly(example.metafile, ['./tessera.js']);
copyFileSync(join(root, 'examples/browser/index.html'), join(outDir, 'index.html'));
console.log(`bundle-browser: wrote ${outDir}/{tessera.js,moons.js,index.html}`);
