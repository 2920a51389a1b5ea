// Arithmetic on tensors in forward: `a - b`, a tensor times or divided by a number, `-x`, and a
// per-row gate `g * x` (g: f32[T, 1]); each lowered to its op and evaluated by the float64
// reference against the same formula written out here. Operands that do not fit are errors
// at the expression.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compileToIR } from "../../compiler/index.js";
import { runReference } from "../../compiler/ir/interpret.js";
import { nodeHost } from "../../compiler/node/host.js";
import { randomRef } from "../autodiff/gradcheck.js";

const dir = mkdtempSync(path.join(tmpdir(), "moec-arith-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function lower(body: string) {
  const file = path.join(dir, `m${Math.random().toString(36).slice(2)}.moe`);
  writeFileSync(
    file,
    `model M(dim: int = 6) {\n  forward(a: f32[T, dim], b: f32[T, dim], g: f32[T, 1]) -> y: f32[T, dim] {\n    return ${body}\n  }\n}\n`,
  );
  return compileToIR(file, nodeHost, {});
}

describe("tensor arithmetic in forward", () => {
  it("a - b, 0.5 * a, a / 4, -b and g * a evaluate as written", () => {
    const result = lower("(a - b) + 0.5 * a + a / 4 + -b + g * a + b * 2");
    expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const graph = result.graph!;
    expect(graph.nodes.map((n) => n.op)).toEqual(
      expect.arrayContaining(["sub", "scale", "scale_rows", "add"]),
    );
    const [a, b, g] = [randomRef([5, 6], 1), randomRef([5, 6], 2), randomRef([5, 1], 3)];
    const y = runReference(
      graph,
      new Map([
        ["a", a],
        ["b", b],
        ["g", g],
      ]),
      new Map(),
    ).outputs.get("y")!;
    const want = a.data.map((av, i) => {
      const bv = b.data[i]!;
      return av - bv + 0.5 * av + av / 4 - bv + g.data[Math.floor(i / 6)]! * av + bv * 2;
    });
    y.data.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));
  });

  it.each([
    ["a / b", "cannot apply '/'"],
    ["2 / a", "cannot apply '/'"],
    ["a / 0", "division by zero"],
    ["a - g", "cannot subtract"],
  ])("%s is an error at the expression", (body, message) => {
    const result = lower(body);
    expect(result.graph).toBeUndefined();
    expect(result.diagnostics.map((d) => d.message).join("\n")).toContain(message);
  });
});
