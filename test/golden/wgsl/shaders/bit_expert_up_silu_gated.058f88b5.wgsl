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
  if (i >= (params.sym_T * 8u)) { return; }
  let slot = i / 4u;
  let o = (i % 4u) * 4u;
  let out = slot * 16u + o;
  let e = expert[slot];
  if (e < 0i) {
    h[out + 0u] = 0.0f;
    h[out + 1u] = 0.0f;
    h[out + 2u] = 0.0f;
    h[out + 3u] = 0.0f;
    return;
  }
  let row = slot / 2u;
  let wrow = 4u + (u32(e) * 16u + o) * 1u;
  var a0 = 0i;
  var u0 = 0i;
  var a1 = 0i;
  var u1 = 0i;
  var a2 = 0i;
  var u2 = 0i;
  var a3 = 0i;
  var u3 = 0i;
  for (var k = 0u; k < 1u; k++) {
    let qk = row * 4u + 4u * k;
    let q0 = q[qk];
    let q1 = q[qk + 1u];
    let q2 = q[qk + 2u];
    let q3 = q[qk + 3u];
    a0 += ternary_dot16(w1[wrow + 0u + k], q0, q1, q2, q3);
    u0 += ternary_dot16(w_up[wrow + 0u + k], q0, q1, q2, q3);
    a1 += ternary_dot16(w1[wrow + 1u + k], q0, q1, q2, q3);
    u1 += ternary_dot16(w_up[wrow + 1u + k], q0, q1, q2, q3);
    a2 += ternary_dot16(w1[wrow + 2u + k], q0, q1, q2, q3);
    u2 += ternary_dot16(w_up[wrow + 2u + k], q0, q1, q2, q3);
    a3 += ternary_dot16(w1[wrow + 3u + k], q0, q1, q2, q3);
    u3 += ternary_dot16(w_up[wrow + 3u + k], q0, q1, q2, q3);
  }
  let s1 = x_scale[row] * bitcast<f32>(w1[u32(e)]);
  let s_up = x_scale[row] * bitcast<f32>(w_up[u32(e)]);
  h[out + 0u] = act_silu(f32(a0) * s1) * (f32(u0) * s_up);
  h[out + 1u] = act_silu(f32(a1) * s1) * (f32(u1) * s_up);
  h[out + 2u] = act_silu(f32(a2) * s1) * (f32(u2) * s_up);
  h[out + 3u] = act_silu(f32(a3) * s1) * (f32(u3) * s_up);
}
