// Forward code: calling a user layer's forward with tensors, checking its inputs and outputs against
// the declared types.
import type { Definition, Forward, Span } from "../../grammar/ast.js";
import type { Dim } from "../ir/types.js";
import { type Env, type Instance, type Value, describe } from "../values.js";
import { callBuiltin } from "./builtinCall.js";
import type { Elaborator } from "./context.js";
import { evalExpr } from "./expressions.js";
import { unify } from "./shapes.js";

export function forwardOf(el: Elaborator, def: Definition, span: Span): Forward | undefined {
  const forwards = def.members.filter((m): m is Forward => m.kind === "Forward");
  if (forwards.length === 0) {
    el.bag.error(span, `'${def.name.name}' has no forward and cannot be called`);
    return undefined;
  }
  if (forwards.length > 1) {
    el.bag.error(forwards[1]!.span, `'${def.name.name}' has more than one forward`);
  }
  return forwards[0];
}

export function callInstance(el: Elaborator, instance: Instance, args: Value[], span: Span): Value {
  if (instance.callable.kind === "builtin-layer")
    return callBuiltin(el, instance, instance.callable.layer, args, span);
  const def = instance.callable.definition;
  const forward = forwardOf(el, def, span);
  if (!forward) return { kind: "error" };
  if (forward.outputs.length !== 1) {
    el.bag.error(
      span,
      `'${def.name.name}' returns ${forward.outputs.length} tensors; only single-output layers can be called`,
    );
    return { kind: "error" };
  }
  el.stack.push(def);
  el.sites.push({ def, span, path: instance.path });
  try {
    const out = runForward(el, def, forward, instance.env!, args, new Map(), span);
    return out?.[0] ?? { kind: "error" };
  } finally {
    el.sites.pop();
    el.stack.pop();
  }
}

export function runForward(
  el: Elaborator,
  def: Definition,
  forward: Forward,
  instanceEnv: Env,
  args: readonly Value[],
  symbols: Map<string, Dim>,
  callSpan: Span,
): Value[] | undefined {
  if (args.length !== forward.inputs.length) {
    el.bag.error(
      callSpan,
      `'${def.name.name}' takes ${forward.inputs.length} input${forward.inputs.length === 1 ? "" : "s"}, got ${args.length}`,
    );
    return undefined;
  }
  const env = instanceEnv.child();
  for (const [i, decl] of forward.inputs.entries()) {
    const arg = args[i]!;
    if (arg.kind === "error") return undefined;
    if (arg.kind !== "tensor") {
      el.bag.error(
        callSpan,
        `input '${decl.name.name}' of '${def.name.name}' must be a tensor, got ${describe(arg)}`,
      );
      return undefined;
    }
    if (!unify(el, decl, el.builder.type(arg.value), instanceEnv, symbols, callSpan))
      return undefined;
    env.vars.set(decl.name.name, arg);
  }
  for (const stmt of forward.body) {
    if (stmt.kind === "Assign" && !env.vars.has(stmt.name.name) && !env.pending.has(stmt.name.name))
      env.pending.set(stmt.name.name, stmt.name);
  }
  for (const stmt of forward.body) {
    if (stmt.kind === "Assign") {
      const name = stmt.name.name;
      env.defining = env.vars.has(name) ? undefined : name;
      const value = evalExpr(el, stmt.value, env, "forward");
      env.defining = undefined;
      env.pending.delete(name);
      env.vars.set(name, value);
      continue;
    }
    if (stmt.values.length !== forward.outputs.length) {
      el.bag.error(
        stmt.span,
        `'${def.name.name}' declares ${forward.outputs.length} output${forward.outputs.length === 1 ? "" : "s"} but returns ${stmt.values.length}`,
      );
      return undefined;
    }
    const results = stmt.values.map((e) => evalExpr(el, e, env, "forward"));
    for (const [i, v] of results.entries()) {
      if (v.kind === "error") return undefined;
      const decl = forward.outputs[i]!;
      if (v.kind !== "tensor") {
        el.bag.error(
          stmt.values[i]!.span,
          `output '${decl.name.name}' must be a tensor, got ${describe(v)}`,
        );
        return undefined;
      }
      if (!unify(el, decl, el.builder.type(v.value), instanceEnv, symbols, stmt.values[i]!.span))
        return undefined;
    }
    return results;
  }
  el.bag.error(forward.span, `forward of '${def.name.name}' has no return`);
  return undefined;
}
