// ===== shader s0: k00_moe_route_top1_moe.router
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
  if (valid) {
    expert[row * 1u + 0u] = best0;
    gate[row * 1u + 0u] = best_p0;
  }
}

// ===== shader s1: k01_moe_permute_e4_moe.router
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
  let base = (i / 16u) * 16u + i % 16u;
  var acc = 0.0f;
  for (var j = 0u; j < 1u; j++) {
    acc += slots[base + j * 16u];
  }
  y[i] = acc;
}
