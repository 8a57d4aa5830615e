/**
 * Integration suites run against real components this setup starts itself:
 * one CNCF distribution registry for the whole run, and skopeo. Missing
 * binaries are installed when we can (root), otherwise the run fails: an
 * integration test that silently skips proves nothing.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { type Distribution, startDistribution } from "../support/distribution.js";

function has(binary: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${binary}`], { stdio: "ignore" }).status === 0;
}

const REQUIRED = ["docker-registry", "skopeo", "openssl"];

function missingComponents(): string[] {
  return REQUIRED.filter((binary) => !has(binary));
}

function ensureRealComponents(): void {
  if (missingComponents().length === 0) return;
  if (process.getuid?.() === 0) {
    const script = join(import.meta.dirname, "..", "..", "scripts", "install-deps.sh");
    // A failing install is reported below with what is still missing; its own output is inherited.
    spawnSync("bash", [script], { stdio: ["ignore", "inherit", "inherit"] });
  }
  const missing = missingComponents();
  if (missing.length > 0) {
    throw new Error(
      `integration tests need ${missing.join(", ")} (Debian packages docker-registry, skopeo, openssl); ` +
        "run `sudo bash scripts/install-deps.sh`",
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
