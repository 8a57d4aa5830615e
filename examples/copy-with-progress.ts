/**
 * Copy an image between two registries, printing progress as blobs move.
 * Runs against two embedded registries it starts (seeded with a generated
 * two-platform image); point SOURCE/DESTINATION at real ones to copy yours:
 *   SOURCE=ghcr.io/acme/app:v1 DESTINATION=127.0.0.1:5000/acme/app:v1 node examples/copy-with-progress.ts
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CopyProgress, copyImage, generateIndex, push, startRegistryServer, writeOciLayout } from "regkit";

const from = await startRegistryServer();
const to = await startRegistryServer();
const dir = await mkdtemp(join(tmpdir(), "regkit-example-"));
try {
  await writeOciLayout(dir, await generateIndex({ seed: "example", platforms: ["linux/amd64", "linux/arm64"] }), "v1");
  await push(`${dir}:v1`, `${from.host}/demo/app:v1`);

  const source = process.env.SOURCE ?? `${from.host}/demo/app:v1`;
  const destination = process.env.DESTINATION ?? `${to.host}/mirror/app:v1`;
  const onProgress = (event: CopyProgress) => {
    if (event.type === "blob" && event.state !== "started")
      console.log(`${event.state.padEnd(7)} ${event.digest.slice(0, 19)}  ${event.size} bytes`);
    if (event.type === "manifest") console.log(`manifest ${event.digest.slice(0, 19)}  ${event.mediaType}`);
  };
  const result = await copyImage(source, destination, { onProgress });
  console.log(
    `${result.source} → ${result.destination}:${result.tag} ${result.descriptor.digest}: ` +
      `${result.blobs.copied} blobs copied (${result.bytes} bytes), ${result.manifests} manifests`,
  );
  // A second copy finds everything in place and moves no bytes.
  const again = await copyImage(source, destination);
  console.log(`again: ${again.blobs.skipped} blobs already there, ${again.bytes} bytes moved`);
} finally {
  await rm(dir, { recursive: true, force: true });
  await Promise.all([from.close(), to.close()]);
}
