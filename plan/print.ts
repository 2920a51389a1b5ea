// The text form of a plan (goldens, `moec plan`): one line per param, tensor, buffer, kernel,
// shader and routing site.
import { type Dim, formatDim } from "./dims.js";
import type { Plan, PlanGemm } from "./format.js";
import { formatSize } from "./size.js";

/** `gemm(out=256, k=64, weights=2): tm=16 tn=2 wg=64 vec=4 share=8`: the GEMM and its tiling. */
function formatGemm(g: PlanGemm): string {
  const { tm, tn, wg, vec, share } = g.tiling;
  const weights = g.weights > 1 ? `, weights=${g.weights}` : "";
  return `gemm(out=${g.out}, k=${g.inner}${weights}): tm=${tm} tn=${tn} wg=${wg} vec=${vec} share=${share}`;
}

export function printPlan(plan: Plan): string {
  const lines: string[] = [];
  const shape = (s: readonly Dim[]) => `[${s.map(formatDim).join(", ")}]`;
  const buf = (id: number) => `b${id}`;
  lines.push(`plan ${plan.name} (${plan.format}, profile ${plan.profile.name})`);
  lines.push(
    `params: ${
      plan.params
        .map((p) =>
          p.kind === "symbol"
            ? `${p.field} = ${p.symbol}`
            : `${p.field} = capacity(rows=${formatSize(p.rows)}, top_k=${p.topK}, experts=${p.experts}, ${p.limit.rule}=${p.limit.capacity}, admit=${p.limit.admit})`,
        )
        .join(", ") || "none"
    }`,
  );
  for (const [what, list] of [
    ["input", plan.inputs],
    ["output", plan.outputs],
  ] as const) {
    for (const t of list) {
      const limit = t.idLimit === undefined ? "" : ` ids < ${t.idLimit}`;
      lines.push(`${what} ${t.name}: ${t.dtype}${shape(t.shape)} in ${buf(t.buffer)}${limit}`);
    }
  }
  lines.push("buffers:");
  for (const b of plan.buffers) {
    const size = `${formatSize(b.bytes)} B`;
    if (b.kind === "params") lines.push(`  ${buf(b.id)} params (${plan.params.length} x u32)`);
    else if (b.kind === "weight")
      lines.push(`  ${buf(b.id)} weight ${b.name} ${b.dtype}[${b.shape.join(", ")}] ${size}`);
    else if (b.kind === "input") lines.push(`  ${buf(b.id)} input ${b.name} ${size}`);
    else if (b.kind === "state")
      lines.push(`  ${buf(b.id)} state ${b.name} ${b.dtype}[${b.shape.join(", ")}] ${size}`);
    else {
      const live = `k${b.first}..${b.last === plan.kernels.length ? "end" : `k${b.last}`}`;
      lines.push(
        `  ${buf(b.id)} activation ${size} ${live} holds ${b.values.map((v) => `%${v}`).join(" ")}`,
      );
    }
  }
  lines.push("kernels:");
  for (const k of plan.kernels) {
    const s = plan.shaders[k.shader]!;
    const binds = k.bindings.map((b) => `${b.binding}=${buf(b.buffer)}`).join(" ");
    const groups = `ceil(${formatSize(k.dispatch.items)}/${k.dispatch.perWorkgroup})`;
    lines.push(
      `  ${k.name} nodes=${k.nodes.map((n) => `#${n}`).join(",")} shader=s${k.shader} wg=${s.workgroupSize[0]} groups=${groups} ${binds}${k.gemm ? ` ${formatGemm(k.gemm)}` : ""}`,
    );
  }
  lines.push("shaders:");
  plan.shaders.forEach((s, i) => {
    const layout = s.layout.map((e) => `${e.binding}:${e.type}`).join(" ");
    const users = plan.kernels.filter((k) => k.shader === i).length;
    lines.push(
      `  s${i} ${s.wgsl.split("\n").length - 1} lines, used by ${users}, layout ${layout}`,
    );
  });
  for (const r of plan.routing) {
    lines.push(
      `routing ${r.scope}: experts=${r.experts} top_k=${r.topK} heads=${r.heads} rows=${formatSize(r.rows)} counts=${buf(r.counts)} top1=${buf(r.top1)} prob_sum=${buf(r.probSum)} dropped=${buf(r.dropped)}`,
    );
  }
  return lines.join("\n") + "\n";
}
