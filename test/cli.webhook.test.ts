/**
 * `regkit webhook serve` as users run it: the built CLI in a child process,
 * receiving real HTTP deliveries.
 */
import { type ChildProcessWithoutNullStreams, execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SecretString } from "../src/core/secret.js";
import { sign } from "../src/providers/webhooks/signature.js";
import {
  DOCKER_HUB_WEBHOOK_EXAMPLE,
  EXAMPLE_CALLBACK_URL,
  EXAMPLE_EVENT_LINE,
} from "./support/dockerhubWebhook.js";

const CLI = join(import.meta.dirname, "..", "dist", "cli", "main.js");

interface Server {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const { REGKIT_WEBHOOK_SECRET: _, ...withoutSecretEnv } = process.env;
const running: Server[] = [];
let example: Buffer;
let dir: string;

beforeAll(async () => {
  example = await readFile(DOCKER_HUB_WEBHOOK_EXAMPLE);
  dir = await mkdtemp(join(tmpdir(), "regkit-webhook-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(() => {
  for (const server of running.splice(0)) server.child.kill("SIGKILL");
});

async function serve(...args: string[]): Promise<Server> {
  const child = spawn(
    process.execPath,
    [CLI, "webhook", "serve", "--provider", "dockerhub", "--port", "0", ...args],
    {
      env: withoutSecretEnv,
    },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
      const match = /^webhook (http:\/\/\S+)$/m.exec(stderr);
      if (match?.[1]) resolve(match[1]);
    });
    void exited.then((code) => reject(new Error(`exited ${code} before listening: ${stderr}`)));
  });
  const server = { child, url, stdout: () => stdout, stderr: () => stderr, exited };
  running.push(server);
  return server;
}

