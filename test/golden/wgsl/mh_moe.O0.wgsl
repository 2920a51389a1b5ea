// ===== shader s0: k00_linear_moe.head, k07_linear_moe.merge
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 16u)) { return; }
  let row = i / 16u;
  let o = i % 16u;
  var acc = b[o];
  for (var k = 0u; k < 16u; k++) {
    acc += x[row * 16u + k] * w[o * 16u + k];
  }
  y[i] = acc;
}

// ===== shader s1: k01_linear_moe.router
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
  if (i >= (params.sym_T * 16u)) { return; }
  let row = i / 4u;
  let o = i % 4u;
  var acc = 0.0f;
  for (var k = 0u; k < 4u; k++) {
    acc += x[row * 4u + k] * w[o * 4u + k];
  }
  y[i] = acc;
}

// ===== shader s2: k02_route_moe.router
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
  if (i >= (params.sym_T * 4u)) { return; }
  let base = i * 4u;
  let out = i * 1u;
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
  for (var j = 0u; j < 1u; j++) {
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

// ===== shader s3: k03_route_stats_moe.router
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
  if (i >= 8u) { return; }
  if (i < 4u) {
    let e = i32(i);
    for (var h = 0u; h < 4u; h++) {
      var c = 0i;
      for (var r = h; r < (params.sym_T * 4u); r += 4u) {
        for (var j = 0u; j < 1u; j++) {
          c += select(0i, 1i, kept[r * 1u + j] == e);
        }
      }
      counts[h * 4u + i] = c;
    }
    var top = 0i;
    var p = 0.0f;
    for (var r = 0u; r < (params.sym_T * 4u); r++) {
      top += select(0i, 1i, routed[r * 1u] == e);
      p += probs[r * 4u + i];
    }
    top1[i] = top;
    prob_sum[i] = p;
    return;
  }
  let h = i - 4u;
  var c = 0i;
  for (var r = h; r < (params.sym_T * 4u); r += 4u) {
    for (var j = 0u; j < 1u; j++) {
      c += select(0i, 1i, kept[r * 1u + j] < 0i);
    }
  }
  dropped[h] = c;
}

// ===== shader s4: k04_expert_up_silu_gated_moe.experts_bank
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> expert: array<i32>;
@group(0) @binding(2) var<storage, read> w1: array<f32>;
@group(0) @binding(3) var<storage, read> w_up: array<f32>;
@group(0) @binding(4) var<storage, read_write> h: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(5) var<uniform> params: Params;

fn act_silu(x: f32) -> f32 {
  return x / (1.0f + exp(-x));
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 64u)) { return; }
  let slot = i / 16u;
  let o = i % 16u;
  let e = expert[slot];
  if (e < 0i) {
    h[i] = 0.0f;
    return;
  }
  let row = (slot / 1u) * 4u;
  let wrow = (u32(e) * 16u + o) * 4u;
  var a = 0.0f;
  var up = 0.0f;
  for (var k = 0u; k < 4u; k++) {
    let xk = x[row + k];
    a += xk * w1[wrow + k];
    up += xk * w_up[wrow + k];
  }
  h[i] = act_silu(a) * up;
}

// ===== shader s5: k05_expert_down_moe.experts_bank
@group(0) @binding(0) var<storage, read> h: array<f32>;
@group(0) @binding(1) var<storage, read> expert: array<i32>;
@group(0) @binding(2) var<storage, read> gate: array<f32>;
@group(0) @binding(3) var<storage, read> w2: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(5) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 16u)) { return; }
  let slot = i / 4u;
  let o = i % 4u;
  let e = expert[slot];
  if (e < 0i) {
    y[i] = 0.0f;
    return;
  }
  let wrow = (u32(e) * 4u + o) * 16u;
  var acc = 0.0f;
  for (var k = 0u; k < 16u; k++) {
    acc += h[slot * 16u + k] * w2[wrow + k];
  }
  y[i] = gate[slot] * acc;
}

// ===== shader s6: k06_combine_moe.experts_bank
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
  let base = (i / 4u) * 4u + i % 4u;
  var acc = 0.0f;
  for (var j = 0u; j < 1u; j++) {
    acc += slots[base + j * 4u];
  }
  y[i] = acc;
}
