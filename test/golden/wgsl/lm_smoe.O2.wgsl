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

// ===== shader s1: k01_rmsnorm_lm.blocks.0.attn_norm, k09_rmsnorm_lm.blocks.0.ffn_norm, k12_rmsnorm_lm.blocks.1.attn_norm, k20_rmsnorm_lm.blocks.1.ffn_norm, k27_rmsnorm_lm.norm
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

// ===== shader s2: k02_linear_tiled_lm.blocks.0.attn, k03_linear_tiled_lm.blocks.0.attn, k04_linear_tiled_lm.blocks.0.attn, k13_linear_tiled_lm.blocks.1.attn, k14_linear_tiled_lm.blocks.1.attn, k15_linear_tiled_lm.blocks.1.attn
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
  let tile_row = i / 4u;
  let tile_col = i % 4u;
  if (tile_row >= ((params.sym_T + 3u) / 4u)) {
    return;
  }
  let row0 = tile_row * 4u + 0u;
  let src0 = min(row0, params.sym_T - 1u) * 16u;
  let row1 = tile_row * 4u + 1u;
  let src1 = min(row1, params.sym_T - 1u) * 16u;
  let row2 = tile_row * 4u + 2u;
  let src2 = min(row2, params.sym_T - 1u) * 16u;
  let row3 = tile_row * 4u + 3u;
  let src3 = min(row3, params.sym_T - 1u) * 16u;
  let col0 = tile_col * 4u + 0u;
  let wc0 = min(col0, 15u);
  let col1 = tile_col * 4u + 1u;
  let wc1 = min(col1, 15u);
  let col2 = tile_col * 4u + 2u;
  let wc2 = min(col2, 15u);
  let col3 = tile_col * 4u + 3u;
  let wc3 = min(col3, 15u);
  var acc0: array<array<f32, 4>, 4>;
  for (var kk = 0u; kk < 16u; kk++) {
    let a0 = x[src0 + kk];
    let a1 = x[src1 + kk];
    let a2 = x[src2 + kk];
    let a3 = x[src3 + kk];
    let b0_0 = w[wc0 * 16u + kk];
    let b0_1 = w[wc1 * 16u + kk];
    let b0_2 = w[wc2 * 16u + kk];
    let b0_3 = w[wc3 * 16u + kk];
    acc0[0][0] = fma(a0, b0_0, acc0[0][0]);
    acc0[0][1] = fma(a0, b0_1, acc0[0][1]);
    acc0[0][2] = fma(a0, b0_2, acc0[0][2]);
    acc0[0][3] = fma(a0, b0_3, acc0[0][3]);
    acc0[1][0] = fma(a1, b0_0, acc0[1][0]);
    acc0[1][1] = fma(a1, b0_1, acc0[1][1]);
    acc0[1][2] = fma(a1, b0_2, acc0[1][2]);
    acc0[1][3] = fma(a1, b0_3, acc0[1][3]);
    acc0[2][0] = fma(a2, b0_0, acc0[2][0]);
    acc0[2][1] = fma(a2, b0_1, acc0[2][1]);
    acc0[2][2] = fma(a2, b0_2, acc0[2][2]);
    acc0[2][3] = fma(a2, b0_3, acc0[2][3]);
    acc0[3][0] = fma(a3, b0_0, acc0[3][0]);
    acc0[3][1] = fma(a3, b0_1, acc0[3][1]);
    acc0[3][2] = fma(a3, b0_2, acc0[3][2]);
    acc0[3][3] = fma(a3, b0_3, acc0[3][3]);
  }
  if (row0 < params.sym_T) {
    y[row0 * 16u + col0] = acc0[0][0];
    y[row0 * 16u + col1] = acc0[0][1];
    y[row0 * 16u + col2] = acc0[0][2];
    y[row0 * 16u + col3] = acc0[0][3];
  }
  if (row1 < params.sym_T) {
    y[row1 * 16u + col0] = acc0[1][0];
    y[row1 * 16u + col1] = acc0[1][1];
    y[row1 * 16u + col2] = acc0[1][2];
    y[row1 * 16u + col3] = acc0[1][3];
  }
  if (row2 < params.sym_T) {
    y[row2 * 16u + col0] = acc0[2][0];
    y[row2 * 16u + col1] = acc0[2][1];
    y[row2 * 16u + col2] = acc0[2][2];
    y[row2 * 16u + col3] = acc0[2][3];
  }
  if (row3 < params.sym_T) {
    y[row3 * 16u + col0] = acc0[3][0];
    y[row3 * 16u + col1] = acc0[3][1];
    y[row3 * 16u + col2] = acc0[3][2];
    y[row3 * 16u + col3] = acc0[3][3];
  }
}

// ===== shader s3: k05_rope_lm.blocks.0.attn, k06_rope_lm.blocks.0.attn, k16_rope_lm.blocks.1.attn, k17_rope_lm.blocks.1.attn
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

// ===== shader s4: k07_attention_lm.blocks.0.attn, k18_attention_lm.blocks.1.attn
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

