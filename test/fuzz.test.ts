// Fuzz suite: a seeded corpus of bad inputs (wrong shapes, dtypes and option keys, out-of-range indices and axes,
// NaN/Inf, empty and huge sizes, disposed tensors, non-tensors) over every public op (test/fuzz/corpus.ts), run on
// every backend in child processes (test/fuzz/worker.ts) so that an abort is caught and counted. Each case must
// give, on every backend, an Error whose message begins with the op's name, or results equal on every backend.
// TESSERA_FUZZ_CASES sets the corpus size (CI: the default), TESSERA_TEST_SEED the seed.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendsUnderTest } from './helpers.js';
import { OPS } from './fuzz/corpus.js';
import type { Outcome } from './fuzz/worker.js';

const CASES = Number(process.env.TESSERA_FUZZ_CASES ?? 300);
const CHUNK = 150;
/** A child that runs longer is killed and its unreported cases count as crashes (a hang is a failure too). */
const CHILD_LIMIT_MS = 120_000;
const SEED = Number(process.env.TESSERA_TEST_SEED ?? 20);
const worker = join(dirname(fileURLToPath(import.meta.url)), 'fuzz', 'worker.js');
const backends = await backendsUnderTest();

interface Report { id: number; op: string; outcomes: Record<string, Outcome> }

/** Runs cases [from, to) in a child; returns the reports it printed and how it ended. */
function runChunk(from: number, to: number): Promise<{ reports: Report[]; crash: string | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [worker, String(SEED), String(CASES), String(from), String(to), ...backends],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_LIMIT_MS);
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const reports = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Report);
      const crash = code === 0 && reports.length === to - from ? null : `exit ${code ?? signal}: ${err.slice(-400)}`;
      resolve({ reports, crash });
    });
  });
}

const same = (a: Outcome, b: Outcome): boolean => {
  if ('values' in a && 'values' in b) {
    if (a.dtype !== b.dtype || a.shape.join() !== b.shape.join() || a.values.length !== b.values.length) return false;
    return a.values.every((v, i) => {
      const w = b.values[i];
      if (typeof v === 'string' || typeof w === 'string') return v === w;
      return Math.abs(v - w) <= 1e-3 + 1e-3 * Math.abs(w);
    });
  }
  if ('other' in a && 'other' in b) return a.other === b.other;
  return false;
};

const s = suite('fuzz');

s(`${CASES} bad-input cases over ${Object.keys(OPS).length} ops on ${backends.join(', ')}: named errors or equal results`, async () => {
  const chunks: Promise<{ reports: Report[]; crash: string | null }>[] = [];
  for (let from = 0; from < CASES; from += CHUNK) chunks.push(runChunk(from, Math.min(CASES, from + CHUNK)));
  const results = await Promise.all(chunks);
  const counts = { cases: 0, namedErrors: 0, equalResults: 0, unnamedErrors: 0, mismatches: 0, crashes: 0 };
  const problems: string[] = [];
  for (const [k, { reports, crash }] of results.entries()) {
    if (crash) { counts.crashes += Math.min(CASES, (k + 1) * CHUNK) - k * CHUNK - reports.length || 1; problems.push(`chunk ${k} crashed: ${crash}`); }
    for (const r of reports) {
      counts.cases++;
      const name = OPS[r.op].name ?? r.op;
      const outs = Object.entries(r.outcomes);
      const errors = outs.filter(([, o]) => 'error' in o) as [string, { error: string }][];
      if (errors.length === 0) {
        const [, first] = outs[0];
        if (outs.every(([, o]) => same(o, first))) counts.equalResults++;
        else { counts.mismatches++; problems.push(`case ${r.id} ${r.op}: results differ ${JSON.stringify(r.outcomes).slice(0, 300)}`); }
      } else if (errors.length < outs.length) {
        counts.mismatches++;
        problems.push(`case ${r.id} ${r.op}: an error on ${errors.map(([b]) => b).join(', ')} only: ${JSON.stringify(r.outcomes).slice(0, 300)}`);
      } else {
        const bad = errors.filter(([, o]) => !(o.error.startsWith(`Error: ${name}:`) || o.error.startsWith(`Error: ${name}(`)));
        if (bad.length === 0) counts.namedErrors++;
        else { counts.unnamedErrors++; problems.push(`case ${r.id} ${r.op}: ${bad.map(([b, o]) => `${b}: ${o.error}`).join(' | ').slice(0, 300)}`); }
      }
    }
  }
  console.log(`fuzz (seed ${SEED}): ${JSON.stringify(counts)}`);
  assert.ok(problems.length === 0, `${problems.length} problems:\n${problems.slice(0, 40).join('\n')}`);
});

s.run();
