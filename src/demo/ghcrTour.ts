import { SecretString } from "../core/secret.js";
import type { Repository } from "../registry/repository.js";
import { type GeneratedImage, generateImage, generateIndex } from "../sim/images.js";
import { startRegistryServer } from "../sim/server.js";

/**
 * GitHub Container Registry on the embedded GHCR fake, as `regkit ghcr …`
 * uses it: push with a PAT, list versions, plan a cleanup (dry run), run
 * it, and ask for vulnerabilities (none attached here).
 */
export async function ghcrTour(
  log: (line: string) => void,
  pushImage: (repo: Repository, image: GeneratedImage) => Promise<number>,
): Promise<void> {
  const [{ ghcrFake }, { Users }, { Ghcr, loadGhcrConfig, parseAge }, { basic, staticCredentials }] =
    await Promise.all([
      import("../sim/ghcr/fake.js"),
      import("../sim/auth/users.js"),
      import("../providers/ghcr/index.js"),
      import("../auth/index.js"),
    ]);
  const token = "ghp_demo_token";
  const fake = ghcrFake({
    organizations: { acme: ["demo"] },
    tokens: { [token]: { user: "demo", scopes: ["read:packages", "write:packages", "delete:packages"] } },
  });
  const server = await startRegistryServer({
    users: new Users({ demo: "demo-password" }),
    providers: [fake],
  });
  // What GHCR_REGISTRY_URL and GITHUB_API_URL would give `regkit ghcr …`.
  const config = await loadGhcrConfig({
    env: { GHCR_REGISTRY_URL: server.url, GITHUB_API_URL: `${server.url}/github` },
    file: "/dev/null",
  });
  const ghcr = new Ghcr(config, {
    credentials: staticCredentials({ "ghcr.io": basic("demo", token) }),
    token: new SecretString(token),
    writeIntervalMs: 0,
  });
  try {
    const content = await generateIndex({
      seed: "regkit-demo-ghcr",
      platforms: ["linux/amd64", "linux/arm64/v8"],
    });
    const stale = await generateImage({ seed: "regkit-demo-ghcr-stale", layers: 1, layerSize: 1024 });
    const repo = ghcr.repository("ghcr.io/acme/hello");
    await pushImage(repo, stale);
    for (const image of content.images) await pushImage(repo, image);
    await repo.pushManifest("v1", content.index.bytes, content.index.mediaType);
    fake.packages.setCreated("acme/hello", stale.manifest.digest, new Date(Date.now() - parseAge("60d")));
    log("GHCR fake: pushed ghcr.io/acme/hello:v1 (two platforms) and one stale untagged image");
    for await (const v of ghcr.api.versions("acme", "hello"))
      log(`  version ${v.id} ${v.digest.slice(0, 19)}… ${v.tags.join(",") || "(untagged)"}`);
    const policy = { untagged: true, olderThan: new Date(Date.now() - parseAge("30d")) };
    const plan = await ghcr.planCleanup("ghcr.io/acme/hello", policy);
    log("  ghcr cleanup --untagged --older-than 30d (dry run):");
    for (const e of plan.delete) log(`    delete ${e.id}: ${e.reason}`);
    for (const e of plan.keep) log(`    keep   ${e.id}: ${e.reason}`);
    const done = await ghcr.cleanup("ghcr.io/acme/hello", plan);
    log(`  with --yes: deleted ${done.deleted.length} version(s); the index and its platforms stay`);
    const report = await ghcr.vulnerabilities("ghcr.io/acme/hello:v1");
    log(
      `  vulns ghcr.io/acme/hello:v1: ${report.status === "not-scanned" ? "no scan data attached" : report.status}`,
    );
  } finally {
    await ghcr.close();
    await server.close();
  }
}
