// What the browser tests share: Debian's headless Chromium with WebGPU on SwiftShader, and the
// playground built once into a temporary folder and served by vite's preview server.
import { existsSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { type PreviewServer, build, preview } from "vite";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const CHROMIUM = process.env.MOEC_CHROMIUM ?? "/usr/bin/chromium";
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
/** Screenshots (git-ignored). */
export const ARTIFACTS = path.join(ROOT, "test/artifacts");

/**
 * Headless Chromium with WebGPU on SwiftShader's Vulkan (shipped with Debian's chromium), so the
 * adapter is the same on every machine, GPU or not. The background-networking flags keep
 * Chromium from dialling out of the closed network (refused connections, failed DNS lookups).
 */
export const CHROMIUM_ARGS = [
  "--enable-unsafe-webgpu",
  "--use-webgpu-adapter=swiftshader",
  "--no-sandbox",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Hang guard for waits on the page: UI updates come in milliseconds, but a busy 2-core machine
 * (SwiftShader shares the cores) can stall them for seconds; vitest's expect.poll gives up after 1 s.
 */
export const WAIT = { timeout: 60_000 };

const CONFIG_FILE = path.join(ROOT, "examples/playground/vite.config.ts");

/** `npm run playground:build`, into `outDir`. */
export async function buildPlayground(outDir: string): Promise<void> {
  await build({ configFile: CONFIG_FILE, logLevel: "warn", build: { outDir } });
}

/** Serves a built playground on localhost; resolves with the server and its base URL. */
export async function servePlayground(
  outDir: string,
): Promise<{ server: PreviewServer; base: string }> {
  const server = await preview({
    configFile: CONFIG_FILE,
    logLevel: "warn",
    build: { outDir },
    preview: { port: 4173, strictPort: false, host: "127.0.0.1" },
  });
  return { server, base: server.resolvedUrls!.local[0]! };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}
