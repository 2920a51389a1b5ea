// Instantiation: binding arguments to a layer's hyper-parameters, evaluating a user layer's body,
// and declaring a built-in layer's weights.
import type { Argument, Binding, Definition, HyperParam, Span } from "../../grammar/ast.js";
import type { BuiltinLayer } from "../builtins.js";
import type { OpAttrs, OpName } from "../ir/ops.js";
import type { TensorType } from "../ir/types.js";
import { expertWeightName, isStackedExpertName } from "../../plan/weightNames.js";
import { type Callable, Env, type Instance, type Value, coerce, describe } from "../values.js";
import { argSpan, argSpanOf, argsView, joinPath } from "./args.js";
import { type Elaborator, LIMITS, Stop } from "./context.js";
import { evalExpr } from "./expressions.js";
import { report } from "./report.js";
import { suggest } from "./suggest.js";

/** Binds arguments to a definition's parameters and builds the instance. */
export function instantiate(
  el: Elaborator,
  callable: Exclude<Callable, { kind: "function" }>,
  args: Map<string, Value> | readonly Argument[],
  path: string,
  span: Span,
  callerEnv?: Env,
): Instance | undefined {
  if (++el.instances > LIMITS.maxInstances) {
    report(
      el,
      span,
      `the model has more than ${LIMITS.maxInstances} layer instances; it is too large to compile`,
    );
    throw new Stop();
  }
  if (callable.kind === "builtin-layer") {
    const bound = bindBuiltinArgs(
      el,
      callable.layer,
      args as readonly Argument[],
      callerEnv!,
      span,
    );
    return (
      bound &&
      instantiateBuiltin(el, callable.layer, bound, path, span, args as readonly Argument[])
    );
  }
  const def = callable.definition;
  if (el.stack.includes(def)) {
    el.bag.error(
      span,
      `'${def.name.name}' instantiates itself (${[...el.stack, def].map((d) => d.name.name).join(" -> ")})`,
    );
    return undefined;
  }
  if (el.stack.length >= LIMITS.maxInstanceDepth) {
    el.bag.error(span, `layers nested more than ${LIMITS.maxInstanceDepth} deep`);
    throw new Stop();
  }
  const env = new Env(callable.file, undefined, path);
  const given =
    args instanceof Map ? args : evaluateArgs(el, args, callerEnv!, def.params, def.name.name);
  if (!given) return undefined;
  el.sites.push({ def, span, path, args: args instanceof Map ? undefined : args });
  try {
    return instantiateDefinition(el, callable, def, given, args, env, path, span);
  } finally {
    el.sites.pop();
  }
}

