// Command-line hyper-parameter overrides (`--set name=value`) of the model.
import type { Definition } from "../../grammar/ast.js";
import { ACTIVATIONS, type Activation } from "../ir/ops.js";
import type { Value } from "../values.js";
import type { Elaborator } from "./context.js";
import { COMMAND_LINE } from "./report.js";
import { suggest } from "./suggest.js";

export function parseOverrides(
  el: Elaborator,
  def: Definition,
  overrides: readonly string[],
): Map<string, Value> {
  const out = new Map<string, Value>();
  const names = def.params.map((p) => p.name.name);
  // Command-line problems have no source line; a note shows the declaration they are about.
  const declaredHere = {
    message:
      names.length > 0
        ? `'${def.name.name}' is declared here; its hyper-parameters are ${names.join(", ")}`
        : `'${def.name.name}' is declared here, without hyper-parameters`,
    span: def.name.span,
  };
  for (const text of overrides) {
    const eq = text.indexOf("=");
    if (eq < 0) {
      const param = def.params.find((p) => p.name.name === text.trim());
      el.bag.error(COMMAND_LINE, `--set expects name=value, got '${text}'`, [
        param
          ? { message: `'${param.name.name}' is declared ${param.type} here`, span: param.span }
          : declaredHere,
      ]);
      continue;
    }
    const name = text.slice(0, eq).trim();
    const raw = text.slice(eq + 1).trim();
    const param = def.params.find((p) => p.name.name === name);
    if (!param) {
      el.bag.error(
        COMMAND_LINE,
        `'${def.name.name}' has no hyper-parameter '${name}'${suggest(name, names)}`,
        [declaredHere],
      );
      continue;
    }
    const value = parseLiteral(raw, param.type);
    if (value === undefined)
      el.bag.error(COMMAND_LINE, `--set ${name}: '${raw}' is not a valid ${param.type}`, [
        { message: `'${name}' is declared ${param.type} here`, span: param.span },
      ]);
    else out.set(name, value);
  }
  return out;
}

export function parseLiteral(raw: string, type: string): Value | undefined {
  switch (type) {
    case "int":
      return /^-?\d+$/.test(raw) && Number.isSafeInteger(Number(raw))
        ? { kind: "int", value: Number(raw) }
        : undefined;
    case "float":
      return raw !== "" && Number.isFinite(Number(raw))
        ? { kind: "float", value: Number(raw) }
        : undefined;
    case "bool":
      return raw === "true" || raw === "false"
        ? { kind: "bool", value: raw === "true" }
        : undefined;
    case "act":
      return (ACTIVATIONS as readonly string[]).includes(raw)
        ? { kind: "act", value: raw as Activation }
        : undefined;
    case "string":
      return { kind: "string", value: raw };
    default:
      return undefined;
  }
}
