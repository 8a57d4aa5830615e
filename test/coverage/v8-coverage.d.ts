// @bcoe/v8-coverage ships no types; the part the provider uses.
declare module "@bcoe/v8-coverage" {
  import type { Profiler } from "node:inspector";
  export interface ProcessCov {
    result: Profiler.ScriptCoverage[];
  }
  export function mergeProcessCovs(processCovs: ProcessCov[]): ProcessCov;
}
