/**
 * `regkit serve` as a real registry for a real client: skopeo pushes to it,
 * pulls from it, inspects, lists tags and deletes, in every auth mode; with
 * `--storage` the content survives a restart.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GeneratedIndex, generateIndex, writeOciLayout } from "../src/sim/images.js";
import { SKOPEO_BLOB_CACHE, skopeoCopy, skopeoInspectRaw } from "./support/skopeo.js";

const CLI = join(import.meta.dirname, "..", "dist", "cli", "main.js");
const run = promisify(execFile);
const USER = "skopeo-user";
const PASSWORD = "Serve-Secret-9";

let dir: string;
let content: GeneratedIndex;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "regkit-serve-"));
  content = await generateIndex({ seed: "serve", platforms: ["linux/amd64", "linux/arm64/v8"] });
  await writeOciLayout(join(dir, "layout"), content, "v1");
  await writeFile(join(dir, "users.txt"), `# accounts\n${USER}:${PASSWORD}\n`);
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await rm(dir, { recursive: true, force: true });
});

async function serve(args: string[]): Promise<{ host: string; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, "serve", "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout!.once("data", (data: Buffer) => resolve(data.toString()));
    child.once("exit", (code) => reject(new Error(`serve exited with ${code}`)));
  });
  const host = /^registry http:\/\/(127\.0\.0\.1:\d+)$/m.exec(line)![1]!;
  return {
    host,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", resolve);
        child.kill("SIGTERM");
      }),
  };
}

async function skopeo(args: string[]): Promise<string> {
  await rm(SKOPEO_BLOB_CACHE, { force: true });
  return (await run("skopeo", args, { timeout: 120_000 })).stdout;
}

describe.each([
  { mode: "none", creds: [] as string[] },
  { mode: "basic", creds: [`${USER}:${PASSWORD}`] },
  { mode: "token", creds: [`${USER}:${PASSWORD}`] },
])("skopeo against regkit serve --auth $mode", ({ mode, creds }) => {
  it("pushes, inspects, lists tags, pulls and deletes", async () => {
    const auth = mode === "none" ? [] : ["--auth", mode, "--users", join(dir, "users.txt")];
    const server = await serve(auth);
    const dest = creds.length ? ["--dest-creds", creds[0]!] : [];
    const src = creds.length ? ["--src-creds", creds[0]!] : [];
    const ref = `docker://${server.host}/skopeo/${mode}`;
    try {
      await skopeoCopy(`oci:${join(dir, "layout")}:v1`, `${ref}:v1`, ["--all", ...dest]);
      const creds2 = creds.length ? ["--creds", creds[0]!] : [];
      expect((await skopeoInspectRaw(`${ref}:v1`, creds2)).equals(content.index.bytes)).toBe(true);
      expect(JSON.parse(await skopeo(["list-tags", "--tls-verify=false", ...creds2, ref])).Tags).toEqual([
        "v1",
      ]);
      const out = join(dir, `pulled-${mode}`);
      await skopeoCopy(`${ref}:v1`, `oci:${out}:v1`, ["--all", ...src]);
      const index = JSON.parse(await readFile(join(out, "index.json"), "utf8")) as {
        manifests: Array<{ digest: string }>;
      };
      expect(index.manifests[0]!.digest).toBe(content.index.digest);
      await skopeo(["delete", "--tls-verify=false", ...creds2, `${ref}@${content.index.digest}`]);
      await expect(
        skopeo(["inspect", "--raw", "--tls-verify=false", ...creds2, `${ref}:v1`]),
      ).rejects.toThrow(/manifest unknown|not found/i);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});

describe("regkit serve --storage", () => {
  it("keeps content across a restart", async () => {
    const storage = join(dir, "storage");
    const first = await serve(["--storage", storage]);
    await skopeoCopy(`oci:${join(dir, "layout")}:v1`, `docker://${first.host}/kept/app:v1`, ["--all"]);
    await first.stop();
    const second = await serve(["--storage", storage]);
    try {
      expect(
        (await skopeoInspectRaw(`docker://${second.host}/kept/app:v1`)).equals(content.index.bytes),
      ).toBe(true);
      const out = join(dir, "after-restart");
      await skopeoCopy(`docker://${second.host}/kept/app:v1`, `oci:${out}:v1`, ["--all"]);
      const index = JSON.parse(await readFile(join(out, "index.json"), "utf8")) as {
        manifests: Array<{ digest: string }>;
      };
      expect(index.manifests[0]!.digest).toBe(content.index.digest);
    } finally {
      await second.stop();
    }
  });
});
