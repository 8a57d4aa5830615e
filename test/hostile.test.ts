/**
 * regkit against a hostile registry (the embedded registry's hostile mode):
 * every behaviour ends in its typed error, and nothing partial is left at the
 * destination — no tag or manifest at the real distribution registry, no
 * temporary file or index entry in an OCI layout, no file for a blob pull.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { basic, staticCredentials } from "../src/auth/credentials.js";
import { copy } from "../src/copy/copy.js";
import { digestOf } from "../src/core/digest.js";
import { exitCodeFor, isRegkitError, type RegkitError } from "../src/core/errors.js";
import { Registry, type RegistryOptions } from "../src/registry/registry.js";
import { Users } from "../src/sim/auth/users.js";
import { GZIP_BOMB_REFERENCE, imageWithLayer } from "../src/sim/gzipBomb.js";
import type { HostileKind, HostileOptions } from "../src/sim/hostile.js";
import { type GeneratedBlob, type GeneratedImage, generateImage, generateIndex } from "../src/sim/images.js";
import { type RegistryServer, startRegistryServer } from "../src/sim/server.js";
import { MemoryStorage } from "../src/sim/storage.js";
import { OciArchiveStore } from "../src/store/ociArchiveStore.js";
import { OciLayoutStore } from "../src/store/ociLayoutStore.js";
import { RemoteStore } from "../src/store/remoteStore.js";
import { makeServerTls } from "./support/pki.js";

const CLI = join(import.meta.dirname, "..", "dist", "cli", "main.js");
const FAST = { serverErrorDelayMs: 5, unavailableDelayMs: 5, networkDelayMs: 5 };
const USER = "alice";
const PASSWORD = "hostile-test-password";
const cleanups: Array<() => Promise<unknown>> = [];
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "regkit-hostile-"));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const distribution = () => inject("distribution").host;
const unique = (name: string) => `hostile/${name}-${randomBytes(3).toString("hex")}`;

function client(options: RegistryOptions = {}): Registry {
  const registry = new Registry({ credentials: false, retry: FAST, circuitBreaker: false, ...options });
  cleanups.push(() => registry.close());
  return registry;
}

async function serve(options: Parameters<typeof startRegistryServer>[0]): Promise<RegistryServer> {
  const server = await startRegistryServer(options);
  cleanups.push(() => server.close());
  return server;
}

function users(): Users {
  return new Users({ [USER]: PASSWORD });
}

async function push(registry: Registry, host: string, repository: string, image: GeneratedImage) {
  const repo = registry.repository(host, repository);
  for (const blob of [image.config, ...image.layers]) await repo.uploads.upload(blob.bytes, blob);
  await repo.manifests.put(image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
}

/**
 * A hostile registry holding `v1` (an image, or a two-platform index) in
 * `evil/app`, seeded through a well-behaved server on the same storage.
 */
async function hostileSource(
  hostile: readonly HostileKind[] | HostileOptions,
  content: "image" | "index" = "image",
  extra: Parameters<typeof startRegistryServer>[0] = {},
) {
  const storage = new MemoryStorage();
  const seeder = await serve({ storage });
  const seeding = client();
  const seed = `hostile-${randomBytes(4).toString("hex")}`;
  let root: GeneratedBlob;
  let images: GeneratedImage[];
  if (content === "index") {
    const index = await generateIndex({ seed, platforms: ["linux/amd64", "linux/arm64"], layers: 2 });
    images = index.images;
    root = index.index;
  } else {
    const image = await generateImage({ seed, layers: 2, layerSize: 200_000 });
    images = [image];
    root = image.manifest;
  }
  for (const image of images) await push(seeding, seeder.host, "evil/app", image);
  await seeding.repository(seeder.host, "evil/app").manifests.put("v1", root.bytes, root.mediaType);
  const server = await serve({ storage, hostile, ...extra });
  return { server, root, images, storage };
}

function failure(error: unknown): RegkitError {
  expect(isRegkitError(error), `expected a RegkitError, got ${String(error)}`).toBe(true);
  return error as RegkitError;
}

