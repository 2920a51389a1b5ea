@group(0) @binding(0) var<storage, read> routed: array<i32>;
@group(0) @binding(1) var<storage, read> kept: array<i32>;
@group(0) @binding(2) var<storage, read> probs: array<f32>;
@group(0) @binding(3) var<storage, read_write> counts: array<i32>;
@group(0) @binding(4) var<storage, read_write> top1: array<i32>;
@group(0) @binding(5) var<storage, read_write> prob_sum: array<f32>;
@group(0) @binding(6) var<storage, read_write> dropped: array<i32>;
struct Params {
  sym_T: u32,
  cap_11: u32,
}
@group(0) @binding(7) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= 5u) { return; }
  if (i < 4u) {
    let e = i32(i);
    for (var h = 0u; h < 1u; h++) {
      var c = 0i;
      for (var r = h; r < params.sym_T; r += 1u) {
        for (var j = 0u; j < 2u; j++) {
          c += select(0i, 1i, kept[r * 2u + j] == e);
        }
      }
      counts[h * 4u + i] = c;
    }
    var top = 0i;
    var p = 0.0f;
    for (var r = 0u; r < params.sym_T; r++) {
      top += select(0i, 1i, routed[r * 2u] == e);
      p += probs[r * 4u + i];
    }
    top1[i] = top;
    prob_sum[i] = p;
    return;
  }
  let h = i - 4u;
  var c = 0i;
  for (var r = h; r < params.sym_T; r += 1u) {
    for (var j = 0u; j < 2u; j++) {
      c += select(0i, 1i, kept[r * 2u + j] < 0i);
    }
  }
  dropped[h] = c;
}
