#!/usr/bin/env node
// Entry point of the `moec` binary.
import { spawn } from "node:child_process";
import { main } from "./main.js";

/**
 * Dawn prints two warnings from native code straight to file descriptor 2 while it enumerates a
 * Vulkan adapter whose driver reports huge dynamic-buffer limits (lavapipe: "maxDynamicUniform/
 * StorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 ..."). They are
 * harmless (moec binds no dynamic offsets) and not the user's business, and native writes cannot
 * be intercepted inside the process: so the commands that open a GPU run in a child process whose
 * stderr passes through a filter that drops exactly these lines.
 */
const DAWN_NOISE =
  /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/;
/** Commands that never open a GPU run in this process; every other one (run, demo, ...) is filtered. */
const NO_GPU = new Set([
  "check",
  "params",
  "graph",
  "compile",
  "import-hf",
  "help",
  "--help",
  "-h",
  "--version",
]);
const CHILD_FLAG = "MOEC_STDERR_FILTERED";

function runFiltered(): void {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: ["inherit", "inherit", "pipe"],
    env: { ...process.env, [CHILD_FLAG]: "1" },
  });
  // Ctrl-C reaches the child too (same process group); the parent waits for its exit code.
  process.on("SIGINT", () => {});
  let pending = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    const lines = (pending + chunk).split("\n");
    pending = lines.pop()!;
    const kept = lines.filter((line) => !DAWN_NOISE.test(line));
    if (kept.length > 0) process.stderr.write(kept.join("\n") + "\n");
  });
  child.on("close", (code, signal) => {
    if (pending && !DAWN_NOISE.test(pending)) process.stderr.write(pending);
    if (signal) process.kill(process.pid, signal);
    else process.exitCode = code ?? 70;
  });
}

const io = {
  out: (text: string) => void process.stdout.write(text),
  err: (text: string) => void process.stderr.write(text),
};

const argv = process.argv.slice(2);
if (argv[0] !== undefined && !NO_GPU.has(argv[0]) && process.env[CHILD_FLAG] !== "1") {
  runFiltered();
} else {
  main(argv, io).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      // Only our own bugs reach here; user errors are diagnostics with exit code 1.
      process.stderr.write(
        `moec: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 70;
    },
  );
}
