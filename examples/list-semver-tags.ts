/**
 * List a repository's tags and keep those that satisfy a semver range.
 *   REPOSITORY=ghcr.io/acme/app RANGE='^1' node examples/list-semver-tags.ts
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateImage, listTags, push, Registry, startRegistryServer, writeOciLayout } from "regkit";
import semver from "semver";

const server = await startRegistryServer();
const dir = await mkdtemp(join(tmpdir(), "regkit-example-"));
const registry = new Registry(); // one client for every call below
try {
  await writeOciLayout(dir, await generateImage({ seed: "tags", layers: 1 }), "seed");
  for (const tag of ["1.0.0", "v1.2.0", "1.10.3", "2.0.0", "2.1.0-rc.1", "latest", "nightly"])
    await push(`${dir}:seed`, `${server.host}/demo/app:${tag}`, { registry });

  const repository = process.env.REPOSITORY ?? `${server.host}/demo/app`;
  const range = process.env.RANGE ?? "^1";
  const tags = await listTags(repository, { registry });
  const matching = tags
    .filter((tag) => semver.valid(semver.clean(tag)) && semver.satisfies(semver.clean(tag)!, range))
    .sort((a, b) => semver.compare(semver.clean(a)!, semver.clean(b)!));
  console.log(`${tags.length} tags; matching ${range}: ${matching.join(" ")}`);
  console.log(`highest: ${matching.at(-1)}`);
} finally {
  await registry.close();
  await rm(dir, { recursive: true, force: true });
  await server.close();
}
