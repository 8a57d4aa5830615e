/**
 * Record a session against the real registry (with credentials), replay it
 * with no registry at all, and get the same results byte for byte; the
 * cassette holds no secret.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basic, staticCredentials } from "../src/auth/index.js";
import { digestOf } from "../src/core/digest.js";
import { isRegkitError } from "../src/core/errors.js";
import { Registry } from "../src/registry/registry.js";
import { generateIndex } from "../src/sim/images.js";
import { type AuthTarget, PASSWORD, startAuthTargets, USER } from "./support/authTargets.js";
import { readAll } from "./support/streams.js";

const CLI = join(import.meta.dirname, "..", "dist", "cli", "main.js");
let targets: AuthTarget[] = [];
let dir: string;

beforeAll(async () => {
  targets = await startAuthTargets();
  dir = await mkdtemp(join(tmpdir(), "regkit-cassette-"));
});
afterAll(async () => {
  for (const target of targets) await target.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A full copy of a multi-platform image between two repositories, and what it read back. */
async function copySession(registry: Registry, host: string, seed: string): Promise<string[]> {
  const out: string[] = [];
  const src = registry.repository(host, `cassette/${seed}/src`);
  const dst = registry.repository(host, `cassette/${seed}/dst`);
  const content = await generateIndex({
    seed,
    platforms: ["linux/amd64", "linux/arm64/v8"],
    layerSize: 200_000,
  });
  for (const image of content.images) {
    for (const blob of [image.config, ...image.layers]) await src.uploads.upload(blob.bytes, blob);
    await src.manifests.put(image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
  }
  await src.manifests.put("v1", content.index.bytes, content.index.mediaType);
  // copy: manifests and blobs from src to dst, children before the index
  const index = await src.manifests.get("v1");
  if (index.kind !== "index") throw new Error("expected an index");
  for (const child of index.manifest.manifests) {
    const manifest = await src.manifests.get(child.digest);
    if (manifest.kind !== "image") throw new Error("expected an image");
    for (const d of [manifest.manifest.config, ...manifest.manifest.layers]) {
      const fetched = await src.blobs.fetch(d.digest, { size: d.size });
      await dst.uploads.upload(await readAll(fetched.stream), d);
    }
    await dst.manifests.put(manifest.digest, manifest.bytes, manifest.mediaType);
  }
  await dst.manifests.put("v1", index.bytes, index.mediaType);
  out.push((await dst.manifests.fetch("v1")).bytes.toString("base64"));
  out.push(...(await dst.tags().all()));
  const layer = content.images[1]!.layers[0]!;
  out.push(digestOf(await readAll((await dst.blobs.fetch(layer.digest, { size: layer.size })).stream)));
  return out;
}

describe.each(["distribution token", "distribution htpasswd+TLS"])("record and replay against %s", (name) => {
  it("replays a full copy offline with identical results and no secrets in the cassette", async () => {
    const target = targets.find((t) => t.name === name)!;
    const cassette = join(dir, `${name.replace(/\W+/g, "-").toLowerCase()}.har`);
    const credentials = staticCredentials({ [target.host]: basic(USER, PASSWORD) });
    const recording = new Registry({
      credentials,
      record: cassette,
      ...(target.ca ? { ca: target.ca } : {}),
    });
    const recorded = await copySession(recording, target.host, name.replace(/\W+/g, "-").toLowerCase());
    await recording.close();

    // The same configuration replays the same exchanges (a Basic registry is answered with
    // credentials again); the replay layer never calls the network below it.
    const replaying = new Registry({ credentials, replay: cassette });
    const replayed = await copySession(replaying, target.host, name.replace(/\W+/g, "-").toLowerCase());
    await replaying.close();
    expect(replayed).toEqual(recorded);

    const har = JSON.parse(await readFile(cassette, "utf8"));
    expect(har.log.version).toBe("1.2");
    expect(har.log.entries.length).toBeGreaterThan(20);
    const files = [
      cassette,
      ...(await readdir(`${cassette}.blobs/sha256`)).map((f) => join(`${cassette}.blobs/sha256`, f)),
    ];
    for (const file of files) {
      const text = await readFile(file, "latin1");
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(Buffer.from(`${USER}:${PASSWORD}`).toString("base64"));
      expect(text).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/); // no JWT
    }
    // Large bodies live beside the cassette, by digest, not inline.
    expect(files.length).toBeGreaterThan(1);
  });
});

describe("replay", () => {
  it("names the nearest recorded request when asked something else", async () => {
    const target = targets.find((t) => t.name === "embedded basic")!;
    const cassette = join(dir, "small.har");
    const recording = new Registry({
      credentials: staticCredentials({ [target.host]: basic(USER, PASSWORD) }),
      record: cassette,
    });
    await recording.repository(target.host, "small/app").manifests.exists("v1");
    await recording.close();
    const replaying = new Registry({ credentials: false, replay: cassette });
    const error = await replaying
      .repository(target.host, "small/other")
      .manifests.get("v1")
      .catch((e: unknown) => e);
    expect(isRegkitError(error) && error.code).toBe("REPLAY_MISMATCH");
    expect((error as Error).message).toMatch(
      /^no recorded exchange for GET http:\/\/127\.0\.0\.1:\d+\/v2\/small\/other\/manifests\/v1; nearest recorded: HEAD http/,
    );
    await replaying.close();
  });

  it("works from the command line: the same output without a registry", async () => {
    const target = targets.find((t) => t.name === "embedded token")!;
    const registry = new Registry({
      credentials: staticCredentials({ [target.host]: basic(USER, PASSWORD) }),
    });
    const content = await generateIndex({ seed: "cli-cassette", platforms: ["linux/amd64"] });
    const repo = registry.repository(target.host, "cli/cassette");
    for (const image of content.images) {
      for (const blob of [image.config, ...image.layers]) await repo.uploads.upload(blob.bytes, blob);
      await repo.manifests.put(image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
    }
    await repo.manifests.put("v1", content.index.bytes, content.index.mediaType);
    await registry.close();
    const run = (args: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          [CLI, ...args],
          { env: { ...process.env, DOCKER_CONFIG: dir, DOCKER_HUB_USERNAME: "" } },
          (e, out, err) => (e ? reject(new Error(err)) : resolve(out)),
        ),
      );
    const cassette = join(dir, "cli.har");
    // Credentials through the environment-free path: a config file written for the test.
    await import("node:fs/promises").then((fs) =>
      fs.writeFile(
        join(dir, "config.json"),
        JSON.stringify({
          auths: { [target.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString("base64") } },
        }),
      ),
    );
    const live = await run(["--record", cassette, "manifest", "get", `${target.host}/cli/cassette:v1`]);
    await rm(join(dir, "config.json"));
    const replayed = await run(["--replay", cassette, "manifest", "get", `${target.host}/cli/cassette:v1`]);
    expect(replayed).toBe(live);
    expect(await readFile(cassette, "utf8")).not.toContain(PASSWORD);
  });
});
