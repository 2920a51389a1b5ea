@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
const INV_FREQ_HI = array<f32, 4>(1.0f, 0.1000061f, 0.0099983215f, 0.0009999275f);
const INV_FREQ_LO = array<f32, 4>(0.0f, (-0.0000061035157f), 0.0000016784668f, 7.2479246e-8f);
struct Params {
  sym_T: u32,
}
@group(0) @binding(2) var<uniform> params: Params;

fn reduce_angle(hi: f32, lo: f32) -> f32 {
  let n = round((hi + lo) * 0.15915494f);
  return ((hi - n * 6.28125f) - n * 0.0019353072f) + (lo - n * 1.0253132e-11f);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 8u)) { return; }
  let pos = i / 8u;
  let h = (i % 8u) / 4u;
  let k = i % 4u;
  let p = f32(pos);
  let angle = reduce_angle(p * INV_FREQ_HI[k], p * INV_FREQ_LO[k]);
  let c = cos(angle);
  let s = sin(angle);
  let a = pos * 16u + h * 8u + k;
  let x1 = x[a];
  let x2 = x[a + 4u];
  y[a] = x1 * c - x2 * s;
  y[a + 4u] = x2 * c + x1 * s;
}
