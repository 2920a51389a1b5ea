// Checks on the text of every loaded file, independent of the model built: names declared twice,
// shadowed built-ins, and unused hyper-parameters and values.
import type { Expr, Forward, Identifier } from "../../grammar/ast.js";
import type { DiagnosticBag } from "../../grammar/diagnostics.js";
import { BUILTIN_LAYERS } from "../builtins.js";
import { ACTIVATIONS } from "../ir/ops.js";
import type { LoadedProgram } from "../sources.js";

/**
 * Checks on the text of every loaded file: names declared twice in one parameter list or forward
 * signature, and definitions that shadow a built-in.
 */
export function checkDeclarations(program: LoadedProgram, bag: DiagnosticBag): void {
  const once = (names: readonly Identifier[], what: string, owner: string): void => {
    const first = new Map<string, Identifier>();
    for (const id of names) {
      const previous = first.get(id.name);
      if (previous) {
        bag.error(id.span, `${what} '${id.name}' of '${owner}' is declared twice`, [
          { message: `first declaration of '${id.name}'`, span: previous.span },
        ]);
      } else first.set(id.name, id);
    }
  };
  for (const file of program.files.values()) {
    for (const def of file.definitions) {
      const owner = def.name.name;
      once(
        def.params.map((p) => p.name),
        "hyper-parameter",
        owner,
      );
      for (const m of def.members) {
        if (m.kind !== "Forward") continue;
        once(
          m.inputs.map((i) => i.name),
          "forward input",
          owner,
        );
        // An unnamed output is called `y` (its name's span is its type's); only written names count.
        once(
          m.outputs
            .filter((o) => o.name.span.startOffset !== o.type.span.startOffset)
            .map((o) => o.name),
          "forward output",
          owner,
        );
      }
      const builtin = BUILTIN_LAYERS.has(owner)
        ? `the built-in layer ${owner}`
        : (ACTIVATIONS as readonly string[]).includes(owner)
          ? `the activation ${owner}`
          : owner === "split" || owner === "join"
            ? `the built-in function ${owner}`
            : undefined;
      if (builtin)
        bag.warning(
          def.name.span,
          `'${owner}' shadows ${builtin}: in files that see this definition, '${owner}' means this ${def.role}`,
        );
    }
  }
}

/** Warns about hyper-parameters and bindings a definition never uses (checked on the text). */
export function warnUnused(program: LoadedProgram, bag: DiagnosticBag): void {
  for (const file of program.files.values()) {
    for (const def of file.definitions) {
      const used = new Set<string>();
      const visit = (e: Expr | undefined): void => {
        if (!e) return;
        switch (e.kind) {
          case "Identifier":
            used.add(e.name);
            return;
          case "Unary":
            return visit(e.operand);
          case "Binary":
            visit(e.left);
            return visit(e.right);
          case "Conditional":
            visit(e.condition);
            visit(e.then);
            return visit(e.otherwise);
          case "Repeat":
            visit(e.count);
            return visit(e.body);
          case "FieldAccess":
            return visit(e.object);
          case "Call":
            visit(e.callee);
            return e.args.forEach((a) => visit(a.value));
          default:
            return;
        }
      };
      def.params.forEach((p) => visit(p.default));
      for (const m of def.members) {
        if (m.kind === "Binding") visit(m.value);
        else if (m.kind === "Requirement") visit(m.condition);
        else {
          m.inputs.forEach((i) => i.type.dims.forEach(visit));
          m.outputs.forEach((o) => o.type.dims.forEach(visit));
          const assigned = new Map<string, Identifier>();
          for (const s of m.body) {
            if (s.kind === "Assign") {
              visit(s.value);
              assigned.set(s.name.name, s.name);
            } else s.values.forEach(visit);
          }
          for (const [name, id] of assigned) {
            if (!usedIn(m, name)) bag.warning(id.span, `value '${name}' is never used`);
          }
        }
      }
      for (const p of def.params) {
        if (!used.has(p.name.name))
          bag.warning(
            p.name.span,
            `hyper-parameter '${p.name.name}' of '${def.name.name}' is never used`,
          );
      }
      for (const m of def.members) {
        if (m.kind === "Binding" && !used.has(m.name.name))
          bag.warning(m.name.span, `'${m.name.name}' in '${def.name.name}' is never used`);
      }
    }
  }
}

export function usedIn(forward: Forward, name: string): boolean {
  let found = false;
  const visit = (e: Expr): void => {
    if (found) return;
    if (e.kind === "Identifier") found = e.name === name;
    else if (e.kind === "Unary") visit(e.operand);
    else if (e.kind === "Binary") [e.left, e.right].forEach(visit);
    else if (e.kind === "Conditional") [e.condition, e.then, e.otherwise].forEach(visit);
    else if (e.kind === "FieldAccess") visit(e.object);
    else if (e.kind === "Call") [e.callee, ...e.args.map((a) => a.value)].forEach(visit);
  };
  for (const s of forward.body) (s.kind === "Assign" ? [s.value] : s.values).forEach(visit);
  return found;
}
