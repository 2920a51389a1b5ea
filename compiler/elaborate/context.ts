// The state of one elaboration (the graph being built, the calls being walked) and its limits.
import type { Argument, Definition, Span } from "../../grammar/ast.js";
import type { DiagnosticBag } from "../../grammar/diagnostics.js";
import { GraphBuilder } from "../ir/graph.js";
import type { LoadedProgram } from "../sources.js";

/** Guard rails: absurd specs are rejected before any memory is spent on them. */
export const LIMITS = {
  maxDim: 1 << 24,
  maxTensorElements: 2 ** 32,
  maxRepeat: 4096,
  maxNodes: 200_000,
  /** Layers without weights (Identity, empty user layers) add no nodes, so count them too. */
  maxInstances: 200_000,
  maxInstanceDepth: 64,
  maxInt: Number.MAX_SAFE_INTEGER,
};

/** Unwinds the elaboration after an error that makes going on pointless (size limits). */
export class Stop extends Error {}

/** A call being elaborated: of a user definition (instantiation, or a forward call). */
export interface Site {
  readonly def: Definition;
  /** The call, in the caller's code (the model's name for the model itself). */
  readonly span: Span;
  /** The instance's weight-name path. */
  readonly path: string;
  /** The arguments written at an instantiation, to follow hyper-parameters back through. */
  readonly args?: readonly Argument[];
}

/** The state of one elaboration; the elaboration functions in this folder take it as `el`. */
export class Elaborator {
  readonly builder: GraphBuilder = new GraphBuilder("model");
  /** The user definitions being instantiated or called, innermost last (recursion check). */
  readonly stack: Definition[] = [];
  /** Layer instances so far (bounded by LIMITS.maxInstances). */
  instances = 0;
  /**
   * The calls being elaborated, outermost first: each user-definition instantiation and each
   * forward call of a user layer. Errors found inside library code are reported at the user's
   * call that led there (see `report`).
   */
  readonly sites: Site[] = [];

  /** The `positions` input of a decoding graph, made by the first attention layer that needs it. */
  positions: number | undefined;

  constructor(
    readonly program: LoadedProgram,
    readonly bag: DiagnosticBag,
    readonly decode?: { readonly context: number },
  ) {}
}
