/**
 * The GHCR commands as users run them, against `regkit serve --providers
 * ghcr` in a child process, pointed there by GHCR_REGISTRY_URL and
 * GITHUB_API_URL with a token in GITHUB_TOKEN; skopeo pushes and pulls with
 * a PAT; `webhook serve --provider github` takes GitHub's documented example.
 */
import { createHmac, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sign } from "@octokit/webhooks-methods";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basic, staticCredentials } from "../src/auth/index.js";
import { Registry } from "../src/registry/registry.js";
import { type GeneratedIndex, generateIndex } from "../src/sim/images.js";
import {
  cliRunner,
  type ServedFakes,
  type ServedWebhooks,
  serveFakes,
  serveWebhooks,
} from "./support/cli.js";
import { jsonSchemaContract, REFERENCE } from "./support/contract.js";
import { skopeoCopy, skopeoInspectRaw } from "./support/skopeo.js";

const TOKEN = "ghp_cli_alice_0123456789";

let dir: string;
let fake: ServedFakes;
let urls: Record<string, string>;
let content: GeneratedIndex;

const regkit = cliRunner(() => ({
  HOME: dir,
  DOCKER_CONFIG: join(dir, "docker"),
  XDG_CONFIG_HOME: dir,
  GHCR_REGISTRY_URL: urls["ghcr-registry"]!,
  GITHUB_API_URL: urls["ghcr-api"]!,
  GITHUB_TOKEN: TOKEN,
  GITHUB_ACTOR: "alice",
}));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "regkit-cli-ghcr-"));
  // The fake takes an account's password as a classic PAT with every package scope.
  await writeFile(join(dir, "users.txt"), `alice:${TOKEN}\nbob:ghp_bob_secret\n`);
  fake = await serveFakes(["--providers", "ghcr", "--users", join(dir, "users.txt")]);
  urls = fake.urls;
  content = await generateIndex({
    seed: "cli-ghcr",
    platforms: ["linux/amd64", "linux/arm64/v8"],
    layerSize: 512,
  });
  const registry = new Registry({
    endpoints: { "ghcr.io": urls["ghcr-registry"]! },
    credentials: staticCredentials({ "ghcr.io": basic("alice", TOKEN) }),
  });
  try {
    const repo = registry.repository("ghcr.io/alice/app");
    for (const image of content.images) {
      for (const blob of [image.config, ...image.layers])
        await repo.uploads.upload(blob.bytes, { digest: blob.digest, size: blob.size });
      await repo.manifests.put(image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
    }
    for (const tag of ["v1.0.0", "v1.1.0", "latest"])
      await repo.manifests.put(tag, content.index.bytes, content.index.mediaType);
  } finally {
    await registry.close();
  }
});

