/**
 * Docker Hub counts every image-manifest GET as a pull. Read the remaining
 * budget (a HEAD: free), then let a multi-platform copy plan its pulls before
 * the first one: it fails at once when the budget cannot cover it.
 *
 * Against the Docker Hub fake (alice:secret in users.txt):
 *   regkit --json serve --providers dockerhub --users users.txt --pull-limit 10:1
 *   export DOCKER_HUB_URL=… DOCKER_HUB_REGISTRY_URL=… DOCKER_HUB_AUTH_URL=…   (the URLs it prints)
 *   DOCKER_HUB_USERNAME=alice DOCKER_HUB_PASSWORD=secret node examples/dockerhub-pull-budget.ts
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { copyImage, generateIndex, isRegkitError, push, Registry, writeOciLayout } from "regkit";
import { DockerHub, pullPlanner } from "regkit/dockerhub";

const user = process.env.DOCKER_HUB_USERNAME ?? "alice";
const ref = `docker.io/${user}/budget:v1`;
const hub = await DockerHub.create();
// Docker Hub references go where DOCKER_HUB_REGISTRY_URL says (the fake here).
const endpoints: Record<string, string> = {};
if (process.env.DOCKER_HUB_REGISTRY_URL) endpoints["docker.io"] = process.env.DOCKER_HUB_REGISTRY_URL;
const registry = new Registry({ endpoints });
const work = await mkdtemp(join(tmpdir(), "regkit-example-"));
try {
  const seed = join(work, "seed");
  await writeOciLayout(seed, await generateIndex({ seed: "hub", platforms: ["linux/amd64", "linux/arm64"] }), "v1");
  await push(`${seed}:v1`, ref, { registry });

  const limit = await hub.pullLimit(ref);
  console.log(`pull budget: ${limit.remaining ?? "unlimited"} of ${limit.limit ?? "unlimited"} left (${limit.source ?? "no source"})`);

  const beforeManifests = pullPlanner(registry, { authenticated: true, maxWaitMs: 0 });
  try {
    await copyImage(ref, `oci:${join(work, "all")}:v1`, { registry, beforeManifests });
    console.log("copied every platform");
  } catch (error) {
    if (!isRegkitError(error) || error.category !== "rate-limit") throw error;
    console.log(`planned, not spent: ${error.message}`);
  }
  const one = await copyImage(ref, `oci:${join(work, "amd64")}:v1`, { registry, platform: "linux/amd64" });
  console.log(`one platform instead: ${one.descriptor.digest} (${one.blobs.copied} blobs)`);
} finally {
  await Promise.all([registry.close(), hub.close()]);
  await rm(work, { recursive: true, force: true });
}