/** Binds a user definition's hyper-parameters and evaluates its body members. */
export function instantiateDefinition(
  el: Elaborator,
  callable: Extract<Callable, { kind: "definition" }>,
  def: Definition,
  given: Map<string, Value>,
  args: Map<string, Value> | readonly Argument[],
  env: Env,
  path: string,
  span: Span,
): Instance | undefined {
  for (const p of def.params) {
    let value = given.get(p.name.name);
    const fromDefault = value === undefined && p.default !== undefined;
    if (value === undefined && p.default) value = evalParamDefault(el, p, env);
    if (value === undefined) {
      el.bag.error(span, `missing argument '${p.name.name}' of '${def.name.name}'`, [
        { message: `'${p.name.name}' is declared here`, span: p.span },
      ]);
      value = { kind: "error" };
    }
    const typed = coerce(value, p.type);
    if (!typed && fromDefault) {
      el.bag.error(
        p.default!.span,
        `the default of '${p.name.name}' must be ${p.type}, got ${describe(value)}`,
        [{ message: `'${p.name.name}' is declared ${p.type} here`, span: p.typeSpan }],
      );
    } else if (!typed) {
      el.bag.error(
        argSpanOf(args, def.params, p.name.name) ?? span,
        `argument '${p.name.name}' of '${def.name.name}' must be ${p.type}, got ${describe(value)}`,
        [{ message: `'${p.name.name}' is declared ${p.type} here`, span: p.typeSpan }],
      );
    }
    env.vars.set(p.name.name, typed ?? { kind: "error" });
  }
  for (const m of def.members) {
    if (m.kind === "Binding" && !env.vars.has(m.name.name) && !env.pending.has(m.name.name))
      env.pending.set(m.name.name, m.name);
  }
  el.stack.push(def);
  try {
    for (const member of def.members) {
      if (member.kind === "Binding") {
        const name = member.name.name;
        if (env.vars.has(name)) {
          const param = def.params.find((p) => p.name.name === name);
          const first =
            param?.name ??
            def.members.find((m): m is Binding => m.kind === "Binding" && m.name.name === name)
              ?.name;
          el.bag.error(
            member.name.span,
            param
              ? `'${name}' is already a hyper-parameter of '${def.name.name}'`
              : `'${name}' is already defined in '${def.name.name}'`,
            first && first !== member.name
              ? [
                  {
                    message: param
                      ? `'${name}' is declared here`
                      : `'${name}' is first defined here`,
                    span: first.span,
                  },
                ]
              : undefined,
          );
          // Uses of the name below mean one of two things; neither is worth reporting again.
          env.vars.set(name, { kind: "error" });
          continue;
        }
        const childPath = joinPath(path, name);
        env.defining = name;
        const value = evalExpr(el, member.value, env, "body", childPath);
        env.defining = undefined;
        env.pending.delete(name);
        env.vars.set(name, value);
      } else if (member.kind === "Requirement") {
        const cond = evalExpr(el, member.condition, env, "body");
        if (cond.kind === "bool" && !cond.value) {
          const what = member.message?.value ?? "requirement failed";
          report(el, span, `${what} (in '${def.name.name}'${path ? ` at '${path}'` : ""})`, [
            { message: "required here", span: member.condition.span },
          ]);
          return undefined; // later members would only repeat the problem
        } else if (cond.kind !== "bool" && cond.kind !== "error") {
          el.bag.error(
            member.condition.span,
            `a requirement must be a bool, got ${describe(cond)}`,
          );
        }
      }
    }
  } finally {
    el.stack.pop();
  }
  return { path, callable, args: given, env, weights: new Map() };
}

export function evalParamDefault(el: Elaborator, p: HyperParam, env: Env): Value {
  return evalExpr(el, p.default!, env, "body");
}

export function evaluateArgs(
  el: Elaborator,
  args: readonly Argument[],
  env: Env,
  params: readonly { name: string }[] | readonly HyperParam[],
  owner: string,
): Map<string, Value> | undefined {
  const names = params.map((p) => (typeof p.name === "string" ? p.name : p.name.name));
  const out = new Map<string, Value>();
  let positional = 0;
  let ok = true;
  for (const arg of args) {
    let name: string | undefined;
    if (arg.name) {
      name = arg.name.name;
      if (!names.includes(name)) {
        el.bag.error(arg.name.span, `'${owner}' has no parameter '${name}'${suggest(name, names)}`);
        ok = false;
        continue;
      }
    } else {
      name = names[positional++];
      if (name === undefined) {
        el.bag.error(arg.span, `too many arguments for '${owner}' (it takes ${names.length})`);
        ok = false;
        continue;
      }
    }
    if (out.has(name)) {
      el.bag.error(arg.span, `argument '${name}' given twice`);
      ok = false;
      continue;
    }
    out.set(name, evalExpr(el, arg.value, env, "body"));
  }
  return ok ? out : undefined;
}