// ===== shader s5: k08_linear_residual_lm.blocks.0.attn, k19_linear_residual_lm.blocks.1.attn
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> residual: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 4u)) { return; }
  let tile_row = i / 4u;
  let tile_col = i % 4u;
  if (tile_row >= ((params.sym_T + 3u) / 4u)) {
    return;
  }
  let row0 = tile_row * 4u + 0u;
  let src0 = min(row0, params.sym_T - 1u) * 16u;
  let row1 = tile_row * 4u + 1u;
  let src1 = min(row1, params.sym_T - 1u) * 16u;
  let row2 = tile_row * 4u + 2u;
  let src2 = min(row2, params.sym_T - 1u) * 16u;
  let row3 = tile_row * 4u + 3u;
  let src3 = min(row3, params.sym_T - 1u) * 16u;
  let col0 = tile_col * 4u + 0u;
  let wc0 = min(col0, 15u);
  let col1 = tile_col * 4u + 1u;
  let wc1 = min(col1, 15u);
  let col2 = tile_col * 4u + 2u;
  let wc2 = min(col2, 15u);
  let col3 = tile_col * 4u + 3u;
  let wc3 = min(col3, 15u);
  var acc0: array<array<f32, 4>, 4>;
  for (var kk = 0u; kk < 16u; kk++) {
    let a0 = x[src0 + kk];
    let a1 = x[src1 + kk];
    let a2 = x[src2 + kk];
    let a3 = x[src3 + kk];
    let b0_0 = w[wc0 * 16u + kk];
    let b0_1 = w[wc1 * 16u + kk];
    let b0_2 = w[wc2 * 16u + kk];
    let b0_3 = w[wc3 * 16u + kk];
    acc0[0][0] = fma(a0, b0_0, acc0[0][0]);
    acc0[0][1] = fma(a0, b0_1, acc0[0][1]);
    acc0[0][2] = fma(a0, b0_2, acc0[0][2]);
    acc0[0][3] = fma(a0, b0_3, acc0[0][3]);
    acc0[1][0] = fma(a1, b0_0, acc0[1][0]);
    acc0[1][1] = fma(a1, b0_1, acc0[1][1]);
    acc0[1][2] = fma(a1, b0_2, acc0[1][2]);
    acc0[1][3] = fma(a1, b0_3, acc0[1][3]);
    acc0[2][0] = fma(a2, b0_0, acc0[2][0]);
    acc0[2][1] = fma(a2, b0_1, acc0[2][1]);
    acc0[2][2] = fma(a2, b0_2, acc0[2][2]);
    acc0[2][3] = fma(a2, b0_3, acc0[2][3]);
    acc0[3][0] = fma(a3, b0_0, acc0[3][0]);
    acc0[3][1] = fma(a3, b0_1, acc0[3][1]);
    acc0[3][2] = fma(a3, b0_2, acc0[3][2]);
    acc0[3][3] = fma(a3, b0_3, acc0[3][3]);
  }
  if (row0 < params.sym_T) {
    y[row0 * 16u + col0] = acc0[0][0] + residual[row0 * 16u + col0];
    y[row0 * 16u + col1] = acc0[0][1] + residual[row0 * 16u + col1];
    y[row0 * 16u + col2] = acc0[0][2] + residual[row0 * 16u + col2];
    y[row0 * 16u + col3] = acc0[0][3] + residual[row0 * 16u + col3];
  }
  if (row1 < params.sym_T) {
    y[row1 * 16u + col0] = acc0[1][0] + residual[row1 * 16u + col0];
    y[row1 * 16u + col1] = acc0[1][1] + residual[row1 * 16u + col1];
    y[row1 * 16u + col2] = acc0[1][2] + residual[row1 * 16u + col2];
    y[row1 * 16u + col3] = acc0[1][3] + residual[row1 * 16u + col3];
  }
  if (row2 < params.sym_T) {
    y[row2 * 16u + col0] = acc0[2][0] + residual[row2 * 16u + col0];
    y[row2 * 16u + col1] = acc0[2][1] + residual[row2 * 16u + col1];
    y[row2 * 16u + col2] = acc0[2][2] + residual[row2 * 16u + col2];
    y[row2 * 16u + col3] = acc0[2][3] + residual[row2 * 16u + col3];
  }
  if (row3 < params.sym_T) {
    y[row3 * 16u + col0] = acc0[3][0] + residual[row3 * 16u + col0];
    y[row3 * 16u + col1] = acc0[3][1] + residual[row3 * 16u + col1];
    y[row3 * 16u + col2] = acc0[3][2] + residual[row3 * 16u + col2];
    y[row3 * 16u + col3] = acc0[3][3] + residual[row3 * 16u + col3];
  }
}

// ===== shader s6: k10_linear_glu_silu_lm.blocks.0.ffn
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w_gate: array<f32>;
@group(0) @binding(2) var<storage, read> w_up: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(4) var<uniform> params: Params;

