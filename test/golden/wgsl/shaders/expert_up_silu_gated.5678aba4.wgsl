@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> expert: array<i32>;
@group(0) @binding(2) var<storage, read> w1: array<f32>;
@group(0) @binding(3) var<storage, read> w_up: array<f32>;
@group(0) @binding(4) var<storage, read_write> h: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(5) var<uniform> params: Params;

fn act_silu(x: f32) -> f32 {
  return x / (1.0f + exp(-x));
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 16u)) { return; }
  let slot = i / 8u;
  let o = i % 8u;
  let e = expert[slot];
  if (e < 0i) {
    h[i] = 0.0f;
    return;
  }
  let row = (slot / 2u) * 16u;
  let wrow = (u32(e) * 8u + o) * 16u;
  var a = 0.0f;
  var up = 0.0f;
  for (var k = 0u; k < 16u; k++) {
    let xk = x[row + k];
    a += xk * w1[wrow + k];
    up += xk * w_up[wrow + k];
  }
  h[i] = act_silu(a) * up;
}
