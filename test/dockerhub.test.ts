/**
 * The Docker Hub provider against the embedded Docker Hub fake: every
 * acceptance criterion of dockerhub-specification.md §11.1 by name, plus
 * rate-limit exhaustion, bad input and a replayed session.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from "vitest";
import { staticCredentials } from "../src/auth/credentials.js";
import { basic } from "../src/auth/index.js";
import { type Digest, digestOf } from "../src/core/digest.js";
import { CircuitOpenError, exitCodeFor, type RegkitError } from "../src/core/errors.js";
import {
  DockerHub,
  type DockerHubConfig,
  HubApi,
  HubSession,
  loadDockerHubConfig,
  planPulls,
} from "../src/providers/dockerhub/index.js";
import { Registry } from "../src/registry/registry.js";
import type { Repository } from "../src/registry/repository.js";
import { Users } from "../src/sim/auth/users.js";
import { type DockerHubFake, dockerHubFake } from "../src/sim/dockerhub/fake.js";
import { syntheticScan } from "../src/sim/dockerhub/scans.js";
import { type GeneratedImage, type GeneratedIndex, generateImage, generateIndex } from "../src/sim/images.js";
import { type RegistryServer, startRegistryServer } from "../src/sim/server.js";
import type { Handler } from "../src/transport/types.js";
import { openApiContract, REFERENCE } from "./support/contract.js";
import { readAll } from "./support/streams.js";

const ACCOUNTS = {
  alice: "wonderland",
  bob: "builder",
  carol: "two-factor-pw",
  library: "official",
  ratelimitpreview: "preview",
};

let server: RegistryServer;
let fake: DockerHubFake;
let app: GeneratedIndex;
let alpine: GeneratedImage;
let work: string;
const open: DockerHub[] = [];

/** The variables that point regkit at a Docker Hub fake (the shared one unless named). */
function env(extra: Record<string, string> = {}, target: { url: string } = server): NodeJS.ProcessEnv {
  return {
    DOCKER_HUB_URL: `${target.url}/hub`,
    DOCKER_HUB_REGISTRY_URL: target.url,
    DOCKER_HUB_AUTH_URL: target.url,
    REGKIT_CONFIG: join(work, "absent.yaml"),
    ...extra,
  };
}

/** Settings from those variables and an empty config file. */
function configFor(extra: Record<string, string> = {}, target: { url: string } = server) {
  return loadDockerHubConfig({ env: env(extra, target), file: join(work, "empty.yaml") });
}

/** A plain registry client logged in to a fake as one of its accounts (to seed content). */
function registryAs(user: keyof typeof ACCOUNTS, target: { url: string } = server): Registry {
  return new Registry({
    endpoints: { "docker.io": target.url },
    credentials: staticCredentials({ "docker.io": basic(user, ACCOUNTS[user]) }),
  });
}

/** A client configured like a user would: environment only, no Docker config. */
async function hub(extra: Record<string, string> = {}): Promise<DockerHub> {
  const config = await configFor(extra);
  const variables = env(extra);
  const credentials = variables.DOCKER_HUB_USERNAME
    ? staticCredentials({
        "docker.io": basic(
          variables.DOCKER_HUB_USERNAME,
          variables.DOCKER_HUB_ACCESS_TOKEN ?? variables.DOCKER_HUB_PASSWORD ?? "",
        ),
      })
    : false;
  const client = new DockerHub(config, { credentials, ...(credentials ? {} : { login: false }) });
  open.push(client);
  return client;
}

const asAlice = () => hub({ DOCKER_HUB_USERNAME: "alice", DOCKER_HUB_PASSWORD: ACCOUNTS.alice });

async function pushImage(repo: Repository, image: GeneratedImage, tag?: string): Promise<void> {
  for (const blob of [image.config, ...image.layers])
    await repo.uploads.upload(blob.bytes, {
      digest: blob.digest,
      size: blob.size,
      mediaType: blob.mediaType,
    });
  await repo.manifests.put(tag ?? image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
}

async function seed(): Promise<void> {
  const alice = registryAs("alice");
  const library = registryAs("library");
  try {
    const repo = alice.repository("docker.io", "alice/app");
    for (const image of app.images) await pushImage(repo, image);
    for (const tag of ["v1.0.0", "v1.2.0", "v2.0.0-rc.1", "latest"])
      await repo.manifests.put(tag, app.index.bytes, app.index.mediaType);
    await pushImage(alice.repository("docker.io", "alice/secret"), alpine, "v1");
    await pushImage(alice.repository("docker.io", "alice/scratch"), alpine, "old");
    await pushImage(library.repository("docker.io", "library/alpine"), alpine, "3.20");
    const preview = registryAs("ratelimitpreview");
    await pushImage(preview.repository("docker.io", "ratelimitpreview/test"), alpine, "latest");
    await preview.close();
  } finally {
    await alice.close();
    await library.close();
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "regkit-hub-"));
  await writeFile(join(work, "empty.yaml"), "");
  app = await generateIndex({
    seed: "hub-app",
    platforms: ["linux/amd64", "linux/arm64/v8"],
    layerSize: 4096,
  });
  alpine = await generateImage({ seed: "hub-alpine", layers: 1, layerSize: 2048 });
  fake = dockerHubFake({
    privateRepositories: ["alice/secret"],
    twoFactorUsers: ["carol"],
    pullLimits: { anonymous: 100, authenticated: 200 },
  });
  server = await startRegistryServer({ users: new Users(ACCOUNTS), providers: [fake] });
  await seed();
});