fn act_silu(x: f32) -> f32 {
  return x / (1.0f + exp(-x));
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 16u)) { return; }
  let tile_row = i / 16u;
  let tile_col = i % 16u;
  if (tile_row >= ((params.sym_T + 3u) / 4u)) {
    return;
  }
  let row0 = tile_row * 4u + 0u;
  let src0 = min(row0, params.sym_T - 1u) * 16u;
  let row1 = tile_row * 4u + 1u;
  let src1 = min(row1, params.sym_T - 1u) * 16u;
  let row2 = tile_row * 4u + 2u;
  let src2 = min(row2, params.sym_T - 1u) * 16u;
  let row3 = tile_row * 4u + 3u;
  let src3 = min(row3, params.sym_T - 1u) * 16u;
  let col0 = tile_col * 4u + 0u;
  let wc0 = min(col0, 63u);
  let col1 = tile_col * 4u + 1u;
  let wc1 = min(col1, 63u);
  let col2 = tile_col * 4u + 2u;
  let wc2 = min(col2, 63u);
  let col3 = tile_col * 4u + 3u;
  let wc3 = min(col3, 63u);
  var acc0: array<array<f32, 4>, 4>;
  var acc1: array<array<f32, 4>, 4>;
  for (var kk = 0u; kk < 16u; kk++) {
    let a0 = x[src0 + kk];
    let a1 = x[src1 + kk];
    let a2 = x[src2 + kk];
    let a3 = x[src3 + kk];
    let b0_0 = w_gate[wc0 * 16u + kk];
    let b0_1 = w_gate[wc1 * 16u + kk];
    let b0_2 = w_gate[wc2 * 16u + kk];
    let b0_3 = w_gate[wc3 * 16u + kk];
    acc0[0][0] = fma(a0, b0_0, acc0[0][0]);
    acc0[0][1] = fma(a0, b0_1, acc0[0][1]);
    acc0[0][2] = fma(a0, b0_2, acc0[0][2]);
    acc0[0][3] = fma(a0, b0_3, acc0[0][3]);
    acc0[1][0] = fma(a1, b0_0, acc0[1][0]);
    acc0[1][1] = fma(a1, b0_1, acc0[1][1]);
    acc0[1][2] = fma(a1, b0_2, acc0[1][2]);
    acc0[1][3] = fma(a1, b0_3, acc0[1][3]);
    acc0[2][0] = fma(a2, b0_0, acc0[2][0]);
    acc0[2][1] = fma(a2, b0_1, acc0[2][1]);
    acc0[2][2] = fma(a2, b0_2, acc0[2][2]);
    acc0[2][3] = fma(a2, b0_3, acc0[2][3]);
    acc0[3][0] = fma(a3, b0_0, acc0[3][0]);
    acc0[3][1] = fma(a3, b0_1, acc0[3][1]);
    acc0[3][2] = fma(a3, b0_2, acc0[3][2]);
    acc0[3][3] = fma(a3, b0_3, acc0[3][3]);
    let b1_0 = w_up[wc0 * 16u + kk];
    let b1_1 = w_up[wc1 * 16u + kk];
    let b1_2 = w_up[wc2 * 16u + kk];
    let b1_3 = w_up[wc3 * 16u + kk];
    acc1[0][0] = fma(a0, b1_0, acc1[0][0]);
    acc1[0][1] = fma(a0, b1_1, acc1[0][1]);
    acc1[0][2] = fma(a0, b1_2, acc1[0][2]);
    acc1[0][3] = fma(a0, b1_3, acc1[0][3]);
    acc1[1][0] = fma(a1, b1_0, acc1[1][0]);
    acc1[1][1] = fma(a1, b1_1, acc1[1][1]);
    acc1[1][2] = fma(a1, b1_2, acc1[1][2]);
    acc1[1][3] = fma(a1, b1_3, acc1[1][3]);
    acc1[2][0] = fma(a2, b1_0, acc1[2][0]);
    acc1[2][1] = fma(a2, b1_1, acc1[2][1]);
    acc1[2][2] = fma(a2, b1_2, acc1[2][2]);
    acc1[2][3] = fma(a2, b1_3, acc1[2][3]);
    acc1[3][0] = fma(a3, b1_0, acc1[3][0]);
    acc1[3][1] = fma(a3, b1_1, acc1[3][1]);
    acc1[3][2] = fma(a3, b1_2, acc1[3][2]);
    acc1[3][3] = fma(a3, b1_3, acc1[3][3]);
  }
  if (row0 < params.sym_T) {
    y[row0 * 64u + col0] = act_silu(acc0[0][0]) * acc1[0][0];
    y[row0 * 64u + col1] = act_silu(acc0[0][1]) * acc1[0][1];
    y[row0 * 64u + col2] = act_silu(acc0[0][2]) * acc1[0][2];
    y[row0 * 64u + col3] = act_silu(acc0[0][3]) * acc1[0][3];
  }
  if (row1 < params.sym_T) {
    y[row1 * 64u + col0] = act_silu(acc0[1][0]) * acc1[1][0];
    y[row1 * 64u + col1] = act_silu(acc0[1][1]) * acc1[1][1];
    y[row1 * 64u + col2] = act_silu(acc0[1][2]) * acc1[1][2];
    y[row1 * 64u + col3] = act_silu(acc0[1][3]) * acc1[1][3];
  }
  if (row2 < params.sym_T) {
    y[row2 * 64u + col0] = act_silu(acc0[2][0]) * acc1[2][0];
    y[row2 * 64u + col1] = act_silu(acc0[2][1]) * acc1[2][1];
    y[row2 * 64u + col2] = act_silu(acc0[2][2]) * acc1[2][2];
    y[row2 * 64u + col3] = act_silu(acc0[2][3]) * acc1[2][3];
  }
  if (row3 < params.sym_T) {
    y[row3 * 64u + col0] = act_silu(acc0[3][0]) * acc1[3][0];
    y[row3 * 64u + col1] = act_silu(acc0[3][1]) * acc1[3][1];
    y[row3 * 64u + col2] = act_silu(acc0[3][2]) * acc1[3][2];
    y[row3 * 64u + col3] = act_silu(acc0[3][3]) * acc1[3][3];
  }
}

