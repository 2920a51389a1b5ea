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

// ===== shader s1: k01_rmsnorm_lm.blocks.0.attn_norm, k09_rmsnorm_lm.blocks.0.ffn_norm, k12_rmsnorm_lm.blocks.1.attn_norm, k20_rmsnorm_lm.blocks.1.ffn_norm, k29_rmsnorm_lm.norm
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

// ===== shader s2: k02_linear_tiled_lm.blocks.0.attn, k03_linear_tiled_lm.blocks.0.attn, k04_linear_tiled_lm.blocks.0.attn, k13_linear_tiled_lm.blocks.1.attn, k14_linear_tiled_lm.blocks.1.attn, k15_linear_tiled_lm.blocks.1.attn, k21_linear_tiled_lm.blocks.1.ffn.head
@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<f32>>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wid.y * nwg.x + wid.x;
  if (g >= ((params.sym_T + 7u) / 8u) * 1u) { return; }
  let row_base = (g / 1u) * 8u;
  let cb = g % 1u;
  let col0 = cb * 32u + lid * 4u + 0u;
  let wc0 = min(col0, 15u);
  let col1 = cb * 32u + lid * 4u + 1u;
  let wc1 = min(col1, 15u);
  let col2 = cb * 32u + lid * 4u + 2u;
  let wc2 = min(col2, 15u);
  let col3 = cb * 32u + lid * 4u + 3u;
  let wc3 = min(col3, 15u);
  let key0 = min(row_base + 0u, params.sym_T - 1u);
  let src0 = key0;
  let key1 = min(row_base + 1u, params.sym_T - 1u);
  let src1 = key1;
  let key2 = min(row_base + 2u, params.sym_T - 1u);
  let src2 = key2;
  let key3 = min(row_base + 3u, params.sym_T - 1u);
  let src3 = key3;
  let key4 = min(row_base + 4u, params.sym_T - 1u);
  let src4 = key4;
  let key5 = min(row_base + 5u, params.sym_T - 1u);
  let src5 = key5;
  let key6 = min(row_base + 6u, params.sym_T - 1u);
  let src6 = key6;
  let key7 = min(row_base + 7u, params.sym_T - 1u);
  let src7 = key7;
  var acc0_0_0 = 0.0f;
  var acc0_0_1 = 0.0f;
  var acc0_0_2 = 0.0f;
  var acc0_0_3 = 0.0f;
  var acc0_1_0 = 0.0f;
  var acc0_1_1 = 0.0f;
  var acc0_1_2 = 0.0f;
  var acc0_1_3 = 0.0f;
  var acc0_2_0 = 0.0f;
  var acc0_2_1 = 0.0f;
  var acc0_2_2 = 0.0f;
  var acc0_2_3 = 0.0f;
  var acc0_3_0 = 0.0f;
  var acc0_3_1 = 0.0f;
  var acc0_3_2 = 0.0f;
  var acc0_3_3 = 0.0f;
  var acc0_4_0 = 0.0f;
  var acc0_4_1 = 0.0f;
  var acc0_4_2 = 0.0f;
  var acc0_4_3 = 0.0f;
  var acc0_5_0 = 0.0f;
  var acc0_5_1 = 0.0f;
  var acc0_5_2 = 0.0f;
  var acc0_5_3 = 0.0f;
  var acc0_6_0 = 0.0f;
  var acc0_6_1 = 0.0f;
  var acc0_6_2 = 0.0f;
  var acc0_6_3 = 0.0f;
  var acc0_7_0 = 0.0f;
  var acc0_7_1 = 0.0f;
  var acc0_7_2 = 0.0f;
  var acc0_7_3 = 0.0f;
  for (var kv = 0u; kv < 4u; kv++) {
    let b0_0 = w[wc0 * 4u + kv];
    let b0_1 = w[wc1 * 4u + kv];
    let b0_2 = w[wc2 * 4u + kv];
    let b0_3 = w[wc3 * 4u + kv];
    let a0 = x[src0 * 4u + kv];
    acc0_0_0 = fma(a0.w, b0_0.w, fma(a0.z, b0_0.z, fma(a0.y, b0_0.y, fma(a0.x, b0_0.x, acc0_0_0))));
    acc0_0_1 = fma(a0.w, b0_1.w, fma(a0.z, b0_1.z, fma(a0.y, b0_1.y, fma(a0.x, b0_1.x, acc0_0_1))));
    acc0_0_2 = fma(a0.w, b0_2.w, fma(a0.z, b0_2.z, fma(a0.y, b0_2.y, fma(a0.x, b0_2.x, acc0_0_2))));
    acc0_0_3 = fma(a0.w, b0_3.w, fma(a0.z, b0_3.z, fma(a0.y, b0_3.y, fma(a0.x, b0_3.x, acc0_0_3))));
    let a1 = x[src1 * 4u + kv];
    acc0_1_0 = fma(a1.w, b0_0.w, fma(a1.z, b0_0.z, fma(a1.y, b0_0.y, fma(a1.x, b0_0.x, acc0_1_0))));
    acc0_1_1 = fma(a1.w, b0_1.w, fma(a1.z, b0_1.z, fma(a1.y, b0_1.y, fma(a1.x, b0_1.x, acc0_1_1))));
    acc0_1_2 = fma(a1.w, b0_2.w, fma(a1.z, b0_2.z, fma(a1.y, b0_2.y, fma(a1.x, b0_2.x, acc0_1_2))));
    acc0_1_3 = fma(a1.w, b0_3.w, fma(a1.z, b0_3.z, fma(a1.y, b0_3.y, fma(a1.x, b0_3.x, acc0_1_3))));
    let a2 = x[src2 * 4u + kv];
    acc0_2_0 = fma(a2.w, b0_0.w, fma(a2.z, b0_0.z, fma(a2.y, b0_0.y, fma(a2.x, b0_0.x, acc0_2_0))));
    acc0_2_1 = fma(a2.w, b0_1.w, fma(a2.z, b0_1.z, fma(a2.y, b0_1.y, fma(a2.x, b0_1.x, acc0_2_1))));
    acc0_2_2 = fma(a2.w, b0_2.w, fma(a2.z, b0_2.z, fma(a2.y, b0_2.y, fma(a2.x, b0_2.x, acc0_2_2))));
    acc0_2_3 = fma(a2.w, b0_3.w, fma(a2.z, b0_3.z, fma(a2.y, b0_3.y, fma(a2.x, b0_3.x, acc0_2_3))));
    let a3 = x[src3 * 4u + kv];
    acc0_3_0 = fma(a3.w, b0_0.w, fma(a3.z, b0_0.z, fma(a3.y, b0_0.y, fma(a3.x, b0_0.x, acc0_3_0))));
    acc0_3_1 = fma(a3.w, b0_1.w, fma(a3.z, b0_1.z, fma(a3.y, b0_1.y, fma(a3.x, b0_1.x, acc0_3_1))));
    acc0_3_2 = fma(a3.w, b0_2.w, fma(a3.z, b0_2.z, fma(a3.y, b0_2.y, fma(a3.x, b0_2.x, acc0_3_2))));
    acc0_3_3 = fma(a3.w, b0_3.w, fma(a3.z, b0_3.z, fma(a3.y, b0_3.y, fma(a3.x, b0_3.x, acc0_3_3))));
    let a4 = x[src4 * 4u + kv];
    acc0_4_0 = fma(a4.w, b0_0.w, fma(a4.z, b0_0.z, fma(a4.y, b0_0.y, fma(a4.x, b0_0.x, acc0_4_0))));
    acc0_4_1 = fma(a4.w, b0_1.w, fma(a4.z, b0_1.z, fma(a4.y, b0_1.y, fma(a4.x, b0_1.x, acc0_4_1))));
    acc0_4_2 = fma(a4.w, b0_2.w, fma(a4.z, b0_2.z, fma(a4.y, b0_2.y, fma(a4.x, b0_2.x, acc0_4_2))));
    acc0_4_3 = fma(a4.w, b0_3.w, fma(a4.z, b0_3.z, fma(a4.y, b0_3.y, fma(a4.x, b0_3.x, acc0_4_3))));
    let a5 = x[src5 * 4u + kv];
    acc0_5_0 = fma(a5.w, b0_0.w, fma(a5.z, b0_0.z, fma(a5.y, b0_0.y, fma(a5.x, b0_0.x, acc0_5_0))));
    acc0_5_1 = fma(a5.w, b0_1.w, fma(a5.z, b0_1.z, fma(a5.y, b0_1.y, fma(a5.x, b0_1.x, acc0_5_1))));
    acc0_5_2 = fma(a5.w, b0_2.w, fma(a5.z, b0_2.z, fma(a5.y, b0_2.y, fma(a5.x, b0_2.x, acc0_5_2))));
    acc0_5_3 = fma(a5.w, b0_3.w, fma(a5.z, b0_3.z, fma(a5.y, b0_3.y, fma(a5.x, b0_3.x, acc0_5_3))));
    let a6 = x[src6 * 4u + kv];
    acc0_6_0 = fma(a6.w, b0_0.w, fma(a6.z, b0_0.z, fma(a6.y, b0_0.y, fma(a6.x, b0_0.x, acc0_6_0))));
    acc0_6_1 = fma(a6.w, b0_1.w, fma(a6.z, b0_1.z, fma(a6.y, b0_1.y, fma(a6.x, b0_1.x, acc0_6_1))));
    acc0_6_2 = fma(a6.w, b0_2.w, fma(a6.z, b0_2.z, fma(a6.y, b0_2.y, fma(a6.x, b0_2.x, acc0_6_2))));
    acc0_6_3 = fma(a6.w, b0_3.w, fma(a6.z, b0_3.z, fma(a6.y, b0_3.y, fma(a6.x, b0_3.x, acc0_6_3))));
    let a7 = x[src7 * 4u + kv];
    acc0_7_0 = fma(a7.w, b0_0.w, fma(a7.z, b0_0.z, fma(a7.y, b0_0.y, fma(a7.x, b0_0.x, acc0_7_0))));
    acc0_7_1 = fma(a7.w, b0_1.w, fma(a7.z, b0_1.z, fma(a7.y, b0_1.y, fma(a7.x, b0_1.x, acc0_7_1))));
    acc0_7_2 = fma(a7.w, b0_2.w, fma(a7.z, b0_2.z, fma(a7.y, b0_2.y, fma(a7.x, b0_2.x, acc0_7_2))));
    acc0_7_3 = fma(a7.w, b0_3.w, fma(a7.z, b0_3.z, fma(a7.y, b0_3.y, fma(a7.x, b0_3.x, acc0_7_3))));
  }
  let row0 = row_base + 0u;
  if (row0 < params.sym_T) {
    if (col0 < 16u) {
      y[(row0 * 16u + col0) / 4u] = vec4<f32>(acc0_0_0, acc0_0_1, acc0_0_2, acc0_0_3);
    }
  }
  let row1 = row_base + 1u;
  if (row1 < params.sym_T) {
    if (col0 < 16u) {
      y[(row1 * 16u + col0) / 4u] = vec4<f32>(acc0_1_0, acc0_1_1, acc0_1_2, acc0_1_3);
    }
  }
  let row2 = row_base + 2u;
  if (row2 < params.sym_T) {
    if (col0 < 16u) {
      y[(row2 * 16u + col0) / 4u] = vec4<f32>(acc0_2_0, acc0_2_1, acc0_2_2, acc0_2_3);
    }
  }
  let row3 = row_base + 3u;
  if (row3 < params.sym_T) {
    if (col0 < 16u) {
      y[(row3 * 16u + col0) / 4u] = vec4<f32>(acc0_3_0, acc0_3_1, acc0_3_2, acc0_3_3);
    }
  }
  let row4 = row_base + 4u;
  if (row4 < params.sym_T) {
    if (col0 < 16u) {
      y[(row4 * 16u + col0) / 4u] = vec4<f32>(acc0_4_0, acc0_4_1, acc0_4_2, acc0_4_3);
    }
  }
  let row5 = row_base + 5u;
  if (row5 < params.sym_T) {
    if (col0 < 16u) {
      y[(row5 * 16u + col0) / 4u] = vec4<f32>(acc0_5_0, acc0_5_1, acc0_5_2, acc0_5_3);
    }
  }
  let row6 = row_base + 6u;
  if (row6 < params.sym_T) {
    if (col0 < 16u) {
      y[(row6 * 16u + col0) / 4u] = vec4<f32>(acc0_6_0, acc0_6_1, acc0_6_2, acc0_6_3);
    }
  }
  let row7 = row_base + 7u;
  if (row7 < params.sym_T) {
    if (col0 < 16u) {
      y[(row7 * 16u + col0) / 4u] = vec4<f32>(acc0_7_0, acc0_7_1, acc0_7_2, acc0_7_3);
    }
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
@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> residual: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4<f32>>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wid.y * nwg.x + wid.x;
  if (g >= ((params.sym_T + 7u) / 8u) * 1u) { return; }
  let row_base = (g / 1u) * 8u;
  let cb = g % 1u;
  let col0 = cb * 32u + lid * 4u + 0u;
  let wc0 = min(col0, 15u);
  let col1 = cb * 32u + lid * 4u + 1u;
  let wc1 = min(col1, 15u);
  let col2 = cb * 32u + lid * 4u + 2u;
  let wc2 = min(col2, 15u);
  let col3 = cb * 32u + lid * 4u + 3u;
  let wc3 = min(col3, 15u);
  let key0 = min(row_base + 0u, params.sym_T - 1u);
  let src0 = key0;
  let key1 = min(row_base + 1u, params.sym_T - 1u);
  let src1 = key1;
  let key2 = min(row_base + 2u, params.sym_T - 1u);
  let src2 = key2;
  let key3 = min(row_base + 3u, params.sym_T - 1u);
  let src3 = key3;
  let key4 = min(row_base + 4u, params.sym_T - 1u);
  let src4 = key4;
  let key5 = min(row_base + 5u, params.sym_T - 1u);
  let src5 = key5;
  let key6 = min(row_base + 6u, params.sym_T - 1u);
  let src6 = key6;
  let key7 = min(row_base + 7u, params.sym_T - 1u);
  let src7 = key7;
  var acc0_0_0 = 0.0f;
  var acc0_0_1 = 0.0f;
  var acc0_0_2 = 0.0f;
  var acc0_0_3 = 0.0f;
  var acc0_1_0 = 0.0f;
  var acc0_1_1 = 0.0f;
  var acc0_1_2 = 0.0f;
  var acc0_1_3 = 0.0f;
  var acc0_2_0 = 0.0f;
  var acc0_2_1 = 0.0f;
  var acc0_2_2 = 0.0f;
  var acc0_2_3 = 0.0f;
  var acc0_3_0 = 0.0f;
  var acc0_3_1 = 0.0f;
  var acc0_3_2 = 0.0f;
  var acc0_3_3 = 0.0f;
  var acc0_4_0 = 0.0f;
  var acc0_4_1 = 0.0f;
  var acc0_4_2 = 0.0f;
  var acc0_4_3 = 0.0f;
  var acc0_5_0 = 0.0f;
  var acc0_5_1 = 0.0f;
  var acc0_5_2 = 0.0f;
  var acc0_5_3 = 0.0f;
  var acc0_6_0 = 0.0f;
  var acc0_6_1 = 0.0f;
  var acc0_6_2 = 0.0f;
  var acc0_6_3 = 0.0f;
  var acc0_7_0 = 0.0f;
  var acc0_7_1 = 0.0f;
  var acc0_7_2 = 0.0f;
  var acc0_7_3 = 0.0f;
  for (var kv = 0u; kv < 4u; kv++) {
    let b0_0 = w[wc0 * 4u + kv];
    let b0_1 = w[wc1 * 4u + kv];
    let b0_2 = w[wc2 * 4u + kv];
    let b0_3 = w[wc3 * 4u + kv];
    let a0 = x[src0 * 4u + kv];
    acc0_0_0 = fma(a0.w, b0_0.w, fma(a0.z, b0_0.z, fma(a0.y, b0_0.y, fma(a0.x, b0_0.x, acc0_0_0))));
    acc0_0_1 = fma(a0.w, b0_1.w, fma(a0.z, b0_1.z, fma(a0.y, b0_1.y, fma(a0.x, b0_1.x, acc0_0_1))));
    acc0_0_2 = fma(a0.w, b0_2.w, fma(a0.z, b0_2.z, fma(a0.y, b0_2.y, fma(a0.x, b0_2.x, acc0_0_2))));
    acc0_0_3 = fma(a0.w, b0_3.w, fma(a0.z, b0_3.z, fma(a0.y, b0_3.y, fma(a0.x, b0_3.x, acc0_0_3))));
    let a1 = x[src1 * 4u + kv];
    acc0_1_0 = fma(a1.w, b0_0.w, fma(a1.z, b0_0.z, fma(a1.y, b0_0.y, fma(a1.x, b0_0.x, acc0_1_0))));
    acc0_1_1 = fma(a1.w, b0_1.w, fma(a1.z, b0_1.z, fma(a1.y, b0_1.y, fma(a1.x, b0_1.x, acc0_1_1))));
    acc0_1_2 = fma(a1.w, b0_2.w, fma(a1.z, b0_2.z, fma(a1.y, b0_2.y, fma(a1.x, b0_2.x, acc0_1_2))));
    acc0_1_3 = fma(a1.w, b0_3.w, fma(a1.z, b0_3.z, fma(a1.y, b0_3.y, fma(a1.x, b0_3.x, acc0_1_3))));
    let a2 = x[src2 * 4u + kv];
    acc0_2_0 = fma(a2.w, b0_0.w, fma(a2.z, b0_0.z, fma(a2.y, b0_0.y, fma(a2.x, b0_0.x, acc0_2_0))));
    acc0_2_1 = fma(a2.w, b0_1.w, fma(a2.z, b0_1.z, fma(a2.y, b0_1.y, fma(a2.x, b0_1.x, acc0_2_1))));
    acc0_2_2 = fma(a2.w, b0_2.w, fma(a2.z, b0_2.z, fma(a2.y, b0_2.y, fma(a2.x, b0_2.x, acc0_2_2))));
    acc0_2_3 = fma(a2.w, b0_3.w, fma(a2.z, b0_3.z, fma(a2.y, b0_3.y, fma(a2.x, b0_3.x, acc0_2_3))));
    let a3 = x[src3 * 4u + kv];
    acc0_3_0 = fma(a3.w, b0_0.w, fma(a3.z, b0_0.z, fma(a3.y, b0_0.y, fma(a3.x, b0_0.x, acc0_3_0))));
    acc0_3_1 = fma(a3.w, b0_1.w, fma(a3.z, b0_1.z, fma(a3.y, b0_1.y, fma(a3.x, b0_1.x, acc0_3_1))));
    acc0_3_2 = fma(a3.w, b0_2.w, fma(a3.z, b0_2.z, fma(a3.y, b0_2.y, fma(a3.x, b0_2.x, acc0_3_2))));
    acc0_3_3 = fma(a3.w, b0_3.w, fma(a3.z, b0_3.z, fma(a3.y, b0_3.y, fma(a3.x, b0_3.x, acc0_3_3))));
    let a4 = x[src4 * 4u + kv];
    acc0_4_0 = fma(a4.w, b0_0.w, fma(a4.z, b0_0.z, fma(a4.y, b0_0.y, fma(a4.x, b0_0.x, acc0_4_0))));
    acc0_4_1 = fma(a4.w, b0_1.w, fma(a4.z, b0_1.z, fma(a4.y, b0_1.y, fma(a4.x, b0_1.x, acc0_4_1))));
    acc0_4_2 = fma(a4.w, b0_2.w, fma(a4.z, b0_2.z, fma(a4.y, b0_2.y, fma(a4.x, b0_2.x, acc0_4_2))));
    acc0_4_3 = fma(a4.w, b0_3.w, fma(a4.z, b0_3.z, fma(a4.y, b0_3.y, fma(a4.x, b0_3.x, acc0_4_3))));
    let a5 = x[src5 * 4u + kv];
    acc0_5_0 = fma(a5.w, b0_0.w, fma(a5.z, b0_0.z, fma(a5.y, b0_0.y, fma(a5.x, b0_0.x, acc0_5_0))));
    acc0_5_1 = fma(a5.w, b0_1.w, fma(a5.z, b0_1.z, fma(a5.y, b0_1.y, fma(a5.x, b0_1.x, acc0_5_1))));
    acc0_5_2 = fma(a5.w, b0_2.w, fma(a5.z, b0_2.z, fma(a5.y, b0_2.y, fma(a5.x, b0_2.x, acc0_5_2))));
    acc0_5_3 = fma(a5.w, b0_3.w, fma(a5.z, b0_3.z, fma(a5.y, b0_3.y, fma(a5.x, b0_3.x, acc0_5_3))));
    let a6 = x[src6 * 4u + kv];
    acc0_6_0 = fma(a6.w, b0_0.w, fma(a6.z, b0_0.z, fma(a6.y, b0_0.y, fma(a6.x, b0_0.x, acc0_6_0))));
    acc0_6_1 = fma(a6.w, b0_1.w, fma(a6.z, b0_1.z, fma(a6.y, b0_1.y, fma(a6.x, b0_1.x, acc0_6_1))));
    acc0_6_2 = fma(a6.w, b0_2.w, fma(a6.z, b0_2.z, fma(a6.y, b0_2.y, fma(a6.x, b0_2.x, acc0_6_2))));
    acc0_6_3 = fma(a6.w, b0_3.w, fma(a6.z, b0_3.z, fma(a6.y, b0_3.y, fma(a6.x, b0_3.x, acc0_6_3))));
    let a7 = x[src7 * 4u + kv];
    acc0_7_0 = fma(a7.w, b0_0.w, fma(a7.z, b0_0.z, fma(a7.y, b0_0.y, fma(a7.x, b0_0.x, acc0_7_0))));
    acc0_7_1 = fma(a7.w, b0_1.w, fma(a7.z, b0_1.z, fma(a7.y, b0_1.y, fma(a7.x, b0_1.x, acc0_7_1))));
    acc0_7_2 = fma(a7.w, b0_2.w, fma(a7.z, b0_2.z, fma(a7.y, b0_2.y, fma(a7.x, b0_2.x, acc0_7_2))));
    acc0_7_3 = fma(a7.w, b0_3.w, fma(a7.z, b0_3.z, fma(a7.y, b0_3.y, fma(a7.x, b0_3.x, acc0_7_3))));
  }
  let row0 = row_base + 0u;
  if (row0 < params.sym_T) {
    let residual0 = residual[(row0 * 16u + col0) / 4u];
    if (col0 < 16u) {
      y[(row0 * 16u + col0) / 4u] = vec4<f32>(acc0_0_0 + residual0.x, acc0_0_1 + residual0.y, acc0_0_2 + residual0.z, acc0_0_3 + residual0.w);
    }
  }
  let row1 = row_base + 1u;
  if (row1 < params.sym_T) {
    let residual1 = residual[(row1 * 16u + col0) / 4u];
    if (col0 < 16u) {
      y[(row1 * 16u + col0) / 4u] = vec4<f32>(acc0_1_0 + residual1.x, acc0_1_1 + residual1.y, acc0_1_2 + residual1.z, acc0_1_3 + residual1.w);
    }
  }
  let row2 = row_base + 2u;
  if (row2 < params.sym_T) {
    let residual2 = residual[(row2 * 16u + col0) / 4u];
    if (col0 < 16u) {
      y[(row2 * 16u + col0) / 4u] = vec4<f32>(acc0_2_0 + residual2.x, acc0_2_1 + residual2.y, acc0_2_2 + residual2.z, acc0_2_3 + residual2.w);
    }
  }
  let row3 = row_base + 3u;
  if (row3 < params.sym_T) {
    let residual3 = residual[(row3 * 16u + col0) / 4u];
    if (col0 < 16u) {
      y[(row3 * 16u + col0) / 4u] = vec4<f32>(acc0_3_0 + residual3.x, acc0_3_1 + residual3.y, acc0_3_2 + residual3.z, acc0_3_3 + residual3.w);
    }
  }
  let row4 = row_base + 4u;
  if (row4 < params.sym_T) {
    let residual4 = residual[(row4 * 16u + col0) / 4u];
    if (col0 < 16u) {
      y[(row4 * 16u + col0) / 4u] = vec4<f32>(acc0_4_0 + residual4.x, acc0_4_1 + residual4.y, acc0_4_2 + residual4.z, acc0_4_3 + residual4.w);
    }
  }
  let row5 = row_base + 5u;
  if (row5 < params.sym_T) {
    let residual5 = residual[(row5 * 16u + col0) / 4u];
    if (col0 < 16u) {
      y[(row5 * 16u + col0) / 4u] = vec4<f32>(acc0_5_0 + residual5.x, acc0_5_1 + residual5.y, acc0_5_2 + residual5.z, acc0_5_3 + residual5.w);
    }
  }
  let row6 = row_base + 6u;
  if (row6 < params.sym_T) {
    let residual6 = residual[(row6 * 16u + col0) / 4u];
    if (col0 < 16u) {
      y[(row6 * 16u + col0) / 4u] = vec4<f32>(acc0_6_0 + residual6.x, acc0_6_1 + residual6.y, acc0_6_2 + residual6.z, acc0_6_3 + residual6.w);
    }
  }
  let row7 = row_base + 7u;
  if (row7 < params.sym_T) {
    let residual7 = residual[(row7 * 16u + col0) / 4u];
    if (col0 < 16u) {
      y[(row7 * 16u + col0) / 4u] = vec4<f32>(acc0_7_0 + residual7.x, acc0_7_1 + residual7.y, acc0_7_2 + residual7.z, acc0_7_3 + residual7.w);
    }
  }
}

