// Kernels of the optimiser's fused ops (design.md section 6), and register-tiled GEMMs that
// replace the -O0 linear at -O2. Each invocation computes a TM x TN tile of outputs, so every
// loaded operand feeds several multiply-adds: on lavapipe, where loads whose address differs per
// invocation are scalarised, that is most of the speed.
import type { Node } from "../../ir/graph.js";
import type { Activation } from "../../ir/ops.js";
import { type SizeExpr, constantSize, dimSize, mulSize, shapeSize } from "../size.js";
import { f32Literal as f, i32Literal as i32, sizeToWgsl, u32Literal as u } from "../wgsl.js";
import { type EmitContext, type EmittedKernel, KernelWriter, PARAMS, staticDim } from "./common.js";
import { activationFunction } from "./math.js";

/** Rows and columns of outputs per invocation. */
const TM = 4;
const TN = 4;
const GEMM_WORKGROUP = 64;

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

/** How a GEMM reads its left operand and where a tile row comes from. */
interface TileRows {
  /** Declares WGSL locals for tile row `r` (valid flag, source index) at the top of the tile. */
  readonly setup: (w: KernelWriter, r: number) => void;
  /** The left operand A[row r of the tile, kk]. */
  readonly a: (r: number, kk: string) => string;
}

/**
 * The inner product loop shared by every tiled GEMM: acc{m}[r][c] += A(r, kk) · B{m}(c, kk) for
 * each weight matrix m (two for gated pairs), with A loaded once per (r, kk) and B once per (c, kk).
 */
function emitTileProduct(
  w: KernelWriter,
  rows: TileRows,
  weights: readonly ((c: number, kk: string) => string)[],
  inner: number,
): void {
  weights.forEach((_, m) => w.b.line(`var acc${m}: array<array<f32, ${TN}>, ${TM}>;`));
  w.b.block(`for (var kk = 0u; kk < ${u(inner)}; kk++)`, () => {
    for (let r = 0; r < TM; r++) w.b.line(`let a${r} = ${rows.a(r, "kk")};`);
    weights.forEach((weight, m) => {
      for (let c = 0; c < TN; c++) w.b.line(`let b${m}_${c} = ${weight(c, "kk")};`);
      for (let r = 0; r < TM; r++) {
        for (let c = 0; c < TN; c++)
          w.b.line(`acc${m}[${r}][${c}] = fma(a${r}, b${m}_${c}, acc${m}[${r}][${c}]);`);
      }
    });
  });
}

/** Column c of the tile: its index, clamped for loads; stores check `col{c} < out`. */
function emitTileColumns(w: KernelWriter, out: number): void {
  for (let c = 0; c < TN; c++) {
    w.b.line(`let col${c} = tile_col * ${u(TN)} + ${u(c)};`);
    w.b.line(`let wc${c} = min(col${c}, ${u(out - 1)});`);
  }
}

/** Rows of a dense GEMM: token rows, clamped for loads past the last row. */
function denseRows(x: string, rowsExpr: string, inner: number): TileRows {
  return {
    setup: (w, r) => {
      w.b.line(`let row${r} = tile_row * ${u(TM)} + ${u(r)};`);
      w.b.line(`let src${r} = min(row${r}, ${rowsExpr} - 1u) * ${u(inner)};`);
    },
    a: (r, kk) => `${x}[src${r} + ${kk}]`,
  };
}

/** The tile loop of a dense GEMM with M rows (runtime) and `out` columns. */
function denseTiles(
  w: KernelWriter,
  m: SizeExpr,
  out: number,
  body: (rowsExpr: string) => void,
): void {
  const colTiles = ceilDiv(out, TN);
  const rowTiles = `((${sizeToWgsl(m, PARAMS)} + ${u(TM - 1)}) / ${u(TM)})`;
  // Upper bound on tiles for the dispatch: ceil(M / TM) * colTiles <= (M + TM - 1) / TM * colTiles.
  const items = mulSize({ coef: 1, syms: m.syms }, ceilDiv(m.coef, 1));
  w.perItem(
    mulSize(items, colTiles),
    (i) => {
      w.b.line(`let tile_row = ${i} / ${u(colTiles)};`);
      w.b.line(`let tile_col = ${i} % ${u(colTiles)};`);
      w.b.block(`if (tile_row >= ${rowTiles})`, () => w.b.line("return;"));
      body(sizeToWgsl(m, PARAMS));
    },
    GEMM_WORKGROUP,
  );
}

