/**
 * Integration suites run against real components this setup starts itself:
 * one CNCF distribution registry for the whole run, and skopeo. Missing
 * binaries are installed when we can (root), otherwise the run fails: an
 * integration test that silently skips proves nothing.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { type Distribution, startDistribution } from "../support/distribution.js";

function has(binary: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${binary}`], { stdio: "ignore" }).status === 0;
}

function ensureRealComponents(): void {
  if (has("docker-registry") && has("skopeo") && has("openssl")) return;
  const script = join(import.meta.dirname, "..", "..", "scripts", "install-deps.sh");
  try {
    execFileSync("bash", [script], { stdio: "inherit" });
  } catch {
    // reported below
  }
  if (!has("docker-registry") || !has("skopeo") || !has("openssl")) {
    throw new Error(
      "integration tests need docker-registry, skopeo and openssl (Debian packages); run `sudo bash scripts/install-deps.sh`",
    );
  }
}

let distribution: Distribution | undefined;

export async function setup(project: TestProject): Promise<void> {
  ensureRealComponents();
  distribution = await startDistribution();
  project.provide("distribution", { host: distribution.host, url: distribution.url });
}

export async function teardown(): Promise<void> {
  await distribution?.stop();
}

declare module "vitest" {
  export interface ProvidedContext {
    distribution: { host: string; url: string };
  }
}
