@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> k: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
struct Params {
  sym_T: u32,
}
@group(0) @binding(4) var<uniform> params: Params;

fn score(qo: u32, ko: u32) -> f32 {
  var s = 0.0f;
  for (var c = 0u; c < 8u; c++) {
    s += q[qo + c] * k[ko + c];
  }
  return s * 0.35355338f;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 2u)) { return; }
  let row = i / 2u;
  let head = (i % 2u) * 8u;
  let qo = row * 16u + head;
  var m = score(qo, head);
  for (var j = 1u; j <= row; j++) {
    m = max(m, score(qo, j * 16u + head));
  }
  for (var c = 0u; c < 8u; c++) {
    y[qo + c] = 0.0f;
  }
  var sum = 0.0f;
  for (var j = 0u; j <= row; j++) {
    let ko = j * 16u + head;
    let p = exp(score(qo, ko) - m);
    sum += p;
    for (var c = 0u; c < 8u; c++) {
      y[qo + c] += p * v[ko + c];
    }
  }
  for (var c = 0u; c < 8u; c++) {
    y[qo + c] = y[qo + c] / sum;
  }
}