export function bindBuiltinArgs(
  el: Elaborator,
  layer: BuiltinLayer,
  args: readonly Argument[],
  env: Env,
  span: Span,
): Map<string, Value> | undefined {
  const given = evaluateArgs(el, args, env, layer.params, layer.name);
  if (!given) return undefined;
  const bound = new Map<string, Value>();
  let ok = true;
  for (const p of layer.params) {
    let value = given.get(p.name);
    if (value === undefined && p.default) value = p.default(argsView(bound));
    if (value === undefined) {
      el.bag.error(
        span,
        `missing argument '${p.name}' of ${layer.name}(${layer.params.map((q) => q.name).join(", ")})`,
      );
      ok = false;
      continue;
    }
    const typed = coerce(value, p.type);
    if (!typed || typed.kind === "error") {
      if (typed?.kind !== "error") {
        const at = argSpan(args, layer.params, p.name) ?? span;
        el.bag.error(
          at,
          `argument '${p.name}' of ${layer.name} must be ${p.type}, got ${describe(value)}`,
        );
      }
      ok = false;
      continue;
    }
    bound.set(p.name, typed);
  }
  return ok ? bound : undefined;
}

export function instantiateBuiltin(
  el: Elaborator,
  layer: BuiltinLayer,
  bound: Map<string, Value>,
  path: string,
  span: Span,
  args: readonly Argument[],
): Instance | undefined {
  const view = argsView(bound);
  for (const [name, message] of layer.validate(view)) {
    report(el, argSpan(args, layer.params, name) ?? span, message);
  }
  for (const p of layer.params) {
    const v = bound.get(p.name);
    if (v?.kind === "int" && v.value > LIMITS.maxDim) {
      report(
        el,
        argSpan(args, layer.params, p.name) ?? span,
        `${p.name} = ${v.value} exceeds the limit of ${LIMITS.maxDim} per dimension`,
      );
    }
  }
  if (el.bag.hasErrors) return undefined;
  const weights = new Map<string, number>();
  for (const w of layer.weights(view)) {
    const elements = w.shape.reduce((a, b) => a * b, 1);
    if (elements > LIMITS.maxTensorElements) {
      // A stack of per-expert tensors is stored (and limited) as one tensor.
      const what = isStackedExpertName(w.suffix)
        ? `the ${w.shape[0]} expert weights '${expertWeightName(joinPath(path, w.suffix), "*")}' would have ${elements} elements together`
        : `weight '${joinPath(path, w.suffix)}' would have ${elements} elements`;
      report(el, span, `${what} (limit ${LIMITS.maxTensorElements})`);
      return undefined;
    }
    if (w.tie) {
      const tied = tiedWeight(el, w.tie, w.shape);
      if (typeof tied === "string") {
        report(el, argSpan(args, layer.params, "tie") ?? span, tied);
        return undefined;
      }
      weights.set(w.suffix, tied);
      continue;
    }
    const name = joinPath(path, w.suffix);
    const [value] = addNode(el, "weight", [], { name, init: w.init, fanIn: w.fanIn }, path, span, [
      { dtype: w.dtype ?? "f32", shape: w.shape },
    ]);
    weights.set(w.suffix, value!);
  }
  return { path, callable: { kind: "builtin-layer", layer }, args: bound, weights };
}

/** The value of the weight named `name` declared so far, or why it cannot be shared. */
function tiedWeight(el: Elaborator, name: string, shape: readonly number[]): number | string {
  const node = el.builder.nodes.find(
    (n) => n.op === "weight" && (n.attrs as { name: string }).name === name,
  );
  if (!node) return `tie: no weight named '${name}' is declared before this layer`;
  const type = el.builder.type(node.outputs[0]!);
  if (type.dtype !== "f32" || type.shape.join(",") !== shape.join(","))
    return `tie: weight '${name}' has shape [${type.shape.join(", ")}], this layer needs [${shape.join(", ")}]`;
  return node.outputs[0]!;
}

export function addNode<K extends OpName>(
  el: Elaborator,
  op: K,
  inputs: readonly number[],
  attrs: OpAttrs[K],
  scope: string,
  span: Span,
  types?: readonly TensorType[],
): number[] {
  if (el.builder.nodes.length >= LIMITS.maxNodes) {
    report(
      el,
      span,
      `the model lowers to more than ${LIMITS.maxNodes} IR nodes; it is too large to compile`,
    );
    throw new Stop();
  }
  return el.builder.add(op, inputs, attrs, scope, span, types);
}
