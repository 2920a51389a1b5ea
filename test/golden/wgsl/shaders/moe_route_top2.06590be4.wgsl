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
  if (g >= ((params.sym_T + 63u) / 64u)) { return; }
  let row = g * 64u + lid;
  let valid = row < params.sym_T;
  let xb = min(row, params.sym_T - 1u) * 4u;
  var l0 = 0.0f;
  var l1 = 0.0f;
  var l2 = 0.0f;
  var l3 = 0.0f;
  var l4 = 0.0f;
  var l5 = 0.0f;
  var l6 = 0.0f;
  var l7 = 0.0f;
  for (var kv = 0u; kv < 4u; kv++) {
    let xv = x[xb + kv];
    let w0 = w[0u + kv];
    l0 = fma(xv.w, w0.w, fma(xv.z, w0.z, fma(xv.y, w0.y, fma(xv.x, w0.x, l0))));
    let w1 = w[4u + kv];
    l1 = fma(xv.w, w1.w, fma(xv.z, w1.z, fma(xv.y, w1.y, fma(xv.x, w1.x, l1))));
    let w2 = w[8u + kv];
    l2 = fma(xv.w, w2.w, fma(xv.z, w2.z, fma(xv.y, w2.y, fma(xv.x, w2.x, l2))));
    let w3 = w[12u + kv];
    l3 = fma(xv.w, w3.w, fma(xv.z, w3.z, fma(xv.y, w3.y, fma(xv.x, w3.x, l3))));
    let w4 = w[16u + kv];
    l4 = fma(xv.w, w4.w, fma(xv.z, w4.z, fma(xv.y, w4.y, fma(xv.x, w4.x, l4))));
    let w5 = w[20u + kv];
    l5 = fma(xv.w, w5.w, fma(xv.z, w5.z, fma(xv.y, w5.y, fma(xv.x, w5.x, l5))));
    let w6 = w[24u + kv];
    l6 = fma(xv.w, w6.w, fma(xv.z, w6.z, fma(xv.y, w6.y, fma(xv.x, w6.x, l6))));
    let w7 = w[28u + kv];
    l7 = fma(xv.w, w7.w, fma(xv.z, w7.z, fma(xv.y, w7.y, fma(xv.x, w7.x, l7))));
  }
  var m = l0;
  m = max(m, l1);
  m = max(m, l2);
  m = max(m, l3);
  m = max(m, l4);
  m = max(m, l5);
  m = max(m, l6);
  m = max(m, l7);
  var sum = 0.0f;
  let e0 = exp(l0 - m);
  sum += e0;
  let e1 = exp(l1 - m);
  sum += e1;
  let e2 = exp(l2 - m);
  sum += e2;
  let e3 = exp(l3 - m);
  sum += e3;
  let e4 = exp(l4 - m);
  sum += e4;
  let e5 = exp(l5 - m);
  sum += e5;
  let e6 = exp(l6 - m);
  sum += e6;
  let e7 = exp(l7 - m);
  sum += e7;
  let p0 = e0 / sum;
  let p1 = e1 / sum;
  let p2 = e2 / sum;
  let p3 = e3 / sum;
  let p4 = e4 / sum;
  let p5 = e5 / sum;
  let p6 = e6 / sum;
  let p7 = e7 / sum;
  if (valid) {
    probs[row * 8u + 0u] = p0;
    probs[row * 8u + 1u] = p1;
    probs[row * 8u + 2u] = p2;
    probs[row * 8u + 3u] = p3;
    probs[row * 8u + 4u] = p4;
    probs[row * 8u + 5u] = p5;
    probs[row * 8u + 6u] = p6;
    probs[row * 8u + 7u] = p7;
  }
  var kept = 0.0f;
  var previous_p = 0.0f;
  var previous = (-1i);
  let k0 = rank_key(p0);
  let k1 = rank_key(p1);
  let k2 = rank_key(p2);
  let k3 = rank_key(p3);
  let k4 = rank_key(p4);
  let k5 = rank_key(p5);
  let k6 = rank_key(p6);
  let k7 = rank_key(p7);
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
  let take0_4 = (best0 < 0 || k4 > best_k0);
  best0 = select(best0, 4i, take0_4);
  best_k0 = select(best_k0, k4, take0_4);
  best_p0 = select(best_p0, p4, take0_4);
  let take0_5 = (best0 < 0 || k5 > best_k0);
  best0 = select(best0, 5i, take0_5);
  best_k0 = select(best_k0, k5, take0_5);
  best_p0 = select(best_p0, p5, take0_5);
  let take0_6 = (best0 < 0 || k6 > best_k0);
  best0 = select(best0, 6i, take0_6);
  best_k0 = select(best_k0, k6, take0_6);
  best_p0 = select(best_p0, p6, take0_6);
  let take0_7 = (best0 < 0 || k7 > best_k0);
  best0 = select(best0, 7i, take0_7);
  best_k0 = select(best_k0, k7, take0_7);
  best_p0 = select(best_p0, p7, take0_7);
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
  let take1_4 = (k4 < previous_p || (k4 == previous_p && 4i > previous)) && (best1 < 0 || k4 > best_k1);
  best1 = select(best1, 4i, take1_4);
  best_k1 = select(best_k1, k4, take1_4);
  best_p1 = select(best_p1, p4, take1_4);
  let take1_5 = (k5 < previous_p || (k5 == previous_p && 5i > previous)) && (best1 < 0 || k5 > best_k1);
  best1 = select(best1, 5i, take1_5);
  best_k1 = select(best_k1, k5, take1_5);
  best_p1 = select(best_p1, p5, take1_5);
  let take1_6 = (k6 < previous_p || (k6 == previous_p && 6i > previous)) && (best1 < 0 || k6 > best_k1);
  best1 = select(best1, 6i, take1_6);
  best_k1 = select(best_k1, k6, take1_6);
  best_p1 = select(best_p1, p6, take1_6);
  let take1_7 = (k7 < previous_p || (k7 == previous_p && 7i > previous)) && (best1 < 0 || k7 > best_k1);
  best1 = select(best1, 7i, take1_7);
  best_k1 = select(best_k1, k7, take1_7);
  best_p1 = select(best_p1, p7, take1_7);
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
