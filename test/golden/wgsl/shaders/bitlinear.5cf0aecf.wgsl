@group(0) @binding(0) var<storage, read> q: array<u32>;
@group(0) @binding(1) var<storage, read> x_scale: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(4) var<uniform> params: Params;

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
  if (i >= (params.sym_T * 4u)) { return; }
  let row = i / 4u;
  let o = (i % 4u) * 4u;
  var acc0 = 0i;
  var acc1 = 0i;
  var acc2 = 0i;
  var acc3 = 0i;
  for (var k = 0u; k < 1u; k++) {
    let qk = row * 4u + 4u * k;
    let q0 = q[qk];
    let q1 = q[qk + 1u];
    let q2 = q[qk + 2u];
    let q3 = q[qk + 3u];
    acc0 += ternary_dot16(w[4u + (o + 0u) * 1u + k], q0, q1, q2, q3);
    acc1 += ternary_dot16(w[4u + (o + 1u) * 1u + k], q0, q1, q2, q3);
    acc2 += ternary_dot16(w[4u + (o + 2u) * 1u + k], q0, q1, q2, q3);
    acc3 += ternary_dot16(w[4u + (o + 3u) * 1u + k], q0, q1, q2, q3);
  }
  let s = x_scale[row] * bitcast<f32>(w[0u]);
  y[row * 16u + o + 0u] = f32(acc0) * s;
  y[row * 16u + o + 1u] = f32(acc1) * s;
  y[row * 16u + o + 2u] = f32(acc2) * s;
  y[row * 16u + o + 3u] = f32(acc3) * s;
}
