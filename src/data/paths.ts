// Where the datasets live, first that is set: setDataDir() (the commands' --data flag), $TESSERA_DATA,
// else <repo>/../shared/data, where <repo> is the nearest folder above this module holding a
// package.json (the same answer from src/ under ts-node and from dist/src/ after tsc; in a clone of
// Tessera, a shared/data folder next to the clone).

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function repoRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

let chosen: string | undefined;

/** Makes `dir` the data root for this process (what the commands' `--data <folder>` does); undefined undoes it. */
export function setDataDir(dir: string | undefined): void { chosen = dir === undefined ? undefined : resolve(dir); }

/** The data root: setDataDir's folder, else $TESSERA_DATA, else <repo>/../shared/data. */
export function dataDir(): string {
  if (chosen) return chosen;
  const fromEnv = process.env.TESSERA_DATA;
  if (fromEnv) return resolve(fromEnv);
  const root = repoRoot();
  if (!root) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}; set TESSERA_DATA to the datasets folder`);
  return resolve(root, '..', 'shared', 'data');
}

/** What each dataset folder holds and where its files come from, for the message when one is missing. */
const DATASETS: Record<string, string> = {
  mnist: 't10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz] (the MNIST test split, IDX format, as ' +
    'distributed by Y. LeCun, C. Cortes and C. Burges)',
  cora: 'cora.content[.gz] and cora.cites (the LINQS release of Cora, e.g. from tkipf/pygcn data/cora)',
  citeseer: 'citeseer.content[.gz] and citeseer.cites (the LINQS release of CiteSeer)',
  'planetoid-cora': 'raw/{edge,node-feat,node-label}.csv.gz and split/public/*.csv.gz (Planetoid ' +
    "Cora in OGB's node-property layout, public split)",
  'planetoid-citeseer': 'raw/{edge,node-feat,node-label}.csv.gz and split/public/*.csv.gz (Planetoid ' +
    "CiteSeer in OGB's node-property layout, public split)",
  exchange_rate: 'exchange_rate.txt[.gz] (LSTNet, laiguokun/multivariate-time-series-data)',
};

/** The folder of dataset `name` under the data root; an Error saying how to provide it when it is absent. */
export function datasetDir(name: string): string {
  const dir = join(dataDir(), name);
  if (existsSync(dir)) return dir;
  const holds = DATASETS[name] ? ` It should hold ${DATASETS[name]}.` : '';
  throw new Error(`dataset '${name}' not found: ${dir} does not exist. Pass --data <folder> (the commands) or set ` +
    `TESSERA_DATA to a folder holding ${name}/ (default: a shared/data folder next to the package).${holds}`);
}
