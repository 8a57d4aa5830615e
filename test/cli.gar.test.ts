/**
 * The Artifact Registry commands as users run them, against `regkit serve
 * --providers gar` in a child process, pointed there by the variables the
 * README documents, with a service-account key file.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArtifactRegistry } from "../src/providers/gar/index.js";
import { type GeneratedImage, generateImage } from "../src/sim/images.js";
import { cliRunner, type ServedFakes, serveFakes, serveWebhooks } from "./support/cli.js";

const IMAGE = "us-central1-docker.pkg.dev/demo-project/containers/web";
const REPO = "us-central1-docker.pkg.dev/demo-project/containers";

let dir: string;
let fake: ServedFakes;
let url: string;
let v1: GeneratedImage;
let v2: GeneratedImage;

function garEnv(): Record<string, string> {
  return {
    ARTIFACT_REGISTRY_API_URL: `${url}/gar`,
    CONTAINER_ANALYSIS_API_URL: `${url}/containeranalysis`,
    ARTIFACT_REGISTRY_DOCKER_URL: url,
    GOOGLE_OAUTH_TOKEN_URL: `${url}/gar/oauth2/token`,
    GOOGLE_APPLICATION_CREDENTIALS: join(dir, "key.json"),
  };
}

const regkit = cliRunner(() => ({ HOME: dir, REGKIT_CONFIG: join(dir, "config.yaml"), ...garEnv() }));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "regkit-cli-gar-"));
  await writeFile(join(dir, "config.yaml"), "{}\n");
  fake = await serveFakes(["--providers", "gar"]);
  url = fake.urls.registry!;
  await writeFile(
    join(dir, "key.json"),
    await (await fetch(`${url}/gar/_fake/service-account-key.json`)).text(),
  );
  v1 = await generateImage({ seed: "cli-gar-1", layers: 1, layerSize: 1024 });
  v2 = await generateImage({ seed: "cli-gar-2", layers: 1, layerSize: 1024 });
  const gar = await ArtifactRegistry.create({
    env: { ...garEnv(), REGKIT_CONFIG: join(dir, "config.yaml") },
    tokens: { background: false },
  });
  try {
    for (const [content, tag] of [
      [v1, "v1"],
      [v2, "nightly"],
    ] as const) {
      const repo = gar.repository(IMAGE);
      for (const blob of [content.config, ...content.layers])
        await repo.uploads.upload(blob.bytes, {
          digest: blob.digest,
          size: blob.size,
          mediaType: blob.mediaType,
        });
      await repo.manifests.put(tag, content.manifest.bytes, content.manifest.mediaType);
    }
  } finally {
    await gar.close();
  }
}, 60_000);

afterAll(async () => {
  await fake?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("regkit gar against regkit serve --providers gar", () => {
  it("gar repos lists a project's repositories in a location, filtered by format", async () => {
    const all = await regkit([
      "--json",
      "gar",
      "repos",
      "--project",
      "demo-project",
      "--location",
      "europe-west1",
    ]);
    expect(all.code).toBe(0);
    expect((JSON.parse(all.stdout) as Array<{ format: string }>).map((r) => r.format)).toEqual(["NPM"]);
    const docker = await regkit([
      "gar",
      "repos",
      "--project",
      "demo-project",
      "--location",
      "europe-west1",
      "--format",
      "docker",
    ]);
    expect(docker).toMatchObject({ code: 0, stdout: "" });
  });

  it("gar repo get, packages, versions, tags and files show what was pushed", async () => {
    const repo = await regkit([
      "gar",
      "--project",
      "demo-project",
      "--location",
      "us-central1",
      "repo",
      "get",
      "containers",
    ]);
    expect(repo.stdout).toContain("format:      DOCKER");
    expect(repo.stdout).toContain("policy:      keep-releases KEEP");
    expect((await regkit(["gar", "packages", REPO])).stdout).toMatch(/^web\t/);
    const versions = await regkit(["gar", "versions", IMAGE]);
    expect(versions.stdout).toContain(`${v1.manifest.digest}\t`);
    expect(versions.stdout).toContain("\tv1\n");
    const tags = JSON.parse((await regkit(["--json", "gar", "tags", IMAGE])).stdout) as Array<{
      name: string;
    }>;
    expect(tags.map((t) => t.name.split("/").at(-1)).sort()).toEqual(["nightly", "v1"]);
    const files = await regkit(["gar", "files", REPO]);
    expect(files.stdout).toContain(v1.layers[0]!.digest);
  });

  it("gar tag add / delete and version delete (--force for tagged versions)", async () => {
    expect((await regkit(["gar", "tag", "add", `${IMAGE}:stable@${v1.manifest.digest}`])).code).toBe(0);
    expect((await regkit(["gar", "tags", IMAGE])).stdout).toContain(`stable\t${v1.manifest.digest}`);
    expect((await regkit(["gar", "tag", "delete", `${IMAGE}:stable`])).code).toBe(0);
    expect((await regkit(["gar", "tags", IMAGE])).stdout).not.toContain("stable");
    const refused = await regkit(["gar", "version", "delete", `${IMAGE}@${v2.manifest.digest}`]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^regkit: .*tagged/);
    const forced = await regkit([
      "--json",
      "gar",
      "version",
      "delete",
      "--force",
      `${IMAGE}@${v2.manifest.digest}`,
    ]);
    expect(JSON.parse(forced.stdout)).toEqual({ deleted: v2.manifest.digest });
    expect((await regkit(["gar", "versions", IMAGE])).stdout).not.toContain(v2.manifest.digest);
  });

  it("gar cleanup-preview --json prints the plan", async () => {
    const plan = JSON.parse((await regkit(["--json", "gar", "cleanup-preview", REPO])).stdout) as {
      delete: unknown[];
      keep: Array<{ version: string; digest: string; tags: string[]; policy: string | null }>;
    };
    expect(plan.delete).toEqual([]);
    expect(plan.keep).toContainEqual({
      version: v1.manifest.digest,
      digest: v1.manifest.digest,
      tags: ["v1"],
      policy: "keep-releases",
    });
  });

  it("vulns shows severity counts, fixable counts and the CVE list for an Artifact Registry image", async () => {
    const text = await regkit(["vulns", `${IMAGE}:v1`]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`demo-project/containers/web@${v1.manifest.digest}`);
    expect(text.stdout).toMatch(/^fixable: /m);
    expect(text.stdout).toMatch(/CVE-2026-\d{5}/);
    const json = JSON.parse((await regkit(["--json", "vulns", `${IMAGE}:v1`])).stdout) as {
      provider: string;
      summary: Record<string, unknown>;
    };
    expect(json.provider).toBe("gar");
    expect(Object.keys(json.summary)).toContain("CRITICAL");
  });

  it("PERMISSION_DENIED exits 4 and names the project; an unknown location is a usage error", async () => {
    const denied = await regkit(["gar", "repos", "--project", "other-project", "--location", "us-central1"]);
    expect(denied.code).toBe(4);
    expect(denied.stderr).toContain("projects/other-project");
    expect(denied.stderr).toMatch(
      /PERMISSION_DENIED: .*; grant the Google identity regkit authenticates as a role that holds the permission Google names, .*roles\/artifactregistry\.reader to read/,
    );
    const unknown = await regkit([
      "gar",
      "versions",
      "us-centrall1-docker.pkg.dev/demo-project/containers/web",
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("nearest valid: us-central1");
  });

  it("a 401 from the REST API or the Docker endpoint says where Artifact Registry credentials come from", async () => {
    const stale = { GOOGLE_OAUTH_ACCESS_TOKEN: "ya29.expired" };
    const fresh =
      "GOOGLE_OAUTH_ACCESS_TOKEN is sent as is and never refreshed: set a fresh one (`gcloud auth print-access-token`), or unset it to use GOOGLE_APPLICATION_CREDENTIALS or gcloud ADC";
    const rest = await regkit(["gar", "packages", REPO], stale);
    expect(rest.code).toBe(4);
    expect(rest.stderr).toBe(
      `regkit: list packages of projects/demo-project/locations/us-central1/repositories/containers: UNAUTHENTICATED: Request had invalid authentication credentials.; ${fresh}\n`,
    );
    const docker = await regkit(["ls", IMAGE], stale);
    expect(docker.code).toBe(4);
    expect(docker.stderr).toMatch(/rejected the credentials from GOOGLE_OAUTH_ACCESS_TOKEN/);
    expect(docker.stderr.endsWith(`; ${fresh}\n`)).toBe(true);
    // No Google credentials at all: the Docker endpoint answers 401 to the anonymous request.
    const anonymous = await regkit(["ls", IMAGE], { GOOGLE_APPLICATION_CREDENTIALS: "" });
    expect(anonymous.code).toBe(4);
    expect(anonymous.stderr).toMatch(
      /; log in with `regkit login us-central1-docker\.pkg\.dev -u oauth2accesstoken` \(password: `gcloud auth print-access-token`\) or `-u _json_key` .*, or set GOOGLE_APPLICATION_CREDENTIALS\n$/,
    );
  });

  it("the login that hint names is one the Docker endpoint accepts: oauth2accesstoken with an access token", async () => {
    const gar = await ArtifactRegistry.create({
      env: { ...garEnv(), REGKIT_CONFIG: join(dir, "config.yaml") },
      tokens: { background: false },
    });
    const token = await gar.tokens.token().finally(() => gar.close());
    const noGoogle = { GOOGLE_APPLICATION_CREDENTIALS: "", DOCKER_CONFIG: join(dir, "docker-gar") };
    const args = ["login", "us-central1-docker.pkg.dev", "-u", "oauth2accesstoken", "--password-stdin"];
    const login = await regkit(args, noGoogle, `${token.reveal()}\n`);
    expect(login.code).toBe(0);
    expect(login.stdout).toMatch(/^Login Succeeded \(oauth2accesstoken on us-central1-docker\.pkg\.dev/);
    const wrong = await regkit(args, noGoogle, "ya29.not-a-token\n");
    expect(wrong.code).toBe(4);
  });

  it("generic commands follow ARTIFACT_REGISTRY_DOCKER_URL for every *-docker.pkg.dev host", async () => {
    const ls = await regkit(["ls", IMAGE]);
    expect(ls.code).toBe(0);
    expect(ls.stdout.split("\n")).toContain("v1");
  });
});

describe("regkit webhook serve --provider gar", () => {
  const serveHooks = (...args: string[]) =>
    serveWebhooks("gar", args, { HOME: dir, REGKIT_CONFIG: join(dir, "config.yaml") });
  const envelope = JSON.stringify({
    message: {
      data: Buffer.from(
        JSON.stringify({
          action: "DELETE",
          digest: `us-east1-docker.pkg.dev/my-project/my-repo/hello@${"sha256:".padEnd(71, "a")}`,
        }),
      ).toString("base64"),
      messageId: "42",
      publishTime: "2026-11-29T14:00:00Z",
    },
    subscription: "projects/my-project/subscriptions/gcr",
  });
  const post = (at: string, body: string) =>
    fetch(at, { method: "POST", headers: { "content-type": "application/json" }, body });

  it("prints one JSON line per accepted notification; malformed ones get 400", async () => {
    const hook = await serveHooks();
    try {
      expect((await post(hook.url, envelope)).status).toBe(200);
      expect((await post(hook.url, '{"message":{}}')).status).toBe(400);
      // The line reaches our pipe shortly after the answer: wait for it, then compare them all.
      await hook.line(0);
      expect(hook.lines.map((l) => JSON.parse(l))).toEqual([
        {
          provider: "gar",
          type: "delete",
          image: "us-east1-docker.pkg.dev/my-project/my-repo/hello",
          location: "us-east1",
          digest: "sha256:".padEnd(71, "a"),
          message_id: "42",
          publish_time: "2026-11-29T14:00:00Z",
        },
      ]);
    } finally {
      await hook.stop();
    }
  });

  it("with --audience, a push without an OIDC token gets 401", async () => {
    const hook = await serveHooks("--audience", "https://hooks.example.com/gar");
    try {
      expect((await post(hook.url, envelope)).status).toBe(401);
      expect(hook.lines).toEqual([]);
    } finally {
      await hook.stop();
    }
  });
});
