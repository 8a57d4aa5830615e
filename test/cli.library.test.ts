/**
 * What the command line adds for users who install it: telemetry over
 * OTLP/HTTP when OTEL_* variables ask for it (against a small receiver
 * started here), the Node version check, shell completion and --progress.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Registry } from "../src/registry/registry.js";
import { type GeneratedImage, generateImage } from "../src/sim/images.js";
import { type RegistryServer, startRegistryServer } from "../src/sim/server.js";

const CLI = join(import.meta.dirname, "..", "dist", "cli", "main.js");

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function regkit(args: string[], env: NodeJS.ProcessEnv = {}, node = process.execPath): Promise<Result> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("OTEL_")));
  return new Promise((resolve) => {
    execFile(
      node,
      [CLI, ...args],
      { timeout: 60_000, env: { ...clean, ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** An OTLP/HTTP receiver: keeps every JSON body by path. */
async function startReceiver(): Promise<{
  url: string;
  bodies: Map<string, unknown[]>;
  close(): Promise<void>;
}> {
  const bodies = new Map<string, unknown[]>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const list = bodies.get(request.url ?? "") ?? [];
      list.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      bodies.set(request.url ?? "", list);
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface OtlpSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
}
interface OtlpAttribute {
  key: string;
  value: { stringValue?: string };
}
interface OtlpTraces {
  resourceSpans: Array<{
    resource: { attributes: OtlpAttribute[] };
    scopeSpans: Array<{ spans: OtlpSpan[] }>;
  }>;
}
interface OtlpMetrics {
  resourceMetrics: Array<{ scopeMetrics: Array<{ metrics: Array<{ name: string }> }> }>;
}

let server: RegistryServer;
let image: GeneratedImage;

beforeAll(async () => {
  server = await startRegistryServer();
  image = await generateImage({ seed: "cli-library", layers: 2 });
  const registry = new Registry({ credentials: false });
  try {
    const repo = registry.repository(server.host, "lib/app");
    for (const blob of [image.config, ...image.layers])
      await repo.uploads.upload(blob.bytes, { digest: blob.digest, size: blob.size });
    await repo.manifests.put("v1", image.manifest.bytes, image.manifest.mediaType);
  } finally {
    await registry.close();
  }
});
afterAll(async () => {
  await server.close();
});

describe("telemetry from the command line", () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
  });

  it("exports the run's spans and metrics over OTLP/HTTP before exiting", async () => {
    receiver.bodies.clear();
    const result = await regkit(["digest", `${server.host}/lib/app:v1`], {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: "regkit-under-test",
    });
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toBe(image.manifest.digest);
    // The process has exited: whatever was exported has arrived.
    const traces = (receiver.bodies.get("/v1/traces") ?? []) as OtlpTraces[];
    const resources = traces.flatMap((t) => t.resourceSpans);
    expect(resources[0]?.resource.attributes).toContainEqual({
      key: "service.name",
      value: { stringValue: "regkit-under-test" },
    });
    const spans = resources.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    const root = spans.find((s) => s.name === "regkit digest");
    const head = spans.find((s) => s.name === "oci.manifest.head");
    expect(root).toBeDefined();
    expect(head?.traceId).toBe(root?.traceId);
    expect(spans.some((s) => s.parentSpanId === root?.spanId)).toBe(true);
    const metrics = (receiver.bodies.get("/v1/metrics") ?? []) as OtlpMetrics[];
    const names = metrics.flatMap((m) =>
      m.resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics.map((x) => x.name))),
    );
    expect(names).toContain("regkit.http.requests");
  });

  it("names the root span after the command, not after a global option's value before it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "regkit-span-"));
    try {
      receiver.bodies.clear();
      const cassette = join(dir, "session.har");
      const result = await regkit(["--record", cassette, "ls", `${server.host}/lib/app`], {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      });
      expect(result.code).toBe(0);
      expect(result.stdout.trim()).toBe("v1");
      const traces = (receiver.bodies.get("/v1/traces") ?? []) as OtlpTraces[];
      const spans = traces.flatMap((t) =>
        t.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)),
      );
      const roots = spans.filter((s) => !s.parentSpanId);
      expect(roots.map((s) => s.name)).toEqual(["regkit ls"]);
      expect(existsSync(cassette)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("exports only the signals asked for (OTEL_TRACES_EXPORTER=none keeps metrics)", async () => {
    receiver.bodies.clear();
    const result = await regkit(["digest", `${server.host}/lib/app:v1`], {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_TRACES_EXPORTER: "none",
    });
    expect(result.code).toBe(0);
    expect(receiver.bodies.has("/v1/traces")).toBe(false);
    expect(receiver.bodies.get("/v1/metrics")?.length).toBeGreaterThan(0);
  });

  it("sends nothing when no OTEL_* variable is set", async () => {
    receiver.bodies.clear();
    const result = await regkit(["digest", `${server.host}/lib/app:v1`]);
    expect(result.code).toBe(0);
    expect([...receiver.bodies.keys()]).toEqual([]);
  });
});

