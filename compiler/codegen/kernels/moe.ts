// The unfused MoE kernels: router, capacity, experts (gathering rows by expert id), combine and
// routing statistics. Straightforward by design: they are the -O0 baseline and a second oracle.
import type { Admission } from "../../../plan/capacity.js";
import type { Node } from "../../ir/graph.js";
import { COSINE_EPS, GROUPED_RENORM_EPS, MIN_TEMPERATURE } from "../../ir/ops.js";
import { constantSize, dimSize, shapeSize } from "../../../plan/size.js";
import { f32Literal as f, i32Literal as i32, u32Literal as u } from "../wgsl.js";
import { type EmitContext, type EmittedKernel, KernelWriter, staticDim } from "./common.js";
import { activationFunction } from "./math.js";

/**
 * One invocation per row: softmax over the experts, then k selection passes; a strict `>` over
 * ascending expert ids makes ties go to the lower index. Gates are the chosen probabilities,
 * renormalised over the k for "renorm" and "softmax_topk" (the same thing); sigmoid gating
 * selects on sigmoid(logit) and uses it as the gate.
 */
export function emitRoute(node: Node<"route">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { topK, gating } = node.attrs;
  const [n, ew] = w.type(node.inputs[0]!).shape;
  const e = staticDim(ew, "expert count");
  const logits = w.input("logits", node.inputs[0]!);
  const [expert, gate, probs] = ["expert", "gate", "probs"].map((name, k) =>
    w.output(name, node.outputs[k]!),
  );
  w.perItem(dimSize(n!), (r) => {
    w.b.line(`let base = ${r} * ${u(e)};`);
    w.b.line(`let out = ${r} * ${u(topK)};`);
    softmaxRow(w, logits!, probs!, e);
    w.b.line(`var kept = ${f(0)};`);
    w.b.block(`for (var j = 0u; j < ${u(topK)}; j++)`, () => {
      w.b.line(`var best = ${i32(-1)};`);
      w.b.line(`var best_key = ${f(0)};`);
      w.b.line(`var best_p = ${f(0)};`);
      w.b.block(`for (var c = 0u; c < ${u(e)}; c++)`, () => {
        w.b.line("var taken = false;");
        w.b.block("for (var jj = 0u; jj < j; jj++)", () => {
          w.b.line(`taken = taken || ${expert}[out + jj] == i32(c);`);
        });
        // Sigmoid gating selects on the logits (sigmoid's order; sigmoid saturates in f32).
        w.b.line(`let p = ${gating === "sigmoid" ? logits : probs}[base + c];`);
        // NaN ranks below every number (rank_key): a NaN row picks valid, distinct experts.
        w.b.line(`let key = ${w.b.rankKey("p")};`);
        w.b.block(`if (!taken && (best < ${i32(0)} || key > best_key))`, () => {
          w.b.line("best = i32(c);");
          w.b.line("best_key = key;");
          w.b.line("best_p = p;");
        });
      });
      w.b.line(`${expert}[out + j] = best;`);
      w.b.line(`${gate}[out + j] = best_p;`);
      w.b.line("kept += best_p;");
    });
    if (gating === "renorm" || gating === "softmax_topk") {
      w.b.block(`for (var j = 0u; j < ${u(topK)}; j++)`, () => {
        w.b.line(`${gate}[out + j] = ${gate}[out + j] / kept;`);
      });
    }
    if (gating === "sigmoid") sigmoidGates(w, gate, topK);
  });
  return w.finish(gating === "sigmoid" ? "route_sigmoid" : "route");
}

/**
 * DeepSeek-V3 routing, one invocation per row: sigmoid scores plus the selection bias in a local
 * array; with groups, each group's two best summed, all but the best `topkGroups` groups zeroed;
 * then k selection passes like emitRoute's (ties to the lower index, NaN last). Gates are the
 * chosen sigmoid scores, renormalised and scaled. `probs` is the softmax, for the statistics.
 */
