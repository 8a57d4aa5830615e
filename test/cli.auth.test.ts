/**
 * `regkit login`, `logout` and `auth status` as a user runs them, against the
 * real registry over TLS and the embedded token registry, with the Docker
 * config file and with a credential helper written for the tests.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basic, staticCredentials } from "../src/auth/index.js";
import { Registry } from "../src/registry/registry.js";
import { generateImage } from "../src/sim/images.js";
import { startRegistryServer } from "../src/sim/server.js";
import { type AuthTarget, PASSWORD, startAuthTargets, USER } from "./support/authTargets.js";

const CLI = join(import.meta.dirname, "..", "dist", "cli", "main.js");

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; no output of any command may contain the password, checked per call. */
async function regkit(env: NodeJS.ProcessEnv, args: string[], stdin?: string): Promise<Result> {
  const result = await new Promise<Result>((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
      },
    );
    child.stdin?.end(stdin ?? "");
  });
  expect(result.stdout).not.toContain(PASSWORD);
  expect(result.stderr).not.toContain(PASSWORD);
  return result;
}

const HELPER = `#!/usr/bin/env node
// A docker-credential-helper that keeps credentials in a JSON file (HELPER_STORE).
const fs = require("node:fs");
const file = process.env.HELPER_STORE;
const load = () => { try { return JSON.parse(fs.readFileSync(file, "utf8")); } catch { return {}; } };
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const store = load();
  const action = process.argv[2];
  if (action === "store") { const c = JSON.parse(input); store[c.ServerURL] = c; fs.writeFileSync(file, JSON.stringify(store)); }
  else if (action === "get") {
    const c = store[input.trim()];
    if (!c) { process.stdout.write("credentials not found in native keychain"); process.exit(1); }
    process.stdout.write(JSON.stringify(c));
  } else if (action === "erase") { delete store[input.trim()]; fs.writeFileSync(file, JSON.stringify(store)); }
  else if (action === "list") { process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(store).map(([k, v]) => [k, v.Username])))); }
});
`;

let targets: AuthTarget[] = [];
let dir: string;

beforeAll(async () => {
  targets = await startAuthTargets();
  dir = await mkdtemp(join(tmpdir(), "regkit-cli-auth-"));
  await writeFile(join(dir, "docker-credential-regkittest"), HELPER);
  await writeFile(join(dir, "docker-credential-broken"), "#!/bin/sh\necho 'garbage'\n");
  await chmod(join(dir, "docker-credential-regkittest"), 0o755);
  await chmod(join(dir, "docker-credential-broken"), 0o755);
});
afterAll(async () => {
  for (const target of targets) await target.stop();
  await rm(dir, { recursive: true, force: true });
});

async function seed(target: AuthTarget, repository: string): Promise<void> {
  const registry = new Registry({
    credentials: staticCredentials({ [target.host]: basic(USER, PASSWORD) }),
    ...(target.ca ? { ca: target.ca } : {}),
  });
  try {
    const repo = registry.repository(target.host, repository);
    const image = await generateImage({ seed: repository, layers: 1 });
    for (const blob of [image.config, ...image.layers]) await repo.uploads.upload(blob.bytes, blob);
    await repo.manifests.put("v1", image.manifest.bytes, image.manifest.mediaType);
  } finally {
    await registry.close();
  }
}

async function environment(target: AuthTarget, config?: object): Promise<NodeJS.ProcessEnv> {
  const home = await mkdtemp(join(dir, "home-"));
  if (config) await writeFile(join(home, "config.json"), JSON.stringify(config));
  const env: NodeJS.ProcessEnv = {
    PATH: `${dir}:${process.env.PATH}`,
    DOCKER_CONFIG: home,
    HELPER_STORE: join(home, "helper-store.json"),
  };
  if (target.ca) {
    const ca = join(home, "ca.pem");
    await writeFile(ca, target.ca);
    env.NODE_EXTRA_CA_CERTS = ca;
  }
  return env;
}

