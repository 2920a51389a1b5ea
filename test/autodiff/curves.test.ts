// runtime/train/curves.ts: the training-curves SVG holds labelled axes, one line per series with
// its points placed by the data (a higher loss is drawn higher), validation dots, a legend entry
// per MoE layer, and escapes text.
import { describe, expect, it } from "vitest";
import { curvesSvg } from "../../runtime/train/curves.js";

const steps = [1, 2, 3, 4].map((step) => ({
  step,
  ce: 5 - step / 2,
  activation: { "lm.blocks.1.ffn.router": step / 4, "lm.blocks.3.ffn.router": 0.5 },
}));
const svg = curvesSvg({
  title: "LM <tiny> & co",
  steps,
  validation: [
    { step: 2, ce: 4.2 },
    { step: 4, ce: 3.9 },
  ],
});

function polylines(text: string): [number, number][][] {
  return [...text.matchAll(/<polyline points="([^"]+)"/g)].map((m) =>
    m[1]!.split(" ").map((p) => p.split(",").map(Number) as [number, number]),
  );
}

describe("curvesSvg", () => {
  it("labels both panels' axes and escapes the title", () => {
    expect(svg.startsWith("<svg xmlns=")).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg).toContain(">LM &lt;tiny&gt; &amp; co</text>");
    for (const label of ["Cross-entropy", "nats per byte", "Expert activation per MoE layer"])
      expect(svg).toContain(`>${label}</text>`);
    expect(svg.match(/>step<\/text>/g)).toHaveLength(2);
    for (const legend of ["training", "validation", "block 1", "block 3"])
      expect(svg).toContain(`>${legend}</text>`);
    expect(svg).toMatch(/>100<\/text>/);
  });

  it("draws each series with one point per step, higher values higher up", () => {
    const [train, validation, block1, block3] = polylines(svg);
    expect(train).toHaveLength(4);
    expect(validation).toHaveLength(2);
    expect(block1).toHaveLength(4);
    expect(block3).toHaveLength(4);
    // x grows with the step; SVG y grows downwards, so a falling loss has rising y.
    for (let i = 1; i < 4; i++) {
      expect(train![i]![0]).toBeGreaterThan(train![i - 1]![0]);
      expect(train![i]![1]).toBeGreaterThan(train![i - 1]![1]);
      expect(block1![i]![1]).toBeLessThan(block1![i - 1]![1]);
    }
    // Equal activation draws a flat line; validation points get dots.
    expect(new Set(block3!.map((p) => p[1])).size).toBe(1);
    expect(svg.match(/<circle /g)).toHaveLength(2);
    expect(svg).not.toMatch(/NaN|Infinity/);
  });

  it("draws a single step as a dot and a flat loss without a zero-height range", () => {
    const one = curvesSvg({
      title: "one",
      steps: [{ step: 1, ce: 2, activation: {} }],
      validation: [{ step: 1, ce: 2 }],
    });
    expect(one).not.toMatch(/NaN|Infinity/);
    expect(one.match(/<circle /g)).toHaveLength(2);
  });
});
