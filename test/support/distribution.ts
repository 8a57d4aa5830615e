/**
 * Starts the real CNCF distribution registry (Debian's `docker-registry`)
 * on 127.0.0.1 with its own config, port and storage, for integration tests
 * and benchmarks. Modes are added here as the auth layer needs them.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./ports.js";

export interface DistributionOptions {
  auth?: "none";
}

export interface Distribution {
  /** `127.0.0.1:PORT` as written in image references. */
  host: string;
  url: string;
  storageDir: string;
  stop(): Promise<void>;
}

const BINARY = "docker-registry";
const START_TIMEOUT_MS = 20_000;

function config(port: number, storageDir: string): string {
  return [
    "version: 0.1",
    "log:",
    "  level: warn",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${storageDir}`,
    "  delete:",
    "    enabled: true",
    "  maintenance:",
    "    uploadpurging:",
    "      enabled: false",
    "http:",
    `  addr: 127.0.0.1:${port}`,
    "health:",
    "  storagedriver:",
    "    enabled: false",
    "",
  ].join("\n");
}

async function waitReady(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`docker-registry exited with ${child.exitCode}: ${stderr()}`);
    try {
      const response = await fetch(`${url}/v2/`);
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`docker-registry did not answer on ${url} within ${START_TIMEOUT_MS} ms: ${stderr()}`);
}

export async function startDistribution(_options: DistributionOptions = {}): Promise<Distribution> {
  const dir = await mkdtemp(join(tmpdir(), "regkit-distribution-"));
  const storageDir = join(dir, "storage");
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const configPath = join(dir, "config.yml");
    await writeFile(configPath, config(port, storageDir));
    const child = spawn(BINARY, ["serve", configPath], { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4000);
    });
    const spawnError = new Promise<never>((_, reject) => child.once("error", reject));
    const url = `http://127.0.0.1:${port}`;
    try {
      await Promise.race([waitReady(url, child, () => log), spawnError]);
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
