// The fused router: logits, softmax, top-k and gates of one (sub-)token per invocation.
import type { Node } from "../../../ir/graph.js";
import { COSINE_EPS, type Gating, MIN_TEMPERATURE } from "../../../ir/ops.js";
import { dimSize, tileCount } from "../../../../plan/size.js";
import { f32Literal as f, i32Literal as i32, sizeToWgsl, u32Literal as u } from "../../wgsl.js";
import {
  type EmitContext,
  type EmittedKernel,
  KernelWriter,
  PARAMS,
  staticDim,
} from "../common.js";
import { operand, vectorFma } from "../gemm/emit.js";
import { sigmoidGates } from "../moe.js";
import { gemmTiling } from "../gemm/tiling.js";
import { ceilDivWgsl } from "../gemm/tiles.js";

/** Experts up to which the router keeps one (sub-)token's logits in registers. */
const ROUTER_REGISTER_EXPERTS = 128;
/** Experts whose logits one pass over the token's row accumulates. */
const ROUTER_CHUNK = 16;

/**
 * Router logits, softmax and top-k of one (sub-)token per invocation, in registers: the logits
 * are a small GEMM (row · Wᵀ, vec4 along d when d allows) over chunks of 16 experts, the router
 * weight rows loaded 8 at a time by the subgroup and broadcast where subgroups exist; softmax and
 * the k selection passes then run on registers, and only the probabilities, choices and gates
 * are stored. Above 128 experts, the loop version below (probabilities in memory).
 * X-MoE (cosine): the same loop over the projected row and the expert embeddings also sums their
 * squares, and each logit is divided by both norms and the temperature (see cosine_logits).
 * Sigmoid gating selects on, and gates with, sigmoid(logit).
 */
