/**
 * The Artifact Registry REST client's error paths against the embedded
 * Artifact Registry fake behind fault injection: 5xx answers retried or
 * reported, quota answers with Retry-After, a 401 answered with one fresh
 * token, bodies cut short, `pageToken` pages walked to the end (and no
 * further than 10,000), and deletes that answer nothing needed.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { all, thrown } from "../../../test/support/thrown.js";
import {
  AuthenticationError,
  exitCodeFor,
  NotFoundError,
  ProtocolError,
  RateLimitError,
  ServerError,
} from "../../core/errors.js";
import { SecretString } from "../../core/secret.js";
import { Telemetry } from "../../registry/telemetry.js";
import { FaultInjector, type FaultRule } from "../../sim/faults.js";
import { type GarFake, garFake } from "../../sim/gar/fake.js";
import { generateImage } from "../../sim/images.js";
import { type RegistryServer, startRegistryServer } from "../../sim/server.js";
import type { HttpRequest, HttpResponse } from "../../transport/types.js";
import { ArtifactRegistry } from "./artifactRegistry.js";
import { loadGarConfig } from "./config.js";
import { GoogleTokenSource } from "./googleAuth.js";
import { GoogleClient } from "./googleClient.js";

const REPO = { project: "demo-project", location: "us-central1", repository: "containers" };
const REPO_PATH = "/gar/v1/projects/demo-project/locations/us-central1/repositories/containers";
const TOKEN_PATH = "/gar/oauth2/token";

let work: string;
const cleanup: Array<() => Promise<void>> = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "regkit-gar-client-"));
});
afterAll(async () => {
  for (const close of cleanup.reverse()) await close();
  await rm(work, { recursive: true, force: true });
});

/** A fake behind `rules`, and a client of it that retries `maxRetries` times without waiting long. */
async function setup(rules: FaultRule[], maxRetries = 0) {
  const fake: GarFake = garFake();
  const faults = new FaultInjector({ rules });
  const server: RegistryServer = await startRegistryServer({ providers: [fake], faults });
  const keyFile = join(work, `key-${cleanup.length}.json`);
  await writeFile(keyFile, JSON.stringify(fake.serviceAccountKey));
  const env = {
    ARTIFACT_REGISTRY_API_URL: `${server.url}/gar`,
    CONTAINER_ANALYSIS_API_URL: `${server.url}/containeranalysis`,
    ARTIFACT_REGISTRY_DOCKER_URL: server.url,
    GOOGLE_OAUTH_TOKEN_URL: `${server.url}${TOKEN_PATH}`,
    GOOGLE_APPLICATION_CREDENTIALS: keyFile,
    CLOUDSDK_CONFIG: join(work, "no-gcloud"),
    XDG_CONFIG_HOME: join(work, "xdg"),
  };
  const config = await loadGarConfig({ env });
  const client = new ArtifactRegistry(
    { ...config, maxRetries, quotaRetryBaseSeconds: 0.001 },
    { tokens: { env, background: false } },
  );
  cleanup.push(
    async () => client.close(),
    async () => server.close(),
  );
  const requests = (path: string) => faults.log.filter((line) => line.split(" ")[1] === path);
  return { client, fake, faults, requests };
}

