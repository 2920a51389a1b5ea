// A hand-written reference f32 matmul, y = x·Wᵀ with both operands in rgba32float textures: the
// fastest kind of kernel known for lavapipe before moec's subgroup tiling (design.md section 8:
// textureLoad takes a vectorised path there). It is not something moec generates (plans bind
// storage buffers only); the suite times it on the same adapter, in the same run, to say what
// "the best f32 matmul known for the adapter" is, rather than quoting a figure from elsewhere.
import type { MoecDevice } from "../runtime/device.js";

export interface ReferenceConfig {
  readonly tm: number;
  readonly tn: number;
  readonly wg: number;
  /** Rows of x shared through subgroupBroadcast, 8 at a time (0: every invocation loads them). */
  readonly share: 0 | 8;
}

export interface ReferenceResult {
  readonly config: ReferenceConfig;
  readonly ms: readonly number[];
  readonly medianMs: number;
  readonly gflops: number;
  /** Largest |y - x·Wᵀ| over sampled outputs (float64 on the host). */
  readonly maxError: number;
}

function shader(m: number, n: number, kv: number, c: ReferenceConfig): string {
  const block = c.wg * c.tn;
  const colBlocks = Math.ceil(n / block);
  const L: string[] = [];
  if (c.share) L.push("enable subgroups;");
  L.push("@group(0) @binding(0) var x: texture_2d<f32>;");
  L.push("@group(0) @binding(1) var w: texture_2d<f32>;");
  L.push("@group(0) @binding(2) var<storage, read_write> y: array<f32>;");
  const sg = c.share ? ", @builtin(subgroup_invocation_id) sg: u32" : "";
  L.push(
    `@compute @workgroup_size(${c.wg}) fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32${sg}) {`,
  );
  L.push(`let g = wid.y * nwg.x + wid.x;`);
  L.push(`if (g >= ${Math.ceil(m / c.tm) * colBlocks}u) { return; }`);
  L.push(`let r0 = (g / ${colBlocks}u) * ${c.tm}u; let cb = g % ${colBlocks}u;`);
  for (let j = 0; j < c.tn; j++)
    L.push(`let col${j} = min(cb * ${block}u + lid * ${c.tn}u + ${j}u, ${n - 1}u);`);
  for (let r = 0; r < c.tm; r++) for (let j = 0; j < c.tn; j++) L.push(`var acc${r}_${j} = 0.0;`);
  L.push(`for (var k = 0u; k < ${kv}u; k++) {`);
  if (c.share)
    for (let i = 0; i < c.tm / c.share; i++)
      L.push(
        `let l${i} = textureLoad(x, vec2u(k, min(r0 + ${i * c.share}u + sg % ${c.share}u, ${m - 1}u)), 0);`,
      );
  for (let j = 0; j < c.tn; j++) L.push(`let b${j} = textureLoad(w, vec2u(k, col${j}), 0);`);
  for (let r = 0; r < c.tm; r++) {
    L.push(
      `let a${r} = ${c.share ? `subgroupBroadcast(l${Math.floor(r / c.share)}, ${r % c.share}u)` : `textureLoad(x, vec2u(k, min(r0 + ${r}u, ${m - 1}u)), 0)`};`,
    );
    for (let j = 0; j < c.tn; j++)
      L.push(
        `acc${r}_${j} = fma(a${r}.w, b${j}.w, fma(a${r}.z, b${j}.z, fma(a${r}.y, b${j}.y, fma(a${r}.x, b${j}.x, acc${r}_${j}))));`,
      );
  }
  L.push("}");
  for (let r = 0; r < c.tm; r++)
    for (let j = 0; j < c.tn; j++)
      L.push(
        `if (r0 + ${r}u < ${m}u && cb * ${block}u + lid * ${c.tn}u + ${j}u < ${n}u) { y[(r0 + ${r}u) * ${n}u + col${j}] = acc${r}_${j}; }`,
      );
  L.push("}");
  return L.join("\n");
}

/** The configurations tried: with subgroup sharing where the adapter has subgroups. */
export function referenceConfigs(subgroups: boolean): ReferenceConfig[] {
  const plain: ReferenceConfig[] = [
    { tm: 8, tn: 4, wg: 64, share: 0 },
    { tm: 16, tn: 4, wg: 64, share: 0 },
  ];
  const shared: ReferenceConfig[] = [
    { tm: 16, tn: 4, wg: 64, share: 8 },
    { tm: 16, tn: 2, wg: 64, share: 8 },
    { tm: 32, tn: 2, wg: 64, share: 8 },
  ];
  return subgroups ? [...shared, ...plain] : plain;
}

