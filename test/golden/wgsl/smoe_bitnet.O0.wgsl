// ===== shader s0: k00_linear_moe.router
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 4u)) { return; }
  let row = i / 4u;
  let o = i % 4u;
  var acc = 0.0f;
  for (var k = 0u; k < 16u; k++) {
    acc += x[row * 16u + k] * w[o * 16u + k];
  }
  y[i] = acc;
}

// ===== shader s1: k01_route_moe.router
@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> expert: array<i32>;
@group(0) @binding(2) var<storage, read_write> gate: array<f32>;
@group(0) @binding(3) var<storage, read_write> probs: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(4) var<uniform> params: Params;

fn f32_from_bits(bits: u32) -> f32 {
  return bitcast<f32>(bits);
}

fn rank_key(x: f32) -> f32 {
  return select(x, f32_from_bits(0xff800000u), (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= params.sym_T) { return; }
  let base = i * 4u;
  let out = i * 2u;
  var m = logits[base];
  for (var c = 1u; c < 4u; c++) {
    m = max(m, logits[base + c]);
  }
  var sum = 0.0f;
  for (var c = 0u; c < 4u; c++) {
    let p = exp(logits[base + c] - m);
    probs[base + c] = p;
    sum += p;
  }
  for (var c = 0u; c < 4u; c++) {
    probs[base + c] = probs[base + c] / sum;
  }
  var kept = 0.0f;
  for (var j = 0u; j < 2u; j++) {
    var best = (-1i);
    var best_key = 0.0f;
    var best_p = 0.0f;
    for (var c = 0u; c < 4u; c++) {
      var taken = false;
      for (var jj = 0u; jj < j; jj++) {
        taken = taken || expert[out + jj] == i32(c);
      }
      let p = probs[base + c];
      let key = rank_key(p);
      if (!taken && (best < 0i || key > best_key)) {
        best = i32(c);
        best_key = key;
        best_p = p;
      }
    }
    expert[out + j] = best;
    gate[out + j] = best_p;
    kept += best_p;
  }
}

// ===== shader s2: k02_route_stats_moe.router
@group(0) @binding(0) var<storage, read> routed: array<i32>;
@group(0) @binding(1) var<storage, read> kept: array<i32>;
@group(0) @binding(2) var<storage, read> probs: array<f32>;
@group(0) @binding(3) var<storage, read_write> counts: array<i32>;
@group(0) @binding(4) var<storage, read_write> top1: array<i32>;
@group(0) @binding(5) var<storage, read_write> prob_sum: array<f32>;
@group(0) @binding(6) var<storage, read_write> dropped: array<i32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(7) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= 5u) { return; }
  if (i < 4u) {
    let e = i32(i);
    for (var h = 0u; h < 1u; h++) {
      var c = 0i;
      for (var r = h; r < params.sym_T; r += 1u) {
        for (var j = 0u; j < 2u; j++) {
          c += select(0i, 1i, kept[r * 2u + j] == e);
        }
      }
      counts[h * 4u + i] = c;
    }
    var top = 0i;
    var p = 0.0f;
    for (var r = 0u; r < params.sym_T; r++) {
      top += select(0i, 1i, routed[r * 2u] == e);
      p += probs[r * 4u + i];
    }
    top1[i] = top;
    prob_sum[i] = p;
    return;
  }
  let h = i - 4u;
  var c = 0i;
  for (var r = h; r < params.sym_T; r += 1u) {
    for (var j = 0u; j < 2u; j++) {
      c += select(0i, 1i, kept[r * 2u + j] < 0i);
    }
  }
  dropped[h] = c;
}

// ===== shader s3: k03_act_quant_moe.experts_bank
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> q: array<u32>;
@group(0) @binding(2) var<storage, read_write> scale: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= params.sym_T) { return; }
  let base = i * 16u;
  var a = 0.0f;
  for (var c = 0u; c < 16u; c++) {
    a = max(a, abs(x[base + c]));
  }
  a = max(a, 0.00001f);
  let s = 127.0f / a;
  for (var k = 0u; k < 4u; k++) {
    var word = 0u;
    for (var j = 0u; j < 4u; j++) {
      let c = 4u * k + j;
      if (c < 16u) {
        let v = clamp(i32(round(x[base + c] * s)), (-127i), 127i);
        word |= (bitcast<u32>(v) & 0xffu) << (8u * j);
      }
    }
    q[i * 4u + k] = word;
  }
  scale[i] = a / 127.0f;
}

// ===== shader s4: k04_bit_expert_up_silu_gated_moe.experts_bank
@group(0) @binding(0) var<storage, read> q: array<u32>;
@group(0) @binding(1) var<storage, read> x_scale: array<f32>;
@group(0) @binding(2) var<storage, read> expert: array<i32>;
@group(0) @binding(3) var<storage, read> w1: array<u32>;
@group(0) @binding(4) var<storage, read> w_up: array<u32>;
@group(0) @binding(5) var<storage, read_write> h: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(6) var<uniform> params: Params;

// dot4I8Packed without the language feature: bytes as signed 8-bit integers
fn dot4_i8(a: u32, c: u32) -> i32 {
  let x = bitcast<i32>(a);
  let y = bitcast<i32>(c);
  var s = 0i;
  for (var j = 0u; j < 32u; j += 8u) {
    s += extractBits(x, j, 8u) * extractBits(y, j, 8u);
  }
  return s;
}

