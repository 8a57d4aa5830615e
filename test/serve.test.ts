/**
 * `regkit serve` as a real registry for a real client: skopeo pushes to it,
 * pulls from it, inspects, lists tags and deletes, in every auth mode; with
 * `--storage` the content survives a restart. And as a server people run:
 * request log lines, a graceful stop on SIGTERM within `--grace`, stale
 * upload sessions expired, the warning for an open unauthenticated bind.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
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

/** A `regkit serve` child with its stderr kept: pino lines parsed, other lines as text. */
interface Served {
  url: string;
  host: string;
  child: ChildProcess;
  stderr(): string;
  logs(): Array<Record<string, unknown>>;
  /** Resolves with the first log line `match` accepts (the test's timeout bounds the wait). */
  waitForLog(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  exit: Promise<number | null>;
}

async function served(args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [CLI, "serve", "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let err = "";
  const waiters: Array<() => void> = [];
  child.stderr!.on("data", (data: Buffer) => {
    err += data.toString();
    for (const wake of waiters.splice(0)) wake();
  });
  const exit = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      resolve(code);
      for (const wake of waiters.splice(0)) wake();
    }),
  );
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout!.once("data", (data: Buffer) => resolve(data.toString()));
    void exit.then((code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
  const url = /^registry (http:\/\/\S+)$/m.exec(line)![1]!;
  const logs = () =>
    err
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    url,
    host: new URL(url).host,
    child,
    stderr: () => err,
    logs,
    exit,
    async waitForLog(match) {
      for (;;) {
        const found = logs().find(match);
        if (found) return found;
        if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode} before that line`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
  };
}

/** Starts an upload session; its path from the Location header. */
async function startUpload(server: Served, repository: string): Promise<string> {
  const response = await fetch(`${server.url}/v2/${repository}/blobs/uploads/`, { method: "POST" });
  expect(response.status).toBe(202);
  return response.headers.get("location")!;
}

/**
 * A PATCH whose body is sent in two parts: the first now, the second when
 * the test calls `finish()`; `response` settles with the status and Range.
 */
function slowPatch(server: Served, location: string, first: Buffer) {
  const request = httpRequest(`${server.url}${location}`, {
    method: "PATCH",
    headers: { "content-type": "application/octet-stream", "transfer-encoding": "chunked" },
  });
  const response = new Promise<{ status: number; range: string | undefined }>((resolve, reject) => {
    request.once("response", (res) => {
      res.resume();
      res.once("end", () => resolve({ status: res.statusCode!, range: res.headers.range }));
    });
    request.once("error", reject);
  });
  request.write(first);
  return { response, finish: (rest: Buffer) => request.end(rest) };
}

/** Waits until the session has received `bytes` (so its PATCH is in flight at the server). */
async function received(server: Served, location: string, bytes: number): Promise<void> {
  for (;;) {
    const response = await fetch(`${server.url}${location}`);
    if (response.headers.get("range") === `0-${bytes - 1}`) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("regkit serve as a server people run", () => {
  it("logs a start line, one pino JSON line per request (no query, no credentials) and a stop line", async () => {
    const server = await served([
      "-v",
      "--faults",
      JSON.stringify([{ kind: "status", status: 503, route: "/v2/broken/" }]),
    ]);
    const start = await server.waitForLog((l) => l.msg === "listening");
    expect(start).toMatchObject({
      level: 30,
      url: server.url,
      storage: "memory",
      auth: "none",
      graceMs: 10_000,
    });
    expect((await fetch(`${server.url}/v2/`)).status).toBe(200);
    const blob = Buffer.from("logged blob");
    const digest = `sha256:${createHash("sha256").update(blob).digest("hex")}`;
    const put = await fetch(
      `${server.url}/v2/logs/app/blobs/uploads/?digest=${digest}&token=Query-Secret-7`,
      {
        method: "POST",
        headers: { authorization: "Bearer Header-Secret-8", "content-type": "application/octet-stream" },
        body: blob,
      },
    );
    expect(put.status).toBe(201);
    const get = await fetch(`${server.url}/v2/logs/app/blobs/${digest}`);
    expect(Buffer.from(await get.arrayBuffer()).equals(blob)).toBe(true);
    expect((await fetch(`${server.url}/v2/broken/tags/list`)).status).toBe(503);
    const failed = await server.waitForLog((l) => l.path === "/v2/broken/tags/list");
    expect(failed).toMatchObject({ level: 40, msg: "request failed", method: "GET", status: 503 });
    const requests = server.logs().filter((l) => l.msg === "request");
    expect(requests.map((l) => [l.method, l.path, l.status])).toEqual([
      ["GET", "/v2/", 200],
      ["POST", "/v2/logs/app/blobs/uploads/", 201],
      ["GET", `/v2/logs/app/blobs/${digest}`, 200],
    ]);
    expect(requests[1]).toMatchObject({ level: 30, bytes: 0, received: blob.length });
    expect(requests[2]).toMatchObject({ bytes: blob.length });
    for (const line of requests) expect(Number.isInteger(line.ms) && (line.ms as number) >= 0).toBe(true);
    expect(server.stderr()).not.toMatch(/Secret|digest=|token=|authorization/i);
    server.child.kill("SIGTERM");
    expect(await server.exit).toBe(0);
    expect(server.logs().at(-1)).toMatchObject({ level: 30, msg: "stopped: every request finished" });
  });

  it("lets an upload in flight at SIGTERM finish within the grace, refuses new connections, exits 0", async () => {
    const server = await served(["-v", "--grace", "2m"]);
    const location = await startUpload(server, "drain/app");
    const first = Buffer.alloc(100_000, 1);
    const patch = slowPatch(server, location, first);
    await received(server, location, first.length);
    server.child.kill("SIGTERM");
    expect(await server.waitForLog((l) => l.msg === "shutting down")).toMatchObject({ inFlight: 1 });
    await expect(fetch(`${server.url}/v2/`)).rejects.toThrow();
    patch.finish(Buffer.alloc(50_000, 2));
    expect(await patch.response).toEqual({ status: 202, range: "0-149999" });
    expect(await server.exit).toBe(0);
    expect(server.stderr()).not.toMatch(/force-closed/);
  });

  it("force-closes what is still in flight when the grace runs out and exits 1 with one line", async () => {
    const server = await served(["--grace", "1s"]);
    const location = await startUpload(server, "cut/app");
    const patch = slowPatch(server, location, Buffer.alloc(10_000, 1));
    await received(server, location, 10_000);
    server.child.kill("SIGTERM");
    await expect(patch.response).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(await server.exit).toBe(1);
    expect(server.stderr()).toMatch(
      /^regkit: shutdown: force-closed 1 request still in flight after the 1 s grace$/m,
    );
    expect(server.logs()).toContainEqual(expect.objectContaining({ level: 40, cut: 1, graceMs: 1000 }));
  });

  it("removes upload sessions idle longer than --upload-ttl at start-up and while running; their PATCH is BLOB_UPLOAD_UNKNOWN", async () => {
    const storage = join(dir, "ttl-storage");
    const first = await served(["--storage", storage]);
    const stale = await startUpload(first, "ttl/app");
    first.child.kill("SIGTERM");
    expect(await first.exit).toBe(0);
    const staleDir = join(storage, "uploads", stale.split("/").pop()!);
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    for (const file of ["data", "state.json"]) await utimes(join(staleDir, file), twoHoursAgo, twoHoursAgo);

    const second = await served(["--storage", storage, "--upload-ttl", "3s"]);
    expect(existsSync(staleDir)).toBe(false);
    const unknown = async (location: string) => {
      const patch = await fetch(`${second.url}${location}`, { method: "PATCH", body: "late bytes" });
      expect(patch.status).toBe(404);
      expect(((await patch.json()) as { errors: Array<{ code: string }> }).errors[0]!.code).toBe(
        "BLOB_UPLOAD_UNKNOWN",
      );
    };
    await unknown(stale);
    // A session abandoned while the server runs goes too, without a request touching it.
    const abandoned = await startUpload(second, "ttl/app");
    const abandonedDir = join(storage, "uploads", abandoned.split("/").pop()!);
    expect(existsSync(abandonedDir)).toBe(true);
    while (existsSync(abandonedDir)) await new Promise((resolve) => setTimeout(resolve, 200));
    await unknown(abandoned);
    second.child.kill("SIGTERM");
    expect(await second.exit).toBe(0);
  });

  it("warns once on stderr when it serves every interface without authentication, and prints a reachable URL", async () => {
    const open = await served(["--host", "0.0.0.0"]);
    expect(open.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${open.url}/v2/`)).status).toBe(200);
    const warnings = open
      .stderr()
      .split("\n")
      .filter((l) => l.includes("warning"));
    expect(warnings).toEqual([
      expect.stringMatching(
        /^regkit: warning: serving 0\.0\.0\.0 without authentication: anyone who reaches port \d+ can push/,
      ),
    ]);
    open.child.kill("SIGTERM");
    expect(await open.exit).toBe(0);

    const v6 = await served(["--host", "::"]);
    expect(v6.url).toMatch(/^http:\/\/\[::1\]:\d+$/);
    expect((await fetch(`${v6.url}/v2/`)).status).toBe(200);
    expect(v6.stderr()).toMatch(/warning: serving :: without authentication/);
    v6.child.kill("SIGTERM");
    expect(await v6.exit).toBe(0);

    for (const args of [[], ["--host", "0.0.0.0", "--auth", "basic", "--users", join(dir, "users.txt")]]) {
      const quiet = await served(args);
      quiet.child.kill("SIGTERM");
      expect(await quiet.exit).toBe(0);
      expect(quiet.stderr()).toBe("");
    }
  });
});
