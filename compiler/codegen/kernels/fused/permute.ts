// The integer bookkeeping of routing: the counting sort of assignments by expert (with the capacity
// limit), and the load-balancing statistics. Integer counts keep both deterministic.
import { isDropless } from "../../../../plan/capacity.js";
import type { Node } from "../../../ir/graph.js";
import { admissionLoops } from "../moe.js";
import { constantSize, dimSize } from "../../../../plan/size.js";
import { f32Literal as f, i32Literal as i32, sizeToWgsl, u32Literal as u } from "../../wgsl.js";
import {
  type EmitContext,
  type EmittedKernel,
  KernelWriter,
  PARAMS,
  staticDim,
} from "../common.js";

/**
 * The counting sort, in one workgroup: invocation e walks every assignment in admission order
 * (rank-major, the official order: all first choices, earlier rows first, then second
 * choices...; or token-major: row by row), keeping the first C of expert e; a prefix sum over the
 * kept counts gives each expert its segment; a second walk places the assignments. Integer
 * counts and in-order sums make it deterministic without float atomics.
 */
export function emitMoePermute(node: Node<"moe_permute">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { experts, rule, capacity: amount, admit, heads } = node.attrs;
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
  const dropless = isDropless({ rule, capacity: amount, admit });
  const capacity = dropless ? u(0xffffffff) : w.nodeParam(node.id);
  w.b.declare(`var<workgroup> kept_count: array<u32, ${experts}>;`);
  w.b.declare(`var<workgroup> dropped_count: array<u32, ${experts}>;`);
  w.b.declare(`var<workgroup> segment: array<u32, ${experts + 1}>;`);
  w.singleWorkgroup(workgroup, (lid) => {
    w.b.line(`let assignments = ${rows} * ${u(k)};`);
    w.b.comment(`Pass 1: kept and dropped counts per expert, in ${admit}-major order.`);
    w.b.block(`for (var e = ${lid}; e < ${u(experts)}; e += ${u(workgroup)})`, () => {
      w.b.line("var n_kept = 0u;");
      w.b.line("var n_dropped = 0u;");
      for (let h = 0; h < heads; h++) w.b.line(`var count_h${h} = 0u;`);
      admissionLoops(w, admit, k, rows, () => {
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
      admissionLoops(w, admit, k, rows, () => {
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
  return w.finish(`moe_permute_e${experts}${admit === "token" ? "_token_major" : ""}`);
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