// ===== shader s7: k11_linear_residual_lm.blocks.0.ffn
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> residual: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 4u)) { return; }
  let tile_row = i / 4u;
  let tile_col = i % 4u;
  if (tile_row >= ((params.sym_T + 3u) / 4u)) {
    return;
  }
  let row0 = tile_row * 4u + 0u;
  let src0 = min(row0, params.sym_T - 1u) * 64u;
  let row1 = tile_row * 4u + 1u;
  let src1 = min(row1, params.sym_T - 1u) * 64u;
  let row2 = tile_row * 4u + 2u;
  let src2 = min(row2, params.sym_T - 1u) * 64u;
  let row3 = tile_row * 4u + 3u;
  let src3 = min(row3, params.sym_T - 1u) * 64u;
  let col0 = tile_col * 4u + 0u;
  let wc0 = min(col0, 15u);
  let col1 = tile_col * 4u + 1u;
  let wc1 = min(col1, 15u);
  let col2 = tile_col * 4u + 2u;
  let wc2 = min(col2, 15u);
  let col3 = tile_col * 4u + 3u;
  let wc3 = min(col3, 15u);
  var acc0: array<array<f32, 4>, 4>;
  for (var kk = 0u; kk < 64u; kk++) {
    let a0 = x[src0 + kk];
    let a1 = x[src1 + kk];
    let a2 = x[src2 + kk];
    let a3 = x[src3 + kk];
    let b0_0 = w[wc0 * 64u + kk];
    let b0_1 = w[wc1 * 64u + kk];
    let b0_2 = w[wc2 * 64u + kk];
    let b0_3 = w[wc3 * 64u + kk];
    acc0[0][0] = fma(a0, b0_0, acc0[0][0]);
    acc0[0][1] = fma(a0, b0_1, acc0[0][1]);
    acc0[0][2] = fma(a0, b0_2, acc0[0][2]);
    acc0[0][3] = fma(a0, b0_3, acc0[0][3]);
    acc0[1][0] = fma(a1, b0_0, acc0[1][0]);
    acc0[1][1] = fma(a1, b0_1, acc0[1][1]);
    acc0[1][2] = fma(a1, b0_2, acc0[1][2]);
    acc0[1][3] = fma(a1, b0_3, acc0[1][3]);
    acc0[2][0] = fma(a2, b0_0, acc0[2][0]);
    acc0[2][1] = fma(a2, b0_1, acc0[2][1]);
    acc0[2][2] = fma(a2, b0_2, acc0[2][2]);
    acc0[2][3] = fma(a2, b0_3, acc0[2][3]);
    acc0[3][0] = fma(a3, b0_0, acc0[3][0]);
    acc0[3][1] = fma(a3, b0_1, acc0[3][1]);
    acc0[3][2] = fma(a3, b0_2, acc0[3][2]);
    acc0[3][3] = fma(a3, b0_3, acc0[3][3]);
  }
  if (row0 < params.sym_T) {
    y[row0 * 16u + col0] = acc0[0][0] + residual[row0 * 16u + col0];
    y[row0 * 16u + col1] = acc0[0][1] + residual[row0 * 16u + col1];
    y[row0 * 16u + col2] = acc0[0][2] + residual[row0 * 16u + col2];
    y[row0 * 16u + col3] = acc0[0][3] + residual[row0 * 16u + col3];
  }
  if (row1 < params.sym_T) {
    y[row1 * 16u + col0] = acc0[1][0] + residual[row1 * 16u + col0];
    y[row1 * 16u + col1] = acc0[1][1] + residual[row1 * 16u + col1];
    y[row1 * 16u + col2] = acc0[1][2] + residual[row1 * 16u + col2];
    y[row1 * 16u + col3] = acc0[1][3] + residual[row1 * 16u + col3];
  }
  if (row2 < params.sym_T) {
    y[row2 * 16u + col0] = acc0[2][0] + residual[row2 * 16u + col0];
    y[row2 * 16u + col1] = acc0[2][1] + residual[row2 * 16u + col1];
    y[row2 * 16u + col2] = acc0[2][2] + residual[row2 * 16u + col2];
    y[row2 * 16u + col3] = acc0[2][3] + residual[row2 * 16u + col3];
  }
  if (row3 < params.sym_T) {
    y[row3 * 16u + col0] = acc0[3][0] + residual[row3 * 16u + col0];
    y[row3 * 16u + col1] = acc0[3][1] + residual[row3 * 16u + col1];
    y[row3 * 16u + col2] = acc0[3][2] + residual[row3 * 16u + col2];
    y[row3 * 16u + col3] = acc0[3][3] + residual[row3 * 16u + col3];
  }
}

// ===== shader s8: k21_moe_route_top1_lm.blocks.1.ffn.router
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> expert: array<i32>;
@group(0) @binding(3) var<storage, read_write> gate: array<f32>;
@group(0) @binding(4) var<storage, read_write> probs: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(5) var<uniform> params: Params;

fn f32_from_bits(bits: u32) -> f32 {
  return bitcast<f32>(bits);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= params.sym_T) { return; }
  let xb = i * 16u;
  let base = i * 4u;
  let out = i * 1u;
  var m = f32_from_bits(0xff800000u);
  for (var c = 0u; c < 4u; c++) {
    var logit = 0.0f;
    for (var kk = 0u; kk < 16u; kk++) {
      logit = fma(x[xb + kk], w[c * 16u + kk], logit);
    }
    probs[base + c] = logit;
    m = max(m, logit);
  }
  var sum = 0.0f;
  for (var c = 0u; c < 4u; c++) {
    let p = exp(probs[base + c] - m);
    probs[base + c] = p;
    sum += p;
  }
  for (var c = 0u; c < 4u; c++) {
    probs[base + c] = probs[base + c] / sum;
  }
  var kept = 0.0f;
  var previous_p = 0.0f;
  var previous = (-1i);
  for (var j = 0u; j < 1u; j++) {
    var best = (-1i);
    var best_p = (-1.0f);
    for (var c = 0u; c < 4u; c++) {
      let p = probs[base + c];
      let after = j == 0u || p < previous_p || (p == previous_p && i32(c) > previous);
      if (after && p > best_p) {
        best = i32(c);
        best_p = p;
      }
    }
    expert[out + j] = best;
    gate[out + j] = best_p;
    kept += best_p;
    previous = best;
    previous_p = best_p;
  }
}

// ===== shader s9: k22_moe_permute_e4_lm.blocks.1.ffn.router
@group(0) @binding(0) var<storage, read> routed: array<i32>;
@group(0) @binding(1) var<storage, read_write> offsets: array<i32>;
@group(0) @binding(2) var<storage, read_write> order: array<i32>;
@group(0) @binding(3) var<storage, read_write> kept: array<i32>;
@group(0) @binding(4) var<storage, read_write> counts: array<i32>;
@group(0) @binding(5) var<storage, read_write> dropped: array<i32>;
var<workgroup> kept_count: array<u32, 4>;
var<workgroup> dropped_count: array<u32, 4>;
var<workgroup> segment: array<u32, 5>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(6) var<uniform> params: Params;

