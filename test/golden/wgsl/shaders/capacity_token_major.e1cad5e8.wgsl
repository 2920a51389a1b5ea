@group(0) @binding(0) var<storage, read> expert: array<i32>;
@group(0) @binding(1) var<storage, read> gate: array<f32>;
@group(0) @binding(2) var<storage, read_write> kept_expert: array<i32>;
@group(0) @binding(3) var<storage, read_write> kept_gate: array<f32>;
struct Params {
  sym_T: u32,
  cap_11: u32,
}
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(1)
fn main(@builtin(local_invocation_index) lid: u32) {
  var load: array<u32, 4>;
  let capacity = params.cap_11;
  for (var r = 0u; r < params.sym_T; r++) {
    for (var j = 0u; j < 2u; j++) {
      let a = r * 2u + j;
      let e = expert[a];
      if (e >= 0i && load[e] < capacity) {
        load[e] += 1u;
        kept_expert[a] = e;
        kept_gate[a] = gate[a];
      } else {
        kept_expert[a] = (-1i);
        kept_gate[a] = 0.0f;
      }
    }
  }
}
