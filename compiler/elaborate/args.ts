// Arguments and paths: the typed view of bound arguments, where an argument was written, and the
// weight-name path of an instance.
import type { Argument, HyperParam, Span } from "../../grammar/ast.js";
import type { Args } from "../builtins.js";
import type { Activation } from "../ir/ops.js";
import type { Env, Value } from "../values.js";

export function argsView(bound: ReadonlyMap<string, Value>): Args {
  const get = (name: string) => bound.get(name) as { value: unknown } | undefined;
  return {
    int: (n) => get(n)?.value as number,
    float: (n) => get(n)?.value as number,
    bool: (n) => get(n)?.value as boolean,
    string: (n) => get(n)?.value as string,
    act: (n) => get(n)?.value as Activation,
  };
}

export function argSpan(
  args: readonly Argument[],
  params: readonly { name: string }[],
  name: string,
): Span | undefined {
  const named = args.find((a) => a.name?.name === name);
  if (named) return named.value.span;
  const index = params.findIndex((p) => p.name === name);
  const positional = args.filter((a) => !a.name);
  return positional[index]?.value.span;
}

/** The argument bound to a user definition's hyper-parameter, if it was written in a call. */
export function argSpanOf(
  args: Map<string, Value> | readonly Argument[],
  params: readonly HyperParam[],
  name: string,
): Span | undefined {
  if (args instanceof Map) return undefined;
  return argSpan(
    args,
    params.map((p) => ({ name: p.name.name })),
    name,
  );
}

export function joinPath(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

export function scopeOf(env: Env): string {
  return env.path;
}

export function namesIn(env: Env | undefined): string[] {
  const out: string[] = [];
  for (let e = env; e; e = e.parent) out.push(...e.vars.keys());
  return out;
}
