// The canonical text dump of an AST (the golden-file format): one node per line, children
// indented by two spaces, each line ending in its span `@line:col-endCol` (or `-endLine:endCol`).
import type * as A from "./ast.js";

export function printAst(file: A.SourceFile): string {
  const lines: string[] = [];
  const emit = (depth: number, text: string, span: A.Span): void => {
    lines.push(`${"  ".repeat(depth)}${text} ${at(span)}`);
  };

  const expr = (e: A.Expr, d: number): void => {
    switch (e.kind) {
      case "Int":
      case "Float":
        return emit(d, `${e.kind} ${e.text}`, e.span);
      case "Bool":
        return emit(d, `Bool ${e.value}`, e.span);
      case "String":
        return emit(d, `String ${JSON.stringify(e.value)}`, e.span);
      case "Identifier":
        return emit(d, `Identifier ${e.name}`, e.span);
      case "Unary":
        emit(d, `Unary ${e.op}`, e.span);
        return expr(e.operand, d + 1);
      case "Binary":
        emit(d, `Binary ${e.op}`, e.span);
        expr(e.left, d + 1);
        return expr(e.right, d + 1);
      case "Conditional":
        emit(d, "Conditional", e.span);
        [e.condition, e.then, e.otherwise].forEach((c) => expr(c, d + 1));
        return;
      case "Call":
        emit(d, "Call", e.span);
        expr(e.callee, d + 1);
        for (const a of e.args) {
          emit(d + 1, a.name ? `Arg ${a.name.name}` : "Arg", a.span);
          expr(a.value, d + 2);
        }
        return;
      case "FieldAccess":
        emit(d, `FieldAccess .${e.property.name}`, e.span);
        return expr(e.object, d + 1);
      case "Repeat":
        emit(d, e.index ? `Repeat as ${e.index.name}` : "Repeat", e.span);
        expr(e.count, d + 1);
        return expr(e.body, d + 1);
    }
  };

  const tensor = (role: string, t: A.TensorDecl, d: number) => {
    emit(d, `${role} ${t.name.name}`, t.span);
    emit(d + 1, `TensorType ${t.type.dtype}`, t.type.span);
    t.type.dims.forEach((dim) => expr(dim, d + 2));
  };

  const member = (m: A.Member, d: number): void => {
    switch (m.kind) {
      case "Binding":
        emit(d, `Binding ${m.name.name}`, m.span);
        return expr(m.value, d + 1);
      case "Requirement":
        emit(d, "Require", m.span);
        expr(m.condition, d + 1);
        if (m.message) expr(m.message, d + 1);
        return;
      case "Forward":
        emit(d, "Forward", m.span);
        m.inputs.forEach((t) => tensor("Input", t, d + 1));
        m.outputs.forEach((t) => tensor("Output", t, d + 1));
        for (const s of m.body) {
          if (s.kind === "Assign") {
            emit(d + 1, `Assign ${s.name.name}`, s.span);
            expr(s.value, d + 2);
          } else {
            emit(d + 1, "Return", s.span);
            s.values.forEach((v) => expr(v, d + 2));
          }
        }
        return;
    }
  };

  // The file's path is left out so dumps are the same on every machine.
  emit(0, "File", file.span);
  for (const i of file.imports) emit(1, `Import ${JSON.stringify(i.path)}`, i.span);
  for (const def of file.definitions) {
    emit(1, `Definition ${def.role} ${def.name.name}`, def.span);
    for (const p of def.params) {
      emit(2, `Param ${p.name.name}: ${p.type}`, p.span);
      if (p.default) expr(p.default, 3);
    }
    def.members.forEach((m) => member(m, 2));
  }
  for (const c of file.comments) emit(1, `Comment ${c.kind} ${JSON.stringify(c.text)}`, c.span);
  return lines.join("\n") + "\n";
}

function at(s: A.Span): string {
  const end = s.endLine === s.line ? `${s.endColumn}` : `${s.endLine}:${s.endColumn}`;
  return `@${s.line}:${s.column}-${end}`;
}
