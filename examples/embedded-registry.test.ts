/**
 * Test your own registry code against regkit's embedded registry with
 * vitest: a real OCI registry on 127.0.0.1, in memory, started per suite.
 *   npx vitest run examples/embedded-registry.test.ts
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  copyImage,
  digest,
  generateImage,
  listTags,
  NotFoundError,
  push,
  type RegistryServer,
  startRegistryServer,
  writeOciLayout,
} from "regkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

describe("my release job", () => {
  let server: RegistryServer;
  let dir: string;
  let pushed: string;

  beforeAll(async () => {
    server = await startRegistryServer();
    dir = await mkdtemp(join(tmpdir(), "regkit-example-"));
    const image = await generateImage({ seed: "release", layers: 2 });
    await writeOciLayout(dir, image, "v1");
    pushed = image.manifest.digest;
    await push(`${dir}:v1`, `${server.host}/acme/app:v1`);
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("promotes v1 to stable without changing its digest", async () => {
    const result = await copyImage(`${server.host}/acme/app:v1`, `${server.host}/acme/app:stable`);
    expect(result.descriptor.digest).toBe(pushed);
    expect(result.blobs.copied).toBe(0); // same repository: nothing to move
    expect(await digest(`${server.host}/acme/app:stable`)).toBe(pushed);
    expect((await listTags(`${server.host}/acme/app`)).sort()).toEqual(["stable", "v1"]);
  });

  it("reports a missing tag as NotFoundError", async () => {
    await expect(digest(`${server.host}/acme/app:nope`)).rejects.toBeInstanceOf(NotFoundError);
  });
});
