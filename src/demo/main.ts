/**
 * `npm run demo`: a tour of regkit's main job, offline, against its embedded
 * registry. Push a generated two-platform image, copy it to another
 * repository (blobs mounted, not re-sent), list tags, resolve platforms,
 * read a layer back verified, pull it into an OCI layout and push it to a
 * second registry, then replay the recorded session from its cassette with
 * no registry running. Last, the same image on the Docker Hub fake: Hub API
 * listings, the pull limit and a scan overview; and on the GHCR fake:
 * versions, a cleanup plan and its run.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { copy } from "../copy/copy.js";
import { Digester } from "../core/digest.js";
import { exitCodeFor } from "../core/errors.js";
import { formatPlatform, parsePlatform, platformFromDescriptor } from "../core/platform.js";
import { Registry } from "../registry/registry.js";
import type { Repository } from "../registry/repository.js";
import { type GeneratedImage, generateIndex } from "../sim/images.js";
import { startRegistryServer } from "../sim/server.js";
import { OciLayoutStore } from "../store/ociLayoutStore.js";
import { RemoteStore } from "../store/remoteStore.js";

const started = performance.now();
const log = (line: string) => process.stdout.write(`${line}\n`);

async function pushImage(repo: Repository, image: GeneratedImage): Promise<number> {
  let bytes = 0;
  for (const blob of [image.config, ...image.layers]) {
    await repo.uploads.upload(blob.bytes, blob);
    bytes += blob.size;
  }
  await repo.pushManifest(image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
  return bytes;
}

/** The session the demo runs, live or replayed; returns what it saw, for comparison. */
async function session(registry: Registry, host: string, pushFirst: boolean): Promise<string[]> {
  const seen: string[] = [];
  const repo = registry.repository(host, "demo/hello");
  const content = await generateIndex({
    seed: "regkit-demo",
    platforms: ["linux/amd64", "linux/arm64/v8"],
    layers: 2,
  });
  if (pushFirst) {
    let pushed = 0;
    for (const image of content.images) pushed += await pushImage(repo, image);
    await repo.pushManifest("v1", content.index.bytes, content.index.mediaType);
    log(`pushed ${host}/demo/hello:v1 — ${content.images.length} platforms, ${pushed} blob bytes`);
  }
  const copied = await copy(
    new RemoteStore(repo),
    "v1",
    new RemoteStore(registry.repository(host, "demo/copy")),
    "v1",
  );
  seen.push(`copied to demo/copy (${copied.blobs.mounted} blobs mounted, ${copied.bytes} bytes re-sent)`);
  const target = registry.repository(host, "demo/copy");

  const tags = await target.tags().all();
  seen.push(`tags of demo/copy: ${tags.join(", ")}`);
  const index = await target.manifests.get("v1");
  if (index.digest !== content.index.digest) throw new Error("the copy changed the index digest");
  seen.push(`index ${index.digest} (${index.mediaType})`);
  if (index.kind === "index") {
    for (const child of index.manifest.manifests) {
      const platform = platformFromDescriptor(child);
      seen.push(`  ${platform ? formatPlatform(platform) : "?"} → ${child.digest}`);
    }
  }
  const resolved = await target.resolve("v1", { platform: parsePlatform("linux/arm64") });
  seen.push(`linux/arm64 resolves to ${resolved.descriptor.digest}`);
  if (resolved.manifest.kind !== "image") throw new Error("expected an image manifest");
  const layer = resolved.manifest.manifest.layers[0]!;
  const digester = new Digester();
  for await (const chunk of (await target.blobs.fetch(layer.digest, { size: layer.size })).stream)
    digester.update(chunk as Buffer);
  seen.push(`read layer ${layer.digest.slice(0, 19)}… (${digester.size} bytes), digest verified`);
  return seen;
}