afterAll(async () => {
  await fake?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("regkit ghcr", () => {
  it("FR-VIS-004: ghcr packages --mine / --user, text and --json", async () => {
    const text = await regkit(["ghcr", "packages", "--mine"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ghcr\.io\/alice\/app\tprivate\t3 versions\t/m);
    const json = await regkit(["--json", "ghcr", "packages", "--user", "alice"]);
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ name: "app", owner: "alice", versionCount: 3 }),
    ]);
  });

  it("FR-VER-001 / FR-VER-005: ghcr versions lists id, digest, tags, created; --untagged and --tag filter", async () => {
    const all = await regkit(["ghcr", "versions", "ghcr.io/alice/app"]);
    expect(all.code).toBe(0);
    const lines = all.stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      new RegExp(
        `^\\d+\\t${content.index.digest}\\tv1\\.0\\.0,v1\\.1\\.0,latest|^\\d+\\t${content.index.digest}\\t`,
      ),
    );
    const untagged = JSON.parse(
      (await regkit(["--json", "ghcr", "versions", "ghcr.io/alice/app", "--untagged"])).stdout,
    );
    expect(untagged.map((v: { digest: string }) => v.digest).sort()).toEqual(
      content.images.map((i) => i.manifest.digest).sort(),
    );
    const byTag = JSON.parse(
      (await regkit(["--json", "ghcr", "versions", "ghcr.io/alice/app", "--tag", "v1.1.*"])).stdout,
    );
    expect(byTag.map((v: { digest: string }) => v.digest)).toEqual([content.index.digest]);
  });

  it("FR-VER-002: ghcr version get by tag; a missing version exits 3; an unknown owner exits 3", async () => {
    const got = JSON.parse(
      (await regkit(["--json", "ghcr", "version", "get", "ghcr.io/alice/app", "latest"])).stdout,
    );
    expect(got.digest).toBe(content.index.digest);
    const missing = await regkit(["ghcr", "version", "get", "ghcr.io/alice/app", "999999"]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^regkit: .*not found/im);
    expect((await regkit(["ghcr", "versions", "ghcr.io/nobody-at-all/app"])).code).toBe(3);
  });

  it("FR-VIS-001 / FR-VIS-002: ghcr visibility shows it; changing it explains where, without a stack trace", async () => {
    expect((await regkit(["ghcr", "visibility", "ghcr.io/alice/app"])).stdout.trim()).toBe("private");
    const set = await regkit(["ghcr", "visibility", "ghcr.io/alice/app", "public"]);
    expect(set.code).not.toBe(0);
    expect(set.stderr).toMatch(/^regkit: GitHub's REST API cannot change a package's visibility/);
    expect(set.stderr.split("\n").filter(Boolean)).toHaveLength(1);
  });

  it("FR-TAG-005 / FR-TAG-006 / FR-IMG-006: ghcr tags --filter, retag, size", async () => {
    const tags = await regkit(["ghcr", "tags", "ghcr.io/alice/app", "--filter", "v1.*"]);
    expect(tags.stdout.trim().split("\n").sort()).toEqual(["v1.0.0", "v1.1.0"]);
    const retag = JSON.parse(
      (await regkit(["--json", "ghcr", "retag", "ghcr.io/alice/app:v1.1.0", "stable"])).stdout,
    );
    expect(retag).toEqual({ digest: content.index.digest, tag: "stable" });
    const size = JSON.parse((await regkit(["--json", "ghcr", "size", "ghcr.io/alice/app:stable"])).stdout);
    expect(size.platforms).toHaveLength(2);
    expect((await regkit(["ghcr", "tags", "ghcr.io/alice/app", "--filter", "/(/"])).code).toBe(2);
  });

  it("FR-VER-006: ghcr cleanup is a dry run by default (nothing deleted), --json plan shape; --yes deletes", async () => {
    const registry = new Registry({
      endpoints: { "ghcr.io": urls["ghcr-registry"]! },
      credentials: staticCredentials({ "ghcr.io": basic("alice", TOKEN) }),
    });
    const extra = content.images[0]!;
    try {
      // An untagged stray image (not part of the index): the one thing cleanup may delete.
      const stray = JSON.parse(extra.manifest.bytes.toString());
      stray.annotations = { stray: "yes" };
      const bytes = Buffer.from(JSON.stringify(stray));
      await registry
        .repository("ghcr.io/alice/app")
        .manifests.put(
          `sha256:${(await import("node:crypto")).createHash("sha256").update(bytes).digest("hex")}`,
          bytes,
          extra.manifest.mediaType,
        );
    } finally {
      await registry.close();
    }
    const dry = await regkit(["--json", "ghcr", "cleanup", "ghcr.io/alice/app", "--untagged"]);
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout);
    expect(Object.keys(plan)).toEqual(["delete", "keep"]);
    expect(plan.delete).toHaveLength(1);
    expect(Object.keys(plan.delete[0]).sort()).toEqual(["digest", "id", "reason", "tags"]);
    expect(plan.delete[0].reason).toBe("untagged");
    expect(
      plan.keep.filter((k: { reason: string }) => /platform manifest of kept index/.test(k.reason)),
    ).toHaveLength(2);
    expect((await regkit(["ghcr", "versions", "ghcr.io/alice/app"])).stdout.trim().split("\n")).toHaveLength(
      4,
    );
    // --older-than: every rule must hold, and the stray is minutes old, not a week (nor 1.5 days).
    for (const age of ["1w", "1.5d"]) {
      const young = await regkit([
        "--json",
        "ghcr",
        "cleanup",
        "ghcr.io/alice/app",
        "--untagged",
        "--older-than",
        age,
      ]);
      expect(young.code).toBe(0);
      expect(JSON.parse(young.stdout).delete).toEqual([]);
    }
    const bare = await regkit(["ghcr", "cleanup", "ghcr.io/alice/app", "--untagged", "--older-than", "30"]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toBe(
      `regkit: option '--older-than <age>' argument '30' is invalid. invalid duration "30" (e.g. 30d, 12h, 2w, 90m, 10s, 500ms)\n`,
    );
    const yes = await regkit(["ghcr", "cleanup", "ghcr.io/alice/app", "--untagged", "--yes"]);
    expect(yes.code).toBe(0);
    expect(yes.stderr).toContain(`regkit: deleted ${plan.delete[0].id} ${plan.delete[0].digest}`);
    expect((await regkit(["ghcr", "versions", "ghcr.io/alice/app"])).stdout.trim().split("\n")).toHaveLength(
      3,
    );
    expect((await regkit(["ghcr", "cleanup", "ghcr.io/alice/app"])).code).toBe(2);
  });

  it("vulns ghcr.io/…: no scan data attached is an answer (exit 0)", async () => {
    const out = await regkit(["vulns", "ghcr.io/alice/app:latest"]);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/status: no scan data attached/);
  });

  it("a wrong token exits 4 and never echoes the token", async () => {
    const secret = "ghp_wrong_token_value_42";
    const out = await regkit(["ghcr", "versions", "ghcr.io/alice/app"], { GITHUB_TOKEN: secret });
    expect(out.code).toBe(4);
    expect(out.stderr).toMatch(/Bad credentials/);
    expect(out.stdout + out.stderr).not.toContain(secret);
    const pull = await regkit(["digest", "ghcr.io/alice/app:latest"], { GITHUB_TOKEN: secret });
    expect(pull.code).toBe(4);
    expect(pull.stdout + pull.stderr).not.toContain(secret);
  });

  it("FR-SIM-001 / FR-SIM-002 / FR-SIM-003: a recorded session replays without the network, token redacted, bodies hashed", async () => {
    const cassette = join(dir, "ghcr.har");
    const recorded = await regkit(["--record", cassette, "--json", "ghcr", "versions", "ghcr.io/alice/app"]);
    expect(recorded.code).toBe(0);
    const har = await readFile(cassette, "utf8");
    expect(har).not.toContain(TOKEN);
    expect(har).toContain("_sha256");
    const replayed = await regkit(["--replay", cassette, "--json", "ghcr", "versions", "ghcr.io/alice/app"], {
      GITHUB_API_URL: urls["ghcr-api"]!,
    });
    expect(replayed.code).toBe(0);
    expect(JSON.parse(replayed.stdout)).toEqual(JSON.parse(recorded.stdout));
  });
});