// weights 4g..4g+3 of a packed word as int8 bytes: codes 0, 1, 2 minus 1, no borrow
fn ternary_bytes(w: u32, g: u32) -> u32 {
  let c = (w >> (2u * g)) & 0x03030303u;
  return ((c | 0x80808080u) - 0x01010101u) ^ 0x80808080u;
}

fn ternary_dot16(w: u32, q0: u32, q1: u32, q2: u32, q3: u32) -> i32 {
  return dot4_i8(ternary_bytes(w, 0u), q0) + dot4_i8(ternary_bytes(w, 1u), q1) + dot4_i8(ternary_bytes(w, 2u), q2) + dot4_i8(ternary_bytes(w, 3u), q3);
}

fn act_silu(x: f32) -> f32 {
  return x / (1.0f + exp(-x));
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 32u)) { return; }
  let slot = i / 16u;
  let o = i % 16u;
  let e = expert[slot];
  if (e < 0i) {
    h[i] = 0.0f;
    return;
  }
  let row = slot / 2u;
  let qrow = row * 4u;
  let wrow = 4u + (u32(e) * 16u + o) * 1u;
  var acc = 0i;
  for (var k = 0u; k < 1u; k++) {
    let qk = qrow + 4u * k;
    acc += ternary_dot16(w1[wrow + k], q[qk], q[qk + 1u], q[qk + 2u], q[qk + 3u]);
  }
  let a = f32(acc) * (x_scale[row] * bitcast<f32>(w1[u32(e)]));
  var up = 0i;
  for (var k = 0u; k < 1u; k++) {
    let qk = qrow + 4u * k;
    up += ternary_dot16(w_up[wrow + k], q[qk], q[qk + 1u], q[qk + 2u], q[qk + 3u]);
  }
  h[i] = act_silu(a) * (f32(up) * (x_scale[row] * bitcast<f32>(w_up[u32(e)])));
}

// ===== shader s5: k05_act_quant_moe.experts_bank
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> q: array<u32>;
@group(0) @binding(2) var<storage, read_write> scale: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 2u)) { return; }
  let base = i * 16u;
  var a = 0.0f;
  for (var c = 0u; c < 16u; c++) {
    a = max(a, abs(x[base + c]));
  }
  a = max(a, 0.00001f);
  let s = 127.0f / a;
  for (var k = 0u; k < 4u; k++) {
    var word = 0u;
    for (var j = 0u; j < 4u; j++) {
      let c = 4u * k + j;
      if (c < 16u) {
        let v = clamp(i32(round(x[base + c] * s)), (-127i), 127i);
        word |= (bitcast<u32>(v) & 0xffu) << (8u * j);
      }
    }
    q[i * 4u + k] = word;
  }
  scale[i] = a / 127.0f;
}

// ===== shader s6: k06_bit_expert_down_moe.experts_bank
@group(0) @binding(0) var<storage, read> q: array<u32>;
@group(0) @binding(1) var<storage, read> h_scale: array<f32>;
@group(0) @binding(2) var<storage, read> expert: array<i32>;
@group(0) @binding(3) var<storage, read> gate: array<f32>;
@group(0) @binding(4) var<storage, read> w2: array<u32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(6) var<uniform> params: Params;

// dot4I8Packed without the language feature: bytes as signed 8-bit integers
fn dot4_i8(a: u32, c: u32) -> i32 {
  let x = bitcast<i32>(a);
  let y = bitcast<i32>(c);
  var s = 0i;
  for (var j = 0u; j < 32u; j += 8u) {
    s += extractBits(x, j, 8u) * extractBits(y, j, 8u);
  }
  return s;
}

// weights 4g..4g+3 of a packed word as int8 bytes: codes 0, 1, 2 minus 1, no borrow
fn ternary_bytes(w: u32, g: u32) -> u32 {
  let c = (w >> (2u * g)) & 0x03030303u;
  return ((c | 0x80808080u) - 0x01010101u) ^ 0x80808080u;
}

fn ternary_dot16(w: u32, q0: u32, q1: u32, q2: u32, q3: u32) -> i32 {
  return dot4_i8(ternary_bytes(w, 0u), q0) + dot4_i8(ternary_bytes(w, 1u), q1) + dot4_i8(ternary_bytes(w, 2u), q2) + dot4_i8(ternary_bytes(w, 3u), q3);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 32u)) { return; }
  let slot = i / 16u;
  let o = i % 16u;
  let e = expert[slot];
  if (e < 0i) {
    y[i] = 0.0f;
    return;
  }
  let wrow = 4u + (u32(e) * 16u + o) * 1u;
  var acc = 0i;
  for (var k = 0u; k < 1u; k++) {
    let qk = slot * 4u + 4u * k;
    acc += ternary_dot16(w2[wrow + k], q[qk], q[qk + 1u], q[qk + 2u], q[qk + 3u]);
  }
  y[i] = gate[slot] * (f32(acc) * (h_scale[slot] * bitcast<f32>(w2[u32(e)])));
}

// ===== shader s7: k07_combine_moe.experts_bank
@group(0) @binding(0) var<storage, read> slots: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 16u)) { return; }
  let base = (i / 16u) * 32u + i % 16u;
  var acc = 0.0f;
  for (var j = 0u; j < 2u; j++) {
    acc += slots[base + j * 16u];
  }
  y[i] = acc;
}