function post(url: string, body: Uint8Array, headers: Record<string, string> = {}) {
  return fetch(url, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("regkit webhook serve", () => {
  it("prints its URL on stderr and one JSON line per accepted event on stdout; SIGTERM exits 0", async () => {
    const server = await serve("--path", "/hub");
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/hub$/);
    const response = await post(server.url, example);
    expect(response.status).toBe(200);
    expect((await post(server.url, Buffer.from("{}"))).status).toBe(400);
    await until(() => server.stdout().endsWith("\n"), "the event line");
    const lines = server.stdout().trimEnd().split("\n");
    expect(lines.map((line) => JSON.parse(line))).toEqual([EXAMPLE_EVENT_LINE]);
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(server.stdout().trimEnd().split("\n")).toHaveLength(1);
  });

  it("with --secret, answers 401 to a bad signature and prints nothing; a good one is printed", async () => {
    const server = await serve("--secret", "hunter2hunter2");
    const bad = await post(server.url, example, {
      "x-hub-signature-256": sign(example, new SecretString("wrong")),
    });
    expect(bad.status).toBe(401);
    const unsigned = await post(server.url, example);
    expect(unsigned.status).toBe(401);
    const good = await post(server.url, example, {
      "x-hub-signature-256": sign(example, new SecretString("hunter2hunter2")),
    });
    expect(good.status).toBe(200);
    await until(() => server.stdout().endsWith("\n"), "the event line");
    expect(
      server
        .stdout()
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line)),
    ).toEqual([EXAMPLE_EVENT_LINE]);
    expect(server.stderr()).not.toContain("hunter2");
  });

  it("reads the secret from --secret-file", async () => {
    const file = join(dir, "secret");
    await writeFile(file, "from-a-file\n");
    const server = await serve("--secret-file", file);
    const signed = sign(example, new SecretString("from-a-file"));
    expect((await post(server.url, example, { "x-hub-signature-256": signed })).status).toBe(200);
    expect((await post(server.url, example)).status).toBe(401);
  });

  it("with --exec, runs the command per event with the event JSON on stdin, surviving failures", async () => {
    const file = join(dir, "events.jsonl");
    const server = await serve(
      "--exec",
      `cat >> '${file}'; grep -q '"type":"delete"' '${file}' && exit 3; true`,
    );
    const payload = JSON.parse(example.toString("utf8")) as Record<string, unknown>;
    const { push_data: _, ...rest } = payload;
    const deletion = { ...rest, delete_data: { deleted_at: 1700000000, deleter: "bot", tag: "old" } };
    expect((await post(server.url, example)).status).toBe(200);
    expect((await post(server.url, Buffer.from(JSON.stringify(deletion)))).status).toBe(200);
    await until(() => server.stderr().includes("exited 3"), "the failing command to be reported");
    expect((await post(server.url, example)).status).toBe(200);
    await until(() => server.stderr().split("exited 3").length === 3, "the third command");
    const written = (await readFile(file, "utf8"))
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(written).toEqual([
      EXAMPLE_EVENT_LINE,
      {
        provider: "dockerhub",
        type: "delete",
        repository: "svendowideit/testhook",
        tag: "old",
        deleter: "bot",
        at: "2023-11-14T22:13:20.000Z",
        callback_url: EXAMPLE_CALLBACK_URL,
      },
      EXAMPLE_EVENT_LINE,
    ]);
    expect(server.stdout()).toBe("");
    server.child.kill("SIGINT");
    expect(await server.exited).toBe(0);
  });

  it("stops a hung --exec command at --exec-timeout and answers 503 while --max-pending events wait", async () => {
    const server = await serve("--exec", "sleep 30", "--exec-timeout", "1", "--max-pending", "1");
    expect((await post(server.url, example)).status).toBe(200);
    // The first event is still being handled: one is pending, so the next delivery is told to come back.
    const busy = await post(server.url, example);
    expect(busy.status).toBe(503);
    expect(busy.headers.get("retry-after")).toBe("5");
    await until(() => server.stderr().includes("timed out after 1 s"), "the hung command to be stopped");
    expect((await post(server.url, example)).status).toBe(200);
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  });

  it("with --callback, never calls a callback_url outside the allowlist", async () => {
    const hits: string[] = [];
    const target = createServer((req, res) => {
      hits.push(req.url ?? "");
      res.end();
    });
    await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
    try {
      const callbackUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/steal`;
      const payload = { ...JSON.parse(example.toString("utf8")), callback_url: callbackUrl };
      const server = await serve("--callback");
      expect((await post(server.url, Buffer.from(JSON.stringify(payload)))).status).toBe(200);
      await until(() => server.stderr().includes("callback"), "the refused callback to be reported");
      expect(server.stderr()).toContain("is not on an allowed host");
      expect(JSON.parse(server.stdout())).toEqual({ ...EXAMPLE_EVENT_LINE, callback_url: callbackUrl });
      expect(hits).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => target.close(() => resolve()));
    }
  });

  it("with --callback-host, posts the success callback to that host only", async () => {
    const hits: Array<{ url: string; body: string }> = [];
    const target = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        hits.push({ url: req.url ?? "", body });
        res.end();
      });
    });
    await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
    try {
      const origin = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
      const payload = { ...JSON.parse(example.toString("utf8")), callback_url: `${origin}/hook/1` };
      const server = await serve("--callback", "--callback-host", origin);
      expect((await post(server.url, Buffer.from(JSON.stringify(payload)))).status).toBe(200);
      await until(() => hits.length === 1, "the callback");
      expect(hits[0]!.url).toBe("/hook/1");
      expect(JSON.parse(hits[0]!.body)).toMatchObject({ state: "success", context: "regkit" });
      const bad = await new Promise<{ code: number; stderr: string }>((resolve) =>
        execFile(
          process.execPath,
          [CLI, "webhook", "serve", "--provider", "dockerhub", "--callback-host", "http://example.com"],
          (error, _stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stderr }),
        ),
      );
      expect(bad).toEqual({
        code: 1,
        stderr:
          "regkit: callback allowlist entry http://example.com must use https (http only on loopback)\n",
      });
    } finally {
      await new Promise<void>((resolve) => target.close(() => resolve()));
    }
  });

  it("refuses an unknown or missing provider and bad options as usage errors", async () => {
    const run = (...args: string[]) =>
      new Promise<{ code: number; stderr: string }>((resolve) => {
        execFile(process.execPath, [CLI, "webhook", "serve", ...args], (error, _stdout, stderr) => {
          resolve({ code: error ? Number(error.code) : 0, stderr });
        });
      });
    const unknown = await run("--provider", "gitlab");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^regkit: .*gitlab.* Allowed choices are dockerhub/);
    expect((await run()).code).toBe(2);
    expect((await run("--provider", "dockerhub", "--secret", "a", "--secret-file", "b")).code).toBe(2);
    expect((await run("--provider", "dockerhub", "--max-body", "0")).code).toBe(2);
    expect((await run("--provider", "dockerhub", "--path", "hooks")).code).toBe(2);
    expect((await run("--provider", "dockerhub", "--secret", "")).stderr).toBe(
      "regkit: --secret gives an empty webhook secret\n",
    );
  });
});
