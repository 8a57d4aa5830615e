/**
 * The examples in examples/, run as users run them (`node examples/X.ts`,
 * importing "regkit" through the package's exports), against embedded
 * registries they start and, for Docker Hub, the fake started here.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..");
const CLI = join(ROOT, "dist", "cli", "main.js");

function example(name: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(ROOT, "examples", name)],
      { cwd: ROOT, timeout: 90_000, env: { ...process.env, ...env } },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${name}: ${error.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

describe("examples", () => {
  it("copy-with-progress copies a two-platform image, then moves nothing the second time", async () => {
    const out = await example("copy-with-progress.ts");
    expect(out).toMatch(/: 6 blobs copied \(\d+ bytes\), 3 manifests\n/);
    expect(out.match(/^done {4}sha256:/gm)).toHaveLength(6);
    expect(out).toContain("again: 6 blobs already there, 0 bytes moved");
  });

  it("pull-platform pulls linux/arm64 only, the registry's manifest for it", async () => {
    const out = await example("pull-platform.ts");
    expect(out).toMatch(/\(linux\/arm64\) into .*: 3 blobs/);
    expect(out).toMatch(/layout holds sha256:[0-9a-f]{64} tagged v1/);
    expect(out).toContain("matches the registry's linux/arm64 manifest");
  });

  it("list-semver-tags keeps the tags in range, in semver order", async () => {
    const out = await example("list-semver-tags.ts");
    expect(out).toContain("7 tags; matching ^1: 1.0.0 v1.2.0 1.10.3\n");
    expect(out).toContain("highest: 1.10.3");
  });

  describe("against the Docker Hub fake", () => {
    let dir: string;
    let child: ChildProcess;
    let urls: Record<string, string>;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "regkit-examples-"));
      await writeFile(join(dir, "users.txt"), "alice:secret\n");
      child = spawn(
        process.execPath,
        [
          CLI,
          "--json",
          "serve",
          "--port",
          "0",
          "--providers",
          "dockerhub",
          "--users",
          join(dir, "users.txt"),
        ].concat(["--pull-limit", "10:1"]),
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      urls = JSON.parse(
        await new Promise<string>((resolve) =>
          child.stdout!.once("data", (d: Buffer) => resolve(d.toString())),
        ),
      ) as Record<string, string>;
    });
    afterAll(async () => {
      child.kill();
      await rm(dir, { recursive: true, force: true });
    });

    it("dockerhub-pull-budget refuses a copy the budget cannot cover, before spending a pull", async () => {
      const out = await example("dockerhub-pull-budget.ts", {
        DOCKER_HUB_URL: urls["dockerhub-api"],
        DOCKER_HUB_REGISTRY_URL: urls["dockerhub-registry"],
        DOCKER_HUB_AUTH_URL: urls["dockerhub-auth"],
        DOCKER_HUB_USERNAME: "alice",
        DOCKER_HUB_PASSWORD: "secret",
        HOME: dir,
        DOCKER_CONFIG: dir,
      });
      expect(out).toContain("pull budget: 1 of 1 left (alice)");
      expect(out).toContain("planned, not spent: ");
      expect(out).toContain("2 pulls needed, 1 of 1 left");
      // The refusal spent nothing: the one-platform copy still has its pull.
      expect(out).toMatch(/one platform instead: sha256:[0-9a-f]{64} \(3 blobs\)/);
    });
  });
});