/** act(x·Wᵀ + b) + residual, tiled; also the -O2 kernel of a plain linear. */
export function emitTiledLinear(
  node: Node<"linear"> | Node<"linear_epilogue">,
  ctx: EmitContext,
): EmittedKernel {
  const w = new KernelWriter(ctx);
  const attrs =
    node.op === "linear_epilogue"
      ? node.attrs
      : { bias: node.inputs.length === 3, act: "none" as const, residual: false };
  const [xv, wv] = node.inputs;
  const bv = attrs.bias ? node.inputs[2] : undefined;
  const rv = attrs.residual ? node.inputs[attrs.bias ? 3 : 2] : undefined;
  const [out, inner] = w.type(wv!).shape.map((d) => staticDim(d, "linear weight dims")) as [
    number,
    number,
  ];
  const x = w.input("x", xv!);
  const weight = w.input("w", wv!);
  const bias = bv === undefined ? undefined : w.input("b", bv);
  const residual = rv === undefined ? undefined : w.input("residual", rv);
  const y = w.output("y", node.outputs[0]!);
  const act = attrs.act === "none" ? undefined : activationFunction(w.b, attrs.act);
  const m = shapeSize(w.type(xv!).shape.slice(0, -1));
  denseTiles(w, m, out, (rowsExpr) => {
    const rows = denseRows(x, rowsExpr, inner);
    for (let r = 0; r < TM; r++) rows.setup(w, r);
    emitTileColumns(w, out);
    emitTileProduct(w, rows, [(c, kk) => `${weight}[wc${c} * ${u(inner)} + ${kk}]`], inner);
    storeTile(w, rowsExpr, out, (r, c) => {
      let v = `acc0[${r}][${c}]${bias ? ` + ${bias}[col${c}]` : ""}`;
      if (act) v = `${act}(${v})`;
      if (residual) v = `${v} + ${residual}[row${r} * ${u(out)} + col${c}]`;
      return `${y}[row${r} * ${u(out)} + col${c}] = ${v};`;
    });
  });
  return w.finish(
    node.op === "linear"
      ? "linear_tiled"
      : `linear${attrs.act === "none" ? "" : `_${attrs.act}`}${attrs.residual ? "_residual" : ""}`,
  );
}

function storeTile(
  w: KernelWriter,
  rowsExpr: string,
  out: number,
  store: (r: number, c: number) => string,
): void {
  for (let r = 0; r < TM; r++) {
    w.b.block(`if (row${r} < ${rowsExpr})`, () => {
      for (let c = 0; c < TN; c++) {
        if (out % TN === 0) w.b.line(store(r, c));
        else w.b.block(`if (col${c} < ${u(out)})`, () => w.b.line(store(r, c)));
      }
    });
  }
}

/** act(x·Wgᵀ) ⊙ (x·Wuᵀ): the gated FFN's two products in one pass over x. */
export function emitLinearGlu(node: Node<"linear_glu">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [xv, gv, uv] = node.inputs;
  const [out, inner] = w.type(gv!).shape.map((d) => staticDim(d, "linear weight dims")) as [
    number,
    number,
  ];
  const x = w.input("x", xv!);
  const gate = w.input("w_gate", gv!);
  const up = w.input("w_up", uv!);
  const y = w.output("y", node.outputs[0]!);
  const act = activationFunction(w.b, node.attrs.act);
  denseTiles(w, shapeSize(w.type(xv!).shape.slice(0, -1)), out, (rowsExpr) => {
    const rows = denseRows(x, rowsExpr, inner);
    for (let r = 0; r < TM; r++) rows.setup(w, r);
    emitTileColumns(w, out);
    emitTileProduct(
      w,
      rows,
      [
        (c, kk) => `${gate}[wc${c} * ${u(inner)} + ${kk}]`,
        (c, kk) => `${up}[wc${c} * ${u(inner)} + ${kk}]`,
      ],
      inner,
    );
    storeTile(
      w,
      rowsExpr,
      out,
      (r, c) =>
        `${y}[row${r} * ${u(out)} + col${c}] = ${act}(acc0[${r}][${c}]) * acc1[${r}][${c}];`,
    );
  });
  return w.finish(`linear_glu_${node.attrs.act}`);
}

