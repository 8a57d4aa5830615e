/**
 * The GHCR Packages API client's error paths against the embedded GHCR fake
 * behind fault injection: 5xx answers retried by octokit or reported,
 * secondary rate limits, bodies cut short, answers of the wrong shape, and
 * Link pages walked to the end.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { all, thrown } from "../../../test/support/thrown.js";
import { basic, staticCredentials } from "../../auth/credentials.js";
import {
  AuthenticationError,
  exitCodeFor,
  InvalidInputError,
  NotFoundError,
  ProtocolError,
  RateLimitError,
  ServerError,
  UnsupportedError,
} from "../../core/errors.js";
import { SecretString } from "../../core/secret.js";
import { Users } from "../../sim/auth/users.js";
import { FaultInjector, type FaultRule } from "../../sim/faults.js";
import { ghcrFake } from "../../sim/ghcr/fake.js";
import { generateImage } from "../../sim/images.js";
import { type RegistryServer, startRegistryServer } from "../../sim/server.js";
import { loadGhcrConfig } from "./config.js";
import { Ghcr } from "./index.js";

const TOKEN = "ghp_alice_all";
const VERSIONS = "/github/orgs/acme/packages/container/app/versions";
let work: string;
const cleanup: Array<() => Promise<void>> = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "regkit-ghcr-api-"));
  await writeFile(join(work, "empty.yaml"), "");
});
afterAll(async () => {
  for (const close of cleanup.reverse()) await close();
  await rm(work, { recursive: true, force: true });
});

/** The fake (acme/app: `images` images, tagged t0, t1, …) behind `rules`, and a client retrying `maxRetries` times. */
async function setup(rules: FaultRule[], maxRetries = 0, images = 1, token = TOKEN) {
  const fake = ghcrFake({
    organizations: { acme: ["alice"] },
    tokens: { [TOKEN]: { user: "alice", scopes: ["read:packages", "write:packages", "delete:packages"] } },
  });
  // The faults apply only once the image is pushed: a rule's route names API paths only.
  const faults = new FaultInjector({ rules });
  const server: RegistryServer = await startRegistryServer({
    users: new Users({ alice: "pw" }),
    providers: [fake],
    faults,
  });
  const env = { GHCR_REGISTRY_URL: server.url, GITHUB_API_URL: `${server.url}/github` };
  const config = await loadGhcrConfig({ env, file: join(work, "empty.yaml") });
  const client = new Ghcr(
    { ...config, maxRetries },
    {
      credentials: staticCredentials({ "ghcr.io": basic("alice", TOKEN) }),
      token: new SecretString(token),
      writeIntervalMs: 0,
    },
  );
  cleanup.push(
    async () => client.close(),
    async () => server.close(),
  );
  const repo = client.registry.repository("ghcr.io", "acme/app");
  const digests: string[] = [];
  for (let i = 0; i < images; i++) {
    const image = await generateImage({ seed: `ghcr-api-${i}`, layers: 1, layerSize: 256 });
    for (const blob of [image.config, ...image.layers])
      await repo.uploads.upload(blob.bytes, {
        digest: blob.digest,
        size: blob.size,
        mediaType: blob.mediaType,
      });
    await repo.manifests.put(`t${i}`, image.manifest.bytes, image.manifest.mediaType);
    digests.push(image.manifest.digest);
  }
  const statuses = (path: string) =>
    faults.log.filter((line) => line.split(" ")[1] === path).map((line) => line.split(" ")[2]);
  return { client, statuses, digest: digests[0]!, digests };
}

describe("GHCR Packages API client: failures", () => {
  it("a 502 is retried by octokit and the listing succeeds", async () => {
    const { client, statuses, digest } = await setup(
      [{ kind: "status", status: 502, route: VERSIONS, method: "GET", times: 1 }],
      1,
    );
    const versions = await all(client.api.versions("acme", "app"));
    expect(versions.map((v) => v.digest)).toEqual([digest]);
    expect(statuses(VERSIONS)).toEqual(["502", "200"]);
  });

  it("a 5xx that persists is a server error naming the operation (exit 7)", async () => {
    const { client, statuses } = await setup([
      { kind: "status", status: 503, route: VERSIONS, method: "GET" },
    ]);
    const error = await thrown(all(client.api.versions("acme", "app")));
    expect(error).toBeInstanceOf(ServerError);
    expect(error.message).toBe("versions.list on GitHub: HTTP 503");
    expect(exitCodeFor(error)).toBe(7);
    expect(statuses(VERSIONS)).toEqual(["503"]);
  });

  it("a 429 past the longest wait is a rate-limit error (exit 5)", async () => {
    const { client } = await setup([{ kind: "status", status: 429, retryAfter: 3600, route: VERSIONS }]);
    const error = await thrown(all(client.api.versions("acme", "app")));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(exitCodeFor(error)).toBe(5);
    expect((error as RateLimitError).retryAfterMs).toBe(3_600_000);
  });

  it("an answer cut short is a protocol error", async () => {
    const { client } = await setup([{ kind: "truncate", bytes: 10, route: VERSIONS }]);
    const error = await thrown(all(client.api.versions("acme", "app")));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toMatch(/on GitHub: /);
  });

  it("a token GitHub does not know is an authentication error that never shows the token", async () => {
    const { client } = await setup([], 0, 1, "ghp_unknown");
    const error = await thrown(client.api.package("acme", "app"));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.message).toContain("check GITHUB_TOKEN");
    expect(error.message).not.toContain("ghp_unknown");
  });

  it("a version id that does not exist is not found (exit 3)", async () => {
    const { client } = await setup([]);
    const error = await thrown(client.api.version("acme", "app", 999_999));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(exitCodeFor(error)).toBe(3);
  });
});