describe("skopeo against the GHCR fake", () => {
  it("pushes with a PAT and pulls back the same manifest; anonymous pulls of private packages are refused", async () => {
    const registry = new URL(urls["ghcr-registry"]!).host;
    const layout = join(dir, "layout");
    await skopeoCopy(`docker://${registry}/alice/app:latest`, `oci:${layout}:latest`, [
      "--src-creds",
      `alice:${TOKEN}`,
      "--all",
    ]);
    await skopeoCopy(`oci:${layout}:latest`, `docker://${registry}/alice/from-skopeo:v1`, [
      "--dest-creds",
      `x:${TOKEN}`,
      "--all",
    ]);
    const raw = await skopeoInspectRaw(`docker://${registry}/alice/from-skopeo:v1`, [
      "--creds",
      `alice:${TOKEN}`,
    ]);
    expect(raw.equals(content.index.bytes)).toBe(true);
    await expect(skopeoInspectRaw(`docker://${registry}/alice/from-skopeo:v1`)).rejects.toThrow();
    const versions = await regkit(["--json", "ghcr", "versions", "ghcr.io/alice/from-skopeo"]);
    expect(JSON.parse(versions.stdout).map((v: { digest: string }) => v.digest)).toContain(
      content.index.digest,
    );
  });
});

