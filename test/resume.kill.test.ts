/**
 * A large push killed with SIGKILL mid-upload, then run again: the second
 * run skips the blobs that landed, restarts the one that was in flight
 * through a new session (regkit keeps no session state across processes;
 * the registry's abandoned session is left to its purge), and the result has
 * the right digests.
 */
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Registry } from "../src/registry/registry.js";
import { startFaultProxy } from "../src/sim/faultProxy.js";
import { generateImage, writeOciLayout } from "../src/sim/images.js";

const CLI = join(import.meta.dirname, "..", "dist", "cli", "main.js");
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "regkit-kill-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("resume after SIGKILL", () => {
  it("a push killed mid-upload completes on the next run, sending only the blobs that had not landed", async () => {
    const image = await generateImage({ seed: "killed-push", layers: 4, layerSize: 3_000_000 });
    const layout = join(dir, "layout");
    await writeOciLayout(layout, image, "v1");
    // Each upload's closing PUT waits, so the kill lands while one is in flight.
    const proxy = await startFaultProxy({
      upstream: inject("distribution").url,
      faults: { rules: [{ kind: "latency", delayMs: 700, route: "/blobs/uploads/", method: "PUT" }] },
    });
    const direct = new Registry({ credentials: false });
    const name = `killed/push-${randomBytes(3).toString("hex")}`;
    const repo = direct.repository(inject("distribution").host, name);
    const blobs = [image.config, ...image.layers];
    const landed = async () => {
      const present = await Promise.all(blobs.map((b) => repo.blobs.exists(b.digest)));
      return blobs.filter((_, i) => present[i]);
    };
    try {
      const target = `${proxy.host}/${name}:v1`;
      const child = spawn(process.execPath, [CLI, "push", "--concurrency", "1", `${layout}:v1`, target], {
        stdio: "ignore",
      });
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      while ((await landed()).length < 2) await new Promise((r) => setTimeout(r, 50));
      child.kill("SIGKILL");
      expect(await exited).toBeNull();
      // The proxy still holds the killed process's last PUT for its 700 ms delay and may
      // complete it upstream: let it settle, so that `before` and the log mark see it.
      await new Promise((r) => setTimeout(r, 2_500));
      const before = await landed();
      expect(before.length).toBeGreaterThanOrEqual(2);
      expect(before.length).toBeLessThan(blobs.length);
      expect(await repo.manifests.exists("v1")).toBe(false);

      const from = proxy.faults.log.length;
      const rerun = await new Promise<{ code: number; stdout: string }>((resolve) =>
        execFile(process.execPath, [CLI, "--json", "push", `${layout}:v1`, target], (error, stdout) =>
          resolve({ code: error ? Number(error.code ?? 1) : 0, stdout }),
        ),
      );
      expect(rerun.code).toBe(0);
      const puts = proxy.faults.log
        .slice(from)
        .filter((line) => /^PUT \/v2\/.+\/blobs\/uploads\/\S+ 201$/.test(line));
      expect(puts).toHaveLength(blobs.length - before.length);
      expect((await repo.manifests.fetch("v1")).descriptor.digest).toBe(image.manifest.digest);
      for (const blob of blobs) {
        const { stream } = await repo.blobs.fetch(blob.digest, { size: blob.size });
        for await (const _ of stream) {
          // verified while read
        }
      }
    } finally {
      await direct.close();
      await proxy.close();
    }
  });
});
