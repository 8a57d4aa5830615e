/**
 * The Docker Hub commands as users run them, against `regkit serve
 * --providers dockerhub` in a child process, pointed there by the
 * DOCKER_HUB_* variables the README documents.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basic, staticCredentials } from "../src/auth/index.js";
import { Registry } from "../src/registry/registry.js";
import {
  type GeneratedBlob,
  type GeneratedImage,
  type GeneratedIndex,
  generateIndex,
} from "../src/sim/images.js";
import { cliRunner, runCli, type ServedFakes, serveFakes, serveWebhooks } from "./support/cli.js";
import { freePort } from "./support/ports.js";

const PASSWORD = "cli-wonderland";

let dir: string;
let fake: ServedFakes;
let endpoints: Record<string, string>;
let content: GeneratedIndex;

const regkit = cliRunner(() => ({
  HOME: dir,
  DOCKER_CONFIG: join(dir, "docker"),
  REGKIT_CONFIG: join(dir, "config.yaml"),
  ...hubEnv(endpoints),
}));

const alice = { DOCKER_HUB_USERNAME: "alice", DOCKER_HUB_PASSWORD: PASSWORD };

/** `regkit serve --providers dockerhub` in a child process, with the endpoints it prints. */
function serveHub(...args: string[]): Promise<ServedFakes> {
  return serveFakes(["--providers", "dockerhub", "--users", join(dir, "users.txt"), ...args]);
}

/** The variables that point regkit at a fake, as the README says. */
function hubEnv(urls: Record<string, string>): Record<string, string> {
  return {
    DOCKER_HUB_URL: urls["dockerhub-api"]!,
    DOCKER_HUB_REGISTRY_URL: urls["dockerhub-registry"]!,
    DOCKER_HUB_AUTH_URL: urls["dockerhub-auth"]!,
  };
}

/** Pushes `images` to `repository` as alice and tags `top` (an index or one of them) with `tags`. */
async function pushAsAlice(
  urls: Record<string, string>,
  repository: string,
  images: GeneratedImage[],
  top: GeneratedBlob,
  tags: string[],
): Promise<void> {
  const registry = new Registry({
    endpoints: { "docker.io": urls["dockerhub-registry"]! },
    credentials: staticCredentials({ "docker.io": basic("alice", PASSWORD) }),
  });
  try {
    const repo = registry.repository("docker.io", repository);
    for (const image of images) {
      for (const blob of [image.config, ...image.layers])
        await repo.uploads.upload(blob.bytes, { digest: blob.digest, size: blob.size });
      await repo.manifests.put(image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
    }
    for (const tag of tags) await repo.manifests.put(tag, top.bytes, top.mediaType);
  } finally {
    await registry.close();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "regkit-cli-hub-"));
  await writeFile(join(dir, "users.txt"), `alice:${PASSWORD}\n`);
  await writeFile(join(dir, "config.yaml"), "docker_hub:\n  timeout_seconds: 20\n  max_retries: 1\n");
  fake = await serveHub("--pull-limit", "50:150");
  endpoints = fake.urls;
  content = await generateIndex({
    seed: "cli-hub",
    platforms: ["linux/amd64", "linux/arm64/v8"],
    layerSize: 2048,
  });
  await pushAsAlice(endpoints, "alice/app", content.images, content.index, ["v1", "v2"]);
});

