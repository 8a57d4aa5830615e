import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AuthenticationError, CircuitOpenError, NetworkError, ServerError } from "../core/errors.js";
import { circuitBreakerMiddleware } from "./circuitBreaker.js";
import type { HttpRequest, HttpResponse } from "./types.js";

const ORIGIN = "https://registry.test";
const request = (origin = ORIGIN): HttpRequest => ({
  method: "GET",
  url: new URL(`${origin}/v2/`),
  headers: {},
});

/** A registry whose next answers are scripted: a status, or a thrown network error. */
function scripted() {
  const outcomes: Array<number | "reset" | Error> = [];
  const seen: string[] = [];
  const handler = async (req: HttpRequest): Promise<HttpResponse> => {
    seen.push(req.url.origin);
    const outcome = outcomes.shift() ?? 200;
    if (outcome === "reset") throw new NetworkError("connection reset", { retryable: true });
    if (outcome instanceof Error) throw outcome;
    return { status: outcome, headers: {}, body: Readable.from([]), url: req.url, request: req };
  };
  return { outcomes, seen, handler };
}

function breaker(options: Parameters<typeof circuitBreakerMiddleware>[0] = {}) {
  const states: string[] = [];
  const registry = scripted();
  const send = circuitBreakerMiddleware({
    ...options,
    onStateChange: (origin, state) => states.push(`${origin} ${state}`),
  }).wrap(registry.handler);
  const status = async (origin?: string) => (await send(request(origin))).status;
  const failure = (origin?: string) => send(request(origin)).catch((e: unknown) => e);
  return { ...registry, states, send, status, failure };
}

// cockatiel measures the open period with Date.now(): a fake Date moves it without real waiting.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"], now: new Date("2026-01-01T00:00:00Z") });
});
afterEach(() => {
  vi.useRealTimers();
});
const advance = (ms: number) => vi.setSystemTime(Date.now() + ms);