/**
 * join_h(Σ_j slots)·Wᵀ + b: the combine of the k expert outputs read while loading the merge
 * layer's operand. Sub-token s of row n is slots row n·h + s; its k slots are summed in order.
 */
export function emitCombineLinear(node: Node<"combine_linear">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [sv, wv, bv] = node.inputs;
  const { heads } = node.attrs;
  const [, kw, subw] = w.type(sv!).shape;
  const k = staticDim(kw, "top_k");
  const sub = staticDim(subw, "sub-token width");
  const [out, inner] = w.type(wv!).shape.map((d) => staticDim(d, "linear weight dims")) as [
    number,
    number,
  ];
  const slots = w.input("slots", sv!);
  const weight = w.input("w", wv!);
  const bias = bv === undefined ? undefined : w.input("b", bv);
  const y = w.output("y", node.outputs[0]!);
  const combined = w.b.helper("combined", () => {
    w.b.block(`fn combined(row: u32, kk: u32) -> f32`, () => {
      w.b.line(
        `let base = ((row * ${u(heads)} + kk / ${u(sub)}) * ${u(k)}) * ${u(sub)} + kk % ${u(sub)};`,
      );
      w.b.line(`var s = ${slots}[base];`);
      for (let j = 1; j < k; j++) w.b.line(`s += ${slots}[base + ${u(j * sub)}];`);
      w.b.line("return s;");
    });
  });
  denseTiles(w, shapeSize(w.type(node.outputs[0]!).shape.slice(0, -1)), out, (rowsExpr) => {
    const rows: TileRows = {
      setup: (w2, r) => {
        w2.b.line(`let row${r} = tile_row * ${u(TM)} + ${u(r)};`);
        w2.b.line(`let src${r} = min(row${r}, ${rowsExpr} - 1u);`);
      },
      a: (r, kk) => `${combined}(src${r}, ${kk})`,
    };
    for (let r = 0; r < TM; r++) rows.setup(w, r);
    emitTileColumns(w, out);
    emitTileProduct(w, rows, [(c, kk) => `${weight}[wc${c} * ${u(inner)} + ${kk}]`], inner);
    storeTile(
      w,
      rowsExpr,
      out,
      (r, c) =>
        `${y}[row${r} * ${u(out)} + col${c}] = acc0[${r}][${c}]${bias ? ` + ${bias}[col${c}]` : ""};`,
    );
  });
  return w.finish("combine_linear");
}

/** residual + join_h(Σ_j slots): the combine fused into the residual add. */
export function emitCombineAdd(node: Node<"combine_add">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [sv, rv] = node.inputs;
  const { heads } = node.attrs;
  const [, kw, subw] = w.type(sv!).shape;
  const k = staticDim(kw, "top_k");
  const sub = staticDim(subw, "sub-token width");
  const slots = w.input("slots", sv!);
  const residual = w.input("residual", rv!);
  const y = w.output("y", node.outputs[0]!);
  const width = sub * heads;
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`let row = ${i} / ${u(width)};`);
    w.b.line(`let c = ${i} % ${u(width)};`);
    w.b.line(
      `let base = ((row * ${u(heads)} + c / ${u(sub)}) * ${u(k)}) * ${u(sub)} + c % ${u(sub)};`,
    );
    w.b.line(`var s = ${residual}[${i}];`);
    for (let j = 0; j < k; j++) w.b.line(`s += ${slots}[base + ${u(j * sub)}];`);
    w.b.line(`${y}[${i}] = s;`);
  });
  return w.finish("combine_add");
}