export function emitRouteGrouped(node: Node<"route_grouped">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { topK, groups, topkGroups, renorm, scale } = node.attrs;
  const [n, ew] = w.type(node.inputs[0]!).shape;
  const e = staticDim(ew, "expert count");
  const size = e / groups;
  const logits = w.input("logits", node.inputs[0]!);
  const bias = node.inputs[1] === undefined ? undefined : w.input("bias", node.inputs[1]);
  const [expert, gate, probs] = ["expert", "gate", "probs"].map((name, k) =>
    w.output(name, node.outputs[k]!),
  );
  const rank = (x: string) => w.b.rankKey(x);
  /** `count` passes picking the best not-yet-taken c in [0, length) by key(c) into into(j). */
  const selectTop = (
    key: (c: string) => string,
    count: number,
    length: number,
    into: (j: string) => string,
  ) => {
    w.b.block(`for (var j = 0u; j < ${u(count)}; j++)`, () => {
      w.b.line(`var best = ${i32(-1)};`);
      w.b.line(`var best_key = ${f(0)};`);
      w.b.block(`for (var c = 0u; c < ${u(length)}; c++)`, () => {
        w.b.line("var taken = false;");
        w.b.block("for (var jj = 0u; jj < j; jj++)", () => {
          w.b.line(`taken = taken || ${into(`jj`)} == i32(c);`);
        });
        w.b.line(`let key = ${rank(key("c"))};`);
        w.b.block(`if (!taken && (best < ${i32(0)} || key > best_key))`, () => {
          w.b.line("best = i32(c);");
          w.b.line("best_key = key;");
        });
      });
      w.b.line(`${into("j")} = best;`);
    });
  };
  w.perItem(dimSize(n!), (r) => {
    w.b.line(`let base = ${r} * ${u(e)};`);
    w.b.line(`let out = ${r} * ${u(topK)};`);
    softmaxRow(w, logits, probs, e);
    w.b.line(`var choice: array<f32, ${e}>;`);
    w.b.block(`for (var c = 0u; c < ${u(e)}; c++)`, () => {
      const b = bias ? ` + ${bias}[c]` : "";
      w.b.line(`choice[c] = ${f(1)} / (${f(1)} + exp(-${logits}[base + c]))${b};`);
    });
    if (groups > 1) {
      w.b.line(`var group_score: array<f32, ${groups}>;`);
      w.b.block(`for (var g = 0u; g < ${u(groups)}; g++)`, () => {
        w.b.line(`var top: array<i32, 2>;`);
        selectTop(
          (c) => `choice[g * ${u(size)} + ${c}]`,
          2,
          size,
          (j) => `top[${j}]`,
        );
        w.b.line(
          `group_score[g] = choice[g * ${u(size)} + u32(top[0])] + choice[g * ${u(size)} + u32(top[1])];`,
        );
      });
      w.b.line(`var kept_groups: array<i32, ${topkGroups}>;`);
      selectTop(
        (c) => `group_score[${c}]`,
        topkGroups,
        groups,
        (j) => `kept_groups[${j}]`,
      );
      w.b.block(`for (var c = 0u; c < ${u(e)}; c++)`, () => {
        w.b.line("var kept = false;");
        w.b.block(`for (var g = 0u; g < ${u(topkGroups)}; g++)`, () => {
          w.b.line(`kept = kept || u32(kept_groups[g]) == c / ${u(size)};`);
        });
        w.b.line("// Other groups' experts score 0, not -inf, as in the reference code.");
        w.b.line(`if (!kept) { choice[c] = ${f(0)}; }`);
      });
    }
    selectTop(
      (c) => `choice[${c}]`,
      topK,
      e,
      (j) => `${expert}[out + ${j}]`,
    );
    w.b.line(`var kept_sum = ${f(0)};`);
    w.b.block(`for (var j = 0u; j < ${u(topK)}; j++)`, () => {
      w.b.line(`let s = ${f(1)} / (${f(1)} + exp(-${logits}[base + u32(${expert}[out + j])]));`);
      w.b.line(`${gate}[out + j] = s;`);
      w.b.line("kept_sum += s;");
    });
    const divisor = renorm ? ` / (kept_sum + ${f(GROUPED_RENORM_EPS)})` : "";
    w.b.block(`for (var j = 0u; j < ${u(topK)}; j++)`, () => {
      w.b.line(`${gate}[out + j] = ${gate}[out + j]${divisor} * ${f(scale)};`);
    });
  });
  return w.finish("route_grouped");
}

