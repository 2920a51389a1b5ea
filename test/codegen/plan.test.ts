// Structural invariants of the -O0 plans of every shipped model at full size (no GPU needed).
import { describe, expect, it } from "vitest";
import { FUSED_OPS, UNFUSED_KERNELS } from "../../compiler/codegen/kernels/index.js";
import { BASELINE_PROFILE } from "../../compiler/codegen/profile.js";
import { OPS, OP_NAMES } from "../../compiler/ir/ops.js";
import { buildPlan, printPlan } from "../../compiler/plan.js";
import { weightDecls } from "../../compiler/ir/graph.js";
import { loadGraph } from "../runtime/helpers.js";

const SHIPPED = [
  "models/smoe.moe",
  "models/fine_grained.moe",
  "models/mh_moe.moe",
  "models/mh_moe_parity.moe",
  "models/lm_smoe.moe",
  "models/lm_fine_grained.moe",
  "models/lm_mh_moe.moe",
];

describe("-O0 plans of the shipped models", () => {
  for (const file of SHIPPED) {
    it(file, () => {
      const graph = loadGraph(file, file.includes("mh_moe.moe") ? ["capacity=1.0"] : []);
      const plan = buildPlan(graph, BASELINE_PROFILE);
      expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
      expect(printPlan(plan)).toBe(printPlan(buildPlan(graph, BASELINE_PROFILE)));

      // Every computing node in exactly one kernel, in graph order.
      const computing = graph.nodes.filter(
        (n) => n.op !== "input" && n.op !== "weight" && !OPS[n.op].view,
      );
      expect(plan.kernels.flatMap((k) => k.nodes)).toEqual(computing.map((n) => n.id));

      for (const k of plan.kernels) {
        expect(k.name).toMatch(/^k\d{2,}_[a-z_]+(_[\w.]+)?$/);
        const layout = plan.shaders[k.shader]!.layout;
        const storage = layout.filter((e) => e.type !== "uniform");
        expect(storage.length, k.name).toBeLessThanOrEqual(
          BASELINE_PROFILE.maxStorageBuffersPerShaderStage,
        );
        // A buffer written by a kernel is bound to it exactly once (no read/write aliasing).
        const written = k.bindings.filter((b) => layout[b.binding]!.type === "storage");
        for (const w of written) {
          expect(
            k.bindings.filter((b) => b.buffer === w.buffer),
            k.name,
          ).toHaveLength(1);
        }
      }

      // Values sharing an activation buffer have disjoint lifetimes, recomputed from the graph.
      const root = (v: number): number => {
        const node = graph.nodes[graph.values[v]!.node]!;
        return OPS[node.op].view ? root(node.inputs[0]!) : v;
      };
      const kernelOf = new Map(plan.kernels.map((k, i) => [k.nodes[0]!, i]));
      const keptRoots = new Set(
        [
          ...graph.outputs.map((o) => o.value),
          ...graph.routing.flatMap((r) => [r.counts, r.top1, r.probSum, r.dropped]),
        ].map(root),
      );
      const lifetime = (r: number): [number, number] => {
        const start = kernelOf.get(graph.values[r]!.node)!;
        if (keptRoots.has(r)) return [start, Infinity];
        const reads = graph.nodes
          .filter((n) => kernelOf.has(n.id) && n.inputs.some((v) => root(v) === r))
          .map((n) => kernelOf.get(n.id)!);
        return [start, Math.max(start, ...reads)];
      };
      for (const b of plan.buffers) {
        if (b.kind !== "activation") continue;
        const spans = b.values.map(lifetime).sort((x, y) => x[0] - y[0]);
        for (let i = 1; i < spans.length; i++) {
          expect(spans[i]![0], b.name).toBeGreaterThan(spans[i - 1]![1]);
        }
      }

      expect(plan.buffers.flatMap((b) => (b.kind === "weight" ? [b.name] : []))).toEqual(
        weightDecls(graph).map((w) => w.name),
      );
      expect(plan.routing.map((r) => r.scope)).toEqual(graph.routing.map((r) => r.scope));
    });
  }

  it("reuses activation buffers (and can be told not to)", () => {
    const graph = loadGraph("models/lm_mh_moe.moe");
    const count = (reuse: boolean) =>
      buildPlan(graph, BASELINE_PROFILE, { reuse }).buffers.filter((b) => b.kind === "activation")
        .length;
    expect(count(true)).toBeLessThan(count(false) / 4);
  });

  it("has an -O0 kernel for every op that lowering produces", () => {
    const noKernel = ["input", "weight", "state", "split", "join"];
    const fused: readonly string[] = FUSED_OPS;
    const lowered = OP_NAMES.filter((op) => !noKernel.includes(op) && !fused.includes(op));
    for (const op of lowered) expect(UNFUSED_KERNELS, op).toHaveProperty(op);
  });

  it("prints a readable plan", () => {
    const plan = buildPlan(loadGraph("models/mh_moe.moe", ["dim=32", "ffn=64", "capacity=1.0"]));
    const text = printPlan(plan);
    expect(text).toContain(
      "params: sym_T = T, cap_13 = capacity(rows=T*4, top_k=1, experts=8, factor=1, admit=rank)",
    );
    expect(text).toContain("input x: f32[T, 32] in b9");
    expect(text).toMatch(
      /k02_route_moe\.router nodes=#12 shader=s\d+ wg=64 groups=ceil\(T\*4\/64\)/,
    );
    expect(text).toContain("routing moe.router: experts=8 top_k=1 heads=4 rows=T*4");
  });
});
