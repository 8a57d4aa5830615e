// StrykerJS for one module of scripts/mutation.mjs (MUTATION_MODULE): which source it
// mutates and which tests must kill the mutants. `npm run mutation [module…]` runs them.
import { MODULES } from "./scripts/mutation-modules.mjs";

const name = process.env.MUTATION_MODULE ?? "digest";
const module = MODULES[name];
if (!module) throw new Error(`unknown mutation module ${name}; one of ${Object.keys(MODULES).join(", ")}`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutation.config.ts" },
  plugins: ["@stryker-mutator/vitest-runner"],
  mutate: module.mutate,
  coverageAnalysis: "perTest",
  checkers: [],
  concurrency: Number(process.env.MUTATION_CONCURRENCY ?? 2),
  timeoutMS: 30_000,
  // Module-level code runs once for all tests; only modules that ask for it mutate it.
  ignoreStatic: !module.static,
  reporters: ["clear-text", "progress", "json", "html"],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  tempDirName: `.stryker-tmp/${name}`,
  cleanTempDir: "always",
};