// ===== shader s6: k10_linear_glu_silu_lm.blocks.0.ffn
@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> w_gate: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w_up: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<vec2<f32>>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(4) var<uniform> params: Params;

fn act_silu(x: f32) -> f32 {
  return x / (1.0f + exp(-x));
}

@compute @workgroup_size(32)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wid.y * nwg.x + wid.x;
  if (g >= ((params.sym_T + 7u) / 8u) * 1u) { return; }
  let row_base = (g / 1u) * 8u;
  let cb = g % 1u;
  let col0 = cb * 64u + lid * 2u + 0u;
  let wc0 = col0;
  let col1 = cb * 64u + lid * 2u + 1u;
  let wc1 = col1;
  let key0 = min(row_base + 0u, params.sym_T - 1u);
  let src0 = key0;
  let key1 = min(row_base + 1u, params.sym_T - 1u);
  let src1 = key1;
  let key2 = min(row_base + 2u, params.sym_T - 1u);
  let src2 = key2;
  let key3 = min(row_base + 3u, params.sym_T - 1u);
  let src3 = key3;
  let key4 = min(row_base + 4u, params.sym_T - 1u);
  let src4 = key4;
  let key5 = min(row_base + 5u, params.sym_T - 1u);
  let src5 = key5;
  let key6 = min(row_base + 6u, params.sym_T - 1u);
  let src6 = key6;
  let key7 = min(row_base + 7u, params.sym_T - 1u);
  let src7 = key7;
  var acc0_0_0 = 0.0f;
  var acc0_0_1 = 0.0f;
  var acc0_1_0 = 0.0f;
  var acc0_1_1 = 0.0f;
  var acc0_2_0 = 0.0f;
  var acc0_2_1 = 0.0f;
  var acc0_3_0 = 0.0f;
  var acc0_3_1 = 0.0f;
  var acc0_4_0 = 0.0f;
  var acc0_4_1 = 0.0f;
  var acc0_5_0 = 0.0f;
  var acc0_5_1 = 0.0f;
  var acc0_6_0 = 0.0f;
  var acc0_6_1 = 0.0f;
  var acc0_7_0 = 0.0f;
  var acc0_7_1 = 0.0f;
  var acc1_0_0 = 0.0f;
  var acc1_0_1 = 0.0f;
  var acc1_1_0 = 0.0f;
  var acc1_1_1 = 0.0f;
  var acc1_2_0 = 0.0f;
  var acc1_2_1 = 0.0f;
  var acc1_3_0 = 0.0f;
  var acc1_3_1 = 0.0f;
  var acc1_4_0 = 0.0f;
  var acc1_4_1 = 0.0f;
  var acc1_5_0 = 0.0f;
  var acc1_5_1 = 0.0f;
  var acc1_6_0 = 0.0f;
  var acc1_6_1 = 0.0f;
  var acc1_7_0 = 0.0f;
  var acc1_7_1 = 0.0f;
  for (var kv = 0u; kv < 4u; kv++) {
    let b0_0 = w_gate[wc0 * 4u + kv];
    let b0_1 = w_gate[wc1 * 4u + kv];
    let b1_0 = w_up[wc0 * 4u + kv];
    let b1_1 = w_up[wc1 * 4u + kv];
    let a0 = x[src0 * 4u + kv];
    acc0_0_0 = fma(a0.w, b0_0.w, fma(a0.z, b0_0.z, fma(a0.y, b0_0.y, fma(a0.x, b0_0.x, acc0_0_0))));
    acc0_0_1 = fma(a0.w, b0_1.w, fma(a0.z, b0_1.z, fma(a0.y, b0_1.y, fma(a0.x, b0_1.x, acc0_0_1))));
    acc1_0_0 = fma(a0.w, b1_0.w, fma(a0.z, b1_0.z, fma(a0.y, b1_0.y, fma(a0.x, b1_0.x, acc1_0_0))));
    acc1_0_1 = fma(a0.w, b1_1.w, fma(a0.z, b1_1.z, fma(a0.y, b1_1.y, fma(a0.x, b1_1.x, acc1_0_1))));
    let a1 = x[src1 * 4u + kv];
    acc0_1_0 = fma(a1.w, b0_0.w, fma(a1.z, b0_0.z, fma(a1.y, b0_0.y, fma(a1.x, b0_0.x, acc0_1_0))));
    acc0_1_1 = fma(a1.w, b0_1.w, fma(a1.z, b0_1.z, fma(a1.y, b0_1.y, fma(a1.x, b0_1.x, acc0_1_1))));
    acc1_1_0 = fma(a1.w, b1_0.w, fma(a1.z, b1_0.z, fma(a1.y, b1_0.y, fma(a1.x, b1_0.x, acc1_1_0))));
    acc1_1_1 = fma(a1.w, b1_1.w, fma(a1.z, b1_1.z, fma(a1.y, b1_1.y, fma(a1.x, b1_1.x, acc1_1_1))));
    let a2 = x[src2 * 4u + kv];
    acc0_2_0 = fma(a2.w, b0_0.w, fma(a2.z, b0_0.z, fma(a2.y, b0_0.y, fma(a2.x, b0_0.x, acc0_2_0))));
    acc0_2_1 = fma(a2.w, b0_1.w, fma(a2.z, b0_1.z, fma(a2.y, b0_1.y, fma(a2.x, b0_1.x, acc0_2_1))));
    acc1_2_0 = fma(a2.w, b1_0.w, fma(a2.z, b1_0.z, fma(a2.y, b1_0.y, fma(a2.x, b1_0.x, acc1_2_0))));
    acc1_2_1 = fma(a2.w, b1_1.w, fma(a2.z, b1_1.z, fma(a2.y, b1_1.y, fma(a2.x, b1_1.x, acc1_2_1))));
    let a3 = x[src3 * 4u + kv];
    acc0_3_0 = fma(a3.w, b0_0.w, fma(a3.z, b0_0.z, fma(a3.y, b0_0.y, fma(a3.x, b0_0.x, acc0_3_0))));
    acc0_3_1 = fma(a3.w, b0_1.w, fma(a3.z, b0_1.z, fma(a3.y, b0_1.y, fma(a3.x, b0_1.x, acc0_3_1))));
    acc1_3_0 = fma(a3.w, b1_0.w, fma(a3.z, b1_0.z, fma(a3.y, b1_0.y, fma(a3.x, b1_0.x, acc1_3_0))));
    acc1_3_1 = fma(a3.w, b1_1.w, fma(a3.z, b1_1.z, fma(a3.y, b1_1.y, fma(a3.x, b1_1.x, acc1_3_1))));
    let a4 = x[src4 * 4u + kv];
    acc0_4_0 = fma(a4.w, b0_0.w, fma(a4.z, b0_0.z, fma(a4.y, b0_0.y, fma(a4.x, b0_0.x, acc0_4_0))));
    acc0_4_1 = fma(a4.w, b0_1.w, fma(a4.z, b0_1.z, fma(a4.y, b0_1.y, fma(a4.x, b0_1.x, acc0_4_1))));
    acc1_4_0 = fma(a4.w, b1_0.w, fma(a4.z, b1_0.z, fma(a4.y, b1_0.y, fma(a4.x, b1_0.x, acc1_4_0))));
    acc1_4_1 = fma(a4.w, b1_1.w, fma(a4.z, b1_1.z, fma(a4.y, b1_1.y, fma(a4.x, b1_1.x, acc1_4_1))));
    let a5 = x[src5 * 4u + kv];
    acc0_5_0 = fma(a5.w, b0_0.w, fma(a5.z, b0_0.z, fma(a5.y, b0_0.y, fma(a5.x, b0_0.x, acc0_5_0))));
    acc0_5_1 = fma(a5.w, b0_1.w, fma(a5.z, b0_1.z, fma(a5.y, b0_1.y, fma(a5.x, b0_1.x, acc0_5_1))));
    acc1_5_0 = fma(a5.w, b1_0.w, fma(a5.z, b1_0.z, fma(a5.y, b1_0.y, fma(a5.x, b1_0.x, acc1_5_0))));
    acc1_5_1 = fma(a5.w, b1_1.w, fma(a5.z, b1_1.z, fma(a5.y, b1_1.y, fma(a5.x, b1_1.x, acc1_5_1))));
    let a6 = x[src6 * 4u + kv];
    acc0_6_0 = fma(a6.w, b0_0.w, fma(a6.z, b0_0.z, fma(a6.y, b0_0.y, fma(a6.x, b0_0.x, acc0_6_0))));
    acc0_6_1 = fma(a6.w, b0_1.w, fma(a6.z, b0_1.z, fma(a6.y, b0_1.y, fma(a6.x, b0_1.x, acc0_6_1))));
    acc1_6_0 = fma(a6.w, b1_0.w, fma(a6.z, b1_0.z, fma(a6.y, b1_0.y, fma(a6.x, b1_0.x, acc1_6_0))));
    acc1_6_1 = fma(a6.w, b1_1.w, fma(a6.z, b1_1.z, fma(a6.y, b1_1.y, fma(a6.x, b1_1.x, acc1_6_1))));
    let a7 = x[src7 * 4u + kv];
    acc0_7_0 = fma(a7.w, b0_0.w, fma(a7.z, b0_0.z, fma(a7.y, b0_0.y, fma(a7.x, b0_0.x, acc0_7_0))));
    acc0_7_1 = fma(a7.w, b0_1.w, fma(a7.z, b0_1.z, fma(a7.y, b0_1.y, fma(a7.x, b0_1.x, acc0_7_1))));
    acc1_7_0 = fma(a7.w, b1_0.w, fma(a7.z, b1_0.z, fma(a7.y, b1_0.y, fma(a7.x, b1_0.x, acc1_7_0))));
    acc1_7_1 = fma(a7.w, b1_1.w, fma(a7.z, b1_1.z, fma(a7.y, b1_1.y, fma(a7.x, b1_1.x, acc1_7_1))));
  }
  let row0 = row_base + 0u;
  if (row0 < params.sym_T) {
    y[(row0 * 64u + col0) / 2u] = vec2<f32>(act_silu(acc0_0_0) * acc1_0_0, act_silu(acc0_0_1) * acc1_0_1);
  }
  let row1 = row_base + 1u;
  if (row1 < params.sym_T) {
    y[(row1 * 64u + col0) / 2u] = vec2<f32>(act_silu(acc0_1_0) * acc1_1_0, act_silu(acc0_1_1) * acc1_1_1);
  }
  let row2 = row_base + 2u;
  if (row2 < params.sym_T) {
    y[(row2 * 64u + col0) / 2u] = vec2<f32>(act_silu(acc0_2_0) * acc1_2_0, act_silu(acc0_2_1) * acc1_2_1);
  }
  let row3 = row_base + 3u;
  if (row3 < params.sym_T) {
    y[(row3 * 64u + col0) / 2u] = vec2<f32>(act_silu(acc0_3_0) * acc1_3_0, act_silu(acc0_3_1) * acc1_3_1);
  }
  let row4 = row_base + 4u;
  if (row4 < params.sym_T) {
    y[(row4 * 64u + col0) / 2u] = vec2<f32>(act_silu(acc0_4_0) * acc1_4_0, act_silu(acc0_4_1) * acc1_4_1);
  }
  let row5 = row_base + 5u;
  if (row5 < params.sym_T) {
    y[(row5 * 64u + col0) / 2u] = vec2<f32>(act_silu(acc0_5_0) * acc1_5_0, act_silu(acc0_5_1) * acc1_5_1);
  }
  let row6 = row_base + 6u;
  if (row6 < params.sym_T) {
    y[(row6 * 64u + col0) / 2u] = vec2<f32>(act_silu(acc0_6_0) * acc1_6_0, act_silu(acc0_6_1) * acc1_6_1);
  }
  let row7 = row_base + 7u;
  if (row7 < params.sym_T) {
    y[(row7 * 64u + col0) / 2u] = vec2<f32>(act_silu(acc0_7_0) * acc1_7_0, act_silu(acc0_7_1) * acc1_7_1);
  }
}

