/**
 * Secret hygiene: the CLI's commands run with known test secrets against
 * authenticated registries (basic over TLS on distribution, tokens on the embedded one;
 * the library copy for the span check runs against all four),
 * at the most verbose log level and recording cassettes; then stdout, stderr,
 * the logs, span attributes, cassettes (and their body files) and every file
 * written other than the credential store are searched for the secrets, in
 * the forms they travel in (plain, base64 `user:password`, URL-encoded).
 */
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basic, staticCredentials } from "../src/auth/index.js";
import { copy } from "../src/copy/copy.js";
import { SecretString } from "../src/core/secret.js";
import { sign } from "../src/providers/webhooks/signature.js";
import { Registry } from "../src/registry/registry.js";
import { generateIndex, writeOciLayout } from "../src/sim/images.js";
import { OciLayoutStore } from "../src/store/ociLayoutStore.js";
import { RemoteStore } from "../src/store/remoteStore.js";
import { type AuthTarget, PASSWORD, startAuthTargets, USER } from "./support/authTargets.js";

const CLI = join(import.meta.dirname, "..", "dist", "cli", "main.js");
const WEBHOOK_SECRET = "whsec-Kn0wn-T3st-Secret-9c1f";
const HUB_TOKEN = "dckr_pat_Kn0wnT3stT0ken0000000000";
const GITHUB_TOKEN = "ghp_Kn0wnT3stT0kenFromTheEnvironment00";

/** Every form a secret could leak in. */
const NEEDLES = [PASSWORD, WEBHOOK_SECRET, HUB_TOKEN, GITHUB_TOKEN].flatMap((s) => [
  s,
  encodeURIComponent(s),
  Buffer.from(s).toString("base64"),
]);
NEEDLES.push(Buffer.from(`${USER}:${PASSWORD}`).toString("base64"));

const outputs: Array<{ where: string; text: string }> = [];
let targets: AuthTarget[] = [];
let dir: string;
let layout: string;

function regkit(
  env: NodeJS.ProcessEnv,
  args: string[],
  stdin = "",
): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env, timeout: 60_000 },
      (error, stdout, stderr) => {
        outputs.push({ where: `stdout of ${args.join(" ")}`, text: stdout });
        outputs.push({ where: `stderr of ${args.join(" ")}`, text: stderr });
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stderr });
      },
    );
    child.stdin?.end(stdin);
  });
}

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

