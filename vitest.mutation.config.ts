import { defineConfig } from "vitest/config";

// The tests of one mutation-testing run (scripts/mutation.mjs sets MUTATION_TESTS per module):
// only those that exercise the module, so each mutant runs in seconds.
const tests = (process.env.MUTATION_TESTS ?? "").split(",").filter(Boolean);

export default defineConfig({
  test: {
    include: tests,
    // Integration suites need the real components their setup starts.
    globalSetup: tests.some((file) => file.startsWith("test/")) ? ["test/setup/global.ts"] : [],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
