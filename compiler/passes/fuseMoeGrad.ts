// The expert bank's backward at -O2, part of the MoE fusion: the unfused backward ops that
// gradient rules emit (ops/moeGrad.ts) become grouped ones over the forward's counting sort
// (ops/fusedMoeGrad.ts). The down projection's output is not recomputed: dgate = h·u + dy·b2 with
// u = dy·W2[e], whose product with the gate is also the hidden rows' cotangent.
import type { Node } from "../ir/graph.js";
import type { OpAttrs, OpName } from "../ir/ops.js";
import type { Rewriter } from "./rewrite.js";

/** What moe_permute gives a routing site: kept expert ids, segment offsets, sorted assignments. */
export interface Permutation {
  readonly kept: number;
  readonly offsets: number;
  readonly order: number;
}

/** Backward ops that read a routing site's expert ids (always their input 1). */
export const EXPERT_GRAD_OPS: ReadonlySet<string> = new Set([
  "expert_weight_grad",
  "expert_backprop",
  "expert_up_grad",
  "expert_down_grad",
]);

export class ExpertGradFusion {
  /** dz of each fused down projection (source value) → the hidden rows' cotangent and W2. */
  readonly #hiddenGrad = new Map<number, { dh: number; w2: number }>();

  constructor(readonly rw: Rewriter) {}

  /** Emits the fused form of an EXPERT_GRAD_OPS node of a site with permutation p. */
  rewrite(node: Node, p: Permutation): void {
    const rw = this.rw;
    const v = (old: number) => rw.value(old);
    const emit = <K extends OpName>(op: K, inputs: number[], attrs: OpAttrs[K]) =>
      rw.emit(op, inputs, attrs, node.scope, node.span);
    const segments = [p.kept, p.order, p.offsets];
    const ins = node.inputs;
    switch (node.op) {
      case "expert_weight_grad": {
        const [dw] = emit("moe_grouped_weight_grad", [v(ins[0]!), ...segments, v(ins[2]!)], {
          experts: (node as Node<"expert_weight_grad">).attrs.experts,
        });
        rw.alias(node.outputs[0]!, dw!);
        return;
      }
      case "expert_backprop": {
        const [d, , w] = ins;
        const fused = this.#hiddenGrad.get(d!);
        const { sumChoices } = (node as Node<"expert_backprop">).attrs;
        if (fused && fused.w2 === w && !sumChoices) {
          rw.alias(node.outputs[0]!, fused.dh);
          return;
        }
        const [slots] = emit("moe_grouped_backprop", [v(d!), ...segments, v(w!)], {});
        rw.alias(node.outputs[0]!, sumChoices ? emit("combine", [slots!], {})[0]! : slots!);
        return;
      }
      case "expert_up_grad": {
        const [x, , ...rest] = ins;
        const outs = emit(
          "moe_grouped_up_grad",
          [v(x!), ...segments, ...rest.map(v)],
          (node as Node<"expert_up_grad">).attrs,
        );
        node.outputs.forEach((o, i) => rw.alias(o, outs[i]!));
        return;
      }
      case "expert_down_grad": {
        const [h, , gate, w2] = ins;
        const b2 = ins.length === 6 ? ins[4] : undefined;
        const dy = v(ins[ins.length - 1]!);
        const [u] = emit("moe_grouped_backprop", [dy, ...segments, v(w2!)], {});
        const [dz, dgateOfH, dh] = emit("moe_down_grad", [v(h!), p.kept, v(gate!), u!, dy], {});
        const dgate =
          b2 === undefined
            ? dgateOfH!
            : emit(
                "add",
                [dgateOfH!, emit("moe_gate_bias_grad", [dy, p.kept, v(b2)], {})[0]!],
                {},
              )[0]!;
        rw.alias(node.outputs[0]!, dz!);
        rw.alias(node.outputs[1]!, dgate);
        this.#hiddenGrad.set(node.outputs[0]!, { dh: dh!, w2: w2! });
        return;
      }
      default:
        throw new Error(`internal error: ${node.op} is not an expert backward op`);
    }
  }
}
