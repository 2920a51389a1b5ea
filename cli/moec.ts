#!/usr/bin/env node
// Entry point of the `moec` binary.
import { main } from "./main.js";

const io = {
  out: (text: string) => void process.stdout.write(text),
  err: (text: string) => void process.stderr.write(text),
};

main(process.argv.slice(2), io).then(
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