// ===== shader s7: k11_linear_residual_lm.blocks.0.ffn
@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> residual: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4<f32>>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wid.y * nwg.x + wid.x;
  if (g >= ((params.sym_T + 7u) / 8u) * 1u) { return; }
  let row_base = (g / 1u) * 8u;
  let cb = g % 1u;
  let col0 = cb * 32u + lid * 4u + 0u;
  let wc0 = min(col0, 15u);
  let col1 = cb * 32u + lid * 4u + 1u;
  let wc1 = min(col1, 15u);
  let col2 = cb * 32u + lid * 4u + 2u;
  let wc2 = min(col2, 15u);
  let col3 = cb * 32u + lid * 4u + 3u;
  let wc3 = min(col3, 15u);
  let key0 = min(row_base + 0u, params.sym_T - 1u);
  let src0 = key0;
  let key1 = min(row_base + 1u, params.sym_T - 1u);
  let src1 = key1;
  let key2 = min(row_base + 2u, params.sym_T - 1u);
  let src2 = key2;
  let key3 = min(row_base + 3u, params.sym_T - 1u);
  let src3 = key3;
  let key4 = min(row_base + 4u, params.sym_T - 1u);
  let src4 = key4;
  let key5 = min(row_base + 5u, params.sym_T - 1u);
  let src5 = key5;
  let key6 = min(row_base + 6u, params.sym_T - 1u);
  let src6 = key6;
  let key7 = min(row_base + 7u, params.sym_T - 1u);
  let src7 = key7;
  var acc0_0_0 = 0.0f;
  var acc0_0_1 = 0.0f;
  var acc0_0_2 = 0.0f;
  var acc0_0_3 = 0.0f;
  var acc0_1_0 = 0.0f;
  var acc0_1_1 = 0.0f;
  var acc0_1_2 = 0.0f;
  var acc0_1_3 = 0.0f;
  var acc0_2_0 = 0.0f;
  var acc0_2_1 = 0.0f;
  var acc0_2_2 = 0.0f;
  var acc0_2_3 = 0.0f;
  var acc0_3_0 = 0.0f;
  var acc0_3_1 = 0.0f;
  var acc0_3_2 = 0.0f;
  var acc0_3_3 = 0.0f;
  var acc0_4_0 = 0.0f;
  var acc0_4_1 = 0.0f;
  var acc0_4_2 = 0.0f;
  var acc0_4_3 = 0.0f;
  var acc0_5_0 = 0.0f;
  var acc0_5_1 = 0.0f;
  var acc0_5_2 = 0.0f;
  var acc0_5_3 = 0.0f;
  var acc0_6_0 = 0.0f;
  var acc0_6_1 = 0.0f;
  var acc0_6_2 = 0.0f;
  var acc0_6_3 = 0.0f;
  var acc0_7_0 = 0.0f;
  var acc0_7_1 = 0.0f;
  var acc0_7_2 = 0.0f;
  var acc0_7_3 = 0.0f;
  for (var kv = 0u; kv < 16u; kv++) {
    let b0_0 = w[wc0 * 16u + kv];
    let b0_1 = w[wc1 * 16u + kv];
    let b0_2 = w[wc2 * 16u + kv];
    let b0_3 = w[wc3 * 16u + kv];
    let a0 = x[src0 * 16u + kv];
    acc0_0_0 = fma(a0.w, b0_0.w, fma(a0.z, b0_0.z, fma(a0.y, b0_0.y, fma(a0.x, b0_0.x, acc0_0_0))));
    acc0_0_1 = fma(a0.w, b0_1.w, fma(a0.z, b0_1.z, fma(a0.y, b0_1.y, fma(a0.x, b0_1.x, acc0_0_1))));
    acc0_0_2 = fma(a0.w, b0_2.w, fma(a0.z, b0_2.z, fma(a0.y, b0_2.y, fma(a0.x, b0_2.x, acc0_0_2))));
    acc0_0_3 = fma(a0.w, b0_3.w, fma(a0.z, b0_3.z, fma(a0.y, b0_3.y, fma(a0.x, b0_3.x, acc0_0_3))));
    let a1 = x[src1 * 16u + kv];
    acc0_1_0 = fma(a1.w, b0_0.w, fma(a1.z, b0_0.z, fma(a1.y, b0_0.y, fma(a1.x, b0_0.x, acc0_1_0))));
    acc0_1_1 = fma(a1.w, b0_1.w, fma(a1.z, b0_1.z, fma(a1.y, b0_1.y, fma(a1.x, b0_1.x, acc0_1_1))));
    acc0_1_2 = fma(a1.w, b0_2.w, fma(a1.z, b0_2.z, fma(a1.y, b0_2.y, fma(a1.x, b0_2.x, acc0_1_2))));
    acc0_1_3 = fma(a1.w, b0_3.w, fma(a1.z, b0_3.z, fma(a1.y, b0_3.y, fma(a1.x, b0_3.x, acc0_1_3))));
    let a2 = x[src2 * 16u + kv];
    acc0_2_0 = fma(a2.w, b0_0.w, fma(a2.z, b0_0.z, fma(a2.y, b0_0.y, fma(a2.x, b0_0.x, acc0_2_0))));
    acc0_2_1 = fma(a2.w, b0_1.w, fma(a2.z, b0_1.z, fma(a2.y, b0_1.y, fma(a2.x, b0_1.x, acc0_2_1))));
    acc0_2_2 = fma(a2.w, b0_2.w, fma(a2.z, b0_2.z, fma(a2.y, b0_2.y, fma(a2.x, b0_2.x, acc0_2_2))));
    acc0_2_3 = fma(a2.w, b0_3.w, fma(a2.z, b0_3.z, fma(a2.y, b0_3.y, fma(a2.x, b0_3.x, acc0_2_3))));
    let a3 = x[src3 * 16u + kv];
    acc0_3_0 = fma(a3.w, b0_0.w, fma(a3.z, b0_0.z, fma(a3.y, b0_0.y, fma(a3.x, b0_0.x, acc0_3_0))));
    acc0_3_1 = fma(a3.w, b0_1.w, fma(a3.z, b0_1.z, fma(a3.y, b0_1.y, fma(a3.x, b0_1.x, acc0_3_1))));
    acc0_3_2 = fma(a3.w, b0_2.w, fma(a3.z, b0_2.z, fma(a3.y, b0_2.y, fma(a3.x, b0_2.x, acc0_3_2))));
    acc0_3_3 = fma(a3.w, b0_3.w, fma(a3.z, b0_3.z, fma(a3.y, b0_3.y, fma(a3.x, b0_3.x, acc0_3_3))));
    let a4 = x[src4 * 16u + kv];
    acc0_4_0 = fma(a4.w, b0_0.w, fma(a4.z, b0_0.z, fma(a4.y, b0_0.y, fma(a4.x, b0_0.x, acc0_4_0))));
    acc0_4_1 = fma(a4.w, b0_1.w, fma(a4.z, b0_1.z, fma(a4.y, b0_1.y, fma(a4.x, b0_1.x, acc0_4_1))));
    acc0_4_2 = fma(a4.w, b0_2.w, fma(a4.z, b0_2.z, fma(a4.y, b0_2.y, fma(a4.x, b0_2.x, acc0_4_2))));
    acc0_4_3 = fma(a4.w, b0_3.w, fma(a4.z, b0_3.z, fma(a4.y, b0_3.y, fma(a4.x, b0_3.x, acc0_4_3))));
    let a5 = x[src5 * 16u + kv];
    acc0_5_0 = fma(a5.w, b0_0.w, fma(a5.z, b0_0.z, fma(a5.y, b0_0.y, fma(a5.x, b0_0.x, acc0_5_0))));
    acc0_5_1 = fma(a5.w, b0_1.w, fma(a5.z, b0_1.z, fma(a5.y, b0_1.y, fma(a5.x, b0_1.x, acc0_5_1))));
    acc0_5_2 = fma(a5.w, b0_2.w, fma(a5.z, b0_2.z, fma(a5.y, b0_2.y, fma(a5.x, b0_2.x, acc0_5_2))));
    acc0_5_3 = fma(a5.w, b0_3.w, fma(a5.z, b0_3.z, fma(a5.y, b0_3.y, fma(a5.x, b0_3.x, acc0_5_3))));
    let a6 = x[src6 * 16u + kv];
    acc0_6_0 = fma(a6.w, b0_0.w, fma(a6.z, b0_0.z, fma(a6.y, b0_0.y, fma(a6.x, b0_0.x, acc0_6_0))));
    acc0_6_1 = fma(a6.w, b0_1.w, fma(a6.z, b0_1.z, fma(a6.y, b0_1.y, fma(a6.x, b0_1.x, acc0_6_1))));
    acc0_6_2 = fma(a6.w, b0_2.w, fma(a6.z, b0_2.z, fma(a6.y, b0_2.y, fma(a6.x, b0_2.x, acc0_6_2))));
    acc0_6_3 = fma(a6.w, b0_3.w, fma(a6.z, b0_3.z, fma(a6.y, b0_3.y, fma(a6.x, b0_3.x, acc0_6_3))));
    let a7 = x[src7 * 16u + kv];
    acc0_7_0 = fma(a7.w, b0_0.w, fma(a7.z, b0_0.z, fma(a7.y, b0_0.y, fma(a7.x, b0_0.x, acc0_7_0))));
    acc0_7_1 = fma(a7.w, b0_1.w, fma(a7.z, b0_1.z, fma(a7.y, b0_1.y, fma(a7.x, b0_1.x, acc0_7_1))));
    acc0_7_2 = fma(a7.w, b0_2.w, fma(a7.z, b0_2.z, fma(a7.y, b0_2.y, fma(a7.x, b0_2.x, acc0_7_2))));
    acc0_7_3 = fma(a7.w, b0_3.w, fma(a7.z, b0_3.z, fma(a7.y, b0_3.y, fma(a7.x, b0_3.x, acc0_7_3))));
  }
  let row0 = row_base + 0u;
  if (row0 < params.sym_T) {
    let residual0 = residual[(row0 * 16u + col0) / 4u];
    if (col0 < 16u) {
      y[(row0 * 16u + col0) / 4u] = vec4<f32>(acc0_0_0 + residual0.x, acc0_0_1 + residual0.y, acc0_0_2 + residual0.z, acc0_0_3 + residual0.w);
    }
  }
  let row1 = row_base + 1u;
  if (row1 < params.sym_T) {
    let residual1 = residual[(row1 * 16u + col0) / 4u];
    if (col0 < 16u) {
      y[(row1 * 16u + col0) / 4u] = vec4<f32>(acc0_1_0 + residual1.x, acc0_1_1 + residual1.y, acc0_1_2 + residual1.z, acc0_1_3 + residual1.w);
    }
  }
  let row2 = row_base + 2u;
  if (row2 < params.sym_T) {
    let residual2 = residual[(row2 * 16u + col0) / 4u];
    if (col0 < 16u) {
      y[(row2 * 16u + col0) / 4u] = vec4<f32>(acc0_2_0 + residual2.x, acc0_2_1 + residual2.y, acc0_2_2 + residual2.z, acc0_2_3 + residual2.w);
    }
  }
  let row3 = row_base + 3u;
  if (row3 < params.sym_T) {
    let residual3 = residual[(row3 * 16u + col0) / 4u];
    if (col0 < 16u) {
      y[(row3 * 16u + col0) / 4u] = vec4<f32>(acc0_3_0 + residual3.x, acc0_3_1 + residual3.y, acc0_3_2 + residual3.z, acc0_3_3 + residual3.w);
    }
  }
  let row4 = row_base + 4u;
  if (row4 < params.sym_T) {
    let residual4 = residual[(row4 * 16u + col0) / 4u];
    if (col0 < 16u) {
      y[(row4 * 16u + col0) / 4u] = vec4<f32>(acc0_4_0 + residual4.x, acc0_4_1 + residual4.y, acc0_4_2 + residual4.z, acc0_4_3 + residual4.w);
    }
  }
  let row5 = row_base + 5u;
  if (row5 < params.sym_T) {
    let residual5 = residual[(row5 * 16u + col0) / 4u];
    if (col0 < 16u) {
      y[(row5 * 16u + col0) / 4u] = vec4<f32>(acc0_5_0 + residual5.x, acc0_5_1 + residual5.y, acc0_5_2 + residual5.z, acc0_5_3 + residual5.w);
    }
  }
  let row6 = row_base + 6u;
  if (row6 < params.sym_T) {
    let residual6 = residual[(row6 * 16u + col0) / 4u];
    if (col0 < 16u) {
      y[(row6 * 16u + col0) / 4u] = vec4<f32>(acc0_6_0 + residual6.x, acc0_6_1 + residual6.y, acc0_6_2 + residual6.z, acc0_6_3 + residual6.w);
    }
  }
  let row7 = row_base + 7u;
  if (row7 < params.sym_T) {
    let residual7 = residual[(row7 * 16u + col0) / 4u];
    if (col0 < 16u) {
      y[(row7 * 16u + col0) / 4u] = vec4<f32>(acc0_7_0 + residual7.x, acc0_7_1 + residual7.y, acc0_7_2 + residual7.z, acc0_7_3 + residual7.w);
    }
  }
}

