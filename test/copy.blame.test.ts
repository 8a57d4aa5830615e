/**
 * A fault is charged to the side that caused it, in every store pair: a
 * source that breaks mid-blob or serves wrong bytes is named as the source
 * (exit 7 or 6), whatever the destination, and no tag is written.
 */
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CopyError, copy } from "../src/copy/copy.js";
import { digestHex } from "../src/core/digest.js";
import { exitCodeFor, NetworkError } from "../src/core/errors.js";
import { Registry } from "../src/registry/registry.js";
import { type GeneratedImage, generateImage, writeOciLayout } from "../src/sim/images.js";
import { type RegistryServer, startRegistryServer } from "../src/sim/server.js";
import { DockerArchiveStore } from "../src/store/dockerArchiveStore.js";
import { MemoryStore } from "../src/store/memoryStore.js";
import { OciLayoutStore } from "../src/store/ociLayoutStore.js";
import { RemoteStore } from "../src/store/remoteStore.js";
import type { Store } from "../src/store/store.js";

let server: RegistryServer;
let registry: Registry;
let dir: string;
let image: GeneratedImage;
let n = 0;

beforeAll(async () => {
  server = await startRegistryServer();
  registry = new Registry({ credentials: false, retry: false });
  dir = await mkdtemp(join(tmpdir(), "regkit-blame-"));
  image = await generateImage({ seed: "blame", layers: 2, layerSize: 300_000 });
});
afterAll(async () => {
  await registry.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** Any store as a source, with one layer that breaks mid-body (a dead connection) or comes back corrupt. */
function faulty(inner: Store, mode: "break" | "corrupt"): Store {
  const bad = image.layers[1]!.digest;
  return {
    name: inner.name,
    resolve: (reference) => inner.resolve(reference),
    fetchManifest: (d) => inner.fetchManifest(d),
    pushManifest: (d, bytes, tag) => inner.pushManifest(d, bytes, tag),
    pushBlob: (d, open) => inner.pushBlob(d, open),
    exists: (d) => inner.exists(d),
    tags: () => inner.tags(),
    fetchBlob: async (d, offset = 0, options) => {
      if (d.digest !== bad) return inner.fetchBlob(d, offset, options);
      if (mode === "corrupt") return Readable.from([Buffer.alloc(d.size - offset, 7)]);
      return Readable.from(
        (async function* () {
          yield Buffer.alloc(1000);
          throw new NetworkError("GET http://source.invalid: ECONNRESET", { retryable: false });
        })(),
      );
    },
  };
}

async function memorySource(): Promise<MemoryStore> {
  const memory = new MemoryStore();
  for (const blob of [image.config, ...image.layers])
    await memory.pushBlob(blob, async () => Readable.from([blob.bytes]));
  await memory.pushManifest(image.manifest, image.manifest.bytes, "v1");
  return memory;
}

const destinations: Record<string, () => { store: Store; tagged: () => Promise<boolean> }> = {
  registry: () => {
    const repo = registry.repository(server.host, `blame/d${n++}`);
    return { store: new RemoteStore(repo), tagged: () => repo.manifests.exists("v1") };
  },
  "oci layout": () => {
    const layout = join(dir, `layout${n++}`);
    return {
      store: new OciLayoutStore(layout),
      tagged: async () => (await readdir(layout).catch(() => [] as string[])).includes("index.json"),
    };
  },
  "docker archive": () => {
    const file = join(dir, `archive${n++}.tar`);
    return {
      store: new DockerArchiveStore(file),
      tagged: async () => (await readdir(dir)).includes(`archive${n - 1}.tar`),
    };
  },
  memory: () => {
    const memory = new MemoryStore();
    return {
      store: memory,
      tagged: () =>
        memory.resolve("v1").then(
          () => true,
          () => false,
        ),
    };
  },
};

const sources: Record<string, () => Promise<Store>> = {
  memory: memorySource,
  registry: async () => {
    const repo = registry.repository(server.host, `blame/s${n++}`);
    await copy(await memorySource(), "v1", new RemoteStore(repo), "v1");
    return new RemoteStore(repo);
  },
  "oci layout": async () => {
    const layout = join(dir, `source${n++}`);
    await writeOciLayout(layout, image, "v1");
    return new OciLayoutStore(layout);
  },
};

describe("the side named is the side that failed", () => {
  for (const [sourceName, makeSource] of Object.entries(sources)) {
    for (const [destinationName, makeDestination] of Object.entries(destinations)) {
      for (const mode of ["break", "corrupt"] as const) {
        it(`${sourceName} → ${destinationName}: a source that ${mode === "break" ? "breaks mid-blob" : "serves wrong bytes"} is named, exit ${mode === "break" ? 7 : 6}`, async () => {
          const source = faulty(await makeSource(), mode);
          const destination = makeDestination();
          const error = await copy(source, "v1", destination.store, "v1").catch((e: unknown) => e);
          expect(error).toBeInstanceOf(CopyError);
          expect((error as CopyError).origin).toBe("source");
          expect((error as Error).message).toMatch(
            mode === "break"
              ? /^copy failed at the source \(blob sha256:[0-9a-f]{64}\): GET http:\/\/source\.invalid: ECONNRESET$/
              : /^copy failed at the source \(blob sha256:[0-9a-f]{64}\): .*digest mismatch/,
          );
          expect(exitCodeFor(error)).toBe(mode === "break" ? 7 : 6);
          expect(await destination.tagged()).toBe(false);
        });
      }
    }
  }

  it("a blob corrupted inside a source OCI layout is the source's fault, not the registry's DIGEST_INVALID", async () => {
    const layout = join(dir, "corrupted-layout");
    await writeOciLayout(layout, image, "v1");
    const layer = image.layers[0]!;
    await writeFile(join(layout, "blobs", "sha256", digestHex(layer.digest)), Buffer.alloc(layer.size, 1));
    const repo = registry.repository(server.host, "blame/from-layout");
    const error = await copy(new OciLayoutStore(layout), "v1", new RemoteStore(repo), "v1").catch(
      (e: unknown) => e,
    );
    expect((error as CopyError).origin).toBe("source");
    expect((error as Error).message).toContain(`copy failed at the source (blob ${layer.digest})`);
    expect(exitCodeFor(error)).toBe(6);
    expect(await repo.manifests.exists("v1")).toBe(false);
  });

  it("a destination that fails is still named as the destination", async () => {
    const memory = await memorySource();
    const broken = new (class extends MemoryStore {
      override async pushBlob(): Promise<void> {
        throw new NetworkError("PUT http://destination.invalid: ECONNRESET");
      }
    })();
    const error = await copy(memory, "v1", broken, "v1").catch((e: unknown) => e);
    expect((error as CopyError).origin).toBe("destination");
    expect(exitCodeFor(error)).toBe(7);
  });
});