@compute @workgroup_size(32)
fn main(@builtin(local_invocation_index) lid: u32) {
  let assignments = params.sym_T * 1u;
  // Pass 1: kept and dropped counts per expert, in the official order.
  for (var e = lid; e < 4u; e += 32u) {
    var n_kept = 0u;
    var n_dropped = 0u;
    var count_h0 = 0u;
    for (var j = 0u; j < 1u; j++) {
      for (var r = 0u; r < params.sym_T; r++) {
        if (routed[r * 1u + j] == i32(e)) {
          if (n_kept < 4294967295u) {
            n_kept++;
            count_h0++;
          }
          else {
            n_dropped++;
          }
        }
      }
    }
    kept_count[e] = n_kept;
    dropped_count[e] = n_dropped;
    counts[0u + e] = i32(count_h0);
  }
  workgroupBarrier();
  // Prefix sums: kept segments first, then the dropped assignments expert by expert.
  if (lid == 0u) {
    var total = 0u;
    for (var e = 0u; e < 4u; e++) {
      segment[e] = total;
      offsets[e] = i32(total);
      total += kept_count[e];
    }
    segment[4u] = total;
    offsets[4u] = i32(total);
    var all_dropped = 0u;
    for (var e = 0u; e < 4u; e++) {
      let d = dropped_count[e];
      dropped_count[e] = total + all_dropped;
      all_dropped += d;
    }
  }
  workgroupBarrier();
  // Pass 2: place every assignment; per-head dropped counts from the same walk.
  for (var e = lid; e < 4u; e += 32u) {
    var next_kept = segment[e];
    var next_dropped = dropped_count[e];
    var n_kept = 0u;
    for (var j = 0u; j < 1u; j++) {
      for (var r = 0u; r < params.sym_T; r++) {
        let a = r * 1u + j;
        if (routed[a] == i32(e)) {
          if (n_kept < 4294967295u) {
            n_kept++;
            order[next_kept] = i32(a);
            next_kept++;
            kept[a] = i32(e);
          }
          else {
            order[next_dropped] = i32(a);
            next_dropped++;
            kept[a] = (-1i);
          }
        }
      }
    }
  }
  // Dropped assignments per head: one invocation per head walks the kept ids.
  storageBarrier();
  workgroupBarrier();
  for (var h = lid; h < 1u; h += 32u) {
    var n = 0u;
    for (var r = h; r < params.sym_T; r += 1u) {
      for (var j = 0u; j < 1u; j++) {
        n += select(0u, 1u, kept[r * 1u + j] < 0i);
      }
    }
    dropped[h] = i32(n);
  }
}

// ===== shader s10: k23_route_balance_lm.blocks.1.ffn.router
@group(0) @binding(0) var<storage, read> routed: array<i32>;
@group(0) @binding(1) var<storage, read> probs: array<f32>;
@group(0) @binding(2) var<storage, read_write> top1: array<i32>;
@group(0) @binding(3) var<storage, read_write> prob_sum: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= 4u) { return; }
  var n_top1 = 0u;
  var p_sum = 0.0f;
  for (var r = 0u; r < params.sym_T; r++) {
    n_top1 += select(0u, 1u, routed[r * 1u] == i32(i));
    p_sum += probs[r * 4u + i];
  }
  top1[i] = i32(n_top1);
  prob_sum[i] = p_sum;
}

// ===== shader s11: k24_moe_grouped_up_glu_silu_lm.blocks.1.ffn.experts_bank
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> order: array<i32>;
@group(0) @binding(2) var<storage, read> offsets: array<i32>;
@group(0) @binding(3) var<storage, read> w_gate: array<f32>;
@group(0) @binding(4) var<storage, read> w_up: array<f32>;
@group(0) @binding(5) var<storage, read_write> h: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(6) var<uniform> params: Params;

