// The recurrence of one LSTM layer-direction (src/backend/interface.ts: lstmForward, lstmBackward), torch's
// gate order (i, f, g, o). The steps depend on each other, so the host records one dispatch per step in one
// pass (a dispatch sees the writes of the dispatches before it); inside a step one invocation owns one cell
// (b, j): it forms its four gates from a dot product of length H each, so no invocation waits on another.
// Parameters: P[0] the step k (in visiting order); the record (schema.wgsl) binds at 1.

@group(0) @binding(1) var<uniform> LSTM: LstmParams;
@group(0) @binding(2) var<storage, read> LSTM_GATES_IN: array<f32>;
@group(0) @binding(3) var<storage, read> LSTM_W_HH: array<f32>;
@group(0) @binding(4) var<storage, read> LSTM_H0: array<f32>;
@group(0) @binding(5) var<storage, read> LSTM_C0: array<f32>;
@group(0) @binding(6) var<storage, read_write> LSTM_STATES: array<f32>;
@group(0) @binding(7) var<storage, read_write> LSTM_GATES: array<f32>;
@group(0) @binding(8) var<storage, read> LSTM_GRAD_STATES: array<f32>;
@group(0) @binding(9) var<storage, read_write> LSTM_GRAD_GATES: array<f32>;
@group(0) @binding(10) var<storage, read_write> LSTM_GRAD_H0: array<f32>;
@group(0) @binding(11) var<storage, read_write> LSTM_GRAD_C0: array<f32>;

// The time step k visits.
fn lstm_time(k: i32) -> i32 { return select(k, LSTM.T - 1 - k, LSTM.reverse == 1); }

// h_prev[b, m] and c_prev[b, m] of step k, whose previous time is prev: h0 and c0 at the first step.
fn lstm_h_prev(k: i32, prev: i32, b: i32, m: i32) -> f32 {
  if (k == 0) { return LSTM_H0[b * LSTM.H + m]; }
  return LSTM_STATES[(prev * LSTM.B + b) * LSTM.H + m];
}
fn lstm_c_prev(k: i32, prev: i32, b: i32, m: i32) -> f32 {
  if (k == 0) { return LSTM_C0[b * LSTM.H + m]; }
  return LSTM_STATES[((LSTM.T + prev) * LSTM.B + b) * LSTM.H + m];
}

fn lstm_sigmoid(x: f32) -> f32 { return unary_f32(UNARY_SIGMOID, x, 0.0); }
fn lstm_tanh(x: f32) -> f32 { return unary_f32(UNARY_TANH, x, 0.0); }

// dL/dh_prev of cell (b, j) from the gate gradients of time t: sum over r of dL/dz[t, b, r] W_hh[r, j].
fn lstm_grad_h_prev(t: i32, b: i32, j: i32) -> f32 {
  let H = LSTM.H;
  let row = (t * LSTM.B + b) * 4 * H;
  var acc = 0.0;
  for (var r = 0; r < 4 * H; r++) { acc += LSTM_GRAD_GATES[row + r] * LSTM_W_HH[r * H + j]; }
  return acc;
}

// Step P[0] forward: z = gatesIn[t] + h_prev W_hh^T for cell (b, j)'s four gates, then c and h.
@compute @workgroup_size(WG)
fn lstm_forward_step(th: Thread) {
  let cell = i32(thread_index(th));
  let B = LSTM.B;
  let H = LSTM.H;
  if (cell >= B * H) { return; }
  let b = cell / H;
  let j = cell % H;
  let k = param_i32(0u);
  let t = lstm_time(k);
  let prev = select(t - 1, t + 1, LSTM.reverse == 1);
  var z = vec4<f32>(0.0);
  for (var m = 0; m < H; m++) {
    let h_prev = lstm_h_prev(k, prev, b, m);
    z += h_prev * vec4<f32>(LSTM_W_HH[j * H + m], LSTM_W_HH[(H + j) * H + m], LSTM_W_HH[(2 * H + j) * H + m],
      LSTM_W_HH[(3 * H + j) * H + m]);
  }
  let row = (t * B + b) * 4 * H;
  let i = lstm_sigmoid(LSTM_GATES_IN[row + j] + z.x);
  let f = lstm_sigmoid(LSTM_GATES_IN[row + H + j] + z.y);
  let g = lstm_tanh(LSTM_GATES_IN[row + 2 * H + j] + z.z);
  let o = lstm_sigmoid(LSTM_GATES_IN[row + 3 * H + j] + z.w);
  let c_prev = lstm_c_prev(k, prev, b, j);
  let c = f * c_prev + i * g;
  LSTM_GATES[row + j] = i;
  LSTM_GATES[row + H + j] = f;
  LSTM_GATES[row + 2 * H + j] = g;
  LSTM_GATES[row + 3 * H + j] = o;
  LSTM_STATES[((LSTM.T + t) * B + b) * H + j] = c;
  LSTM_STATES[(t * B + b) * H + j] = o * lstm_tanh(c);
}

// Step P[0] backward (k from T - 1 down to 0): dL/dh adds what flows from the step after (its gate gradients
// times W_hh), dL/dc what that step left in GRAD_C0 (cell-private, so it carries dL/dc_prev between steps and
// ends as dL/dc0).
@compute @workgroup_size(WG)
fn lstm_backward_step(th: Thread) {
  let cell = i32(thread_index(th));
  let B = LSTM.B;
  let H = LSTM.H;
  if (cell >= B * H) { return; }
  let b = cell / H;
  let j = cell % H;
  let k = param_i32(0u);
  let t = lstm_time(k);
  let prev = select(t - 1, t + 1, LSTM.reverse == 1);
  let last = k == LSTM.T - 1;
  let row = (t * B + b) * 4 * H;
  let i = LSTM_GATES[row + j];
  let f = LSTM_GATES[row + H + j];
  let g = LSTM_GATES[row + 2 * H + j];
  let o = LSTM_GATES[row + 3 * H + j];
  let s = (t * B + b) * H + j;
  let tc = lstm_tanh(LSTM_STATES[(LSTM.T * B) * H + s]);
  var dh = LSTM_GRAD_STATES[s];
  var dc = LSTM_GRAD_STATES[(LSTM.T * B) * H + s];
  if (!last) {
    dh += lstm_grad_h_prev(lstm_time(k + 1), b, j);
    dc += LSTM_GRAD_C0[cell];
  }
  dc += dh * o * (1.0 - tc * tc);
  let c_prev = lstm_c_prev(k, prev, b, j);
  LSTM_GRAD_GATES[row + j] = dc * g * i * (1.0 - i);
  LSTM_GRAD_GATES[row + H + j] = dc * c_prev * f * (1.0 - f);
  LSTM_GRAD_GATES[row + 2 * H + j] = dc * i * (1.0 - g * g);
  LSTM_GRAD_GATES[row + 3 * H + j] = dh * tc * o * (1.0 - o);
  LSTM_GRAD_C0[cell] = dc * f;
}

// After the last backward step (P[0] = 0, the first step visited): dL/dh0 from that step's gate gradients.
@compute @workgroup_size(WG)
fn lstm_backward_h0(th: Thread) {
  let cell = i32(thread_index(th));
  let H = LSTM.H;
  if (cell >= LSTM.B * H) { return; }
  LSTM_GRAD_H0[cell] = lstm_grad_h_prev(lstm_time(param_i32(0u)), cell / H, cell % H);
}