/** probs[base..base+e) = softmax(logits[base..base+e)), max-subtracted like the reference. */
function softmaxRow(w: KernelWriter, logits: string, probs: string, e: number): void {
  w.b.line(`var m = ${logits}[base];`);
  w.b.block(`for (var c = 1u; c < ${u(e)}; c++)`, () =>
    w.b.line(`m = max(m, ${logits}[base + c]);`),
  );
  w.b.line(`var sum = ${f(0)};`);
  w.b.block(`for (var c = 0u; c < ${u(e)}; c++)`, () => {
    w.b.line(`let p = exp(${logits}[base + c] - m);`);
    w.b.line(`${probs}[base + c] = p;`);
    w.b.line("sum += p;");
  });
  w.b.block(`for (var c = 0u; c < ${u(e)}; c++)`, () => {
    w.b.line(`${probs}[base + c] = ${probs}[base + c] / sum;`);
  });
}

/** Sigmoid gating: the k chosen logits at `out` become their sigmoid, in place. */
export function sigmoidGates(w: KernelWriter, gate: string, topK: number): void {
  w.b.block(`for (var j = 0u; j < ${u(topK)}; j++)`, () => {
    w.b.line(`${gate}[out + j] = ${f(1)} / (${f(1)} + exp(-${gate}[out + j]));`);
  });
}

/**
 * logits[r, e] = (h[r]·w[e]) / (max(|h[r]|, ε) · max(|w[e]|, ε) · max(τ, τ_min)): X-MoE's cosine
 * router over its learnable temperature; one invocation per (row, expert).
 */
export function emitCosineLogits(node: Node<"cosine_logits">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [hv, ev, tv] = node.inputs;
  const [e, r] = w.type(ev!).shape.map((d) => staticDim(d, "expert embedding dims")) as [
    number,
    number,
  ];
  const h = w.input("h", hv!);
  const emb = w.input("emb", ev!);
  const tau = w.input("tau", tv!);
  const logits = w.output("logits", node.outputs[0]!);
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`let hb = (${i} / ${u(e)}) * ${u(r)};`);
    w.b.line(`let eb = (${i} % ${u(e)}) * ${u(r)};`);
    w.b.line(`var dot = ${f(0)};`);
    w.b.line(`var hh = ${f(0)};`);
    w.b.line(`var ee = ${f(0)};`);
    w.b.block(`for (var k = 0u; k < ${u(r)}; k++)`, () => {
      w.b.line(`let hk = ${h}[hb + k];`);
      w.b.line(`let ek = ${emb}[eb + k];`);
      w.b.line("dot = fma(hk, ek, dot);");
      w.b.line("hh = fma(hk, hk, hh);");
      w.b.line("ee = fma(ek, ek, ee);");
    });
    const eps = f(COSINE_EPS);
    w.b.line(
      `${logits}[${i}] = dot / (max(sqrt(hh), ${eps}) * max(sqrt(ee), ${eps}) * max(${tau}[0], ${f(MIN_TEMPERATURE)}));`,
    );
  });
  return w.finish("cosine_logits");
}

/**
 * One invocation walks every assignment in admission order (rank-major: all first choices,
 * earlier rows first, then all second choices...; or token-major: row by row) and keeps the
 * first C of each expert; C comes from the uniform, computed on the host (plan/capacity.ts).
 */
export function emitCapacity(node: Node<"capacity">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [n, kw] = w.type(node.inputs[0]!).shape;
  const k = staticDim(kw, "top_k");
  const expert = w.input("expert", node.inputs[0]!);
  const gate = w.input("gate", node.inputs[1]!);
  const keptExpert = w.output("kept_expert", node.outputs[0]!);
  const keptGate = w.output("kept_gate", node.outputs[1]!);
  const rows = w.size([n!]);
  // One invocation: the official order is sequential by definition; -O2 parallelises it.
  w.singleWorkgroup(1, () => {
    w.b.line(`var load: array<u32, ${node.attrs.experts}>;`);
    w.b.line(`let capacity = ${w.nodeParam(node.id)};`);
    admissionLoops(w, node.attrs.admit, k, rows, () => {
      w.b.line(`let a = r * ${u(k)} + j;`);
      w.b.line(`let e = ${expert}[a];`);
      w.b.ifElse(
        `e >= ${i32(0)} && load[e] < capacity`,
        () => {
          w.b.line("load[e] += 1u;");
          w.b.line(`${keptExpert}[a] = e;`);
          w.b.line(`${keptGate}[a] = ${gate}[a];`);
        },
        () => {
          w.b.line(`${keptExpert}[a] = ${i32(-1)};`);
          w.b.line(`${keptGate}[a] = ${f(0)};`);
        },
      );
    });
  });
  return w.finish(node.attrs.admit === "token" ? "capacity_token_major" : "capacity");
}

