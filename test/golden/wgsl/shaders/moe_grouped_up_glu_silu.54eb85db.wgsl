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
  if (g >= (((params.sym_T + 7u) / 8u) + 4u) * 1u) { return; }
  let total = params.sym_T;
  let row_tiles = ((params.sym_T + 7u) / 8u);
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
  let src0 = key0 / 1u;
  let key1 = u32(order[clamp(p0 + 1u, lo, hi - 1u)]);
  let src1 = key1 / 1u;
  let key2 = u32(order[clamp(p0 + 2u, lo, hi - 1u)]);
  let src2 = key2 / 1u;
  let key3 = u32(order[clamp(p0 + 3u, lo, hi - 1u)]);
  let src3 = key3 / 1u;
  let key4 = u32(order[clamp(p0 + 4u, lo, hi - 1u)]);
  let src4 = key4 / 1u;
  let key5 = u32(order[clamp(p0 + 5u, lo, hi - 1u)]);
  let src5 = key5 / 1u;
  let key6 = u32(order[clamp(p0 + 6u, lo, hi - 1u)]);
  let src6 = key6 / 1u;
  let key7 = u32(order[clamp(p0 + 7u, lo, hi - 1u)]);
  let src7 = key7 / 1u;
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
    let b0_0 = w_gate[(wbase + wc0) * 4u + kv];
    let b0_1 = w_gate[(wbase + wc1) * 4u + kv];
    let b1_0 = w_up[(wbase + wc0) * 4u + kv];
    let b1_1 = w_up[(wbase + wc1) * 4u + kv];
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
