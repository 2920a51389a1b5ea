// Evaluation of expressions: hyper-parameter arithmetic and conditions, names, `repeat`, fields,
// and calls (layer creation in a body, tensor ops in forward).
import type { Expr, Identifier, Span } from "../../grammar/ast.js";
import { BUILTIN_LAYERS } from "../builtins.js";
import { ACTIVATIONS, type Activation, type OpAttrs, type OpName, ShapeError } from "../ir/ops.js";
import { type Env, type Instance, type Value, describe } from "../values.js";
import { namesIn, scopeOf } from "./args.js";
import { type Elaborator, LIMITS } from "./context.js";
import { callInstance } from "./forward.js";
import { addNode, instantiate } from "./instantiate.js";
import { report } from "./report.js";
import { suggest } from "./suggest.js";

export function evalExpr(
  el: Elaborator,
  expr: Expr,
  env: Env,
  context: "body" | "forward",
  instancePath?: string,
): Value {
  switch (expr.kind) {
    case "Int":
      if (!Number.isSafeInteger(expr.value)) {
        el.bag.error(expr.span, `integer ${expr.text} is too large`);
        return { kind: "error" };
      }
      return { kind: "int", value: expr.value };
    case "Float":
      if (!Number.isFinite(expr.value)) {
        el.bag.error(expr.span, `float ${expr.text} is too large`);
        return { kind: "error" };
      }
      return { kind: "float", value: expr.value };
    case "Bool":
      return { kind: "bool", value: expr.value };
    case "String":
      return { kind: "string", value: expr.value };
    case "Identifier":
      return lookup(el, expr, env);
    case "Unary": {
      const v = evalExpr(el, expr.operand, env, context);
      if (v.kind === "error") return v;
      if (expr.op === "-" && (v.kind === "int" || v.kind === "float"))
        return { kind: v.kind, value: -v.value };
      if (expr.op === "!" && v.kind === "bool") return { kind: "bool", value: !v.value };
      if (expr.op === "-" && v.kind === "tensor")
        return tensorOp(el, "scale", [v.value], { factor: -1 }, env, expr.span);
      el.bag.error(expr.span, `cannot apply '${expr.op}' to ${describe(v)}`);
      return { kind: "error" };
    }
    case "Binary":
      return evalBinary(el, expr, env, context);
    case "Conditional": {
      const c = evalExpr(el, expr.condition, env, context);
      if (c.kind === "error") return c;
      if (c.kind !== "bool") {
        el.bag.error(
          expr.condition.span,
          `a condition must be a bool known at compile time, got ${describe(c)}`,
        );
        return { kind: "error" };
      }
      // Only the chosen branch is evaluated, so a switched-off layer declares no weights.
      return evalExpr(el, c.value ? expr.then : expr.otherwise, env, context, instancePath);
    }
    case "Repeat":
      return evalRepeat(el, expr, env, context, instancePath);
    case "FieldAccess":
      return evalField(el, expr.object, expr.property, env, context);
    case "Call":
      return evalCall(el, expr, env, context, instancePath);
  }
}

export function lookup(el: Elaborator, id: Identifier, env: Env): Value {
  const local = env.lookup(id.name);
  if (local) return local;
  for (let e: Env | undefined = env; e; e = e.parent) {
    if (e.defining === id.name) {
      el.bag.error(id.span, `'${id.name}' is defined in terms of itself`);
      return { kind: "error" };
    }
    const later = e.pending.get(id.name);
    if (later) {
      el.bag.error(id.span, `'${id.name}' is used before it is defined`, [
        { message: `'${id.name}' is defined here`, span: later.span },
      ]);
      return { kind: "error" };
    }
  }
  const def = el.program.scopes.get(env.file)?.get(id.name);
  if (def)
    return {
      kind: "callable",
      target: { kind: "definition", definition: def, file: def.name.span.file },
    };
  const layer = BUILTIN_LAYERS.get(id.name);
  if (layer) return { kind: "callable", target: { kind: "builtin-layer", layer } };
  if ((ACTIVATIONS as readonly string[]).includes(id.name))
    return { kind: "act", value: id.name as Activation };
  if (id.name === "split" || id.name === "join")
    return { kind: "callable", target: { kind: "function", name: id.name } };
  const known = [
    ...namesIn(env),
    ...(el.program.scopes.get(env.file)?.keys() ?? []),
    ...BUILTIN_LAYERS.keys(),
    ...ACTIVATIONS,
    "split",
    "join",
  ];
  const spec = el.program.stdImportFor?.(id.name);
  el.bag.error(
    id.span,
    spec
      ? `unknown name '${id.name}': it is defined in the standard library; add \`import "${spec}"\` at the top of this file`
      : `unknown name '${id.name}'${suggest(id.name, known)}`,
  );
  return { kind: "error" };
}

