@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> expert: array<i32>;
@group(0) @binding(2) var<storage, read_write> gate: array<f32>;
@group(0) @binding(3) var<storage, read_write> probs: array<f32>;
struct Params {
  sym_T: u32,
  cap_11: u32,
}
@group(0) @binding(4) var<uniform> params: Params;

fn f32_from_bits(bits: u32) -> f32 {
  return bitcast<f32>(bits);
}

fn rank_key(x: f32) -> f32 {
  return select(x, f32_from_bits(0xff800000u), (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (i >= params.sym_T) { return; }
  let base = i * 4u;
  let out = i * 2u;
  var m = logits[base];
  for (var c = 1u; c < 4u; c++) {
    m = max(m, logits[base + c]);
  }
  var sum = 0.0f;
  for (var c = 0u; c < 4u; c++) {
    let p = exp(logits[base + c] - m);
    probs[base + c] = p;
    sum += p;
  }
  for (var c = 0u; c < 4u; c++) {
    probs[base + c] = probs[base + c] / sum;
  }
  var kept = 0.0f;
  for (var j = 0u; j < 2u; j++) {
    var best = (-1i);
    var best_key = 0.0f;
    var best_p = 0.0f;
    for (var c = 0u; c < 4u; c++) {
      var taken = false;
      for (var jj = 0u; jj < j; jj++) {
        taken = taken || expert[out + jj] == i32(c);
      }
      let p = logits[base + c];
      let key = rank_key(p);
      if (!taken && (best < 0i || key > best_key)) {
        best = i32(c);
        best_key = key;
        best_p = p;
      }
    }
    expert[out + j] = best;
    gate[out + j] = best_p;
    kept += best_p;
  }
  for (var j = 0u; j < 2u; j++) {
    gate[out + j] = 1.0f / (1.0f + exp(-gate[out + j]));
  }
}