fn act_silu(x: f32) -> f32 {
  return x / (1.0f + exp(-x));
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 24u)) { return; }
  var t = i / 4u;
  let tile_col = i % 4u;
  var e = 0u;
  var seg_start = 0u;
  var seg_end = 0u;
  let total = params.sym_T;
  loop {
    seg_start = select(u32(offsets[e]), u32(offsets[4u]), e == 4u);
    seg_end = select(u32(offsets[e + 1u]), total, e == 4u);
    let tiles = (seg_end - seg_start + 3u) / 4u;
    if (t < tiles) {
      break;
    }
    t -= tiles;
    e++;
    if (e > 4u) {
      return;
    }
  }
  let pos0 = seg_start + t * 4u + 0u;
  let valid0 = pos0 < seg_end;
  let assignment0 = u32(order[min(pos0, seg_end - 1u)]);
  let pos1 = seg_start + t * 4u + 1u;
  let valid1 = pos1 < seg_end;
  let assignment1 = u32(order[min(pos1, seg_end - 1u)]);
  let pos2 = seg_start + t * 4u + 2u;
  let valid2 = pos2 < seg_end;
  let assignment2 = u32(order[min(pos2, seg_end - 1u)]);
  let pos3 = seg_start + t * 4u + 3u;
  let valid3 = pos3 < seg_end;
  let assignment3 = u32(order[min(pos3, seg_end - 1u)]);
  let col0 = tile_col * 4u + 0u;
  let wc0 = min(col0, 15u);
  let col1 = tile_col * 4u + 1u;
  let wc1 = min(col1, 15u);
  let col2 = tile_col * 4u + 2u;
  let wc2 = min(col2, 15u);
  let col3 = tile_col * 4u + 3u;
  let wc3 = min(col3, 15u);
  if (e == 4u) {
    if (valid0) {
      h[assignment0 * 16u + col0] = 0.0f;
      h[assignment0 * 16u + col1] = 0.0f;
      h[assignment0 * 16u + col2] = 0.0f;
      h[assignment0 * 16u + col3] = 0.0f;
    }
    if (valid1) {
      h[assignment1 * 16u + col0] = 0.0f;
      h[assignment1 * 16u + col1] = 0.0f;
      h[assignment1 * 16u + col2] = 0.0f;
      h[assignment1 * 16u + col3] = 0.0f;
    }
    if (valid2) {
      h[assignment2 * 16u + col0] = 0.0f;
      h[assignment2 * 16u + col1] = 0.0f;
      h[assignment2 * 16u + col2] = 0.0f;
      h[assignment2 * 16u + col3] = 0.0f;
    }
    if (valid3) {
      h[assignment3 * 16u + col0] = 0.0f;
      h[assignment3 * 16u + col1] = 0.0f;
      h[assignment3 * 16u + col2] = 0.0f;
      h[assignment3 * 16u + col3] = 0.0f;
    }
    return;
  }
  let wbase = e * 16u;
  var acc0: array<array<f32, 4>, 4>;
  var acc1: array<array<f32, 4>, 4>;
  for (var kk = 0u; kk < 16u; kk++) {
    let a0 = x[(assignment0 / 1u) * 16u + kk];
    let a1 = x[(assignment1 / 1u) * 16u + kk];
    let a2 = x[(assignment2 / 1u) * 16u + kk];
    let a3 = x[(assignment3 / 1u) * 16u + kk];
    let b0_0 = w_gate[(wbase + wc0) * 16u + kk];
    let b0_1 = w_gate[(wbase + wc1) * 16u + kk];
    let b0_2 = w_gate[(wbase + wc2) * 16u + kk];
    let b0_3 = w_gate[(wbase + wc3) * 16u + kk];
    acc0[0][0] = fma(a0, b0_0, acc0[0][0]);
    acc0[0][1] = fma(a0, b0_1, acc0[0][1]);
    acc0[0][2] = fma(a0, b0_2, acc0[0][2]);
    acc0[0][3] = fma(a0, b0_3, acc0[0][3]);
    acc0[1][0] = fma(a1, b0_0, acc0[1][0]);
    acc0[1][1] = fma(a1, b0_1, acc0[1][1]);
    acc0[1][2] = fma(a1, b0_2, acc0[1][2]);
    acc0[1][3] = fma(a1, b0_3, acc0[1][3]);
    acc0[2][0] = fma(a2, b0_0, acc0[2][0]);
    acc0[2][1] = fma(a2, b0_1, acc0[2][1]);
    acc0[2][2] = fma(a2, b0_2, acc0[2][2]);
    acc0[2][3] = fma(a2, b0_3, acc0[2][3]);
    acc0[3][0] = fma(a3, b0_0, acc0[3][0]);
    acc0[3][1] = fma(a3, b0_1, acc0[3][1]);
    acc0[3][2] = fma(a3, b0_2, acc0[3][2]);
    acc0[3][3] = fma(a3, b0_3, acc0[3][3]);
    let b1_0 = w_up[(wbase + wc0) * 16u + kk];
    let b1_1 = w_up[(wbase + wc1) * 16u + kk];
    let b1_2 = w_up[(wbase + wc2) * 16u + kk];
    let b1_3 = w_up[(wbase + wc3) * 16u + kk];
    acc1[0][0] = fma(a0, b1_0, acc1[0][0]);
    acc1[0][1] = fma(a0, b1_1, acc1[0][1]);
    acc1[0][2] = fma(a0, b1_2, acc1[0][2]);
    acc1[0][3] = fma(a0, b1_3, acc1[0][3]);
    acc1[1][0] = fma(a1, b1_0, acc1[1][0]);
    acc1[1][1] = fma(a1, b1_1, acc1[1][1]);
    acc1[1][2] = fma(a1, b1_2, acc1[1][2]);
    acc1[1][3] = fma(a1, b1_3, acc1[1][3]);
    acc1[2][0] = fma(a2, b1_0, acc1[2][0]);
    acc1[2][1] = fma(a2, b1_1, acc1[2][1]);
    acc1[2][2] = fma(a2, b1_2, acc1[2][2]);
    acc1[2][3] = fma(a2, b1_3, acc1[2][3]);
    acc1[3][0] = fma(a3, b1_0, acc1[3][0]);
    acc1[3][1] = fma(a3, b1_1, acc1[3][1]);
    acc1[3][2] = fma(a3, b1_2, acc1[3][2]);
    acc1[3][3] = fma(a3, b1_3, acc1[3][3]);
  }
  if (valid0) {
    h[assignment0 * 16u + col0] = act_silu(acc0[0][0]) * acc1[0][0];
    h[assignment0 * 16u + col1] = act_silu(acc0[0][1]) * acc1[0][1];
    h[assignment0 * 16u + col2] = act_silu(acc0[0][2]) * acc1[0][2];
    h[assignment0 * 16u + col3] = act_silu(acc0[0][3]) * acc1[0][3];
  }
  if (valid1) {
    h[assignment1 * 16u + col0] = act_silu(acc0[1][0]) * acc1[1][0];
    h[assignment1 * 16u + col1] = act_silu(acc0[1][1]) * acc1[1][1];
    h[assignment1 * 16u + col2] = act_silu(acc0[1][2]) * acc1[1][2];
    h[assignment1 * 16u + col3] = act_silu(acc0[1][3]) * acc1[1][3];
  }
  if (valid2) {
    h[assignment2 * 16u + col0] = act_silu(acc0[2][0]) * acc1[2][0];
    h[assignment2 * 16u + col1] = act_silu(acc0[2][1]) * acc1[2][1];
    h[assignment2 * 16u + col2] = act_silu(acc0[2][2]) * acc1[2][2];
    h[assignment2 * 16u + col3] = act_silu(acc0[2][3]) * acc1[2][3];
  }
  if (valid3) {
    h[assignment3 * 16u + col0] = act_silu(acc0[3][0]) * acc1[3][0];
    h[assignment3 * 16u + col1] = act_silu(acc0[3][1]) * acc1[3][1];
    h[assignment3 * 16u + col2] = act_silu(acc0[3][2]) * acc1[3][2];
    h[assignment3 * 16u + col3] = act_silu(acc0[3][3]) * acc1[3][3];
  }
}