export function evalBinary(
  el: Elaborator,
  expr: Expr & { kind: "Binary" },
  env: Env,
  context: "body" | "forward",
): Value {
  const l = evalExpr(el, expr.left, env, context);
  // && and || short-circuit so `heads > 0 && dim % heads == 0` never divides by zero.
  if ((expr.op === "&&" || expr.op === "||") && l.kind === "bool" && l.value === (expr.op === "||"))
    return l;
  const r = evalExpr(el, expr.right, env, context);
  if (l.kind === "error" || r.kind === "error") return { kind: "error" };
  const fail = (why?: string): Value => {
    // A value problem (division, overflow) depends on the arguments; a type problem does not.
    if (why) report(el, expr.span, why);
    else el.bag.error(expr.span, `cannot apply '${expr.op}' to ${describe(l)} and ${describe(r)}`);
    return { kind: "error" };
  };
  if (l.kind === "tensor" || r.kind === "tensor")
    return tensorArithmetic(el, expr, l, r, env, fail);
  const numeric = (v: Value) => v.kind === "int" || v.kind === "float";
  if (numeric(l) && numeric(r)) {
    const a = (l as { value: number }).value;
    const b = (r as { value: number }).value;
    const bothInt = l.kind === "int" && r.kind === "int";
    const num = (x: number): Value => {
      if (bothInt && !Number.isSafeInteger(x)) return fail(`integer overflow in '${expr.op}'`);
      if (!Number.isFinite(x))
        return fail(`float overflow in '${expr.op}': ${a} ${expr.op} ${b} is not a finite number`);
      return { kind: bothInt ? "int" : "float", value: x };
    };
    switch (expr.op) {
      case "+":
        return num(a + b);
      case "-":
        return num(a - b);
      case "*":
        return num(a * b);
      case "/":
        if (b === 0) return fail("division by zero");
        if (bothInt && a % b !== 0) return fail(`${a} is not divisible by ${b}`);
        return num(a / b);
      case "%":
        if (!bothInt) return fail("'%' needs integers");
        if (b === 0) return fail("division by zero");
        return num(a % b);
      case "==":
        return { kind: "bool", value: a === b };
      case "!=":
        return { kind: "bool", value: a !== b };
      case "<":
        return { kind: "bool", value: a < b };
      case "<=":
        return { kind: "bool", value: a <= b };
      case ">":
        return { kind: "bool", value: a > b };
      case ">=":
        return { kind: "bool", value: a >= b };
      default:
        return fail();
    }
  }
  if (l.kind === "bool" && r.kind === "bool") {
    if (expr.op === "&&") return { kind: "bool", value: l.value && r.value };
    if (expr.op === "||") return { kind: "bool", value: l.value || r.value };
    if (expr.op === "==") return { kind: "bool", value: l.value === r.value };
    if (expr.op === "!=") return { kind: "bool", value: l.value !== r.value };
  }
  if ((l.kind === "string" && r.kind === "string") || (l.kind === "act" && r.kind === "act")) {
    if (expr.op === "==") return { kind: "bool", value: l.value === r.value };
    if (expr.op === "!=") return { kind: "bool", value: l.value !== r.value };
  }
  return fail();
}

