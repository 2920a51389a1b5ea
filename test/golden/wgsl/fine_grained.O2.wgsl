// ===== shader s0: k00_moe_route_top2_moe.router
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

// ===== shader s1: k01_moe_permute_e8_moe.router
@group(0) @binding(0) var<storage, read> routed: array<i32>;
@group(0) @binding(1) var<storage, read_write> offsets: array<i32>;
@group(0) @binding(2) var<storage, read_write> order: array<i32>;
@group(0) @binding(3) var<storage, read_write> kept: array<i32>;
@group(0) @binding(4) var<storage, read_write> counts: array<i32>;
@group(0) @binding(5) var<storage, read_write> dropped: array<i32>;
var<workgroup> kept_count: array<u32, 8>;
var<workgroup> dropped_count: array<u32, 8>;
var<workgroup> segment: array<u32, 9>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(6) var<uniform> params: Params;

@compute @workgroup_size(32)
fn main(@builtin(local_invocation_index) lid: u32) {
  let assignments = params.sym_T * 2u;
  // Pass 1: kept and dropped counts per expert, in the official order.
  for (var e = lid; e < 8u; e += 32u) {
    var n_kept = 0u;
    var n_dropped = 0u;
    var count_h0 = 0u;
    for (var j = 0u; j < 2u; j++) {
      for (var r = 0u; r < params.sym_T; r++) {
        if (routed[r * 2u + j] == i32(e)) {
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
    for (var e = 0u; e < 8u; e++) {
      segment[e] = total;
      offsets[e] = i32(total);
      total += kept_count[e];
    }
    segment[8u] = total;
    offsets[8u] = i32(total);
    var all_dropped = 0u;
    for (var e = 0u; e < 8u; e++) {
      let d = dropped_count[e];
      dropped_count[e] = total + all_dropped;
      all_dropped += d;
    }
  }
  workgroupBarrier();
  // Pass 2: place every assignment; per-head dropped counts from the same walk.
  for (var e = lid; e < 8u; e += 32u) {
    var next_kept = segment[e];
    var next_dropped = dropped_count[e];
    var n_kept = 0u;
    for (var j = 0u; j < 2u; j++) {
      for (var r = 0u; r < params.sym_T; r++) {
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
  for (var h = lid; h < 1u; h += 32u) {
    var n = 0u;
    for (var r = h; r < params.sym_T; r += 1u) {
      for (var j = 0u; j < 2u; j++) {
        n += select(0u, 1u, kept[r * 2u + j] < 0i);
      }
    }
    dropped[h] = i32(n);
  }
}

// ===== shader s2: k02_route_balance_moe.router
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
  if (i >= 8u) { return; }
  var n_top1 = 0u;
  var p_sum = 0.0f;
  for (var r = 0u; r < params.sym_T; r++) {
    n_top1 += select(0u, 1u, routed[r * 2u] == i32(i));
    p_sum += probs[r * 8u + i];
  }
  top1[i] = i32(n_top1);
  prob_sum[i] = p_sum;
}

// ===== shader s3: k03_moe_grouped_up_glu_silu_moe.experts_bank
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
  if (g >= ((((params.sym_T * 2u) + 7u) / 8u) + 8u) * 1u) { return; }
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
    e = select(e, min(e + 8u, 8u), u32(offsets[min(e + 8u, 8u)]) <= p0);
    e = select(e, min(e + 4u, 8u), u32(offsets[min(e + 4u, 8u)]) <= p0);
    e = select(e, min(e + 2u, 8u), u32(offsets[min(e + 2u, 8u)]) <= p0);
    e = select(e, min(e + 1u, 8u), u32(offsets[min(e + 1u, 8u)]) <= p0);
    lo = p0;
    hi = min(p0 + 8u, select(total, u32(offsets[min(e + 1u, 8u)]), e < 8u));
  } else {
    // Extra tile: the rows of segment e in the tile where it starts.
    e = t - row_tiles + 1u;
    lo = u32(offsets[e]);
    let end = select(total, u32(offsets[min(e + 1u, 8u)]), e < 8u);
    if (lo % 8u == 0u || lo >= end) {
      return;
    }
    p0 = lo - lo % 8u;
    hi = min(p0 + 8u, end);
  }
  let live = e < 8u;
  let wbase = min(e, 7u) * 8u;
  let col0 = cb * 16u + lid * 2u + 0u;
  let wc0 = min(col0, 7u);
  let col1 = cb * 16u + lid * 2u + 1u;
  let wc1 = min(col1, 7u);
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
    if (col0 < 8u) {
      h[(key0 * 8u + col0) / 2u] = vec2<f32>(select(0.0f, act_silu(acc0_0_0) * acc1_0_0, live), select(0.0f, act_silu(acc0_0_1) * acc1_0_1, live));
    }
  }
  if (p0 + 1u >= lo && p0 + 1u < hi) {
    if (col0 < 8u) {
      h[(key1 * 8u + col0) / 2u] = vec2<f32>(select(0.0f, act_silu(acc0_1_0) * acc1_1_0, live), select(0.0f, act_silu(acc0_1_1) * acc1_1_1, live));
    }
  }
  if (p0 + 2u >= lo && p0 + 2u < hi) {
    if (col0 < 8u) {
      h[(key2 * 8u + col0) / 2u] = vec2<f32>(select(0.0f, act_silu(acc0_2_0) * acc1_2_0, live), select(0.0f, act_silu(acc0_2_1) * acc1_2_1, live));
    }
  }
  if (p0 + 3u >= lo && p0 + 3u < hi) {
    if (col0 < 8u) {
      h[(key3 * 8u + col0) / 2u] = vec2<f32>(select(0.0f, act_silu(acc0_3_0) * acc1_3_0, live), select(0.0f, act_silu(acc0_3_1) * acc1_3_1, live));
    }
  }
  if (p0 + 4u >= lo && p0 + 4u < hi) {
    if (col0 < 8u) {
      h[(key4 * 8u + col0) / 2u] = vec2<f32>(select(0.0f, act_silu(acc0_4_0) * acc1_4_0, live), select(0.0f, act_silu(acc0_4_1) * acc1_4_1, live));
    }
  }
  if (p0 + 5u >= lo && p0 + 5u < hi) {
    if (col0 < 8u) {
      h[(key5 * 8u + col0) / 2u] = vec2<f32>(select(0.0f, act_silu(acc0_5_0) * acc1_5_0, live), select(0.0f, act_silu(acc0_5_1) * acc1_5_1, live));
    }
  }
  if (p0 + 6u >= lo && p0 + 6u < hi) {
    if (col0 < 8u) {
      h[(key6 * 8u + col0) / 2u] = vec2<f32>(select(0.0f, act_silu(acc0_6_0) * acc1_6_0, live), select(0.0f, act_silu(acc0_6_1) * acc1_6_1, live));
    }
  }
  if (p0 + 7u >= lo && p0 + 7u < hi) {
    if (col0 < 8u) {
      h[(key7 * 8u + col0) / 2u] = vec2<f32>(select(0.0f, act_silu(acc0_7_0) * acc1_7_0, live), select(0.0f, act_silu(acc0_7_1) * acc1_7_1, live));
    }
  }
}

// ===== shader s4: k04_moe_grouped_down_moe.experts_bank
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
  if (g >= ((((params.sym_T * 2u) + 7u) / 8u) + 8u) * 1u) { return; }
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
    e = select(e, min(e + 8u, 8u), u32(offsets[min(e + 8u, 8u)]) <= p0);
    e = select(e, min(e + 4u, 8u), u32(offsets[min(e + 4u, 8u)]) <= p0);
    e = select(e, min(e + 2u, 8u), u32(offsets[min(e + 2u, 8u)]) <= p0);
    e = select(e, min(e + 1u, 8u), u32(offsets[min(e + 1u, 8u)]) <= p0);
    lo = p0;
    hi = min(p0 + 8u, select(total, u32(offsets[min(e + 1u, 8u)]), e < 8u));
  } else {
    // Extra tile: the rows of segment e in the tile where it starts.
    e = t - row_tiles + 1u;
    lo = u32(offsets[e]);
    let end = select(total, u32(offsets[min(e + 1u, 8u)]), e < 8u);
    if (lo % 8u == 0u || lo >= end) {
      return;
    }
    p0 = lo - lo % 8u;
    hi = min(p0 + 8u, end);
  }
  let live = e < 8u;
  let wbase = min(e, 7u) * 16u;
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
  for (var kv = 0u; kv < 2u; kv++) {
    let b0_0 = w2[(wbase + wc0) * 2u + kv];
    let b0_1 = w2[(wbase + wc1) * 2u + kv];
    let b0_2 = w2[(wbase + wc2) * 2u + kv];
    let b0_3 = w2[(wbase + wc3) * 2u + kv];
    let a0 = h[src0 * 2u + kv];
    acc0_0_0 = fma(a0.w, b0_0.w, fma(a0.z, b0_0.z, fma(a0.y, b0_0.y, fma(a0.x, b0_0.x, acc0_0_0))));
    acc0_0_1 = fma(a0.w, b0_1.w, fma(a0.z, b0_1.z, fma(a0.y, b0_1.y, fma(a0.x, b0_1.x, acc0_0_1))));
    acc0_0_2 = fma(a0.w, b0_2.w, fma(a0.z, b0_2.z, fma(a0.y, b0_2.y, fma(a0.x, b0_2.x, acc0_0_2))));
    acc0_0_3 = fma(a0.w, b0_3.w, fma(a0.z, b0_3.z, fma(a0.y, b0_3.y, fma(a0.x, b0_3.x, acc0_0_3))));
    let a1 = h[src1 * 2u + kv];
    acc0_1_0 = fma(a1.w, b0_0.w, fma(a1.z, b0_0.z, fma(a1.y, b0_0.y, fma(a1.x, b0_0.x, acc0_1_0))));
    acc0_1_1 = fma(a1.w, b0_1.w, fma(a1.z, b0_1.z, fma(a1.y, b0_1.y, fma(a1.x, b0_1.x, acc0_1_1))));
    acc0_1_2 = fma(a1.w, b0_2.w, fma(a1.z, b0_2.z, fma(a1.y, b0_2.y, fma(a1.x, b0_2.x, acc0_1_2))));
    acc0_1_3 = fma(a1.w, b0_3.w, fma(a1.z, b0_3.z, fma(a1.y, b0_3.y, fma(a1.x, b0_3.x, acc0_1_3))));
    let a2 = h[src2 * 2u + kv];
    acc0_2_0 = fma(a2.w, b0_0.w, fma(a2.z, b0_0.z, fma(a2.y, b0_0.y, fma(a2.x, b0_0.x, acc0_2_0))));
    acc0_2_1 = fma(a2.w, b0_1.w, fma(a2.z, b0_1.z, fma(a2.y, b0_1.y, fma(a2.x, b0_1.x, acc0_2_1))));
    acc0_2_2 = fma(a2.w, b0_2.w, fma(a2.z, b0_2.z, fma(a2.y, b0_2.y, fma(a2.x, b0_2.x, acc0_2_2))));
    acc0_2_3 = fma(a2.w, b0_3.w, fma(a2.z, b0_3.z, fma(a2.y, b0_3.y, fma(a2.x, b0_3.x, acc0_2_3))));
    let a3 = h[src3 * 2u + kv];
    acc0_3_0 = fma(a3.w, b0_0.w, fma(a3.z, b0_0.z, fma(a3.y, b0_0.y, fma(a3.x, b0_0.x, acc0_3_0))));
    acc0_3_1 = fma(a3.w, b0_1.w, fma(a3.z, b0_1.z, fma(a3.y, b0_1.y, fma(a3.x, b0_1.x, acc0_3_1))));
    acc0_3_2 = fma(a3.w, b0_2.w, fma(a3.z, b0_2.z, fma(a3.y, b0_2.y, fma(a3.x, b0_2.x, acc0_3_2))));
    acc0_3_3 = fma(a3.w, b0_3.w, fma(a3.z, b0_3.z, fma(a3.y, b0_3.y, fma(a3.x, b0_3.x, acc0_3_3))));
    let a4 = h[src4 * 2u + kv];
    acc0_4_0 = fma(a4.w, b0_0.w, fma(a4.z, b0_0.z, fma(a4.y, b0_0.y, fma(a4.x, b0_0.x, acc0_4_0))));
    acc0_4_1 = fma(a4.w, b0_1.w, fma(a4.z, b0_1.z, fma(a4.y, b0_1.y, fma(a4.x, b0_1.x, acc0_4_1))));
    acc0_4_2 = fma(a4.w, b0_2.w, fma(a4.z, b0_2.z, fma(a4.y, b0_2.y, fma(a4.x, b0_2.x, acc0_4_2))));
    acc0_4_3 = fma(a4.w, b0_3.w, fma(a4.z, b0_3.z, fma(a4.y, b0_3.y, fma(a4.x, b0_3.x, acc0_4_3))));
    let a5 = h[src5 * 2u + kv];
    acc0_5_0 = fma(a5.w, b0_0.w, fma(a5.z, b0_0.z, fma(a5.y, b0_0.y, fma(a5.x, b0_0.x, acc0_5_0))));
    acc0_5_1 = fma(a5.w, b0_1.w, fma(a5.z, b0_1.z, fma(a5.y, b0_1.y, fma(a5.x, b0_1.x, acc0_5_1))));
    acc0_5_2 = fma(a5.w, b0_2.w, fma(a5.z, b0_2.z, fma(a5.y, b0_2.y, fma(a5.x, b0_2.x, acc0_5_2))));
    acc0_5_3 = fma(a5.w, b0_3.w, fma(a5.z, b0_3.z, fma(a5.y, b0_3.y, fma(a5.x, b0_3.x, acc0_5_3))));
    let a6 = h[src6 * 2u + kv];
    acc0_6_0 = fma(a6.w, b0_0.w, fma(a6.z, b0_0.z, fma(a6.y, b0_0.y, fma(a6.x, b0_0.x, acc0_6_0))));
    acc0_6_1 = fma(a6.w, b0_1.w, fma(a6.z, b0_1.z, fma(a6.y, b0_1.y, fma(a6.x, b0_1.x, acc0_6_1))));
    acc0_6_2 = fma(a6.w, b0_2.w, fma(a6.z, b0_2.z, fma(a6.y, b0_2.y, fma(a6.x, b0_2.x, acc0_6_2))));
    acc0_6_3 = fma(a6.w, b0_3.w, fma(a6.z, b0_3.z, fma(a6.y, b0_3.y, fma(a6.x, b0_3.x, acc0_6_3))));
    let a7 = h[src7 * 2u + kv];
    acc0_7_0 = fma(a7.w, b0_0.w, fma(a7.z, b0_0.z, fma(a7.y, b0_0.y, fma(a7.x, b0_0.x, acc0_7_0))));
    acc0_7_1 = fma(a7.w, b0_1.w, fma(a7.z, b0_1.z, fma(a7.y, b0_1.y, fma(a7.x, b0_1.x, acc0_7_1))));
    acc0_7_2 = fma(a7.w, b0_2.w, fma(a7.z, b0_2.z, fma(a7.y, b0_2.y, fma(a7.x, b0_2.x, acc0_7_2))));
    acc0_7_3 = fma(a7.w, b0_3.w, fma(a7.z, b0_3.z, fma(a7.y, b0_3.y, fma(a7.x, b0_3.x, acc0_7_3))));
  }
  if (p0 + 0u >= lo && p0 + 0u < hi) {
    let gate0 = gate[key0];
    if (col0 < 16u) {
      slots[(key0 * 16u + col0) / 4u] = vec4<f32>(select(0.0f, gate0 * (acc0_0_0), live), select(0.0f, gate0 * (acc0_0_1), live), select(0.0f, gate0 * (acc0_0_2), live), select(0.0f, gate0 * (acc0_0_3), live));
    }
  }
  if (p0 + 1u >= lo && p0 + 1u < hi) {
    let gate1 = gate[key1];
    if (col0 < 16u) {
      slots[(key1 * 16u + col0) / 4u] = vec4<f32>(select(0.0f, gate1 * (acc0_1_0), live), select(0.0f, gate1 * (acc0_1_1), live), select(0.0f, gate1 * (acc0_1_2), live), select(0.0f, gate1 * (acc0_1_3), live));
    }
  }
  if (p0 + 2u >= lo && p0 + 2u < hi) {
    let gate2 = gate[key2];
    if (col0 < 16u) {
      slots[(key2 * 16u + col0) / 4u] = vec4<f32>(select(0.0f, gate2 * (acc0_2_0), live), select(0.0f, gate2 * (acc0_2_1), live), select(0.0f, gate2 * (acc0_2_2), live), select(0.0f, gate2 * (acc0_2_3), live));
    }
  }
  if (p0 + 3u >= lo && p0 + 3u < hi) {
    let gate3 = gate[key3];
    if (col0 < 16u) {
      slots[(key3 * 16u + col0) / 4u] = vec4<f32>(select(0.0f, gate3 * (acc0_3_0), live), select(0.0f, gate3 * (acc0_3_1), live), select(0.0f, gate3 * (acc0_3_2), live), select(0.0f, gate3 * (acc0_3_3), live));
    }
  }
  if (p0 + 4u >= lo && p0 + 4u < hi) {
    let gate4 = gate[key4];
    if (col0 < 16u) {
      slots[(key4 * 16u + col0) / 4u] = vec4<f32>(select(0.0f, gate4 * (acc0_4_0), live), select(0.0f, gate4 * (acc0_4_1), live), select(0.0f, gate4 * (acc0_4_2), live), select(0.0f, gate4 * (acc0_4_3), live));
    }
  }
  if (p0 + 5u >= lo && p0 + 5u < hi) {
    let gate5 = gate[key5];
    if (col0 < 16u) {
      slots[(key5 * 16u + col0) / 4u] = vec4<f32>(select(0.0f, gate5 * (acc0_5_0), live), select(0.0f, gate5 * (acc0_5_1), live), select(0.0f, gate5 * (acc0_5_2), live), select(0.0f, gate5 * (acc0_5_3), live));
    }
  }
  if (p0 + 6u >= lo && p0 + 6u < hi) {
    let gate6 = gate[key6];
    if (col0 < 16u) {
      slots[(key6 * 16u + col0) / 4u] = vec4<f32>(select(0.0f, gate6 * (acc0_6_0), live), select(0.0f, gate6 * (acc0_6_1), live), select(0.0f, gate6 * (acc0_6_2), live), select(0.0f, gate6 * (acc0_6_3), live));
    }
  }
  if (p0 + 7u >= lo && p0 + 7u < hi) {
    let gate7 = gate[key7];
    if (col0 < 16u) {
      slots[(key7 * 16u + col0) / 4u] = vec4<f32>(select(0.0f, gate7 * (acc0_7_0), live), select(0.0f, gate7 * (acc0_7_1), live), select(0.0f, gate7 * (acc0_7_2), live), select(0.0f, gate7 * (acc0_7_3), live));
    }
  }
}

