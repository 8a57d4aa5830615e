/**
 * The Artifact Registry provider against the embedded Artifact Registry
 * fake: every acceptance criterion of gar-specification.md §11.1 by name
 * (real JWT-bearer assertions signed with a test service-account key and
 * verified by the fake's token endpoint), plus bad input.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Digest } from "../src/core/digest.js";
import { exitCodeFor, type RegkitError } from "../src/core/errors.js";
import { ArtifactRegistry, loadGarConfig, parseGarImage } from "../src/providers/gar/index.js";
import { DEFAULT_GAR_PROJECT, type GarFake, garFake } from "../src/sim/gar/fake.js";
import { type GeneratedImage, generateImage } from "../src/sim/images.js";
import { type RegistryServer, startRegistryServer } from "../src/sim/server.js";
import { discoveryContract } from "./support/contract.js";
import { readAll } from "./support/streams.js";
import { all, thrown } from "./support/thrown.js";

let server: RegistryServer;
let fake: GarFake;
let work: string;
let keyFile: string;
let image: GeneratedImage;
let other: GeneratedImage;
const open: ArtifactRegistry[] = [];
const IMAGE = "us-central1-docker.pkg.dev/demo-project/containers/app";
const REPO = { project: DEFAULT_GAR_PROJECT, location: "us-central1", repository: "containers" };
const PKG = { ...REPO, image: "app" };

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ARTIFACT_REGISTRY_API_URL: `${server.url}/gar`,
    CONTAINER_ANALYSIS_API_URL: `${server.url}/containeranalysis`,
    ARTIFACT_REGISTRY_DOCKER_URL: server.url,
    GOOGLE_OAUTH_TOKEN_URL: `${server.url}/gar/oauth2/token`,
    GOOGLE_APPLICATION_CREDENTIALS: keyFile,
    CLOUDSDK_CONFIG: join(work, "no-gcloud"),
    XDG_CONFIG_HOME: join(work, "xdg"),
    ...extra,
  };
}

async function gar(
  extra: Record<string, string> = {},
  tokens: { now?: () => number } = {},
): Promise<ArtifactRegistry> {
  const variables = env(extra);
  const client = await ArtifactRegistry.create({
    env: variables,
    tokens: { env: variables, background: false, ...tokens },
  });
  open.push(client);
  return client;
}

async function push(
  client: ArtifactRegistry,
  ref: string,
  content: GeneratedImage,
  tag: string,
): Promise<void> {
  const repo = client.repository(ref);
  for (const blob of [content.config, ...content.layers])
    await repo.uploads.upload(
      blob.bytes,
      { digest: blob.digest, size: blob.size, mediaType: blob.mediaType },
      { chunkSize: 1024 },
    );
  await repo.manifests.put(tag, content.manifest.bytes, content.manifest.mediaType);
}

/** The error a promise (or async function) rejects with; the test fails when it resolves. */

beforeAll(async () => {
  fake = garFake({ tokenTtlSeconds: 3600 });
  server = await startRegistryServer({ providers: [fake] });
  work = await mkdtemp(join(tmpdir(), "regkit-gar-"));
  keyFile = join(work, "key.json");
  await writeFile(keyFile, JSON.stringify(fake.serviceAccountKey));
  image = await generateImage({ seed: "gar-app", layers: 2, layerSize: 4096 });
  other = await generateImage({ seed: "gar-other", layers: 1, layerSize: 2048 });
  const client = await gar();
  await push(client, IMAGE, image, "v1");
  await push(client, IMAGE, other, "candidate");
});

