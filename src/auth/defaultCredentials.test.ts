import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { defaultCredentials } from "./defaultCredentials.js";

describe("defaultCredentials", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "regkit-default-creds-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const writeConfig = (auths: Record<string, { auth: string }>) =>
    writeFile(join(dir, "config.json"), JSON.stringify({ auths }));
  const auth = (user: string, pass: string) => ({ auth: Buffer.from(`${user}:${pass}`).toString("base64") });

  it("reads Docker's config file when a registry first asks, not when built", async () => {
    const provider = defaultCredentials({ DOCKER_CONFIG: dir });
    expect(provider.name).toBe("environment → docker config");
    // Written after the provider exists: the file is read at the first resolve.
    await writeConfig({ "registry.example:5000": auth("alice", "s3cret") });
    const found = await provider.resolve({ registry: "registry.example:5000" });
    expect(found?.source).toBe(`docker config ${join(dir, "config.json")}`);
    expect(found?.credential).toMatchObject({ kind: "basic", username: "alice" });
    expect(await provider.resolve({ registry: "other.example" })).toBeUndefined();
  });

  it("lets the environment win over the config file", async () => {
    await writeConfig({ "ghcr.io": auth("bob", "from-file") });
    const provider = defaultCredentials({ DOCKER_CONFIG: dir, GITHUB_TOKEN: "from-env" });
    const found = await provider.resolve({ registry: "ghcr.io" });
    expect(found?.source).toBe("environment (GITHUB_TOKEN)");
  });
});