// ===== shader s5: k05_combine_moe.experts_bank
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
  let base = (i / 16u) * 32u + i % 16u;
  var acc = 0.0f;
  for (var j = 0u; j < 2u; j++) {
    acc += slots[base + j * 16u];
  }
  y[i] = acc;
}

// ===== shader s6: k06_linear_glu_silu_moe.shared_experts
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

// ===== shader s7: k07_linear_residual_moe.shared_experts
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
  for (var kv = 0u; kv < 2u; kv++) {
    let b0_0 = w[wc0 * 2u + kv];
    let b0_1 = w[wc1 * 2u + kv];
    let b0_2 = w[wc2 * 2u + kv];
    let b0_3 = w[wc3 * 2u + kv];
    let a0 = x[src0 * 2u + kv];
    acc0_0_0 = fma(a0.w, b0_0.w, fma(a0.z, b0_0.z, fma(a0.y, b0_0.y, fma(a0.x, b0_0.x, acc0_0_0))));
    acc0_0_1 = fma(a0.w, b0_1.w, fma(a0.z, b0_1.z, fma(a0.y, b0_1.y, fma(a0.x, b0_1.x, acc0_0_1))));
    acc0_0_2 = fma(a0.w, b0_2.w, fma(a0.z, b0_2.z, fma(a0.y, b0_2.y, fma(a0.x, b0_2.x, acc0_0_2))));
    acc0_0_3 = fma(a0.w, b0_3.w, fma(a0.z, b0_3.z, fma(a0.y, b0_3.y, fma(a0.x, b0_3.x, acc0_0_3))));
    let a1 = x[src1 * 2u + kv];
    acc0_1_0 = fma(a1.w, b0_0.w, fma(a1.z, b0_0.z, fma(a1.y, b0_0.y, fma(a1.x, b0_0.x, acc0_1_0))));
    acc0_1_1 = fma(a1.w, b0_1.w, fma(a1.z, b0_1.z, fma(a1.y, b0_1.y, fma(a1.x, b0_1.x, acc0_1_1))));
    acc0_1_2 = fma(a1.w, b0_2.w, fma(a1.z, b0_2.z, fma(a1.y, b0_2.y, fma(a1.x, b0_2.x, acc0_1_2))));
    acc0_1_3 = fma(a1.w, b0_3.w, fma(a1.z, b0_3.z, fma(a1.y, b0_3.y, fma(a1.x, b0_3.x, acc0_1_3))));
    let a2 = x[src2 * 2u + kv];
    acc0_2_0 = fma(a2.w, b0_0.w, fma(a2.z, b0_0.z, fma(a2.y, b0_0.y, fma(a2.x, b0_0.x, acc0_2_0))));
    acc0_2_1 = fma(a2.w, b0_1.w, fma(a2.z, b0_1.z, fma(a2.y, b0_1.y, fma(a2.x, b0_1.x, acc0_2_1))));
    acc0_2_2 = fma(a2.w, b0_2.w, fma(a2.z, b0_2.z, fma(a2.y, b0_2.y, fma(a2.x, b0_2.x, acc0_2_2))));
    acc0_2_3 = fma(a2.w, b0_3.w, fma(a2.z, b0_3.z, fma(a2.y, b0_3.y, fma(a2.x, b0_3.x, acc0_2_3))));
    let a3 = x[src3 * 2u + kv];
    acc0_3_0 = fma(a3.w, b0_0.w, fma(a3.z, b0_0.z, fma(a3.y, b0_0.y, fma(a3.x, b0_0.x, acc0_3_0))));
    acc0_3_1 = fma(a3.w, b0_1.w, fma(a3.z, b0_1.z, fma(a3.y, b0_1.y, fma(a3.x, b0_1.x, acc0_3_1))));
    acc0_3_2 = fma(a3.w, b0_2.w, fma(a3.z, b0_2.z, fma(a3.y, b0_2.y, fma(a3.x, b0_2.x, acc0_3_2))));
    acc0_3_3 = fma(a3.w, b0_3.w, fma(a3.z, b0_3.z, fma(a3.y, b0_3.y, fma(a3.x, b0_3.x, acc0_3_3))));
    let a4 = x[src4 * 2u + kv];
    acc0_4_0 = fma(a4.w, b0_0.w, fma(a4.z, b0_0.z, fma(a4.y, b0_0.y, fma(a4.x, b0_0.x, acc0_4_0))));
    acc0_4_1 = fma(a4.w, b0_1.w, fma(a4.z, b0_1.z, fma(a4.y, b0_1.y, fma(a4.x, b0_1.x, acc0_4_1))));
    acc0_4_2 = fma(a4.w, b0_2.w, fma(a4.z, b0_2.z, fma(a4.y, b0_2.y, fma(a4.x, b0_2.x, acc0_4_2))));
    acc0_4_3 = fma(a4.w, b0_3.w, fma(a4.z, b0_3.z, fma(a4.y, b0_3.y, fma(a4.x, b0_3.x, acc0_4_3))));
    let a5 = x[src5 * 2u + kv];
    acc0_5_0 = fma(a5.w, b0_0.w, fma(a5.z, b0_0.z, fma(a5.y, b0_0.y, fma(a5.x, b0_0.x, acc0_5_0))));
    acc0_5_1 = fma(a5.w, b0_1.w, fma(a5.z, b0_1.z, fma(a5.y, b0_1.y, fma(a5.x, b0_1.x, acc0_5_1))));
    acc0_5_2 = fma(a5.w, b0_2.w, fma(a5.z, b0_2.z, fma(a5.y, b0_2.y, fma(a5.x, b0_2.x, acc0_5_2))));
    acc0_5_3 = fma(a5.w, b0_3.w, fma(a5.z, b0_3.z, fma(a5.y, b0_3.y, fma(a5.x, b0_3.x, acc0_5_3))));
    let a6 = x[src6 * 2u + kv];
    acc0_6_0 = fma(a6.w, b0_0.w, fma(a6.z, b0_0.z, fma(a6.y, b0_0.y, fma(a6.x, b0_0.x, acc0_6_0))));
    acc0_6_1 = fma(a6.w, b0_1.w, fma(a6.z, b0_1.z, fma(a6.y, b0_1.y, fma(a6.x, b0_1.x, acc0_6_1))));
    acc0_6_2 = fma(a6.w, b0_2.w, fma(a6.z, b0_2.z, fma(a6.y, b0_2.y, fma(a6.x, b0_2.x, acc0_6_2))));
    acc0_6_3 = fma(a6.w, b0_3.w, fma(a6.z, b0_3.z, fma(a6.y, b0_3.y, fma(a6.x, b0_3.x, acc0_6_3))));
    let a7 = x[src7 * 2u + kv];
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
