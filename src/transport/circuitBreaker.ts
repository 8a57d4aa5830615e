import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  circuitBreaker,
  handleWhen,
  type IBreaker,
} from "cockatiel";
import type { Logger } from "pino";
import { CircuitOpenError, isRegkitError } from "../core/errors.js";
import { isRequestBodyFault } from "./transportError.js";
import type { HttpResponse, Middleware } from "./types.js";

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit (default 5). */
  failureThreshold?: number;
  /** Time open before a trial call is let through (default 30 s). */
  halfOpenAfterMs?: number;
  /** Successes needed after opening before a failure stops reopening it at once (default 2). */
  successThreshold?: number;
  logger?: Logger;
  onStateChange?: (origin: string, state: "open" | "half-open" | "closed") => void;
}

/**
 * Counts consecutive failures like cockatiel's ConsecutiveBreaker, and after
 * a reopening keeps the circuit on probation: until `successes` calls have
 * succeeded, one failure opens it again.
 */
class ProbationBreaker implements IBreaker {
  state = { failures: 0, probation: 0 };
  constructor(
    private readonly threshold: number,
    private readonly successes: number,
  ) {}

  success(state: CircuitState): void {
    this.state.failures = 0;
    if (state === CircuitState.HalfOpen) this.state.probation = this.successes - 1;
    else if (this.state.probation > 0) this.state.probation--;
  }

  failure(): boolean {
    if (this.state.probation > 0) return true;
    return ++this.state.failures >= this.threshold;
  }
}

/**
 * Failures are what says the registry is unwell: network errors and 5xx, not
 * 4xx, and not a request whose own body failed (the fault of whoever fed it).
 */
const isFailure = (error: unknown) =>
  isRegkitError(error) &&
  (error.category === "network" || error.category === "server") &&
  !isRequestBodyFault(error);

/**
 * One breaker per registry origin: after repeated failures calls fail fast
 * with CircuitOpenError (saying when the next trial happens) instead of
 * piling onto a registry that is down.
 */
export function circuitBreakerMiddleware(options: CircuitBreakerOptions = {}): Middleware {
  const halfOpenAfter = options.halfOpenAfterMs ?? 30_000;
  const breakers = new Map<string, { policy: CircuitBreakerPolicy; openedAt: number }>();

  const breakerFor = (origin: string) => {
    let entry = breakers.get(origin);
    if (!entry) {
      const policy = circuitBreaker(
        handleWhen(isFailure).orWhenResult((r) => (r as HttpResponse).status >= 500),
        {
          halfOpenAfter,
          breaker: new ProbationBreaker(options.failureThreshold ?? 5, options.successThreshold ?? 2),
        },
      );
      const created = { policy, openedAt: 0 };
      policy.onBreak(() => {
        created.openedAt = Date.now();
        options.logger?.warn({ origin, retryInMs: halfOpenAfter }, "circuit open: failing fast");
        options.onStateChange?.(origin, "open");
      });
      policy.onHalfOpen(() => options.onStateChange?.(origin, "half-open"));
      policy.onReset(() => {
        options.logger?.warn({ origin }, "circuit closed");
        options.onStateChange?.(origin, "closed");
      });
      entry = created;
      breakers.set(origin, entry);
    }
    return entry;
  };

  return {
    name: "circuit-breaker",
    wrap: (next) => async (request) => {
      const origin = request.url.origin;
      const entry = breakerFor(origin);
      try {
        return await entry.policy.execute(() => next(request), request.signal);
      } catch (error) {
        if (error instanceof BrokenCircuitError)
          throw new CircuitOpenError(origin, new Date(entry.openedAt + halfOpenAfter));
        throw error;
      }
    },
  };
}