afterAll(async () => {
  await Promise.all(open.map((client) => client.close()));
  await server?.close();
  await rm(work, { recursive: true, force: true });
});

const amd64 = () => app.images.find((i) => i.platform.architecture === "amd64")!;

describe("Docker Hub §11.1 acceptance criteria", () => {
  it("Auth: Login with username/password", async () => {
    const client = await asAlice();
    expect(client.session.state()).toBe("anonymous");
    const authorization = await client.session.authorization();
    expect(authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(client.session.state()).toBe("valid");
    expect(client.session.logins).toBe(1);
    // Authenticated from the first request: the private repository is listed.
    const names = [];
    for await (const repo of client.api.repositories("alice")) names.push(repo.repository);
    expect(names).toContain("alice/secret");
    expect(client.session.logins).toBe(1);
  });

  it("Auth: Login with PAT", async () => {
    const owner = await asAlice();
    const jwt = (await owner.session.authorization())!;
    const created = await fetch(`${server.url}/hub/v2/access-tokens`, {
      method: "POST",
      headers: { authorization: jwt, "content-type": "application/json" },
      body: JSON.stringify({ token_label: "ci", scopes: ["repo:write"] }),
    });
    expect(created.status).toBe(201);
    const { token } = (await created.json()) as { token: string };
    expect(token).toMatch(/^dckr_pat_/);
    const client = await hub({ DOCKER_HUB_USERNAME: "alice", DOCKER_HUB_ACCESS_TOKEN: token });
    expect((await client.api.repository("alice/secret")).isPrivate).toBe(true);
    // The same PAT works as the registry password (docker login with a PAT).
    const manifest = await client.repository("alice/secret").manifests.get("v1");
    expect(manifest.digest).toBe(alpine.manifest.digest);
    // A PAT-based session may not manage tokens, as on Docker Hub.
    const refused = await fetch(`${server.url}/hub/v2/access-tokens`, {
      method: "POST",
      headers: { authorization: (await client.session.authorization())!, "content-type": "application/json" },
      body: JSON.stringify({ token_label: "x", scopes: ["repo:read"] }),
    });
    expect(refused.status).toBe(403);
  });

  it("Auth: Token refresh (renewed before expiry, and once after a 401)", async () => {
    // Client and fake read the same fake Date: expiry is reached by moving it, not by sleeping.
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-03-01T12:00:00Z") });
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const shortFake = dockerHubFake({ jwtTtlSeconds: 1 });
    const short = await startRegistryServer({ users: new Users(ACCOUNTS), providers: [shortFake] });
    try {
      const registry = new Registry({ credentials: false });
      const ctx = registry.context("docker.io");
      let skew = 0;
      const session = new HubSession({
        send: ctx.send,
        hubUrl: `${short.url}/hub`,
        login: async () => ({
          username: "alice",
          secret: new (await import("../src/core/secret.js")).SecretString(ACCOUNTS.alice),
          source: "test",
        }),
        now: () => Date.now() + skew,
      });
      const api = new HubApi({
        send: ctx.send,
        hubUrl: `${short.url}/hub`,
        session,
        telemetry: ctx.telemetry,
      });
      await api.repository("alice/secret").catch(() => undefined);
      expect(session.logins).toBe(1);
      // Within 30 s of expiry the token is renewed before it is used.
      expect(session.state()).toBe("expiring");
      await session.authorization();
      expect(session.logins).toBe(2);
      // A clock that runs slow keeps a token the server already refuses: one re-login, then success.
      vi.setSystemTime(new Date("2026-03-01T12:00:01.100Z"));
      skew = -60_000;
      const names: string[] = [];
      for await (const repo of api.repositories("alice")) names.push(repo.name);
      expect(session.logins).toBe(3);
      expect(shortFake.logins).toBe(3);
      await registry.close();
    } finally {
      await short.close();
    }
  });

  it("Repo: List repositories (every page; private ones only for their owner)", async () => {
    const anonymous = await hub();
    const seen: string[] = [];
    for await (const repo of anonymous.api.repositories("alice", { pageSize: 1 })) seen.push(repo.repository);
    expect(seen).toEqual(["alice/app", "alice/scratch"]);
    const owner = await asAlice();
    const all: string[] = [];
    for await (const repo of owner.api.repositories("alice", { pageSize: 2 })) all.push(repo.repository);
    expect(all).toEqual(["alice/app", "alice/scratch", "alice/secret"]);
  });

  it("Repo: Get repository details", async () => {
    const client = await asAlice();
    const repo = await client.api.repository("alice/secret");
    expect(repo).toMatchObject({ namespace: "alice", name: "secret", isPrivate: true });
    expect(repo.permissions).toEqual({ read: true, write: true, admin: true });
    expect(repo.dateRegistered).toBeInstanceOf(Date);
    const anonymous = await hub();
    await expect(anonymous.api.repository("alice/secret")).rejects.toMatchObject({
      category: "authorization",
    });
    await expect(anonymous.api.repository("alice/nothing")).rejects.toMatchObject({ category: "not-found" });
  });

  it("Repo: Search repositories (public only)", async () => {
    const client = await asAlice();
    const found = [];
    for await (const result of client.api.search("al")) found.push(result.repository);
    expect(found).toContain("alpine");
    expect(found).toContain("alice/app");
    expect(found).not.toContain("alice/secret");
    const official = [];
    for await (const result of client.api.search("alpine")) official.push(result);
    expect(official[0]).toMatchObject({ repository: "alpine", official: true });
  });

  it("Manifest: Get by tag", async () => {
    const client = await hub();
    const index = await client.repository("alice/app").manifests.fetch("v1.0.0");
    expect(index.descriptor.digest).toBe(app.index.digest);
    expect(index.bytes.equals(app.index.bytes)).toBe(true);
    const official = await client.repository("alpine").manifests.get("3.20");
    expect(official.digest).toBe(alpine.manifest.digest);
  });

  it("Manifest: Get by digest", async () => {
    const client = await hub();
    const image = await client.repository("alice/app").manifests.fetch(amd64().manifest.digest);
    expect(image.bytes.equals(amd64().manifest.bytes)).toBe(true);
  });

  it("Manifest: Put (push)", async () => {
    const client = await asAlice();
    const pushed = await client
      .repository("alice/app")
      .manifests.put("pushed", app.index.bytes, app.index.mediaType);
    expect(pushed.descriptor.digest).toBe(app.index.digest);
    const tag = await client.api.tag("alice/app", "pushed");
    expect(tag.digest).toBe(app.index.digest);
    expect(tag.lastUpdater).toBe("alice");
    // Someone else's namespace is refused to a valid account: bob logs in, and may pull but not push.
    const bob = await hub({ DOCKER_HUB_USERNAME: "bob", DOCKER_HUB_PASSWORD: ACCOUNTS.bob });
    expect(await bob.session.authorization()).toMatch(/^Bearer /);
    const repo = bob.repository("alice/app");
    expect((await repo.manifests.head("pushed")).digest).toBe(app.index.digest);
    const refused = await repo.manifests
      .put("nope", app.index.bytes, app.index.mediaType)
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({
      category: "authorization",
      message: expect.stringMatching(/do not grant repository:alice\/app:pull,push$/),
    });
    expect(exitCodeFor(refused)).toBe(4);
    await expect(repo.manifests.head("nope")).rejects.toMatchObject({ category: "not-found" });
  });

  it("Manifest: Delete", async () => {
    const client = await asAlice();
    const repo = client.repository("alice/scratch");
    await pushImage(repo, alpine, "to-delete");
    await repo.manifests.delete(alpine.manifest.digest);
    await expect(repo.manifests.get("to-delete")).rejects.toMatchObject({ category: "not-found" });
    await pushImage(repo, alpine, "old");
  });

  it("Tags: List for image (size, last update, digest, per-platform images)", async () => {
    const client = await hub();
    const tags = [];
    for await (const tag of client.api.tags("alice/app", { pageSize: 2 })) tags.push(tag);
    const names = tags.map((t) => t.name).sort();
    expect(names).toEqual(expect.arrayContaining(["latest", "v1.0.0", "v1.2.0", "v2.0.0-rc.1"]));
    const v1 = tags.find((t) => t.name === "v1.0.0")!;
    expect(v1.digest).toBe(app.index.digest);
    expect(v1.lastUpdated).toBeInstanceOf(Date);
    expect(
      v1.images.map((i) => `${i.os}/${i.architecture}${i.variant ? `/${i.variant}` : ""}`).sort(),
    ).toEqual(["linux/amd64", "linux/arm64/v8"]);
    const amd = v1.images.find((i) => i.architecture === "amd64")!;
    expect(amd.digest).toBe(amd64().manifest.digest);
    expect(amd.size).toBe(amd64().layers.reduce((sum, l) => sum + l.size, 0));
    expect(v1.size).toBe(Math.max(...v1.images.map((i) => i.size)));
    // The registry's own list agrees.
    const listed = [];
    for await (const tag of client.repository("alice/app").tags()) listed.push(tag);
    expect(listed.sort()).toEqual(names);
  });

  it("Tags: Delete tag", async () => {
    const client = await asAlice();
    const repo = client.repository("alice/app");
    await repo.manifests.put("doomed", app.index.bytes, app.index.mediaType);
    await client.api.deleteTag("alice/app", "doomed");
    await expect(client.api.tag("alice/app", "doomed")).rejects.toMatchObject({ category: "not-found" });
    expect((await client.api.tag("alice/app", "v1.0.0")).digest).toBe(app.index.digest);
    const anonymous = await hub();
    await expect(anonymous.api.deleteTag("alice/app", "v1.0.0")).rejects.toMatchObject({
      category: "authentication",
    });
  });

  it("Blob: Check existence (HEAD)", async () => {
    const client = await hub();
    const layer = amd64().layers[0]!;
    const head = await client.repository("alice/app").blobs.head(layer.digest);
    expect(head).toMatchObject({ digest: layer.digest, size: layer.size });
    expect(await client.repository("alice/app").blobs.exists(alpine.config.digest)).toBe(false);
  });

  it("Blob: Download (verified)", async () => {
    const client = await hub();
    const layer = amd64().layers[0]!;
    const blob = await client.repository("alice/app").blobs.fetch(layer.digest);
    expect((await readAll(blob.stream)).equals(layer.bytes)).toBe(true);
  });

  it("Blob: Initiate upload, Chunked upload, Complete upload", async () => {
    const client = await asAlice();
    const repo = client.repository("alice/uploads");
    const bytes = Buffer.from("x".repeat(10_000) + "docker hub chunked upload");
    const { createHash } = await import("node:crypto");
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}` as Digest;
    const started = await repo.uploads.start();
    expect(started.mounted).toBe(false);
    const session = started.mounted ? undefined : started.session;
    await session!.append(bytes.subarray(0, 4096));
    await session!.append(bytes.subarray(4096));
    expect(await session!.status()).toBe(bytes.length);
    await session!.complete(digest);
    expect(await repo.blobs.head(digest)).toMatchObject({ size: bytes.length });
  });

  it("Vulnerability: Get scan overview (an index is narrowed to linux/amd64)", async () => {
    const client = await asAlice();
    const report = await client.vulnerabilities("docker.io/alice/app:v1.0.0");
    const expected = syntheticScan(amd64().manifest.digest, "");
    expect(report.provider).toBe("dockerhub");
    expect(report.image).toEqual({ repository: "alice/app", digest: amd64().manifest.digest });
    expect(report.status).toBe("scanned");
    expect(report.counts).toEqual(expected.summary);
    expect(report.vulnerabilities.map((v) => v.id)).toEqual(expected.vulnerabilities.map((v) => v.id));
    expect(report.lastScanned).toBeInstanceOf(Date);
    const arm = await client.vulnerabilities("docker.io/alice/app:v1.0.0", { platform: "linux/arm64" });
    expect(arm.image.digest).not.toBe(amd64().manifest.digest);
  });

  it("Vulnerability: 'not scanned' and 'no access' are answers", async () => {
    fake.setScan(alpine.manifest.digest, "not_scanned");
    const client = await asAlice();
    const report = await client.vulnerabilities(`docker.io/library/alpine@${alpine.manifest.digest}`);
    expect(report).toMatchObject({ status: "not-scanned", vulnerabilities: [] });
    const anonymous = await hub();
    // The registry refuses an anonymous pull of a private repository before the scan is asked.
    const forbidden = await anonymous
      .vulnerabilities(`docker.io/alice/secret@${alpine.manifest.digest}`)
      .catch((e: RegkitError) => e);
    expect(forbidden).toMatchObject({ category: "authentication" });
    const byApi = await anonymous.api
      .scan("alice/secret", alpine.manifest.digest)
      .catch((e: RegkitError) => e);
    expect(byApi).toMatchObject({ category: "authorization" });
  });

  it("Rate limits: Track remaining (HEAD is free, a GET of an image manifest is a pull)", async () => {
    const client = await asAlice();
    const before = await client.pullLimit();
    expect(before).toMatchObject({
      limited: true,
      limit: 200,
      windowSeconds: 21_600,
      authenticated: true,
      source: "alice",
    });
    await client.repository("alice/app").manifests.get(amd64().manifest.digest);
    const after = await client.pullLimit();
    expect(after.remaining).toBe(before.remaining! - 1);
    // An index GET is not a pull; the HEADs of pullLimit() were not either.
    await client.repository("alice/app").manifests.get("v1.0.0");
    expect((await client.pullLimit()).remaining).toBe(after.remaining);
    const anonymous = await (await hub()).pullLimit();
    expect(anonymous).toMatchObject({ limit: 100, authenticated: false, source: "127.0.0.1" });
  });
});

describe("Docker Hub repository creation", () => {
  it("creates a private repository through the documented POST; others cannot see it", async () => {
    const client = await asAlice();
    const created = await client.api.createRepository("alice/vault", {
      isPrivate: true,
      description: "secrets",
    });
    expect(created).toMatchObject({ repository: "alice/vault", isPrivate: true, description: "secrets" });
    await expect(client.api.createRepository("alice/vault")).rejects.toMatchObject({ status: 409 });
    await pushImage(client.repository("alice/vault"), alpine, "v1");
    const anonymous = await hub();
    await expect(anonymous.api.repository("alice/vault")).rejects.toMatchObject({
      category: "authorization",
    });
    await expect(anonymous.repository("alice/vault").manifests.get("v1")).rejects.toMatchObject({
      category: "authentication",
    });
    await expect(anonymous.api.createRepository("alice/other")).rejects.toMatchObject({
      category: "authentication",
    });
    await expect(client.api.createRepository("library/mine")).rejects.toMatchObject({
      category: "authorization",
    });
    await client.api.deleteRepository("alice/vault");
    await expect(client.api.repository("alice/vault")).rejects.toMatchObject({ category: "not-found" });
  });
});

describe("Docker Hub rate-limit exhaustion", () => {
  it("fails with the reset time and the hint to authenticate, without wasted requests", async () => {
    const tight = dockerHubFake({ pullLimits: { anonymous: 2 } });
    const limited = await startRegistryServer({ users: new Users(ACCOUNTS), providers: [tight] });
    try {
      const seeder = registryAs("library", limited);
      await pushImage(seeder.repository("docker.io", "library/alpine"), alpine, "3.20");
      await seeder.close();
      const config = await configFor({}, limited);
      const client = new DockerHub(config, { credentials: false, login: false });
      open.push(client);
      const repo = client.repository("alpine");
      await repo.manifests.get("3.20");
      await repo.manifests.get("3.20");
      const status = await client.pullLimit("library/alpine:3.20");
      expect(status).toMatchObject({ remaining: 0, limit: 2, authenticated: false });
      await expect(planPulls(status, 1)).rejects.toThrow(/refills by .*authenticate to raise/);
      const error = (await repo.manifests.get("3.20").catch((e: unknown) => e)) as RegkitError & {
        resetAt?: Date;
      };
      expect(error.category).toBe("rate-limit");
      expect(exitCodeFor(error)).toBe(5);
      expect(error.message).toMatch(/authenticate/);
      expect(error.resetAt!.getTime()).toBeGreaterThan(Date.now() + 5 * 3600 * 1000);
      // Retry-After is hours away: the client did not retry, and stops before asking again.
      expect(tight.pulls.refused).toBe(1);
      await expect(repo.manifests.get("3.20")).rejects.toMatchObject({ category: "rate-limit" });
      expect(tight.pulls.refused).toBe(1);
    } finally {
      await limited.close();
    }
  });

  it("planPulls waits for a near refill instead of failing", async () => {
    const slept: number[] = [];
    const status = {
      limited: true,
      limit: 100,
      remaining: 1,
      windowSeconds: 21_600,
      authenticated: false,
      checkedAt: new Date(),
    };
    const result = await planPulls(status, 3, {
      refillsAt: new Date(Date.now() + 5_000),
      sleep: async (ms) => void slept.push(ms),
    });
    expect(slept).toHaveLength(1);
    expect(result.waitedMs).toBeGreaterThan(4_000);
    expect(await planPulls(status, 1)).toEqual({ waitedMs: 0 });
  });
});

describe("Docker Hub bad input", () => {
  it("a wrong password is an authentication error (exit 4), not an empty listing", async () => {
    const client = await hub({ DOCKER_HUB_USERNAME: "alice", DOCKER_HUB_PASSWORD: "wrong-password" });
    const error = await (async () => {
      for await (const _ of client.api.repositories("alice")) return undefined;
    })().catch((e: RegkitError) => e);
    expect(error).toMatchObject({ category: "authentication" });
    expect(exitCodeFor(error)).toBe(4);
    expect((error as Error).message).toMatch(/login as alice failed: Incorrect authentication credentials/);
    expect((error as Error).message).not.toContain("wrong-password");
  });

  it("a 2FA account with its password is told to use a personal access token", async () => {
    const client = await hub({ DOCKER_HUB_USERNAME: "carol", DOCKER_HUB_PASSWORD: ACCOUNTS.carol });
    await expect(client.session.authorization()).rejects.toMatchObject({
      code: "TWO_FACTOR_REQUIRED",
      message: expect.stringMatching(/personal access token/),
    });
    const legacy = await fetch(`${server.url}/hub/v2/users/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "carol", password: ACCOUNTS.carol }),
    });
    expect(legacy.status).toBe(401);
    expect(await legacy.json()).toMatchObject({ login_2fa_token: expect.any(String) });
  });

  it("an expired or forged JWT is refused by the Hub API", async () => {
    const response = await fetch(`${server.url}/hub/v2/namespaces/alice/repositories`, {
      headers: { authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.forged" },
    });
    expect(response.status).toBe(401);
  });

  it("a next-page link to another origin is refused before anything is sent there", async () => {
    const registry = new Registry({ credentials: false });
    const ctx = registry.context("docker.io");
    const { Readable } = await import("node:stream");
    const sent: string[] = [];
    const send = async (request: Parameters<typeof ctx.send>[0]) => {
      sent.push(request.url.href);
      const body = JSON.stringify({
        count: 2,
        next: "https://evil.example/v2/namespaces/x/repositories?page=2",
        results: [{ name: "a", namespace: "alice" }],
      });
      return {
        status: 200,
        headers: { "content-type": "application/json" },
        body: Readable.from([Buffer.from(body)]),
        url: request.url,
        request,
      };
    };
    const session = new HubSession({ send, hubUrl: "https://hub.example", login: async () => undefined });
    const api = new HubApi({ send, hubUrl: "https://hub.example", session, telemetry: ctx.telemetry });
    const names: string[] = [];
    const error = await (async () => {
      for await (const repo of api.repositories("alice")) names.push(repo.name);
    })().catch((e: RegkitError) => e);
    expect(names).toEqual(["a"]);
    expect(error).toMatchObject({ code: "PROTOCOL", message: expect.stringMatching(/another origin/) });
    expect(sent).toHaveLength(1);
    await registry.close();
  });
});