/**
 * Router logits, softmax and top-k of one (sub-)token per invocation. The router weight is read
 * at the same address by the whole workgroup (a broadcast), the row once per expert.
 */
export function emitMoeRoute(node: Node<"moe_route">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { topK, gating } = node.attrs;
  const [xv, wv] = node.inputs;
  const [e, d] = w.type(wv!).shape.map((x) => staticDim(x, "router weight dims")) as [
    number,
    number,
  ];
  const x = w.input("x", xv!);
  const weight = w.input("w", wv!);
  const [expert, gate, probs] = ["expert", "gate", "probs"].map((name, k) =>
    w.output(name, node.outputs[k]!),
  );
  w.perItem(dimSize(w.type(xv!).shape[0]!), (r) => {
    w.b.line(`let xb = ${r} * ${u(d)};`);
    w.b.line(`let base = ${r} * ${u(e)};`);
    w.b.line(`let out = ${r} * ${u(topK)};`);
    w.b.line(`var m = ${w.b.f32(-Infinity)};`);
    w.b.block(`for (var c = 0u; c < ${u(e)}; c++)`, () => {
      w.b.line(`var logit = ${f(0)};`);
      w.b.block(`for (var kk = 0u; kk < ${u(d)}; kk++)`, () =>
        w.b.line(`logit = fma(${x}[xb + kk], ${weight}[c * ${u(d)} + kk], logit);`),
      );
      w.b.line(`${probs}[base + c] = logit;`);
      w.b.line("m = max(m, logit);");
    });
    w.b.line(`var sum = ${f(0)};`);
    w.b.block(`for (var c = 0u; c < ${u(e)}; c++)`, () => {
      w.b.line(`let p = exp(${probs}[base + c] - m);`);
      w.b.line(`${probs}[base + c] = p;`);
      w.b.line("sum += p;");
    });
    w.b.block(`for (var c = 0u; c < ${u(e)}; c++)`, () =>
      w.b.line(`${probs}[base + c] = ${probs}[base + c] / sum;`),
    );
    // k selection passes; a strict `>` over ascending ids sends ties to the lower expert index.
    w.b.line(`var kept = ${f(0)};`);
    w.b.line(`var previous_p = ${f(0)};`);
    w.b.line(`var previous = ${i32(-1)};`);
    w.b.block(`for (var j = 0u; j < ${u(topK)}; j++)`, () => {
      w.b.line(`var best = ${i32(-1)};`);
      w.b.line(`var best_p = ${f(-1)};`);
      w.b.block(`for (var c = 0u; c < ${u(e)}; c++)`, () => {
        w.b.line(`let p = ${probs}[base + c];`);
        // Below the previous choice in (probability desc, index asc) order, and the best such.
        w.b.line(
          `let after = j == 0u || p < previous_p || (p == previous_p && i32(c) > previous);`,
        );
        w.b.block("if (after && p > best_p)", () => {
          w.b.line("best = i32(c);");
          w.b.line("best_p = p;");
        });
      });
      w.b.line(`${expert}[out + j] = best;`);
      w.b.line(`${gate}[out + j] = best_p;`);
      w.b.line("kept += best_p;");
      w.b.line("previous = best;");
      w.b.line("previous_p = best_p;");
    });
    if (gating !== "softmax") {
      w.b.block(`for (var j = 0u; j < ${u(topK)}; j++)`, () =>
        w.b.line(`${gate}[out + j] = ${gate}[out + j] / kept;`),
      );
    }
  });
  return w.finish(`moe_route_top${topK}`);
}

/**
 * The counting sort, in one workgroup: invocation e walks every assignment in the official order
 * (all first choices, earlier rows first, then second choices...), keeping the first C of expert
 * e; a prefix sum over the kept counts gives each expert its segment; a second walk places the
 * assignments. Integer counts and in-order sums make it deterministic without float atomics.
 */
