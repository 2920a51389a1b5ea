// The playground's two pages, built together from this one configuration: index.html (edit,
// compile and run .moe specs in the page) and precompiled.html (run a plan.json written by
// `moec compile`, without the compiler).
//   npx vite examples/playground            dev server (both pages)
//   npx vite build examples/playground      static files in examples/playground/dist
//
// The precompiled page stays small because the runtime imports only plan/ (never the compiler,
// checked by test/boundary.test.ts): the chunk the two pages share holds the runtime and the
// page code they have in common, and the compiler stays in the main page's own chunk.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here("."),
  // Relative asset URLs: the built pages work from any folder of a static server.
  base: "./",
  server: {
    // The pages import grammar/, compiler/, runtime/ and models/ from the repository root.
    fs: { allow: [here("../..")] },
  },
  preview: { host: "127.0.0.1" },
  build: {
    outDir: here("dist"),
    emptyOutDir: true,
    target: "es2022",
    // The in-page compiler (chevrotain and CodeMirror included) is one large chunk (about
    // 720 kB); Graphviz in WebAssembly (@viz-js/viz, about 1.35 MB) is a chunk of its own,
    // loaded when the graph tab first opens.
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      input: { index: here("index.html"), precompiled: here("precompiled.html") },
    },
  },
});
