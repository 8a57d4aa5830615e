// One library's work in a process of its own, for `npm run bench`: regkit (the built
// dist/index.js, as a library user imports it) or @snyk/docker-registry-v2-client 4.0.5,
// the most used Node registry client (needle; it does not verify digests). Prints the
// work's own wall time and CPU as JSON, start-up excluded; the parent reads the peak RSS
// from /usr/bin/time.
//
//   node bench/clientWork.mjs regkit|snyk layers HOST REPO DIGEST,DIGEST… DIR
//   node bench/clientWork.mjs regkit|snyk gets HOST REPO TAG
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";

const [client, work, host, repo, what, dir] = process.argv.slice(2);
const GETS = 100;
const snykOptions = {
  protocol: "http:",
  // Its default Accept leaves OCI out; the bench image is OCI.
  acceptManifest: [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
  ].join(","),
};

async function regkitWork() {
  const { Registry } = await import("../dist/index.js");
  const registry = new Registry({ credentials: false });
  const repository = registry.repository(host, repo);
  return {
    // Each blob's stream fails before it ends if its bytes are not its digest.
    layers: (digests) =>
      Promise.all(
        digests.map(async (digest) => {
          const blob = await repository.blobs.fetch(digest);
          await pipeline(blob.stream, createWriteStream(join(dir, digest.slice(7))));
        }),
      ),
    gets: async (tag) => {
      for (let i = 0; i < GETS; i++) await repository.manifests.get(tag);
    },
    close: () => registry.close(),
  };
}

async function snykWork() {
  const snyk = await import("@snyk/docker-registry-v2-client");
  return {
    layers: (digests) =>
      Promise.all(
        digests.map((digest) =>
          snyk.downloadLayer(
            join(dir, digest.slice(7)),
            host,
            repo,
            digest,
            undefined,
            undefined,
            snykOptions,
          ),
        ),
      ),
    gets: async (tag) => {
      for (let i = 0; i < GETS; i++)
        await snyk.getManifest(host, repo, tag, undefined, undefined, snykOptions);
    },
    close: async () => undefined,
  };
}

const library = client === "regkit" ? await regkitWork() : await snykWork();
if (work === "layers") await mkdir(dir, { recursive: true });
const cpu = process.cpuUsage();
const start = performance.now();
await (work === "layers" ? library.layers(what.split(",")) : library.gets(what));
const wallMs = performance.now() - start;
const used = process.cpuUsage(cpu);
await library.close();
process.stdout.write(`${JSON.stringify({ wallMs, cpuMs: (used.user + used.system) / 1000 })}\n`);
