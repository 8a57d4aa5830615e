/** What scripts and people read: JSON only when whole, exit codes of the table, messages one can act on. */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Registry } from "../src/registry/registry.js";
import { type GeneratedIndex, generateIndex } from "../src/sim/images.js";
import { type RegistryServer, startRegistryServer } from "../src/sim/server.js";

const ROOT = join(import.meta.dirname, "..");
const CLI = join(ROOT, "dist", "cli", "main.js");
let server: RegistryServer;
let content: GeneratedIndex;
let repo: string;
let dir: string;

function node(
  args: string[],
  options: { stdin?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      args,
      { env: options.env ?? process.env },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(options.stdin ?? "");
  });
}
const regkit = (...args: string[]) => node([CLI, ...args]);

beforeAll(async () => {
  // The second page of a tag listing fails: a script must not get half a JSON document.
  server = await startRegistryServer({
    faults: {
      rules: [
        { kind: "latency", delayMs: 0, route: "/v2/msg/broken/tags/list", times: 1 },
        { kind: "status", status: 400, route: "/v2/msg/broken/tags/list" },
      ],
    },
  });
  repo = `${server.host}/msg/app`;
  dir = await mkdtemp(join(tmpdir(), "regkit-messages-"));
  content = await generateIndex({ seed: "messages", platforms: ["linux/amd64", "linux/arm64/v8"] });
  const registry = new Registry({ credentials: false });
  for (const name of ["msg/app", "msg/broken"]) {
    const r = registry.repository(server.host, name);
    for (const image of content.images) {
      for (const blob of [image.config, ...image.layers]) await r.uploads.upload(blob.bytes, blob);
      await r.manifests.put(image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
    }
    await r.manifests.put("v1", content.index.bytes, content.index.mediaType);
    await r.manifests.put("v2", content.index.bytes, content.index.mediaType);
  }
  await registry.close();
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe("output for scripts", () => {
  it("--json ls prints a whole array, or nothing when a later page fails", async () => {
    const whole = await regkit("--json", "ls", "--page-size", "1", repo);
    expect(JSON.parse(whole.stdout)).toEqual(["v1", "v2"]);
    const broken = await regkit("--json", "ls", "--page-size", "1", `${server.host}/msg/broken`);
    expect(broken.code).not.toBe(0);
    expect(broken.stdout).toBe("");
  });

  it("manifest put of invalid JSON or schema is invalid input, exit 2", async () => {
    const notJson = await node([CLI, "manifest", "put", `${repo}:bad`], { stdin: "{not json" });
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toBe("regkit: stdin is not a valid manifest: manifest is not valid JSON\n");
    const badSchema = await node([CLI, "manifest", "put", `${repo}:bad`], { stdin: '{"schemaVersion":2}' });
    expect(badSchema.code).toBe(2);
  });

  it("--json copy reports whole milliseconds", async () => {
    const result = await regkit("--json", "copy", `${repo}:v1`, `oci:${join(dir, "ms")}:v1`);
    const json = JSON.parse(result.stdout);
    expect(Number.isInteger(json.durationMs)).toBe(true);
    expect(json).not.toHaveProperty("seconds");
  });
});

describe("messages", () => {
  it("names what is wrong: empty components, missing directories, no internal names", async () => {
    const bad = await regkit("inspect", "BAD//ref:v1");
    expect(bad.stderr).toBe('regkit: invalid reference "BAD//ref:v1": empty path component\n');
    const output = join(dir, "nonexistent", "x");
    const blob = await regkit("blob", "get", `${repo}@${content.images[0]!.config.digest}`, "-o", output);
    expect(blob.code).toBe(2);
    expect(blob.stderr).toBe(
      `regkit: cannot write ${output}: directory ${join(dir, "nonexistent")} does not exist\n`,
    );
    const missing = await regkit("push", join(dir, "no-layout"), `${repo}:v9`);
    expect(missing.stderr).toBe(
      `regkit: ${join(dir, "no-layout")} does not exist: expected an OCI layout directory or an image tarball\n`,
    );
    expect(missing.code).toBe(3);
    const byDigest = await regkit("manifest", "get", `${server.host}/msg/none@${content.index.digest}`);
    expect(byDigest.stderr).toContain(`msg/none@${content.index.digest}`);
    expect(byDigest.stderr).not.toContain(`msg/none:sha256`);
  });

  it("read commands take docker:// and local locations; another scheme is told the form", async () => {
    const inspected = await regkit("--json", "inspect", `docker://${repo}:v1`);
    expect(JSON.parse(inspected.stdout).digest).toBe(content.index.digest);
    const http = await regkit("inspect", `http://${repo}:v1`);
    expect(http.code).toBe(2);
    expect(http.stderr).toMatch(/a registry reference has no http:\/\/ scheme; write HOST\/REPO\[:TAG\]/);
    const layout = join(dir, "local");
    expect((await regkit("copy", `${repo}:v1`, `oci:${layout}:v1`)).code).toBe(0);
    expect((await regkit("ls", `oci:${layout}`)).stdout).toBe("v1\n");
    expect((await regkit("digest", `oci:${layout}:v1`)).stdout).toBe(`${content.index.digest}\n`);
    const arm = JSON.parse(
      (await regkit("--json", "inspect", "--platform", "linux/arm64", `oci:${layout}:v1`)).stdout,
    );
    expect(arm).toMatchObject({
      digest: content.images[1]!.manifest.digest,
      config: { architecture: "arm64" },
    });
    const config = JSON.parse(
      (await regkit("config", "--platform", "linux/amd64", `oci:${layout}:v1`)).stdout,
    );
    expect(config.architecture).toBe("amd64");
    const nowhere = await regkit("inspect", `oci:${join(dir, "nowhere")}`);
    expect(nowhere.stderr).toBe(`regkit: ${join(dir, "nowhere")} does not exist\n`);
    expect(nowhere.code).toBe(3);
  });

  it("copy --help names every location", async () => {
    const help = (await regkit("copy", "--help")).stdout;
    for (const form of ["docker-archive:FILE", "oci-archive:FILE", "oci:DIR[:TAG|@DIGEST]", "docker://"])
      expect(help).toContain(form);
  });

  it("a failing demo prints one line and an exit code of the table", async () => {
    const env = { ...process.env, TMPDIR: join(dir, "no-tmp") };
    const demo = await node([join(ROOT, "dist", "demo", "main.js")], { env });
    expect(demo.code).toBe(1);
    expect(demo.stderr).toMatch(/^regkit demo: ENOENT: no such file or directory, mkdtemp '[^']*'\n$/);
  });
});