describe.each(["distribution htpasswd+TLS", "embedded token"])("regkit login against %s", (name) => {
  const target = () => targets.find((t) => t.name === name)!;

  it("login → ls → auth status → logout, with the Docker config file", async () => {
    const repository = `cli/${randomBytes(3).toString("hex")}`;
    await seed(target(), repository);
    const env = await environment(target());
    const host = target().host;

    const login = await regkit(env, ["login", host, "-u", USER, "--password-stdin"], `${PASSWORD}\n`);
    expect(login).toMatchObject({ code: 0, stderr: "" });
    expect(login.stdout).toContain(`Login Succeeded (${USER} on ${host}`);
    const configPath = join(env.DOCKER_CONFIG!, "config.json");
    expect((await stat(configPath)).mode & 0o777).toBe(0o600);
    const config = JSON.parse(await readFile(configPath, "utf8")) as {
      auths: Record<string, { auth: string }>;
    };
    expect(Buffer.from(config.auths[host]!.auth, "base64").toString()).toBe(`${USER}:${PASSWORD}`);

    expect((await regkit(env, ["ls", `${host}/${repository}`])).stdout).toBe("v1\n");
    // The most verbose logs (request lines and headers) go through the same secret check below.
    const traced = await regkit(env, ["-vvv", "ls", `${host}/${repository}`]);
    expect(traced.stderr).toMatch(/"authorization":"\[REDACTED\]"/);
    const status = await regkit(env, ["auth", "status", host]);
    expect(status.stdout).toBe(`${host}: basic as ${USER} from docker config ${configPath}\n`);

    expect((await regkit(env, ["logout", host])).stdout).toBe(`Removed login credentials for ${host}\n`);
    expect((await regkit(env, ["auth", "status", host])).stdout).toBe(
      `${host}: anonymous (no credentials found)\n`,
    );
    const denied = await regkit(env, ["-v", "ls", `${host}/${repository}`]);
    expect(denied.code).toBe(4);
    expect(denied.stderr).toMatch(/^regkit: .*(UNAUTHORIZED|authentication)/m);
  });

  it("a wrong password fails with exit code 4 and stores nothing", async () => {
    const env = await environment(target());
    const result = await regkit(
      env,
      ["login", target().host, "-u", USER, "--password-stdin"],
      "wrong-password\n",
    );
    expect(result.code).toBe(4);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain(target().host);
    await expect(stat(join(env.DOCKER_CONFIG!, "config.json"))).rejects.toThrow();
  });

  it("stores through the configured credential helper and reads back from it", async () => {
    const repository = `helper/${randomBytes(3).toString("hex")}`;
    await seed(target(), repository);
    const env = await environment(target(), { credsStore: "regkittest" });
    const host = target().host;
    const login = await regkit(env, ["login", host, "-u", USER, "--password-stdin"], PASSWORD);
    expect(login.stdout).toContain("stored in credential helper docker-credential-regkittest");
    const config = await readFile(join(env.DOCKER_CONFIG!, "config.json"), "utf8");
    expect(config).not.toContain(Buffer.from(`${USER}:${PASSWORD}`).toString("base64"));
    expect(JSON.parse(await readFile(env.HELPER_STORE!, "utf8"))[host].Secret).toBe(PASSWORD);
    expect((await regkit(env, ["auth", "status", host])).stdout).toBe(
      `${host}: basic as ${USER} from credential helper docker-credential-regkittest\n`,
    );
    expect((await regkit(env, ["ls", `${host}/${repository}`])).stdout).toBe("v1\n");
    expect((await regkit(env, ["logout", host])).code).toBe(0);
    expect(JSON.parse(await readFile(env.HELPER_STORE!, "utf8"))[host]).toBeUndefined();
  });
});

