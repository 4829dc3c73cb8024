// The prepare script: compiles TypeScript into dist/ (npm run build). npm runs it in a clone's own
// `npm install`, where the dev dependencies (typescript, esbuild) are present, and also when the
// clone is installed into another project by path (`npm install ../tessera`), where npm installs
// only the production dependencies. In that case the dev dependencies are installed here first,
// without scripts and preferring the npm cache, as npm itself does before packing a git dependency.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.env.npm_execpath
  ? [process.execPath, [process.env.npm_execpath]]
  : ['npm', []];

function run(args) {
  // The outer npm's settings (its prefix, say) would point this npm at the project installing us;
  // keep only where packages come from.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) =>
    !/^npm_config_/i.test(k) || /^npm_config_(cache|registry|offline|prefer_offline|userconfig)$/i.test(k)));
  const r = spawnSync(npm[0], [...npm[1], ...args], { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`tessera prepare: \`npm ${args.join(' ')}\` failed in ${root}`);
    process.exit(r.status ?? 1);
  }
}

function resolvable(name) {
  try { createRequire(join(root, 'package.json')).resolve(`${name}/package.json`); return true; } catch { return false; }
}

if (!resolvable('typescript') || !resolvable('esbuild')) {
  console.log('tessera prepare: installing the dev dependencies needed to compile TypeScript');
  run(['install', '--include=dev', '--no-save', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund']);
}
run(['run', 'build']);