export function emitMoePermute(node: Node<"moe_permute">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { experts, factor, heads } = node.attrs;
  const [ev] = node.inputs;
  const [n, kw] = w.type(ev!).shape;
  const k = staticDim(kw, "top_k");
  const routed = w.input("routed", ev!);
  const [offsets, order, kept, counts, dropped] = [
    "offsets",
    "order",
    "kept",
    "counts",
    "dropped",
  ].map((name, i) => w.output(name, node.outputs[i]!));
  const workgroup = Math.min(
    ctx.profile.maxComputeInvocationsPerWorkgroup,
    256,
    Math.max(32, 2 ** Math.ceil(Math.log2(experts))),
  );
  const rows = sizeToWgsl(dimSize(n!), PARAMS);
  const capacity = factor > 0 ? w.nodeParam(node.id) : u(0xffffffff);
  w.b.declare(`var<workgroup> kept_count: array<u32, ${experts}>;`);
  w.b.declare(`var<workgroup> dropped_count: array<u32, ${experts}>;`);
  w.b.declare(`var<workgroup> segment: array<u32, ${experts + 1}>;`);
  w.singleWorkgroup(workgroup, (lid) => {
    w.b.line(`let assignments = ${rows} * ${u(k)};`);
    w.b.comment("Pass 1: kept and dropped counts per expert, in the official order.");
    w.b.block(`for (var e = ${lid}; e < ${u(experts)}; e += ${u(workgroup)})`, () => {
      w.b.line("var n_kept = 0u;");
      w.b.line("var n_dropped = 0u;");
      for (let h = 0; h < heads; h++) w.b.line(`var count_h${h} = 0u;`);
      w.b.block(`for (var j = 0u; j < ${u(k)}; j++)`, () => {
        w.b.block(`for (var r = 0u; r < ${rows}; r++)`, () => {
          w.b.block(`if (${routed}[r * ${u(k)} + j] == i32(e))`, () => {
            w.b.block(`if (n_kept < ${capacity})`, () => {
              w.b.line("n_kept++;");
              if (heads === 1) w.b.line("count_h0++;");
              else
                for (let h = 0; h < heads; h++)
                  w.b.line(`count_h${h} += select(0u, 1u, r % ${u(heads)} == ${u(h)});`);
            });
            w.b.block("else", () => w.b.line("n_dropped++;"));
          });
        });
      });
      w.b.line("kept_count[e] = n_kept;");
      w.b.line("dropped_count[e] = n_dropped;");
      for (let h = 0; h < heads; h++)
        w.b.line(`${counts}[${u(h * experts)} + e] = i32(count_h${h});`);
    });
    w.b.line("workgroupBarrier();");
    w.b.comment("Prefix sums: kept segments first, then the dropped assignments expert by expert.");
    w.b.block(`if (${lid} == 0u)`, () => {
      w.b.line("var total = 0u;");
      w.b.block(`for (var e = 0u; e < ${u(experts)}; e++)`, () => {
        w.b.line("segment[e] = total;");
        w.b.line(`${offsets}[e] = i32(total);`);
        w.b.line("total += kept_count[e];");
      });
      w.b.line(`segment[${u(experts)}] = total;`);
      w.b.line(`${offsets}[${u(experts)}] = i32(total);`);
      w.b.line("var all_dropped = 0u;");
      w.b.block(`for (var e = 0u; e < ${u(experts)}; e++)`, () => {
        w.b.line("let d = dropped_count[e];");
        w.b.line("dropped_count[e] = total + all_dropped;");
        w.b.line("all_dropped += d;");
      });
    });
    w.b.line("workgroupBarrier();");
    w.b.comment("Pass 2: place every assignment; per-head dropped counts from the same walk.");
    w.b.block(`for (var e = ${lid}; e < ${u(experts)}; e += ${u(workgroup)})`, () => {
      w.b.line("var next_kept = segment[e];");
      w.b.line("var next_dropped = dropped_count[e];");
      w.b.line("var n_kept = 0u;");
      w.b.block(`for (var j = 0u; j < ${u(k)}; j++)`, () => {
        w.b.block(`for (var r = 0u; r < ${rows}; r++)`, () => {
          w.b.line(`let a = r * ${u(k)} + j;`);
          w.b.block(`if (${routed}[a] == i32(e))`, () => {
            w.b.block(`if (n_kept < ${capacity})`, () => {
              w.b.line("n_kept++;");
              w.b.line(`${order}[next_kept] = i32(a);`);
              w.b.line("next_kept++;");
              w.b.line(`${kept}[a] = i32(e);`);
            });
            w.b.block("else", () => {
              w.b.line(`${order}[next_dropped] = i32(a);`);
              w.b.line("next_dropped++;");
              w.b.line(`${kept}[a] = ${i32(-1)};`);
            });
          });
        });
      });
    });
    w.b.comment("Dropped assignments per head: one invocation per head walks the kept ids.");
    w.b.line("storageBarrier();");
    w.b.line("workgroupBarrier();");
    w.b.block(`for (var h = ${lid}; h < ${u(heads)}; h += ${u(workgroup)})`, () => {
      w.b.line("var n = 0u;");
      w.b.block(`for (var r = h; r < ${rows}; r += ${u(heads)})`, () => {
        w.b.block(`for (var j = 0u; j < ${u(k)}; j++)`, () => {
          w.b.line(`n += select(0u, 1u, ${kept}[r * ${u(k)} + j] < ${i32(0)});`);
        });
      });
      w.b.line(`${dropped}[h] = i32(n);`);
    });
  });
  return w.finish(`moe_permute_e${experts}`);
}

