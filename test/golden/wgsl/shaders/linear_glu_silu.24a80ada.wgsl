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

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wid.y * nwg.x + wid.x;
  if (g >= ((params.sym_T + 7u) / 8u) * 1u) { return; }
  let row_base = (g / 1u) * 8u;
  let cb = g % 1u;
  let col0 = cb * 16u + lid * 2u + 0u;
  let wc0 = min(col0, 7u);
  let col1 = cb * 16u + lid * 2u + 1u;
  let wc1 = min(col1, 7u);
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
    if (col0 < 8u) {
      y[(row0 * 8u + col0) / 2u] = vec2<f32>(act_silu(acc0_0_0) * acc1_0_0, act_silu(acc0_0_1) * acc1_0_1);
    }
  }
  let row1 = row_base + 1u;
  if (row1 < params.sym_T) {
    if (col0 < 8u) {
      y[(row1 * 8u + col0) / 2u] = vec2<f32>(act_silu(acc0_1_0) * acc1_1_0, act_silu(acc0_1_1) * acc1_1_1);
    }
  }
  let row2 = row_base + 2u;
  if (row2 < params.sym_T) {
    if (col0 < 8u) {
      y[(row2 * 8u + col0) / 2u] = vec2<f32>(act_silu(acc0_2_0) * acc1_2_0, act_silu(acc0_2_1) * acc1_2_1);
    }
  }
  let row3 = row_base + 3u;
  if (row3 < params.sym_T) {
    if (col0 < 8u) {
      y[(row3 * 8u + col0) / 2u] = vec2<f32>(act_silu(acc0_3_0) * acc1_3_0, act_silu(acc0_3_1) * acc1_3_1);
    }
  }
  let row4 = row_base + 4u;
  if (row4 < params.sym_T) {
    if (col0 < 8u) {
      y[(row4 * 8u + col0) / 2u] = vec2<f32>(act_silu(acc0_4_0) * acc1_4_0, act_silu(acc0_4_1) * acc1_4_1);
    }
  }
  let row5 = row_base + 5u;
  if (row5 < params.sym_T) {
    if (col0 < 8u) {
      y[(row5 * 8u + col0) / 2u] = vec2<f32>(act_silu(acc0_5_0) * acc1_5_0, act_silu(acc0_5_1) * acc1_5_1);
    }
  }
  let row6 = row_base + 6u;
  if (row6 < params.sym_T) {
    if (col0 < 8u) {
      y[(row6 * 8u + col0) / 2u] = vec2<f32>(act_silu(acc0_6_0) * acc1_6_0, act_silu(acc0_6_1) * acc1_6_1);
    }
  }
  let row7 = row_base + 7u;
  if (row7 < params.sym_T) {
    if (col0 < 8u) {
      y[(row7 * 8u + col0) / 2u] = vec2<f32>(act_silu(acc0_7_0) * acc1_7_0, act_silu(acc0_7_1) * acc1_7_1);
    }
  }
}
