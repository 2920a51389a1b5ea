@group(0) @binding(0) var<storage, read> h: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> order: array<i32>;
@group(0) @binding(2) var<storage, read> offsets: array<i32>;
@group(0) @binding(3) var<storage, read> gate: array<f32>;
@group(0) @binding(4) var<storage, read> w2: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> b2: array<f32>;
@group(0) @binding(6) var<storage, read_write> slots: array<vec4<f32>>;
struct Params {
  sym_T: u32,
  cap_10: u32,
}
@group(0) @binding(7) var<uniform> params: Params;

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = wid.y * nwg.x + wid.x;
  if (g >= ((((params.sym_T * 2u) + 7u) / 8u) + 4u) * 1u) { return; }
  let total = (params.sym_T * 2u);
  let row_tiles = (((params.sym_T * 2u) + 7u) / 8u);
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
  let col0 = cb * 32u + lid * 4u + 0u;
  let wc0 = min(col0, 15u);
  let col1 = cb * 32u + lid * 4u + 1u;
  let wc1 = min(col1, 15u);
  let col2 = cb * 32u + lid * 4u + 2u;
  let wc2 = min(col2, 15u);
  let col3 = cb * 32u + lid * 4u + 3u;
  let wc3 = min(col3, 15u);
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
    if (col0 < 16u) {
      slots[(key0 * 16u + col0) / 4u] = vec4<f32>(select(0.0f, gate0 * (acc0_0_0 + b2[wbase + col0]), live), select(0.0f, gate0 * (acc0_0_1 + b2[wbase + col1]), live), select(0.0f, gate0 * (acc0_0_2 + b2[wbase + col2]), live), select(0.0f, gate0 * (acc0_0_3 + b2[wbase + col3]), live));
    }
  }
  if (p0 + 1u >= lo && p0 + 1u < hi) {
    let gate1 = gate[key1];
    if (col0 < 16u) {
      slots[(key1 * 16u + col0) / 4u] = vec4<f32>(select(0.0f, gate1 * (acc0_1_0 + b2[wbase + col0]), live), select(0.0f, gate1 * (acc0_1_1 + b2[wbase + col1]), live), select(0.0f, gate1 * (acc0_1_2 + b2[wbase + col2]), live), select(0.0f, gate1 * (acc0_1_3 + b2[wbase + col3]), live));
    }
  }
  if (p0 + 2u >= lo && p0 + 2u < hi) {
    let gate2 = gate[key2];
    if (col0 < 16u) {
      slots[(key2 * 16u + col0) / 4u] = vec4<f32>(select(0.0f, gate2 * (acc0_2_0 + b2[wbase + col0]), live), select(0.0f, gate2 * (acc0_2_1 + b2[wbase + col1]), live), select(0.0f, gate2 * (acc0_2_2 + b2[wbase + col2]), live), select(0.0f, gate2 * (acc0_2_3 + b2[wbase + col3]), live));
    }
  }
  if (p0 + 3u >= lo && p0 + 3u < hi) {
    let gate3 = gate[key3];
    if (col0 < 16u) {
      slots[(key3 * 16u + col0) / 4u] = vec4<f32>(select(0.0f, gate3 * (acc0_3_0 + b2[wbase + col0]), live), select(0.0f, gate3 * (acc0_3_1 + b2[wbase + col1]), live), select(0.0f, gate3 * (acc0_3_2 + b2[wbase + col2]), live), select(0.0f, gate3 * (acc0_3_3 + b2[wbase + col3]), live));
    }
  }
  if (p0 + 4u >= lo && p0 + 4u < hi) {
    let gate4 = gate[key4];
    if (col0 < 16u) {
      slots[(key4 * 16u + col0) / 4u] = vec4<f32>(select(0.0f, gate4 * (acc0_4_0 + b2[wbase + col0]), live), select(0.0f, gate4 * (acc0_4_1 + b2[wbase + col1]), live), select(0.0f, gate4 * (acc0_4_2 + b2[wbase + col2]), live), select(0.0f, gate4 * (acc0_4_3 + b2[wbase + col3]), live));
    }
  }
  if (p0 + 5u >= lo && p0 + 5u < hi) {
    let gate5 = gate[key5];
    if (col0 < 16u) {
      slots[(key5 * 16u + col0) / 4u] = vec4<f32>(select(0.0f, gate5 * (acc0_5_0 + b2[wbase + col0]), live), select(0.0f, gate5 * (acc0_5_1 + b2[wbase + col1]), live), select(0.0f, gate5 * (acc0_5_2 + b2[wbase + col2]), live), select(0.0f, gate5 * (acc0_5_3 + b2[wbase + col3]), live));
    }
  }
  if (p0 + 6u >= lo && p0 + 6u < hi) {
    let gate6 = gate[key6];
    if (col0 < 16u) {
      slots[(key6 * 16u + col0) / 4u] = vec4<f32>(select(0.0f, gate6 * (acc0_6_0 + b2[wbase + col0]), live), select(0.0f, gate6 * (acc0_6_1 + b2[wbase + col1]), live), select(0.0f, gate6 * (acc0_6_2 + b2[wbase + col2]), live), select(0.0f, gate6 * (acc0_6_3 + b2[wbase + col3]), live));
    }
  }
  if (p0 + 7u >= lo && p0 + 7u < hi) {
    let gate7 = gate[key7];
    if (col0 < 16u) {
      slots[(key7 * 16u + col0) / 4u] = vec4<f32>(select(0.0f, gate7 * (acc0_7_0 + b2[wbase + col0]), live), select(0.0f, gate7 * (acc0_7_1 + b2[wbase + col1]), live), select(0.0f, gate7 * (acc0_7_2 + b2[wbase + col2]), live), select(0.0f, gate7 * (acc0_7_3 + b2[wbase + col3]), live));
    }
  }
}
