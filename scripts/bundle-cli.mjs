// Bundles the `moec` command into dist/cli/moec.js (run by `npm run build` and `npm install`'s
// prepare step, after tsc). One file loads in a fraction of the time of the ~300 modules it
// replaces (chevrotain alone is ~250 files with lodash-es): `moec --help` went from ~1.2 s of CPU
// to what Node itself needs. `webgpu` stays external: it is a native addon, loaded only by
// commands that run on a GPU.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

await build({
  absWorkingDir: root,
  entryPoints: ["cli/moec.ts"],
  outfile: "dist/cli/moec.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["webgpu"],
  sourcemap: true,
  legalComments: "none",
  // Whitespace and syntax only: function names stay, so an internal error's stack reads.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
});