/** The innermost typed error of a copy's failure. */
function rootCause(error: unknown): RegkitError {
  let current = failure(error);
  while (isRegkitError(current.cause)) current = current.cause;
  return current;
}

async function nothingAtDistribution(repository: string, tag: string, digests: string[]) {
  const repo = client().repository(distribution(), repository);
  expect(await repo.manifests.exists(tag)).toBe(false);
  for (const digest of digests) expect(await repo.manifests.exists(digest)).toBe(false);
}

/** An OCI layout after a failed copy: no temporary file, no index entry, every blob whole. */
async function layoutIsClean(dir: string) {
  if (!existsSync(dir)) return;
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((f) => f.isFile());
  for (const file of files) {
    const path = join(file.parentPath, file.name);
    expect(file.name, `${path} is a temporary file`).not.toMatch(/\.tmp$|\.lock$/);
    if (file.parentPath.includes(`${join(dir, "blobs")}`)) {
      const hex = createHash("sha256")
        .update(await readFile(path))
        .digest("hex");
      expect(hex, `${path} holds other bytes than its name says`).toBe(file.name);
    }
  }
  if (existsSync(join(dir, "index.json"))) {
    const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as { manifests: unknown[] };
    expect(index.manifests).toEqual([]);
  }
}

function regkit(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** Copies the hostile source's `v1` to the distribution registry, a layout and an OCI archive; all must fail alike. */
async function copyFailsCleanly(
  source: { server: RegistryServer; root: GeneratedBlob; images: GeneratedImage[] },
  reference: string,
  registry: Registry = client(),
): Promise<RegkitError[]> {
  const errors: RegkitError[] = [];
  const repository = unique("dest");
  const from = new RemoteStore(registry.repository(source.server.host, "evil/app"));
  const toRegistry = new RemoteStore(registry.repository(distribution(), repository));
  errors.push(failure(await copy(from, reference, toRegistry, "v1").catch((e: unknown) => e)));
  await nothingAtDistribution(repository, "v1", [source.root.digest]);
  const dir = join(work, `layout-${randomBytes(3).toString("hex")}`);
  errors.push(failure(await copy(from, reference, new OciLayoutStore(dir), "v1").catch((e: unknown) => e)));
  await layoutIsClean(dir);
  // An archive appears under its name only when complete: nothing at all, no temporary file beside it.
  const archiveDir = await mkdtemp(join(work, "archive-"));
  const archive = join(archiveDir, "image.oci.tar");
  errors.push(
    failure(await copy(from, reference, new OciArchiveStore(archive), "v1").catch((e: unknown) => e)),
  );
  expect(await readdir(archiveDir)).toEqual([]);
  return errors;
}

describe("a hostile registry: wrong content", () => {
  it("wrong bytes for a blob digest: DigestMismatchError, exit 6, no tag and no blob at the destination", async () => {
    const source = await hostileSource(["wrong-blob-bytes"]);
    const errors = await copyFailsCleanly(source, "v1");
    for (const error of errors) {
      expect(rootCause(error).name).toBe("DigestMismatchError");
      expect(error.message).toMatch(/^copy failed at the source/);
    }
    const layer = source.images[0]!.layers[0]!;
    const repository = unique("cli");
    const cli = await regkit([
      "copy",
      `${source.server.host}/evil/app:v1`,
      `${distribution()}/${repository}:v1`,
    ]);
    expect(cli.code).toBe(6);
    expect(cli.stderr).toMatch(/^regkit: .*digest mismatch/);
    expect(await client().repository(distribution(), repository).blobs.exists(layer.digest)).toBe(false);
    await nothingAtDistribution(repository, "v1", [source.root.digest]);
  });

  it("wrong bytes for a manifest digest (an index's children): DigestMismatchError, nothing written", async () => {
    const source = await hostileSource(["wrong-manifest-bytes"], "index");
    const errors = await copyFailsCleanly(source, "v1");
    for (const error of errors) expect(rootCause(error).name).toBe("DigestMismatchError");
    const child = source.images[0]!.manifest.digest;
    const repository = unique("dest");
    await nothingAtDistribution(repository, "v1", [child]);
    const out = join(work, "pulled-child");
    const cli = await regkit(["pull", `${source.server.host}/evil/app@${child}`, out]);
    expect(cli.code).toBe(6);
    await layoutIsClean(out);
  });

  it("a manifest whose body is not its Docker-Content-Digest (by tag): DigestMismatchError, exit 6", async () => {
    const source = await hostileSource(["manifest-digest-mismatch"]);
    const errors = await copyFailsCleanly(source, "v1");
    for (const error of errors) {
      expect(rootCause(error).name).toBe("DigestMismatchError");
      expect(exitCodeFor(error)).toBe(6);
    }
    const cli = await regkit(["manifest", "get", "--raw", `${source.server.host}/evil/app:v1`]);
    expect(cli.code).toBe(6);
    expect(cli.stdout).toBe("");
  });

  it("a manifest over the 4 MiB cap, with and without Content-Length: SizeLimitError", async () => {
    for (const kind of ["oversized-manifest", "oversized-manifest-chunked"] as const) {
      const source = await hostileSource([kind]);
      const errors = await copyFailsCleanly(source, "v1");
      for (const error of errors) expect(rootCause(error).name).toBe("SizeLimitError");
    }
  });

  it("digests with path characters in a manifest or an index: refused by parsing, nothing written", async () => {
    for (const content of ["image", "index"] as const) {
      const source = await hostileSource(["path-digests"], content);
      const errors = await copyFailsCleanly(source, "v1");
      for (const error of errors) {
        expect(rootCause(error).name).toBe("ManifestInvalidError");
      }
    }
  });
});

describe("a hostile registry: bodies that never end", () => {
  it("an endless blob body stops at the descriptor's size: SizeMismatchError, exit 6, no file written", async () => {
    const source = await hostileSource(["endless-body"]);
    const layer = source.images[0]!.layers[0]!;
    // The manifest is endless too: its cap ends it first.
    const errors = await copyFailsCleanly(source, "v1");
    for (const error of errors) expect(rootCause(error).name).toBe("SizeLimitError");
    const fetched = await client().repository(source.server.host, "evil/app").blobs.fetch(layer.digest, {
      size: layer.size,
    });
    const drained = (async () => {
      for await (const _ of fetched.stream);
    })();
    expect(failure(await drained.catch((e: unknown) => e)).name).toBe("SizeMismatchError");
    const out = join(work, "endless.blob");
    const cli = await regkit(["blob", "get", `${source.server.host}/evil/app@${layer.digest}`, "-o", out]);
    expect(cli.code).toBe(6);
    expect(existsSync(out)).toBe(false);
    expect((await readdir(work)).filter((f) => f.startsWith("endless.blob"))).toEqual([]);
  });

  it("slow-loris bodies (a byte every 1.5 s) end at the idle timeout: TimeoutError, exit 7", async () => {
    const source = await hostileSource({ kinds: ["slow-loris"], slowLorisIntervalMs: 1500 });
    const registry = client({ idleTimeoutMs: 300 });
    const started = Date.now();
    const errors = await copyFailsCleanly(source, "v1", registry);
    for (const error of errors) {
      expect(rootCause(error).name).toBe("TimeoutError");
      expect(exitCodeFor(error)).toBe(7);
    }
    // Two copies, each a few retries of 0.3 s: far below the 2 × 1.5 s × manifest size a trickle would take.
    expect(Date.now() - started).toBeLessThan(30_000);
    // A blob read: each reconnect gets a byte before stalling, which is not progress enough to
    // earn another resume (it once was: the download reconnected forever, a byte at a time).
    const layer = source.images[0]!.layers[0]!;
    const before = source.server.hostile!.seen.length;
    const fetched = await registry.repository(source.server.host, "evil/app").blobs.fetch(layer.digest, {
      size: layer.size,
    });
    const drained = (async () => {
      for await (const _ of fetched.stream);
    })();
    expect(failure(await drained.catch((e: unknown) => e)).name).toBe("TimeoutError");
    const gets = source.server.hostile!.seen.slice(before).filter((r) => r.path.endsWith(layer.digest));
    expect(gets.length).toBe(4); // the first read and 3 resumes
  });
});

describe("a hostile registry: other hosts", () => {
  /** A second server on the same storage: the other host, logging whether credentials reached it. */
  async function witness(storage: MemoryStorage, extra: Parameters<typeof startRegistryServer>[0] = {}) {
    return serve({ storage, hostile: { kinds: [] }, ...extra });
  }

  it("an upload Location on another host: the upload proceeds there without credentials", async () => {
    const storage = new MemoryStorage();
    const other = await witness(storage);
    const server = await serve({
      storage,
      auth: "basic",
      users: users(),
      hostile: { kinds: ["foreign-upload-location"], foreignOrigin: other.url },
    });
    const registry = client({ credentials: staticCredentials({ [server.host]: basic(USER, PASSWORD) }) });
    const image = await generateImage({ seed: "foreign-upload", layers: 2 });
    await push(registry, server.host, "evil/pushed", image);
    // The registry itself got credentials; the other host saw the upload, never an Authorization header.
    expect(server.hostile!.seen.some((r) => r.method === "POST" && r.authorization)).toBe(true);
    const elsewhere = other.hostile!.seen.filter((r) => r.path.includes("/blobs/uploads/"));
    expect(elsewhere.length).toBeGreaterThanOrEqual(3);
    expect(elsewhere.filter((r) => r.authorization)).toEqual([]);
    for (const blob of image.layers)
      expect(await storage.blobSize("evil/pushed", blob.digest)).toBe(blob.size);
  });

  it("a blob redirect to another host: Authorization never reaches it, the pull is verified", async () => {
    const storage = new MemoryStorage();
    const other = await witness(storage);
    const seeder = await serve({ storage });
    const image = await generateImage({ seed: "foreign-redirect", layers: 2 });
    await push(client(), seeder.host, "evil/app", image);
    await client()
      .repository(seeder.host, "evil/app")
      .manifests.put("v1", image.manifest.bytes, image.manifest.mediaType);
    const server = await serve({
      storage,
      auth: "basic",
      users: users(),
      hostile: { kinds: ["foreign-blob-redirect"], foreignOrigin: other.url },
    });
    const registry = client({ credentials: staticCredentials({ [server.host]: basic(USER, PASSWORD) }) });
    const dir = join(work, "redirected");
    const result = await copy(
      new RemoteStore(registry.repository(server.host, "evil/app")),
      "v1",
      new OciLayoutStore(dir),
      "v1",
    );
    expect(result.descriptor.digest).toBe(image.manifest.digest);
    expect(server.hostile!.seen.some((r) => r.path.includes("/blobs/sha256:") && r.authorization)).toBe(true);
    const fetched = other.hostile!.seen.filter((r) => r.path.includes("/blobs/sha256:"));
    expect(fetched.length).toBe(3);
    expect(fetched.filter((r) => r.authorization)).toEqual([]);
  });

  it("a token realm on another (loopback) host is used, as Docker Hub's auth.docker.io is", async () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const signingKey = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const storage = new MemoryStorage();
    const other = await witness(storage, { users: users(), tokenServer: { signingKey } });
    const server = await serve({
      storage,
      auth: "token",
      users: users(),
      tokenServer: { signingKey },
      hostile: { kinds: ["foreign-token-realm"], foreignOrigin: other.url },
    });
    const registry = client({ credentials: staticCredentials({ [server.host]: basic(USER, PASSWORD) }) });
    const image = await generateImage({ seed: "foreign-realm", layers: 1 });
    await push(registry, server.host, "evil/realm", image);
    expect(await registry.repository(server.host, "evil/realm").manifests.exists(image.manifest.digest)).toBe(
      true,
    );
    expect(other.hostile!.seen.filter((r) => r.path === "/token").length).toBeGreaterThan(0);
    expect(server.hostile!.seen.filter((r) => r.path === "/token")).toEqual([]);
  });

  it("a plain-HTTP token realm for an HTTPS registry is refused before any credential is sent", async () => {
    const tls = await makeServerTls(await mkdtemp(join(work, "tls-")));
    const source = await hostileSource(["plain-http-realm"], "image", {
      auth: "token",
      users: users(),
      tls: { cert: await readFile(tls.certPath, "utf8"), key: await readFile(tls.keyPath, "utf8") },
    });
    expect(source.server.url).toMatch(/^https:/);
    const tokenRequests: string[] = [];
    const registry = client({
      ca: tls.caPem,
      credentials: staticCredentials({ [source.server.host]: basic(USER, PASSWORD) }),
      onTokenRequest: (info) => tokenRequests.push(info.origin),
    });
    const dir = join(work, "plain-realm");
    const error = failure(
      await copy(
        new RemoteStore(registry.repository(source.server.host, "evil/app")),
        "v1",
        new OciLayoutStore(dir),
        "v1",
      ).catch((e: unknown) => e),
    );
    expect(rootCause(error).name).toBe("ProtocolError");
    expect(error.message).toMatch(/plain HTTP/);
    expect(source.server.hostile!.seen.filter((r) => r.authorization)).toEqual([]);
    await layoutIsClean(dir);
  });
});

