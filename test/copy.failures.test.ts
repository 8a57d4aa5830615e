/** Copies that go wrong: a corrupt source, an interrupted run, Ctrl-C. */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copy } from "../src/copy/copy.js";
import { isRegkitError } from "../src/core/errors.js";
import type { Descriptor } from "../src/core/manifest.js";
import { Registry } from "../src/registry/registry.js";
import { generateImage } from "../src/sim/images.js";
import { type RegistryServer, startRegistryServer } from "../src/sim/server.js";
import { MemoryStore } from "../src/store/memoryStore.js";
import { OciLayoutStore } from "../src/store/ociLayoutStore.js";
import { RemoteStore } from "../src/store/remoteStore.js";

const CLI = join(import.meta.dirname, "..", "dist", "cli", "main.js");
let server: RegistryServer;
let registry: Registry;
let dir: string;

beforeAll(async () => {
  server = await startRegistryServer();
  registry = new Registry({ credentials: false });
  dir = await mkdtemp(join(tmpdir(), "regkit-copy-fail-"));
});
afterAll(async () => {
  await registry.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function sourceWith(seed: string, layers = 4) {
  const image = await generateImage({ seed, layers, layerSize: 100_000 });
  const memory = new MemoryStore();
  for (const blob of [image.config, ...image.layers])
    await memory.pushBlob(blob, async () => Readable.from([blob.bytes]));
  await memory.pushManifest(image.manifest, image.manifest.bytes, "v1");
  return { image, memory };
}

/** A source whose blobs go bad on request. */
class FlakySource extends MemoryStore {
  constructor(
    private readonly inner: MemoryStore,
    private readonly fail: (descriptor: Descriptor) => "corrupt" | "break" | undefined,
  ) {
    super();
  }
  override resolve(reference: string) {
    return this.inner.resolve(reference);
  }
  override fetchManifest(descriptor: Descriptor) {
    return this.inner.fetchManifest(descriptor);
  }
  override async fetchBlob(descriptor: Descriptor, offset = 0): Promise<Readable> {
    const mode = this.fail(descriptor);
    if (mode === "break") throw new Error("source went away");
    if (mode === "corrupt") return Readable.from([Buffer.alloc(descriptor.size - offset, 1)]);
    return this.inner.fetchBlob(descriptor, offset);
  }
}

describe("copies that fail", () => {
  it("a blob whose bytes do not match fails the copy and the destination gets no tag", async () => {
    const { image, memory } = await sourceWith("corrupt");
    const bad = image.layers[2]!.digest;
    const source = new FlakySource(memory, (d) => (d.digest === bad ? "corrupt" : undefined));
    const destination = new RemoteStore(registry.repository(server.host, "fail/corrupt"));
    const error = await copy(source, "v1", destination, "v1").catch((e: unknown) => e);
    expect(isRegkitError(error) && error.category).toBe("integrity");
    // The destination refused the bytes, but the source served them wrong: the source is named.
    expect((error as Error).message).toMatch(/^copy failed at the source .*digest mismatch/);
    expect(await registry.repository(server.host, "fail/corrupt").manifests.exists("v1")).toBe(false);
    expect(await registry.repository(server.host, "fail/corrupt").blobs.exists(bad)).toBe(false);
  });

  it("a failed copy into a layout returns only once the blobs under way are done: no temporary file outlives it", async () => {
    const { image, memory } = await sourceWith("settle", 4);
    const broken = image.layers[0]!.digest;
    class SlowSource extends FlakySource {
      override async fetchBlob(descriptor: Descriptor, offset = 0): Promise<Readable> {
        if (descriptor.digest === broken) throw new Error("source went away");
        const whole = await memory.fetchBlob(descriptor, offset);
        // Half now, the rest a while after the broken blob has failed the copy.
        return Readable.from(
          (async function* () {
            const chunks: Buffer[] = [];
            for await (const chunk of whole) chunks.push(chunk as Buffer);
            const bytes = Buffer.concat(chunks);
            yield bytes.subarray(0, bytes.length >> 1);
            await new Promise((resolve) => setTimeout(resolve, 300));
            yield bytes.subarray(bytes.length >> 1);
          })(),
        );
      }
    }
    const layout = join(dir, "settle");
    const error = await copy(
      new SlowSource(memory, () => undefined),
      "v1",
      new OciLayoutStore(layout),
      "v1",
    ).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/^copy failed at the source .*source went away/);
    const files = await readdir(layout, { recursive: true });
    expect(files.filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("an interrupted copy, run again, moves only what is missing", async () => {
    const { image, memory } = await sourceWith("interrupted");
    const broken = new Set([image.layers[2]!.digest, image.layers[3]!.digest]);
    const destination = new RemoteStore(registry.repository(server.host, "fail/rerun"));
    const first = await copy(
      new FlakySource(memory, (d) => (broken.has(d.digest) ? "break" : undefined)),
      "v1",
      destination,
      "v1",
      {
        concurrency: 1,
      },
    ).catch((e: unknown) => e);
    expect((first as { origin?: string }).origin).toBe("source");
    const second = await copy(memory, "v1", destination, "v1");
    expect(second.blobs).toEqual({ copied: 2, skipped: 3, mounted: 0 });
    expect((await registry.repository(server.host, "fail/rerun").manifests.head("v1")).digest).toBe(
      image.manifest.digest,
    );
  });

  it("Ctrl-C during a pull exits 130 and leaves no temporary file", async () => {
    const slow = await startRegistryServer({
      faults: {
        rules: [{ kind: "trickle", bytes: 16_384, delayMs: 50, route: "/blobs/sha256", method: "GET" }],
      },
    });
    try {
      const image = await generateImage({ seed: "ctrl-c", layers: 2, layerSize: 2_000_000 });
      const repo = registry.repository(slow.host, "slow/app");
      for (const blob of [image.config, ...image.layers]) await repo.uploads.upload(blob.bytes, blob);
      await repo.manifests.put("v1", image.manifest.bytes, image.manifest.mediaType);
      const layout = join(dir, "interrupted");
      const child = spawn(process.execPath, [CLI, "pull", `${slow.host}/slow/app:v1`, layout], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      const tmpSeen = async () => {
        const files = await readdir(join(layout, "blobs", "sha256")).catch(() => [] as string[]);
        return files.some((f) => f.endsWith(".tmp"));
      };
      for (let i = 0; i < 200 && !(await tmpSeen()); i++) await new Promise((r) => setTimeout(r, 25));
      expect(await tmpSeen()).toBe(true);
      const exit = new Promise<number | null>((resolve) => child.once("exit", resolve));
      child.kill("SIGINT");
      expect(await exit).toBe(130);
      expect(stderr).toMatch(/regkit: interrupted; \d+ temporary files? removed/);
      expect(await tmpSeen()).toBe(false);
      expect(await readdir(layout)).not.toContain("index.json");
    } finally {
      await slow.close();
    }
  });
});