beforeAll(async () => {
  targets = await startAuthTargets();
  dir = await mkdtemp(join(tmpdir(), "regkit-secrets-"));
  layout = join(dir, "source-layout");
  await writeOciLayout(
    layout,
    await generateIndex({ seed: "secrets", platforms: ["linux/amd64", "linux/arm64"], layers: 1 }),
    "v1",
  );
});
afterAll(async () => {
  for (const target of targets) await target.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("secret hygiene", () => {
  it("no secret in stdout, stderr, -vvv logs, cassettes or written files, across every authenticated registry", {
    timeout: 400_000,
  }, async () => {
    // The registries in parallel, and the read commands of each too: CLI start-up dominates.
    await Promise.all(
      targets.map(async (target, i) => {
        const home = join(dir, `home${i}`);
        const env: NodeJS.ProcessEnv = {
          PATH: process.env.PATH,
          HOME: home,
          DOCKER_CONFIG: join(home, ".docker"),
          // Secrets other providers would use are in the environment of every command too.
          DOCKER_HUB_USERNAME: USER,
          DOCKER_HUB_ACCESS_TOKEN: HUB_TOKEN,
          GITHUB_ACTOR: USER,
          GITHUB_TOKEN,
          REGKIT_WEBHOOK_SECRET: WEBHOOK_SECRET,
        };
        await writeFile(join(dir, `ca${i}.pem`), target.ca ?? "");
        if (target.ca) env.NODE_EXTRA_CA_CERTS = join(dir, `ca${i}.pem`);
        const cassette = join(home, "cassettes");
        const repo = `${target.host}/secret/app${randomBytes(2).toString("hex")}`;
        const v = ["-vvv"];
        const rec = (name: string) => ["--record", join(cassette, `${name}.har`)];

        const failed = await regkit(
          env,
          [...v, "login", target.host, "-u", USER, "--password-stdin"],
          "wrong-password\n",
        );
        expect(failed.code).toBe(4);
        const login = await regkit(
          env,
          [...v, "login", target.host, "-u", USER, "--password-stdin"],
          `${PASSWORD}\n`,
        );
        expect(login.code).toBe(0);
        const config = join(home, ".docker", "config.json");
        expect((await stat(config)).mode & 0o777).toBe(0o600);
        await regkit(env, [...v, ...rec("push"), "push", `${layout}:v1`, `${repo}:v1`]);
        await Promise.all(
          [
            [...v, ...rec("ls"), "ls", repo],
            [...v, ...rec("digest"), "--json", "digest", `${repo}:v1`],
            [...v, ...rec("manifest"), "manifest", "get", `${repo}:v1`],
            [...v, ...rec("inspect"), "inspect", "--platform", "linux/arm64", `${repo}:v1`],
            [...v, ...rec("catalog"), "catalog", target.host],
            [...v, ...rec("tag"), "tag", `${repo}:v1`, "v2"],
            [...v, ...rec("pull"), "pull", `${repo}:v1`, join(home, "pulled")],
            [...v, ...rec("missing"), "manifest", "get", `${repo}:nope`],
            [...v, "auth", "status", target.host],
          ].map((args) => regkit(env, args)),
        );
        await regkit(env, [...v, "logout", target.host]);
        await regkit(env, [...v, ...rec("anonymous"), "ls", repo]);
      }),
    );
    // The verbose logs are really there, with the header that carries credentials redacted.
    expect(outputs.some(({ text }) => /"authorization":"\[REDACTED\]"/.test(text))).toBe(true);
    expect(
      outputs.filter(({ where }) => where.startsWith("stdout of") && where.includes(" push ")).length,
    ).toBe(4);

    // The webhook receiver, with its secret from the environment, rejecting a forged delivery at -v.
    const child = spawn(
      process.execPath,
      [CLI, "-vvv", "webhook", "serve", "--provider", "dockerhub", "--port", "0"],
      {
        env: { PATH: process.env.PATH, REGKIT_WEBHOOK_SECRET: WEBHOOK_SECRET },
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    const url = await new Promise<string>((resolve) =>
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
        const match = /webhook (http:\/\/\S+)/.exec(stderr);
        if (match) resolve(match[1]!);
      }),
    );
    const body = JSON.stringify({ push_data: { tag: "x" }, repository: { repo_name: "a/b" } });
    const forged = await fetch(url, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "x-hub-signature-256": sign(body, new SecretString("not-the-secret")),
      },
    });
    expect(forged.status).toBe(401);
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
    outputs.push(
      { where: "webhook serve stdout", text: stdout },
      { where: "webhook serve stderr", text: stderr },
    );
    expect(stderr).toContain("rejected 401");

    // Span attributes of a library copy with credentials, through the token flow.
    const spans = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    for (const target of targets) {
      const registry = new Registry({
        credentials: staticCredentials({ [target.host]: basic(USER, PASSWORD) }),
        tracerProvider,
        ...(target.ca ? { ca: target.ca } : {}),
      });
      await copy(
        new OciLayoutStore(layout),
        "v1",
        new RemoteStore(registry.repository(target.host, "secret/traced")),
        "v1",
      );
      await registry.close();
    }
    context.disable();
    const finished = spans.getFinishedSpans();
    expect(finished.length).toBeGreaterThan(10);
    outputs.push({
      where: "span attributes and events",
      text: JSON.stringify(
        finished.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events })),
      ),
    });

    // Every file written, except the credential store itself (config.json holds base64 user:password by design).
    for (const file of await filesUnder(dir)) {
      if (file.endsWith(`${join(".docker", "config.json")}`)) continue;
      outputs.push({ where: relative(dir, file), text: (await readFile(file)).toString("latin1") });
    }
    expect(outputs.some(({ where }) => where.endsWith(".har"))).toBe(true);

    const hits = outputs.flatMap(({ where, text }) =>
      NEEDLES.filter((needle) => text.includes(needle)).map(() => where),
    );
    expect(hits).toEqual([]);
  });
});
