import { DelegateBackoff, handleWhen, type IRetryBackoffContext, retry } from "cockatiel";
import type { Logger } from "pino";
import { isRegkitError } from "../core/errors.js";
import { isReplayable } from "./body.js";
import { discard, headerValue } from "./response.js";
import type { HttpRequest, HttpResponse, Middleware } from "./types.js";

export interface RetryOptions {
  /** Attempts in all, the first included (default 3). */
  maxAttempts?: number;
  /** A 429 asking to wait longer than this is returned at once (default 60 s). */
  maxRateLimitWaitMs?: number;
  /** First delay after a 500 (default 1 s), doubled per attempt. */
  serverErrorDelayMs?: number;
  /** First delay after a 502/503/504 (default 2 s), doubled per attempt. */
  unavailableDelayMs?: number;
  /** First delay after a 429 without Retry-After, doubled per attempt (default: 1 s, fixed). */
  rateLimitDelayMs?: number;
  /** Delay after a timeout or reset connection (default 1 s, fixed). */
  networkDelayMs?: number;
  /** 0..1 random source for jitter (tests pin it). */
  random?: () => number;
  logger?: Logger;
  onRetry?: (info: { request: HttpRequest; attempt: number; delayMs: number; reason: string }) => void;
}

const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);

/** A retryable status seen before the last attempt: thrown so cockatiel schedules the next one. */
class RetryableStatus extends Error {
  constructor(
    readonly status: number,
    readonly waitMs: number | undefined,
  ) {
    super(`HTTP ${status}`);
  }
}

/** Seconds or an HTTP date; also the epoch-seconds reset of GitHub's `x-ratelimit-reset`. */
export function retryDelayFromHeaders(response: HttpResponse, now = Date.now()): number | undefined {
  const after = headerValue(response, "retry-after")?.trim();
  if (after && /^\d{1,10}$/.test(after)) return Number(after) * 1000;
  if (after) {
    const date = Date.parse(after);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const reset = headerValue(response, "x-ratelimit-reset");
  if (reset && /^\d{9,11}$/.test(reset)) return Math.max(0, Number(reset) * 1000 - now);
  return undefined;
}

/**
 * Only requests that can be repeated as they are: idempotent methods with a
 * replayable body. Upload sessions are resumed by the uploader from the
 * registry's offset instead, so their PUT/PATCH are never replayed here.
 */
function canRetry(request: HttpRequest): boolean {
  if (request.anonymous || !isReplayable(request.body)) return false;
  if (request.method === "GET" || request.method === "HEAD" || request.method === "DELETE") return true;
  return request.method === "PUT" && !request.url.pathname.includes("/blobs/uploads/");
}

/**
 * Retries transient failures following the provider specs' table: 429 after
 * Retry-After (or the rate-limit reset), 500 exponentially from 1 s, 502/503/504
 * from 2 s, timeouts and resets after 1 s; jittered; at most 3 attempts.
 */
export function retryMiddleware(options: RetryOptions = {}): Middleware {
  const maxAttempts = options.maxAttempts ?? 3;
  const maxWait = options.maxRateLimitWaitMs ?? 60_000;
  const random = options.random ?? Math.random;
  const jitter = (ms: number) => Math.round(ms * (0.8 + 0.4 * random()));

  const delayFor = (context: IRetryBackoffContext<unknown>): number => {
    const failure = "error" in context.result ? context.result.error : undefined;
    if (failure instanceof RetryableStatus) {
      if (failure.waitMs !== undefined) return failure.waitMs;
      if (failure.status === 429) {
        const base = options.rateLimitDelayMs;
        return base === undefined ? 1000 : jitter(base * 2 ** (context.attempt - 1));
      }
      const base =
        failure.status === 500 ? (options.serverErrorDelayMs ?? 1000) : (options.unavailableDelayMs ?? 2000);
      return jitter(base * 2 ** (context.attempt - 1));
    }
    return jitter(options.networkDelayMs ?? 1000);
  };

  const shouldRetry = handleWhen(
    (error) =>
      error instanceof RetryableStatus ||
      (isRegkitError(error) && error.retryable && error.category === "network"),
  );

  return {
    name: "retry",
    wrap: (next) => async (request) => {
      if (!canRetry(request)) return next(request);
      // A policy per request keeps retry events attributed to the request they belong to.
      const policy = retry(shouldRetry, {
        maxAttempts: maxAttempts - 1,
        backoff: new DelegateBackoff(delayFor),
      });
      policy.onRetry((event) => {
        const reason = "error" in event ? (event.error as Error).message : "result";
        options.logger?.warn(
          {
            method: request.method,
            origin: request.url.origin,
            attempt: event.attempt,
            delayMs: event.delay,
            reason,
          },
          "retrying request",
        );
        options.onRetry?.({ request, attempt: event.attempt, delayMs: event.delay, reason });
      });
      return policy.execute(async ({ attempt }) => {
        const response = await next(request);
        if (!RETRY_STATUSES.has(response.status) || attempt >= maxAttempts - 1) return response;
        const wait = retryDelayFromHeaders(response);
        // Waiting longer than allowed is not a retry: the caller gets the 429 and its reset time.
        if (response.status === 429 && wait !== undefined && wait > maxWait) return response;
        await discard(response);
        throw new RetryableStatus(response.status, wait);
      }, request.signal);
    },
  };
}
