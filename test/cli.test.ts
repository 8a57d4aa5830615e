/**
 * The regkit command as users run it: the built `dist/cli/main.js` in a child
 * process, against the embedded registry and the real distribution registry.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { digestOf } from "../src/core/digest.js";
import { Registry } from "../src/registry/registry.js";
import { type GeneratedIndex, generateIndex } from "../src/sim/images.js";
import { startRegistryServer } from "../src/sim/server.js";

const CLI = join(import.meta.dirname, "..", "dist", "cli", "main.js");

interface Result {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function regkit(...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { encoding: "buffer", timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr: stderr.toString("utf8") });
      },
    );
  });
}

async function pushDemo(host: string, repoName: string, content: GeneratedIndex): Promise<void> {
  const registry = new Registry();
  try {
    const repo = registry.repository(host, repoName);
    for (const image of content.images) {
      for (const blob of [image.config, ...image.layers]) {
        await repo.uploads.upload(blob.bytes, { digest: blob.digest, size: blob.size });
      }
      await repo.manifests.put(image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
    }
    for (const tag of ["v1", "v2", "latest"]) {
      await repo.manifests.put(tag, content.index.bytes, content.index.mediaType);
    }
  } finally {
    await registry.close();
  }
}

describe.each([{ label: "embedded" }, { label: "distribution" }])(
  "regkit CLI against the $label registry",
  ({ label }) => {
    let host: string;
    let stop: (() => Promise<void>) | undefined;
    let content: GeneratedIndex;
    const repo = `cli/${label}/app`;

    beforeAll(async () => {
      if (label === "embedded") {
        const server = await startRegistryServer({ port: 0 });
        host = server.host;
        stop = () => server.close();
      } else {
        host = inject("distribution").host;
      }
      content = await generateIndex({ seed: `cli-${label}`, platforms: ["linux/amd64", "linux/arm64/v8"] });
      await pushDemo(host, repo, content);
    });
    afterAll(async () => stop?.());

    it("manifest get prints the index, --raw its exact bytes, --json a summary", async () => {
      const pretty = await regkit("manifest", "get", `${host}/${repo}:v1`);
      expect(pretty.code).toBe(0);
      expect(JSON.parse(pretty.stdout.toString()).manifests).toHaveLength(2);
      const raw = await regkit("manifest", "get", "--raw", `${host}/${repo}:v1`);
      expect(raw.stdout.equals(content.index.bytes)).toBe(true);
      const json = await regkit("--json", "manifest", "get", `${host}/${repo}:v1`);
      expect(JSON.parse(json.stdout.toString())).toMatchObject({
        digest: content.index.digest,
        size: content.index.size,
      });
    });

    it("resolves a platform", async () => {
      const result = await regkit(
        "manifest",
        "get",
        "--raw",
        "--platform",
        "linux/arm64",
        `${host}/${repo}:v1`,
      );
      expect(result.stdout.equals(content.images[1]!.manifest.bytes)).toBe(true);
      const digest = await regkit("digest", "--platform", "linux/amd64", `${host}/${repo}:v1`);
      expect(digest.stdout.toString().trim()).toBe(content.images[0]!.manifest.digest);
    });

    it("digest prints only the digest", async () => {
      const result = await regkit("digest", `${host}/${repo}:v1`);
      expect(result).toMatchObject({ code: 0, stderr: "" });
      expect(result.stdout.toString()).toBe(`${content.index.digest}\n`);
    });

    it("ls and catalog list everything, one per line or as JSON", async () => {
      // distribution 2.8 lists tags in storage order; the embedded registry sorts them.
      const sorted = (list: string[]) => (label === "distribution" ? [...list].sort() : list);
      const tags = await regkit("ls", `${host}/${repo}`);
      expect(tags.stdout.toString().endsWith("\n")).toBe(true);
      expect(sorted(tags.stdout.toString().trim().split("\n"))).toEqual(["latest", "v1", "v2"]);
      const json = await regkit("--json", "tags", "--page-size", "1", `${host}/${repo}`);
      expect(sorted(JSON.parse(json.stdout.toString()) as string[])).toEqual(["latest", "v1", "v2"]);
      const catalog = await regkit("catalog", host);
      expect(catalog.stdout.toString().split("\n")).toContain(repo);
    });

    it("blob head and blob get -o write verified content", async () => {
      const layer = content.images[0]!.layers[0]!;
      const head = await regkit("blob", "head", `${host}/${repo}@${layer.digest}`);
      expect(head.stdout.toString()).toBe(`${layer.digest} ${layer.size}\n`);
      const dir = await mkdtemp(join(tmpdir(), "regkit-cli-"));
      try {
        const out = join(dir, "layer.tgz");
        const get = await regkit("blob", "get", "-o", out, `${host}/${repo}@${layer.digest}`);
        expect(get.code).toBe(0);
        expect(digestOf(await readFile(out))).toBe(layer.digest);
        const stdout = await regkit("blob", "get", `${host}/${repo}@${layer.digest}`);
        expect(stdout.stdout.equals(layer.bytes)).toBe(true);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it("a missing manifest exits 3 with one line", async () => {
      const result = await regkit("manifest", "get", `${host}/${repo}:nope`);
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/^regkit: .*MANIFEST_UNKNOWN.*\n$/);
    });
  },
);

describe("regkit CLI contract", () => {
  let hostile: Server;
  let hostileHost: string;

  beforeAll(async () => {
    hostile = createServer((_req, res) => res.end("not the blob you asked for"));
    await new Promise<void>((resolve) => hostile.listen(0, "127.0.0.1", resolve));
    hostileHost = `127.0.0.1:${(hostile.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    hostile.closeAllConnections();
    await new Promise((resolve) => hostile.close(resolve));
  });

  it("--version and --help", async () => {
    const pkg = JSON.parse(await readFile(join(import.meta.dirname, "..", "package.json"), "utf8")) as {
      version: string;
    };
    const version = await regkit("--version");
    expect(version).toMatchObject({ code: 0 });
    expect(version.stdout.toString().trim()).toBe(pkg.version);
    const help = await regkit("--help");
    expect(help.code).toBe(0);
    for (const command of ["manifest", "digest", "ls", "catalog", "blob", "serve"]) {
      expect(help.stdout.toString()).toContain(command);
    }
  });

  it.each([
    [["manifest", "get", "UPPER/Case"], 2, /invalid reference/],
    [["digest", "a@sha256:1234"], 2, /invalid (reference|digest)/],
    [["blob", "get", "127.0.0.1:1/a:tag"], 2, /needs a digest/],
    [["manifest", "get", "--platform", "linux", "127.0.0.1:1/a:b"], 2, /platform/],
    [["no-such-command"], 2, /unknown command/],
    [["digest", "127.0.0.1:1/nothing/listens:here"], 7, /127\.0\.0\.1:1/],
  ])("regkit %j exits %i with a one-line message", async (args, code, pattern) => {
    const result = await regkit(...args);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(pattern);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("stops quietly when the reader of its output goes away (| head)", async () => {
    // `true` exits without reading: every write after that is EPIPE, which must not become a stack trace.
    for (let i = 0; i < 3; i++) {
      const { stderr } = await new Promise<{ stderr: string }>((resolve) =>
        execFile("/bin/sh", ["-c", `"${process.execPath}" "${CLI}" --help | true`], (_error, _stdout, err) =>
          resolve({ stderr: String(err) }),
        ),
      );
      expect(stderr).toBe("");
    }
  });

  it("a blob whose bytes do not match exits 6 and leaves no file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "regkit-cli-"));
    try {
      const out = join(dir, "blob");
      const result = await regkit(
        "blob",
        "get",
        "-o",
        out,
        `${hostileHost}/a/b@${digestOf("the real blob")}`,
      );
      expect(result.code).toBe(6);
      expect(result.stderr).toMatch(/^regkit: blob digest mismatch/);
      await expect(stat(out)).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("serve prints its endpoint, serves, and stops on SIGTERM", async () => {
    const child = spawn(process.execPath, [CLI, "serve", "--port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.once("data", (data: Buffer) => resolve(data.toString()));
      child.once("exit", (code) => reject(new Error(`serve exited early with ${code}`)));
    });
    const match = /^registry (http:\/\/127\.0\.0\.1:(\d+))\n$/.exec(line);
    expect(match).not.toBeNull();
    const response = await fetch(`${match![1]}/v2/`);
    expect(response.status).toBe(200);
    const exit = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
  });
});