export function evalRepeat(
  el: Elaborator,
  expr: Expr & { kind: "Repeat" },
  env: Env,
  context: "body" | "forward",
  path?: string,
): Value {
  if (context !== "body" || path === undefined) {
    el.bag.error(
      expr.span,
      "`repeat` must be bound to a name in a layer body, e.g. `blocks = repeat 4 { Block() }`",
    );
    return { kind: "error" };
  }
  const count = evalExpr(el, expr.count, env, context);
  if (count.kind === "error") return count;
  if (count.kind !== "int" || count.value < 1 || count.value > LIMITS.maxRepeat) {
    report(
      el,
      expr.count.span,
      count.kind === "int"
        ? `repeat count must be between 1 and ${LIMITS.maxRepeat}, got ${count.value}`
        : `repeat count must be an int, got ${describe(count)}`,
    );
    return { kind: "error" };
  }
  const items: Instance[] = [];
  for (let i = 0; i < count.value; i++) {
    const inner = env.child();
    if (expr.index) inner.vars.set(expr.index.name, { kind: "int", value: i });
    const v = evalExpr(el, expr.body, inner, context, `${path}.${i}`);
    if (v.kind === "error") return v;
    if (v.kind !== "instance") {
      el.bag.error(
        expr.body.span,
        `the body of \`repeat\` must create a layer, got ${describe(v)}`,
      );
      return { kind: "error" };
    }
    items.push(v.instance);
  }
  return { kind: "stack", path, items };
}

export function evalField(
  el: Elaborator,
  object: Expr,
  property: Identifier,
  env: Env,
  context: "body" | "forward",
): Value {
  const base = evalExpr(el, object, env, context);
  if (base.kind === "error") return base;
  if (base.kind === "stack") {
    const index = Number(property.name);
    const item = Number.isInteger(index) ? base.items[index] : undefined;
    if (!item) {
      el.bag.error(
        property.span,
        `'${base.path}' has ${base.items.length} layers; index ${property.name} is out of range`,
      );
      return { kind: "error" };
    }
    return { kind: "instance", instance: item };
  }
  if (base.kind === "instance" && base.instance.env) {
    const v = base.instance.env.vars.get(property.name);
    if (v) return v;
    el.bag.error(
      property.span,
      `'${base.instance.path}' has no member '${property.name}'${suggest(property.name, [...base.instance.env.vars.keys()])}`,
    );
    return { kind: "error" };
  }
  if (base.kind === "instance") {
    const v = base.instance.args.get(property.name);
    if (v) return v;
  }
  el.bag.error(property.span, `${describe(base)} has no member '${property.name}'`);
  return { kind: "error" };
}

export function evalCall(
  el: Elaborator,
  expr: Expr & { kind: "Call" },
  env: Env,
  context: "body" | "forward",
  path?: string,
): Value {
  const callee = evalExpr(el, expr.callee, env, context);
  if (callee.kind === "error") return callee;
  if (callee.kind === "callable" && callee.target.kind !== "function") {
    if (context !== "body" || path === undefined) {
      el.bag.error(
        expr.span,
        context === "forward"
          ? "layers are declared in the layer body and called in forward; declare this one as `name = ...` outside forward"
          : "a layer must be bound to a name, e.g. `proj = Linear(dim, dim)`",
      );
      return { kind: "error" };
    }
    const instance = instantiate(el, callee.target, expr.args, path, expr.span, env);
    return instance ? { kind: "instance", instance } : { kind: "error" };
  }
  if (context !== "forward") {
    el.bag.error(expr.span, `${describe(callee)} can only be called inside forward`);
    return { kind: "error" };
  }
  for (const arg of expr.args) {
    if (arg.name && callee.kind !== "callable") {
      el.bag.error(arg.name.span, "named arguments are only allowed when creating a layer");
      return { kind: "error" };
    }
  }
  const args = expr.args.map((a) => evalExpr(el, a.value, env, context));
  if (args.some((a) => a.kind === "error")) return { kind: "error" };
  switch (callee.kind) {
    case "callable":
      return callFunction(
        el,
        callee.target.kind === "function" ? callee.target.name : "split",
        args,
        expr,
        env,
      );
    case "act":
      // `silu(x)`: an activation (a built-in name or an `act` hyper-parameter) applied in forward.
      return callFunction(el, callee.value, args, expr, env);
    case "instance":
      return callInstance(el, callee.instance, args, expr.span);
    case "stack": {
      let current = args;
      for (const item of callee.items) {
        const out = callInstance(el, item, current, expr.span);
        if (out.kind === "error") return out;
        current = [out];
      }
      return current[0]!;
    }
    default:
      el.bag.error(expr.callee.span, `${describe(callee)} is not callable`);
      return { kind: "error" };
  }
}

