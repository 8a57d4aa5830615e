/**
 * The GHCR provider against the embedded GHCR fake: every P0/P1 requirement
 * of ghcr-specification.md by its id, plus the 1000 requests/hour limit, the
 * 5-minute registry tokens and bad input.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basic, type CredentialProvider, staticCredentials } from "../src/auth/credentials.js";
import { TokenCache } from "../src/auth/tokenCache.js";
import { copy } from "../src/copy/copy.js";
import type { Digest } from "../src/core/digest.js";
import { exitCodeFor, type RegkitError } from "../src/core/errors.js";
import { MediaType } from "../src/core/mediaTypes.js";
import { SecretString } from "../src/core/secret.js";
import {
  Ghcr,
  type GhcrConfig,
  imageSize,
  loadGhcrConfig,
  matchingTags,
  parseAge,
  retag,
  signingArtifacts,
  tagMatcher,
} from "../src/providers/ghcr/index.js";
import { Registry } from "../src/registry/registry.js";
import type { Repository } from "../src/registry/repository.js";
import { Users } from "../src/sim/auth/users.js";
import { type GhcrFake, ghcrFake } from "../src/sim/ghcr/fake.js";
import { type GeneratedImage, type GeneratedIndex, generateImage, generateIndex } from "../src/sim/images.js";
import { type RegistryServer, startRegistryServer } from "../src/sim/server.js";
import { RemoteStore } from "../src/store/remoteStore.js";
import { attach, dsse } from "./support/attach.js";
import { openApiContract } from "./support/contract.js";
import { readAll } from "./support/streams.js";

const ACCOUNTS = { alice: "alice-password", bob: "bob-password" };
const TOKENS = {
  ghp_alice_all: { user: "alice", scopes: ["read:packages", "write:packages", "delete:packages"] },
  ghp_alice_read: { user: "alice", scopes: ["read:packages"] },
  ghp_bob_all: { user: "bob", scopes: ["read:packages", "write:packages", "delete:packages"] },
};

let server: RegistryServer;
let fake: GhcrFake;
let app: GeneratedIndex;
let tool: GeneratedImage;
let work: string;
const open: Array<{ close(): Promise<void> }> = [];

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    GHCR_REGISTRY_URL: server.url,
    GITHUB_API_URL: `${server.url}/github`,
    REGKIT_CONFIG: join(work, "absent.yaml"),
    ...extra,
  };
}

const configFor = (extra: Record<string, string> = {}) =>
  loadGhcrConfig({ env: env(extra), file: join(work, "empty.yaml") });

/** A client with a PAT, as a user would have it from GITHUB_TOKEN. */
async function ghcr(token: keyof typeof TOKENS | "bad" | undefined = "ghp_alice_all", extra = {}) {
  const config: GhcrConfig = await configFor();
  const credentials: CredentialProvider | false = token
    ? staticCredentials({ "ghcr.io": basic("alice", token) })
    : false;
  const client = new Ghcr(config, {
    credentials,
    ...(token ? { token: new SecretString(token) } : {}),
    writeIntervalMs: 0,
    ...extra,
  });
  open.push(client);
  return client;
}

function registryAs(token: string, options: { tokenCache?: TokenCache; onTokenRequest?: () => void } = {}) {
  const registry = new Registry({
    endpoints: { "ghcr.io": server.url },
    credentials: staticCredentials({ "ghcr.io": basic("anyone", token) }),
    ...options,
  });
  open.push(registry);
  return registry;
}

async function pushImage(repo: Repository, image: GeneratedImage, tag?: string): Promise<void> {
  for (const blob of [image.config, ...image.layers])
    await repo.uploads.upload(blob.bytes, {
      digest: blob.digest,
      size: blob.size,
      mediaType: blob.mediaType,
    });
  await repo.manifests.put(tag ?? image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
}

async function pushIndex(repo: Repository, index: GeneratedIndex, tags: string[]): Promise<void> {
  for (const image of index.images) await pushImage(repo, image);
  for (const tag of tags) await repo.manifests.put(tag, index.index.bytes, index.index.mediaType);
}

const thrown = async (promise: Promise<unknown>): Promise<RegkitError> => {
  try {
    await promise;
  } catch (error) {
    return error as RegkitError;
  }
  throw new Error("expected a failure");
};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "regkit-ghcr-"));
  await writeFile(join(work, "empty.yaml"), "");
  app = await generateIndex({
    seed: "ghcr-app",
    platforms: ["linux/amd64", "linux/arm64/v8"],
    layerSize: 2048,
  });
  tool = await generateImage({ seed: "ghcr-tool", layers: 1, layerSize: 1024 });
  fake = ghcrFake({
    organizations: { acme: ["alice"] },
    tokens: TOKENS,
    publicPackages: ["acme/public-tool"],
    linkedRepositories: { "acme/app": "acme/app-source" },
  });
  server = await startRegistryServer({ users: new Users(ACCOUNTS), providers: [fake] });
  const alice = registryAs("ghp_alice_all");
  await pushIndex(alice.repository("ghcr.io/acme/app"), app, ["v1", "latest"]);
  await pushImage(alice.repository("ghcr.io/acme/public-tool"), tool, "1.0");
  await pushImage(alice.repository("ghcr.io/alice/tool"), tool, "v1");
});

afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  await server?.close();
  await rm(work, { recursive: true, force: true });
});

describe("endpoints and settings", () => {
  it("GHCR_REGISTRY_URL and GITHUB_API_URL win over the config file, which wins over the defaults", async () => {
    const file = join(work, "ghcr.yaml");
    await writeFile(
      file,
      "ghcr:\n  registry_url: https://ghcr.example/\n  api_url: https://github.example/api/v3\n",
    );
    const fromFile = await loadGhcrConfig({ env: {}, file });
    expect(fromFile).toMatchObject({
      registryUrl: "https://ghcr.example",
      apiUrl: "https://github.example/api/v3",
    });
    const fromEnv = await loadGhcrConfig({ env: { GITHUB_API_URL: "http://127.0.0.1:1/api" }, file });
    expect(fromEnv.apiUrl).toBe("http://127.0.0.1:1/api");
    expect(fromEnv.sources.api_url).toBe("environment");
    const defaults = await loadGhcrConfig({ env: {}, file: join(work, "empty.yaml") });
    expect(defaults).toMatchObject({ registryUrl: "https://ghcr.io", apiUrl: "https://api.github.com" });
    await writeFile(file, "ghcr:\n  api_url: ftp://x\n");
    await expect(loadGhcrConfig({ env: {}, file })).rejects.toThrow(/ghcr\.api_url/);
  });

  it("references naming ghcr.io go to GHCR_REGISTRY_URL with ghcr.io's credentials", async () => {
    const client = await ghcr();
    const head = await client.repository("ghcr.io/acme/app").manifests.head("v1");
    expect(head.digest).toBe(app.index.digest);
  });
});

describe("auth", () => {
  it("NFR-SEC-004: a pull asks the token realm for pull only; a push for pull,push", async () => {
    const scopes: string[][] = [];
    const registry = new Registry({
      endpoints: { "ghcr.io": server.url },
      credentials: staticCredentials({ "ghcr.io": basic("alice", "ghp_alice_all") }),
      onTokenRequest: (info) => scopes.push(info.scopes),
    });
    open.push(registry);
    await registry.repository("ghcr.io/acme/app").manifests.head("v1");
    expect(scopes).toEqual([["repository:acme/app:pull"]]);
    await pushImage(registry.repository("ghcr.io/alice/scoped"), tool, "v1");
    expect(scopes.slice(1).every((s) => s.some((x) => x.endsWith(":pull,push")))).toBe(true);
  });

  it("anonymous pulls of a public package work; a private one is refused (exit 4)", async () => {
    const anonymous = new Registry({ endpoints: { "ghcr.io": server.url }, credentials: false });
    open.push(anonymous);
    const got = await anonymous.repository("ghcr.io/acme/public-tool").manifests.get("1.0");
    expect(got.digest).toBe(tool.manifest.digest);
    const error = await thrown(anonymous.repository("ghcr.io/acme/app").manifests.get("v1"));
    expect(exitCodeFor(error)).toBe(4);
  });

  it("the token endpoint checks PAT scopes: read:packages alone cannot push", async () => {
    const reader = registryAs("ghp_alice_read");
    expect((await reader.repository("ghcr.io/acme/app").manifests.head("v1")).digest).toBe(app.index.digest);
    const error = await thrown(pushImage(reader.repository("ghcr.io/acme/readonly"), tool, "v1"));
    expect([4]).toContain(exitCodeFor(error));
    expect(error.message).not.toContain("ghp_alice_read");
  });

  it("TC-005: registry tokens live 5 minutes and are renewed before they expire", async () => {
    let clock = Date.now();
    let requests = 0;
    const registry = registryAs("ghp_alice_all", {
      tokenCache: new TokenCache(() => clock),
      onTokenRequest: () => requests++,
    });
    const repo = registry.repository("ghcr.io/acme/app");
    await repo.manifests.head("v1");
    await repo.manifests.head("v1");
    expect(requests).toBe(1);
    clock += 4 * 60_000; // 4 min: still fresh
    await repo.manifests.head("v1");
    expect(requests).toBe(1);
    clock += 40_000; // 4 min 40 s: within 30 s of the 5-minute expiry
    await repo.manifests.head("v1");
    expect(requests).toBe(2);
  });

  it("NFR-REL-005: a registry token refused with 401 is renewed once and the request succeeds", async () => {
    let requests = 0;
    const registry = registryAs("ghp_alice_all", { onTokenRequest: () => requests++ });
    const repo = registry.repository("ghcr.io/acme/app");
    await repo.manifests.head("v1");
    fake.expireRegistryTokens();
    expect((await repo.manifests.head("v1")).digest).toBe(app.index.digest);
    expect(requests).toBe(2);
  });

  it("NFR-SEC-002/003: a wrong token is an authentication error that never shows the token", async () => {
    const client = await ghcr("bad" as keyof typeof TOKENS);
    const error = await thrown(client.api.version("acme", "app", 1));
    expect(exitCodeFor(error)).toBe(4);
    expect(error.message).toMatch(/Bad credentials/);
    expect(error.message).not.toContain("bad");
  });
});