export function emitMoeRoute(node: Node<"moe_route">, ctx: EmitContext): EmittedKernel {
  const experts = staticDim(ctx.graph.values[node.inputs[1]!]!.type.shape[0], "router experts");
  if (experts > ROUTER_REGISTER_EXPERTS) return emitMoeRouteLoop(node, ctx);
  const w = new KernelWriter(ctx);
  const { topK, gating, cosine } = node.attrs;
  const [xv, wv, tv] = node.inputs;
  const d = staticDim(w.type(wv!).shape[1], "router width");
  // Lanes are rows here; the GEMM chooser still decides vectors and subgroup sharing.
  const cfg = gemmTiling(ctx, { out: experts, inner: d, weights: 1 });
  const share = cfg.share;
  const vec = cfg.vec;
  const kv = d / vec;
  const x = operand(w, "x", xv!, vec);
  const weight = operand(w, "w", wv!, vec);
  const tau = cosine ? w.input("tau", tv!) : undefined;
  const [expert, gate, probs] = ["expert", "gate", "probs"].map((name, k) =>
    w.output(name, node.outputs[k]!),
  );
  const rowsSize = dimSize(w.type(xv!).shape[0]!);
  const rows = sizeToWgsl(rowsSize, PARAMS);
  const wg = 64;
  // Sigmoid gating selects on the logits: sigmoid's order, without its f32 saturation.
  const score = (c: number) => (gating === "sigmoid" ? `l${c}` : `p${c}`);
  const fma = (a: string, b: string, acc: string) => vectorFma(vec, a, b, acc);
  w.perWorkgroup(
    tileCount(rowsSize, wg),
    ceilDivWgsl(rowsSize, wg),
    wg,
    (g, lid) => {
      // No early return for rows past the end: every lane takes part in the broadcasts.
      w.b.line(`let row = ${g} * ${u(wg)} + ${lid};`);
      w.b.line(`let valid = row < ${rows};`);
      w.b.line(`let xb = min(row, ${rows} - 1u) * ${u(kv)};`);
      for (let c = 0; c < experts; c++) w.b.line(`var l${c} = ${f(0)};`);
      if (cosine) {
        w.b.line(`var hh = ${f(0)};`);
        for (let c = 0; c < experts; c++) w.b.line(`var n${c} = ${f(0)};`);
      }
      const chunk = (c0: number, shared: boolean) => {
        const n = Math.min(ROUTER_CHUNK, experts - c0);
        w.b.block(`for (var kv = 0u; kv < ${u(kv)}; kv++)`, () => {
          w.b.line(`let xv = ${x}[xb + kv];`);
          if (cosine && c0 === 0) w.b.line(`hh = ${fma("xv", "xv", "hh")};`);
          if (shared) {
            for (let j = 0; j < Math.ceil(n / share); j++) {
              w.b.line(
                `let wl${j} = ${weight}[min(${u(c0 + j * share)} + sg_id % ${u(share)}, ${u(experts - 1)}) * ${u(kv)} + kv];`,
              );
            }
          }
          for (let c = c0; c < c0 + n; c++) {
            const wc = shared
              ? `subgroupBroadcast(wl${Math.floor((c - c0) / share)}, ${u((c - c0) % share)})`
              : `${weight}[${u(c * kv)} + kv]`;
            w.b.line(`let w${c} = ${wc};`);
            w.b.line(`l${c} = ${fma("xv", `w${c}`, `l${c}`)};`);
            if (cosine) w.b.line(`n${c} = ${fma(`w${c}`, `w${c}`, `n${c}`)};`);
          }
        });
      };
      for (let c0 = 0; c0 < experts; c0 += ROUTER_CHUNK) {
        if (share > 0)
          w.b.ifElse(
            `sg_size >= ${u(share)}`,
            () => chunk(c0, true),
            () => chunk(c0, false),
          );
        else chunk(c0, false);
      }
      if (cosine) {
        const eps = f(COSINE_EPS);
        w.b.line(
          `let row_scale = ${f(1)} / (max(sqrt(hh), ${eps}) * max(${tau}[0], ${f(MIN_TEMPERATURE)}));`,
        );
        for (let c = 0; c < experts; c++)
          w.b.line(`l${c} = l${c} * row_scale / max(sqrt(n${c}), ${eps});`);
      }
      w.b.line(`var m = l0;`);
      for (let c = 1; c < experts; c++) w.b.line(`m = max(m, l${c});`);
      w.b.line(`var sum = ${f(0)};`);
      for (let c = 0; c < experts; c++) {
        w.b.line(`let e${c} = exp(l${c} - m);`);
        w.b.line(`sum += e${c};`);
      }
      for (let c = 0; c < experts; c++) w.b.line(`let p${c} = e${c} / sum;`);
      w.b.block("if (valid)", () => {
        for (let c = 0; c < experts; c++)
          w.b.line(`${probs}[row * ${u(experts)} + ${u(c)}] = p${c};`);
      });
      // k selection passes; a strict `>` over ascending ids sends ties to the lower expert index.
      w.b.line(`var kept = ${f(0)};`);
      w.b.line(`var previous_p = ${f(0)};`);
      w.b.line(`var previous = ${i32(-1)};`);
      // Ranked by rank_key: NaN below every number, so a NaN row picks valid, distinct experts.
      for (let c = 0; c < experts; c++) w.b.line(`let k${c} = ${w.b.rankKey(score(c))};`);
      for (let j = 0; j < topK; j++) {
        w.b.line(`var best${j} = ${i32(-1)};`);
        w.b.line(`var best_k${j} = ${f(0)};`);
        w.b.line(`var best_p${j} = ${f(0)};`);
        for (let c = 0; c < experts; c++) {
          // Below the previous choice in (key desc, index asc) order, and the best such.
          const after =
            j === 0
              ? ""
              : `(k${c} < previous_p || (k${c} == previous_p && ${i32(c)} > previous)) && `;
          w.b.line(`let take${j}_${c} = ${after}(best${j} < 0 || k${c} > best_k${j});`);
          w.b.line(`best${j} = select(best${j}, ${i32(c)}, take${j}_${c});`);
          w.b.line(`best_k${j} = select(best_k${j}, k${c}, take${j}_${c});`);
          w.b.line(`best_p${j} = select(best_p${j}, ${score(c)}, take${j}_${c});`);
        }
        w.b.line(`kept += best_p${j};`);
        w.b.line(`previous = best${j};`);
        w.b.line(`previous_p = best_k${j};`);
      }
      w.b.block("if (valid)", () => {
        for (let j = 0; j < topK; j++) {
          w.b.line(`${expert}[row * ${u(topK)} + ${u(j)}] = best${j};`);
          const renorm = gating === "renorm" || gating === "softmax_topk";
          const g =
            gating === "sigmoid"
              ? `${f(1)} / (${f(1)} + exp(-best_p${j}))`
              : renorm
                ? `best_p${j} / kept`
                : `best_p${j}`;
          w.b.line(`${gate}[row * ${u(topK)} + ${u(j)}] = ${g};`);
        }
      });
    },
    { subgroups: share > 0 },
  );
  return w.finish(routeKernelName(topK, gating, cosine));
}

function routeKernelName(topK: number, gating: Gating, cosine: boolean): string {
  return `moe_route${cosine ? "_cosine" : ""}${gating === "sigmoid" ? "_sigmoid" : ""}_top${topK}`;
}

/**
 * Router logits, softmax and top-k of one (sub-)token per invocation, probabilities kept in the
 * output buffer: for routers with more experts than fit in registers.
 */
