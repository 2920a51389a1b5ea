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
  let assignments = params.sym_T * 2u;
  // Pass 1: kept and dropped counts per expert, in the official order.
  for (var e = lid; e < 4u; e += 32u) {
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
  if (i >= 4u) { return; }
  var n_top1 = 0u;
  var p_sum = 0.0f;
  for (var r = 0u; r < params.sym_T; r++) {
    n_top1 += select(0u, 1u, routed[r * 2u] == i32(i));
    p_sum += probs[r * 4u + i];
  }
  top1[i] = i32(n_top1);
  prob_sum[i] = p_sum;
}

// ===== shader s3: k03_act_quant_moe.experts_bank
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> q: array<u32>;
@group(0) @binding(2) var<storage, read_write> scale: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= params.sym_T) { return; }
  let base = i * 16u;
  var a = 0.0f;
  for (var c = 0u; c < 16u; c++) {
    a = max(a, abs(x[base + c]));
  }
  a = max(a, 0.00001f);
  let s = 127.0f / a;
  for (var k = 0u; k < 4u; k++) {
    var word = 0u;
    for (var j = 0u; j < 4u; j++) {
      let c = 4u * k + j;
      if (c < 16u) {
        let v = clamp(i32(round(x[base + c] * s)), (-127i), 127i);
        word |= (bitcast<u32>(v) & 0xffu) << (8u * j);
      }
    }
    q[i * 4u + k] = word;
  }
  scale[i] = a / 127.0f;
}

// ===== shader s4: k04_bit_expert_up_silu_gated_moe.experts_bank
@group(0) @binding(0) var<storage, read> q: array<u32>;
@group(0) @binding(1) var<storage, read> x_scale: array<f32>;
@group(0) @binding(2) var<storage, read> expert: array<i32>;
@group(0) @binding(3) var<storage, read> w1: array<u32>;
@group(0) @binding(4) var<storage, read> w_up: array<u32>;
@group(0) @binding(5) var<storage, read_write> h: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(6) var<uniform> params: Params;

// dot4I8Packed without the language feature: bytes as signed 8-bit integers
fn dot4_i8(a: u32, c: u32) -> i32 {
  let x = bitcast<i32>(a);
  let y = bitcast<i32>(c);
  var s = 0i;
  for (var j = 0u; j < 32u; j += 8u) {
    s += extractBits(x, j, 8u) * extractBits(y, j, 8u);
  }
  return s;
}

// weights 4g..4g+3 of a packed word as int8 bytes: codes 0, 1, 2 minus 1, no borrow
fn ternary_bytes(w: u32, g: u32) -> u32 {
  let c = (w >> (2u * g)) & 0x03030303u;
  return ((c | 0x80808080u) - 0x01010101u) ^ 0x80808080u;
}

fn ternary_dot16(w: u32, q0: u32, q1: u32, q2: u32, q3: u32) -> i32 {
  return dot4_i8(ternary_bytes(w, 0u), q0) + dot4_i8(ternary_bytes(w, 1u), q1) + dot4_i8(ternary_bytes(w, 2u), q2) + dot4_i8(ternary_bytes(w, 3u), q3);
}

fn act_silu(x: f32) -> f32 {
  return x / (1.0f + exp(-x));
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 32u)) { return; }
  let slot = i / 16u;
  let o = i % 16u;
  let e = expert[slot];
  if (e < 0i) {
    h[i] = 0.0f;
    return;
  }
  let row = slot / 2u;
  let qrow = row * 4u;
  let wrow = 4u + (u32(e) * 16u + o) * 1u;
  var acc = 0i;
  for (var k = 0u; k < 1u; k++) {
    let qk = qrow + 4u * k;
    acc += ternary_dot16(w1[wrow + k], q[qk], q[qk + 1u], q[qk + 2u], q[qk + 3u]);
  }
  let a = f32(acc) * (x_scale[row] * bitcast<f32>(w1[u32(e)]));
  var up = 0i;
  for (var k = 0u; k < 1u; k++) {
    let qk = qrow + 4u * k;
    up += ternary_dot16(w_up[wrow + k], q[qk], q[qk + 1u], q[qk + 2u], q[qk + 3u]);
  }
  h[i] = act_silu(a) * (f32(up) * (x_scale[row] * bitcast<f32>(w_up[u32(e)])));
}

// ===== shader s5: k05_act_quant_moe.experts_bank
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> q: array<u32>;
@group(0) @binding(2) var<storage, read_write> scale: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 2u)) { return; }
  let base = i * 16u;
  var a = 0.0f;
  for (var c = 0u; c < 16u; c++) {
    a = max(a, abs(x[base + c]));
  }
  a = max(a, 0.00001f);
  let s = 127.0f / a;
  for (var k = 0u; k < 4u; k++) {
    var word = 0u;
    for (var j = 0u; j < 4u; j++) {
      let c = 4u * k + j;
      if (c < 16u) {
        let v = clamp(i32(round(x[base + c] * s)), (-127i), 127i);
        word |= (bitcast<u32>(v) & 0xffu) << (8u * j);
      }
    }
    q[i * 4u + k] = word;
  }
  scale[i] = a / 127.0f;
}

// ===== shader s6: k06_bit_expert_down_moe.experts_bank
@group(0) @binding(0) var<storage, read> q: array<u32>;
@group(0) @binding(1) var<storage, read> h_scale: array<f32>;
@group(0) @binding(2) var<storage, read> expert: array<i32>;
@group(0) @binding(3) var<storage, read> gate: array<f32>;
@group(0) @binding(4) var<storage, read> w2: array<u32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(6) var<uniform> params: Params;

// dot4I8Packed without the language feature: bytes as signed 8-bit integers
fn dot4_i8(a: u32, c: u32) -> i32 {
  let x = bitcast<i32>(a);
  let y = bitcast<i32>(c);
  var s = 0i;
  for (var j = 0u; j < 32u; j += 8u) {
    s += extractBits(x, j, 8u) * extractBits(y, j, 8u);
  }
  return s;
}

// weights 4g..4g+3 of a packed word as int8 bytes: codes 0, 1, 2 minus 1, no borrow
fn ternary_bytes(w: u32, g: u32) -> u32 {
  let c = (w >> (2u * g)) & 0x03030303u;
  return ((c | 0x80808080u) - 0x01010101u) ^ 0x80808080u;
}

fn ternary_dot16(w: u32, q0: u32, q1: u32, q2: u32, q3: u32) -> i32 {
  return dot4_i8(ternary_bytes(w, 0u), q0) + dot4_i8(ternary_bytes(w, 1u), q1) + dot4_i8(ternary_bytes(w, 2u), q2) + dot4_i8(ternary_bytes(w, 3u), q3);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 32u)) { return; }
  let slot = i / 16u;
  let o = i % 16u;
  let e = expert[slot];
  if (e < 0i) {
    y[i] = 0.0f;
    return;
  }
  let wrow = 4u + (u32(e) * 16u + o) * 1u;
  var acc = 0i;
  for (var k = 0u; k < 1u; k++) {
    let qk = slot * 4u + 4u * k;
    acc += ternary_dot16(w2[wrow + k], q[qk], q[qk + 1u], q[qk + 2u], q[qk + 3u]);
  }
  y[i] = gate[slot] * (f32(acc) * (h_scale[slot] * bitcast<f32>(w2[u32(e)])));
}

// ===== shader s7: k07_combine_moe.experts_bank
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