/** Top-1 counts and probability sums per expert, one invocation per expert, rows in order. */
export function emitRouteBalance(node: Node<"route_balance">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [ev, pv] = node.inputs;
  const [n, kw] = w.type(ev!).shape;
  const k = staticDim(kw, "top_k");
  const experts = staticDim(w.type(pv!).shape[1], "expert count");
  const routed = w.input("routed", ev!);
  const probs = w.input("probs", pv!);
  const [top1, probSum] = ["top1", "prob_sum"].map((name, i) => w.output(name, node.outputs[i]!));
  const rows = sizeToWgsl(dimSize(n!), PARAMS);
  w.perItem(constantSize(experts), (e) => {
    w.b.line("var n_top1 = 0u;");
    w.b.line(`var p_sum = ${f(0)};`);
    w.b.block(`for (var r = 0u; r < ${rows}; r++)`, () => {
      w.b.line(`n_top1 += select(0u, 1u, ${routed}[r * ${u(k)}] == i32(${e}));`);
      w.b.line(`p_sum += ${probs}[r * ${u(experts)} + ${e}];`);
    });
    w.b.line(`${top1}[${e}] = i32(n_top1);`);
    w.b.line(`${probSum}[${e}] = p_sum;`);
  });
  return w.finish("route_balance");
}

/**
 * The tile walk of a grouped GEMM: tile t of the dispatch is the m-th TM-row block of expert
 * e's segment (found by walking the segment sizes); e == experts is the segment of dropped
 * assignments, whose outputs are zeros. Rows hold `order` positions; `assignment{r}` is the
 * (row, choice) index a, and `valid{r}` says the position lies inside the segment.
 */
