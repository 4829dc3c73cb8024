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

// The cell (b, j) an invocation owns at step P[0] = k: the time t that step visits, the time prev before it, the
// first of its four gates in [T, B, 4H] and its place in [T, B, H].
struct LstmCell { index: i32, b: i32, j: i32, k: i32, t: i32, prev: i32, gate: i32, state: i32 }
fn lstm_cell(th: Thread) -> LstmCell {
  let index = i32(thread_index(th));
  let b = index / LSTM.H;
  let j = index % LSTM.H;
  let k = param_i32(0u);
  let t = lstm_time(k);
  return LstmCell(index, b, j, k, t, select(t - 1, t + 1, LSTM.reverse == 1), (t * LSTM.B + b) * 4 * LSTM.H + j,
    (t * LSTM.B + b) * LSTM.H + j);
}

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
  let H = LSTM.H;
  let at = lstm_cell(th);
  if (at.index >= LSTM.B * H) { return; }
  var z = vec4<f32>(0.0);
  for (var m = 0; m < H; m++) {
    z += lstm_h_prev(at.k, at.prev, at.b, m) * vec4<f32>(LSTM_W_HH[at.j * H + m], LSTM_W_HH[(H + at.j) * H + m],
      LSTM_W_HH[(2 * H + at.j) * H + m], LSTM_W_HH[(3 * H + at.j) * H + m]);
  }
  let i = lstm_sigmoid(LSTM_GATES_IN[at.gate] + z.x);
  let f = lstm_sigmoid(LSTM_GATES_IN[at.gate + H] + z.y);
  let g = lstm_tanh(LSTM_GATES_IN[at.gate + 2 * H] + z.z);
  let o = lstm_sigmoid(LSTM_GATES_IN[at.gate + 3 * H] + z.w);
  let c = f * lstm_c_prev(at.k, at.prev, at.b, at.j) + i * g;
  LSTM_GATES[at.gate] = i;
  LSTM_GATES[at.gate + H] = f;
  LSTM_GATES[at.gate + 2 * H] = g;
  LSTM_GATES[at.gate + 3 * H] = o;
  LSTM_STATES[LSTM.T * LSTM.B * H + at.state] = c;
  LSTM_STATES[at.state] = o * lstm_tanh(c);
}

// Step P[0] backward (k from T - 1 down to 0): dL/dh adds what flows from the step after (its gate gradients
// times W_hh), dL/dc what that step left in GRAD_C0 (cell-private, so it carries dL/dc_prev between steps and
// ends as dL/dc0).
@compute @workgroup_size(WG)
fn lstm_backward_step(th: Thread) {
  let H = LSTM.H;
  let at = lstm_cell(th);
  if (at.index >= LSTM.B * H) { return; }
  let i = LSTM_GATES[at.gate];
  let f = LSTM_GATES[at.gate + H];
  let g = LSTM_GATES[at.gate + 2 * H];
  let o = LSTM_GATES[at.gate + 3 * H];
  let c_offset = LSTM.T * LSTM.B * H;
  let tc = lstm_tanh(LSTM_STATES[c_offset + at.state]);
  var dh = LSTM_GRAD_STATES[at.state];
  var dc = LSTM_GRAD_STATES[c_offset + at.state];
  if (at.k != LSTM.T - 1) {
    dh += lstm_grad_h_prev(lstm_time(at.k + 1), at.b, at.j);
    dc += LSTM_GRAD_C0[at.index];
  }
  dc += dh * o * (1.0 - tc * tc);
  LSTM_GRAD_GATES[at.gate] = dc * g * i * (1.0 - i);
  LSTM_GRAD_GATES[at.gate + H] = dc * lstm_c_prev(at.k, at.prev, at.b, at.j) * f * (1.0 - f);
  LSTM_GRAD_GATES[at.gate + 2 * H] = dc * i * (1.0 - g * g);
  LSTM_GRAD_GATES[at.gate + 3 * H] = dh * tc * o * (1.0 - o);
  LSTM_GRAD_C0[at.index] = dc * f;
}

// After the last backward step (P[0] = 0, the first step visited): dL/dh0 from that step's gate gradients.
@compute @workgroup_size(WG)
fn lstm_backward_h0(th: Thread) {
  let cell = i32(thread_index(th));
  let H = LSTM.H;
  if (cell >= LSTM.B * H) { return; }
  LSTM_GRAD_H0[cell] = lstm_grad_h_prev(lstm_time(param_i32(0u)), cell / H, cell % H);
}