export function callFunction(
  el: Elaborator,
  name: string,
  args: Value[],
  expr: Expr & { kind: "Call" },
  env: Env,
): Value {
  const arity = name === "split" || name === "join" ? 2 : 1;
  if (args.length !== arity) {
    el.bag.error(
      expr.span,
      `${name} takes ${arity} argument${arity > 1 ? "s" : ""}, got ${args.length}`,
    );
    return { kind: "error" };
  }
  const x = args[0]!;
  if (x.kind !== "tensor") {
    el.bag.error(expr.args[0]!.span, `${name} expects a tensor, got ${describe(x)}`);
    return { kind: "error" };
  }
  if (name === "split" || name === "join") {
    const h = args[1]!;
    if (h.kind !== "int" || h.value < 1) {
      report(
        el,
        expr.args[1]!.span,
        `${name} expects a positive int number of heads, got ${describe(h)}`,
      );
      return { kind: "error" };
    }
    return tensorOp(el, name, [x.value], { heads: h.value }, env, expr.span);
  }
  return tensorOp(el, "activation", [x.value], { fn: name as Activation }, env, expr.span);
}

/** Adds an op inside forward code, reporting shape errors at the expression. */
/**
 * Arithmetic with tensors: `a + b`, `a - b`, `a * b` of one shape; `g * x` with a per-row factor
 * g of shape [N, 1]; a tensor times, or divided by, a number.
 */
function tensorArithmetic(
  el: Elaborator,
  expr: Expr & { kind: "Binary" },
  l: Value,
  r: Value,
  env: Env,
  fail: (why?: string) => Value,
): Value {
  const span = expr.span;
  const number = (v: Value) => (v.kind === "int" || v.kind === "float" ? v.value : undefined);
  if (l.kind === "tensor" && r.kind === "tensor") {
    if (expr.op === "*") {
      const column = (v: number) => el.builder.type(v).shape[1] === 1;
      const [lc, rc] = [column(l.value), column(r.value)];
      if (lc !== rc) {
        const [x, s] = lc ? [r.value, l.value] : [l.value, r.value];
        return tensorOp(el, "scale_rows", [x, s], {}, env, span);
      }
    }
    const op = ({ "+": "add", "-": "sub", "*": "mul" } as const)[expr.op as "+" | "-" | "*"];
    return op ? tensorOp(el, op, [l.value, r.value], {}, env, span) : fail();
  }
  const [t, n] =
    l.kind === "tensor" ? [l.value, number(r)] : [(r as { value: number }).value, number(l)];
  if (n === undefined) return fail();
  if (expr.op === "*") return tensorOp(el, "scale", [t], { factor: n }, env, span);
  if (expr.op === "/" && l.kind === "tensor") {
    if (n === 0) return fail("division by zero");
    return tensorOp(el, "scale", [t], { factor: 1 / n }, env, span);
  }
  return fail();
}

export function tensorOp<K extends OpName>(
  el: Elaborator,
  op: K,
  inputs: number[],
  attrs: OpAttrs[K],
  env: Env,
  span: Span,
  scope = "",
): Value {
  try {
    const [out] = addNode(el, op, inputs, attrs, scope || scopeOf(env), span);
    return { kind: "tensor", value: out! };
  } catch (e) {
    if (e instanceof ShapeError) {
      report(el, span, e.message);
      return { kind: "error" };
    }
    throw e;
  }
}