describe("regkit webhook serve --provider github", () => {
  const running: ServedWebhooks[] = [];
  afterAll(async () => {
    await Promise.all(running.map((served) => served.stop()));
  });

  async function serve(...args: string[]) {
    const served = await serveWebhooks("github", args);
    running.push(served);
    return served;
  }

  const post = (url: string, body: Buffer | string, headers: Record<string, string>) =>
    fetch(url, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });

  it("GitHub's documented signature example verifies with the same HMAC regkit computes", async () => {
    // docs.github.com "Validating webhook deliveries": secret, payload and expected signature.
    const expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    expect(
      `sha256=${createHmac("sha256", "It's a Secret to Everybody").update("Hello, World!").digest("hex")}`,
    ).toBe(expected);
    expect(await sign("It's a Secret to Everybody", "Hello, World!")).toBe(expected);
  });

  it("prints one JSON line per accepted package event; 401 without a valid signature; duplicate deliveries dropped", async () => {
    const secret = "hook-secret";
    const server = await serve("--secret", secret);
    const body = await readFile(
      join(
        REFERENCE,
        "github/octokit-webhooks/payload-examples/registry_package-published.docker.payload.json",
      ),
      "utf8",
    );
    const delivery = randomUUID();
    const headers = {
      "x-github-event": "registry_package",
      "x-github-delivery": delivery,
      "x-hub-signature-256": await sign(secret, body),
    };
    expect((await post(server.url, body, { ...headers, "x-hub-signature-256": "sha256=00" })).status).toBe(
      401,
    );
    expect((await post(server.url, body, { "x-github-event": "registry_package" })).status).toBe(401);
    const first = await post(server.url, body, headers);
    expect(first.status).toBe(200);
    const again = await post(server.url, body, headers);
    expect(await again.json()).toEqual({ status: "duplicate" });
    expect(JSON.parse(await server.line(0))).toMatchObject({
      provider: "github",
      type: "published",
      event: "registry_package",
      repository: "Codertocat/hello-world",
      version_id: "57755791",
      digest: "sha256:3da1996a8115d7616457760d9920b815241d0a03b34cf5f04e9a0e9d8de37498",
      sender: "github-actions[bot]",
      delivery,
    });
    expect(server.lines).toHaveLength(1);
  });

  it("malformed payloads are 400 and name the field; the example matches octokit's schema", async () => {
    const server = await serve();
    const contract = await jsonSchemaContract("github/octokit-webhooks/payload-schemas");
    const example = JSON.parse(
      await readFile(
        join(REFERENCE, "github/octokit-webhooks/payload-examples/package-published.docker.payload.json"),
        "utf8",
      ),
    );
    expect(contract.check("package/published", example).errors).toEqual([]);
    const broken = { ...example, package: { ...example.package, package_version: undefined } };
    const answer = await post(server.url, JSON.stringify(broken), { "x-github-event": "package" });
    expect(answer.status).toBe(400);
    expect(((await answer.json()) as { error: string }).error).toMatch(/package\.package_version/);
    expect((await post(server.url, "{", { "x-github-event": "package" })).status).toBe(400);
    expect((await post(server.url, "{}", { "x-github-event": "ping" })).status).toBe(200);
  });
});
