// ===== shader s0: k00_embedding_lm.embed
@group(0) @binding(0) var<storage, read> ids: array<i32>;
@group(0) @binding(1) var<storage, read> table: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(3) var<uniform> params: Params;

fn f32_from_bits(bits: u32) -> f32 {
  return bitcast<f32>(bits);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 16u)) { return; }
  let id = ids[i / 16u];
  if (id < 0i || id >= 32i) {
    y[i] = f32_from_bits(0x7fc00000u);
    return;
  }
  y[i] = table[u32(id) * 16u + i % 16u];
}

// ===== shader s1: k01_rmsnorm_lm.blocks.0.attn_norm, k10_rmsnorm_lm.blocks.0.ffn_norm, k17_rmsnorm_lm.blocks.1.attn_norm, k26_rmsnorm_lm.blocks.1.ffn_norm, k34_rmsnorm_lm.norm
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
  if (i >= params.sym_T) { return; }
  let base = i * 16u;
  var ss = 0.0f;
  for (var k = 0u; k < 16u; k++) {
    let v = x[base + k];
    ss += v * v;
  }
  let scale = 1.0f / sqrt(ss / 16.0f + 0.000001f);
  for (var k = 0u; k < 16u; k++) {
    y[base + k] = x[base + k] * scale * w[k];
  }
}

// ===== shader s2: k02_linear_lm.blocks.0.attn, k03_linear_lm.blocks.0.attn, k04_linear_lm.blocks.0.attn, k08_linear_lm.blocks.0.attn, k18_linear_lm.blocks.1.attn, k19_linear_lm.blocks.1.attn, k20_linear_lm.blocks.1.attn, k24_linear_lm.blocks.1.attn
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
  let row = i / 16u;
  let o = i % 16u;
  var acc = 0.0f;
  for (var k = 0u; k < 16u; k++) {
    acc += x[row * 16u + k] * w[o * 16u + k];
  }
  y[i] = acc;
}

// ===== shader s3: k05_rope_lm.blocks.0.attn, k06_rope_lm.blocks.0.attn, k21_rope_lm.blocks.1.attn, k22_rope_lm.blocks.1.attn
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
const INV_FREQ_HI = array<f32, 4>(1.0f, 0.1000061f, 0.0099983215f, 0.0009999275f);
const INV_FREQ_LO = array<f32, 4>(0.0f, (-0.0000061035157f), 0.0000016784668f, 7.2479246e-8f);
struct Params {
  sym_T: u32,
}
@group(0) @binding(2) var<uniform> params: Params;

fn reduce_angle(hi: f32, lo: f32) -> f32 {
  let n = round((hi + lo) * 0.15915494f);
  return ((hi - n * 6.28125f) - n * 0.0019353072f) + (lo - n * 1.0253132e-11f);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 8u)) { return; }
  let pos = i / 8u;
  let h = (i % 8u) / 4u;
  let k = i % 4u;
  let p = f32(pos);
  let angle = reduce_angle(p * INV_FREQ_HI[k], p * INV_FREQ_LO[k]);
  let c = cos(angle);
  let s = sin(angle);
  let a = pos * 16u + h * 8u + k;
  let x1 = x[a];
  let x2 = x[a + 4u];
  y[a] = x1 * c - x2 * s;
  y[a + 4u] = x2 * c + x1 * s;
}

// ===== shader s4: k07_attention_lm.blocks.0.attn, k23_attention_lm.blocks.1.attn
@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(4) var<uniform> params: Params;

fn score(qo: u32, ko: u32) -> f32 {
  var s = 0.0f;
  for (var c = 0u; c < 8u; c++) {
    s += q[qo + c] * k[ko + c];
  }
  return s * 0.35355338f;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 2u)) { return; }
  let row = i / 2u;
  let head = (i % 2u) * 8u;
  let qo = row * 16u + head;
  var m = score(qo, head);
  for (var j = 1u; j <= row; j++) {
    m = max(m, score(qo, j * 16u + head));
  }
  for (var c = 0u; c < 8u; c++) {
    y[qo + c] = 0.0f;
  }
  var sum = 0.0f;
  for (var j = 0u; j <= row; j++) {
    let ko = j * 16u + head;
    let p = exp(score(qo, ko) - m);
    sum += p;
    for (var c = 0u; c < 8u; c++) {
      y[qo + c] += p * v[ko + c];
    }
  }
  for (var c = 0u; c < 8u; c++) {
    y[qo + c] = y[qo + c] / sum;
  }
}

