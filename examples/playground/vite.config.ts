// The playground's two pages: index.html (edit, compile and run .moe specs in the page) and
// precompiled.html (run a plan.json written by `moec compile`, without the compiler).
//   npx vite examples/playground            dev server (both pages)
//   npx vite build examples/playground      static files in examples/playground/dist
//
// The pages are built separately: built together, Rollup would put every module both pages use
// (runtime/session.ts and the compiler modules it takes a constant or two from) into one shared
// chunk with all of those modules' code, and the precompiled page would download the compiler's
// op table and WGSL emitters it never runs. Built alone, it keeps only what it uses.
import { fileURLToPath } from "node:url";
import { type InlineConfig, type Plugin, build, defineConfig } from "vite";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

const shared = {
  root: here("."),
  // Relative asset URLs: the built pages work from any folder of a static server.
  base: "./",
} satisfies InlineConfig;

/** After the main page is built, builds precompiled.html on its own into the same folder. */
function precompiledPage(): Plugin {
  let outDir = "";
  let logLevel: InlineConfig["logLevel"];
  return {
    name: "moec-precompiled-page",
    apply: "build",
    configResolved(config) {
      outDir = config.build.outDir;
      logLevel = config.logLevel;
    },
    async closeBundle() {
      await build({
        ...shared,
        configFile: false,
        logLevel,
        build: {
          outDir,
          emptyOutDir: false,
          target: "es2022",
          rollupOptions: { input: { precompiled: here("precompiled.html") } },
        },
      });
    },
  };
}

export default defineConfig({
  ...shared,
  server: {
    // The pages import grammar/, compiler/, runtime/ and models/ from the repository root.
    fs: { allow: [here("../..")] },
  },
  preview: { host: "127.0.0.1" },
  plugins: [precompiledPage()],
  build: {
    outDir: here("dist"),
    emptyOutDir: true,
    target: "es2022",
    // The page (compiler, chevrotain and CodeMirror) is one chunk of about 750 kB; Graphviz in
    // WebAssembly (@viz-js/viz, about 1.4 MB) is a chunk of its own, loaded when the graph tab
    // first opens.
    chunkSizeWarningLimit: 1500,
    rollupOptions: { input: { index: here("index.html") } },
  },
});