describe("Artifact Registry REST client: failures", () => {
  it("a 503 is retried and the call succeeds", async () => {
    const { client, requests } = await setup(
      [{ kind: "status", status: 503, route: REPO_PATH, times: 1 }],
      2,
    );
    const info = await client.api.repository(REPO);
    expect(info.name).toBe("projects/demo-project/locations/us-central1/repositories/containers");
    expect(requests(REPO_PATH).map((line) => line.split(" ")[2])).toEqual(["503", "200"]);
  });

  it("a 5xx that persists is a server error naming the call (exit 7), after the retries", async () => {
    const { client, requests } = await setup([{ kind: "status", status: 500, route: REPO_PATH }], 1);
    const error = await thrown(client.api.repository(REPO));
    expect(error).toBeInstanceOf(ServerError);
    expect(error.message).toBe(
      "get projects/demo-project/locations/us-central1/repositories/containers: HTTP 500",
    );
    expect(exitCodeFor(error)).toBe(7);
    expect(requests(REPO_PATH)).toHaveLength(2);
  });

  it("a 429 is a quota error (exit 5) carrying the server's Retry-After", async () => {
    const { client } = await setup([{ kind: "status", status: 429, retryAfter: 7, route: REPO_PATH }]);
    const error = (await thrown(client.api.repository(REPO))) as RateLimitError;
    expect(error).toBeInstanceOf(RateLimitError);
    expect(exitCodeFor(error)).toBe(5);
    expect(error.retryAfterMs).toBe(7000);
  });

  it("a 401 from the API is answered with one fresh token; a second 401 is an authentication error", async () => {
    const once = await setup([{ kind: "status", status: 401, route: REPO_PATH, times: 1 }]);
    expect((await once.client.api.repository(REPO)).format).toBe("DOCKER");
    expect(once.requests(REPO_PATH).map((line) => line.split(" ")[2])).toEqual(["401", "200"]);
    expect(once.fake.auth.issued).toBe(2);

    const always = await setup([{ kind: "status", status: 401, route: REPO_PATH }]);
    const error = await thrown(always.client.api.repository(REPO));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(exitCodeFor(error)).toBe(4);
    expect(always.requests(REPO_PATH)).toHaveLength(2);
    expect(always.fake.auth.issued).toBe(2);
  });

  it("an answer cut short is a protocol error, not a half-read value", async () => {
    const { client } = await setup([{ kind: "truncate", bytes: 20, route: REPO_PATH }]);
    const error = await thrown(client.api.repository(REPO));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toMatch(
      /^get projects\/demo-project\/locations\/us-central1\/repositories\/containers/,
    );
    expect(exitCodeFor(error)).not.toBe(0);
  });

  it("an answer of the wrong shape names the field", async () => {
    const { client } = await setup([]);
    const error = await thrown(
      client.client.json(
        {
          method: "GET",
          path: "v1/projects/demo-project/locations/us-central1/repositories/containers",
          operation: "get it",
          span: "repo.get",
        },
        z.object({ name: z.number() }),
      ),
    );
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toBe(
      "get it: unexpected answer at name: Invalid input: expected number, received string",
    );
    const root = await thrown(
      client.client.json(
        {
          method: "GET",
          path: "v1/projects/demo-project/locations/us-central1/repositories/containers",
          operation: "get it",
          span: "repo.get",
        },
        z.array(z.unknown()),
      ),
    );
    expect(root.message).toMatch(/^get it: unexpected answer at \(root\): /);
  });
});

describe("Artifact Registry REST client: pages", () => {
  it("walks every pageToken page, one item per page, and stops at the last", async () => {
    const { client, requests } = await setup([]);
    const image = await generateImage({ seed: "pages", layers: 1, layerSize: 256 });
    const repo = client.repository("us-central1-docker.pkg.dev/demo-project/containers/paged");
    for (const blob of [image.config, ...image.layers])
      await repo.uploads.upload(blob.bytes, {
        digest: blob.digest,
        size: blob.size,
        mediaType: blob.mediaType,
      });
    for (const tag of ["a", "b", "c"])
      await repo.manifests.put(tag, image.manifest.bytes, image.manifest.mediaType);
    const path = "v1/projects/demo-project/locations/us-central1/repositories/containers/packages/paged/tags";
    const page = z.looseObject({
      tags: z.array(z.object({ name: z.string() })).optional(),
      nextPageToken: z.string().optional(),
    });
    const names: string[] = [];
    for await (const name of client.client.pages(
      { method: "GET", path, query: { pageSize: "1" }, operation: "list tags", span: "tags.list" },
      "tags",
      page,
      (t) => (t as { name: string }).name.split("/").at(-1)!,
    ))
      names.push(name);
    expect(names.sort()).toEqual(["a", "b", "c"]);
    expect(requests(`/gar/${path}`)).toHaveLength(3);
    // An empty listing is one page with no items.
    const empty: string[] = [];
    for await (const p of client.api.packages({ ...REPO, location: "us", repository: "common" }))
      empty.push(p.name);
    expect(empty).toEqual([]);
  });
});

