// Calling a built-in layer in forward, with the MoE special cases: a routing decision must match
// the expert bank it drives, and every router records a routing-statistics site.
import type { Span } from "../../grammar/ast.js";
import { type BuiltinLayer, checkRoutingMatchesBank } from "../builtins.js";
import { ShapeError } from "../ir/ops.js";
import { type Instance, type Routing, type Value, describe } from "../values.js";
import { argsView } from "./args.js";
import type { Elaborator } from "./context.js";
import { addNode } from "./instantiate.js";
import { report } from "./report.js";

export function callBuiltin(
  el: Elaborator,
  instance: Instance,
  layer: BuiltinLayer,
  args: Value[],
  span: Span,
): Value {
  if (args.length !== layer.inputs.length) {
    el.bag.error(
      span,
      `${layer.name} '${instance.path}' takes ${layer.inputs.length} input${layer.inputs.length > 1 ? "s" : ""}, got ${args.length}`,
    );
    return { kind: "error" };
  }
  const inputs: (number | Routing)[] = [];
  for (const [i, kind] of layer.inputs.entries()) {
    const a = args[i]!;
    if (kind === "tensor" && a.kind === "tensor") inputs.push(a.value);
    else if (kind === "routing" && a.kind === "routing") inputs.push(a.routing);
    else {
      el.bag.error(
        span,
        `input ${i + 1} of ${layer.name} '${instance.path}' must be ${kind === "tensor" ? "a tensor" : "a routing decision (the result of a Router)"}, got ${describe(a)}`,
      );
      return { kind: "error" };
    }
  }
  if (layer.name === "Experts") {
    const mismatch = checkRoutingMatchesBank(
      inputs[1] as Routing,
      argsView(instance.args).int("experts"),
    );
    if (mismatch) {
      report(el, span, mismatch);
      return { kind: "error" };
    }
  }
  try {
    return layer.call(
      {
        builder: el.builder,
        path: instance.path,
        args: argsView(instance.args),
        weight: (suffix) => instance.weights.get(suffix)!,
        op: (op, opInputs, attrs) => addNode(el, op, opInputs, attrs, instance.path, span),
        ...(el.decode && {
          decode: {
            context: el.decode.context,
            positions: (rows) => {
              if (el.positions === undefined) {
                const type = { dtype: "i32" as const, shape: [rows] };
                [el.positions] = el.builder.add("input", [], { name: "positions" }, "", span, [
                  type,
                ]);
                el.builder.inputs.push({ name: "positions", value: el.positions! });
              }
              return el.positions!;
            },
            state: (suffix, shape) => {
              const name = `${instance.path}.${suffix}`;
              const type = { dtype: "f32" as const, shape };
              return addNode(el, "state", [], { name }, instance.path, span, [type])[0]!;
            },
          },
        }),
        routingSite: (routing, routed, kept, probs, rows) => {
          // Sub-tokens per token: the coefficient of the symbolic row count (T·h after a split).
          const rowsPerToken = typeof rows === "number" ? 1 : rows.coef;
          const [counts, top1, probSum, dropped] = addNode(
            el,
            "route_stats",
            [routed, kept, probs],
            { experts: routing.experts, heads: rowsPerToken },
            instance.path,
            span,
          ) as [number, number, number, number];
          el.builder.routing.push({
            scope: instance.path,
            experts: routing.experts,
            topK: routing.topK,
            heads: rowsPerToken,
            rows,
            counts,
            top1,
            probSum,
            dropped,
          });
        },
      },
      inputs,
    );
  } catch (e) {
    if (e instanceof ShapeError) {
      report(el, span, `${layer.name} '${instance.path}': ${e.message}`);
      return { kind: "error" };
    }
    throw e;
  }
}