afterAll(async () => {
  await fake?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("regkit hub / ratelimit / vulns against regkit serve --providers dockerhub", () => {
  it("serve lists the Docker Hub endpoints", () => {
    expect(Object.keys(endpoints)).toEqual(
      expect.arrayContaining(["registry", "token", "dockerhub-api", "dockerhub-registry", "dockerhub-auth"]),
    );
    expect(endpoints["dockerhub-api"]).toBe(`${endpoints.registry}/hub`);
  });

  it("hub repos, repo get, tags and search", async () => {
    const repos = await regkit(["hub", "repos", "alice"]);
    expect(repos).toMatchObject({ code: 0, stderr: "" });
    expect(repos.stdout).toMatch(/^alice\/app\tpublic\t0 pulls\t0 stars\t\d{4}-/);
    const get = await regkit(["--json", "hub", "repo", "get", "alice/app"], alice);
    expect(JSON.parse(get.stdout)).toMatchObject({
      repository: "alice/app",
      isPrivate: false,
      permissions: { admin: true },
    });
    const tags = JSON.parse(
      (await regkit(["--json", "hub", "tags", "docker.io/alice/app"])).stdout,
    ) as Array<{
      name: string;
      digest: string;
      images: Array<{ architecture: string }>;
    }>;
    expect(tags.map((t) => t.name).sort()).toEqual(["v1", "v2"]);
    expect(tags[0]!.digest).toBe(content.index.digest);
    expect(tags[0]!.images.map((i) => i.architecture).sort()).toEqual(["amd64", "arm64"]);
    const text = await regkit(["hub", "tags", "alice/app"]);
    expect(text.stdout).toContain(`\t${content.index.digest}\t`);
    expect(text.stdout).toContain("linux/amd64,linux/arm64/v8");
    const search = await regkit(["hub", "search", "app"]);
    expect(search.stdout).toMatch(/^alice\/app\t/);
  });

  it("hub repo create --private makes a repository only its owner sees", async () => {
    const created = await regkit(
      ["hub", "repo", "create", "--private", "--description", "vault", "alice/vault"],
      alice,
    );
    expect(created).toMatchObject({ code: 0, stdout: "created alice/vault (private)\n" });
    expect((await regkit(["hub", "repo", "get", "alice/vault"])).code).toBe(4);
    expect((await regkit(["hub", "repo", "get", "alice/vault"], alice)).stdout).toMatch(
      /visibility: +private/,
    );
    expect((await regkit(["hub", "repo", "delete", "alice/vault"], alice)).code).toBe(0);
  });

  it("generic commands reach docker.io references through DOCKER_HUB_REGISTRY_URL", async () => {
    const digest = await regkit(["digest", "docker.io/alice/app:v1"]);
    expect(digest).toMatchObject({ code: 0, stdout: `${content.index.digest}\n` });
  });

  it("DOCKER_HUB_REGISTRY_URL alone: tokens come from the realm that registry names, never auth.docker.io", async () => {
    const cassette = join(dir, "own-realm.har");
    // No DOCKER_HUB_AUTH_URL: the fake registry's own challenge names its token service.
    const result = await regkit(["--record", cassette, "--json", "ratelimit", "alice/app:v1"], {
      ...alice,
      DOCKER_HUB_AUTH_URL: "",
    });
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(result.stdout)).toMatchObject({ limited: true, limit: 150, authenticated: true });
    const entries = (
      JSON.parse(await readFile(cassette, "utf8")) as {
        log: {
          entries: Array<{
            request: { url: string };
            response: { status: number; headers: Array<{ name: string; value: string }> };
          }>;
        };
      }
    ).log.entries;
    const hosts = entries.map((e) => new URL(e.request.url).host);
    expect(hosts).not.toContain("auth.docker.io");
    const challenged = entries
      .flatMap((e) => e.response.headers)
      .find((h) => h.name.toLowerCase() === "www-authenticate")?.value;
    const realm = /realm="([^"]+)"/.exec(challenged ?? "")?.[1];
    expect(realm).toBeDefined();
    expect(entries.filter((e) => e.request.url.startsWith(`${realm}?`)).length).toBeGreaterThan(0);
    // The first request went to the registry itself, whose challenge then named the realm.
    expect(entries[0]!.request.url.startsWith(`${endpoints["dockerhub-registry"]}/v2/`)).toBe(true);
    expect(entries[0]!.response.status).toBe(401);
  });

  it("a token service set up in advance that gives no token: the registry's own challenge is followed", async () => {
    // DOCKER_HUB_AUTH_URL names a port nothing listens on; the registry's challenge names the fake's realm.
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const result = await regkit(["--json", "ratelimit", "alice/app:v1"], {
      ...alice,
      DOCKER_HUB_AUTH_URL: nowhere,
    });
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(result.stdout)).toMatchObject({ limited: true, limit: 150, authenticated: true });
  });

  it("ratelimit reads the budget without spending a pull", async () => {
    const first = JSON.parse((await regkit(["--json", "ratelimit", "alice/app:v1"], alice)).stdout);
    expect(first).toMatchObject({
      limited: true,
      limit: 150,
      windowSeconds: 21600,
      authenticated: true,
      source: "alice",
    });
    const again = JSON.parse((await regkit(["--json", "ratelimit", "alice/app:v1"], alice)).stdout);
    expect(again.remaining).toBe(first.remaining);
    const anonymous = await regkit(["ratelimit", "alice/app:v1"]);
    expect(anonymous.stdout).toMatch(
      /limit: +50 per 6 h\nremaining: +\d+\nwindow: +21600 s\nsource: +127\.0\.0\.1\ncaller: +anonymous/,
    );
  });

  it("vulns prints the scan overview of the linux/amd64 image", async () => {
    const report = JSON.parse((await regkit(["--json", "vulns", "docker.io/alice/app:v1"])).stdout);
    const amd64 = content.images.find((i) => i.platform.architecture === "amd64")!;
    expect(report).toMatchObject({
      provider: "dockerhub",
      status: "scanned",
      image: { digest: amd64.manifest.digest },
    });
    const text = await regkit(["vulns", "--platform", "linux/arm64", "docker.io/alice/app:v1"]);
    expect(text.stdout).toMatch(/^alice\/app@sha256:[0-9a-f]{64}\nstatus: scanned/);
    const elsewhere = await regkit(["vulns", "127.0.0.1:9/a/b:c"]);
    expect(elsewhere).toMatchObject({ code: 1, stdout: "" });
    expect(elsewhere.stderr).toBe(
      "regkit: no vulnerability source for 127.0.0.1:9 (supported: docker.io, ghcr.io, *-docker.pkg.dev)\n",
    );
  });

  it("login docker.io stores credentials that the hub commands then use", async () => {
    const login = await runCli(
      ["login", "docker.io", "-u", "alice", "--password-stdin"],
      {
        HOME: dir,
        DOCKER_CONFIG: join(dir, "docker-login"),
        DOCKER_HUB_REGISTRY_URL: endpoints["dockerhub-registry"]!,
      },
      `${PASSWORD}\n`,
    );
    expect(login).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^Login Succeeded \(alice on docker\.io/),
    });
    const loggedIn = { DOCKER_CONFIG: join(dir, "docker-login") };
    const status = await regkit(["auth", "status", "docker.io"], loggedIn);
    expect(status.stdout).toMatch(/basic as alice from docker config/);
    const get = JSON.parse((await regkit(["--json", "hub", "repo", "get", "alice/app"], loggedIn)).stdout);
    expect(get.permissions).toEqual({ read: true, write: true, admin: true });
  });

  it("a multi-platform pull plans around the budget: it fails before the first pull when too few are left", async () => {
    const tight = await serveHub("--pull-limit", "2:10");
    const urls = tight.urls;
    try {
      const three = await generateIndex({
        seed: "cli-hub-three",
        platforms: ["linux/amd64", "linux/arm64/v8", "linux/s390x"],
        layerSize: 1024,
      });
      await pushAsAlice(urls, "alice/multi", three.images, three.index, ["v1"]);
      const env = hubEnv(urls);
      const refused = await regkit(["pull", "docker.io/alice/multi:v1", join(dir, "multi")], env);
      expect(refused.code).toBe(5);
      expect(refused.stderr).toMatch(
        /3 pulls needed, 2 of 2 left; refills by \d{4}-.*authenticate to raise the limit/,
      );
      // Nothing was spent: a single platform still fits.
      const one = await regkit(
        ["pull", "--platform", "linux/amd64", "docker.io/alice/multi:v1", join(dir, "multi")],
        env,
      );
      expect(one.code).toBe(0);
      const limit = JSON.parse((await regkit(["--json", "ratelimit", "alice/multi:v1"], env)).stdout);
      expect(limit.remaining).toBe(1);
    } finally {
      await tight.stop();
    }
  });

  it("serve --webhook delivers Docker Hub's push webhook to regkit webhook serve", async () => {
    const receiver = await serveWebhooks("dockerhub");
    const hub: { served?: ServedFakes } = {};
    try {
      hub.served = await serveHub("--webhook", receiver.url);
      const image = content.images[0]!;
      await pushAsAlice(hub.served.urls, "alice/hooked", [image], image.manifest, ["v9"]);
      expect(JSON.parse(await receiver.line(0))).toMatchObject({
        provider: "dockerhub",
        type: "push",
        repository: "alice/hooked",
        tag: "v9",
        pusher: "alice",
      });
    } finally {
      await hub.served?.stop();
      await receiver.stop();
    }
  });

  it("deletes a tag and a repository with credentials; a wrong password is exit 4", async () => {
    const wrong = await regkit(["hub", "untag", "alice/app:v2"], { ...alice, DOCKER_HUB_PASSWORD: "nope" });
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toMatch(
      /^regkit: Docker Hub login as alice failed: Incorrect authentication credentials/,
    );
    expect(wrong.stderr).not.toContain("nope");
    const anonymous = await regkit(["hub", "repo", "delete", "alice/app"]);
    expect(anonymous.code).toBe(4);
    expect(anonymous.stderr).toMatch(/needs Docker Hub credentials/);
    expect((await regkit(["hub", "untag", "alice/app:v2"], alice)).stdout).toBe("untagged alice/app:v2\n");
    const tags = JSON.parse((await regkit(["--json", "hub", "tags", "alice/app"])).stdout);
    expect(tags.map((t: { name: string }) => t.name)).toEqual(["v1"]);
    expect((await regkit(["hub", "repo", "delete", "alice/app"], alice)).stdout).toBe("deleted alice/app\n");
    const gone = await regkit(["hub", "repo", "get", "alice/app"]);
    expect(gone.code).toBe(3);
  });
});
