import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateImage } from "../sim/images.js";
import { startRegistryServer } from "../sim/server.js";

/**
 * Artifact Registry against the embedded fake, as `regkit gar …` and
 * `vulns` use it: a service-account key signs a JWT-bearer assertion the
 * fake verifies, an image is pushed with `oauth2accesstoken`, then the REST
 * API, Container Analysis and a cleanup dry run.
 */
export async function artifactRegistryTour(log: (line: string) => void): Promise<void> {
  const [{ garFake }, { ArtifactRegistry }] = await Promise.all([
    import("../sim/gar/fake.js"),
    import("../providers/gar/index.js"),
  ]);
  const fake = garFake();
  const server = await startRegistryServer({ providers: [fake] });
  const work = await mkdtemp(join(tmpdir(), "regkit-demo-gar-"));
  const keyFile = join(work, "key.json");
  await writeFile(keyFile, JSON.stringify(fake.serviceAccountKey), { mode: 0o600 });
  // The variables a user would export to point `regkit gar …` at the fake.
  const env = {
    ARTIFACT_REGISTRY_API_URL: `${server.url}/gar`,
    CONTAINER_ANALYSIS_API_URL: `${server.url}/containeranalysis`,
    ARTIFACT_REGISTRY_DOCKER_URL: server.url,
    GOOGLE_OAUTH_TOKEN_URL: `${server.url}/gar/oauth2/token`,
    GOOGLE_APPLICATION_CREDENTIALS: keyFile,
    REGKIT_CONFIG: join(work, "none.yaml"),
  };
  await writeFile(env.REGKIT_CONFIG, "{}\n");
  const gar = await ArtifactRegistry.create({ env, tokens: { env, background: false } });
  try {
    const name = "us-central1-docker.pkg.dev/demo-project/containers/hello";
    const image = await generateImage({ seed: "regkit-demo-gar", layers: 2, layerSize: 64 * 1024 });
    const repo = gar.repository(name);
    for (const blob of [image.config, ...image.layers])
      await repo.uploads.upload(blob.bytes, {
        digest: blob.digest,
        size: blob.size,
        mediaType: blob.mediaType,
      });
    await repo.manifests.put("v1", image.manifest.bytes, image.manifest.mediaType);
    log(
      `Artifact Registry fake: service-account key → access token (${(await gar.tokens.source()).kind}); pushed ${name}:v1`,
    );
    const where = { project: "demo-project", location: "us-central1", repository: "containers" };
    for await (const r of gar.api.repositories("demo-project", "us-central1"))
      log(
        `  gar repos: ${r.name.split("/").at(-1)} (${r.format}, ${Object.keys(r.cleanupPolicies ?? {}).length} cleanup policies)`,
      );
    for await (const v of gar.api.versions({ ...where, image: "hello" }))
      log(
        `  gar versions: ${v.name.split("/").at(-1)?.slice(0, 19)}… tags ${(v.relatedTags ?? []).map((t) => t.name.split("/").at(-1)).join(",")}`,
      );
    const report = await gar.vulnerabilities(`${name}:v1`);
    const { critical, high, medium, low } = report.counts;
    log(`  vulns (Container Analysis): critical ${critical}, high ${high}, medium ${medium}, low ${low}`);
    const plan = await gar.cleanupPreview(where);
    log(
      `  cleanup-preview: ${plan.delete.length} to delete, ${plan.keep.length} kept (${plan.keep.map((k) => k.policy ?? "no rule").join(", ")})`,
    );
  } finally {
    await gar.close();
    await server.close();
    await rm(work, { recursive: true, force: true });
  }
}
