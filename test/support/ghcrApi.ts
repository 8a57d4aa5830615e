import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll } from "vitest";
import { basic, staticCredentials } from "../../src/auth/credentials.js";
import { SecretString } from "../../src/core/secret.js";
import { loadGhcrConfig } from "../../src/providers/ghcr/config.js";
import { Ghcr } from "../../src/providers/ghcr/index.js";
import { Users } from "../../src/sim/auth/users.js";
import { FaultInjector, type FaultRule } from "../../src/sim/faults.js";
import { type GhcrFakeOptions, ghcrFake } from "../../src/sim/ghcr/fake.js";
import { generateImage } from "../../src/sim/images.js";
import { type RegistryServer, startRegistryServer } from "../../src/sim/server.js";

/** alice's token, with every package scope. */
export const TOKEN = "ghp_alice_all";
/** The versions listing of acme/app. */
export const VERSIONS = "/github/orgs/acme/packages/container/app/versions";

/** A package answer of alice's in the REST description's shape, without the optional `owner`. */
export function ownerlessPackage(name: string) {
  return {
    id: 7,
    name,
    package_type: "container",
    visibility: "private",
    url: `https://api.github.com/users/alice/packages/container/${name}`,
    html_url: `https://github.com/users/alice/packages/container/package/${name}`,
    version_count: 1,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
  };
}

/**
 * The GHCR Packages API unit tests' fixture: registers the suite's hooks
 * (a temporary directory; every fake and client closed after the suite) and
 * answers `setup`.
 */
export function ghcrApiFixture() {
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

  /**
   * The fake (acme/app: `images` images, tagged t0, t1, …) behind `rules`, and a client retrying
   * `maxRetries` times whose spans are kept; `push` adds an image to a package.
   */
  async function setup(
    rules: FaultRule[],
    maxRetries = 0,
    images = 1,
    token = TOKEN,
    options: Pick<GhcrFakeOptions, "linkedRepositories"> = {},
  ) {
    const fake = ghcrFake({
      organizations: { acme: ["alice"] },
      tokens: { [TOKEN]: { user: "alice", scopes: ["read:packages", "write:packages", "delete:packages"] } },
      ...options,
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
    const spans = new InMemorySpanExporter();
    const client = new Ghcr(
      { ...config, maxRetries },
      {
        credentials: staticCredentials({ "ghcr.io": basic("alice", TOKEN) }),
        token: new SecretString(token),
        writeIntervalMs: 0,
        registry: {
          tracerProvider: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
        },
      },
    );
    cleanup.push(
      async () => client.close(),
      async () => server.close(),
    );
    /** Pushes image `seed` to `repository` under `tags` (by digest when none); answers its digest. */
    const push = async (repository: string, seed: string, tags: string[]) => {
      const repo = client.registry.repository("ghcr.io", repository);
      const image = await generateImage({ seed, layers: 1, layerSize: 256 });
      for (const blob of [image.config, ...image.layers])
        await repo.uploads.upload(blob.bytes, {
          digest: blob.digest,
          size: blob.size,
          mediaType: blob.mediaType,
        });
      for (const tag of tags.length > 0 ? tags : [image.manifest.digest])
        await repo.manifests.put(tag, image.manifest.bytes, image.manifest.mediaType);
      return image.manifest.digest;
    };
    const digests: string[] = [];
    for (let i = 0; i < images; i++) digests.push(await push("acme/app", `ghcr-api-${i}`, [`t${i}`]));
    spans.reset();
    const statuses = (path: string) =>
      faults.log.filter((line) => line.split(" ")[1] === path).map((line) => line.split(" ")[2]);
    /** The operation spans (not the HTTP ones) since the images were pushed, in the order they ended. */
    const operations = () =>
      spans
        .getFinishedSpans()
        .filter((span) => !span.name.startsWith("HTTP "))
        .map((span) => ({ name: span.name, ...span.attributes }));
    return { client, fake, statuses, digest: digests[0]!, digests, push, operations };
  }

  return setup;
}
