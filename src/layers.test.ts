/**
 * The layering of DESIGN (layers import only downwards), checked on the
 * source itself so that a stray import fails here and not in a review.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = import.meta.dirname;

/** What each layer may import besides itself. */
const ALLOWED: Record<string, string[]> = {
  core: [],
  transport: ["core"],
  auth: ["core", "transport"],
  registry: ["core", "transport", "auth"],
  store: ["core", "transport", "auth", "registry"],
  copy: ["core", "transport", "auth", "registry", "store"],
  providers: ["core", "transport", "auth", "registry", "store", "copy"],
  sim: ["core"],
  cli: ["core", "transport", "auth", "registry", "store", "copy", "providers", "sim"],
  demo: ["core", "transport", "auth", "registry", "store", "copy", "providers", "sim", "cli"],
  "index.ts": ["core", "transport", "auth", "registry", "store", "copy", "sim"],
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** Relative imports of a file (static, type-only and dynamic), as paths under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const found = text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["'](\.{1,2}\/[^"']+)["']/g);
  return [...found].map((m) => relative(SRC, normalize(join(dirname(file), m[1]!))).replace(/\.js$/, ".ts"));
}

const graph = new Map(sources(SRC).map((file) => [relative(SRC, file), importsOf(file)]));
const layerOf = (path: string) => path.split("/")[0]!;

describe("layers", () => {
  it("import only downwards", () => {
    const wrong: string[] = [];
    for (const [from, targets] of graph) {
      for (const to of targets) {
        const [a, b] = [layerOf(from), layerOf(to)];
        if (a !== b && !ALLOWED[a]?.includes(b)) wrong.push(`${from} -> ${to}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("have no import cycles", () => {
    const state = new Map<string, "open" | "done">();
    const cycles: string[] = [];
    const visit = (node: string, path: string[]) => {
      if (state.get(node) === "done") return;
      if (state.get(node) === "open") {
        cycles.push([...path.slice(path.indexOf(node)), node].join(" -> "));
        return;
      }
      state.set(node, "open");
      for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
      state.set(node, "done");
    };
    for (const node of graph.keys()) visit(node, []);
    expect(cycles).toEqual([]);
  });

  it("keep provider fakes out of the simulation base", () => {
    // Fakes live in sim/<provider>/ and are listed by sim/fakes.ts; the base
    // (app, routes, auth, storage, server) must not know any of them.
    const isFake = (path: string) => /^sim\/(?!auth\/|routes\/)[^/]+\//.test(path) || path === "sim/fakes.ts";
    const wrong = [...graph]
      .filter(([from]) => from.startsWith("sim/") && !isFake(from) && from !== "sim/index.ts")
      .flatMap(([from, targets]) => targets.filter(isFake).map((to) => `${from} -> ${to}`));
    expect(wrong).toEqual([]);
    expect(graph.get("sim/fakes.ts")).toContain("sim/dockerhub/fake.ts");
  });
});
