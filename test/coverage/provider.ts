/**
 * vitest's V8 coverage provider, plus the coverage of the `regkit` child
 * processes the CLI tests run (see childProcesses.ts): their V8 coverage of
 * `dist/**.js` is mapped back to `src/**.ts` through tsc's source maps and
 * merged into the same report, so thresholds and `coverage-summary.json`
 * count the CLI as it really runs.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { mergeProcessCovs, type ProcessCov } from "@bcoe/v8-coverage";
import { V8CoverageProvider } from "@vitest/coverage-v8/dist/provider.js";
import type { ReportContext } from "vitest/node";

type Remap = (
  url: string,
  wrapperLength: number,
  source: { code: string; map: unknown },
  functions: unknown,
) => Promise<object>;

export const CHILD_COVERAGE_DIR = fileURLToPath(new URL("../../.coverage-children", import.meta.url));
const DIST = pathToFileURL(fileURLToPath(new URL("../../dist/", import.meta.url))).href;

export class ChildProcessCoverageProvider extends V8CoverageProvider {
  override async clean(clean = true): Promise<void> {
    await super.clean(clean);
    await rm(CHILD_COVERAGE_DIR, { recursive: true, force: true });
  }

  override async generateCoverage(context: ReportContext) {
    const coverageMap = await super.generateCoverage(context);
    const alone = coverageMap.getCoverageSummary();
    const pct = (metric: "statements" | "branches" | "functions" | "lines") => `${alone[metric].pct}%`;
    this.ctx.logger.log(
      `Coverage without the CLI's child processes: statements ${pct("statements")}, branches ${pct("branches")}, functions ${pct("functions")}, lines ${pct("lines")}`,
    );
    let merged: ProcessCov = { result: [] };
    const files = await readdir(CHILD_COVERAGE_DIR).catch(() => [] as string[]);
    for (const file of files) {
      if (!file.endsWith(".json")) continue;
      const raw = JSON.parse(await readFile(join(CHILD_COVERAGE_DIR, file), "utf8")) as ProcessCov;
      // Only regkit's own compiled modules; Node internals and dependencies are dropped before merging.
      const result = raw.result.filter((script) => script.url.startsWith(DIST) && script.url.endsWith(".js"));
      if (result.length > 0) merged = mergeProcessCovs([merged, { result }]);
    }
    for (const script of merged.result) {
      const path = fileURLToPath(script.url);
      const code = await readFile(path, "utf8").catch(() => undefined);
      const map = await readFile(`${path}.map`, "utf8").then(
        (text) => JSON.parse(text) as { sources: string[] },
        () => undefined,
      );
      if (code === undefined || !map) continue;
      map.sources = map.sources.map((source) => new URL(source, script.url).href);
      // The same conversion vitest applies to its own workers' coverage (ast-v8-to-istanbul).
      const remap = (this as unknown as { remapCoverage: Remap }).remapCoverage.bind(this);
      const converted = this.createCoverageMap();
      converted.merge((await remap(script.url, 0, { code, map }, script.functions)) as never);
      for (const file of converted.files()) {
        const child = converted.fileCoverageFor(file);
        const known = coverageMap.data[file] as { data: FileData & { all?: boolean } } | undefined;
        if (!known || known.data.all) coverageMap.addFileCoverage(child);
        else addHits(known.data, child.data as unknown as FileData);
      }
    }
    coverageMap.filter((filename: string) => this.isIncluded(filename));
    return coverageMap;
  }
}

interface Location {
  start: { line: number; column: number };
  end: { line: number; column: number };
}
/** The part of istanbul's file coverage data matched here. */
interface FileData {
  statementMap: Record<string, Location>;
  fnMap: Record<string, { decl: Location }>;
  branchMap: Record<string, { loc: Location; type: string }>;
  s: Record<string, number>;
  f: Record<string, number>;
  b: Record<string, number[]>;
}
const at = (loc: Location) => `${loc.start.line}:${loc.start.column}`;

/** The entry of `map` that starts where `loc` starts, else the smallest one enclosing it. */
function matching<T>(
  map: Record<string, T>,
  locOf: (entry: T) => Location,
  loc: Location,
): string | undefined {
  let best: { id: string; size: number } | undefined;
  for (const [id, entry] of Object.entries(map)) {
    const range = locOf(entry);
    if (at(range) === at(loc)) return id;
    const before = (a: Location["start"], b: Location["start"]) =>
      a.line < b.line || (a.line === b.line && a.column <= b.column);
    if (before(range.start, loc.start) && before(loc.end, range.end)) {
      const size = (range.end.line - range.start.line) * 10_000 + (range.end.column - range.start.column);
      if (!best || size < best.size) best = { id, size };
    }
  }
  return best?.id;
}

/**
 * Adds a child process's hits to the in-process coverage of the same file.
 * Both come from the same TypeScript, but through different compilers (vite's
 * esbuild and tsc), so their locations differ slightly: merging them as
 * istanbul does would count such statements twice. Each hit goes to the
 * statement, function or branch at the same place instead.
 */
function addHits(base: FileData, child: FileData): void {
  for (const [id, hits] of Object.entries(child.s)) {
    if (hits === 0) continue;
    const target = matching(base.statementMap, (e) => e, child.statementMap[id]!);
    if (target !== undefined) base.s[target] = (base.s[target] ?? 0) + hits;
  }
  for (const [id, hits] of Object.entries(child.f)) {
    if (hits === 0) continue;
    const target = matching(base.fnMap, (e) => e.decl, child.fnMap[id]!.decl);
    if (target !== undefined) base.f[target] = (base.f[target] ?? 0) + hits;
  }
  for (const [id, hits] of Object.entries(child.b)) {
    if (hits.every((h) => h === 0)) continue;
    const branch = child.branchMap[id]!;
    const target = matching(base.branchMap, (e) => e.loc, branch.loc);
    const into = target === undefined ? undefined : base.b[target];
    if (!into || base.branchMap[target!]!.type !== branch.type || into.length !== hits.length) continue;
    hits.forEach((h, i) => {
      into[i] = (into[i] ?? 0) + h;
    });
  }
}