function groupedTiles(
  w: KernelWriter,
  args: { offsets: string; order: string; experts: number; assignments: SizeExpr; out: number },
  body: () => void,
): void {
  const colTiles = ceilDiv(args.out, TN);
  // At most ceil(A / TM) + experts + 1 row tiles: each segment wastes less than one tile.
  const rowTileBound = mulSize(
    { coef: 1, syms: args.assignments.syms },
    Math.ceil(args.assignments.coef / 1),
  );
  const items = { coef: 1, syms: [] as string[] };
  void items;
  w.perItem(
    mulSize(addConstant(rowTileBound, args.experts + 1), colTiles),
    (i) => {
      w.b.line(`var t = ${i} / ${u(colTiles)};`);
      w.b.line(`let tile_col = ${i} % ${u(colTiles)};`);
      w.b.line(`var e = 0u;`);
      w.b.line("var seg_start = 0u;");
      w.b.line("var seg_end = 0u;");
      w.b.line(`let total = ${sizeToWgsl(args.assignments, PARAMS)};`);
      w.b.block(`loop`, () => {
        w.b.line(
          `seg_start = select(u32(${args.offsets}[e]), u32(${args.offsets}[${u(args.experts)}]), e == ${u(args.experts)});`,
        );
        w.b.line(`seg_end = select(u32(${args.offsets}[e + 1u]), total, e == ${u(args.experts)});`);
        w.b.line(`let tiles = (seg_end - seg_start + ${u(TM - 1)}) / ${u(TM)};`);
        w.b.block("if (t < tiles)", () => w.b.line("break;"));
        w.b.line("t -= tiles;");
        w.b.line("e++;");
        w.b.block(`if (e > ${u(args.experts)})`, () => w.b.line("return;"));
      });
      for (let r = 0; r < TM; r++) {
        w.b.line(`let pos${r} = seg_start + t * ${u(TM)} + ${u(r)};`);
        w.b.line(`let valid${r} = pos${r} < seg_end;`);
        w.b.line(`let assignment${r} = u32(${args.order}[min(pos${r}, seg_end - 1u)]);`);
      }
      emitTileColumns(w, args.out);
      body();
    },
    GEMM_WORKGROUP,
  );
}

function addConstant(s: SizeExpr, n: number): SizeExpr {
  // Dispatch sizes are products; an upper bound of (A + n) is A * (1 + n) for A >= 1.
  return s.syms.length === 0 ? constantSize(s.coef + n) : mulSize(s, n + 1);
}

/** H[a] = act(x[a / k]·W1[e]ᵀ + b1[e]) (or the gated pair) for the assignments of each segment. */
export function emitMoeGroupedUp(node: Node<"moe_grouped_up">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { act, gated, bias } = node.attrs;
  const [xv, , ov, offv, w1v, extrav] = node.inputs;
  const [experts, hidden, inner] = w
    .type(w1v!)
    .shape.map((d) => staticDim(d, "expert weight dims")) as [number, number, number];
  const k = staticDim(w.type(node.outputs[0]!).shape[1], "top_k");
  const x = w.input("x", xv!);
  const order = w.input("order", ov!);
  const offsets = w.input("offsets", offv!);
  const w1 = w.input(gated ? "w_gate" : "w1", w1v!);
  const extra = extrav === undefined ? undefined : w.input(gated ? "w_up" : "b1", extrav);
  const h = w.output("h", node.outputs[0]!);
  const fn = activationFunction(w.b, act as Activation);
  const assignments = shapeSize(w.type(node.outputs[0]!).shape.slice(0, 2));
  groupedTiles(w, { offsets, order, experts, assignments, out: hidden }, () => {
    w.b.block(`if (e == ${u(experts)})`, () => {
      for (let r = 0; r < TM; r++) {
        w.b.block(`if (valid${r})`, () => {
          for (let c = 0; c < TN; c++) {
            const store = `${h}[assignment${r} * ${u(hidden)} + col${c}] = ${f(0)};`;
            if (hidden % TN === 0) w.b.line(store);
            else w.b.block(`if (col${c} < ${u(hidden)})`, () => w.b.line(store));
          }
        });
      }
      w.b.line("return;");
    });
    w.b.line(`let wbase = e * ${u(hidden)};`);
    const rows: TileRows = {
      setup: () => {},
      a: (r, kk) => `${x}[(assignment${r} / ${u(k)}) * ${u(inner)} + ${kk}]`,
    };
    const weights = [(c: number, kk: string) => `${w1}[(wbase + wc${c}) * ${u(inner)} + ${kk}]`];
    if (gated) weights.push((c, kk) => `${extra}[(wbase + wc${c}) * ${u(inner)} + ${kk}]`);
    emitTileProduct(w, rows, weights, inner);
    for (let r = 0; r < TM; r++) {
      w.b.block(`if (valid${r})`, () => {
        for (let c = 0; c < TN; c++) {
          const value = gated
            ? `${fn}(acc0[${r}][${c}]) * acc1[${r}][${c}]`
            : `${fn}(acc0[${r}][${c}]${bias ? ` + ${extra}[wbase + col${c}]` : ""})`;
          const store = `${h}[assignment${r} * ${u(hidden)} + col${c}] = ${value};`;
          if (hidden % TN === 0) w.b.line(store);
          else w.b.block(`if (col${c} < ${u(hidden)})`, () => w.b.line(store));
        }
      });
    }
  });
  return w.finish(`moe_grouped_up${gated ? "_glu" : ""}_${act}`);
}