describe("GHCR Packages API client: pages", () => {
  it("follows Link pages to the last one", async () => {
    const { client, digests, statuses } = await setup([], 0, 3);
    const versions = await all(client.api.versions("acme", "app", { perPage: 1 }));
    expect(versions.map((v) => v.digest).sort()).toEqual([...digests].sort());
    expect(versions.flatMap((v) => v.tags).sort()).toEqual(["t0", "t1", "t2"]);
    expect(statuses(VERSIONS)).toEqual(["200", "200", "200"]);
  });
});

describe("GHCR Packages API client: listings and lookups", () => {
  it("lists packages per organisation, user, the token's user and repository; a repository must be OWNER/REPO", async () => {
    const { client } = await setup([]);
    const names = async (scope: Parameters<typeof client.api.packages>[0]) =>
      (await all(client.api.packages(scope))).map((p) => `${p.owner}/${p.name}`);
    expect(await names({ org: "acme" })).toEqual(["acme/app"]);
    expect(await names({ user: "alice" })).toEqual([]);
    expect(await names({ mine: true })).toEqual([]);
    expect(await names({ repository: "acme/unlinked" })).toEqual([]);
    await expect(all(client.api.packages({ repository: "acme" }))).rejects.toThrow(
      new InvalidInputError("repository must be OWNER/REPO, got acme"),
    );
    expect(await client.api.ownerType("ACME")).toBe("Organization");
    expect(await client.api.ownerType("alice")).toBe("User");
    expect(await client.api.visibility("acme", "app")).toBe("private");
  });

  it("filters versions by tagged state, tag and age", async () => {
    const { client, digests } = await setup([], 0, 2);
    const listed = async (filter: Parameters<typeof client.api.versions>[2]) =>
      (await all(client.api.versions("acme", "app", filter))).map((v) => v.digest).sort();
    expect(await listed({ tagged: true })).toEqual([...digests].sort());
    expect(await listed({ tagged: false })).toEqual([]);
    expect(await listed({ tag: (t) => t === "t1" })).toEqual([digests[1]]);
    expect(await listed({ olderThan: new Date(Date.now() + 60_000) })).toEqual([...digests].sort());
    expect(await listed({ olderThan: new Date(0) })).toEqual([]);
    expect(await listed({ state: "deleted" })).toEqual([]);
  });

  it("finds a version by id, tag or digest; deletes and restores it", async () => {
    const { client, digests } = await setup([], 0, 2);
    const byTag = await client.api.findVersion("acme", "app", "t0");
    expect(byTag.digest).toBe(digests[0]);
    expect((await client.api.findVersion("acme", "app", digests[1]!)).tags).toEqual(["t1"]);
    expect((await client.api.findVersion("acme", "app", byTag.id)).digest).toBe(digests[0]);
    expect((await client.api.findVersion("acme", "app", String(byTag.id))).digest).toBe(digests[0]);
    await expect(client.api.findVersion("acme", "app", "t9")).rejects.toThrow(
      new NotFoundError("ghcr.io/acme/app: no version tagged t9", { provider: "ghcr" }),
    );
    const deleted = await client.api.deleteByReference("acme", "app", "t0");
    expect(deleted.id).toBe(byTag.id);
    await expect(client.api.findVersion("acme", "app", "t0")).rejects.toThrow(NotFoundError);
    const restorable = await client.api.findVersion("acme", "app", digests[0]!, "deleted");
    expect(restorable.id).toBe(byTag.id);
    await expect(client.api.findVersion("acme", "app", digests[1]!, "deleted")).rejects.toThrow(
      `ghcr.io/acme/app: no deleted version with digest ${digests[1]}`,
    );
    await client.api.restoreVersion("acme", "app", byTag.id);
    expect((await client.api.findVersion("acme", "app", "t0")).id).toBe(byTag.id);
  });

  it("says where a package's visibility can be changed, as the REST API cannot", async () => {
    const { client } = await setup([]);
    await expect(client.api.setVisibility("acme", "app", "public")).rejects.toThrow(
      new UnsupportedError(
        "GitHub's REST API cannot change a package's visibility; make ghcr.io/acme/app public in its settings: https://github.com/orgs/acme/packages/container/app/settings",
        { provider: "ghcr" },
      ),
    );
    await expect(client.api.setVisibility("alice", "tools/app", "private")).rejects.toThrow(
      "https://github.com/users/alice/packages/container/tools%2Fapp/settings",
    );
  });
});
