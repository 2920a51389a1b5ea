@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<f32>>;
struct Params {
  sym_T: u32,
  cap_10: u32,
}
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wid.y * nwg.x + wid.x;
  if (g >= ((params.sym_T + 7u) / 8u) * 1u) { return; }
  let row_base = (g / 1u) * 8u;
  let cb = g % 1u;
  let col0 = cb * 32u + lid * 4u + 0u;
  let wc0 = min(col0, 3u);
  let col1 = cb * 32u + lid * 4u + 1u;
  let wc1 = min(col1, 3u);
  let col2 = cb * 32u + lid * 4u + 2u;
  let wc2 = min(col2, 3u);
  let col3 = cb * 32u + lid * 4u + 3u;
  let wc3 = min(col3, 3u);
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
    if (col0 < 4u) {
      y[(row0 * 4u + col0) / 4u] = vec4<f32>(acc0_0_0, acc0_0_1, acc0_0_2, acc0_0_3);
    }
  }
  let row1 = row_base + 1u;
  if (row1 < params.sym_T) {
    if (col0 < 4u) {
      y[(row1 * 4u + col0) / 4u] = vec4<f32>(acc0_1_0, acc0_1_1, acc0_1_2, acc0_1_3);
    }
  }
  let row2 = row_base + 2u;
  if (row2 < params.sym_T) {
    if (col0 < 4u) {
      y[(row2 * 4u + col0) / 4u] = vec4<f32>(acc0_2_0, acc0_2_1, acc0_2_2, acc0_2_3);
    }
  }
  let row3 = row_base + 3u;
  if (row3 < params.sym_T) {
    if (col0 < 4u) {
      y[(row3 * 4u + col0) / 4u] = vec4<f32>(acc0_3_0, acc0_3_1, acc0_3_2, acc0_3_3);
    }
  }
  let row4 = row_base + 4u;
  if (row4 < params.sym_T) {
    if (col0 < 4u) {
      y[(row4 * 4u + col0) / 4u] = vec4<f32>(acc0_4_0, acc0_4_1, acc0_4_2, acc0_4_3);
    }
  }
  let row5 = row_base + 5u;
  if (row5 < params.sym_T) {
    if (col0 < 4u) {
      y[(row5 * 4u + col0) / 4u] = vec4<f32>(acc0_5_0, acc0_5_1, acc0_5_2, acc0_5_3);
    }
  }
  let row6 = row_base + 6u;
  if (row6 < params.sym_T) {
    if (col0 < 4u) {
      y[(row6 * 4u + col0) / 4u] = vec4<f32>(acc0_6_0, acc0_6_1, acc0_6_2, acc0_6_3);
    }
  }
  let row7 = row_base + 7u;
  if (row7 < params.sym_T) {
    if (col0 < 4u) {
      y[(row7 * 4u + col0) / 4u] = vec4<f32>(acc0_7_0, acc0_7_1, acc0_7_2, acc0_7_3);
    }
  }
}
