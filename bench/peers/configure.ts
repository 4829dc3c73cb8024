// Peers at their best. The environment this bench is started in may pin OpenBLAS to a core type
// (on this project's machine every process gets OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE,
// which holds numpy, scipy and PyTorch to AVX2 kernels on an AVX-512 CPU). For each Python peer
// (interpreter x library) this tries every OpenBLAS setting below in a child process, asks the
// loaded OpenBLAS which core it runs (bench/peers/blas_probe.py), checks an SGEMM against float64,
// and keeps the fastest correct setting. Only the peers' child environments change: Tessera's own
// process, tests and CI keep whatever they were given.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type PythonLibrary = 'numpy' | 'torch';

/** One OPENBLAS_CORETYPE setting tried for a peer. `undefined` coretype: the variable unset. */
interface Setting { name: string; coretype?: string; inherit?: boolean }

/** What a peer process ran with, as recorded in the results. */
export interface PeerBuild {
  python: string;
  library: PythonLibrary;
  version: string;
  /** Which setting won, e.g. "OPENBLAS_CORETYPE=SkylakeX" or "OPENBLAS_CORETYPE unset". */
  setting: string;
  /** The kernel OpenBLAS reports it runs (its get_corename()), e.g. "SkylakeX". */
  core: string;
  blas: Record<string, unknown>;
  /** SGEMM probe of that setting: median ms and max relative error against float64. */
  probeMs: number;
  relErr: number;
  /** Every setting tried (also the losers), for the record. */
  candidates: { setting: string; core?: string; probeMs?: number; relErr?: number; error?: string }[];
  /** The child environment changes the peer runs with (variables removed map to null). */
  env: Record<string, string | null>;
}

const peerDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench', 'peers');

/** Largest max |C - C64| / max |C64| accepted for an n <= 1024 SGEMM (float32 rounding is ~1e-6). */
const MAX_REL_ERR = 1e-4;

function settings(): Setting[] {
  const inherited = process.env.OPENBLAS_CORETYPE;
  const list: Setting[] = [
    { name: 'OPENBLAS_CORETYPE unset' },
    { name: 'OPENBLAS_CORETYPE=SkylakeX', coretype: 'SkylakeX' },
    { name: 'OPENBLAS_CORETYPE=Cooperlake', coretype: 'Cooperlake' },
  ];
  if (inherited !== undefined) list.unshift({ name: `inherited OPENBLAS_CORETYPE=${inherited}`, inherit: true });
  return list;
}

/** The child-environment changes of a setting, on top of the thread-count variables. */
function envChanges(s: Setting, threads: number): Record<string, string | null> {
  const n = String(threads);
  const changes: Record<string, string | null> = { OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n };
  if (s.inherit) return changes;
  // OPENBLAS_L2_SIZE goes with the pinned core type: a size meant for another core would mislead the blocking.
  changes.OPENBLAS_L2_SIZE = null;
  changes.OPENBLAS_CORETYPE = s.coretype ?? null;
  return changes;
}

/** process.env with `changes` applied (null removes a variable). */
export function childEnv(changes: Record<string, string | null>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) delete env[k];
    else env[k] = v;
  }
  return env;
}

const chosen = new Map<string, PeerBuild | null>();
const whyNot = new Map<string, string>();

/** The fastest correct configuration of `library` under `python` (probed once per run), or
 *  undefined when the library does not import there (whyNoBuild says why). */
export function bestPeerBuild(python: string, library: PythonLibrary, threads: number, quick: boolean): PeerBuild | undefined {
  const key = `${python}|${library}`;
  if (!chosen.has(key)) chosen.set(key, probe(python, library, threads, quick, key));
  return chosen.get(key) ?? undefined;
}

export function whyNoBuild(python: string, library: PythonLibrary): string | undefined {
  return whyNot.get(`${python}|${library}`);
}

/** Every configuration chosen so far in this run (for the results file). */
export function peerBuilds(): PeerBuild[] {
  return [...chosen.values()].filter((b): b is PeerBuild => b !== null);
}

function probe(python: string, library: PythonLibrary, threads: number, quick: boolean, key: string): PeerBuild | null {
  const n = quick ? 128 : 1024, repeats = quick ? 2 : 7;
  const candidates: PeerBuild['candidates'] = [];
  let best: PeerBuild | null = null;
  for (const s of settings()) {
    const changes = envChanges(s, threads);
    const r = spawnSync(python, [join(peerDir, 'blas_probe.py'), library, String(n), String(repeats)], {
      encoding: 'utf8', timeout: 300_000, env: childEnv(changes),
    });
    const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
    if (r.status !== 0 || !last.startsWith('{')) {
      const error = r.error ? String(r.error) : (r.stderr ?? '').trim().split('\n').slice(-1)[0];
      candidates.push({ setting: s.name, error });
      continue;
    }
    const p = JSON.parse(last) as { version: string; python: string; blas: Record<string, unknown>; ms: number; relErr: number };
    const core = String(p.blas.core ?? 'unknown');
    candidates.push({ setting: s.name, core, probeMs: p.ms, relErr: p.relErr });
    if (!(p.relErr <= MAX_REL_ERR)) continue;
    if (!best || p.ms < best.probeMs) {
      best = { python, library, version: p.version, setting: s.name, core, blas: p.blas, probeMs: p.ms, relErr: p.relErr, candidates, env: changes };
    }
  }
  if (!best) whyNot.set(key, candidates.map((c) => `${c.setting}: ${c.error ?? `relErr ${c.relErr}`}`).join('; '));
  return best;
}

/** One line for the table: "numpy 2.4.6 /usr/bin/python3, OpenBLAS SkylakeX (OPENBLAS_CORETYPE=SkylakeX)". */
export function buildSummary(b: PeerBuild): string {
  return `${b.library} ${b.version} ${b.python}, ${String(b.blas.name ?? 'BLAS')} ${b.core} (${b.setting})`;
}
