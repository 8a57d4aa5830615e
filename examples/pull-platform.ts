/**
 * Pull one platform of a multi-platform image into an OCI image layout
 * directory, then check the layout holds exactly that platform's manifest.
 *   REF=docker.io/library/alpine:3.20 node examples/pull-platform.ts
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { digest, generateIndex, pull, push, startRegistryServer, writeOciLayout } from "regkit";

const server = await startRegistryServer();
const work = await mkdtemp(join(tmpdir(), "regkit-example-"));
try {
  const seed = join(work, "seed");
  await writeOciLayout(seed, await generateIndex({ seed: "pull", platforms: ["linux/amd64", "linux/arm64"] }), "v1");
  await push(`${seed}:v1`, `${server.host}/demo/app:v1`);

  const ref = process.env.REF ?? `${server.host}/demo/app:v1`;
  const out = join(work, "arm64");
  const result = await pull(ref, out, { platform: "linux/arm64" });
  const index = JSON.parse(await readFile(join(out, "index.json"), "utf8")) as {
    manifests: Array<{ digest: string; annotations?: Record<string, string> }>;
  };
  const expected = await digest(ref, { platform: "linux/arm64" });
  console.log(`pulled ${ref} (linux/arm64) into ${out}: ${result.blobs.copied} blobs, ${result.bytes} bytes`);
  console.log(`layout holds ${index.manifests[0]?.digest} tagged ${index.manifests[0]?.annotations?.["org.opencontainers.image.ref.name"]}`);
  if (index.manifests[0]?.digest !== expected) throw new Error(`expected ${expected} in the layout`);
  console.log("matches the registry's linux/arm64 manifest");
} finally {
  await rm(work, { recursive: true, force: true });
  await server.close();
}