describe("a hostile registry: listings and locations", () => {
  it("a Link that loops back to the same page under new URLs stops with a ProtocolError", async () => {
    const source = await hostileSource(["looping-link"]);
    const repo = client().repository(source.server.host, "evil/app");
    const error = failure(
      await repo
        .tags()
        .all()
        .catch((e: unknown) => e),
    );
    expect(error.name).toBe("ProtocolError");
    expect(error.message).toMatch(/loop/);
    // Bounded: a handful of requests, not the 10 000-page cap.
    expect(source.server.hostile!.seen.filter((r) => r.path.endsWith("/tags/list")).length).toBeLessThan(5);
    const cli = await regkit(["--json", "catalog", source.server.host]);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toBe("");
    expect(cli.stderr).toMatch(/^regkit: .*loop/);
  });

  it("a Link or an upload Location with path characters is refused before it is requested", async () => {
    const source = await hostileSource(["path-digests"]);
    const repo = client().repository(source.server.host, "evil/app");
    expect(
      failure(
        await repo
          .tags()
          .all()
          .catch((e: unknown) => e),
      ).name,
    ).toBe("ProtocolError");
    const image = await generateImage({ seed: "path-location", layers: 1 });
    const error = failure(
      await push(client(), source.server.host, "evil/other", image).catch((e: unknown) => e),
    );
    expect(error.name).toBe("ProtocolError");
    expect(source.server.hostile!.seen.filter((r) => r.path.includes(".."))).toEqual([]);
    expect(source.server.hostile!.seen.filter((r) => /%2f/i.test(r.path))).toEqual([]);
    expect(await source.storage.resolveTag("evil/other", "v1")).toBeUndefined();
  });
});

