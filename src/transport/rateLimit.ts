import type { Logger } from "pino";
import { RateLimitError } from "../core/errors.js";
import { discard, headerValue } from "./response.js";
import { retryDelayFromHeaders } from "./retry.js";
import type { HttpRequest, HttpResponse, Middleware } from "./types.js";

/** What a registry or API last said about its rate limit. */
export interface RateLimitState {
  origin: string;
  /** Which header family: Docker Hub's `RateLimit-*` or GitHub's `X-RateLimit-*`. */
  style: "docker" | "github";
  limit: number;
  remaining: number;
  /** Docker Hub's window (`w=`), in seconds. */
  windowSeconds?: number;
  /** When the budget refills (GitHub's reset). */
  resetAt?: Date;
  /** Docker Hub's `Docker-RateLimit-Source` (an IP or account id). */
  source?: string;
  /** GitHub's `X-RateLimit-Resource`. */
  resource?: string;
  updatedAt: Date;
}

function parseDockerValue(value: string | undefined): { n: number; w?: number } | undefined {
  const match = value ? /^\s*(\d+)\s*(?:;\s*w=(\d+))?/.exec(value) : null;
  return match ? { n: Number(match[1]), ...(match[2] ? { w: Number(match[2]) } : {}) } : undefined;
}

/** Reads either header family; undefined when the response has none. */
export function parseRateLimit(response: HttpResponse, now = new Date()): RateLimitState | undefined {
  const origin = response.url.origin;
  const dockerLimit = parseDockerValue(headerValue(response, "ratelimit-limit"));
  const dockerRemaining = parseDockerValue(headerValue(response, "ratelimit-remaining"));
  if (dockerLimit && dockerRemaining) {
    const source = headerValue(response, "docker-ratelimit-source");
    const windowSeconds = dockerLimit.w ?? dockerRemaining.w;
    return {
      origin,
      style: "docker",
      limit: dockerLimit.n,
      remaining: dockerRemaining.n,
      ...(windowSeconds !== undefined ? { windowSeconds } : {}),
      ...(source ? { source } : {}),
      updatedAt: now,
    };
  }
  const limit = Number(headerValue(response, "x-ratelimit-limit"));
  const remaining = Number(headerValue(response, "x-ratelimit-remaining"));
  if (
    Number.isFinite(limit) &&
    Number.isFinite(remaining) &&
    headerValue(response, "x-ratelimit-limit") !== undefined
  ) {
    const reset = Number(headerValue(response, "x-ratelimit-reset"));
    const resource = headerValue(response, "x-ratelimit-resource");
    return {
      origin,
      style: "github",
      limit,
      remaining,
      ...(Number.isFinite(reset) && reset > 0 ? { resetAt: new Date(reset * 1000) } : {}),
      ...(resource ? { resource } : {}),
      updatedAt: now,
    };
  }
  return undefined;
}

/** The current rate-limit state per origin, as the last responses reported it. */
export class RateLimitTracker {
  readonly #states = new Map<string, RateLimitState>();

  update(state: RateLimitState): void {
    this.#states.set(state.origin, state);
  }

  get(origin: string): RateLimitState | undefined {
    return this.#states.get(origin);
  }

  all(): RateLimitState[] {
    return [...this.#states.values()];
  }
}

export interface RateLimitOptions {
  tracker?: RateLimitTracker;
  /** Wait for a reset at most this long before failing fast (default 60 s). */
  maxWaitMs?: number;
  logger?: Logger;
}

/**
 * Docker Hub's budget is spent by manifest GETs only (HEADs and blobs are
 * free); GitHub's by every request.
 */
function spendsBudget(state: RateLimitState, request: HttpRequest): boolean {
  return (
    state.style !== "docker" || (request.method === "GET" && /\/manifests\/[^/]+$/.test(request.url.pathname))
  );
}

/** Docker Hub warns at 10 pulls left; GitHub at 80 % used. */
function nearlyExhausted(state: RateLimitState): boolean {
  return state.style === "docker"
    ? state.remaining <= 10
    : state.limit > 0 && (state.limit - state.remaining) / state.limit >= 0.8;
}

function describe(state: RateLimitState): string {
  const window = state.windowSeconds ? ` per ${Math.round(state.windowSeconds / 3600)} h` : "";
  return `${state.remaining} of ${state.limit}${window} left`;
}

/**
 * Tracks rate-limit headers, warns when the budget runs low, waits for a
 * near reset instead of sending requests that would be refused, and turns a
 * final 429 into a RateLimitError saying when to retry and, for anonymous
 * callers, that credentials raise the limit.
 */
export function rateLimitMiddleware(options: RateLimitOptions = {}): Middleware {
  const tracker = options.tracker ?? new RateLimitTracker();
  const maxWait = options.maxWaitMs ?? 60_000;
  return {
    name: "rate-limit",
    wrap: (next) => async (request) => {
      const known = tracker.get(request.url.origin);
      if (
        known &&
        known.remaining === 0 &&
        known.resetAt &&
        known.resetAt.getTime() > Date.now() &&
        spendsBudget(known, request)
      ) {
        const wait = known.resetAt.getTime() - Date.now();
        if (wait > maxWait) {
          throw new RateLimitError(
            `${request.url.host}: rate limit exhausted until ${known.resetAt.toISOString()}`,
            {
              resetAt: known.resetAt,
              retryAfterMs: wait,
            },
          );
        }
        options.logger?.warn(
          { origin: request.url.origin, waitMs: wait },
          "rate limit exhausted: waiting for the reset",
        );
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
      const response = await next(request);
      const state = parseRateLimit(response);
      if (state) {
        tracker.update(state);
        if (nearlyExhausted(state)) {
          options.logger?.warn(
            { origin: state.origin, remaining: state.remaining, limit: state.limit },
            "rate limit nearly exhausted",
          );
        }
      }
      if (response.status !== 429) return response;
      const retryAfterMs = retryDelayFromHeaders(response);
      await discard(response);
      const anonymous = !request.headers.authorization;
      const budget = state ? ` (${describe(state)})` : "";
      const hint = anonymous ? "; authenticate to raise the anonymous limit" : "";
      const when = retryAfterMs !== undefined ? `; retry in ${Math.ceil(retryAfterMs / 1000)} s` : "";
      // Remember the refusal so the next request that would spend the budget fails before it is sent.
      if (retryAfterMs !== undefined) {
        tracker.update({
          ...(state ?? { origin: request.url.origin, style: "docker", limit: 0, updatedAt: new Date() }),
          remaining: 0,
          resetAt: new Date(Date.now() + retryAfterMs),
        });
      }
      throw new RateLimitError(`${request.url.host}: rate limited${budget}${when}${hint}`, {
        ...(retryAfterMs !== undefined ? { retryAfterMs, resetAt: new Date(Date.now() + retryAfterMs) } : {}),
        ...(state?.resetAt ? { resetAt: state.resetAt } : {}),
      });
    },
  };
}