describe("Artifact Registry REST client: requests and answers", () => {
  it("sends JSON bodies with their content type, and a 404 is not found", async () => {
    const { client } = await setup([]);
    const image = await generateImage({ seed: "tagged", layers: 1, layerSize: 128 });
    const repo = client.repository("us-central1-docker.pkg.dev/demo-project/containers/tagged");
    for (const blob of [image.config, ...image.layers])
      await repo.uploads.upload(blob.bytes, {
        digest: blob.digest,
        size: blob.size,
        mediaType: blob.mediaType,
      });
    await repo.manifests.put("v1", image.manifest.bytes, image.manifest.mediaType);
    const pkg = { ...REPO, image: "tagged" };
    const tag = await client.api.createTag(pkg, "v2", image.manifest.digest);
    expect(tag.name.split("/").at(-1)).toBe("v2");
    expect((await all(client.api.tags(pkg))).map((t) => t.name.split("/").at(-1)).sort()).toEqual([
      "v1",
      "v2",
    ]);
    const missing = await thrown(client.api.repository({ ...REPO, repository: "absent" }));
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(exitCodeFor(missing)).toBe(3);
  });

  it("a call answering nothing needed (a tag's delete) is sent, and its failure is a typed error", async () => {
    const { client, requests } = await setup([]);
    const image = await generateImage({ seed: "deleted-tag", layers: 1, layerSize: 128 });
    const repo = client.repository("us-central1-docker.pkg.dev/demo-project/containers/pruned");
    for (const blob of [image.config, ...image.layers])
      await repo.uploads.upload(blob.bytes, {
        digest: blob.digest,
        size: blob.size,
        mediaType: blob.mediaType,
      });
    for (const tag of ["keep", "drop"])
      await repo.manifests.put(tag, image.manifest.bytes, image.manifest.mediaType);
    const pkg = { ...REPO, image: "pruned" };
    const tagPath = `${REPO_PATH}/packages/pruned/tags/drop`;
    await client.api.deleteTag(pkg, "drop");
    expect(requests(tagPath)).toEqual([`DELETE ${tagPath} 200`]);
    expect((await all(client.api.tags(pkg))).map((t) => t.name.split("/").at(-1))).toEqual(["keep"]);
    const again = await thrown(client.api.deleteTag(pkg, "drop"));
    expect(again).toBeInstanceOf(NotFoundError);
    expect(again.message).toMatch(
      /^delete projects\/demo-project\/locations\/us-central1\/repositories\/containers\/packages\/pruned\/tags\/drop: /,
    );
  });

  /** A client of a scripted Google API: `answer` gives each page's JSON; the requests are kept. */
  function scripted(answer: (req: HttpRequest, n: number) => unknown, baseUrl = "https://api.test/") {
    const seen: HttpRequest[] = [];
    const send = async (req: HttpRequest): Promise<HttpResponse> => {
      seen.push(req);
      return {
        status: 200,
        headers: { "content-type": "application/json" },
        body: Readable.from([Buffer.from(JSON.stringify(answer(req, seen.length)))]),
        url: req.url,
        request: req,
      };
    };
    const tokens = new GoogleTokenSource({ send, accessToken: new SecretString("ya29.t") });
    return { client: new GoogleClient({ send, baseUrl, tokens, telemetry: new Telemetry() }), seen };
  }
  const page = z.looseObject({ items: z.array(z.string()).optional(), nextPageToken: z.string().optional() });
  const call = { method: "GET" as const, path: "v1/things", operation: "list things", span: "things.list" };

  it("asks for JSON with the bearer token, under the base URL however it ends, leaving out unset query values", async () => {
    const { client, seen } = scripted(() => ({ items: ["a"] }), "https://api.test/base///");
    const items: string[] = [];
    for await (const item of client.pages(
      { ...call, query: { filter: "x", unset: undefined } },
      "items",
      page,
      String,
    ))
      items.push(item);
    expect(items).toEqual(["a"]);
    expect(seen[0]!.url.href).toBe("https://api.test/base/v1/things?filter=x");
    expect(seen[0]!.headers).toEqual({ accept: "application/json", authorization: "Bearer ya29.t" });
    expect(seen[0]!.body).toBeUndefined();
    await client.json({ ...call, method: "POST", body: { name: "t" } }, z.unknown());
    expect(seen[1]!.headers["content-type"]).toBe("application/json");
    expect(seen[1]!.body).toBe('{"name":"t"}');
  });

  it("stops at an empty nextPageToken, and a page without the field has no items", async () => {
    const { client, seen } = scripted((_req, n) =>
      n === 1 ? { items: ["a"], nextPageToken: "p2" } : { nextPageToken: "" },
    );
    const items: string[] = [];
    for await (const item of client.pages(call, "items", page, String)) items.push(item);
    expect(items).toEqual(["a"]);
    expect(seen.map((r) => r.url.searchParams.get("pageToken"))).toEqual([null, "p2"]);
  });

  it("refuses a listing whose pages loop", async () => {
    const { client, seen } = scripted((_req, n) => ({
      items: [`i${n}`],
      nextPageToken: n === 1 ? "p2" : "p3",
    }));
    const items: string[] = [];
    const error = await thrown(
      (async () => {
        for await (const item of client.pages(call, "items", page, String)) items.push(item);
      })(),
    );
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toBe("list things: pagination loops");
    expect(error.provider).toBe("gar");
    expect(items).toEqual(["i1", "i2", "i3"]);
    expect(seen).toHaveLength(3);
  });

  it("gives up after 10,000 pages, each with a new token", async () => {
    // Past the cap the script stops handing out tokens, so a listing without the cap ends quietly.
    const { client, seen } = scripted((_req, n) => ({
      items: [`i${n}`],
      ...(n <= 10_005 ? { nextPageToken: `p${n}` } : {}),
    }));
    let items = 0;
    const error = await thrown(
      (async () => {
        for await (const _ of client.pages(call, "items", page, String)) items++;
      })(),
    );
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toBe("list things: pagination loops");
    expect(seen).toHaveLength(10_001);
    expect(items).toBe(10_001);
  }, 60_000);

  it("names the nested field of a wrong answer with dots", async () => {
    const { client } = scripted(() => ({ outer: { inner: 5 } }));
    const error = await thrown(client.json(call, z.object({ outer: z.object({ inner: z.string() }) })));
    expect(error.message).toMatch(/^list things: unexpected answer at outer\.inner: /);
    expect(error.provider).toBe("gar");
  });
});