describe("regkit serve --hostile", () => {
  async function serveCli(args: string[]): Promise<{ host: string; child: ChildProcess }> {
    const child = spawn(process.execPath, [CLI, "serve", "--port", "0", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    cleanups.push(
      () =>
        new Promise((resolve) => {
          if (child.exitCode !== null) return resolve(undefined);
          child.once("exit", resolve);
          child.kill("SIGTERM");
        }),
    );
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout!.once("data", (data: Buffer) => resolve(data.toString()));
      child.once("exit", (code) => reject(new Error(`serve exited with ${code}`)));
    });
    return { host: /^registry http:\/\/(127\.0\.0\.1:\d+)$/m.exec(line)![1]!, child };
  }

  it("switches behaviours on from the command line; the other host defaults to the server's other loopback name", async () => {
    const { host } = await serveCli(["--hostile", "wrong-blob-bytes"]);
    const image = await generateImage({ seed: "serve-hostile", layers: 1 });
    await push(client(), host, "evil/app", image);
    await client()
      .repository(host, "evil/app")
      .manifests.put("v1", image.manifest.bytes, image.manifest.mediaType);
    const out = join(work, "serve-wrong");
    const pulled = await regkit(["pull", `${host}/evil/app:v1`, out]);
    expect(pulled.code).toBe(6);
    await layoutIsClean(out);

    const redirecting = await serveCli(["--hostile", "foreign-blob-redirect,looping-link"]);
    await push(client(), redirecting.host, "evil/app", image);
    await client()
      .repository(redirecting.host, "evil/app")
      .manifests.put("v1", image.manifest.bytes, image.manifest.mediaType);
    const fine = join(work, "serve-redirect");
    // Redirected to localhost:PORT (another host to the client), served by the same registry.
    expect((await regkit(["pull", `${redirecting.host}/evil/app:v1`, fine])).code).toBe(0);
    expect((await regkit(["--json", "ls", `${redirecting.host}/evil/app`])).code).toBe(1);

    const bogus = await regkit(["serve", "--port", "0", "--hostile", "wrong-blob-bytes,bogus"]);
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toMatch(/^regkit: unknown hostile behaviour "bogus"; known: wrong-blob-bytes, /);
  });
});

