import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Where the CLI's child processes write their V8 coverage (read by test/coverage/provider.ts).
const childCoverage = fileURLToPath(new URL("./.coverage-children", import.meta.url));
const coverageOn =
  process.argv.includes("--coverage") || process.argv.some((a) => a.startsWith("--coverage."));
const setup = {
  setupFiles: ["test/coverage/childProcesses.ts"],
  // The CLI's manifest cache on disk is off unless a test turns it on (test/cli.cache.test.ts):
  // entries left by one test would answer another's requests.
  env: { REGKIT_CACHE_DIR: "", ...(coverageOn ? { REGKIT_CHILD_COVERAGE: childCoverage } : {}) },
};

// Three projects: fast unit tests beside the code, integration tests that
// start real registries (CNCF distribution, regkit's embedded one) and skopeo,
// and the examples' own tests.
// Timeouts are generous bounds, not assertions: property tests take seconds
// alone and half a minute on a loaded machine.
export default defineConfig({
  test: {
    coverage: {
      provider: "custom",
      customProviderModule: "./test/coverage/module.ts",
      include: ["src/**/*.ts"],
      exclude: ["src/**/*.test.ts"],
      reporter: ["text-summary", "json-summary", "html"],
      // The numbers are worth seeing even when a test failed.
      reportOnFailure: true,
      // With the CLI's child processes counted; the README's Testing section has the measured
      // figures; the floors sit just below them.
      thresholds: { statements: 87, branches: 81 },
    },
    projects: [
      { test: { name: "unit", include: ["src/**/*.test.ts"], testTimeout: 60_000, ...setup } },
      // The examples import "regkit" as users do: the package's own exports, i.e. the built dist/.
      { test: { name: "examples", include: ["examples/**/*.test.ts"], testTimeout: 60_000, ...setup } },
      {
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          globalSetup: ["test/setup/global.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          ...setup,
        },
      },
    ],
  },
});
