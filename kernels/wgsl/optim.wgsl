// Optimizer updates (src/backend/interface.ts: adamUpdate, sgdUpdate): one invocation rewrites one element of a
// parameter and of its state in place. Parameters: P[0] the element count; the record (schema.wgsl) binds at 1
// (Adam) or 6 (SGD).

@group(0) @binding(1) var<uniform> ADAM: AdamParams;
@group(0) @binding(2) var<storage, read_write> OPTIM_PARAM: array<f32>;
@group(0) @binding(3) var<storage, read> OPTIM_GRAD: array<f32>;
@group(0) @binding(4) var<storage, read_write> OPTIM_STATE_A: array<f32>;  // Adam's expAvg, SGD's momentum buffer
@group(0) @binding(5) var<storage, read_write> OPTIM_STATE_B: array<f32>;  // Adam's expAvgSq
@group(0) @binding(6) var<uniform> SGD: SgdParams;

@compute @workgroup_size(WG)
fn adam_update(th: Thread) {
  let i = thread_index(th);
  if (i >= P[0]) { return; }
  let x = OPTIM_PARAM[i];
  let decoupled = ADAM.decoupled == 1;
  let d = OPTIM_GRAD[i] + select(ADAM.weight_decay, 0.0, decoupled) * x;
  let m = ADAM.beta1 * OPTIM_STATE_A[i] + (1.0 - ADAM.beta1) * d;
  let v = ADAM.beta2 * OPTIM_STATE_B[i] + (1.0 - ADAM.beta2) * d * d;
  OPTIM_STATE_A[i] = m;
  OPTIM_STATE_B[i] = v;
  let decay = select(1.0, 1.0 - ADAM.lr * ADAM.weight_decay, decoupled);
  OPTIM_PARAM[i] = x * decay - ADAM.step_size * (m / (sqrt(v) / ADAM.bias_correction2_sqrt + ADAM.eps));
}

@compute @workgroup_size(WG)
fn sgd_update(th: Thread) {
  let i = thread_index(th);
  if (i >= P[0]) { return; }
  let x = OPTIM_PARAM[i];
  let d = OPTIM_GRAD[i] + SGD.weight_decay * x;
  let buf = select(SGD.momentum * OPTIM_STATE_A[i] + (1.0 - SGD.dampening) * d, d, SGD.first == 1);
  OPTIM_STATE_A[i] = buf;
  OPTIM_PARAM[i] = x - SGD.lr * select(buf, d + SGD.momentum * buf, SGD.nesterov == 1);
}