/**
 * Times y = x·Wᵀ (x: m x k, W: n x k, k % 4 == 0) for each configuration, interleaved over
 * `repeat` rounds after one warm-up each, with timestamp queries.
 */
export async function referenceMatmul(
  moec: MoecDevice,
  dims: { rows: number; inner: number; out: number },
  options: { repeat: number; progress?: (line: string) => void },
  configs = referenceConfigs(moec.features.has("subgroups")),
): Promise<ReferenceResult[]> {
  const { device } = moec;
  const { rows: m, inner: k, out: n } = dims;
  if (k % 4 !== 0) throw new Error("the reference matmul needs K % 4 == 0");
  if (!moec.features.has("timestamp-query"))
    throw new Error("the reference matmul needs timestamp-query");
  const kv = k / 4;
  const random = (count: number, seed: number) =>
    Float32Array.from({ length: count }, (_, i) => Math.sin((i + 1) * 12.9898 + seed) * 0.5);
  const x = random(m * k, 1);
  const wt = random(n * k, 2);
  const texture = (data: Float32Array, height: number) => {
    const t = device.createTexture({
      size: [kv, height],
      format: "rgba32float",
      usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
    });
    device.queue.writeTexture(
      { texture: t },
      data as Float32Array<ArrayBuffer>,
      { bytesPerRow: k * 4, rowsPerImage: height },
      [kv, height],
    );
    return t;
  };
  const tx = texture(x, m);
  const tw = texture(wt, n);
  const y = device.createBuffer({
    size: m * n * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
  });
  const querySet = device.createQuerySet({ type: "timestamp", count: 2 });
  const resolve = device.createBuffer({
    size: 16,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  const pipelines = await Promise.all(
    configs.map(async (c) => {
      const module = device.createShaderModule({ code: shader(m, n, kv, c) });
      const pipeline = await device.createComputePipelineAsync({
        layout: "auto",
        compute: { module, entryPoint: "main" },
      });
      const bindGroup = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: tx.createView() },
          { binding: 1, resource: tw.createView() },
          { binding: 2, resource: { buffer: y } },
        ],
      });
      return { pipeline, bindGroup, groups: Math.ceil(m / c.tm) * Math.ceil(n / (c.wg * c.tn)) };
    }),
  );
  const read = async (
    source: GPUBuffer,
    bytes: number,
    encoder = device.createCommandEncoder(),
  ) => {
    const staging = device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    encoder.copyBufferToBuffer(source, 0, staging, 0, bytes);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const out = staging.getMappedRange().slice(0);
    staging.unmap();
    staging.destroy();
    return out;
  };
  const once = async (i: number): Promise<number> => {
    const p = pipelines[i]!;
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass({
      timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 },
    });
    pass.setPipeline(p.pipeline);
    pass.setBindGroup(0, p.bindGroup);
    const max = device.limits.maxComputeWorkgroupsPerDimension;
    pass.dispatchWorkgroups(Math.min(p.groups, max), Math.ceil(p.groups / max));
    pass.end();
    encoder.resolveQuerySet(querySet, 0, 2, resolve, 0);
    const ticks = new BigUint64Array(await read(resolve, 16, encoder));
    return Math.max(0, Number(ticks[1]! - ticks[0]!) / 1e6);
  };
  const samples: number[][] = configs.map(() => []);
  const errors: number[] = [];
  for (let i = 0; i < configs.length; i++) {
    await once(i);
    const out = new Float32Array(await read(y, m * n * 4));
    let err = 0;
    for (let s = 0; s < 64; s++) {
      const r = (s * 7919) % m;
      const c = (s * 104729) % n;
      let acc = 0;
      for (let j = 0; j < k; j++) acc += x[r * k + j]! * wt[c * k + j]!;
      err = Math.max(err, Math.abs(acc - out[r * n + c]!));
    }
    errors.push(err);
  }
  for (let round = 0; round < options.repeat; round++) {
    for (let i = 0; i < configs.length; i++) {
      samples[i]!.push(await once(i));
      const c = configs[i]!;
      options.progress?.(
        `run ${round + 1}/${options.repeat}: texture matmul tm=${c.tm} tn=${c.tn} wg=${c.wg}${c.share ? " subgroups" : ""} ${samples[i]!.at(-1)!.toFixed(1)} ms`,
      );
    }
  }
  tx.destroy();
  tw.destroy();
  y.destroy();
  resolve.destroy();
  querySet.destroy();
  return configs.map((config, i) => {
    const sorted = [...samples[i]!].sort((a, b) => a - b);
    const medianMs = sorted[Math.floor(sorted.length / 2)]!;
    return {
      config,
      ms: samples[i]!,
      medianMs,
      gflops: (2 * m * n * k) / (medianMs * 1e6),
      maxError: errors[i]!,
    };
  });
}