/** The first `node` on PATH older than 22 (the system Node), outside this project's node_modules. */
function oldNode(): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir.includes("node_modules")) continue;
    const candidate = join(dir, "node");
    if (existsSync(candidate) && candidate !== process.execPath) return candidate;
  }
  for (const candidate of ["/usr/bin/node", "/usr/local/bin/node"])
    if (existsSync(candidate)) return candidate;
  throw new Error("no system node on PATH to check the engines guard with");
}

describe("an older Node", () => {
  it("exits 1 at start with one line naming the required version", async () => {
    const node = oldNode();
    const version = await new Promise<string>((resolve) =>
      execFile(node, ["--version"], (_e, stdout) => resolve(stdout.trim())),
    );
    const major = Number(version.slice(1).split(".")[0]);
    const result = await regkit(["digest", `${server.host}/lib/app:v1`], {}, node);
    if (major >= 22) {
      // This machine's system Node is new enough: the guard must then let it run.
      expect(result.code).toBe(0);
      return;
    }
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(`regkit: needs Node.js >=22; this is ${version}\n`);
  });
});

describe("completion", () => {
  it.each([
    ["bash", "complete -o default -F _regkit regkit", "--progress"],
    ["zsh", "#compdef regkit", "--progress"],
    ["fish", "complete -c regkit", "-l progress -xa 'auto bar plain none'"],
  ])("prints a %s script naming the commands and their options", async (shell, marker, progress) => {
    const result = await regkit(["completion", shell]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(marker);
    expect(result.stdout).toContain(progress);
    for (const word of ["copy", "manifest", "digest", "serve", "platform"])
      expect(result.stdout).toContain(word);
  });

  it("refuses an unknown shell as a usage error", async () => {
    const result = await regkit(["completion", "tcsh"]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("bash completes subcommands and options when the script is sourced", async () => {
    const script = (await regkit(["completion", "bash"])).stdout;
    const words = (...line: string[]) =>
      new Promise<string[]>((resolve, reject) => {
        const program = `${script}
COMP_WORDS=(${line.map((w) => `"${w}"`).join(" ")}); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); _regkit; printf '%s\\n' "\${COMPREPLY[@]}"`;
        execFile("bash", ["-c", program], (error, stdout) =>
          error ? reject(error) : resolve(stdout.split("\n")),
        );
      });
    expect(await words("regkit", "co")).toEqual(expect.arrayContaining(["copy", "config", "completion"]));
    expect(await words("regkit", "manifest", "")).toEqual(expect.arrayContaining(["get", "put", "delete"]));
    expect(await words("regkit", "copy", "--pro")).toEqual(expect.arrayContaining(["--progress"]));
    expect(await words("regkit", "copy", "--progress", "p")).toEqual(["plain", ""]);
  });
});

describe("--progress", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "regkit-progress-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("plain prints one line per blob on a pipe; auto prints nothing there", async () => {
    const plain = await regkit([
      "pull",
      "--progress",
      "plain",
      `${server.host}/lib/app:v1`,
      join(dir, "plain"),
    ]);
    expect(plain.code).toBe(0);
    const lines = plain.stderr.trimEnd().split("\n");
    const blobs = [image.config, ...image.layers];
    expect(lines.slice(0, -1).sort()).toEqual(
      blobs.map((b) => `blob ${b.digest} copied ${(b.size / 1e6).toFixed(1)} MB`).sort(),
    );
    expect(lines.at(-1)).toMatch(/^3 blobs, \d+\.\d MB copied in \d+\.\d s$/);
    const auto = await regkit(["pull", `${server.host}/lib/app:v1`, join(dir, "auto")]);
    expect(auto.code).toBe(0);
    expect(auto.stderr).toBe("");
  });

  it("refuses an unknown mode as a usage error", async () => {
    const result = await regkit(["pull", "--progress", "fancy", `${server.host}/lib/app:v1`, join(dir, "x")]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("fancy");
  });
});