// ===== shader s12: k25_moe_grouped_down_lm.blocks.1.ffn.experts_bank
@group(0) @binding(0) var<storage, read> h: array<f32>;
@group(0) @binding(1) var<storage, read> order: array<i32>;
@group(0) @binding(2) var<storage, read> offsets: array<i32>;
@group(0) @binding(3) var<storage, read> gate: array<f32>;
@group(0) @binding(4) var<storage, read> w2: array<f32>;
@group(0) @binding(5) var<storage, read_write> slots: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(6) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 24u)) { return; }
  var t = i / 4u;
  let tile_col = i % 4u;
  var e = 0u;
  var seg_start = 0u;
  var seg_end = 0u;
  let total = params.sym_T;
  loop {
    seg_start = select(u32(offsets[e]), u32(offsets[4u]), e == 4u);
    seg_end = select(u32(offsets[e + 1u]), total, e == 4u);
    let tiles = (seg_end - seg_start + 3u) / 4u;
    if (t < tiles) {
      break;
    }
    t -= tiles;
    e++;
    if (e > 4u) {
      return;
    }
  }
  let pos0 = seg_start + t * 4u + 0u;
  let valid0 = pos0 < seg_end;
  let assignment0 = u32(order[min(pos0, seg_end - 1u)]);
  let pos1 = seg_start + t * 4u + 1u;
  let valid1 = pos1 < seg_end;
  let assignment1 = u32(order[min(pos1, seg_end - 1u)]);
  let pos2 = seg_start + t * 4u + 2u;
  let valid2 = pos2 < seg_end;
  let assignment2 = u32(order[min(pos2, seg_end - 1u)]);
  let pos3 = seg_start + t * 4u + 3u;
  let valid3 = pos3 < seg_end;
  let assignment3 = u32(order[min(pos3, seg_end - 1u)]);
  let col0 = tile_col * 4u + 0u;
  let wc0 = min(col0, 15u);
  let col1 = tile_col * 4u + 1u;
  let wc1 = min(col1, 15u);
  let col2 = tile_col * 4u + 2u;
  let wc2 = min(col2, 15u);
  let col3 = tile_col * 4u + 3u;
  let wc3 = min(col3, 15u);
  if (e == 4u) {
    if (valid0) {
      slots[assignment0 * 16u + col0] = 0.0f;
      slots[assignment0 * 16u + col1] = 0.0f;
      slots[assignment0 * 16u + col2] = 0.0f;
      slots[assignment0 * 16u + col3] = 0.0f;
    }
    if (valid1) {
      slots[assignment1 * 16u + col0] = 0.0f;
      slots[assignment1 * 16u + col1] = 0.0f;
      slots[assignment1 * 16u + col2] = 0.0f;
      slots[assignment1 * 16u + col3] = 0.0f;
    }
    if (valid2) {
      slots[assignment2 * 16u + col0] = 0.0f;
      slots[assignment2 * 16u + col1] = 0.0f;
      slots[assignment2 * 16u + col2] = 0.0f;
      slots[assignment2 * 16u + col3] = 0.0f;
    }
    if (valid3) {
      slots[assignment3 * 16u + col0] = 0.0f;
      slots[assignment3 * 16u + col1] = 0.0f;
      slots[assignment3 * 16u + col2] = 0.0f;
      slots[assignment3 * 16u + col3] = 0.0f;
    }
    return;
  }
  let wbase = e * 16u;
  var acc0: array<array<f32, 4>, 4>;
  for (var kk = 0u; kk < 16u; kk++) {
    let a0 = h[assignment0 * 16u + kk];
    let a1 = h[assignment1 * 16u + kk];
    let a2 = h[assignment2 * 16u + kk];
    let a3 = h[assignment3 * 16u + kk];
    let b0_0 = w2[(wbase + wc0) * 16u + kk];
    let b0_1 = w2[(wbase + wc1) * 16u + kk];
    let b0_2 = w2[(wbase + wc2) * 16u + kk];
    let b0_3 = w2[(wbase + wc3) * 16u + kk];
    acc0[0][0] = fma(a0, b0_0, acc0[0][0]);
    acc0[0][1] = fma(a0, b0_1, acc0[0][1]);
    acc0[0][2] = fma(a0, b0_2, acc0[0][2]);
    acc0[0][3] = fma(a0, b0_3, acc0[0][3]);
    acc0[1][0] = fma(a1, b0_0, acc0[1][0]);
    acc0[1][1] = fma(a1, b0_1, acc0[1][1]);
    acc0[1][2] = fma(a1, b0_2, acc0[1][2]);
    acc0[1][3] = fma(a1, b0_3, acc0[1][3]);
    acc0[2][0] = fma(a2, b0_0, acc0[2][0]);
    acc0[2][1] = fma(a2, b0_1, acc0[2][1]);
    acc0[2][2] = fma(a2, b0_2, acc0[2][2]);
    acc0[2][3] = fma(a2, b0_3, acc0[2][3]);
    acc0[3][0] = fma(a3, b0_0, acc0[3][0]);
    acc0[3][1] = fma(a3, b0_1, acc0[3][1]);
    acc0[3][2] = fma(a3, b0_2, acc0[3][2]);
    acc0[3][3] = fma(a3, b0_3, acc0[3][3]);
  }
  if (valid0) {
    let g0 = gate[assignment0];
    slots[assignment0 * 16u + col0] = g0 * (acc0[0][0]);
    slots[assignment0 * 16u + col1] = g0 * (acc0[0][1]);
    slots[assignment0 * 16u + col2] = g0 * (acc0[0][2]);
    slots[assignment0 * 16u + col3] = g0 * (acc0[0][3]);
  }
  if (valid1) {
    let g1 = gate[assignment1];
    slots[assignment1 * 16u + col0] = g1 * (acc0[1][0]);
    slots[assignment1 * 16u + col1] = g1 * (acc0[1][1]);
    slots[assignment1 * 16u + col2] = g1 * (acc0[1][2]);
    slots[assignment1 * 16u + col3] = g1 * (acc0[1][3]);
  }
  if (valid2) {
    let g2 = gate[assignment2];
    slots[assignment2 * 16u + col0] = g2 * (acc0[2][0]);
    slots[assignment2 * 16u + col1] = g2 * (acc0[2][1]);
    slots[assignment2 * 16u + col2] = g2 * (acc0[2][2]);
    slots[assignment2 * 16u + col3] = g2 * (acc0[2][3]);
  }
  if (valid3) {
    let g3 = gate[assignment3];
    slots[assignment3 * 16u + col0] = g3 * (acc0[3][0]);
    slots[assignment3 * 16u + col1] = g3 * (acc0[3][1]);
    slots[assignment3 * 16u + col2] = g3 * (acc0[3][2]);
    slots[assignment3 * 16u + col3] = g3 * (acc0[3][3]);
  }
}

