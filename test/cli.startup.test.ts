/**
 * What a short command loads. `regkit digest` is a HEAD: its start-up is
 * mostly module loading, so the packages it does not need (zod's schemas,
 * pino, undici's fetch/WebSocket/cache code behind its index) must stay out.
 * Observed with a module hook in the child process, not timed. The command
 * is a bundle (scripts/bundle-cli.mjs): its files name each module they hold
 * in a `// node_modules/<package>/<file>` line, which is what is checked.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Registry } from "../src/registry/registry.js";
import { generateImage } from "../src/sim/images.js";
import { startRegistryServer } from "../src/sim/server.js";

const CLI = join(import.meta.dirname, "..", "dist", "cli", "main.js");

// Lists every module URL the process loads, on stderr at exit.
const HOOK = `data:text/javascript,${encodeURIComponent(`
import module from "node:module";
const loaded = [];
module.registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
process.on("exit", () => process.stderr.write("LOADED " + JSON.stringify(loaded) + "\\n"));
`)}`;

function loadedBy(args: string[]): Promise<{ stdout: string; modules: string[] }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", HOOK, CLI, ...args],
      { timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${error.message}\n${stderr}`));
        const line = stderr.split("\n").find((l) => l.startsWith("LOADED "));
        if (!line) return reject(new Error(`no module list on stderr: ${stderr}`));
        resolve({ stdout, modules: JSON.parse(line.slice("LOADED ".length)) as string[] });
      },
    );
  });
}

/** The package files a process loaded: from node_modules, or bundled into a file of dist/cli. */
function fromPackage(modules: string[], name: string): string[] {
  const found = modules.filter((url) => url.includes(`/node_modules/${name}/`));
  for (const url of modules.filter((u) => u.startsWith("file:") && u.includes("/dist/cli/"))) {
    const text = readFileSync(fileURLToPath(url), "utf8");
    for (const match of text.matchAll(new RegExp(`^// (node_modules/${name}/\\S+)$`, "gm")))
      found.push(`bundled:/${match[1]}`);
  }
  return found;
}

describe("regkit start-up", () => {
  let host: string;
  let stop: () => Promise<void>;
  let digest: string;

  beforeAll(async () => {
    const server = await startRegistryServer({ port: 0 });
    host = server.host;
    stop = () => server.close();
    const image = await generateImage({ seed: "startup", layers: 1 });
    const registry = new Registry();
    try {
      const repo = registry.repository(host, "start/up");
      for (const blob of [image.config, ...image.layers])
        await repo.uploads.upload(blob.bytes, { digest: blob.digest, size: blob.size });
      await repo.manifests.put("v1", image.manifest.bytes, image.manifest.mediaType);
    } finally {
      await registry.close();
    }
    digest = image.manifest.digest;
  });

  afterAll(async () => {
    await stop();
  });

  it("answers `digest` with a HEAD, loading neither zod nor pino nor undici's index", async () => {
    const { stdout, modules } = await loadedBy(["digest", `${host}/start/up:v1`]);
    expect(stdout.trim()).toBe(digest);
    expect(fromPackage(modules, "zod")).toEqual([]);
    expect(fromPackage(modules, "pino")).toEqual([]);
    // The OpenTelemetry SDK loads only when OTEL_* variables ask for export.
    expect(
      fromPackage(modules, "@opentelemetry").filter((url) => !url.includes("/@opentelemetry/api/")),
    ).toEqual([]);
    const undici = fromPackage(modules, "undici");
    expect(undici.length).toBeGreaterThan(0);
    expect(undici.filter((url) => url.endsWith("/node_modules/undici/index.js"))).toEqual([]);
    expect(undici.some((url) => url.endsWith("/node_modules/undici/lib/dispatcher/agent.js"))).toBe(true);
    expect(
      undici.filter((url) => /\/lib\/web\/(fetch\/index|websocket|cache|eventsource)/.test(url)),
    ).toEqual([]);
  });

  it("is one bundled entry with a few chunks, not a tree of modules", async () => {
    const { modules } = await loadedBy(["digest", `${host}/start/up:v1`]);
    const fromDist = modules.filter((url) => url.includes("/dist/"));
    expect(fromDist[0]).toMatch(/\/dist\/cli\/main\.js$/);
    expect(fromDist.every((url) => /\/dist\/cli\/(main|bundle-[\w-]+)\.js$/.test(url))).toBe(true);
    expect(modules.filter((url) => url.includes("/node_modules/"))).toEqual([]);
  });

  it("loads zod once a manifest body has to be parsed, with its English messages only", async () => {
    const { modules } = await loadedBy(["digest", "--platform", "linux/amd64", `${host}/start/up:v1`]);
    const zod = fromPackage(modules, "zod");
    expect(zod.length).toBeGreaterThan(0);
    expect(
      zod.filter((url) => url.includes("/locales/")).map((url) => url.replace(/^.*\/locales\//, "")),
    ).toEqual(["index.js", "en.js"]);
  });
});

describe("the library's start-up", () => {
  it('importing "regkit" leaves the embedded registry\'s server code unloaded until it is started', async () => {
    const script = `await import(${JSON.stringify(join(import.meta.dirname, "..", "dist", "index.js"))});`;
    const modules = await new Promise<string[]>((resolve, reject) =>
      execFile(
        process.execPath,
        ["--import", HOOK, "--input-type=module", "-e", script],
        { timeout: 60_000 },
        (error, _stdout, stderr) => {
          if (error) return reject(new Error(`${error.message}\n${stderr}`));
          const line = stderr.split("\n").find((l) => l.startsWith("LOADED "));
          resolve(JSON.parse(line?.slice("LOADED ".length) ?? "[]") as string[]);
        },
      ),
    );
    expect(modules.some((url) => url.endsWith("/dist/registry/registry.js"))).toBe(true);
    expect(modules.filter((url) => /\/dist\/sim\/(server|app)\.js$/.test(url))).toEqual([]);
    expect(modules.filter((url) => /\/node_modules\/(hono|@hono)\//.test(url))).toEqual([]);
  });
});