describe("Docker Hub configuration", () => {
  it("takes the environment over the file over the defaults, and rejects bad files", async () => {
    const file = join(work, "config.yaml");
    await writeFile(
      file,
      "docker_hub:\n  hub_url: https://hub.internal.example\n  registry_url: https://mirror.example\n  timeout_seconds: 12\n  max_retries: 5\n  circuit_breaker:\n    failure_threshold: 9\n",
    );
    const config: DockerHubConfig = await loadDockerHubConfig({
      env: { DOCKER_HUB_URL: "http://127.0.0.1:9/hub" },
      file,
    });
    expect(config).toMatchObject({
      hubUrl: "http://127.0.0.1:9/hub",
      registryUrl: "https://mirror.example",
      authUrl: "https://auth.docker.io",
      timeoutSeconds: 12,
      maxRetries: 5,
      chunkSizeMb: 5,
      circuitBreaker: { failureThreshold: 9, resetTimeoutSeconds: 30 },
    });
    expect(config.sources).toMatchObject({
      hub_url: "environment",
      registry_url: "file",
      auth_url: "default",
    });
    await writeFile(file, "docker_hub:\n  max_retries: lots\n");
    await expect(loadDockerHubConfig({ env: {}, file })).rejects.toThrow(/docker_hub\.max_retries/);
    await writeFile(join(work, "c.json"), '{"docker_hub": {"hub_url": "ftp://x"}}');
    await expect(loadDockerHubConfig({ env: {}, file: join(work, "c.json") })).rejects.toMatchObject({
      category: "configuration",
    });
    await expect(
      loadDockerHubConfig({ env: { DOCKER_HUB_PASSWORD: "p" }, file: join(work, "empty.yaml") }),
    ).rejects.toThrow(/DOCKER_HUB_USERNAME is not/);
  });
});

