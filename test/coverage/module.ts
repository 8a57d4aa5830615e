/** vitest's V8 coverage module, whose report also counts the CLI's child processes (provider.ts). */
import v8 from "@vitest/coverage-v8";
import type { CoverageProviderModule } from "vitest/node";

const module: CoverageProviderModule = {
  ...v8,
  // Loaded only in the main process: workers use v8's own start/take/stop.
  getProvider: async () => new (await import("./provider.js")).ChildProcessCoverageProvider(),
};
export default module;
