@group(0) @binding(0) var<storage, read> h: array<f32>;
@group(0) @binding(1) var<storage, read> expert: array<i32>;
@group(0) @binding(2) var<storage, read> gate: array<f32>;
@group(0) @binding(3) var<storage, read> w2: array<f32>;
@group(0) @binding(4) var<storage, read> b2: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
struct Params {
  sym_T: u32,
  cap_11: u32,
}
@group(0) @binding(6) var<uniform> params: Params;

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
  let wrow = (u32(e) * 16u + o) * 16u;
  var acc = b2[u32(e) * 16u + o];
  for (var k = 0u; k < 16u; k++) {
    acc += h[slot * 16u + k] * w2[wrow + k];
  }
  y[i] = gate[slot] * acc;
}