describe("Docker Hub client settings take effect", () => {
  const LISTING = "/hub/v2/namespaces/alice/repositories";

  /** A Docker Hub fake whose Hub API listing answers 503 (Retry-After: 0) `times` times, then normally. */
  async function flakyHub(times: number): Promise<RegistryServer> {
    const flaky = await startRegistryServer({
      users: new Users(ACCOUNTS),
      providers: [dockerHubFake()],
      faults: {
        rules:
          times > 0
            ? [{ kind: "status", status: 503, retryAfter: 0, route: LISTING, method: "GET", times }]
            : [],
      },
    });
    cleanups.push(() => flaky.close());
    return flaky;
  }

  /** Alice's client with these settings from a config file, as a user would configure it. */
  async function hubWith(
    yaml: string,
    target: { url: string },
    registry: NonNullable<ConstructorParameters<typeof DockerHub>[1]>["registry"] = {},
  ): Promise<DockerHub> {
    const file = join(work, `settings-${randomUUID()}.yaml`);
    await writeFile(file, `docker_hub:\n${yaml}`);
    const config = await loadDockerHubConfig({ env: env({}, target), file });
    const client = new DockerHub(config, {
      credentials: staticCredentials({ "docker.io": basic("alice", ACCOUNTS.alice) }),
      registry,
    });
    open.push(client);
    return client;
  }

  const list = async (client: DockerHub) => {
    const names: string[] = [];
    for await (const repo of client.api.repositories("alice")) names.push(repo.name);
    return names;
  };
  const attempts = (target: RegistryServer) =>
    target.faults!.log.filter((line) => line.startsWith(`GET ${LISTING} `)).map((line) => line.split(" ")[2]);

  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    vi.useRealTimers();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it("max_retries: a Hub API answering 503 is retried that many times after the first attempt", async () => {
    const flaky = await flakyHub(4);
    const once = await hubWith("  max_retries: 1\n", flaky);
    await expect(list(once)).rejects.toMatchObject({ category: "server", status: 503 });
    expect(attempts(flaky)).toEqual(["503", "503"]);
    const twice = await hubWith("  max_retries: 2\n", flaky);
    expect(await list(twice)).toEqual([]);
    expect(attempts(flaky)).toEqual(["503", "503", "503", "503", "200"]);
  });

  it("circuit_breaker: failure_threshold failures open it, reset_timeout_seconds later a trial closes it", async () => {
    // The breaker measures its open period with Date.now(): a fake Date replaces the wait.
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-03-01T12:00:00Z") });
    const flaky = await flakyHub(2);
    const client = await hubWith(
      "  max_retries: 0\n  circuit_breaker:\n    failure_threshold: 2\n    reset_timeout_seconds: 45\n",
      flaky,
    );
    await expect(list(client)).rejects.toMatchObject({ category: "server" });
    await expect(list(client)).rejects.toMatchObject({ category: "server" });
    const open = await list(client).catch((e: unknown) => e);
    expect(open).toBeInstanceOf(CircuitOpenError);
    expect((open as Error).message).toContain("failing fast until 2026-03-01T12:00:45.000Z");
    expect(attempts(flaky)).toEqual(["503", "503"]);
    vi.setSystemTime(new Date("2026-03-01T12:00:44.900Z"));
    await expect(list(client)).rejects.toBeInstanceOf(CircuitOpenError);
    vi.setSystemTime(new Date("2026-03-01T12:00:45.000Z"));
    expect(await list(client)).toEqual([]);
    expect(await list(client)).toEqual([]);
    expect(attempts(flaky)).toEqual(["503", "503", "200", "200"]);
  });

  it("chunk_size_mb: a push sends blobs larger than the chunk in PATCHes of that size", async () => {
    const target = await flakyHub(0);
    const patches: string[] = [];
    const observe = {
      name: "observe-patches",
      wrap:
        (next: Handler): Handler =>
        async (request) => {
          if (request.method === "PATCH") patches.push(request.headers["content-range"] ?? "?");
          return next(request);
        },
    };
    const big = randomBytes(2.5 * 1024 * 1024);
    const small = randomBytes(1024 * 1024);
    const chunked = await hubWith("  chunk_size_mb: 1\n", target, { middlewares: [observe] });
    const repo = chunked.repository("alice/chunks");
    await repo.uploads.upload(big, { digest: digestOf(big), size: big.length });
    expect(patches).toEqual(["0-1048575", "1048576-2097151", "2097152-2621439"]);
    await repo.uploads.upload(small, { digest: digestOf(small), size: small.length });
    expect(patches).toHaveLength(3);
    const half = await hubWith("  chunk_size_mb: 0.5\n", target, { middlewares: [observe] });
    await half
      .repository("alice/halves")
      .uploads.upload(small, { digest: digestOf(small), size: small.length });
    expect(patches.slice(3)).toEqual(["0-524287", "524288-1048575"]);
    // The default (5 MB) sends this blob in one request.
    const whole = await hubWith("  timeout_seconds: 60\n", target, { middlewares: [observe] });
    const other = randomBytes(2.5 * 1024 * 1024);
    await whole
      .repository("alice/whole")
      .uploads.upload(other, { digest: digestOf(other), size: other.length });
    expect(patches).toHaveLength(5);
    for (const [name, bytes] of [
      ["alice/chunks", big],
      ["alice/halves", small],
      ["alice/whole", other],
    ] as const) {
      const fetched = await chunked.repository(name).blobs.fetch(digestOf(bytes), { size: bytes.length });
      expect((await readAll(fetched.stream)).equals(bytes)).toBe(true);
    }
  });
});