describe("images, tags, manifests, blobs (generic client on GHCR)", () => {
  it("FR-IMG-001 / FR-MAN-002: push an image manifest; FR-IMG-002 / FR-MAN-001: pull it back byte for byte", async () => {
    const repo = (await ghcr()).repository("ghcr.io/alice/pushed");
    await pushImage(repo, tool, "v1");
    const got = await repo.manifests.fetch("v1");
    expect(got.bytes.equals(tool.manifest.bytes)).toBe(true);
    expect(got.descriptor.digest).toBe(tool.manifest.digest);
  });

  it("FR-IMG-005 / FR-MAN-003: check existence with a HEAD; FR-TAG-004: a tag's digest", async () => {
    const repo = (await ghcr()).repository("acme/app");
    expect(await repo.manifests.exists("v1")).toBe(true);
    expect(await repo.manifests.exists("nope")).toBe(false);
    expect((await repo.manifests.head("latest")).digest).toBe(app.index.digest);
  });

  it("FR-MAN-004 / FR-MAN-005: manifest kinds parsed; a multi-arch index resolves per platform", async () => {
    const repo = (await ghcr()).repository("acme/app");
    const index = await repo.manifests.get("v1");
    expect(index.kind).toBe("index");
    expect(index.mediaType).toBe(MediaType.OciIndex);
    const arm = await repo.resolve("v1", { platform: { os: "linux", architecture: "arm64", variant: "v8" } });
    expect(arm.manifest.kind).toBe("image");
    expect(arm.descriptor.digest).toBe(app.images[1]!.manifest.digest);
  });

  it("FR-MAN-006: manifest annotations are read", async () => {
    const repo = (await ghcr()).repository("alice/annotated");
    await pushImage(repo, tool);
    const manifest = JSON.parse(tool.manifest.bytes.toString("utf8"));
    manifest.annotations = { "org.opencontainers.image.source": "https://github.com/alice/annotated" };
    const bytes = Buffer.from(JSON.stringify(manifest));
    await repo.manifests.put("v1", bytes, tool.manifest.mediaType);
    const got = await repo.manifests.get("v1");
    expect(got.manifest.annotations).toEqual({
      "org.opencontainers.image.source": "https://github.com/alice/annotated",
    });
  });

  it("FR-TAG-001 / FR-TAG-002: list tags; create and move a tag", async () => {
    const repo = (await ghcr()).repository("alice/tags");
    await pushImage(repo, tool, "a");
    await repo.manifests.put("b", tool.manifest.bytes, tool.manifest.mediaType);
    const tags: string[] = [];
    for await (const t of repo.tags()) tags.push(t);
    expect(tags.sort()).toEqual(["a", "b"]);
    // Moving "b" to another image leaves "a" where it was.
    const other = await generateImage({ seed: "ghcr-tag-moved", layers: 1, layerSize: 256 });
    await pushImage(repo, other, "b");
    expect((await repo.manifests.head("b")).digest).toBe(other.manifest.digest);
    expect((await repo.manifests.head("a")).digest).toBe(tool.manifest.digest);
    expect(other.manifest.digest).not.toBe(tool.manifest.digest);
  });

  it("FR-TAG-003: delete a tag; the other tag and the manifest stay", async () => {
    const repo = (await ghcr()).repository("alice/untag");
    await pushImage(repo, tool, "keep");
    await repo.manifests.put("drop", tool.manifest.bytes, tool.manifest.mediaType);
    await repo.manifests.delete("drop");
    expect(await repo.manifests.exists("drop")).toBe(false);
    expect(await repo.manifests.exists("keep")).toBe(true);
  });

  it("FR-TAG-005: tags by glob or /regex/; bad patterns are invalid input", async () => {
    const repo = (await ghcr()).repository("alice/patterns");
    await pushImage(repo, tool, "v1.0.0");
    for (const t of ["v1.1.0", "v2.0.0", "latest", "sha256-abc"])
      await repo.manifests.put(t, tool.manifest.bytes, tool.manifest.mediaType);
    const all = async (p?: string) => {
      const out: string[] = [];
      for await (const t of matchingTags(repo, p)) out.push(t);
      return out.sort();
    };
    expect(await all("v1.*")).toEqual(["v1.0.0", "v1.1.0"]);
    expect(await all("/^v\\d+\\.0\\.0$/")).toEqual(["v1.0.0", "v2.0.0"]);
    expect(await all("late?t")).toEqual(["latest"]);
    expect(() => tagMatcher("/(/")).toThrow(/invalid tag regex/);
    expect(() => tagMatcher("a b")).toThrow(/invalid tag pattern/);
  });

  it("FR-TAG-006: retag puts the same bytes under the new tag, digest verified", async () => {
    const repo = (await ghcr()).repository("acme/app");
    const result = await retag(repo, "v1", "stable", { expectDigest: app.index.digest });
    expect(result.digest).toBe(app.index.digest);
    expect((await repo.manifests.fetch("stable")).bytes.equals(app.index.bytes)).toBe(true);
    const wrong = await thrown(retag(repo, "v1", "other", { expectDigest: tool.manifest.digest }));
    expect(exitCodeFor(wrong)).toBe(6);
    expect(await repo.manifests.exists("other")).toBe(false);
  });

  it("FR-IMG-006: image size per platform from the manifests (config + layers)", async () => {
    const size = await imageSize((await ghcr()).repository("acme/app"), "v1");
    expect(size.platforms.map((p) => p.platform)).toEqual(["linux/amd64", "linux/arm64/v8"]);
    const amd = app.images[0]!;
    expect(size.platforms[0]).toMatchObject({
      config: amd.config.size,
      layers: amd.layers.reduce((s, l) => s + l.size, 0),
    });
    expect(size.total).toBeGreaterThan(size.platforms[0]!.total);
  });

  it("FR-IMG-004 / FR-BLOB-003: copy between refs mounts blobs inside ghcr.io", async () => {
    const client = await ghcr();
    const result = await copy(
      new RemoteStore(client.repository("acme/app")),
      "v1",
      new RemoteStore(client.repository("acme/app-copy")),
      "v1",
    );
    expect(result.descriptor.digest).toBe(app.index.digest);
    expect(result.blobs.mounted).toBeGreaterThan(0);
    expect(result.bytes).toBe(0);
  });

  it("FR-BLOB-001 / FR-BLOB-002 / FR-BLOB-004: chunked upload, existence check, content back verified", async () => {
    const repo = (await ghcr()).repository("alice/blobs");
    const bytes = Buffer.alloc(300_000, 7);
    const { createHash } = await import("node:crypto");
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}` as Digest;
    expect(await repo.blobs.exists(digest)).toBe(false);
    await repo.uploads.upload(bytes, { digest, size: bytes.length }, { chunkSize: 64 * 1024 });
    expect(await repo.blobs.exists(digest)).toBe(true);
    const blob = await repo.blobs.fetch(digest, { size: bytes.length });
    expect((await readAll(blob.stream)).equals(bytes)).toBe(true);
  });
});

describe("Packages API", () => {
  it("FR-VIS-003: packages of an organisation (private ones for members), every Link page", async () => {
    const client = await ghcr();
    const names: string[] = [];
    for await (const p of client.api.packages({ org: "acme" })) names.push(p.name);
    expect(names).toEqual(expect.arrayContaining(["app", "public-tool"]));
    const bob = await ghcr("ghp_bob_all");
    const seen: string[] = [];
    for await (const p of bob.api.packages({ org: "acme" })) seen.push(`${p.name}:${p.visibility}`);
    expect(seen).toEqual(["public-tool:public"]);
  });

  it("FR-VIS-004: packages of a user and of the authenticated user", async () => {
    const client = await ghcr();
    const user: string[] = [];
    for await (const p of client.api.packages({ user: "alice" })) user.push(p.name);
    expect(user).toContain("tool");
    const mine: string[] = [];
    for await (const p of client.api.packages({ mine: true })) mine.push(p.name);
    expect(mine).toEqual(user);
  });

  it("FR-VIS-005: packages of one repository", async () => {
    const names: string[] = [];
    for await (const p of (await ghcr()).api.packages({ repository: "acme/app-source" })) names.push(p.name);
    expect(names).toEqual(["app"]);
  });

  it("FR-VIS-001: visibility; FR-VIS-002: setting it is a clear unsupported error naming the settings page", async () => {
    const client = await ghcr();
    expect(await client.api.visibility("acme", "app")).toBe("private");
    expect(await client.api.visibility("acme", "public-tool")).toBe("public");
    const error = await thrown(client.api.setVisibility("acme", "app", "public"));
    expect(error.category).toBe("unsupported");
    expect(error.message).toContain("https://github.com/orgs/acme/packages/container/app/settings");
  });

  it("user vs organisation: GET /users/OWNER picks /orgs/… or /users/… paths; an unknown owner is not found", async () => {
    const client = await ghcr();
    expect(await client.api.ownerType("acme")).toBe("Organization");
    expect(await client.api.ownerType("alice")).toBe("User");
    const error = await thrown(client.api.package("nobody-here", "x"));
    expect(exitCodeFor(error)).toBe(3);
  });

  it("FR-VER-001: versions as an async iterator over Link pages; name = digest, tags from the registry", async () => {
    const client = await ghcr();
    const versions = [];
    for await (const v of client.api.versions("acme", "app", { perPage: 1 })) versions.push(v);
    const byDigest = new Map(versions.map((v) => [v.digest, v]));
    expect(byDigest.get(app.index.digest)?.tags).toEqual(expect.arrayContaining(["v1", "latest"]));
    for (const image of app.images) expect(byDigest.get(image.manifest.digest)?.tags).toEqual([]);
    expect(new Set(versions.map((v) => v.id)).size).toBe(versions.length);
  });

  it("FR-VER-002: one version by id; FR-VER-005: filtered by tag, tagged and untagged", async () => {
    const client = await ghcr();
    const index = await client.api.findVersion("acme", "app", "v1");
    expect(index.digest).toBe(app.index.digest);
    expect((await client.api.version("acme", "app", index.id)).digest).toBe(app.index.digest);
    expect((await client.api.findVersion("acme", "app", app.images[0]!.manifest.digest)).tags).toEqual([]);
    const tagged = [];
    for await (const v of client.api.versions("acme", "app", { tag: tagMatcher("lat*") }))
      tagged.push(v.digest);
    expect(tagged).toEqual([app.index.digest]);
    const untagged = [];
    for await (const v of client.api.versions("acme", "app", { tagged: false })) untagged.push(v.digest);
    expect(untagged.sort()).toEqual(app.images.map((i) => i.manifest.digest).sort());
  });

  it("FR-VER-003 / FR-IMG-003: delete by tag or digest (version id looked up); FR-VER-004: restore", async () => {
    const client = await ghcr();
    const repo = client.repository("alice/deletable");
    await pushImage(repo, tool, "v1");
    const deleted = await client.api.deleteByReference("alice", "deletable", "v1");
    expect(deleted.digest).toBe(tool.manifest.digest);
    expect(await repo.manifests.exists(tool.manifest.digest)).toBe(false);
    const gone = [];
    for await (const v of client.api.versions("alice", "deletable", { state: "deleted" })) gone.push(v.id);
    expect(gone).toEqual([deleted.id]);
    await client.api.restoreVersion("alice", "deletable", deleted.id);
    expect((await repo.manifests.head("v1")).digest).toBe(tool.manifest.digest);
    await client.api.deleteByReference("alice", "deletable", tool.manifest.digest);
    expect(await repo.manifests.exists("v1")).toBe(false);
  });

  it("bad input: a version that does not exist is not found (exit 3)", async () => {
    const client = await ghcr();
    expect(exitCodeFor(await thrown(client.api.version("acme", "app", 999_999)))).toBe(3);
    expect(exitCodeFor(await thrown(client.api.findVersion("acme", "app", "no-such-tag")))).toBe(3);
  });

  it("bad input: a token without delete:packages gets an authorization error naming the missing scope", async () => {
    const reader = await ghcr("ghp_alice_read");
    const version = await reader.api.findVersion("acme", "app", "v1");
    const error = await thrown(reader.api.deleteVersion("acme", "app", version.id));
    expect(exitCodeFor(error)).toBe(4);
    expect(error.message).toContain("delete:packages");
    expect(fake.packages).toBeDefined();
    expect(await reader.repository("acme/app").manifests.exists("v1")).toBe(true);
  });

  it("contract: package, package-version and error bodies match the REST description", async () => {
    const contract = await openApiContract("github/packages-api.extract.yaml");
    const headers = { authorization: "token ghp_alice_all" };
    const get = async (path: string) => {
      const response = await fetch(`${server.url}/github${path}`, { headers });
      return { status: response.status, body: await response.json(), headers: response.headers };
    };
    const list = await get("/orgs/acme/packages?package_type=container");
    for (const item of list.body as unknown[]) expect(contract.check("package", item).errors).toEqual([]);
    const pkg = await get("/orgs/acme/packages/container/app");
    expect(contract.check("package", pkg.body).errors).toEqual([]);
    const versions = await get("/orgs/acme/packages/container/app/versions");
    expect((versions.body as unknown[]).length).toBeGreaterThan(0);
    for (const item of versions.body as unknown[])
      expect(contract.check("package-version", item).errors).toEqual([]);
    const missing = await get("/orgs/acme/packages/container/nope");
    expect(missing.status).toBe(404);
    expect(contract.check("basic-error", missing.body).errors).toEqual([]);
    expect(missing.body).toMatchObject({
      message: expect.any(String),
      documentation_url: expect.any(String),
    });
    expect(Number(versions.headers.get("x-ratelimit-limit"))).toBe(1000);
  });

  it("the client never invents a vulnerability endpoint: the description has none", async () => {
    const text = await readFile(
      join(import.meta.dirname, "reference/github/packages-api.extract.yaml"),
      "utf8",
    );
    expect(text).not.toMatch(/vulnerab/i);
    const source = await readFile(join(import.meta.dirname, "../src/providers/ghcr/packagesApi.ts"), "utf8");
    expect(source).not.toMatch(/vulnerab/i);
  });

  it("bad input: a Link header to another origin is refused, the token never sent there", async () => {
    const client = await ghcr();
    const { createOctokit } = await import("../src/providers/ghcr/octokit.js");
    const octokit = createOctokit({
      send: client.registry.context(new URL(server.url).host).send,
      apiUrl: `${server.url}/github`,
      token: new SecretString("ghp_alice_all"),
      rateLimits: client.registry.rateLimits,
    });
    await expect(octokit.request("GET https://evil.example/users/acme")).rejects.toThrow(/another origin/);
  });
});

describe("safe cleanup (FR-VER-006)", () => {
  let index: GeneratedIndex;
  let old: GeneratedImage;
  let signature: Digest;
  let cosignSig: Digest;

  beforeAll(async () => {
    const client = await ghcr();
    const repo = client.repository("acme/cleanup");
    index = await generateIndex({
      seed: "cleanup-app",
      platforms: ["linux/amd64", "linux/arm64/v8"],
      layerSize: 512,
    });
    old = await generateImage({ seed: "cleanup-old", layers: 1, layerSize: 256 });
    const older = await generateImage({ seed: "cleanup-older", layers: 1, layerSize: 256 });
    await pushImage(repo, older, "v0");
    await pushImage(repo, old);
    await pushIndex(repo, index, ["v1"]);
    const subject = { digest: index.index.digest, mediaType: index.index.mediaType, size: index.index.size };
    signature = await attach(repo, {
      subject,
      artifactType: "application/vnd.dev.cosign.artifact.sig.v1+json",
      layerMediaType: "application/vnd.dev.cosign.simplesigning.v1+json",
      payload: { critical: { image: { "docker-manifest-digest": index.index.digest } } },
    });
    cosignSig = await attach(repo, {
      tag: `sha256-${index.index.digest.slice(7)}.sig`,
      artifactType: "application/vnd.dev.cosign.artifact.sig.v1+json",
      layerMediaType: "application/vnd.dev.cosign.simplesigning.v1+json",
      payload: { note: "tag schema signature" },
    });
    const day = 86_400_000;
    for (const [digest, days] of [
      [older.manifest.digest, 90],
      [old.manifest.digest, 60],
      [index.index.digest, 40],
      [index.images[0]!.manifest.digest, 40],
      [index.images[1]!.manifest.digest, 40],
      [signature, 40],
      [cosignSig, 40],
    ] as const)
      fake.packages.setCreated("acme/cleanup", digest as Digest, new Date(Date.now() - days * day));
  });

  it("FR-VER-006: a dry-run plan deletes the untagged old image only, keeps index children and signatures, sends no DELETE", async () => {
    const client = await ghcr();
    const before = fake.apiDeletes;
    const plan = await client.planCleanup("ghcr.io/acme/cleanup", {
      untagged: true,
      olderThan: new Date(Date.now() - parseAge("30d")),
    });
    expect(fake.apiDeletes).toBe(before);
    expect(plan.delete.map((e) => e.digest)).toEqual([old.manifest.digest]);
    const reasons = new Map(plan.keep.map((e) => [e.digest, e.reason]));
    expect(reasons.get(index.images[0]!.manifest.digest)).toMatch(/platform manifest of kept index/);
    expect(reasons.get(signature)).toMatch(/referrer of kept/);
    expect(reasons.get(cosignSig)).toBe("tagged");
    expect(reasons.get(index.index.digest)).toBe("tagged");
  });

  it("signing artifacts: referrers (API) and cosign's sha256-<hex>.sig tag are both listed", async () => {
    const client = await ghcr();
    const found = await signingArtifacts(client.repository("acme/cleanup"), index.index.digest);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ digest: signature, kind: "signature", via: "referrers" }),
        expect.objectContaining({
          digest: cosignSig,
          kind: "signature",
          via: "tag",
          tag: `sha256-${index.index.digest.slice(7)}.sig`,
        }),
      ]),
    );
    expect(found).toHaveLength(2);
  });

  it("FR-VER-006: keep-last 1 with keep-tag v0: deletes nothing a kept version needs; --yes deletes the plan", async () => {
    const client = await ghcr();
    const policy = { keepLast: 1, keepTags: [tagMatcher("v0")] };
    const plan = await client.planCleanup("ghcr.io/acme/cleanup", policy);
    expect(plan.delete.map((e) => e.digest)).toEqual([old.manifest.digest]);
    const log: string[] = [];
    const done = await client.cleanup("ghcr.io/acme/cleanup", plan, (e, outcome) =>
      log.push(`${e.id} ${outcome}`),
    );
    expect(done.deleted.map((e) => e.digest)).toEqual([old.manifest.digest]);
    expect(log).toEqual([`${plan.delete[0]!.id} deleted`]);
    const repo = client.repository("acme/cleanup");
    expect(await repo.manifests.exists(old.manifest.digest)).toBe(false);
    for (const d of [index.index.digest, index.images[0]!.manifest.digest, signature, cosignSig])
      expect(await repo.manifests.exists(d)).toBe(true);
    // Resumable: the same plan run again finds it already gone.
    const again = await client.cleanup("ghcr.io/acme/cleanup", plan);
    expect(again.alreadyGone.map((e) => e.digest)).toEqual([old.manifest.digest]);
  });
});

describe("vulnerabilities from attached scan results (FR-VULN)", () => {
  const trivyReport = {
    SchemaVersion: 2,
    ArtifactName: "ghcr.io/alice/scanned:v1",
    Results: [
      {
        Target: "alpine 3.19",
        Vulnerabilities: [
          {
            VulnerabilityID: "CVE-2024-0001",
            PkgName: "openssl",
            InstalledVersion: "3.1.0",
            FixedVersion: "3.1.5",
            Severity: "CRITICAL",
            PrimaryURL: "https://avd.aquasec.com/nvd/cve-2024-0001",
          },
          { VulnerabilityID: "CVE-2024-0002", PkgName: "zlib", InstalledVersion: "1.2", Severity: "HIGH" },
          { VulnerabilityID: "CVE-2024-0003", PkgName: "musl", InstalledVersion: "1.2.4", Severity: "LOW" },
        ],
      },
    ],
  };

  let scanned: GeneratedImage;
  beforeAll(async () => {
    const repo = (await ghcr()).repository("alice/scanned");
    scanned = await generateImage({ seed: "ghcr-scanned", layers: 1, layerSize: 300 });
    await pushImage(repo, scanned, "v1");
    const subject = {
      digest: scanned.manifest.digest,
      mediaType: scanned.manifest.mediaType,
      size: scanned.manifest.size,
    };
    await attach(repo, {
      subject,
      artifactType: "application/vnd.dsse.envelope.v1+json",
      layerMediaType: "application/vnd.dsse.envelope.v1+json",
      payload: dsse({
        _type: "https://in-toto.io/Statement/v0.1",
        predicateType: "https://cosign.sigstore.dev/attestation/vuln/v1",
        subject: [{ name: "ghcr.io/alice/scanned", digest: { sha256: scanned.manifest.digest.slice(7) } }],
        predicate: {
          invocation: { uri: "", event_id: "" },
          scanner: { uri: "pkg:github/aquasecurity/trivy", version: "0.50.0", result: trivyReport },
          metadata: { scanStartedOn: "2026-01-02T03:04:00Z", scanFinishedOn: "2026-01-02T03:04:05Z" },
        },
      }),
    });
    // OpenVEX: the zlib finding does not apply to this image.
    await attach(repo, {
      subject,
      artifactType: "application/vnd.openvex+json",
      layerMediaType: "application/vnd.openvex+json",
      payload: {
        "@context": "https://openvex.dev/ns/v0.2.0",
        statements: [
          {
            vulnerability: { name: "CVE-2024-0002" },
            status: "not_affected",
            justification: "vulnerable_code_not_present",
          },
        ],
      },
    });
  });

  it("FR-VULN-001 / FR-VULN-003: a cosign vuln attestation (Trivy result) → counts by severity, fix versions, scanner, scan time; OpenVEX clears findings", async () => {
    const report = await (await ghcr()).vulnerabilities("ghcr.io/alice/scanned:v1");
    expect(report.status).toBe("scanned");
    expect(report.image.digest).toBe(scanned.manifest.digest);
    expect(report.counts).toEqual({ critical: 1, high: 0, medium: 0, low: 1, unknown: 0 });
    expect(report.vulnerabilities.map((v) => v.id).sort()).toEqual(["CVE-2024-0001", "CVE-2024-0003"]);
    expect(report.vulnerabilities.find((v) => v.id === "CVE-2024-0001")).toMatchObject({
      package: "openssl",
      version: "3.1.0",
      fixedVersion: "3.1.5",
      url: "https://avd.aquasec.com/nvd/cve-2024-0001",
    });
    expect(report.scanner).toBe("pkg:github/aquasecurity/trivy@0.50.0");
    expect(report.lastScanned?.toISOString()).toBe("2026-01-02T03:04:05.000Z");
  });

  it("FR-VULN-003: a SARIF log attached as a referrer gives severities from security-severity and tags", async () => {
    const repo = (await ghcr()).repository("alice/sarif");
    const image = await generateImage({ seed: "ghcr-sarif", layers: 1, layerSize: 200 });
    await pushImage(repo, image, "v1");
    await attach(repo, {
      subject: {
        digest: image.manifest.digest,
        mediaType: image.manifest.mediaType,
        size: image.manifest.size,
      },
      artifactType: "application/sarif+json",
      layerMediaType: "application/sarif+json",
      payload: {
        version: "2.1.0",
        runs: [
          {
            tool: {
              driver: {
                name: "Grype",
                version: "0.74.0",
                rules: [
                  { id: "CVE-2023-1111", properties: { "security-severity": "9.8" } },
                  { id: "CVE-2023-2222", properties: { tags: ["vulnerability", "MEDIUM"] } },
                ],
              },
            },
            results: [{ ruleId: "CVE-2023-1111" }, { ruleId: "CVE-2023-2222" }, { ruleId: "CVE-2023-1111" }],
          },
        ],
      },
    });
    const report = await (await ghcr()).vulnerabilities("ghcr.io/alice/sarif:v1");
    expect(report.counts).toMatchObject({ critical: 1, medium: 1 });
    expect(report.scanner).toBe("Grype 0.74.0");
  });

  it("FR-VULN-001: an image without attached scan results answers not-scanned (no scan data), not an error", async () => {
    const report = await (await ghcr()).vulnerabilities("ghcr.io/alice/tool:v1");
    expect(report.status).toBe("not-scanned");
    expect(report.vulnerabilities).toEqual([]);
  });

  it("FR-VULN-002: vulnerable versions are found by walking versions and their attestations", async () => {
    const found = [];
    for await (const entry of (await ghcr()).vulnerableVersions("ghcr.io/alice/scanned")) found.push(entry);
    expect(found.map((f) => f.version.digest)).toEqual([scanned.manifest.digest]);
    expect(found[0]!.report.counts.critical).toBe(1);
  });
});

describe("rate limits (NFR-RATE)", () => {
  it("NFR-RATE-001 / NFR-RATE-004: X-RateLimit-* tracked per response and exported as the ratelimit gauge", async () => {
    const client = await ghcr();
    await client.api.ownerType("acme");
    const state = client.registry.rateLimits.get(new URL(server.url).origin);
    expect(state).toMatchObject({ style: "github", limit: 1000, resource: "core" });
    expect(state!.remaining).toBeLessThan(1000);
    expect(state!.resetAt!.getTime()).toBeGreaterThan(Date.now());
  });

  it("TC-004 / NFR-RATE-002 / NFR-RATE-003: 1000 requests an hour; past 80 % requests are spaced out; the 1001st fails with exit 5", async () => {
    const limited = ghcrFake({
      tokens: { ghp_carol: { user: "carol", scopes: ["read:packages", "write:packages"] } },
    });
    const own = await startRegistryServer({ users: new Users({ carol: "carol-pw" }), providers: [limited] });
    open.push(own);
    const seed = new Registry({
      endpoints: { "ghcr.io": own.url },
      credentials: staticCredentials({ "ghcr.io": basic("carol", "ghp_carol") }),
    });
    open.push(seed);
    await pushImage(seed.repository("ghcr.io/carol/tool"), tool, "v1");
    const delays: number[] = [];
    const config = await loadGhcrConfig({
      env: {
        GITHUB_API_URL: `${own.url}/github`,
        GHCR_REGISTRY_URL: own.url,
        REGKIT_CONFIG: join(work, "absent.yaml"),
      },
      file: join(work, "empty.yaml"),
    });
    const client = new Ghcr(config, {
      credentials: false,
      token: new SecretString("ghp_carol"),
      // The throttle's pauses are recorded instead of slept: the behaviour is asserted, not the clock.
      sleep: async (ms) => {
        delays.push(ms);
      },
    });
    open.push(client);
    // 985 requests made earlier in the hour (octokit's queues make each call cost tens of ms here).
    limited.spendApiBudget("carol", 985);
    await client.api.ownerType("carol");
    for (let i = 0; i < 14; i++) await client.api.package("carol", "tool");
    expect(limited.apiRequests).toBe(15);
    // Past 80 % every request waited: the rest of the budget spread over the hour, 60 s at most each
    // (the first request had no budget to read yet). throttleDelay's arithmetic has its own unit test.
    expect(delays).toHaveLength(14);
    expect(delays.every((d) => d === 60_000)).toBe(true);
    const error = await thrown(client.api.package("carol", "tool"));
    expect(exitCodeFor(error)).toBe(5);
    expect(error.message).toMatch(/rate limit/);
    // The 1001st was refused before it was sent.
    expect(limited.apiRequests).toBe(15);
  });
});
