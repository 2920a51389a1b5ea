@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> order: array<i32>;
@group(0) @binding(2) var<storage, read> offsets: array<i32>;
@group(0) @binding(3) var<storage, read> w1: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> b1: array<f32>;
@group(0) @binding(5) var<storage, read_write> h: array<vec4<f32>>;
struct Params {
  sym_T: u32,
  cap_10: u32,
}
@group(0) @binding(6) var<uniform> params: Params;

fn erf_f32(a: f32) -> f32 {
  let t = abs(a);
  let s = a * a;
  if (t > 0.9277344f) {
    // 1 - erfc(t), with erfc(t) = exp(-t - t * p(t)).
    var r = fma((-0.000017285347f), t, 0.00038319713f);
    let u = fma((-0.0038839644f), t, 0.024254622f);
    r = fma(r, s, u);
    r = fma(r, t, (-0.10677788f));
    r = fma(r, t, (-0.6348467f));
    r = fma(r, t, (-0.12871751f));
    r = fma(r, t, -t);
    return select((-1.0f), 1.0f, a > 0.0f) * (1.0f - exp(r));
  }
  var r = (-0.0005967617f);
  r = fma(r, s, 0.0049911942f);
  r = fma(r, s, (-0.026768135f));
  r = fma(r, s, 0.112819925f);
  r = fma(r, s, (-0.37612534f));
  r = fma(r, s, 0.12837917f);
  return fma(r, a, a);
}

fn act_gelu(x: f32) -> f32 {
  return 0.5f * x * (1.0f + erf_f32(x * 0.70710677f));
}

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
    let b0_0 = w1[(wbase + wc0) * 4u + kv];
    let b0_1 = w1[(wbase + wc1) * 4u + kv];
    let b0_2 = w1[(wbase + wc2) * 4u + kv];
    let b0_3 = w1[(wbase + wc3) * 4u + kv];
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
  if (p0 + 0u >= lo && p0 + 0u < hi) {
    if (col0 < 16u) {
      h[(key0 * 16u + col0) / 4u] = vec4<f32>(select(0.0f, act_gelu(acc0_0_0 + b1[wbase + col0]), live), select(0.0f, act_gelu(acc0_0_1 + b1[wbase + col1]), live), select(0.0f, act_gelu(acc0_0_2 + b1[wbase + col2]), live), select(0.0f, act_gelu(acc0_0_3 + b1[wbase + col3]), live));
    }
  }
  if (p0 + 1u >= lo && p0 + 1u < hi) {
    if (col0 < 16u) {
      h[(key1 * 16u + col0) / 4u] = vec4<f32>(select(0.0f, act_gelu(acc0_1_0 + b1[wbase + col0]), live), select(0.0f, act_gelu(acc0_1_1 + b1[wbase + col1]), live), select(0.0f, act_gelu(acc0_1_2 + b1[wbase + col2]), live), select(0.0f, act_gelu(acc0_1_3 + b1[wbase + col3]), live));
    }
  }
  if (p0 + 2u >= lo && p0 + 2u < hi) {
    if (col0 < 16u) {
      h[(key2 * 16u + col0) / 4u] = vec4<f32>(select(0.0f, act_gelu(acc0_2_0 + b1[wbase + col0]), live), select(0.0f, act_gelu(acc0_2_1 + b1[wbase + col1]), live), select(0.0f, act_gelu(acc0_2_2 + b1[wbase + col2]), live), select(0.0f, act_gelu(acc0_2_3 + b1[wbase + col3]), live));
    }
  }
  if (p0 + 3u >= lo && p0 + 3u < hi) {
    if (col0 < 16u) {
      h[(key3 * 16u + col0) / 4u] = vec4<f32>(select(0.0f, act_gelu(acc0_3_0 + b1[wbase + col0]), live), select(0.0f, act_gelu(acc0_3_1 + b1[wbase + col1]), live), select(0.0f, act_gelu(acc0_3_2 + b1[wbase + col2]), live), select(0.0f, act_gelu(acc0_3_3 + b1[wbase + col3]), live));
    }
  }
  if (p0 + 4u >= lo && p0 + 4u < hi) {
    if (col0 < 16u) {
      h[(key4 * 16u + col0) / 4u] = vec4<f32>(select(0.0f, act_gelu(acc0_4_0 + b1[wbase + col0]), live), select(0.0f, act_gelu(acc0_4_1 + b1[wbase + col1]), live), select(0.0f, act_gelu(acc0_4_2 + b1[wbase + col2]), live), select(0.0f, act_gelu(acc0_4_3 + b1[wbase + col3]), live));
    }
  }
  if (p0 + 5u >= lo && p0 + 5u < hi) {
    if (col0 < 16u) {
      h[(key5 * 16u + col0) / 4u] = vec4<f32>(select(0.0f, act_gelu(acc0_5_0 + b1[wbase + col0]), live), select(0.0f, act_gelu(acc0_5_1 + b1[wbase + col1]), live), select(0.0f, act_gelu(acc0_5_2 + b1[wbase + col2]), live), select(0.0f, act_gelu(acc0_5_3 + b1[wbase + col3]), live));
    }
  }
  if (p0 + 6u >= lo && p0 + 6u < hi) {
    if (col0 < 16u) {
      h[(key6 * 16u + col0) / 4u] = vec4<f32>(select(0.0f, act_gelu(acc0_6_0 + b1[wbase + col0]), live), select(0.0f, act_gelu(acc0_6_1 + b1[wbase + col1]), live), select(0.0f, act_gelu(acc0_6_2 + b1[wbase + col2]), live), select(0.0f, act_gelu(acc0_6_3 + b1[wbase + col3]), live));
    }
  }
  if (p0 + 7u >= lo && p0 + 7u < hi) {
    if (col0 < 16u) {
      h[(key7 * 16u + col0) / 4u] = vec4<f32>(select(0.0f, act_gelu(acc0_7_0 + b1[wbase + col0]), live), select(0.0f, act_gelu(acc0_7_1 + b1[wbase + col1]), live), select(0.0f, act_gelu(acc0_7_2 + b1[wbase + col2]), live), select(0.0f, act_gelu(acc0_7_3 + b1[wbase + col3]), live));
    }
  }
}
