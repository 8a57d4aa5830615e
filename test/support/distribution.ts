/**
 * Starts the real CNCF distribution registry (Debian's `docker-registry`)
 * on 127.0.0.1 with its own config, port and storage, for integration tests
 * and benchmarks: anonymous, htpasswd over TLS, or token auth with an
 * external issuer (regkit's token server).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { get as httpGet } from "node:http";
import { get as httpsGet } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import bcrypt from "bcryptjs";
import { makeServerTls } from "./pki.js";
import { freePort } from "./ports.js";

export type DistributionOptions = (
  | { auth?: "none" }
  /** htpasswd (bcrypt) users behind TLS with a throwaway CA, as distribution requires for htpasswd. */
  | { auth: "htpasswd"; users: Record<string, string> }
  /** Bearer tokens from an external issuer (regkit's token server in the tests). */
  | { auth: "token"; realm: string; service: string; issuer: string; rootCertPath: string }
) & {
  /** Count requests from the registry's access log (`requests()`), e.g. to compare clients. */
  accessLog?: boolean;
  /** `storage.delete.enabled` (default true); false answers every DELETE with 405 UNSUPPORTED. */
  deleteEnabled?: boolean;
};

export interface Distribution {
  /** `127.0.0.1:PORT` as written in image references. */
  host: string;
  url: string;
  storageDir: string;
  /** The CA to trust in the TLS (htpasswd) mode. */
  caPem?: string;
  /** Requests served so far (with `accessLog: true`). */
  requests(): number;
  /** The last 10 000 access-log lines (with `accessLog: true`), e.g. to count one kind of request. */
  accessLog(): string[];
  /** The registry's process, e.g. to read the CPU time it spent (benchmarks). */
  pid: number | undefined;
  stop(): Promise<void>;
}

const BINARY = "docker-registry";
const START_TIMEOUT_MS = 20_000;
/** Marks readiness probes so the access-log request count leaves them out. */
const PROBE_AGENT = "regkit-test-readiness-probe";

function config(
  port: number,
  storageDir: string,
  mode: ModeConfig,
  accessLog: boolean,
  deleteEnabled: boolean,
): string {
  return [
    "version: 0.1",
    "log:",
    "  level: warn",
    "  accesslog:",
    `    disabled: ${!accessLog}`,
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${storageDir}`,
    "  delete:",
    `    enabled: ${deleteEnabled}`,
    "  maintenance:",
    "    uploadpurging:",
    "      enabled: false",
    ...mode.auth,
    "http:",
    `  addr: 127.0.0.1:${port}`,
    ...mode.http,
    "health:",
    "  storagedriver:",
    "    enabled: false",
    "",
  ].join("\n");
}

interface ModeConfig {
  auth: string[];
  http: string[];
  caPem?: string;
}

async function modeConfig(options: DistributionOptions, dir: string): Promise<ModeConfig> {
  if (options.auth === "htpasswd") {
    const file = join(dir, "htpasswd");
    const lines = Object.entries(options.users).map(
      ([user, password]) => `${user}:${bcrypt.hashSync(password, 4)}`,
    );
    await writeFile(file, `${lines.join("\n")}\n`);
    const tls = await makeServerTls(dir);
    return {
      auth: ["auth:", "  htpasswd:", "    realm: regkit-test", `    path: ${file}`],
      http: ["  tls:", `    certificate: ${tls.certPath}`, `    key: ${tls.keyPath}`],
      caPem: tls.caPem,
    };
  }
  if (options.auth === "token") {
    return {
      auth: [
        "auth:",
        "  token:",
        `    realm: ${options.realm}`,
        `    service: ${options.service}`,
        `    issuer: ${options.issuer}`,
        `    rootcertbundle: ${options.rootCertPath}`,
      ],
      http: [],
    };
  }
  return { auth: [], http: [] };
}

/**
 * `GET /v2/` answers with the status the mode promises (200 anonymous, 401 with
 * auth): a listening socket alone does not prove the API is being served.
 */
function probe(url: string, caPem: string | undefined): Promise<number | undefined> {
  return new Promise((resolve) => {
    const get = url.startsWith("https:") ? httpsGet : httpGet;
    const request = get(
      `${url}/v2/`,
      {
        agent: false,
        timeout: 2000,
        headers: { "user-agent": PROBE_AGENT },
        ...(caPem ? { ca: caPem } : {}),
      },
      (res) => {
        res.resume();
        resolve(res.statusCode);
      },
    );
    request.once("timeout", () => request.destroy());
    request.once("error", () => resolve(undefined));
  });
}

async function waitReady(
  url: string,
  mode: ModeConfig,
  child: ChildProcess,
  stderr: () => string,
): Promise<void> {
  const expected = mode.auth.length > 0 ? 401 : 200;
  const deadline = Date.now() + START_TIMEOUT_MS;
  let last: number | undefined;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`docker-registry exited with ${child.exitCode}: ${stderr()}`);
    last = await probe(url, mode.caPem);
    if (last === expected) return;
    await sleep(50);
  }
  throw new Error(
    `docker-registry at ${url} did not answer GET /v2/ with ${expected} within ${START_TIMEOUT_MS} ms ` +
      `(last: ${last ?? "no connection"}): ${stderr()}`,
  );
}

export async function startDistribution(options: DistributionOptions = {}): Promise<Distribution> {
  const dir = await mkdtemp(join(tmpdir(), "regkit-distribution-"));
  const storageDir = join(dir, "storage");
  const mode = await modeConfig(options, dir);
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const url = `${mode.http.length > 0 ? "https" : "http"}://127.0.0.1:${port}`;
    const configPath = join(dir, "config.yml");
    await writeFile(
      configPath,
      config(port, storageDir, mode, options.accessLog ?? false, options.deleteEnabled ?? true),
    );
    const child = spawn(BINARY, ["serve", configPath], { stdio: ["ignore", "pipe", "pipe"] });
    // The access log (combined log format, one line per request, user agent included) goes to stdout.
    let served = 0;
    let partial = "";
    const logged: string[] = [];
    child.stdout?.on("data", (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (line.includes(PROBE_AGENT)) continue;
        served++;
        logged.push(line);
        if (logged.length > 10_000) logged.shift();
      }
    });
    let log = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4000);
    });
    const spawnError = new Promise<never>((_, reject) => child.once("error", reject));
    try {
      await Promise.race([waitReady(url, mode, child, () => log), spawnError]);
    } catch (error) {
      child.kill("SIGKILL");
      // Another process may have taken the port between our probe and the registry's bind.
      if (attempt < 3 && /address already in use/.test(log)) continue;
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    return {
      host: `127.0.0.1:${port}`,
      url,
      storageDir,
      ...(mode.caPem ? { caPem: mode.caPem } : {}),
      requests: () => served,
      accessLog: () => [...logged],
      pid: child.pid,
      stop: async () => {
        if (child.exitCode === null) {
          const exited = new Promise((resolve) => child.once("exit", resolve));
          child.kill("SIGTERM");
          const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
          await exited;
          clearTimeout(timer);
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}