/**
 * Loops over the assignments (r, j) in admission order, with `r` and `j` in scope of the body:
 * rank-major (j outer) or token-major (r outer).
 */
export function admissionLoops(
  w: KernelWriter,
  admit: Admission,
  k: number,
  rows: string,
  body: () => void,
): void {
  const ranks = `for (var j = 0u; j < ${u(k)}; j++)`;
  const tokens = `for (var r = 0u; r < ${rows}; r++)`;
  const [outer, inner] = admit === "token" ? [tokens, ranks] : [ranks, tokens];
  w.b.block(outer, () => w.b.block(inner, body));
}

/**
 * h[r, j, o] = act(x[r]·W1[e]ᵀ + b1[e]) (⊙ x[r]·Wup[e]ᵀ when gated) with e = expert[r, j];
 * one invocation per output element; a dropped assignment (e = -1) gives zeros.
 */
export function emitExpertUp(node: Node<"expert_up">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { act, gated, bias } = node.attrs;
  const [xv, ev, w1v, extra] = node.inputs;
  const [, hidden, width] = w.type(w1v!).shape.map((d) => staticDim(d, "expert weight dims"));
  const x = w.input("x", xv!);
  const expert = w.input("expert", ev!);
  const w1 = w.input("w1", w1v!);
  const wUp = gated ? w.input("w_up", extra!) : undefined;
  const b1 = bias ? w.input("b1", extra!) : undefined;
  const h = w.output("h", node.outputs[0]!);
  const fn = activationFunction(w.b, act);
  const [F, D] = [u(hidden!), u(width!)];
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`let slot = ${i} / ${F};`);
    w.b.line(`let o = ${i} % ${F};`);
    w.b.line(`let e = ${expert}[slot];`);
    w.b.block(`if (e < ${i32(0)})`, () => {
      w.b.line(`${h}[${i}] = ${f(0)};`);
      w.b.line("return;");
    });
    w.b.line(`let row = (slot / ${u(staticDim(w.type(ev!).shape[1], "top_k"))}) * ${D};`);
    w.b.line(`let wrow = (u32(e) * ${F} + o) * ${D};`);
    w.b.line(`var a = ${b1 ? `${b1}[u32(e) * ${F} + o]` : f(0)};`);
    if (wUp) w.b.line(`var up = ${f(0)};`);
    w.b.block(`for (var k = 0u; k < ${D}; k++)`, () => {
      w.b.line(`let xk = ${x}[row + k];`);
      w.b.line(`a += xk * ${w1}[wrow + k];`);
      if (wUp) w.b.line(`up += xk * ${wUp}[wrow + k];`);
    });
    w.b.line(`${h}[${i}] = ${fn}(a)${wUp ? " * up" : ""};`);
  });
  return w.finish(`expert_up_${act}${gated ? "_gated" : ""}`);
}

/** y[r, j, o] = gate[r, j] · (h[r, j]·W2[e]ᵀ + b2[e]); zeros for a dropped assignment. */
export function emitExpertDown(node: Node<"expert_down">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [hv, ev, gv, w2v, b2v] = node.inputs;
  const [, out, hidden] = w.type(w2v!).shape.map((d) => staticDim(d, "expert weight dims"));
  const h = w.input("h", hv!);
  const expert = w.input("expert", ev!);
  const gate = w.input("gate", gv!);
  const w2 = w.input("w2", w2v!);
  const b2 = node.attrs.bias ? w.input("b2", b2v!) : undefined;
  const y = w.output("y", node.outputs[0]!);
  const [O, F] = [u(out!), u(hidden!)];
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`let slot = ${i} / ${O};`);
    w.b.line(`let o = ${i} % ${O};`);
    w.b.line(`let e = ${expert}[slot];`);
    w.b.block(`if (e < ${i32(0)})`, () => {
      w.b.line(`${y}[${i}] = ${f(0)};`);
      w.b.line("return;");
    });
    w.b.line(`let wrow = (u32(e) * ${O} + o) * ${F};`);
    w.b.line(`var acc = ${b2 ? `${b2}[u32(e) * ${O} + o]` : f(0)};`);
    w.b.block(`for (var k = 0u; k < ${F}; k++)`, () => {
      w.b.line(`acc += ${h}[slot * ${F} + k] * ${w2}[wrow + k];`);
    });
    w.b.line(`${y}[${i}] = ${gate}[slot] * acc;`);
  });
  return w.finish("expert_down");
}

