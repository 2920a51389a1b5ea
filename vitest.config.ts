// Test-runner settings shared by every suite. Timeouts are hang guards only, generous enough never
// to fire on a healthy run on a loaded 2-core machine (property tests and GPU tests run for
// seconds there); speed is measured by the benchmarks, never asserted by a test.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
