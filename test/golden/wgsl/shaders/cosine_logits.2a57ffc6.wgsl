@group(0) @binding(0) var<storage, read> h: array<f32>;
@group(0) @binding(1) var<storage, read> emb: array<f32>;
@group(0) @binding(2) var<storage, read> tau: array<f32>;
@group(0) @binding(3) var<storage, read_write> logits: array<f32>;
struct Params {
  sym_T: u32,
  cap_11: u32,
}
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= (params.sym_T * 4u)) { return; }
  let hb = (i / 4u) * 4u;
  let eb = (i % 4u) * 4u;
  var dot = 0.0f;
  var hh = 0.0f;
  var ee = 0.0f;
  for (var k = 0u; k < 4u; k++) {
    let hk = h[hb + k];
    let ek = emb[eb + k];
    dot = fma(hk, ek, dot);
    hh = fma(hk, hk, hh);
    ee = fma(ek, ek, ee);
  }
  logits[i] = dot / (max(sqrt(hh), 0.0001f) * max(sqrt(ee), 0.0001f) * max(tau[0], 0.0001f));
}
