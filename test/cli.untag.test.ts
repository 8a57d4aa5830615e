/**
 * `regkit untag` where the registry deletes tags (regkit's embedded one), where
 * it deletes only by digest (distribution 2.8 answers DELETE by tag with
 * DIGEST_INVALID) and where deletes are disabled (405 UNSUPPORTED): the refusal
 * is said as such, and `--dummy` does what regctl does.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Registry } from "../src/registry/registry.js";
import { PLACEHOLDER_ANNOTATION } from "../src/registry/untag.js";
import { type GeneratedImage, generateImage } from "../src/sim/images.js";
import { type RegistryServer, startRegistryServer } from "../src/sim/server.js";
import { type Distribution, startDistribution } from "./support/distribution.js";

const CLI = join(import.meta.dirname, "..", "dist", "cli", "main.js");

function regkit(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

let image: GeneratedImage;
let noDelete: Distribution;
let embedded: RegistryServer;
const registry = new Registry({ credentials: false });

/** `v1` and `old` on one manifest: removing `old` must leave `v1` and the image alone. */
async function seed(host: string, repository: string): Promise<void> {
  const repo = registry.repository(host, repository);
  for (const blob of [image.config, ...image.layers]) await repo.uploads.upload(blob.bytes, blob);
  for (const tag of ["v1", "old"])
    await repo.manifests.put(tag, image.manifest.bytes, image.manifest.mediaType);
}

async function tags(host: string, repository: string): Promise<string[]> {
  return (await regkit("ls", `${host}/${repository}`)).stdout.split("\n").filter(Boolean).sort();
}

beforeAll(async () => {
  image = await generateImage({ seed: "untag", layers: 1 });
  noDelete = await startDistribution({ deleteEnabled: false });
  embedded = await startRegistryServer();
});
afterAll(async () => {
  await registry.close();
  await noDelete.stop();
  await embedded.close();
});

describe("regkit untag", () => {
  it("distribution 2.8: a refusal that says so and offers --dummy; --dummy removes only the tag", async () => {
    const host = inject("distribution").host;
    await seed(host, "untag/app");
    const refused = await regkit("untag", `${host}/untag/app:old`);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toBe(
      `regkit: ${host} cannot delete tags (DELETE untag/app:old answered 400 DIGEST_INVALID); ` +
        `\`regkit untag --dummy ${host}/untag/app:old\` points the tag at a placeholder manifest and deletes that instead\n`,
    );
    expect(await tags(host, "untag/app")).toEqual(["old", "v1"]);

    const dummy = await regkit("--json", "untag", "--dummy", `${host}/untag/app:old`);
    expect(dummy).toMatchObject({ code: 0, stderr: "" });
    const result = JSON.parse(dummy.stdout);
    expect(result).toMatchObject({ untagged: "old", method: "placeholder", previous: image.manifest.digest });
    expect(await tags(host, "untag/app")).toEqual(["v1"]);
    expect((await regkit("digest", `${host}/untag/app:v1`)).stdout).toBe(`${image.manifest.digest}\n`);
    // The placeholder is gone too: nothing of the operation is left behind.
    const placeholder = await regkit("manifest", "get", `${host}/untag/app@${result.placeholder}`);
    expect(placeholder.code).toBe(3);
  });

  it("distribution with deletes disabled: --dummy puts the tag back and says where it points", async () => {
    await seed(noDelete.host, "untag/app");
    const refused = await regkit("untag", `${noDelete.host}/untag/app:old`);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(
      /cannot delete tags \(DELETE untag\/app:old answered 405 UNSUPPORTED\); `regkit untag --dummy/,
    );

    const dummy = await regkit("untag", "--dummy", `${noDelete.host}/untag/app:old`);
    expect(dummy.code).toBe(4);
    expect(dummy.stdout).toBe("");
    expect(dummy.stderr).toMatch(
      new RegExp(
        `^regkit: ${noDelete.host}/untag/app:old: the placeholder manifest (sha256:[0-9a-f]{64}) could not be deleted \\(${noDelete.host} refuses to delete manifests \\(it answered 405 UNSUPPORTED; deletes are disabled there\\)\\); the tag old points at ${image.manifest.digest} again, as before; the untagged placeholder stays\\n$`,
      ),
    );
    expect((await regkit("digest", `${noDelete.host}/untag/app:old`)).stdout).toBe(
      `${image.manifest.digest}\n`,
    );
    const placeholder = /placeholder manifest (sha256:[0-9a-f]{64})/.exec(dummy.stderr)![1]!;
    const left = JSON.parse(
      (await regkit("manifest", "get", `${noDelete.host}/untag/app@${placeholder}`)).stdout,
    );
    expect(left.annotations[PLACEHOLDER_ANNOTATION]).toMatch(/^untag\/app:old /);
    expect(left.layers).toEqual([]);

    // The same refusal for `delete`: said as such, exit 4, not an unexplained UNSUPPORTED with exit 1.
    const deleted = await regkit("delete", `${noDelete.host}/untag/app:v1`);
    expect(deleted).toMatchObject({
      code: 4,
      stderr: `regkit: ${noDelete.host} refuses to delete manifests (it answered 405 UNSUPPORTED; deletes are disabled there)\n`,
    });
  });

  it("regkit's embedded registry deletes tags: untag works without --dummy", async () => {
    await seed(embedded.host, "untag/app");
    const untagged = await regkit("untag", `${embedded.host}/untag/app:old`);
    expect(untagged).toMatchObject({ code: 0, stdout: "untagged old\n", stderr: "" });
    expect(await tags(embedded.host, "untag/app")).toEqual(["v1"]);
    expect((await regkit("digest", `${embedded.host}/untag/app:v1`)).stdout).toBe(
      `${image.manifest.digest}\n`,
    );
    const missing = await regkit("untag", `${embedded.host}/untag/app:old`);
    expect(missing.code).toBe(3);
  });
});
