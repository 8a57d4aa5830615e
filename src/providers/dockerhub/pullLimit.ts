import { RateLimitError } from "../../core/errors.js";
import type { Descriptor } from "../../core/manifest.js";
import { DOCKER_HUB } from "../../core/reference.js";
import type { Registry } from "../../registry/registry.js";
import type { RateLimitState } from "../../transport/rateLimit.js";

/** Docker's documented probe image: a HEAD of it reads the limit without spending a pull. */
export const RATE_LIMIT_PREVIEW = "ratelimitpreview/test";

/** Docker Hub's pull budget as its headers report it. */
export interface PullLimitStatus {
  /** false: Docker Hub sent no limit headers (paid plan, or an unlimited image). */
  limited: boolean;
  limit?: number;
  remaining?: number;
  windowSeconds?: number;
  /** `Docker-RateLimit-Source`: the address or account the budget belongs to. */
  source?: string;
  /** Whether the pull was made with credentials (200 a window) or anonymously (100). */
  authenticated: boolean;
  checkedAt: Date;
}

export function statusFrom(
  state: RateLimitState | undefined,
  authenticated: boolean,
  now = new Date(),
): PullLimitStatus {
  if (state?.style !== "docker") return { limited: false, authenticated, checkedAt: now };
  return {
    limited: true,
    limit: state.limit,
    remaining: state.remaining,
    ...(state.windowSeconds !== undefined ? { windowSeconds: state.windowSeconds } : {}),
    ...(state.source ? { source: state.source } : {}),
    authenticated,
    checkedAt: now,
  };
}

/** Reads the pull limit with a manifest HEAD, which Docker does not count as a pull. */
export async function readPullLimit(
  registry: Registry,
  repository: string,
  tag: string,
  authenticated: boolean,
): Promise<PullLimitStatus> {
  const ctx = registry.context("docker.io");
  await registry.repository("docker.io", repository).manifests.head(tag);
  return statusFrom(registry.rateLimits.get((await ctx.baseUrl()).origin), authenticated);
}

/**
 * Plans a batch of pulls around the remaining budget: go ahead when it
 * covers them; wait when the budget refills soon enough; otherwise fail
 * before the first pull with the time it refills and, for anonymous callers,
 * the advice to authenticate.
 */
export async function planPulls(
  status: PullLimitStatus,
  pulls: number,
  options: { maxWaitMs?: number; refillsAt?: Date; sleep?: (ms: number) => Promise<void> } = {},
): Promise<{ waitedMs: number }> {
  if (!status.limited || status.remaining === undefined || status.remaining >= pulls) return { waitedMs: 0 };
  // Docker's window is rolling; without a reset time from a 429, assume the whole window.
  const refillsAt =
    options.refillsAt ?? new Date(status.checkedAt.getTime() + (status.windowSeconds ?? 21_600) * 1000);
  const wait = refillsAt.getTime() - Date.now();
  const maxWait = options.maxWaitMs ?? 60_000;
  if (wait > 0 && wait <= maxWait) {
    await (options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))))(wait);
    return { waitedMs: wait };
  }
  const hint = status.authenticated ? "" : "; authenticate to raise the limit from 100 to 200 pulls per 6 h";
  throw new RateLimitError(
    `Docker Hub pull limit: ${pulls} pulls needed, ${status.remaining} of ${status.limit} left; refills by ${refillsAt.toISOString()}${hint}`,
    { resetAt: refillsAt, retryAfterMs: Math.max(0, wait), provider: "dockerhub" },
  );
}

/**
 * A `beforeManifests` hook for `copy()` from Docker Hub: before the images of
 * an index are fetched (one pull each), checks the budget the last answers
 * reported and waits or fails before the first pull.
 */
export function pullPlanner(
  registry: Registry,
  options: { authenticated: boolean; maxWaitMs?: number },
): (manifests: Descriptor[]) => Promise<void> {
  return async (manifests) => {
    const origin = (await registry.context(DOCKER_HUB).baseUrl()).origin;
    const state = registry.rateLimits.get(origin);
    await planPulls(statusFrom(state, options.authenticated), manifests.length, {
      ...(state?.resetAt ? { refillsAt: state.resetAt } : {}),
      ...(options.maxWaitMs !== undefined ? { maxWaitMs: options.maxWaitMs } : {}),
    });
  };
}