/** slots[a] = gate[a] · (H[a]·W2[e]ᵀ + b2[e]); dropped assignments get zeros. */
export function emitMoeGroupedDown(
  node: Node<"moe_grouped_down">,
  ctx: EmitContext,
): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [hv, , ov, offv, gv, w2v, b2v] = node.inputs;
  const [experts, out, inner] = w
    .type(w2v!)
    .shape.map((d) => staticDim(d, "expert weight dims")) as [number, number, number];
  const hid = w.input("h", hv!);
  const order = w.input("order", ov!);
  const offsets = w.input("offsets", offv!);
  const gate = w.input("gate", gv!);
  const w2 = w.input("w2", w2v!);
  const b2 = b2v === undefined ? undefined : w.input("b2", b2v);
  const slots = w.output("slots", node.outputs[0]!);
  const assignments = shapeSize(w.type(node.outputs[0]!).shape.slice(0, 2));
  groupedTiles(w, { offsets, order, experts, assignments, out }, () => {
    const store = (r: number, c: number, value: string) => {
      const line = `${slots}[assignment${r} * ${u(out)} + col${c}] = ${value};`;
      if (out % TN === 0) w.b.line(line);
      else w.b.block(`if (col${c} < ${u(out)})`, () => w.b.line(line));
    };
    w.b.block(`if (e == ${u(experts)})`, () => {
      for (let r = 0; r < TM; r++)
        w.b.block(`if (valid${r})`, () => {
          for (let c = 0; c < TN; c++) store(r, c, f(0));
        });
      w.b.line("return;");
    });
    w.b.line(`let wbase = e * ${u(out)};`);
    const rows: TileRows = {
      setup: () => {},
      a: (r, kk) => `${hid}[assignment${r} * ${u(inner)} + ${kk}]`,
    };
    emitTileProduct(w, rows, [(c, kk) => `${w2}[(wbase + wc${c}) * ${u(inner)} + ${kk}]`], inner);
    for (let r = 0; r < TM; r++) {
      w.b.block(`if (valid${r})`, () => {
        w.b.line(`let g${r} = ${gate}[assignment${r}];`);
        for (let c = 0; c < TN; c++)
          store(r, c, `g${r} * (acc0[${r}][${c}]${b2 ? ` + ${b2}[wbase + col${c}]` : ""})`);
      });
    }
  });
  return w.finish("moe_grouped_down");
}

/** The kernels the -O2 plan adds to (or replaces in) the unfused table. */
export const FUSED_KERNELS = {
  linear: emitTiledLinear,
  linear_epilogue: emitTiledLinear,
  linear_glu: emitLinearGlu,
  moe_route: emitMoeRoute,
  moe_permute: emitMoePermute,
  route_balance: emitRouteBalance,
  moe_grouped_up: emitMoeGroupedUp,
  moe_grouped_down: emitMoeGroupedDown,
  combine_linear: emitCombineLinear,
  combine_add: emitCombineAdd,
};