// ===== shader s13: k26_combine_add_lm.blocks.1
@group(0) @binding(0) var<storage, read> slots: array<f32>;
@group(0) @binding(1) var<storage, read> residual: array<f32>;
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
  let c = i % 16u;
  let base = ((row * 1u + c / 16u) * 1u) * 16u + c % 16u;
  var s = residual[i];
  s += slots[base + 0u];
  y[i] = s;
}

// ===== shader s14: k28_linear_tiled_lm.lm_head
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
  if (i >= (params.sym_T * 8u)) { return; }
  let tile_row = i / 8u;
  let tile_col = i % 8u;
  if (tile_row >= ((params.sym_T + 3u) / 4u)) {
    return;
  }
  let row0 = tile_row * 4u + 0u;
  let src0 = min(row0, params.sym_T - 1u) * 16u;
  let row1 = tile_row * 4u + 1u;
  let src1 = min(row1, params.sym_T - 1u) * 16u;
  let row2 = tile_row * 4u + 2u;
  let src2 = min(row2, params.sym_T - 1u) * 16u;
  let row3 = tile_row * 4u + 3u;
  let src3 = min(row3, params.sym_T - 1u) * 16u;
  let col0 = tile_col * 4u + 0u;
  let wc0 = min(col0, 31u);
  let col1 = tile_col * 4u + 1u;
  let wc1 = min(col1, 31u);
  let col2 = tile_col * 4u + 2u;
  let wc2 = min(col2, 31u);
  let col3 = tile_col * 4u + 3u;
  let wc3 = min(col3, 31u);
  var acc0: array<array<f32, 4>, 4>;
  for (var kk = 0u; kk < 16u; kk++) {
    let a0 = x[src0 + kk];
    let a1 = x[src1 + kk];
    let a2 = x[src2 + kk];
    let a3 = x[src3 + kk];
    let b0_0 = w[wc0 * 16u + kk];
    let b0_1 = w[wc1 * 16u + kk];
    let b0_2 = w[wc2 * 16u + kk];
    let b0_3 = w[wc3 * 16u + kk];
    acc0[0][0] = fma(a0, b0_0, acc0[0][0]);
    acc0[0][1] = fma(a0, b0_1, acc0[0][1]);
    acc0[0][2] = fma(a0, b0_2, acc0[0][2]);
    acc0[0][3] = fma(a0, b0_3, acc0[0][3]);
    acc0[1][0] = fma(a1, b0_0, acc0[1][0]);
    acc0[1][1] = fma(a1, b0_1, acc0[1][1]);
    acc0[1][2] = fma(a1, b0_2, acc0[1][2]);
    acc0[1][3] = fma(a1, b0_3, acc0[1][3]);
    acc0[2][0] = fma(a2, b0_0, acc0[2][0]);
    acc0[2][1] = fma(a2, b0_1, acc0[2][1]);
    acc0[2][2] = fma(a2, b0_2, acc0[2][2]);
    acc0[2][3] = fma(a2, b0_3, acc0[2][3]);
    acc0[3][0] = fma(a3, b0_0, acc0[3][0]);
    acc0[3][1] = fma(a3, b0_1, acc0[3][1]);
    acc0[3][2] = fma(a3, b0_2, acc0[3][2]);
    acc0[3][3] = fma(a3, b0_3, acc0[3][3]);
  }
  if (row0 < params.sym_T) {
    y[row0 * 32u + col0] = acc0[0][0];
    y[row0 * 32u + col1] = acc0[0][1];
    y[row0 * 32u + col2] = acc0[0][2];
    y[row0 * 32u + col3] = acc0[0][3];
  }
  if (row1 < params.sym_T) {
    y[row1 * 32u + col0] = acc0[1][0];
    y[row1 * 32u + col1] = acc0[1][1];
    y[row1 * 32u + col2] = acc0[1][2];
    y[row1 * 32u + col3] = acc0[1][3];
  }
  if (row2 < params.sym_T) {
    y[row2 * 32u + col0] = acc0[2][0];
    y[row2 * 32u + col1] = acc0[2][1];
    y[row2 * 32u + col2] = acc0[2][2];
    y[row2 * 32u + col3] = acc0[2][3];
  }
  if (row3 < params.sym_T) {
    y[row3 * 32u + col0] = acc0[3][0];
    y[row3 * 32u + col1] = acc0[3][1];
    y[row3 * 32u + col2] = acc0[3][2];
    y[row3 * 32u + col3] = acc0[3][3];
  }
}