afterAll(async () => {
  for (const client of open) await client.close();
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("Artifact Registry: acceptance criteria (specification §11.1)", () => {
  it("Auth: Service account authentication", async () => {
    const before = fake.auth.issued;
    const client = await gar();
    expect(await client.tokens.source()).toMatchObject({ kind: "key-file", type: "service_account" });
    const repo = await client.api.repository(REPO);
    expect(repo.name).toBe("projects/demo-project/locations/us-central1/repositories/containers");
    expect(fake.auth.issued).toBe(before + 1);
  });

  it("Auth: Workload identity support", async () => {
    process.env.GCE_METADATA_HOST = server.url.replace(/^http:\/\//, "");
    try {
      const client = await gar({
        GOOGLE_APPLICATION_CREDENTIALS: "",
        GCE_METADATA_HOST: process.env.GCE_METADATA_HOST,
      });
      expect((await client.tokens.source()).kind).toBe("metadata-server");
      const repos = await all(client.api.repositories(DEFAULT_GAR_PROJECT, "us"));
      expect(repos.map((r) => r.name)).toEqual(["projects/demo-project/locations/us/repositories/common"]);
    } finally {
      delete process.env.GCE_METADATA_HOST;
    }
  });

  it("Auth: ADC fallback", async () => {
    const gcloud = join(work, "gcloud");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(gcloud, { recursive: true });
    await writeFile(
      join(gcloud, "application_default_credentials.json"),
      JSON.stringify(fake.serviceAccountKey),
    );
    const client = await gar({ GOOGLE_APPLICATION_CREDENTIALS: "", CLOUDSDK_CONFIG: gcloud });
    expect((await client.tokens.source()).source).toContain("gcloud ADC");
    expect((await client.api.repository(REPO)).format).toBe("DOCKER");
  });

  it("Auth: Token refresh", async () => {
    let now = Date.now();
    const client = await gar({}, { now: () => now });
    const first = await client.tokens.token();
    now += 3600_000 * 0.79;
    expect((await client.tokens.token()).reveal()).toBe(first.reveal());
    now += 3600_000 * 0.02;
    const second = await client.tokens.token();
    expect(second.reveal()).not.toBe(first.reveal());
    expect(client.tokens.fetched).toBe(2);
  });

  it("Repo: List repositories by project/location", async () => {
    const client = await gar();
    const repos = await all(client.api.repositories(DEFAULT_GAR_PROJECT, "us-central1"));
    expect(repos.map((r) => r.name)).toEqual([
      "projects/demo-project/locations/us-central1/repositories/containers",
    ]);
    expect(
      await all(client.api.repositories(DEFAULT_GAR_PROJECT, "europe-west1", { format: "docker" })),
    ).toEqual([]);
    expect(
      (await all(client.api.repositories(DEFAULT_GAR_PROJECT, "europe-west1", { format: "npm" }))).length,
    ).toBe(1);
  });

  it("Repo: Get repository details", async () => {
    const repo = await (await gar()).api.repository(REPO);
    expect(repo).toMatchObject({
      format: "DOCKER",
      mode: "STANDARD_REPOSITORY",
      description: "images built by CI",
    });
    expect(Object.keys(repo.cleanupPolicies ?? {})).toEqual([
      "keep-releases",
      "keep-recent",
      "delete-untagged",
    ]);
  });

  it("Package: List packages", async () => {
    const client = await gar();
    expect((await all(client.api.packages(REPO))).map((p) => p.displayName)).toEqual(["app"]);
    const npm = await all(
      client.api.packages({ ...REPO, location: "europe-west1", repository: "npm-packages" }),
    );
    expect(npm.map((p) => p.name)).toEqual([
      "projects/demo-project/locations/europe-west1/repositories/npm-packages/packages/%40acme%2Fui",
      "projects/demo-project/locations/europe-west1/repositories/npm-packages/packages/left-pad",
    ]);
  });

  it("Package: Get package details", async () => {
    const p = await (await gar()).api.package(PKG);
    expect(p).toMatchObject({
      name: `projects/demo-project/locations/us-central1/repositories/containers/packages/app`,
      displayName: "app",
    });
  });

  it("Package: List versions", async () => {
    const versions = await all((await gar()).api.versions(PKG));
    const byDigest = new Map(versions.map((v) => [v.name.slice(v.name.lastIndexOf("/") + 1), v]));
    expect(byDigest.get(image.manifest.digest)?.relatedTags?.map((t) => t.name.split("/").at(-1))).toEqual([
      "v1",
    ]);
    expect(byDigest.has(other.manifest.digest)).toBe(true);
  });

  it("Package: Delete version", async () => {
    const client = await gar();
    const extra = await generateImage({ seed: "gar-delete", layers: 1, layerSize: 512 });
    await push(client, IMAGE, extra, "doomed");
    const refused = await thrown<RegkitError>(client.api.deleteVersion(PKG, extra.manifest.digest));
    expect(refused.category).toBe("invalid");
    expect(refused.message).toContain("tagged");
    await client.api.deleteVersion(PKG, extra.manifest.digest, { force: true });
    const gone = await thrown<RegkitError>(client.api.version(PKG, extra.manifest.digest));
    expect(gone.category).toBe("not-found");
    expect(await all(client.repository(IMAGE).tags())).not.toContain("doomed");
  });

  it("Tags: List tags", async () => {
    const tags = await all((await gar()).api.tags(PKG));
    expect(tags.map((t) => t.name.split("/").at(-1)).sort()).toEqual(["candidate", "v1"]);
    expect(tags.find((t) => t.name.endsWith("/v1"))?.version?.endsWith(image.manifest.digest)).toBe(true);
  });

  it("Tags: Create tag", async () => {
    const client = await gar();
    const created = await client.api.createTag(PKG, "stable", image.manifest.digest);
    expect(created.name.endsWith("/tags/stable")).toBe(true);
    expect((await client.repository(`${IMAGE}:stable`).manifests.head("stable")).digest).toBe(
      image.manifest.digest,
    );
  });

  it("Tags: Delete tag", async () => {
    const client = await gar();
    await client.api.createTag(PKG, "temporary", image.manifest.digest);
    await client.api.deleteTag(PKG, "temporary");
    const tags = await all(client.api.tags(PKG));
    expect(tags.some((t) => t.name.endsWith("/temporary"))).toBe(false);
  });

  it("Docker: Get manifest by tag/digest", async () => {
    const repo = (await gar()).repository(IMAGE);
    const byTag = await repo.manifests.get("v1");
    const byDigest = await repo.manifests.get(image.manifest.digest);
    expect(byTag.digest).toBe(image.manifest.digest);
    expect(Buffer.from(byDigest.bytes).equals(image.manifest.bytes)).toBe(true);
  });

  it("Docker: Put manifest", async () => {
    const client = await gar();
    await client.repository(IMAGE).manifests.put("put-check", other.manifest.bytes, other.manifest.mediaType);
    expect((await client.repository(IMAGE).manifests.head("put-check")).digest).toBe(other.manifest.digest);
  });

  it("Docker: Delete manifest", async () => {
    const client = await gar();
    const extra = await generateImage({ seed: "gar-delete-manifest", layers: 1, layerSize: 256 });
    await push(client, IMAGE, extra, "to-delete");
    await client.repository(IMAGE).manifests.delete(extra.manifest.digest);
    const gone = await thrown<RegkitError>(client.repository(IMAGE).manifests.head(extra.manifest.digest));
    expect(gone.category).toBe("not-found");
  });

  it("Docker: Check blob existence", async () => {
    const repo = (await gar()).repository(IMAGE);
    expect((await repo.blobs.head(image.layers[0]!.digest))?.size).toBe(image.layers[0]!.size);
  });

  it("Docker: Download blob", async () => {
    const repo = (await gar()).repository(IMAGE);
    const bytes = await readAll(
      (await repo.blobs.fetch(image.layers[1]!.digest, { size: image.layers[1]!.size })).stream,
    );
    expect(bytes.equals(image.layers[1]!.bytes)).toBe(true);
  });

  it("Docker: Upload blob (chunked)", async () => {
    const repo = (await gar()).repository(`us-central1-docker.pkg.dev/demo-project/containers/chunked`);
    const bytes = Buffer.alloc(10_000, 7);
    const { createHash } = await import("node:crypto");
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}` as Digest;
    await repo.uploads.upload(bytes, { digest, size: bytes.length }, { chunkSize: 3000 });
    expect((await repo.blobs.head(digest))?.size).toBe(10_000);
  });

  it("Vulnerability: List occurrences", async () => {
    const client = await gar();
    const report = await client.vulnerabilities(`${IMAGE}:v1`);
    expect(report.status).toBe("scanned");
    expect(report.image.digest).toBe(image.manifest.digest);
    expect(report.vulnerabilities.length).toBeGreaterThanOrEqual(2);
    expect(report.vulnerabilities[0]!.id).toMatch(/^CVE-2026-\d{5}$/);
    const total = Object.values(report.counts).reduce((a, b) => a + b, 0);
    expect(total).toBe(report.vulnerabilities.length);
  });

  it("Vulnerability: Get summary", async () => {
    const client = await gar();
    const i = parseGarImage(`${IMAGE}@${image.manifest.digest}`);
    const summary = await client.analysis.summary(
      i.project,
      `resourceUrl="https://us-central1-docker.pkg.dev/demo-project/containers/app@${image.manifest.digest}"`,
    );
    const report = await client.vulnerabilities(i);
    const total = Object.values(summary.counts).reduce((a, c) => a + c.total, 0);
    expect(total).toBe(report.vulnerabilities.length);
    expect(summary.counts.CRITICAL.fixable).toBeLessThanOrEqual(summary.counts.CRITICAL.total);
  });

  it("Regional: Multi-location support", async () => {
    const client = await gar();
    await push(client, "us-docker.pkg.dev/demo-project/common/tool", other, "v1");
    expect(
      (await all(client.api.packages({ ...REPO, location: "us", repository: "common" }))).map(
        (p) => p.displayName,
      ),
    ).toEqual(["tool"]);
    const wrongPlace = await thrown<RegkitError>(
      client.api.repository({ ...REPO, location: "europe-west1" }),
    );
    expect(wrongPlace.category).toBe("not-found");
    expect(parseGarImage("europe-west1-docker.pkg.dev/demo-project/r/i:1")).toMatchObject({
      location: "europe-west1",
    });
  });
});

describe("Artifact Registry: bad input and errors", () => {
  it("an unknown location is a usage error naming the nearest valid ones", async () => {
    const error = await thrown<RegkitError>(async () =>
      parseGarImage("us-centrall1-docker.pkg.dev/demo-project/r/i:1"),
    );
    expect(exitCodeFor(error)).toBe(2);
    expect(error.message).toContain("us-central1");
  });

  it("a key file that is not JSON, or lacks fields, is a configuration error", async () => {
    await writeFile(join(work, "bad.json"), "not json");
    await writeFile(
      join(work, "partial.json"),
      JSON.stringify({ type: "service_account", client_email: "x@y" }),
    );
    const notJson = await thrown<RegkitError>(
      (await gar({ GOOGLE_APPLICATION_CREDENTIALS: join(work, "bad.json") })).tokens.token(),
    );
    expect(notJson.message).toContain("is not JSON");
    const partial = await thrown<RegkitError>(
      (await gar({ GOOGLE_APPLICATION_CREDENTIALS: join(work, "partial.json") })).tokens.token(),
    );
    expect(partial.message).toContain('"private_key"');
    expect(partial.category).toBe("configuration");
  });

  it("a token endpoint that refuses is an authentication error (exit 4)", async () => {
    fake.auth.refuse = "invalid_grant";
    try {
      const error = await thrown<RegkitError>((await gar()).api.repository(REPO));
      expect(exitCodeFor(error)).toBe(4);
      expect(error.message).toContain("invalid_grant");
    } finally {
      fake.auth.refuse = undefined;
    }
  });

  it("PERMISSION_DENIED on one project among several exits 4 and names the project", async () => {
    const client = await gar();
    expect((await all(client.api.repositories("demo-project", "us-central1"))).length).toBe(1);
    const error = await thrown<RegkitError>(all(client.api.repositories("other-project", "us-central1")));
    expect(exitCodeFor(error)).toBe(4);
    expect(error.message).toContain("PERMISSION_DENIED");
    expect(error.message).toContain("projects/other-project");
  });

  it("settings: environment overrides map every Google endpoint", async () => {
    const config = await loadGarConfig({ env: env(), file: join(work, "absent.json") }).catch(() =>
      loadGarConfig({ env: env() }),
    );
    expect(config).toMatchObject({
      apiUrl: `${server.url}/gar`,
      dockerUrl: server.url,
      tokenUrl: `${server.url}/gar/oauth2/token`,
    });
  });
});

describe("Artifact Registry fake: contract (discovery documents)", () => {
  it("answers in the shapes of artifactregistry v1 and containeranalysis v1", async () => {
    const ar = await discoveryContract("google/artifactregistry-v1.discovery.json");
    const ca = await discoveryContract("google/containeranalysis-v1.discovery.json");
    const client = await gar();
    const token = (await client.tokens.token()).reveal();
    const get = async (path: string) =>
      (await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } })).json();
    const base = "/gar/v1/projects/demo-project/locations/us-central1/repositories";
    const pkg = `${base}/containers/packages/app`;
    const checks: Array<[typeof ar, string, unknown]> = [
      [ar, "ListRepositoriesResponse", await get(base)],
      [ar, "Repository", await get(`${base}/containers`)],
      [ar, "ListPackagesResponse", await get(`${base}/containers/packages`)],
      [ar, "Package", await get(pkg)],
      [ar, "ListVersionsResponse", await get(`${pkg}/versions`)],
      [ar, "ListTagsResponse", await get(`${pkg}/tags`)],
      [ar, "ListFilesResponse", await get(`${base}/containers/files`)],
      [ar, "ListDockerImagesResponse", await get(`${base}/containers/dockerImages`)],
      [ca, "ListOccurrencesResponse", await get("/containeranalysis/v1/projects/demo-project/occurrences")],
      [
        ca,
        "VulnerabilityOccurrencesSummary",
        await get("/containeranalysis/v1/projects/demo-project/occurrences:vulnerabilitySummary"),
      ],
      [ca, "ListNotesResponse", await get("/containeranalysis/v1/projects/demo-project/notes")],
    ];
    for (const [contract, schema, value] of checks)
      expect(contract.check(schema, value), schema).toEqual({ ok: true, errors: [] });
    const error = await (
      await fetch(`${server.url}${base}/nope`, { headers: { authorization: `Bearer ${token}` } })
    ).json();
    expect(error).toEqual({
      error: { code: 404, message: "Requested entity was not found.", status: "NOT_FOUND" },
    });
  });
});
