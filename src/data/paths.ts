// Where the datasets live: $TESSERA_DATA, else <repo>/../shared/data, where
// <repo> is the nearest folder above this module holding a package.json (the
// same answer from src/ under ts-node and from dist/src/ after tsc).

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}; set TESSERA_DATA`);
    dir = parent;
  }
}

/** The data root: $TESSERA_DATA if set, else <repo>/../shared/data. */
export function dataDir(): string {
  const fromEnv = process.env.TESSERA_DATA;
  if (fromEnv) return resolve(fromEnv);
  return resolve(repoRoot(), '..', 'shared', 'data');
}