describe("circuit breaker", () => {
  it("opens after the threshold of consecutive failures and fails fast, saying until when", async () => {
    const b = breaker({ failureThreshold: 3, halfOpenAfterMs: 10_000 });
    b.outcomes.push(503, 500, "reset");
    expect(await b.status()).toBe(503);
    expect(await b.status()).toBe(500);
    expect(await b.failure()).toBeInstanceOf(NetworkError);
    expect(b.states).toEqual([`${ORIGIN} open`]);
    const open = await b.failure();
    expect(open).toBeInstanceOf(CircuitOpenError);
    expect((open as Error).message).toContain("failing fast until 2026-01-01T00:00:10.000Z");
    expect(b.seen).toHaveLength(3);
  });

  it("counts only consecutive failures: a success in between starts again", async () => {
    const b = breaker({ failureThreshold: 2 });
    b.outcomes.push(503, 200, 503, 404, 503);
    for (let i = 0; i < 5; i++) await b.send(request());
    expect(b.states).toEqual([]);
    b.outcomes.push(503);
    await b.send(request());
    expect(b.states).toEqual([`${ORIGIN} open`]);
  });

  it("does not count 4xx answers as failures", async () => {
    const b = breaker({ failureThreshold: 1 });
    b.outcomes.push(404, 401, 429);
    for (let i = 0; i < 3; i++) await b.send(request());
    expect(await b.status()).toBe(200);
    expect(b.states).toEqual([]);
  });

  it("keeps one breaker per origin", async () => {
    const b = breaker({ failureThreshold: 1 });
    b.outcomes.push(503);
    await b.send(request());
    expect(await b.failure()).toBeInstanceOf(CircuitOpenError);
    expect(await b.status("https://other.test")).toBe(200);
  });

  it("lets a trial call through after halfOpenAfterMs and closes when it succeeds", async () => {
    const b = breaker({ failureThreshold: 1, halfOpenAfterMs: 30_000 });
    b.outcomes.push(503);
    await b.send(request());
    advance(29_999);
    expect(await b.failure()).toBeInstanceOf(CircuitOpenError);
    advance(1);
    expect(await b.status()).toBe(200);
    expect(b.states).toEqual([`${ORIGIN} open`, `${ORIGIN} half-open`, `${ORIGIN} closed`]);
  });

  it("defaults to opening after 5 failures for 30 s", async () => {
    const b = breaker();
    b.outcomes.push(503, 503, 503, 503);
    for (let i = 0; i < 4; i++) await b.send(request());
    expect(b.states).toEqual([]);
    b.outcomes.push(503);
    await b.send(request());
    expect(b.states).toEqual([`${ORIGIN} open`]);
    advance(29_999);
    expect(await b.failure()).toBeInstanceOf(CircuitOpenError);
    advance(1);
    expect(await b.status()).toBe(200);
  });

  it("keeps a reopened circuit on probation: one failure reopens it until successThreshold successes", async () => {
    const b = breaker({ failureThreshold: 3, halfOpenAfterMs: 1000, successThreshold: 3 });
    b.outcomes.push(503, 503, 503);
    for (let i = 0; i < 3; i++) await b.send(request());
    advance(1000);
    // The trial succeeds (1 of 3), then one more success (2 of 3): still on probation.
    expect(await b.status()).toBe(200);
    expect(await b.status()).toBe(200);
    b.outcomes.push(503);
    expect(await b.status()).toBe(503);
    expect(b.states.at(-1)).toBe(`${ORIGIN} open`);
    expect(await b.failure()).toBeInstanceOf(CircuitOpenError);
    // After probation (3 successes) it takes the full threshold again.
    advance(1000);
    for (let i = 0; i < 3; i++) expect(await b.status()).toBe(200);
    b.outcomes.push(503, 503);
    expect(await b.status()).toBe(503);
    expect(await b.status()).toBe(503);
    expect(await b.status()).toBe(200);
    expect(b.states.filter((s) => s.endsWith("open") && !s.endsWith("half-open"))).toHaveLength(2);
  });

  it("defaults to a probation of 2 successes", async () => {
    const b = breaker({ failureThreshold: 2, halfOpenAfterMs: 1000 });
    b.outcomes.push(503, 503);
    for (let i = 0; i < 2; i++) await b.send(request());
    advance(1000);
    expect(await b.status()).toBe(200);
    b.outcomes.push(503);
    await b.send(request());
    expect(await b.failure()).toBeInstanceOf(CircuitOpenError);
    advance(1000);
    expect(await b.status()).toBe(200);
    expect(await b.status()).toBe(200);
    b.outcomes.push(503);
    await b.send(request());
    expect(await b.status()).toBe(200);
  });

  it("a failing trial call reopens the circuit for another period", async () => {
    const b = breaker({ failureThreshold: 1, halfOpenAfterMs: 5000 });
    b.outcomes.push(503, 503);
    await b.send(request());
    advance(5000);
    expect(await b.status()).toBe(503);
    advance(4999);
    expect(await b.failure()).toBeInstanceOf(CircuitOpenError);
    expect(b.seen).toHaveLength(2);
  });

  it("counts thrown network and server errors, not other errors", async () => {
    const b = breaker({ failureThreshold: 2 });
    b.outcomes.push(new AuthenticationError("no"), new Error("bug"), new AuthenticationError("no"));
    for (let i = 0; i < 3; i++) await b.failure();
    expect(b.states).toEqual([]);
    b.outcomes.push(new ServerError("down"), new ServerError("down"));
    await b.failure();
    await b.failure();
    expect(b.states).toEqual([`${ORIGIN} open`]);
  });

  it("works without listeners, logs opening and closing, and is named circuit-breaker", async () => {
    const logged: Array<[Record<string, unknown>, string]> = [];
    const logger = {
      warn: (fields: Record<string, unknown>, message: string) => logged.push([fields, message]),
    };
    const middleware = circuitBreakerMiddleware({
      failureThreshold: 1,
      halfOpenAfterMs: 500,
      logger: logger as never,
    });
    expect(middleware.name).toBe("circuit-breaker");
    const registry = scripted();
    const send = middleware.wrap(registry.handler);
    registry.outcomes.push(503);
    await send(request());
    await expect(send(request())).rejects.toBeInstanceOf(CircuitOpenError);
    advance(500);
    expect((await send(request())).status).toBe(200);
    expect(logged).toEqual([
      [{ origin: ORIGIN, retryInMs: 500 }, "circuit open: failing fast"],
      [{ origin: ORIGIN }, "circuit closed"],
    ]);
    // No listener and no logger: state changes pass silently.
    const quiet = circuitBreakerMiddleware({ failureThreshold: 1, halfOpenAfterMs: 500 }).wrap(
      registry.handler,
    );
    registry.outcomes.push(503);
    await quiet(request());
    await expect(quiet(request())).rejects.toBeInstanceOf(CircuitOpenError);
    advance(500);
    expect((await quiet(request())).status).toBe(200);
  });
});