/** y[r, c] = Σ_j slots[r, j, c], summed in j order (deterministic, no atomics). */
export function emitCombine(node: Node<"combine">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [, kw, dw] = w.type(node.inputs[0]!).shape;
  const [k, d] = [staticDim(kw, "top_k"), staticDim(dw, "combine width")];
  const slots = w.input("slots", node.inputs[0]!);
  const y = w.output("y", node.outputs[0]!);
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`let base = (${i} / ${u(d)}) * ${u(k * d)} + ${i} % ${u(d)};`);
    w.b.line(`var acc = ${f(0)};`);
    w.b.block(`for (var j = 0u; j < ${u(k)}; j++)`, () => {
      w.b.line(`acc += ${slots}[base + j * ${u(d)}];`);
    });
    w.b.line(`${y}[${i}] = acc;`);
  });
  return w.finish("combine");
}

/**
 * Invocations 0..E-1 each own one expert (per-head counts of kept assignments, top-1 count of
 * the routed choices, probability sum in row order); invocations E..E+H-1 count each head's
 * dropped assignments. No atomics: every output has one writer, so results are deterministic.
 */
export function emitRouteStats(node: Node<"route_stats">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { experts, heads } = node.attrs;
  const [n, kw] = w.type(node.inputs[1]!).shape;
  const k = staticDim(kw, "top_k");
  const routed = w.input("routed", node.inputs[0]!);
  const kept = w.input("kept", node.inputs[1]!);
  const probs = w.input("probs", node.inputs[2]!);
  const [counts, top1, probSum, dropped] = ["counts", "top1", "prob_sum", "dropped"].map(
    (name, j) => w.output(name, node.outputs[j]!),
  );
  const rows = w.size([n!]);
  const [E, H, K] = [u(experts), u(heads), u(k)];
  w.perItem(constantSize(experts + heads), (i) => {
    w.b.block(`if (${i} < ${E})`, () => {
      w.b.line(`let e = i32(${i});`);
      w.b.block(`for (var h = 0u; h < ${H}; h++)`, () => {
        w.b.line(`var c = ${i32(0)};`);
        w.b.block(`for (var r = h; r < ${rows}; r += ${H})`, () => {
          w.b.block(`for (var j = 0u; j < ${K}; j++)`, () => {
            w.b.line(`c += select(${i32(0)}, ${i32(1)}, ${kept}[r * ${K} + j] == e);`);
          });
        });
        w.b.line(`${counts}[h * ${E} + ${i}] = c;`);
      });
      w.b.line(`var top = ${i32(0)};`);
      w.b.line(`var p = ${f(0)};`);
      w.b.block(`for (var r = 0u; r < ${rows}; r++)`, () => {
        w.b.line(`top += select(${i32(0)}, ${i32(1)}, ${routed}[r * ${K}] == e);`);
        w.b.line(`p += ${probs}[r * ${E} + ${i}];`);
      });
      w.b.line(`${top1}[${i}] = top;`);
      w.b.line(`${probSum}[${i}] = p;`);
      w.b.line("return;");
    });
    w.b.line(`let h = ${i} - ${E};`);
    w.b.line(`var c = ${i32(0)};`);
    w.b.block(`for (var r = h; r < ${rows}; r += ${H})`, () => {
      w.b.block(`for (var j = 0u; j < ${K}; j++)`, () => {
        w.b.line(`c += select(${i32(0)}, ${i32(1)}, ${kept}[r * ${K} + j] < ${i32(0)});`);
      });
    });
    w.b.line(`${dropped}[h] = c;`);
  });
  return w.finish("route_stats");
}