describe("Docker Hub fake contract", () => {
  it("answers in the shapes of the Hub API description", async () => {
    const contract = await openApiContract("dockerhub/hub-api-latest.trimmed.yaml");
    const client = await asAlice();
    const jwt = (await client.session.authorization())!;
    const get = async (path: string, authorized = true) => {
      const response = await fetch(`${server.url}/hub${path}`, {
        headers: authorized ? { authorization: jwt } : {},
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const check = (schema: string, value: unknown) =>
      expect(contract.check(schema, value)).toEqual({ ok: true, errors: [] });
    const list = await get("/v2/namespaces/alice/repositories?page_size=2");
    check("list_repositories_response", list.body);
    expect(list.body.next).toMatch(/page=2/);
    check("repository_info", (await get("/v2/namespaces/alice/repositories/app")).body);
    const tags = await get("/v2/namespaces/alice/repositories/app/tags");
    check("page", tags.body);
    // The description types `tag.images` as one object; Docker Hub serves (and regkit reads) a list of them.
    for (const tag of tags.body.results as Array<Record<string, unknown>>) {
      check("tag", { ...tag, images: undefined });
      for (const image of tag.images as unknown[]) check("image", image);
    }
    const token = await fetch(`${server.url}/hub/v2/auth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ identifier: "alice", secret: ACCOUNTS.alice }),
    });
    check("AuthCreateTokenResponse", await token.json());
    const created = await fetch(`${server.url}/hub/v2/access-tokens`, {
      method: "POST",
      headers: { authorization: jwt, "content-type": "application/json" },
      body: JSON.stringify({ token_label: "contract", scopes: ["repo:read"] }),
    });
    check("createAccessTokensResponse", await created.json());
    const tokens = await get("/v2/access-tokens");
    check("getAccessTokensResponse", tokens.body);
    const twoFactor = await fetch(`${server.url}/hub/v2/users/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "carol", password: ACCOUNTS.carol }),
    });
    check("PostUsersLoginErrorResponse", await twoFactor.json());
    const legacy = await fetch(`${server.url}/hub/v2/users/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "alice", password: ACCOUNTS.alice }),
    });
    check("PostUsersLoginSuccessResponse", await legacy.json());
    const bad = await get("/v2/namespaces/alice/repositories?ordering=sideways");
    expect(bad.status).toBe(400);
    check("ValueError", bad.body);
    const missing = await get("/v2/namespaces/alice/repositories/none");
    expect(missing.status).toBe(404);
    check("error", missing.body);
    const headers = (await fetch(`${server.url}/hub/v2/namespaces/alice/repositories`)).headers;
    expect(Number(headers.get("x-ratelimit-limit"))).toBeGreaterThan(0);
    expect(Number(headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000);
  });
});

describe("Docker Hub session on a cassette", () => {
  it("replays login → list → pull manifest → scan offline with the same answers", async () => {
    const cassette = join(work, "hub-session.har");
    const session = async (client: DockerHub) => {
      await client.session.authorization();
      const repos: string[] = [];
      for await (const repo of client.api.repositories("alice")) repos.push(repo.repository);
      const manifest = await client.repository("alice/app").manifests.get("v1.0.0");
      const scan = await client.api.scan("alice/app", amd64().manifest.digest);
      return { repos, digest: manifest.digest, counts: scan.counts };
    };
    const config = await configFor();
    const login = {
      username: "alice",
      secret: new (await import("../src/core/secret.js")).SecretString(ACCOUNTS.alice),
      source: "test",
    };
    const credentials = staticCredentials({ "docker.io": basic("alice", ACCOUNTS.alice) });
    const recording = new DockerHub(config, { login, credentials, registry: { record: cassette } });
    const recorded = await session(recording);
    await recording.close();
    const text = await readFile(cassette, "utf8");
    expect(text).not.toContain(ACCOUNTS.alice);
    expect(text).not.toMatch(/eyJ[\w-]{10,}\.eyJ/);
    const replaying = new DockerHub(config, { login, credentials, registry: { replay: cassette } });
    const replayed = await session(replaying);
    await replaying.close();
    expect(replayed).toEqual(recorded);
    expect(recorded.repos).toContain("alice/secret");
  });
});

describe("Docker Hub telemetry", () => {
  it("names spans as the specification does (docker.auth.login, docker.repo.list with count, …)", async () => {
    const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = await import(
      "@opentelemetry/sdk-trace-base"
    );
    const spans = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    const config = await configFor({ DOCKER_HUB_USERNAME: "alice", DOCKER_HUB_PASSWORD: ACCOUNTS.alice });
    const client = new DockerHub(config, {
      credentials: staticCredentials({ "docker.io": basic("alice", ACCOUNTS.alice) }),
      registry: { tracerProvider },
    });
    open.push(client);
    let listed = 0;
    for await (const _ of client.api.repositories("alice")) listed++;
    for await (const _ of client.api.tags("alice/app")) void _;
    await client.vulnerabilities("docker.io/alice/app:v1.0.0");
    const { WebhookReceiver } = await import("../src/providers/webhooks/receiver.js");
    const { dockerHubWebhookParser } = await import("../src/providers/dockerhub/webhook.js");
    const receiver = new WebhookReceiver({ parser: dockerHubWebhookParser, tracerProvider });
    const url = await receiver.listen();
    const payload = await readFile(join(REFERENCE, "dockerhub", "webhook-payload.example.json"));
    expect(
      (await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: payload }))
        .status,
    ).toBe(200);
    await receiver.close();
    const finished = spans.getFinishedSpans();
    const names = new Set(finished.map((s) => s.name));
    for (const name of [
      "docker.auth.login",
      "docker.repo.list",
      "docker.tag.list",
      "docker.manifest.head",
      "docker.vulnerability.get",
      "docker.webhook.receive",
    ])
      expect(names).toContain(name);
    const list = finished.find((s) => s.name === "docker.repo.list")!;
    expect(list.attributes).toMatchObject({ namespace: "alice", count: listed, provider: "dockerhub" });
    expect(finished.find((s) => s.name === "docker.auth.login")!.attributes).toMatchObject({
      username: "alice",
    });
    expect(finished.find((s) => s.name === "docker.webhook.receive")!.attributes).toMatchObject({
      event_type: "push",
      repository: "svendowideit/testhook",
    });
    // No secret in any attribute.
    expect(JSON.stringify(finished.map((s) => s.attributes))).not.toContain(ACCOUNTS.alice);
    await tracerProvider.shutdown();
  });
});

describe("Docker Hub webhooks from the fake", () => {
  it("a push and a Hub API tag delete reach a signed receiver as typed events", async () => {
    const { WebhookReceiver } = await import("../src/providers/webhooks/receiver.js");
    const { dockerHubWebhookParser } = await import("../src/providers/dockerhub/webhook.js");
    const { SecretString } = await import("../src/core/secret.js");
    const receiver = new WebhookReceiver({
      parser: dockerHubWebhookParser,
      secret: new SecretString("relay-secret"),
    });
    const url = await receiver.listen();
    const events = receiver.events();
    const hooked = dockerHubFake({
      webhooks: [{ url, secret: "relay-secret" }, { url: "http://127.0.0.1:9/unreachable" }],
    });
    const hubServer = await startRegistryServer({ users: new Users(ACCOUNTS), providers: [hooked] });
    try {
      const config = await configFor({}, hubServer);
      const client = new DockerHub(config, {
        credentials: staticCredentials({ "docker.io": basic("alice", ACCOUNTS.alice) }),
        login: { username: "alice", secret: new SecretString(ACCOUNTS.alice), source: "test" },
      });
      open.push(client);
      await pushImage(client.repository("alice/hooked"), alpine, "v1");
      await client.api.deleteTag("alice/hooked", "v1");
      const iterator = events[Symbol.asyncIterator]();
      const push = (await iterator.next()).value;
      const deletion = (await iterator.next()).value;
      expect(push).toMatchObject({ type: "push", repository: "alice/hooked", tag: "v1", pusher: "alice" });
      expect(push.pushedAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
      expect(deletion).toMatchObject({
        type: "delete",
        repository: "alice/hooked",
        tag: "v1",
        deleter: "alice",
      });
      await hooked.webhooks.settled();
      // Deliveries are fire-and-forget: the unreachable URL is recorded and did not fail the push.
      expect(hooked.webhooks.deliveries.filter((d) => d.status === 200)).toHaveLength(2);
      expect(hooked.webhooks.deliveries.filter((d) => d.error)).toHaveLength(2);
      expect(receiver.stats).toEqual({ accepted: 2, rejected: 0 });
    } finally {
      await receiver.close();
      await hubServer.close();
    }
  });
});

describe("skopeo against the Docker Hub fake", () => {
  it("pushes to its own namespace with a PAT, pulls public repositories anonymously, and is refused a private one", async () => {
    const { skopeoCopy, skopeoInspectRaw } = await import("./support/skopeo.js");
    const { writeOciLayout } = await import("../src/sim/images.js");
    const layout = join(work, "skopeo-layout");
    await writeOciLayout(layout, app, "v1");
    fake.accessTokens.create(
      "alice",
      { token_label: "skopeo", scopes: ["repo:write"] },
      { ip: "", ua: "" },
      "dckr_pat_skopeo",
    );
    const host = server.host;
    await skopeoCopy(`oci:${layout}:v1`, `docker://${host}/alice/from-skopeo:v1`, [
      "--all",
      "--dest-creds",
      "alice:dckr_pat_skopeo",
    ]);
    // Anonymous pull of a public repository, as on Docker Hub.
    expect((await skopeoInspectRaw(`docker://${host}/alice/from-skopeo:v1`)).equals(app.index.bytes)).toBe(
      true,
    );
    // The Hub API sees what skopeo pushed, with the pusher.
    const tag = await (await asAlice()).api.tag("alice/from-skopeo", "v1");
    expect(tag).toMatchObject({ digest: app.index.digest, lastUpdater: "alice" });
    // A private repository is refused anonymously, and pushing into someone else's namespace too.
    await expect(skopeoInspectRaw(`docker://${host}/alice/secret:v1`)).rejects.toThrow(
      /unauthorized|denied|authentication required/i,
    );
    await expect(
      skopeoCopy(`oci:${layout}:v1`, `docker://${host}/library/intruder:v1`, [
        "--all",
        "--dest-creds",
        "alice:dckr_pat_skopeo",
      ]),
    ).rejects.toThrow(/denied|unauthorized|authentication required/i);
  });
});
