/**
 * The public surface, imported as users import it: `from "regkit"` (the
 * package's own exports, i.e. the built dist/), never a source path.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as regkit from "regkit";
import {
  CopyError,
  copy,
  copyImage,
  DockerArchiveStore,
  digest,
  generateIndex,
  InvalidReferenceError,
  listTags,
  MemoryStore,
  NotFoundError,
  OciArchiveStore,
  OciLayoutStore,
  parseStoreReference,
  pull,
  push,
  Registry,
  type RegistryServer,
  RemoteStore,
  startRegistryServer,
  UsageError,
  writeOciLayout,
} from "regkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let server: RegistryServer;
let work: string;
let indexDigest: string;

beforeAll(async () => {
  server = await startRegistryServer();
  work = await mkdtemp(join(tmpdir(), "regkit-library-"));
  const content = await generateIndex({ seed: "library", platforms: ["linux/amd64", "linux/arm64"] });
  indexDigest = content.index.digest;
  await writeOciLayout(join(work, "seed"), content, "v1");
});
afterAll(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});

describe("the regkit package's surface", () => {
  it("exports the jobs, the engine, the stores and the parser, and keeps internals in", () => {
    for (const name of [
      "copyImage",
      "pull",
      "push",
      "digest",
      "listTags",
      "copy",
      "parseStoreReference",
      "RemoteStore",
      "OciLayoutStore",
      "DockerArchiveStore",
      "OciArchiveStore",
      "MemoryStore",
      "Registry",
      "startRegistryServer",
    ])
      expect(typeof (regkit as Record<string, unknown>)[name], name).toBe("function");
    for (const internal of [
      "createHttpClient",
      "RegistryContext",
      "withJobRegistry",
      "layoutLocation",
      "Pipeline",
    ])
      expect((regkit as Record<string, unknown>)[internal], internal).toBeUndefined();
  });

  it("push, listTags, digest and pull do the CLI's jobs in one call each", async () => {
    const pushed = await push(`${join(work, "seed")}:v1`, `${server.host}/lib/app:v1`);
    expect(pushed.descriptor.digest).toBe(indexDigest);
    expect(pushed.tag).toBe("v1");
    expect(await listTags(`${server.host}/lib/app`)).toEqual(["v1"]);
    expect(await digest(`${server.host}/lib/app:v1`)).toBe(indexDigest);
    const arm = await digest(`${server.host}/lib/app:v1`, { platform: "linux/arm64" });
    const pulled = await pull(`${server.host}/lib/app:v1`, join(work, "arm"), { platform: "linux/arm64" });
    expect(pulled.descriptor.digest).toBe(arm);
    expect(pulled.destination).toBe(`oci:${join(work, "arm")}`);
    expect(await new OciLayoutStore(join(work, "arm")).resolve("v1")).toMatchObject({ digest: arm });
  });

  it("parses locations into stores as the CLI does", () => {
    const registry = new Registry();
    try {
      const layout = parseStoreReference("oci:/tmp/out:v2", registry);
      expect(layout.store).toBeInstanceOf(OciLayoutStore);
      expect(layout).toMatchObject({ reference: "v2", tag: "v2" });
      const archive = parseStoreReference("docker-archive:/tmp/a.tar:acme/app:v3", registry);
      expect(archive.store).toBeInstanceOf(DockerArchiveStore);
      expect(archive.tag).toBe("v3");
      expect(parseStoreReference("oci-archive:/tmp/o.tar:v4", registry).store).toBeInstanceOf(
        OciArchiveStore,
      );
      const remote = parseStoreReference("127.0.0.1:5000/a/b@sha256:" + "0".repeat(64), registry);
      expect(remote.store).toBeInstanceOf(RemoteStore);
      expect(remote.store.name).toBe("127.0.0.1:5000/a/b");
      expect(() => parseStoreReference("oci:", registry)).toThrow(UsageError);
      expect(() => parseStoreReference("UPPER/case", registry)).toThrow(InvalidReferenceError);
    } finally {
      void registry.close();
    }
  });

  it("copy() moves an image into a MemoryStore and back out through stores", async () => {
    const registry = new Registry();
    try {
      const memory = new MemoryStore();
      const source = parseStoreReference(`${server.host}/lib/app:v1`, registry);
      const into = await copy(source.store, source.reference, memory, "v1");
      expect(into.descriptor.digest).toBe(indexDigest);
      expect(into.manifests).toBe(3);
      const out = await copyImage(
        { store: memory, reference: "v1", tag: "v1", digest: undefined },
        `${server.host}/lib/copy:v1`,
        {
          registry,
        },
      );
      expect(out.descriptor.digest).toBe(indexDigest);
      expect(out.blobs.mounted + out.blobs.copied).toBe(6);
    } finally {
      await registry.close();
    }
  });

  it("fails with typed errors naming the side", async () => {
    await expect(digest(`${server.host}/lib/app:missing`)).rejects.toBeInstanceOf(NotFoundError);
    const failure = await copyImage(`${server.host}/lib/none:v1`, `oci:${join(work, "none")}:v1`).catch(
      (e) => e,
    );
    expect(failure).toBeInstanceOf(CopyError);
    expect(failure.origin).toBe("source");
    expect(failure.category).toBe("not-found");
  });
});