/** A failing demo reports like the CLI: one line and the exit code of the README's table, no stack trace. */
async function tour(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), "regkit-demo-"));
  const cassette = join(work, "session.har");
  try {
    const server = await startRegistryServer({ port: 0 });
    log(`embedded registry listening at ${server.url}`);
    const live = new Registry({ credentials: false, record: cassette });
    const seen = await session(live, server.host, true);
    for (const line of seen) log(line);
    await live.close();

    // Out to an OCI layout directory and back into a registry, through the same copy engine.
    const back = await startRegistryServer({ port: 0 });
    const plain = new Registry({ credentials: false });
    const layoutDir = join(work, "layout");
    const pulled = await copy(
      new RemoteStore(plain.repository(server.host, "demo/hello")),
      "v1",
      new OciLayoutStore(layoutDir),
      "v1",
    ).catch(() => undefined);
    // (the first registry is still up: it closes below, after the cassette is written)
    if (!pulled) throw new Error("pull to the OCI layout failed");
    log(
      `pulled to oci:${layoutDir}:v1 — ${pulled.blobs.copied} blobs, ${pulled.bytes} bytes, digests verified`,
    );
    const pushed = await copy(
      new OciLayoutStore(layoutDir),
      "v1",
      new RemoteStore(plain.repository(back.host, "restored/hello")),
      "v1",
    );
    log(
      `pushed back to ${back.host}/restored/hello:v1 — same index digest: ${pushed.descriptor.digest === pulled.descriptor.digest}`,
    );
    await plain.close();
    await back.close();
    await server.close();

    const har = JSON.parse(await readFile(cassette, "utf8")) as { log: { entries: unknown[] } };
    const beside = await readdir(join(`${cassette}.blobs`, "sha256")).catch(() => []);
    log(
      `recorded ${har.log.entries.length} HTTP exchanges to a HAR 1.2 cassette (${beside.length} large bodies beside it)`,
    );

    // The registry is gone: the same session now runs from the cassette alone.
    const offline = new Registry({ credentials: false, replay: cassette });
    const replayed = await session(offline, server.host, false);
    await offline.close();
    if (replayed.join("\n") !== seen.join("\n"))
      throw new Error("the replayed session differs from the live one");
    log("replayed the session offline from the cassette: identical results");
    await dockerHubTour();
    await (await import("./ghcrTour.js")).ghcrTour(log, pushImage);
    await (await import("./garTour.js")).artifactRegistryTour(log);
    log(`done in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

try {
  await tour();
} catch (error) {
  process.stderr.write(`regkit demo: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = exitCodeFor(error);
}

/** Docker Hub's own API against the embedded fake, as `regkit hub …`, `ratelimit` and `vulns` use it. */
async function dockerHubTour(): Promise<void> {
  const content = await generateIndex({
    seed: "regkit-demo-hub",
    platforms: ["linux/amd64", "linux/arm64/v8"],
  });
  const [{ dockerHubFake }, { Users }, { DockerHub, loadDockerHubConfig }, { basic, staticCredentials }] =
    await Promise.all([
      import("../sim/dockerhub/fake.js"),
      import("../sim/auth/users.js"),
      import("../providers/dockerhub/index.js"),
      import("../auth/index.js"),
    ]);
  const hubServer = await startRegistryServer({
    users: new Users({ demo: "demo-password" }),
    providers: [dockerHubFake()],
  });
  // The fake's endpoints, as DOCKER_HUB_* variables would give them to `regkit hub …`.
  const config = await loadDockerHubConfig({
    env: {
      DOCKER_HUB_URL: `${hubServer.url}/hub`,
      DOCKER_HUB_REGISTRY_URL: hubServer.url,
      DOCKER_HUB_AUTH_URL: hubServer.url,
      DOCKER_HUB_USERNAME: "demo",
      DOCKER_HUB_PASSWORD: "demo-password",
    },
  });
  const hub = new DockerHub(config, {
    credentials: staticCredentials({ "docker.io": basic("demo", "demo-password") }),
  });
  try {
    const repo = hub.repository("demo/hello");
    for (const image of content.images) await pushImage(repo, image);
    await repo.pushManifest("v1", content.index.bytes, content.index.mediaType);
    const repos: string[] = [];
    for await (const r of hub.api.repositories("demo"))
      repos.push(`${r.repository} (${r.isPrivate ? "private" : "public"})`);
    log(`Docker Hub fake: pushed docker.io/demo/hello:v1; hub repos demo → ${repos.join(", ")}`);
    for await (const tag of hub.api.tags("demo/hello")) {
      const platforms = tag.images.map((i) => [i.os, i.architecture, i.variant].filter(Boolean).join("/"));
      log(`  tag ${tag.name} → ${tag.digest?.slice(0, 19)}…, ${tag.size} bytes, ${platforms.join(" + ")}`);
    }
    await repo.manifests.get(content.images[0]!.manifest.digest);
    const limit = await hub.pullLimit("demo/hello:v1");
    log(
      `  pull limit: ${limit.remaining} of ${limit.limit} per ${(limit.windowSeconds ?? 0) / 3600} h left after one pull (${limit.authenticated ? "authenticated" : "anonymous"})`,
    );
    const report = await hub.vulnerabilities("docker.io/demo/hello:v1");
    const { critical, high, medium, low } = report.counts;
    log(
      `  scan of the linux/amd64 image: ${report.status}, critical ${critical}, high ${high}, medium ${medium}, low ${low}`,
    );
  } finally {
    await hub.close();
    await hubServer.close();
  }
}