describe("decompression bombs", () => {
  it("a layer that gunzips to 2 GiB moves as its compressed bytes; an invalid gzip layer copies too", async () => {
    const junk = imageWithLayer(Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), randomBytes(50_000)]));
    const bombServer = await serve({ hostile: ["gzip-bomb"] });
    const junkServer = await serve({});
    const seeding = client().repository(junkServer.host, GZIP_BOMB_REFERENCE.repository);
    for (const blob of [junk.config, junk.layer])
      await seeding.uploads.upload(blob.bytes, { digest: blob.digest });
    await seeding.manifests.put(GZIP_BOMB_REFERENCE.tag, junk.manifest.bytes, junk.manifest.mediaType);
    for (const server of [bombServer, junkServer]) {
      const registry = client();
      const source = registry.repository(server.host, GZIP_BOMB_REFERENCE.repository);
      const manifest = await source.manifests.get(GZIP_BOMB_REFERENCE.tag);
      if (manifest.kind !== "image") throw new Error("expected an image");
      const layer = manifest.manifest.layers[0]!;
      if (server === bombServer) {
        expect(layer.size).toBeLessThan(4 * 1024 * 1024);
        // It is a real bomb: the first 256 MiB of what it inflates to (of 2 GiB), from a 2 MiB layer.
        const gunzip = createGunzip();
        let inflated = 0;
        const response = await fetch(`${server.url}/v2/hostile/bomb/blobs/${layer.digest}`);
        Readable.fromWeb(response.body as never).pipe(gunzip);
        for await (const chunk of gunzip) {
          inflated += (chunk as Buffer).byteLength;
          if (inflated >= 256 * 1024 * 1024) break;
        }
        expect(inflated).toBeGreaterThanOrEqual(256 * 1024 * 1024);
      }
      const rssBefore = process.memoryUsage().rss;
      const repository = unique("bomb");
      const toRegistry = await copy(
        new RemoteStore(source),
        GZIP_BOMB_REFERENCE.tag,
        new RemoteStore(registry.repository(distribution(), repository)),
        "v1",
      );
      const dir = join(work, `bomb-${randomBytes(3).toString("hex")}`);
      const toLayout = await copy(
        new RemoteStore(source),
        GZIP_BOMB_REFERENCE.tag,
        new OciLayoutStore(dir),
        "v1",
      );
      // Exactly the compressed bytes moved (layer and config), and memory did not grow by the inflated size.
      const moved = layer.size + manifest.manifest.config.size;
      expect(toRegistry.bytes).toBe(moved);
      expect(toLayout.bytes).toBe(moved);
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(512 * 1024 * 1024);
      const written = await readFile(join(dir, "blobs", "sha256", layer.digest.slice(7)));
      expect(written.byteLength).toBe(layer.size);
      expect(digestOf(written)).toBe(layer.digest);
      const head = await registry.repository(distribution(), repository).blobs.head(layer.digest);
      expect(head.size).toBe(layer.size);
    }
  });
});
