import { defineConfig } from "vitest/config";

// Three projects: fast unit tests beside the code, integration tests that
// start real registries (CNCF distribution, regkit's embedded one) and skopeo,
// and the examples' own tests.
export default defineConfig({
  test: {
    coverage: {
      provider: "v8",
      include: ["src/**/*.ts"],
      exclude: ["src/**/*.test.ts"],
      reporter: ["text-summary", "html"],
    },
    projects: [
      { test: { name: "unit", include: ["src/**/*.test.ts"], testTimeout: 20_000 } },
      // The examples import "regkit" as users do: the package's own exports, i.e. the built dist/.
      { test: { name: "examples", include: ["examples/**/*.test.ts"], testTimeout: 60_000 } },
      {
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          globalSetup: ["test/setup/global.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
