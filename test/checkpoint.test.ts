// Module and optimizer checkpoints: round trips, resuming training gives the
// same numbers as never stopping, every mismatch reported at once, corrupt
// files refused with the target unchanged.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { T, backendsUnderTest, values, assertClose } from './helpers.js';
import { Module } from '../src/nn/module.js';
import { saveModule, loadModule, loadModuleSync, saveOptimizer, loadOptimizer, loadOptimizerSync } from '../src/io/checkpoint.js';
import { loadSafetensors, saveSafetensors } from '../src/io/safetensors.js';
import { Rng } from '../src/rng.js';

type Tensor = T.Tensor;
const nn = T.nn, optim = T.optim;
const backends = await backendsUnderTest();
const dir = mkdtempSync(join(tmpdir(), 'tessera-checkpoint-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
const freshPath = () => join(dir, `ckpt-${fileNo++}.safetensors`);

/** assert.throws for a function returning a promise: it must reject with an Error matching `expected`. */
async function rejects(fn: () => Promise<unknown>, expected: RegExp | ((e: Error) => boolean)): Promise<void> {
  let error: Error | undefined;
  try { await fn(); } catch (e) { error = e as Error; }
  assert.ok(error, 'expected a rejection');
  assert.ok(expected instanceof RegExp ? expected.test(error.message) : expected(error), error.message);
}

/** A small model with a float buffer and an int32 buffer, to cover both dtypes. */
class Tagged extends Module {
  readonly body: InstanceType<typeof nn.Sequential>;
  readonly scale: Tensor;
  readonly counts: Tensor;
  constructor(width: number, opts: { backend?: string; seed: number }) {
    super();
    const generator = new Rng(opts.seed);
    this.body = this.child('body', new nn.Sequential(
      new nn.Linear(3, width, { backend: opts.backend, generator, activation: 'tanh' }),
      new nn.LayerNorm(width, { backend: opts.backend }),
      new nn.Linear(width, 2, { backend: opts.backend, generator })));
    this.scale = this.buffer('scale', T.full([2], opts.seed + 0.5, { backend: opts.backend }));
    this.counts = this.buffer('counts', T.tensor([opts.seed, 2 * opts.seed], { backend: opts.backend, dtype: 'int32' }));
  }
  forward(x: Tensor): Tensor { return T.mul(this.body.forward(x), this.scale); }
}

const snapshot = async (m: Module) => Promise.all(Object.entries(m.stateDict()).map(async ([k, t]) => [k, Array.from(await values(t))] as const));

const s = suite('checkpoint');
for (const b of backends) {
  s(`module round trip: parameters and buffers, float32 and int32, metadata (${b})`, async () => {
    const path = freshPath();
    const a = new Tagged(4, { backend: b, seed: 1 });
    await saveModule(path, a, { metadata: { note: 'hello' } });
    const c = new Tagged(4, { backend: b, seed: 2 });
    assert.not.equal(await snapshot(c), await snapshot(a));
    const meta = await loadModule(path, c);
    assert.equal(meta, { note: 'hello' });
    assert.equal(await snapshot(c), await snapshot(a));
    assert.ok(c.parameters().every((p) => p.backend.name === b && p.requiresGrad));
  });

  s(`resuming from module + optimizer + scheduler checkpoints gives the same numbers (${b})`, async () => {
    const o = { backend: b };
    const x = T.tensor([[0.1, -0.3, 0.7], [1.2, 0.4, -0.5], [0.3, 0.3, 0.3], [-1, 0.5, 0.2]], o);
    const y = T.tensor([[1, 0], [0, 1], [0.5, 0.5], [-1, 1]], o);
    const setup = (seed: number) => {
      const model = new Tagged(5, { backend: b, seed });
      const params = model.parameters();
      const opt = new optim.AdamW([{ params: params.slice(0, 2), lrMult: 2 }, { params: params.slice(2), weightDecay: 0 }], { lr: 0.05 });
      const sched = new optim.LinearWarmup(opt, 2, { then: new optim.CosineAnnealingLR(opt, 10) });
      return { model, opt, sched };
    };
    const train = (r: ReturnType<typeof setup>, steps: number) => {
      for (let i = 0; i < steps; i++) {
        T.scope(() => {
          r.opt.zeroGrad();
          T.mse(r.model.forward(x), y).backward();
          r.opt.step();
          r.sched.step();
        });
      }
    };
    const straight = setup(3);
    train(straight, 3);
    const modelPath = freshPath(), optPath = freshPath();
    await saveModule(modelPath, straight.model);
    await saveOptimizer(optPath, straight.opt, { scheduler: straight.sched, metadata: { step: '3' } });
    train(straight, 4);

    const resumed = setup(9);
    await loadModule(modelPath, resumed.model);
    assert.equal(await loadOptimizer(optPath, resumed.opt, { scheduler: resumed.sched }), { step: '3' });
    assert.is(resumed.sched.lastEpoch, 3);
    assertClose(resumed.opt.paramGroups.map((g) => g.lr), [0.05 * cosineAt(1), 0.05 * cosineAt(1)], 'lr after resume', 1e-12, 0);
    train(resumed, 4);
    const [got, want] = [await snapshot(resumed.model), await snapshot(straight.model)];
    // Bit-identical on CPU backends; a GPU may sum in a different order from run to run.
    if (x.backend.syncRead) assert.equal(got, want);
    else got.forEach(([name, v], i) => assertClose(v, want[i][1], `${name} after resume on ${b}`, 1e-5, 1e-7));
    assert.equal(resumed.opt.paramGroups.map((g) => g.lr), straight.opt.paramGroups.map((g) => g.lr));
  });
}
const cosineAt = (e: number) => (1 + Math.cos((Math.PI * e) / 10)) / 2;

s('every mismatch is reported in one error and the module is unchanged', async () => {
  const path = freshPath();
  await saveModule(path, new Tagged(4, { seed: 1 }));
  const other = new Tagged(6, { seed: 2 }); // hidden width 6 instead of 4
  const before = await snapshot(other);
  let msg = '';
  try { await loadModule(path, other); } catch (e) { msg = (e as Error).message; }
  assert.ok(msg.startsWith(`loadModule: ${path} does not fit Tagged (5 problems)`), msg);
  for (const part of [
    "'body.0.weight': file has F32[4,3], module has F32[6,3]", "'body.0.bias': file has F32[4], module has F32[6]",
    "'body.1.weight'", "'body.1.bias'", "'body.2.weight': file has F32[2,4], module has F32[2,6]",
  ]) assert.ok(msg.includes(part), `"${msg}" lacks "${part}"`);
  assert.equal(await snapshot(other), before);

  // Missing, unexpected and dtype problems, all together; strict: false tolerates the first two only.
  const t = loadSafetensors(path).tensors;
  const edited = { ...t, extra: t.scale, counts: { dtype: 'F32' as const, shape: [2], data: new Float32Array(2) } };
  delete (edited as Record<string, unknown>).scale;
  saveSafetensors(path, edited);
  const target = new Tagged(4, { seed: 5 });
  const kept = await snapshot(target);
  await rejects(() => loadModule(path, target), (e: Error) =>
    e.message.includes("missing 'scale' (float32[2])") && e.message.includes("unexpected 'extra'")
    && e.message.includes("'counts': file has F32[2], module has I32[2]") && e.message.includes('(3 problems)'));
  await rejects(() => loadModule(path, target, { strict: false }), (e: Error) => e.message.includes('(1 problem)') && e.message.includes("'counts'"));
  assert.equal(await snapshot(target), kept);
});

s('truncated or corrupt files are refused with a clear error and change nothing', async () => {
  const path = freshPath();
  await saveModule(path, new Tagged(4, { seed: 1 }));
  const bytes = readFileSync(path);
  const target = new Tagged(4, { seed: 7 });
  const kept = await snapshot(target);
  const broken = freshPath();
  writeFileSync(broken, bytes.subarray(0, bytes.length - 10));
  await rejects(() => loadModule(broken, target), /loadSafetensors: .*(truncated|cover)/);
  writeFileSync(broken, bytes.subarray(0, 5));
  await rejects(() => loadModule(broken, target), /too short/);
  const garbled = Buffer.from(bytes); garbled[12] = 0xff;
  writeFileSync(broken, garbled);
  await rejects(() => loadModule(broken, target), /header is not valid JSON/);
  await rejects(() => loadModule(join(dir, 'absent.safetensors'), target), /loadSafetensors: .*absent/);
  assert.equal(await snapshot(target), kept);
});

s('a flipped data byte is refused by its checksum; other safetensors readers still see plain tensors', async () => {
  const path = freshPath();
  await saveModule(path, new Tagged(4, { seed: 1 }));
  const bytes = readFileSync(path);
  const contents = loadSafetensors(path);
  assert.match(contents.metadata['tessera.sha256'], /^[0-9a-f]{64}$/);
  const target = new Tagged(4, { seed: 7 });
  const kept = await snapshot(target);
  const flipped = Buffer.from(bytes);
  flipped[flipped.length - 3] ^= 0x01; // a data byte: the header and offsets stay valid
  const broken = freshPath();
  writeFileSync(broken, flipped);
  assert.ok(loadSafetensors(broken).tensors, 'the format itself is still valid');
  await rejects(() => loadModule(broken, target), /loadModule: .*does not match its checksum/);
  assert.equal(await snapshot(target), kept);
  await loadModule(path, target); // the intact file loads
});

s('temp files of an interrupted save are removed by the next save or load of that path', async () => {
  const path = freshPath();
  await saveModule(path, new Tagged(2, { seed: 1 }));
  const name = path.split('/').pop()!;
  const deadPid = 2 ** 22 + 12345; // above Linux's pid_max: no such process
  const stale = join(dir, `.${name}.${deadPid}.0123456789ab.tmp`);
  const live = join(dir, `.${name}.${process.ppid}.ba9876543210.tmp`); // a live writer's file stays
  const other = join(dir, `.other.${deadPid}.0123456789ab.tmp`);
  for (const f of [stale, live, other]) writeFileSync(f, 'partial');
  await loadModule(path, new Tagged(2, { seed: 3 }));
  assert.not.ok(existsSync(stale));
  assert.ok(existsSync(live) && existsSync(other));
  writeFileSync(stale, 'partial');
  await saveModule(path, new Tagged(2, { seed: 2 }));
  assert.not.ok(existsSync(stale));
  assert.equal(readdirSync(dir).filter((f) => f.startsWith(`.${name}.`)).sort(), [live.split('/').pop()]);
  rmSync(live); rmSync(other);
});

s('optimizer checkpoints check class, groups, shapes and kind; failures change nothing', async () => {
  const model = new Tagged(4, { seed: 1 });
  const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
  T.mse(model.forward(T.ones([2, 3])), T.zeros([2, 2])).backward();
  opt.step();
  const path = freshPath();
  await saveOptimizer(path, opt);
  const sd = opt.stateDict();
  assert.ok(Object.keys(sd.tensors).includes('0.0.m') && sd.scalars['0.0.step'] === 1 && sd.scalars['0.lr'] === 0.01);

  const sgd = new optim.SGD(new Tagged(4, { seed: 2 }).parameters(), { lr: 0.3 });
  await rejects(() => loadOptimizer(path, sgd), /saved by Adam, loading into SGD/);
  const wide = new optim.Adam(new Tagged(5, { seed: 2 }).parameters(), { lr: 0.3 });
  await rejects(() => loadOptimizer(path, wide), (e: Error) =>
    e.message.includes('group 0 parameter 0: saved [4,3], optimizer has [5,3]') && e.message.includes('group 0 parameter 4: saved [2,4], optimizer has [2,5]'));
  assert.is(wide.paramGroups[0].lr, 0.3);
  const split = new optim.Adam([{ params: model.parameters().slice(0, 1) }, { params: model.parameters().slice(1) }]);
  await rejects(() => loadOptimizer(path, split), /1 parameter groups saved, optimizer has 2/);
  await rejects(() => loadOptimizer(path, opt, { scheduler: new optim.StepLR(opt, 1) }), /no scheduler state saved/);
  const modulePath = freshPath();
  await saveModule(modulePath, model);
  await rejects(() => loadOptimizer(modulePath, opt), /is a checkpoint of kind 'module', expected 'optimizer'/);
  await rejects(() => loadModule(path, model), /is a checkpoint of kind 'optimizer', expected 'module'/);
});

s('the sync variants load the same state; loadModule returns a promise and refuses unknown option keys', async () => {
  const modelPath = freshPath(), optPath = freshPath();
  const model = new Tagged(3, { seed: 1 });
  const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
  T.mse(model.forward(T.ones([2, 3])), T.zeros([2, 2])).backward();
  opt.step();
  await saveModule(modelPath, model, { metadata: { note: 'sync' } });
  await saveOptimizer(optPath, opt);
  const viaSync = new Tagged(3, { seed: 4 }), viaAsync = new Tagged(3, { seed: 5 });
  assert.equal(loadModuleSync(modelPath, viaSync), { note: 'sync' });
  const pending = loadModule(modelPath, viaAsync);
  assert.instance(pending, Promise);
  assert.equal(await pending, { note: 'sync' });
  assert.equal(await snapshot(viaSync), await snapshot(model));
  assert.equal(await snapshot(viaAsync), await snapshot(model));
  const optSync = new optim.Adam(viaSync.parameters(), { lr: 0.5 });
  loadOptimizerSync(optPath, optSync);
  assert.is(optSync.paramGroups[0].lr, 0.01);
  assert.throws(() => loadModuleSync(modelPath, viaSync, { strcit: true } as never), /loadModuleSync: unknown option 'strcit'; did you mean 'strict'/);
  await rejects(() => loadModule(modelPath, viaSync, { strcit: true } as never), /loadModule: unknown option 'strcit'/);
  await rejects(() => loadOptimizer(optPath, optSync, { schedular: undefined, lr: 1 } as never), /loadOptimizer: unknown option 'lr'/);
  assert.throws(() => loadOptimizerSync(join(dir, 'absent.safetensors'), optSync), /loadSafetensors: .*absent/);
});

s('reserved metadata keys are refused', async () => {
  let msg = '';
  try { await saveModule(freshPath(), new Tagged(2, { seed: 1 }), { metadata: { 'tessera.kind': 'x' } }); } catch (e) { msg = (e as Error).message; }
  assert.match(msg, /metadata key 'tessera.kind' uses the reserved prefix/);
});

s('optimizer loadStateDict reports all bad keys at once and keeps its state', () => {
  const p = T.zeros([2], { requiresGrad: true });
  const opt = new optim.SGD([p], { lr: 0.1, momentum: 0.9 });
  p.grad = T.ones([2]);
  opt.step();
  const good = opt.stateDict();
  assert.throws(() => opt.loadStateDict({ tensors: { '0.0.momentum': T.zeros([3]), '1.0.momentum': T.zeros([2]) }, scalars: { '0.nesterov': 1, '0.5.step': 2 } }), (e: Error) =>
    ["'0.0.momentum': float32[3] does not match", "'1.0.momentum': no parameter group 1", "'0.nesterov': not a numeric", "'0.5.step': no parameter 5"]
      .every((part) => e.message.includes(part)));
  assert.equal(Array.from(opt.stateDict().tensors['0.0.momentum'].dataSync()), Array.from(good.tensors['0.0.momentum'].dataSync()));
});
s.run();