describe("credential sources", () => {
  it("a helper that prints garbage is a clear error", async () => {
    const target = targets.find((t) => t.name === "embedded token")!;
    const env = await environment(target, { credHelpers: { [target.host]: "broken" } });
    const result = await regkit(env, ["ls", `${target.host}/any/repo`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "regkit: credential helper docker-credential-broken: get printed something that is not credentials JSON\n",
    );
  });

  it("a missing helper is a clear error", async () => {
    const target = targets.find((t) => t.name === "embedded basic")!;
    const env = await environment(target, { credsStore: "nonexistent" });
    const result = await regkit(env, ["ls", `${target.host}/any/repo`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "regkit: credential helper docker-credential-nonexistent: not found on PATH\n",
    );
  });
});

describe("messages a user can act on", () => {
  const named = (name: string) => targets.find((t) => t.name === name)!;
  const all = ["distribution htpasswd+TLS", "distribution token", "embedded basic", "embedded token"];

  it.each(all)("%s: a 401 names the regkit login to run", async (name) => {
    const target = named(name);
    const env = await environment(target);
    const result = await regkit(env, ["ls", `${target.host}/hint/app`]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(new RegExp(`; log in with \`regkit login ${target.host}\`\\n$`));
    expect(result.stderr.split("\n")).toHaveLength(2);
  });

  it.each(all)("%s: a wrong password reads the same in basic and token mode", async (name) => {
    const target = named(name);
    const env = await environment(target);
    const login = await regkit(env, ["login", target.host, "-u", USER, "--password-stdin"], "wrong\n");
    expect(login).toMatchObject({
      code: 4,
      stderr: `regkit: ${target.host} rejected the credentials from stdin (wrong user name, password or token)\n`,
    });
    const stored = await environment(target, {
      auths: { [target.host]: { auth: Buffer.from(`${USER}:wrong`).toString("base64") } },
    });
    const ls = await regkit(stored, ["ls", `${target.host}/hint/app`]);
    expect(ls).toMatchObject({
      code: 4,
      stderr:
        `regkit: ${target.host} rejected the credentials from docker config ${join(stored.DOCKER_CONFIG!, "config.json")} ` +
        `(wrong user name, password or token); run \`regkit login ${target.host}\` to store working credentials\n`,
    });
  });

  it("-p works as docker's does, with a warning naming --password-stdin; both at once is a usage error", async () => {
    const target = named("embedded basic");
    const env = await environment(target);
    const login = await regkit(env, ["login", target.host, "-u", USER, "-p", PASSWORD]);
    expect(login.code).toBe(0);
    expect(login.stdout).toContain(`Login Succeeded (${USER} on ${target.host}`);
    expect(login.stderr).toBe(
      "regkit: warning: a password on the command line is visible to other users (ps, shell history); use --password-stdin\n",
    );
    const both = await regkit(env, ["login", target.host, "-u", USER, "-p", "x", "--password-stdin"], "x");
    expect(both.code).toBe(2);
    expect(both.stderr).toBe(
      "regkit: option '-p, --password <password>' cannot be used with option '--password-stdin'\n",
    );
  });

  it("login to a registry that asks for no login says so, stores nothing and exits 0", async () => {
    const open = await startRegistryServer();
    try {
      const target: AuthTarget = { name: "embedded anonymous", host: open.host, stop: () => open.close() };
      const before = { auths: { "other.example.com": { auth: Buffer.from("a:b").toString("base64") } } };
      const env = await environment(target, before);
      const configPath = join(env.DOCKER_CONFIG!, "config.json");
      const bytes = await readFile(configPath);
      const login = await regkit(env, ["login", open.host, "-u", USER, "--password-stdin"], PASSWORD);
      expect(login).toMatchObject({
        code: 0,
        stdout: `${open.host} needs no login: it answers without credentials; nothing stored\n`,
        stderr: "",
      });
      expect(await readFile(configPath)).toEqual(bytes);
      const json = await regkit(
        env,
        ["--json", "login", open.host, "-u", USER, "--password-stdin"],
        PASSWORD,
      );
      expect(JSON.parse(json.stdout)).toEqual({ registry: open.host, loginRequired: false, stored: false });
      expect(await readFile(configPath)).toEqual(bytes);
    } finally {
      await open.close();
    }
  });
});
