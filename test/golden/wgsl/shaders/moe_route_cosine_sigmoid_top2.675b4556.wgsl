@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> tau: array<f32>;
@group(0) @binding(3) var<storage, read_write> expert: array<i32>;
@group(0) @binding(4) var<storage, read_write> gate: array<f32>;
@group(0) @binding(5) var<storage, read_write> probs: array<f32>;
struct Params {
  sym_T: u32,
  cap_10: u32,
}
@group(0) @binding(6) var<uniform> params: Params;

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
  let xb = min(row, params.sym_T - 1u) * 1u;
  var l0 = 0.0f;
  var l1 = 0.0f;
  var l2 = 0.0f;
  var l3 = 0.0f;
  var hh = 0.0f;
  var n0 = 0.0f;
  var n1 = 0.0f;
  var n2 = 0.0f;
  var n3 = 0.0f;
  for (var kv = 0u; kv < 1u; kv++) {
    let xv = x[xb + kv];
    hh = fma(xv.w, xv.w, fma(xv.z, xv.z, fma(xv.y, xv.y, fma(xv.x, xv.x, hh))));
    let w0 = w[0u + kv];
    l0 = fma(xv.w, w0.w, fma(xv.z, w0.z, fma(xv.y, w0.y, fma(xv.x, w0.x, l0))));
    n0 = fma(w0.w, w0.w, fma(w0.z, w0.z, fma(w0.y, w0.y, fma(w0.x, w0.x, n0))));
    let w1 = w[1u + kv];
    l1 = fma(xv.w, w1.w, fma(xv.z, w1.z, fma(xv.y, w1.y, fma(xv.x, w1.x, l1))));
    n1 = fma(w1.w, w1.w, fma(w1.z, w1.z, fma(w1.y, w1.y, fma(w1.x, w1.x, n1))));
    let w2 = w[2u + kv];
    l2 = fma(xv.w, w2.w, fma(xv.z, w2.z, fma(xv.y, w2.y, fma(xv.x, w2.x, l2))));
    n2 = fma(w2.w, w2.w, fma(w2.z, w2.z, fma(w2.y, w2.y, fma(w2.x, w2.x, n2))));
    let w3 = w[3u + kv];
    l3 = fma(xv.w, w3.w, fma(xv.z, w3.z, fma(xv.y, w3.y, fma(xv.x, w3.x, l3))));
    n3 = fma(w3.w, w3.w, fma(w3.z, w3.z, fma(w3.y, w3.y, fma(w3.x, w3.x, n3))));
  }
  let row_scale = 1.0f / (max(sqrt(hh), 0.0001f) * max(tau[0], 0.0001f));
  l0 = l0 * row_scale / max(sqrt(n0), 0.0001f);
  l1 = l1 * row_scale / max(sqrt(n1), 0.0001f);
  l2 = l2 * row_scale / max(sqrt(n2), 0.0001f);
  l3 = l3 * row_scale / max(sqrt(n3), 0.0001f);
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
  let k0 = rank_key(l0);
  let k1 = rank_key(l1);
  let k2 = rank_key(l2);
  let k3 = rank_key(l3);
  var best0 = (-1i);
  var best_k0 = 0.0f;
  var best_p0 = 0.0f;
  let take0_0 = (best0 < 0 || k0 > best_k0);
  best0 = select(best0, 0i, take0_0);
  best_k0 = select(best_k0, k0, take0_0);
  best_p0 = select(best_p0, l0, take0_0);
  let take0_1 = (best0 < 0 || k1 > best_k0);
  best0 = select(best0, 1i, take0_1);
  best_k0 = select(best_k0, k1, take0_1);
  best_p0 = select(best_p0, l1, take0_1);
  let take0_2 = (best0 < 0 || k2 > best_k0);
  best0 = select(best0, 2i, take0_2);
  best_k0 = select(best_k0, k2, take0_2);
  best_p0 = select(best_p0, l2, take0_2);
  let take0_3 = (best0 < 0 || k3 > best_k0);
  best0 = select(best0, 3i, take0_3);
  best_k0 = select(best_k0, k3, take0_3);
  best_p0 = select(best_p0, l3, take0_3);
  kept += best_p0;
  previous = best0;
  previous_p = best_k0;
  var best1 = (-1i);
  var best_k1 = 0.0f;
  var best_p1 = 0.0f;
  let take1_0 = (k0 < previous_p || (k0 == previous_p && 0i > previous)) && (best1 < 0 || k0 > best_k1);
  best1 = select(best1, 0i, take1_0);
  best_k1 = select(best_k1, k0, take1_0);
  best_p1 = select(best_p1, l0, take1_0);
  let take1_1 = (k1 < previous_p || (k1 == previous_p && 1i > previous)) && (best1 < 0 || k1 > best_k1);
  best1 = select(best1, 1i, take1_1);
  best_k1 = select(best_k1, k1, take1_1);
  best_p1 = select(best_p1, l1, take1_1);
  let take1_2 = (k2 < previous_p || (k2 == previous_p && 2i > previous)) && (best1 < 0 || k2 > best_k1);
  best1 = select(best1, 2i, take1_2);
  best_k1 = select(best_k1, k2, take1_2);
  best_p1 = select(best_p1, l2, take1_2);
  let take1_3 = (k3 < previous_p || (k3 == previous_p && 3i > previous)) && (best1 < 0 || k3 > best_k1);
  best1 = select(best1, 3i, take1_3);
  best_k1 = select(best_k1, k3, take1_3);
  best_p1 = select(best_p1, l3, take1_3);
  kept += best_p1;
  previous = best1;
  previous_p = best_k1;
  if (valid) {
    expert[row * 2u + 0u] = best0;
    gate[row * 2u + 0u] = 1.0f / (1.0f + exp(-best_p0));
    expert[row * 2u + 1u] = best1;
    gate[row * 2u + 1u] = 1.0f / (1.0f + exp(-best_p1));
  }
}