// ===== shader s5: k09_add_lm.blocks.0, k16_add_lm.blocks.0, k25_add_lm.blocks.1, k33_add_lm.blocks.1
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 16u)) { return; }
  y[i] = a[i] + b[i];
}

// ===== shader s6: k11_linear_lm.blocks.0.ffn, k13_linear_lm.blocks.0.ffn
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
  if (i >= (params.sym_T * 64u)) { return; }
  let row = i / 64u;
  let o = i % 64u;
  var acc = 0.0f;
  for (var k = 0u; k < 16u; k++) {
    acc += x[row * 16u + k] * w[o * 16u + k];
  }
  y[i] = acc;
}

// ===== shader s7: k12_silu_lm.blocks.0.ffn
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(2) var<uniform> params: Params;

fn act_silu(x: f32) -> f32 {
  return x / (1.0f + exp(-x));
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 64u)) { return; }
  y[i] = act_silu(x[i]);
}

// ===== shader s8: k14_mul_lm.blocks.0.ffn
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 64u)) { return; }
  y[i] = a[i] * b[i];
}

// ===== shader s9: k15_linear_lm.blocks.0.ffn
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
  let row = i / 16u;
  let o = i % 16u;
  var acc = 0.0f;
  for (var k = 0u; k < 64u; k++) {
    acc += x[row * 64u + k] * w[o * 64u + k];
  }
  y[i] = acc;
}

// ===== shader s10: k27_linear_lm.blocks.1.ffn.router
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

// ===== shader s11: k28_route_lm.blocks.1.ffn.router
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

// ===== shader s12: k29_route_stats_lm.blocks.1.ffn.router
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
        for (var j = 0u; j < 1u; j++) {
          c += select(0i, 1i, kept[r * 1u + j] == e);
        }
      }
      counts[h * 4u + i] = c;
    }
    var top = 0i;
    var p = 0.0f;
    for (var r = 0u; r < params.sym_T; r++) {
      top += select(0i, 1i, routed[r * 1u] == e);
      p += probs[r * 4u + i];
    }
    top1[i] = top;
    prob_sum[i] = p;
    return;
  }
  let h = i - 4u;
  var c = 0i;
  for (var r = h; r < params.sym_T; r += 1u) {
    for (var j = 0u; j < 1u; j++) {
      c += select(0i, 1i, kept[r * 1u + j] < 0i);
    }
  }
  dropped[h] = c;
}

// ===== shader s13: k30_expert_up_silu_gated_lm.blocks.1.ffn.experts_bank
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
  if (i >= (params.sym_T * 16u)) { return; }
  let slot = i / 16u;
  let o = i % 16u;
  let e = expert[slot];
  if (e < 0i) {
    h[i] = 0.0f;
    return;
  }
  let row = (slot / 1u) * 16u;
  let wrow = (u32(e) * 16u + o) * 16u;
  var a = 0.0f;
  var up = 0.0f;
  for (var k = 0u; k < 16u; k++) {
    let xk = x[row + k];
    a += xk * w1[wrow + k];
    up += xk * w_up[wrow + k];
  }
  h[i] = act_silu(a) * up;
}

// ===== shader s14: k31_expert_down_lm.blocks.1.ffn.experts_bank
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
  let slot = i / 16u;
  let o = i % 16u;
  let e = expert[slot];
  if (e < 0i) {
    y[i] = 0.0f;
    return;
  }
  let wrow = (u32(e) * 16u + o) * 16u;
  var acc = 0.0f;
  for (var k = 0u; k < 16u; k++) {
    acc += h[slot * 16u + k] * w2[wrow + k];
  }
  y[i] = gate[slot] * acc;
}

// ===== shader s15: k32_combine_lm.blocks.1.ffn.experts_bank
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
  let base = (i / 16u) * 16u + i % 16u;
  var acc = 0.0f;
  for (var j = 0u; j < 1u; j++) {
    acc += slots[base + j * 16u];
  }
  y[i] = acc;
}

// ===== shader s16: k35_linear_lm.lm_head
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
  if (i >= (params.sym_T * 32u)) { return; }
  let row = i / 32u;
  let o = i % 32u;
  var acc = 0.0f;
  for (var k = 0u; k < 16u; k++) {
    acc += x[row * 16u + k] * w[o * 16u + k];
  }
  y[i] = acc;
}
