import { Octokit } from "@octokit/core";
import { paginateRest } from "@octokit/plugin-paginate-rest";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import Bottleneck from "bottleneck";
import { isRegkitError, ProtocolError } from "../../core/errors.js";
import type { SecretString } from "../../core/secret.js";
import type { RateLimitState, RateLimitTracker } from "../../transport/rateLimit.js";
import type { Handler } from "../../transport/types.js";
import { transportFetch } from "../transportFetch.js";

/** Share of the hourly budget after which requests are spread over what is left (NFR-RATE-002). */
export const THROTTLE_AT = 0.8;
/** Longest single pause the throttle inserts; past it requests go on and the server decides. */
export const MAX_THROTTLE_DELAY_MS = 60_000;

/**
 * How long to wait before the next request so the rest of the budget lasts
 * until the reset: nothing below 80 % used, then (time to reset) / (requests
 * left), capped. GitHub's own answer for an empty budget (403/429) is left to
 * the throttling plugin and the rate-limit middleware.
 */
export function throttleDelay(state: RateLimitState | undefined, now = Date.now()): number {
  if (state?.style !== "github" || state.limit <= 0 || !state.resetAt) return 0;
  const used = (state.limit - state.remaining) / state.limit;
  if (used < THROTTLE_AT || state.remaining <= 0) return 0;
  const untilReset = state.resetAt.getTime() - now;
  if (untilReset <= 0) return 0;
  return Math.min(MAX_THROTTLE_DELAY_MS, Math.ceil(untilReset / state.remaining));
}

export interface GitHubOctokitOptions {
  send: Handler;
  apiUrl: string;
  token: SecretString | undefined;
  rateLimits: RateLimitTracker;
  /** Pause between two writes (deletes, restores); octokit's default is 1 s. */
  writeIntervalMs?: number;
  /** Wait this long at most for a primary or secondary limit to lift before failing (default 60 s). */
  maxRateLimitWaitMs?: number;
  /** Retries after a 5xx or a network failure (default 3). */
  retries?: number;
  sleep?: (ms: number) => Promise<void>;
  onThrottle?: (delayMs: number) => void;
}

const GitHubOctokit = Octokit.plugin(regkitPlugin, retry, throttling, paginateRest);
export type GitHubOctokit = InstanceType<typeof GitHubOctokit>;

/**
 * Regkit's rules, registered first so they sit innermost: a request must stay
 * on the API's origin (a `Link` to another host would carry our token there),
 * and a transport error that must not be retried (circuit open, replay
 * mismatch, rate limit) is marked so octokit's retry plugin leaves it alone.
 */
function regkitPlugin(octokit: Octokit, options: Record<string, unknown>) {
  const origin = (options.regkit as { origin?: string } | undefined)?.origin;
  octokit.hook.before("request", (request) => {
    const url = new URL(request.url, `${origin}/`);
    if (origin && url.origin !== origin)
      throw new ProtocolError(`GitHub: a link points to another origin (${url.origin}); not followed`, {
        provider: "ghcr",
      });
  });
  octokit.hook.error("request", (error) => {
    const cause = (error as { cause?: unknown }).cause;
    if (isRegkitError(cause) && !cause.retryable) (error as { status: number }).status = 400;
    throw error;
  });
}

/** An octokit with paginate, retry and throttling, whose every request goes through regkit's transport. */
export function createOctokit(options: GitHubOctokitOptions): GitHubOctokit {
  const base = options.apiUrl.replace(/\/+$/, "");
  const origin = new URL(base).origin;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const maxWait = (options.maxRateLimitWaitMs ?? 60_000) / 1000;
  const wait = (seconds: number, _options: unknown, _octokit: unknown, retryCount: number) =>
    retryCount < 1 && seconds <= maxWait;
  const octokit = new GitHubOctokit({
    baseUrl: base,
    ...(options.token ? { auth: options.token.reveal() } : {}),
    userAgent: "regkit",
    request: {
      fetch: transportFetch(options.send, { operation: "github api" }),
      retries: options.retries ?? 3,
    },
    regkit: { origin },
    throttle: {
      onRateLimit: wait,
      onSecondaryRateLimit: wait,
      write: new Bottleneck.Group({ maxConcurrent: 1, minTime: options.writeIntervalMs ?? 1000 }),
    },
    // octokit's own logger would print warnings on stderr; regkit logs through telemetry instead.
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  } as ConstructorParameters<typeof GitHubOctokit>[0]);
  octokit.hook.before("request", async () => {
    const delay = throttleDelay(options.rateLimits.get(origin));
    if (delay > 0) {
      options.onThrottle?.(delay);
      await sleep(delay);
    }
  });
  return octokit;
}