// ===== shader s8: k22_moe_route_top2_lm.blocks.1.ffn.router
@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> w: array<vec4<f32>>;
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

fn rank_key(x: f32) -> f32 {
  return select(x, f32_from_bits(0xff800000u), (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wid.y * nwg.x + wid.x;
  if (g >= (((params.sym_T * 2u) + 63u) / 64u)) { return; }
  let row = g * 64u + lid;
  let valid = row < (params.sym_T * 2u);
  let xb = min(row, (params.sym_T * 2u) - 1u) * 2u;
  var l0 = 0.0f;
  var l1 = 0.0f;
  var l2 = 0.0f;
  var l3 = 0.0f;
  for (var kv = 0u; kv < 2u; kv++) {
    let xv = x[xb + kv];
    let w0 = w[0u + kv];
    l0 = fma(xv.w, w0.w, fma(xv.z, w0.z, fma(xv.y, w0.y, fma(xv.x, w0.x, l0))));
    let w1 = w[2u + kv];
    l1 = fma(xv.w, w1.w, fma(xv.z, w1.z, fma(xv.y, w1.y, fma(xv.x, w1.x, l1))));
    let w2 = w[4u + kv];
    l2 = fma(xv.w, w2.w, fma(xv.z, w2.z, fma(xv.y, w2.y, fma(xv.x, w2.x, l2))));
    let w3 = w[6u + kv];
    l3 = fma(xv.w, w3.w, fma(xv.z, w3.z, fma(xv.y, w3.y, fma(xv.x, w3.x, l3))));
  }
  var m = l0;
  m = max(m, l1);
  m = max(m, l2);
  m = max(m, l3);
  var sum = 0.0f;
  let e0 = exp(l0 - m);
  sum += e0;
  let e1 = exp(l1 - m);
  sum += e1;
  let e2 = exp(l2 - m);
  sum += e2;
  let e3 = exp(l3 - m);
  sum += e3;
  let p0 = e0 / sum;
  let p1 = e1 / sum;
  let p2 = e2 / sum;
  let p3 = e3 / sum;
  if (valid) {
    probs[row * 4u + 0u] = p0;
    probs[row * 4u + 1u] = p1;
    probs[row * 4u + 2u] = p2;
    probs[row * 4u + 3u] = p3;
  }
  var kept = 0.0f;
  var previous_p = 0.0f;
  var previous = (-1i);
  let k0 = rank_key(p0);
  let k1 = rank_key(p1);
  let k2 = rank_key(p2);
  let k3 = rank_key(p3);
  var best0 = (-1i);
  var best_k0 = 0.0f;
  var best_p0 = 0.0f;
  let take0_0 = (best0 < 0 || k0 > best_k0);
  best0 = select(best0, 0i, take0_0);
  best_k0 = select(best_k0, k0, take0_0);
  best_p0 = select(best_p0, p0, take0_0);
  let take0_1 = (best0 < 0 || k1 > best_k0);
  best0 = select(best0, 1i, take0_1);
  best_k0 = select(best_k0, k1, take0_1);
  best_p0 = select(best_p0, p1, take0_1);
  let take0_2 = (best0 < 0 || k2 > best_k0);
  best0 = select(best0, 2i, take0_2);
  best_k0 = select(best_k0, k2, take0_2);
  best_p0 = select(best_p0, p2, take0_2);
  let take0_3 = (best0 < 0 || k3 > best_k0);
  best0 = select(best0, 3i, take0_3);
  best_k0 = select(best_k0, k3, take0_3);
  best_p0 = select(best_p0, p3, take0_3);
  kept += best_p0;
  previous = best0;
  previous_p = best_k0;
  var best1 = (-1i);
  var best_k1 = 0.0f;
  var best_p1 = 0.0f;
  let take1_0 = (k0 < previous_p || (k0 == previous_p && 0i > previous)) && (best1 < 0 || k0 > best_k1);
  best1 = select(best1, 0i, take1_0);
  best_k1 = select(best_k1, k0, take1_0);
  best_p1 = select(best_p1, p0, take1_0);
  let take1_1 = (k1 < previous_p || (k1 == previous_p && 1i > previous)) && (best1 < 0 || k1 > best_k1);
  best1 = select(best1, 1i, take1_1);
  best_k1 = select(best_k1, k1, take1_1);
  best_p1 = select(best_p1, p1, take1_1);
  let take1_2 = (k2 < previous_p || (k2 == previous_p && 2i > previous)) && (best1 < 0 || k2 > best_k1);
  best1 = select(best1, 2i, take1_2);
  best_k1 = select(best_k1, k2, take1_2);
  best_p1 = select(best_p1, p2, take1_2);
  let take1_3 = (k3 < previous_p || (k3 == previous_p && 3i > previous)) && (best1 < 0 || k3 > best_k1);
  best1 = select(best1, 3i, take1_3);
  best_k1 = select(best_k1, k3, take1_3);
  best_p1 = select(best_p1, p3, take1_3);
  kept += best_p1;
  previous = best1;
  previous_p = best_k1;
  if (valid) {
    expert[row * 2u + 0u] = best0;
    gate[row * 2u + 0u] = best_p0;
    expert[row * 2u + 1u] = best1;
    gate[row * 2u + 1u] = best_p1;
  }
}

// ===== shader s9: k23_moe_permute_e4_lm.blocks.1.ffn.router
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
  let assignments = (params.sym_T * 2u) * 2u;
  // Pass 1: kept and dropped counts per expert, in the official order.
  for (var e = lid; e < 4u; e += 32u) {
    var n_kept = 0u;
    var n_dropped = 0u;
    var count_h0 = 0u;
    var count_h1 = 0u;
    for (var j = 0u; j < 2u; j++) {
      for (var r = 0u; r < (params.sym_T * 2u); r++) {
        if (routed[r * 2u + j] == i32(e)) {
          if (n_kept < 4294967295u) {
            n_kept++;
            count_h0 += select(0u, 1u, r % 2u == 0u);
            count_h1 += select(0u, 1u, r % 2u == 1u);
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
    counts[4u + e] = i32(count_h1);
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
    for (var j = 0u; j < 2u; j++) {
      for (var r = 0u; r < (params.sym_T * 2u); r++) {
        let a = r * 2u + j;
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
  for (var h = lid; h < 2u; h += 32u) {
    var n = 0u;
    for (var r = h; r < (params.sym_T * 2u); r += 2u) {
      for (var j = 0u; j < 2u; j++) {
        n += select(0u, 1u, kept[r * 2u + j] < 0i);
      }
    }
    dropped[h] = i32(n);
  }
}

// ===== shader s10: k24_route_balance_lm.blocks.1.ffn.router
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
  for (var r = 0u; r < (params.sym_T * 2u); r++) {
    n_top1 += select(0u, 1u, routed[r * 2u] == i32(i));
    p_sum += probs[r * 4u + i];
  }
  top1[i] = i32(n_top1);
  prob_sum[i] = p_sum;
}

// ===== shader s11: k25_moe_grouped_up_glu_silu_lm.blocks.1.ffn.experts_bank
@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> order: array<i32>;
@group(0) @binding(2) var<storage, read> offsets: array<i32>;
@group(0) @binding(3) var<storage, read> w_gate: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> w_up: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> h: array<vec2<f32>>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(6) var<uniform> params: Params;

fn act_silu(x: f32) -> f32 {
  return x / (1.0f + exp(-x));
}

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wid.y * nwg.x + wid.x;
  if (g >= ((((params.sym_T * 4u) + 7u) / 8u) + 4u) * 1u) { return; }
  let total = (params.sym_T * 4u);
  let row_tiles = (((params.sym_T * 4u) + 7u) / 8u);
  let t = g / 1u;
  let cb = g % 1u;
  var e = 0u;
  var p0 = 0u;
  var lo = 0u;
  var hi = 0u;
  if (t < row_tiles) {
    p0 = t * 8u;
    // The last segment starting at or before p0 (offsets never decrease): a binary search without branches or loops (both are costly on lavapipe).
    e = select(e, min(e + 4u, 4u), u32(offsets[min(e + 4u, 4u)]) <= p0);
    e = select(e, min(e + 2u, 4u), u32(offsets[min(e + 2u, 4u)]) <= p0);
    e = select(e, min(e + 1u, 4u), u32(offsets[min(e + 1u, 4u)]) <= p0);
    lo = p0;
    hi = min(p0 + 8u, select(total, u32(offsets[min(e + 1u, 4u)]), e < 4u));
  } else {
    // Extra tile: the rows of segment e in the tile where it starts.
    e = t - row_tiles + 1u;
    lo = u32(offsets[e]);
    let end = select(total, u32(offsets[min(e + 1u, 4u)]), e < 4u);
    if (lo % 8u == 0u || lo >= end) {
      return;
    }
    p0 = lo - lo % 8u;
    hi = min(p0 + 8u, end);
  }
  let live = e < 4u;
  let wbase = min(e, 3u) * 16u;
  let col0 = cb * 16u + lid * 2u + 0u;
  let wc0 = col0;
  let col1 = cb * 16u + lid * 2u + 1u;
  let wc1 = col1;
  let key0 = u32(order[clamp(p0 + 0u, lo, hi - 1u)]);
  let src0 = key0 / 2u;
  let key1 = u32(order[clamp(p0 + 1u, lo, hi - 1u)]);
  let src1 = key1 / 2u;
  let key2 = u32(order[clamp(p0 + 2u, lo, hi - 1u)]);
  let src2 = key2 / 2u;
  let key3 = u32(order[clamp(p0 + 3u, lo, hi - 1u)]);
  let src3 = key3 / 2u;
  let key4 = u32(order[clamp(p0 + 4u, lo, hi - 1u)]);
  let src4 = key4 / 2u;
  let key5 = u32(order[clamp(p0 + 5u, lo, hi - 1u)]);
  let src5 = key5 / 2u;
  let key6 = u32(order[clamp(p0 + 6u, lo, hi - 1u)]);
  let src6 = key6 / 2u;
  let key7 = u32(order[clamp(p0 + 7u, lo, hi - 1u)]);
  let src7 = key7 / 2u;
  var acc0_0_0 = 0.0f;
  var acc0_0_1 = 0.0f;
  var acc0_1_0 = 0.0f;
  var acc0_1_1 = 0.0f;
  var acc0_2_0 = 0.0f;
  var acc0_2_1 = 0.0f;
  var acc0_3_0 = 0.0f;
  var acc0_3_1 = 0.0f;
  var acc0_4_0 = 0.0f;
  var acc0_4_1 = 0.0f;
  var acc0_5_0 = 0.0f;
  var acc0_5_1 = 0.0f;
  var acc0_6_0 = 0.0f;
  var acc0_6_1 = 0.0f;
  var acc0_7_0 = 0.0f;
  var acc0_7_1 = 0.0f;
  var acc1_0_0 = 0.0f;
  var acc1_0_1 = 0.0f;
  var acc1_1_0 = 0.0f;
  var acc1_1_1 = 0.0f;
  var acc1_2_0 = 0.0f;
  var acc1_2_1 = 0.0f;
  var acc1_3_0 = 0.0f;
  var acc1_3_1 = 0.0f;
  var acc1_4_0 = 0.0f;
  var acc1_4_1 = 0.0f;
  var acc1_5_0 = 0.0f;
  var acc1_5_1 = 0.0f;
  var acc1_6_0 = 0.0f;
  var acc1_6_1 = 0.0f;
  var acc1_7_0 = 0.0f;
  var acc1_7_1 = 0.0f;
  for (var kv = 0u; kv < 2u; kv++) {
    let b0_0 = w_gate[(wbase + wc0) * 2u + kv];
    let b0_1 = w_gate[(wbase + wc1) * 2u + kv];
    let b1_0 = w_up[(wbase + wc0) * 2u + kv];
    let b1_1 = w_up[(wbase + wc1) * 2u + kv];
    let a0 = x[src0 * 2u + kv];
    acc0_0_0 = fma(a0.w, b0_0.w, fma(a0.z, b0_0.z, fma(a0.y, b0_0.y, fma(a0.x, b0_0.x, acc0_0_0))));
    acc0_0_1 = fma(a0.w, b0_1.w, fma(a0.z, b0_1.z, fma(a0.y, b0_1.y, fma(a0.x, b0_1.x, acc0_0_1))));
    acc1_0_0 = fma(a0.w, b1_0.w, fma(a0.z, b1_0.z, fma(a0.y, b1_0.y, fma(a0.x, b1_0.x, acc1_0_0))));
    acc1_0_1 = fma(a0.w, b1_1.w, fma(a0.z, b1_1.z, fma(a0.y, b1_1.y, fma(a0.x, b1_1.x, acc1_0_1))));
    let a1 = x[src1 * 2u + kv];
    acc0_1_0 = fma(a1.w, b0_0.w, fma(a1.z, b0_0.z, fma(a1.y, b0_0.y, fma(a1.x, b0_0.x, acc0_1_0))));
    acc0_1_1 = fma(a1.w, b0_1.w, fma(a1.z, b0_1.z, fma(a1.y, b0_1.y, fma(a1.x, b0_1.x, acc0_1_1))));
    acc1_1_0 = fma(a1.w, b1_0.w, fma(a1.z, b1_0.z, fma(a1.y, b1_0.y, fma(a1.x, b1_0.x, acc1_1_0))));
    acc1_1_1 = fma(a1.w, b1_1.w, fma(a1.z, b1_1.z, fma(a1.y, b1_1.y, fma(a1.x, b1_1.x, acc1_1_1))));
    let a2 = x[src2 * 2u + kv];
    acc0_2_0 = fma(a2.w, b0_0.w, fma(a2.z, b0_0.z, fma(a2.y, b0_0.y, fma(a2.x, b0_0.x, acc0_2_0))));
    acc0_2_1 = fma(a2.w, b0_1.w, fma(a2.z, b0_1.z, fma(a2.y, b0_1.y, fma(a2.x, b0_1.x, acc0_2_1))));
    acc1_2_0 = fma(a2.w, b1_0.w, fma(a2.z, b1_0.z, fma(a2.y, b1_0.y, fma(a2.x, b1_0.x, acc1_2_0))));
    acc1_2_1 = fma(a2.w, b1_1.w, fma(a2.z, b1_1.z, fma(a2.y, b1_1.y, fma(a2.x, b1_1.x, acc1_2_1))));
    let a3 = x[src3 * 2u + kv];
    acc0_3_0 = fma(a3.w, b0_0.w, fma(a3.z, b0_0.z, fma(a3.y, b0_0.y, fma(a3.x, b0_0.x, acc0_3_0))));
    acc0_3_1 = fma(a3.w, b0_1.w, fma(a3.z, b0_1.z, fma(a3.y, b0_1.y, fma(a3.x, b0_1.x, acc0_3_1))));
    acc1_3_0 = fma(a3.w, b1_0.w, fma(a3.z, b1_0.z, fma(a3.y, b1_0.y, fma(a3.x, b1_0.x, acc1_3_0))));
    acc1_3_1 = fma(a3.w, b1_1.w, fma(a3.z, b1_1.z, fma(a3.y, b1_1.y, fma(a3.x, b1_1.x, acc1_3_1))));
    let a4 = x[src4 * 2u + kv];
    acc0_4_0 = fma(a4.w, b0_0.w, fma(a4.z, b0_0.z, fma(a4.y, b0_0.y, fma(a4.x, b0_0.x, acc0_4_0))));
    acc0_4_1 = fma(a4.w, b0_1.w, fma(a4.z, b0_1.z, fma(a4.y, b0_1.y, fma(a4.x, b0_1.x, acc0_4_1))));
    acc1_4_0 = fma(a4.w, b1_0.w, fma(a4.z, b1_0.z, fma(a4.y, b1_0.y, fma(a4.x, b1_0.x, acc1_4_0))));
    acc1_4_1 = fma(a4.w, b1_1.w, fma(a4.z, b1_1.z, fma(a4.y, b1_1.y, fma(a4.x, b1_1.x, acc1_4_1))));
    let a5 = x[src5 * 2u + kv];
    acc0_5_0 = fma(a5.w, b0_0.w, fma(a5.z, b0_0.z, fma(a5.y, b0_0.y, fma(a5.x, b0_0.x, acc0_5_0))));
    acc0_5_1 = fma(a5.w, b0_1.w, fma(a5.z, b0_1.z, fma(a5.y, b0_1.y, fma(a5.x, b0_1.x, acc0_5_1))));
    acc1_5_0 = fma(a5.w, b1_0.w, fma(a5.z, b1_0.z, fma(a5.y, b1_0.y, fma(a5.x, b1_0.x, acc1_5_0))));
    acc1_5_1 = fma(a5.w, b1_1.w, fma(a5.z, b1_1.z, fma(a5.y, b1_1.y, fma(a5.x, b1_1.x, acc1_5_1))));
    let a6 = x[src6 * 2u + kv];
    acc0_6_0 = fma(a6.w, b0_0.w, fma(a6.z, b0_0.z, fma(a6.y, b0_0.y, fma(a6.x, b0_0.x, acc0_6_0))));
    acc0_6_1 = fma(a6.w, b0_1.w, fma(a6.z, b0_1.z, fma(a6.y, b0_1.y, fma(a6.x, b0_1.x, acc0_6_1))));
    acc1_6_0 = fma(a6.w, b1_0.w, fma(a6.z, b1_0.z, fma(a6.y, b1_0.y, fma(a6.x, b1_0.x, acc1_6_0))));
    acc1_6_1 = fma(a6.w, b1_1.w, fma(a6.z, b1_1.z, fma(a6.y, b1_1.y, fma(a6.x, b1_1.x, acc1_6_1))));
    let a7 = x[src7 * 2u + kv];
    acc0_7_0 = fma(a7.w, b0_0.w, fma(a7.z, b0_0.z, fma(a7.y, b0_0.y, fma(a7.x, b0_0.x, acc0_7_0))));
    acc0_7_1 = fma(a7.w, b0_1.w, fma(a7.z, b0_1.z, fma(a7.y, b0_1.y, fma(a7.x, b0_1.x, acc0_7_1))));
    acc1_7_0 = fma(a7.w, b1_0.w, fma(a7.z, b1_0.z, fma(a7.y, b1_0.y, fma(a7.x, b1_0.x, acc1_7_0))));
    acc1_7_1 = fma(a7.w, b1_1.w, fma(a7.z, b1_1.z, fma(a7.y, b1_1.y, fma(a7.x, b1_1.x, acc1_7_1))));
  }
  if (p0 + 0u >= lo && p0 + 0u < hi) {
    h[(key0 * 16u + col0) / 2u] = vec2<f32>(select(0.0f, act_silu(acc0_0_0) * acc1_0_0, live), select(0.0f, act_silu(acc0_0_1) * acc1_0_1, live));
  }
  if (p0 + 1u >= lo && p0 + 1u < hi) {
    h[(key1 * 16u + col0) / 2u] = vec2<f32>(select(0.0f, act_silu(acc0_1_0) * acc1_1_0, live), select(0.0f, act_silu(acc0_1_1) * acc1_1_1, live));
  }
  if (p0 + 2u >= lo && p0 + 2u < hi) {
    h[(key2 * 16u + col0) / 2u] = vec2<f32>(select(0.0f, act_silu(acc0_2_0) * acc1_2_0, live), select(0.0f, act_silu(acc0_2_1) * acc1_2_1, live));
  }
  if (p0 + 3u >= lo && p0 + 3u < hi) {
    h[(key3 * 16u + col0) / 2u] = vec2<f32>(select(0.0f, act_silu(acc0_3_0) * acc1_3_0, live), select(0.0f, act_silu(acc0_3_1) * acc1_3_1, live));
  }
  if (p0 + 4u >= lo && p0 + 4u < hi) {
    h[(key4 * 16u + col0) / 2u] = vec2<f32>(select(0.0f, act_silu(acc0_4_0) * acc1_4_0, live), select(0.0f, act_silu(acc0_4_1) * acc1_4_1, live));
  }
  if (p0 + 5u >= lo && p0 + 5u < hi) {
    h[(key5 * 16u + col0) / 2u] = vec2<f32>(select(0.0f, act_silu(acc0_5_0) * acc1_5_0, live), select(0.0f, act_silu(acc0_5_1) * acc1_5_1, live));
  }
  if (p0 + 6u >= lo && p0 + 6u < hi) {
    h[(key6 * 16u + col0) / 2u] = vec2<f32>(select(0.0f, act_silu(acc0_6_0) * acc1_6_0, live), select(0.0f, act_silu(acc0_6_1) * acc1_6_1, live));
  }
  if (p0 + 7u >= lo && p0 + 7u < hi) {
    h[(key7 * 16u + col0) / 2u] = vec2<f32>(select(0.0f, act_silu(acc0_7_0) * acc1_7_0, live), select(0.0f, act_silu(acc0_7_1) * acc1_7_1, live));
  }
}

// ===== shader s12: k26_moe_grouped_down_lm.blocks.1.ffn.experts_bank
@group(0) @binding(0) var<storage, read> h: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> order: array<i32>;
@group(0) @binding(2) var<storage, read> offsets: array<i32>;
@group(0) @binding(3) var<storage, read> gate: array<f32>;
@group(0) @binding(4) var<storage, read> w2: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> slots: array<vec4<f32>>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(6) var<uniform> params: Params;

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wid.y * nwg.x + wid.x;
  if (g >= ((((params.sym_T * 4u) + 7u) / 8u) + 4u) * 1u) { return; }
  let total = (params.sym_T * 4u);
  let row_tiles = (((params.sym_T * 4u) + 7u) / 8u);
  let t = g / 1u;
  let cb = g % 1u;
  var e = 0u;
  var p0 = 0u;
  var lo = 0u;
  var hi = 0u;
  if (t < row_tiles) {
    p0 = t * 8u;
    // The last segment starting at or before p0 (offsets never decrease): a binary search without branches or loops (both are costly on lavapipe).
    e = select(e, min(e + 4u, 4u), u32(offsets[min(e + 4u, 4u)]) <= p0);
    e = select(e, min(e + 2u, 4u), u32(offsets[min(e + 2u, 4u)]) <= p0);
    e = select(e, min(e + 1u, 4u), u32(offsets[min(e + 1u, 4u)]) <= p0);
    lo = p0;
    hi = min(p0 + 8u, select(total, u32(offsets[min(e + 1u, 4u)]), e < 4u));
  } else {
    // Extra tile: the rows of segment e in the tile where it starts.
    e = t - row_tiles + 1u;
    lo = u32(offsets[e]);
    let end = select(total, u32(offsets[min(e + 1u, 4u)]), e < 4u);
    if (lo % 8u == 0u || lo >= end) {
      return;
    }
    p0 = lo - lo % 8u;
    hi = min(p0 + 8u, end);
  }
  let live = e < 4u;
  let wbase = min(e, 3u) * 8u;
  let col0 = cb * 32u + lid * 4u + 0u;
  let wc0 = min(col0, 7u);
  let col1 = cb * 32u + lid * 4u + 1u;
  let wc1 = min(col1, 7u);
  let col2 = cb * 32u + lid * 4u + 2u;
  let wc2 = min(col2, 7u);
  let col3 = cb * 32u + lid * 4u + 3u;
  let wc3 = min(col3, 7u);
  let key0 = u32(order[clamp(p0 + 0u, lo, hi - 1u)]);
  let src0 = key0;
  let key1 = u32(order[clamp(p0 + 1u, lo, hi - 1u)]);
  let src1 = key1;
  let key2 = u32(order[clamp(p0 + 2u, lo, hi - 1u)]);
  let src2 = key2;
  let key3 = u32(order[clamp(p0 + 3u, lo, hi - 1u)]);
  let src3 = key3;
  let key4 = u32(order[clamp(p0 + 4u, lo, hi - 1u)]);
  let src4 = key4;
  let key5 = u32(order[clamp(p0 + 5u, lo, hi - 1u)]);
  let src5 = key5;
  let key6 = u32(order[clamp(p0 + 6u, lo, hi - 1u)]);
  let src6 = key6;
  let key7 = u32(order[clamp(p0 + 7u, lo, hi - 1u)]);
  let src7 = key7;
  var acc0_0_0 = 0.0f;
  var acc0_0_1 = 0.0f;
  var acc0_0_2 = 0.0f;
  var acc0_0_3 = 0.0f;
  var acc0_1_0 = 0.0f;
  var acc0_1_1 = 0.0f;
  var acc0_1_2 = 0.0f;
  var acc0_1_3 = 0.0f;
  var acc0_2_0 = 0.0f;
  var acc0_2_1 = 0.0f;
  var acc0_2_2 = 0.0f;
  var acc0_2_3 = 0.0f;
  var acc0_3_0 = 0.0f;
  var acc0_3_1 = 0.0f;
  var acc0_3_2 = 0.0f;
  var acc0_3_3 = 0.0f;
  var acc0_4_0 = 0.0f;
  var acc0_4_1 = 0.0f;
  var acc0_4_2 = 0.0f;
  var acc0_4_3 = 0.0f;
  var acc0_5_0 = 0.0f;
  var acc0_5_1 = 0.0f;
  var acc0_5_2 = 0.0f;
  var acc0_5_3 = 0.0f;
  var acc0_6_0 = 0.0f;
  var acc0_6_1 = 0.0f;
  var acc0_6_2 = 0.0f;
  var acc0_6_3 = 0.0f;
  var acc0_7_0 = 0.0f;
  var acc0_7_1 = 0.0f;
  var acc0_7_2 = 0.0f;
  var acc0_7_3 = 0.0f;
  for (var kv = 0u; kv < 4u; kv++) {
    let b0_0 = w2[(wbase + wc0) * 4u + kv];
    let b0_1 = w2[(wbase + wc1) * 4u + kv];
    let b0_2 = w2[(wbase + wc2) * 4u + kv];
    let b0_3 = w2[(wbase + wc3) * 4u + kv];
    let a0 = h[src0 * 4u + kv];
    acc0_0_0 = fma(a0.w, b0_0.w, fma(a0.z, b0_0.z, fma(a0.y, b0_0.y, fma(a0.x, b0_0.x, acc0_0_0))));
    acc0_0_1 = fma(a0.w, b0_1.w, fma(a0.z, b0_1.z, fma(a0.y, b0_1.y, fma(a0.x, b0_1.x, acc0_0_1))));
    acc0_0_2 = fma(a0.w, b0_2.w, fma(a0.z, b0_2.z, fma(a0.y, b0_2.y, fma(a0.x, b0_2.x, acc0_0_2))));
    acc0_0_3 = fma(a0.w, b0_3.w, fma(a0.z, b0_3.z, fma(a0.y, b0_3.y, fma(a0.x, b0_3.x, acc0_0_3))));
    let a1 = h[src1 * 4u + kv];
    acc0_1_0 = fma(a1.w, b0_0.w, fma(a1.z, b0_0.z, fma(a1.y, b0_0.y, fma(a1.x, b0_0.x, acc0_1_0))));
    acc0_1_1 = fma(a1.w, b0_1.w, fma(a1.z, b0_1.z, fma(a1.y, b0_1.y, fma(a1.x, b0_1.x, acc0_1_1))));
    acc0_1_2 = fma(a1.w, b0_2.w, fma(a1.z, b0_2.z, fma(a1.y, b0_2.y, fma(a1.x, b0_2.x, acc0_1_2))));
    acc0_1_3 = fma(a1.w, b0_3.w, fma(a1.z, b0_3.z, fma(a1.y, b0_3.y, fma(a1.x, b0_3.x, acc0_1_3))));
    let a2 = h[src2 * 4u + kv];
    acc0_2_0 = fma(a2.w, b0_0.w, fma(a2.z, b0_0.z, fma(a2.y, b0_0.y, fma(a2.x, b0_0.x, acc0_2_0))));
    acc0_2_1 = fma(a2.w, b0_1.w, fma(a2.z, b0_1.z, fma(a2.y, b0_1.y, fma(a2.x, b0_1.x, acc0_2_1))));
    acc0_2_2 = fma(a2.w, b0_2.w, fma(a2.z, b0_2.z, fma(a2.y, b0_2.y, fma(a2.x, b0_2.x, acc0_2_2))));
    acc0_2_3 = fma(a2.w, b0_3.w, fma(a2.z, b0_3.z, fma(a2.y, b0_3.y, fma(a2.x, b0_3.x, acc0_2_3))));
    let a3 = h[src3 * 4u + kv];
    acc0_3_0 = fma(a3.w, b0_0.w, fma(a3.z, b0_0.z, fma(a3.y, b0_0.y, fma(a3.x, b0_0.x, acc0_3_0))));
    acc0_3_1 = fma(a3.w, b0_1.w, fma(a3.z, b0_1.z, fma(a3.y, b0_1.y, fma(a3.x, b0_1.x, acc0_3_1))));
    acc0_3_2 = fma(a3.w, b0_2.w, fma(a3.z, b0_2.z, fma(a3.y, b0_2.y, fma(a3.x, b0_2.x, acc0_3_2))));
    acc0_3_3 = fma(a3.w, b0_3.w, fma(a3.z, b0_3.z, fma(a3.y, b0_3.y, fma(a3.x, b0_3.x, acc0_3_3))));
    let a4 = h[src4 * 4u + kv];
    acc0_4_0 = fma(a4.w, b0_0.w, fma(a4.z, b0_0.z, fma(a4.y, b0_0.y, fma(a4.x, b0_0.x, acc0_4_0))));
    acc0_4_1 = fma(a4.w, b0_1.w, fma(a4.z, b0_1.z, fma(a4.y, b0_1.y, fma(a4.x, b0_1.x, acc0_4_1))));
    acc0_4_2 = fma(a4.w, b0_2.w, fma(a4.z, b0_2.z, fma(a4.y, b0_2.y, fma(a4.x, b0_2.x, acc0_4_2))));
    acc0_4_3 = fma(a4.w, b0_3.w, fma(a4.z, b0_3.z, fma(a4.y, b0_3.y, fma(a4.x, b0_3.x, acc0_4_3))));
    let a5 = h[src5 * 4u + kv];
    acc0_5_0 = fma(a5.w, b0_0.w, fma(a5.z, b0_0.z, fma(a5.y, b0_0.y, fma(a5.x, b0_0.x, acc0_5_0))));
    acc0_5_1 = fma(a5.w, b0_1.w, fma(a5.z, b0_1.z, fma(a5.y, b0_1.y, fma(a5.x, b0_1.x, acc0_5_1))));
    acc0_5_2 = fma(a5.w, b0_2.w, fma(a5.z, b0_2.z, fma(a5.y, b0_2.y, fma(a5.x, b0_2.x, acc0_5_2))));
    acc0_5_3 = fma(a5.w, b0_3.w, fma(a5.z, b0_3.z, fma(a5.y, b0_3.y, fma(a5.x, b0_3.x, acc0_5_3))));
    let a6 = h[src6 * 4u + kv];
    acc0_6_0 = fma(a6.w, b0_0.w, fma(a6.z, b0_0.z, fma(a6.y, b0_0.y, fma(a6.x, b0_0.x, acc0_6_0))));
    acc0_6_1 = fma(a6.w, b0_1.w, fma(a6.z, b0_1.z, fma(a6.y, b0_1.y, fma(a6.x, b0_1.x, acc0_6_1))));
    acc0_6_2 = fma(a6.w, b0_2.w, fma(a6.z, b0_2.z, fma(a6.y, b0_2.y, fma(a6.x, b0_2.x, acc0_6_2))));
    acc0_6_3 = fma(a6.w, b0_3.w, fma(a6.z, b0_3.z, fma(a6.y, b0_3.y, fma(a6.x, b0_3.x, acc0_6_3))));
    let a7 = h[src7 * 4u + kv];
    acc0_7_0 = fma(a7.w, b0_0.w, fma(a7.z, b0_0.z, fma(a7.y, b0_0.y, fma(a7.x, b0_0.x, acc0_7_0))));
    acc0_7_1 = fma(a7.w, b0_1.w, fma(a7.z, b0_1.z, fma(a7.y, b0_1.y, fma(a7.x, b0_1.x, acc0_7_1))));
    acc0_7_2 = fma(a7.w, b0_2.w, fma(a7.z, b0_2.z, fma(a7.y, b0_2.y, fma(a7.x, b0_2.x, acc0_7_2))));
    acc0_7_3 = fma(a7.w, b0_3.w, fma(a7.z, b0_3.z, fma(a7.y, b0_3.y, fma(a7.x, b0_3.x, acc0_7_3))));
  }
  if (p0 + 0u >= lo && p0 + 0u < hi) {
    let gate0 = gate[key0];
    if (col0 < 8u) {
      slots[(key0 * 8u + col0) / 4u] = vec4<f32>(select(0.0f, gate0 * (acc0_0_0), live), select(0.0f, gate0 * (acc0_0_1), live), select(0.0f, gate0 * (acc0_0_2), live), select(0.0f, gate0 * (acc0_0_3), live));
    }
  }
  if (p0 + 1u >= lo && p0 + 1u < hi) {
    let gate1 = gate[key1];
    if (col0 < 8u) {
      slots[(key1 * 8u + col0) / 4u] = vec4<f32>(select(0.0f, gate1 * (acc0_1_0), live), select(0.0f, gate1 * (acc0_1_1), live), select(0.0f, gate1 * (acc0_1_2), live), select(0.0f, gate1 * (acc0_1_3), live));
    }
  }
  if (p0 + 2u >= lo && p0 + 2u < hi) {
    let gate2 = gate[key2];
    if (col0 < 8u) {
      slots[(key2 * 8u + col0) / 4u] = vec4<f32>(select(0.0f, gate2 * (acc0_2_0), live), select(0.0f, gate2 * (acc0_2_1), live), select(0.0f, gate2 * (acc0_2_2), live), select(0.0f, gate2 * (acc0_2_3), live));
    }
  }
  if (p0 + 3u >= lo && p0 + 3u < hi) {
    let gate3 = gate[key3];
    if (col0 < 8u) {
      slots[(key3 * 8u + col0) / 4u] = vec4<f32>(select(0.0f, gate3 * (acc0_3_0), live), select(0.0f, gate3 * (acc0_3_1), live), select(0.0f, gate3 * (acc0_3_2), live), select(0.0f, gate3 * (acc0_3_3), live));
    }
  }
  if (p0 + 4u >= lo && p0 + 4u < hi) {
    let gate4 = gate[key4];
    if (col0 < 8u) {
      slots[(key4 * 8u + col0) / 4u] = vec4<f32>(select(0.0f, gate4 * (acc0_4_0), live), select(0.0f, gate4 * (acc0_4_1), live), select(0.0f, gate4 * (acc0_4_2), live), select(0.0f, gate4 * (acc0_4_3), live));
    }
  }
  if (p0 + 5u >= lo && p0 + 5u < hi) {
    let gate5 = gate[key5];
    if (col0 < 8u) {
      slots[(key5 * 8u + col0) / 4u] = vec4<f32>(select(0.0f, gate5 * (acc0_5_0), live), select(0.0f, gate5 * (acc0_5_1), live), select(0.0f, gate5 * (acc0_5_2), live), select(0.0f, gate5 * (acc0_5_3), live));
    }
  }
  if (p0 + 6u >= lo && p0 + 6u < hi) {
    let gate6 = gate[key6];
    if (col0 < 8u) {
      slots[(key6 * 8u + col0) / 4u] = vec4<f32>(select(0.0f, gate6 * (acc0_6_0), live), select(0.0f, gate6 * (acc0_6_1), live), select(0.0f, gate6 * (acc0_6_2), live), select(0.0f, gate6 * (acc0_6_3), live));
    }
  }
  if (p0 + 7u >= lo && p0 + 7u < hi) {
    let gate7 = gate[key7];
    if (col0 < 8u) {
      slots[(key7 * 8u + col0) / 4u] = vec4<f32>(select(0.0f, gate7 * (acc0_7_0), live), select(0.0f, gate7 * (acc0_7_1), live), select(0.0f, gate7 * (acc0_7_2), live), select(0.0f, gate7 * (acc0_7_3), live));
    }
  }
}

// ===== shader s13: k27_combine_linear_lm.blocks.1.ffn.merge
@group(0) @binding(0) var<storage, read> slots: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<f32>>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(3) var<uniform> params: Params;

fn combined(row: u32, kv: u32) -> vec4<f32> {
  let base = ((row * 2u + kv / 2u) * 2u) * 2u + kv % 2u;
  var s = slots[base];
  s += slots[base + 2u];
  return s;
}

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wid.y * nwg.x + wid.x;
  if (g >= ((params.sym_T + 7u) / 8u) * 1u) { return; }
  let row_base = (g / 1u) * 8u;
  let cb = g % 1u;
  let col0 = cb * 32u + lid * 4u + 0u;
  let wc0 = min(col0, 15u);
  let col1 = cb * 32u + lid * 4u + 1u;
  let wc1 = min(col1, 15u);
  let col2 = cb * 32u + lid * 4u + 2u;
  let wc2 = min(col2, 15u);
  let col3 = cb * 32u + lid * 4u + 3u;
  let wc3 = min(col3, 15u);
  let key0 = min(row_base + 0u, params.sym_T - 1u);
  let src0 = key0;
  let key1 = min(row_base + 1u, params.sym_T - 1u);
  let src1 = key1;
  let key2 = min(row_base + 2u, params.sym_T - 1u);
  let src2 = key2;
  let key3 = min(row_base + 3u, params.sym_T - 1u);
  let src3 = key3;
  let key4 = min(row_base + 4u, params.sym_T - 1u);
  let src4 = key4;
  let key5 = min(row_base + 5u, params.sym_T - 1u);
  let src5 = key5;
  let key6 = min(row_base + 6u, params.sym_T - 1u);
  let src6 = key6;
  let key7 = min(row_base + 7u, params.sym_T - 1u);
  let src7 = key7;
  var acc0_0_0 = 0.0f;
  var acc0_0_1 = 0.0f;
  var acc0_0_2 = 0.0f;
  var acc0_0_3 = 0.0f;
  var acc0_1_0 = 0.0f;
  var acc0_1_1 = 0.0f;
  var acc0_1_2 = 0.0f;
  var acc0_1_3 = 0.0f;
  var acc0_2_0 = 0.0f;
  var acc0_2_1 = 0.0f;
  var acc0_2_2 = 0.0f;
  var acc0_2_3 = 0.0f;
  var acc0_3_0 = 0.0f;
  var acc0_3_1 = 0.0f;
  var acc0_3_2 = 0.0f;
  var acc0_3_3 = 0.0f;
  var acc0_4_0 = 0.0f;
  var acc0_4_1 = 0.0f;
  var acc0_4_2 = 0.0f;
  var acc0_4_3 = 0.0f;
  var acc0_5_0 = 0.0f;
  var acc0_5_1 = 0.0f;
  var acc0_5_2 = 0.0f;
  var acc0_5_3 = 0.0f;
  var acc0_6_0 = 0.0f;
  var acc0_6_1 = 0.0f;
  var acc0_6_2 = 0.0f;
  var acc0_6_3 = 0.0f;
  var acc0_7_0 = 0.0f;
  var acc0_7_1 = 0.0f;
  var acc0_7_2 = 0.0f;
  var acc0_7_3 = 0.0f;
  for (var kv = 0u; kv < 4u; kv++) {
    let b0_0 = w[wc0 * 4u + kv];
    let b0_1 = w[wc1 * 4u + kv];
    let b0_2 = w[wc2 * 4u + kv];
    let b0_3 = w[wc3 * 4u + kv];
    let a0 = combined(src0, kv);
    acc0_0_0 = fma(a0.w, b0_0.w, fma(a0.z, b0_0.z, fma(a0.y, b0_0.y, fma(a0.x, b0_0.x, acc0_0_0))));
    acc0_0_1 = fma(a0.w, b0_1.w, fma(a0.z, b0_1.z, fma(a0.y, b0_1.y, fma(a0.x, b0_1.x, acc0_0_1))));
    acc0_0_2 = fma(a0.w, b0_2.w, fma(a0.z, b0_2.z, fma(a0.y, b0_2.y, fma(a0.x, b0_2.x, acc0_0_2))));
    acc0_0_3 = fma(a0.w, b0_3.w, fma(a0.z, b0_3.z, fma(a0.y, b0_3.y, fma(a0.x, b0_3.x, acc0_0_3))));
    let a1 = combined(src1, kv);
    acc0_1_0 = fma(a1.w, b0_0.w, fma(a1.z, b0_0.z, fma(a1.y, b0_0.y, fma(a1.x, b0_0.x, acc0_1_0))));
    acc0_1_1 = fma(a1.w, b0_1.w, fma(a1.z, b0_1.z, fma(a1.y, b0_1.y, fma(a1.x, b0_1.x, acc0_1_1))));
    acc0_1_2 = fma(a1.w, b0_2.w, fma(a1.z, b0_2.z, fma(a1.y, b0_2.y, fma(a1.x, b0_2.x, acc0_1_2))));
    acc0_1_3 = fma(a1.w, b0_3.w, fma(a1.z, b0_3.z, fma(a1.y, b0_3.y, fma(a1.x, b0_3.x, acc0_1_3))));
    let a2 = combined(src2, kv);
    acc0_2_0 = fma(a2.w, b0_0.w, fma(a2.z, b0_0.z, fma(a2.y, b0_0.y, fma(a2.x, b0_0.x, acc0_2_0))));
    acc0_2_1 = fma(a2.w, b0_1.w, fma(a2.z, b0_1.z, fma(a2.y, b0_1.y, fma(a2.x, b0_1.x, acc0_2_1))));
    acc0_2_2 = fma(a2.w, b0_2.w, fma(a2.z, b0_2.z, fma(a2.y, b0_2.y, fma(a2.x, b0_2.x, acc0_2_2))));
    acc0_2_3 = fma(a2.w, b0_3.w, fma(a2.z, b0_3.z, fma(a2.y, b0_3.y, fma(a2.x, b0_3.x, acc0_2_3))));
    let a3 = combined(src3, kv);
    acc0_3_0 = fma(a3.w, b0_0.w, fma(a3.z, b0_0.z, fma(a3.y, b0_0.y, fma(a3.x, b0_0.x, acc0_3_0))));
    acc0_3_1 = fma(a3.w, b0_1.w, fma(a3.z, b0_1.z, fma(a3.y, b0_1.y, fma(a3.x, b0_1.x, acc0_3_1))));
    acc0_3_2 = fma(a3.w, b0_2.w, fma(a3.z, b0_2.z, fma(a3.y, b0_2.y, fma(a3.x, b0_2.x, acc0_3_2))));
    acc0_3_3 = fma(a3.w, b0_3.w, fma(a3.z, b0_3.z, fma(a3.y, b0_3.y, fma(a3.x, b0_3.x, acc0_3_3))));
    let a4 = combined(src4, kv);
    acc0_4_0 = fma(a4.w, b0_0.w, fma(a4.z, b0_0.z, fma(a4.y, b0_0.y, fma(a4.x, b0_0.x, acc0_4_0))));
    acc0_4_1 = fma(a4.w, b0_1.w, fma(a4.z, b0_1.z, fma(a4.y, b0_1.y, fma(a4.x, b0_1.x, acc0_4_1))));
    acc0_4_2 = fma(a4.w, b0_2.w, fma(a4.z, b0_2.z, fma(a4.y, b0_2.y, fma(a4.x, b0_2.x, acc0_4_2))));
    acc0_4_3 = fma(a4.w, b0_3.w, fma(a4.z, b0_3.z, fma(a4.y, b0_3.y, fma(a4.x, b0_3.x, acc0_4_3))));
    let a5 = combined(src5, kv);
    acc0_5_0 = fma(a5.w, b0_0.w, fma(a5.z, b0_0.z, fma(a5.y, b0_0.y, fma(a5.x, b0_0.x, acc0_5_0))));
    acc0_5_1 = fma(a5.w, b0_1.w, fma(a5.z, b0_1.z, fma(a5.y, b0_1.y, fma(a5.x, b0_1.x, acc0_5_1))));
    acc0_5_2 = fma(a5.w, b0_2.w, fma(a5.z, b0_2.z, fma(a5.y, b0_2.y, fma(a5.x, b0_2.x, acc0_5_2))));
    acc0_5_3 = fma(a5.w, b0_3.w, fma(a5.z, b0_3.z, fma(a5.y, b0_3.y, fma(a5.x, b0_3.x, acc0_5_3))));
    let a6 = combined(src6, kv);
    acc0_6_0 = fma(a6.w, b0_0.w, fma(a6.z, b0_0.z, fma(a6.y, b0_0.y, fma(a6.x, b0_0.x, acc0_6_0))));
    acc0_6_1 = fma(a6.w, b0_1.w, fma(a6.z, b0_1.z, fma(a6.y, b0_1.y, fma(a6.x, b0_1.x, acc0_6_1))));
    acc0_6_2 = fma(a6.w, b0_2.w, fma(a6.z, b0_2.z, fma(a6.y, b0_2.y, fma(a6.x, b0_2.x, acc0_6_2))));
    acc0_6_3 = fma(a6.w, b0_3.w, fma(a6.z, b0_3.z, fma(a6.y, b0_3.y, fma(a6.x, b0_3.x, acc0_6_3))));
    let a7 = combined(src7, kv);
    acc0_7_0 = fma(a7.w, b0_0.w, fma(a7.z, b0_0.z, fma(a7.y, b0_0.y, fma(a7.x, b0_0.x, acc0_7_0))));
    acc0_7_1 = fma(a7.w, b0_1.w, fma(a7.z, b0_1.z, fma(a7.y, b0_1.y, fma(a7.x, b0_1.x, acc0_7_1))));
    acc0_7_2 = fma(a7.w, b0_2.w, fma(a7.z, b0_2.z, fma(a7.y, b0_2.y, fma(a7.x, b0_2.x, acc0_7_2))));
    acc0_7_3 = fma(a7.w, b0_3.w, fma(a7.z, b0_3.z, fma(a7.y, b0_3.y, fma(a7.x, b0_3.x, acc0_7_3))));
  }
  let row0 = row_base + 0u;
  if (row0 < params.sym_T) {
    if (col0 < 16u) {
      y[(row0 * 16u + col0) / 4u] = vec4<f32>(acc0_0_0, acc0_0_1, acc0_0_2, acc0_0_3);
    }
  }
  let row1 = row_base + 1u;
  if (row1 < params.sym_T) {
    if (col0 < 16u) {
      y[(row1 * 16u + col0) / 4u] = vec4<f32>(acc0_1_0, acc0_1_1, acc0_1_2, acc0_1_3);
    }
  }
  let row2 = row_base + 2u;
  if (row2 < params.sym_T) {
    if (col0 < 16u) {
      y[(row2 * 16u + col0) / 4u] = vec4<f32>(acc0_2_0, acc0_2_1, acc0_2_2, acc0_2_3);
    }
  }
  let row3 = row_base + 3u;
  if (row3 < params.sym_T) {
    if (col0 < 16u) {
      y[(row3 * 16u + col0) / 4u] = vec4<f32>(acc0_3_0, acc0_3_1, acc0_3_2, acc0_3_3);
    }
  }
  let row4 = row_base + 4u;
  if (row4 < params.sym_T) {
    if (col0 < 16u) {
      y[(row4 * 16u + col0) / 4u] = vec4<f32>(acc0_4_0, acc0_4_1, acc0_4_2, acc0_4_3);
    }
  }
  let row5 = row_base + 5u;
  if (row5 < params.sym_T) {
    if (col0 < 16u) {
      y[(row5 * 16u + col0) / 4u] = vec4<f32>(acc0_5_0, acc0_5_1, acc0_5_2, acc0_5_3);
    }
  }
  let row6 = row_base + 6u;
  if (row6 < params.sym_T) {
    if (col0 < 16u) {
      y[(row6 * 16u + col0) / 4u] = vec4<f32>(acc0_6_0, acc0_6_1, acc0_6_2, acc0_6_3);
    }
  }
  let row7 = row_base + 7u;
  if (row7 < params.sym_T) {
    if (col0 < 16u) {
      y[(row7 * 16u + col0) / 4u] = vec4<f32>(acc0_7_0, acc0_7_1, acc0_7_2, acc0_7_3);
    }
  }
}

// ===== shader s14: k28_add_lm.blocks.1
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

// ===== shader s15: k30_linear_tiled_lm.lm_head
@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<f32>>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wid.y * nwg.x + wid.x;
  if (g >= ((params.sym_T + 7u) / 8u) * 1u) { return; }
  let row_base = (g / 1u) * 8u;
  let cb = g % 1u;
  let col0 = cb * 32u + lid * 4u + 0u;
  let wc0 = col0;
  let col1 = cb * 32u + lid * 4u + 1u;
  let wc1 = col1;
  let col2 = cb * 32u + lid * 4u + 2u;
  let wc2 = col2;
  let col3 = cb * 32u + lid * 4u + 3u;
  let wc3 = col3;
  let key0 = min(row_base + 0u, params.sym_T - 1u);
  let src0 = key0;
  let key1 = min(row_base + 1u, params.sym_T - 1u);
  let src1 = key1;
  let key2 = min(row_base + 2u, params.sym_T - 1u);
  let src2 = key2;
  let key3 = min(row_base + 3u, params.sym_T - 1u);
  let src3 = key3;
  let key4 = min(row_base + 4u, params.sym_T - 1u);
  let src4 = key4;
  let key5 = min(row_base + 5u, params.sym_T - 1u);
  let src5 = key5;
  let key6 = min(row_base + 6u, params.sym_T - 1u);
  let src6 = key6;
  let key7 = min(row_base + 7u, params.sym_T - 1u);
  let src7 = key7;
  var acc0_0_0 = 0.0f;
  var acc0_0_1 = 0.0f;
  var acc0_0_2 = 0.0f;
  var acc0_0_3 = 0.0f;
  var acc0_1_0 = 0.0f;
  var acc0_1_1 = 0.0f;
  var acc0_1_2 = 0.0f;
  var acc0_1_3 = 0.0f;
  var acc0_2_0 = 0.0f;
  var acc0_2_1 = 0.0f;
  var acc0_2_2 = 0.0f;
  var acc0_2_3 = 0.0f;
  var acc0_3_0 = 0.0f;
  var acc0_3_1 = 0.0f;
  var acc0_3_2 = 0.0f;
  var acc0_3_3 = 0.0f;
  var acc0_4_0 = 0.0f;
  var acc0_4_1 = 0.0f;
  var acc0_4_2 = 0.0f;
  var acc0_4_3 = 0.0f;
  var acc0_5_0 = 0.0f;
  var acc0_5_1 = 0.0f;
  var acc0_5_2 = 0.0f;
  var acc0_5_3 = 0.0f;
  var acc0_6_0 = 0.0f;
  var acc0_6_1 = 0.0f;
  var acc0_6_2 = 0.0f;
  var acc0_6_3 = 0.0f;
  var acc0_7_0 = 0.0f;
  var acc0_7_1 = 0.0f;
  var acc0_7_2 = 0.0f;
  var acc0_7_3 = 0.0f;
  for (var kv = 0u; kv < 4u; kv++) {
    let b0_0 = w[wc0 * 4u + kv];
    let b0_1 = w[wc1 * 4u + kv];
    let b0_2 = w[wc2 * 4u + kv];
    let b0_3 = w[wc3 * 4u + kv];
    let a0 = x[src0 * 4u + kv];
    acc0_0_0 = fma(a0.w, b0_0.w, fma(a0.z, b0_0.z, fma(a0.y, b0_0.y, fma(a0.x, b0_0.x, acc0_0_0))));
    acc0_0_1 = fma(a0.w, b0_1.w, fma(a0.z, b0_1.z, fma(a0.y, b0_1.y, fma(a0.x, b0_1.x, acc0_0_1))));
    acc0_0_2 = fma(a0.w, b0_2.w, fma(a0.z, b0_2.z, fma(a0.y, b0_2.y, fma(a0.x, b0_2.x, acc0_0_2))));
    acc0_0_3 = fma(a0.w, b0_3.w, fma(a0.z, b0_3.z, fma(a0.y, b0_3.y, fma(a0.x, b0_3.x, acc0_0_3))));
    let a1 = x[src1 * 4u + kv];
    acc0_1_0 = fma(a1.w, b0_0.w, fma(a1.z, b0_0.z, fma(a1.y, b0_0.y, fma(a1.x, b0_0.x, acc0_1_0))));
    acc0_1_1 = fma(a1.w, b0_1.w, fma(a1.z, b0_1.z, fma(a1.y, b0_1.y, fma(a1.x, b0_1.x, acc0_1_1))));
    acc0_1_2 = fma(a1.w, b0_2.w, fma(a1.z, b0_2.z, fma(a1.y, b0_2.y, fma(a1.x, b0_2.x, acc0_1_2))));
    acc0_1_3 = fma(a1.w, b0_3.w, fma(a1.z, b0_3.z, fma(a1.y, b0_3.y, fma(a1.x, b0_3.x, acc0_1_3))));
    let a2 = x[src2 * 4u + kv];
    acc0_2_0 = fma(a2.w, b0_0.w, fma(a2.z, b0_0.z, fma(a2.y, b0_0.y, fma(a2.x, b0_0.x, acc0_2_0))));
    acc0_2_1 = fma(a2.w, b0_1.w, fma(a2.z, b0_1.z, fma(a2.y, b0_1.y, fma(a2.x, b0_1.x, acc0_2_1))));
    acc0_2_2 = fma(a2.w, b0_2.w, fma(a2.z, b0_2.z, fma(a2.y, b0_2.y, fma(a2.x, b0_2.x, acc0_2_2))));
    acc0_2_3 = fma(a2.w, b0_3.w, fma(a2.z, b0_3.z, fma(a2.y, b0_3.y, fma(a2.x, b0_3.x, acc0_2_3))));
    let a3 = x[src3 * 4u + kv];
    acc0_3_0 = fma(a3.w, b0_0.w, fma(a3.z, b0_0.z, fma(a3.y, b0_0.y, fma(a3.x, b0_0.x, acc0_3_0))));
    acc0_3_1 = fma(a3.w, b0_1.w, fma(a3.z, b0_1.z, fma(a3.y, b0_1.y, fma(a3.x, b0_1.x, acc0_3_1))));
    acc0_3_2 = fma(a3.w, b0_2.w, fma(a3.z, b0_2.z, fma(a3.y, b0_2.y, fma(a3.x, b0_2.x, acc0_3_2))));
    acc0_3_3 = fma(a3.w, b0_3.w, fma(a3.z, b0_3.z, fma(a3.y, b0_3.y, fma(a3.x, b0_3.x, acc0_3_3))));
    let a4 = x[src4 * 4u + kv];
    acc0_4_0 = fma(a4.w, b0_0.w, fma(a4.z, b0_0.z, fma(a4.y, b0_0.y, fma(a4.x, b0_0.x, acc0_4_0))));
    acc0_4_1 = fma(a4.w, b0_1.w, fma(a4.z, b0_1.z, fma(a4.y, b0_1.y, fma(a4.x, b0_1.x, acc0_4_1))));
    acc0_4_2 = fma(a4.w, b0_2.w, fma(a4.z, b0_2.z, fma(a4.y, b0_2.y, fma(a4.x, b0_2.x, acc0_4_2))));
    acc0_4_3 = fma(a4.w, b0_3.w, fma(a4.z, b0_3.z, fma(a4.y, b0_3.y, fma(a4.x, b0_3.x, acc0_4_3))));
    let a5 = x[src5 * 4u + kv];
    acc0_5_0 = fma(a5.w, b0_0.w, fma(a5.z, b0_0.z, fma(a5.y, b0_0.y, fma(a5.x, b0_0.x, acc0_5_0))));
    acc0_5_1 = fma(a5.w, b0_1.w, fma(a5.z, b0_1.z, fma(a5.y, b0_1.y, fma(a5.x, b0_1.x, acc0_5_1))));
    acc0_5_2 = fma(a5.w, b0_2.w, fma(a5.z, b0_2.z, fma(a5.y, b0_2.y, fma(a5.x, b0_2.x, acc0_5_2))));
    acc0_5_3 = fma(a5.w, b0_3.w, fma(a5.z, b0_3.z, fma(a5.y, b0_3.y, fma(a5.x, b0_3.x, acc0_5_3))));
    let a6 = x[src6 * 4u + kv];
    acc0_6_0 = fma(a6.w, b0_0.w, fma(a6.z, b0_0.z, fma(a6.y, b0_0.y, fma(a6.x, b0_0.x, acc0_6_0))));
    acc0_6_1 = fma(a6.w, b0_1.w, fma(a6.z, b0_1.z, fma(a6.y, b0_1.y, fma(a6.x, b0_1.x, acc0_6_1))));
    acc0_6_2 = fma(a6.w, b0_2.w, fma(a6.z, b0_2.z, fma(a6.y, b0_2.y, fma(a6.x, b0_2.x, acc0_6_2))));
    acc0_6_3 = fma(a6.w, b0_3.w, fma(a6.z, b0_3.z, fma(a6.y, b0_3.y, fma(a6.x, b0_3.x, acc0_6_3))));
    let a7 = x[src7 * 4u + kv];
    acc0_7_0 = fma(a7.w, b0_0.w, fma(a7.z, b0_0.z, fma(a7.y, b0_0.y, fma(a7.x, b0_0.x, acc0_7_0))));
    acc0_7_1 = fma(a7.w, b0_1.w, fma(a7.z, b0_1.z, fma(a7.y, b0_1.y, fma(a7.x, b0_1.x, acc0_7_1))));
    acc0_7_2 = fma(a7.w, b0_2.w, fma(a7.z, b0_2.z, fma(a7.y, b0_2.y, fma(a7.x, b0_2.x, acc0_7_2))));
    acc0_7_3 = fma(a7.w, b0_3.w, fma(a7.z, b0_3.z, fma(a7.y, b0_3.y, fma(a7.x, b0_3.x, acc0_7_3))));
  }
  let row0 = row_base + 0u;
  if (row0 < params.sym_T) {
    y[(row0 * 32u + col0) / 4u] = vec4<f32>(acc0_0_0, acc0_0_1, acc0_0_2, acc0_0_3);
  }
  let row1 = row_base + 1u;
  if (row1 < params.sym_T) {
    y[(row1 * 32u + col0) / 4u] = vec4<f32>(acc0_1_0, acc0_1_1, acc0_1_2, acc0_1_3);
  }
  let row2 = row_base + 2u;
  if (row2 < params.sym_T) {
    y[(row2 * 32u + col0) / 4u] = vec4<f32>(acc0_2_0, acc0_2_1, acc0_2_2, acc0_2_3);
  }
  let row3 = row_base + 3u;
  if (row3 < params.sym_T) {
    y[(row3 * 32u + col0) / 4u] = vec4<f32>(acc0_3_0, acc0_3_1, acc0_3_2, acc0_3_3);
  }
  let row4 = row_base + 4u;
  if (row4 < params.sym_T) {
    y[(row4 * 32u + col0) / 4u] = vec4<f32>(acc0_4_0, acc0_4_1, acc0_4_2, acc0_4_3);
  }
  let row5 = row_base + 5u;
  if (row5 < params.sym_T) {
    y[(row5 * 32u + col0) / 4u] = vec4<f32>(acc0_5_0, acc0_5_1, acc0_5_2, acc0_5_3);
  }
  let row6 = row_base + 6u;
  if (row6 < params.sym_T) {
    y[(row6 * 32u + col0) / 4u] = vec4<f32>(acc0_6_0, acc0_6_1, acc0_6_2, acc0_6_3);
  }
  let row7 = row_base + 7u;
  if (row7 < params.sym_T) {
    y[(row7 * 32u + col0) / 4u] = vec4<f32>(acc0_7_0, acc0_7_1, acc0_7_2, acc0_7_3);
  }
}