export function emitMoeRouteLoop(node: Node<"moe_route">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { topK, gating, cosine } = node.attrs;
  const [xv, wv, tv] = node.inputs;
  const [e, d] = w.type(wv!).shape.map((x) => staticDim(x, "router weight dims")) as [
    number,
    number,
  ];
  const x = w.input("x", xv!);
  const weight = w.input("w", wv!);
  const tau = cosine ? w.input("tau", tv!) : undefined;
  const [expert, gate, probs] = ["expert", "gate", "probs"].map((name, k) =>
    w.output(name, node.outputs[k]!),
  );
  w.perItem(dimSize(w.type(xv!).shape[0]!), (r) => {
    w.b.line(`let xb = ${r} * ${u(d)};`);
    w.b.line(`let base = ${r} * ${u(e)};`);
    w.b.line(`let out = ${r} * ${u(topK)};`);
    if (cosine) {
      w.b.line(`var hh = ${f(0)};`);
      w.b.block(`for (var kk = 0u; kk < ${u(d)}; kk++)`, () =>
        w.b.line(`hh = fma(${x}[xb + kk], ${x}[xb + kk], hh);`),
      );
      w.b.line(
        `let row_scale = ${f(1)} / (max(sqrt(hh), ${f(COSINE_EPS)}) * max(${tau}[0], ${f(MIN_TEMPERATURE)}));`,
      );
    }
    w.b.line(`var m = ${w.b.f32(-Infinity)};`);
    w.b.block(`for (var c = 0u; c < ${u(e)}; c++)`, () => {
      w.b.line(`var logit = ${f(0)};`);
      if (cosine) w.b.line(`var ee = ${f(0)};`);
      w.b.block(`for (var kk = 0u; kk < ${u(d)}; kk++)`, () => {
        w.b.line(`logit = fma(${x}[xb + kk], ${weight}[c * ${u(d)} + kk], logit);`);
        if (cosine)
          w.b.line(`ee = fma(${weight}[c * ${u(d)} + kk], ${weight}[c * ${u(d)} + kk], ee);`);
      });
      if (cosine) w.b.line(`logit = logit * row_scale / max(sqrt(ee), ${f(COSINE_EPS)});`);
      w.b.line(`${probs}[base + c] = logit;`);
      w.b.line("m = max(m, logit);");
    });
    // Sigmoid gating selects on the logits (sigmoid's order) while they are still in `probs`.
    if (gating === "sigmoid") {
      selectTopK(w, topK, e, expert, gate, (c) => `${probs}[base + ${c}]`);
      sigmoidGates(w, gate, topK);
    }
    w.b.line(`var sum = ${f(0)};`);
    w.b.block(`for (var c = 0u; c < ${u(e)}; c++)`, () => {
      w.b.line(`let p = exp(${probs}[base + c] - m);`);
      w.b.line(`${probs}[base + c] = p;`);
      w.b.line("sum += p;");
    });
    w.b.block(`for (var c = 0u; c < ${u(e)}; c++)`, () =>
      w.b.line(`${probs}[base + c] = ${probs}[base + c] / sum;`),
    );
    if (gating !== "sigmoid") selectTopK(w, topK, e, expert, gate, (c) => `${probs}[base + ${c}]`);
    if (gating === "renorm" || gating === "softmax_topk") {
      w.b.block(`for (var j = 0u; j < ${u(topK)}; j++)`, () =>
        w.b.line(`${gate}[out + j] = ${gate}[out + j] / kept;`),
      );
    }
  });
  return w.finish(routeKernelName(topK, gating, cosine));
}

/**
 * k selection passes over the scores `score(c)`, writing choices and gates (the chosen scores)
 * at `out` and summing them in `kept`; ranked by rank_key (NaN below every number, so a NaN row
 * picks valid, distinct experts), and a strict `>` over ascending ids sends ties to the lower
 * expert index.
 */
function selectTopK(
  w: KernelWriter,
  topK: number,
  experts: number,
  expert: string,
  gate: string,
  score: (c: string) => string,
): void {
  w.b.line(`var kept = ${f(0)};`);
  w.b.line(`var previous_p = ${f(0)};`);
  w.b.line(`var previous = ${i32(-1)};`);
  w.b.block(`for (var j = 0u; j < ${u(topK)}; j++)`, () => {
    w.b.line(`var best = ${i32(-1)};`);
    w.b.line(`var best_key = ${f(-1)};`);
    w.b.line(`var best_p = ${f(-1)};`);
    w.b.block(`for (var c = 0u; c < ${u(experts)}; c++)`, () => {
      w.b.line(`let p = ${score("c")};`);
      w.b.line(`let key = ${w.b.rankKey("p")};`);
      // Below the previous choice in (key desc, index asc) order, and the best such.
      w.b.line(
        `let after = j == 0u || key < previous_p || (key == previous_p && i32(c) > previous);`,
      );
      w.b.block("if (after && (best < 0 || key > best_key))", () => {
        w.b.line("best = i32(c);");
        w.b.line("best_key = key;");
        w.b.line("best_p = p;");
      });
    });
    w.b.line(`${expert}[out + j] = best;`);
    w.b.line(`${gate}[out + j] = best_p;`);
    w.b.line("kept += best_p;");
    w.b.line("previous = best;");
    w.b.line("previous_p = best_key;");
  });
}
