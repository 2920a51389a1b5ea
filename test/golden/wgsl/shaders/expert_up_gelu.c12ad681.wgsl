@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> expert: array<i32>;
@group(0) @binding(2) var<storage, read> w1: array<f32>;
@group(0) @binding(3) var<storage, read> b1: array<f32>;
@group(0) @binding(4) var<storage, read_write> h: array<f32>;
struct Params {
  sym_T: u32,
  cap_11: u32,
}
@group(0) @binding(5) var<uniform> params: Params;

fn erf_f32(a: f32) -> f32 {
  let t = abs(a);
  let s = a * a;
  if (t > 0.9277344f) {
    // 1 - erfc(t), with erfc(t) = exp(-t - t * p(t)).
    var r = fma((-0.000017285347f), t, 0.00038319713f);
    let u = fma((-0.0038839644f), t, 0.024254622f);
    r = fma(r, s, u);
    r = fma(r, t, (-0.10677788f));
    r = fma(r, t, (-0.6348467f));
    r = fma(r, t, (-0.12871751f));
    r = fma(r, t, -t);
    return select((-1.0f), 1.0f, a > 0.0f) * (1.0f - exp(r));
  }
  var r = (-0.0005967617f);
  r = fma(r, s, 0.0049911942f);
  r = fma(r, s, (-0.026768135f));
  r = fma(r, s, 0.112819925f);
  r = fma(r, s, (-0.37612534f));
  r = fma(r, s, 0.12837917f);
  return fma(r, a, a);
}

fn act_gelu(x: f32) -> f32 {
  return 0.5f * x * (1.0f + erf_f32(x * 0.70710677f));
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
  let row = (slot / 2u) * 16u;
  let wrow = (u32(e) * 16u + o) * 16u;
  var a = b1[u32(e) * 16u + o];
  for (var k = 0u; k < 16u; k++) {
    let xk = x[row + k];
    a += xk * w1[wrow + k];
  }
  h[i] = act_gelu(a);
}
