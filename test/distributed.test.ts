// tessera-tensor/distributed: jobs of 2 MPI ranks on loopback, started through `tessera launch`
// (test/distributed-worker.ts is each rank). Skipped, and counted as skipped, where mpirun or an addon
// built with MPI is absent; CI installs Open MPI, so under CI=true their absence is a failure.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DistributedSampler, mpiSupport, init } from '../src/distributed/index.js';
import { mpirunArgs } from '../src/cli/launch.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', 'src', 'cli', 'main.js');
const worker = join(here, 'distributed-worker.js');

const mpirunFound = spawnSync('mpirun', ['--version'], { encoding: 'utf8' }).status === 0;
const { why: noMpiAddon } = mpiSupport();
const missing = !mpirunFound ? 'mpirun is not installed' : noMpiAddon ?? null;
if (missing && process.env.CI === 'true') throw new Error(`distributed tests: ${missing}, but CI must run them (.ci/run installs Open MPI)`);
if (missing) console.log(`  (skipping the MPI jobs of distributed.test: ${missing})`);

/** Runs `tessera launch -n <n> worker <args>`; one thread per rank (2 ranks share this machine's cores). */
function launch(n: number, args: string[], timeoutMs = 60_000) {
  const r = spawnSync(process.execPath, [cli, 'launch', '-n', String(n), worker, ...args],
    { encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, TESSERA_NUM_THREADS: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, output: `${r.stdout}\n${r.stderr}` };
}

const jobs = suite('distributed: 2 MPI ranks');
const job = (name: string, fn: () => void) => (missing ? jobs.skip(name, fn) : jobs(name, fn));

job('collectives match their single-process definition (odd sizes, float32 and int32); a bad input on one rank is the same error on every rank', () => {
  const r = launch(2, ['collectives']);
  assert.is(r.status, 0, r.output);
  for (const rank of [0, 1]) assert.ok(r.stdout.includes(`COLLECTIVES OK rank ${rank} of 2`), r.output);
  const agreed = r.stdout.split('\n').filter((l) => l.startsWith('AGREED'));
  assert.is(agreed.length, 2, r.output);
  assert.is(agreed[0], agreed[1], 'both ranks report the same error');
  assert.match(agreed[0], /^AGREED rank 1 of 2 failed: .*linear/i);
});

job('DDP: 2 ranks with batch B/2 each end with the parameters of 1 rank with batch B, with the all-reduces overlapped with backward and without; rank 0 writes the checkpoint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-ddp-'));
  try {
    const params = (n: number, overlap: boolean) => {
      const r = launch(n, ['ddp', join(dir, `model-${n}-${overlap}.safetensors`), overlap ? 'overlap' : 'no-overlap']);
      assert.is(r.status, 0, r.output);
      const line = r.stdout.split('\n').find((l) => l.startsWith('PARAMS '));
      assert.ok(line, r.output);
      const sync = r.stdout.split('\n').find((l) => l.startsWith('SYNC '));
      return { values: JSON.parse(line!.slice(7)) as number[], sync };
    };
    const one = params(1, true).values;
    for (const overlap of [true, false]) {
      const two = params(2, overlap);
      assert.is(two.values.length, one.length);
      const worst = Math.max(...one.map((v, i) => Math.abs(v - two.values[i])));
      assert.ok(worst < 1e-5, `largest parameter difference ${worst} (overlap ${overlap})`);
      // The MLP's 4 parameters make 4 buckets at bucketMiB 1e-4: all start during backward when overlapping.
      assert.is(two.sync, overlap ? 'SYNC 4 of 4 buckets started during backward' : 'SYNC 0 of 4 buckets started during backward');
    }
    assert.ok(Math.max(...one.map(Math.abs)) > 0.05, 'the parameters are not trivial');
    assert.equal(readdirSync(dir).sort(), ['model-1-true.safetensors', 'model-2-false.safetensors', 'model-2-true.safetensors'], 'one file per job, no temporaries left');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

job('a rank that throws ends the job on every rank with its message', () => {
  const r = launch(2, ['throw'], 30_000);
  assert.is.not(r.status, 0, r.output);
  assert.match(r.stderr, /rank 1 of 2 failed: Error: bad batch on purpose/);
  assert.not.match(r.stdout, /UNREACHABLE/);
});

job('a collective that waits past its timeout ends the job naming its rank', () => {
  const r = launch(2, ['timeout'], 30_000);
  assert.is.not(r.status, 0, r.output);
  assert.match(r.stderr, /rank 0 of 2: barrier timed out after 1\.0 s/);
  assert.not.match(r.stdout, /UNREACHABLE/);
});

jobs.run();

const local = suite('distributed: without MPI jobs');

local('DistributedSampler: ranks get disjoint shards covering the data, seeded and different each epoch', () => {
  const data = { length: 11, get: (i: number) => i };
  const shards = (epoch: number, seed = 3) => [0, 1, 2].map((rank) => {
    const s = new DistributedSampler(data, { rank, worldSize: 3, seed });
    s.setEpoch(epoch);
    return Array.from({ length: s.length }, (_, i) => s.get(i));
  });
  const e0 = shards(0);
  assert.equal(e0.map((s) => s.length), [4, 4, 4], 'padded to a multiple of the world size');
  assert.equal(new Set(e0.flat()).size, 11, 'every item is visited');
  assert.equal(shards(0), e0, 'the same seed and epoch give the same split');
  assert.not.equal(shards(1), e0, 'another epoch, another order');
  assert.not.equal(shards(0, 4), e0, 'another seed, another order');
  const dropped = new DistributedSampler(data, { rank: 0, worldSize: 3, shuffle: false, dropLast: true });
  assert.equal(Array.from({ length: dropped.length }, (_, i) => dropped.get(i)), [0, 3, 6]);
  assert.throws(() => new DistributedSampler(data, { rank: 3, worldSize: 3 }), /rank must be an integer in \[0, 3\)/);
  assert.throws(() => new DistributedSampler(data, { shuffel: true } as never), /unknown option 'shuffel'/);
});

local("init: backend 'nccl' without a GPU and unknown options are clear errors", () => {
  assert.throws(() => init({ backend: 'nccl' }), /backend 'nccl'/);
  assert.throws(() => init({ backend: 'gloo' as never }), /backend must be 'mpi' or 'nccl'/);
  assert.throws(() => init({ timeout: 3 } as never), /unknown option 'timeout'/);
});

local('tessera launch runs mpirun with one rank per process, and as root only when allowed', () => {
  const args = mpirunArgs(3, 'train.js', ['--epochs', '2']);
  assert.equal(args.slice(0, 2), ['-n', '3']);
  assert.equal(args.slice(-4), [process.execPath, 'train.js', '--epochs', '2']);
  assert.is(args.includes('--allow-run-as-root'), process.getuid?.() === 0);
});

local.run();
