import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { InvalidInputError, NetworkError, ServerError } from "../core/errors.js";
import { type RetryOptions, retryDelayFromHeaders, retryMiddleware } from "./retry.js";
import type { HttpMethod, HttpRequest, HttpResponse, RequestBody } from "./types.js";

type Outcome = number | { status: number; headers: Record<string, string> } | Error;

/** A registry answering from a script; records every attempt. */
function scripted(outcomes: Outcome[]) {
  const attempts: HttpRequest[] = [];
  const handler = async (request: HttpRequest): Promise<HttpResponse> => {
    attempts.push(request);
    const next = outcomes.shift() ?? 200;
    if (next instanceof Error) throw next;
    const { status, headers } = typeof next === "number" ? { status: next, headers: {} } : next;
    return { status, headers, body: Readable.from([Buffer.from("x")]), url: request.url, request };
  };
  return { attempts, handler };
}

function retrying(outcomes: Outcome[], options: RetryOptions = {}) {
  const registry = scripted(outcomes);
  const retries: Array<{ attempt: number; delayMs: number; reason: string }> = [];
  // Jitter pinned to its middle (factor 1.0), delays tiny: the schedule is asserted, not waited for.
  const send = retryMiddleware({
    serverErrorDelayMs: 4,
    unavailableDelayMs: 6,
    networkDelayMs: 3,
    random: () => 0.5,
    ...options,
    onRetry: ({ attempt, delayMs, reason }) => retries.push({ attempt, delayMs, reason }),
  }).wrap(registry.handler);
  return { ...registry, retries, send };
}

const request = (
  method: HttpMethod = "GET",
  path = "/v2/a/manifests/v1",
  body?: RequestBody,
): HttpRequest => ({
  method,
  url: new URL(`https://registry.test${path}`),
  headers: {},
  ...(body !== undefined ? { body } : {}),
});

describe("retry", () => {
  it("retries a 500 after serverErrorDelayMs, doubling per attempt", async () => {
    const r = retrying([500, 500, 200], { maxAttempts: 3 });
    expect((await r.send(request())).status).toBe(200);
    expect(r.attempts).toHaveLength(3);
    expect(r.retries.map((x) => [x.attempt, x.delayMs, x.reason])).toEqual([
      [1, 4, "HTTP 500"],
      [2, 8, "HTTP 500"],
    ]);
  });

  it("gives up on repeated network errors after maxAttempts, logging each retry", async () => {
    const warnings: Array<[Record<string, unknown>, string]> = [];
    const logger = {
      warn: (fields: Record<string, unknown>, message: string) => warnings.push([fields, message]),
    };
    const r = retrying(
      [new NetworkError("reset 1"), new NetworkError("reset 2"), new NetworkError("reset 3"), 200],
      { maxAttempts: 3, logger: logger as never },
    );
    await expect(r.send(request())).rejects.toThrow("reset 3");
    expect(r.attempts).toHaveLength(3);
    expect(warnings).toEqual([
      [
        { method: "GET", origin: "https://registry.test", attempt: 1, delayMs: 3, reason: "reset 1" },
        "retrying request",
      ],
      [
        { method: "GET", origin: "https://registry.test", attempt: 2, delayMs: 3, reason: "reset 2" },
        "retrying request",
      ],
    ]);
  });

  it("works without an onRetry listener and is named retry", async () => {
    const registry = scripted([503, 200]);
    const middleware = retryMiddleware({ unavailableDelayMs: 1 });
    expect(middleware.name).toBe("retry");
    expect((await middleware.wrap(registry.handler)(request())).status).toBe(200);
    expect(registry.attempts).toHaveLength(2);
  });

  it("waits 1 s after a 429 without Retry-After, and exactly maxRateLimitWaitMs is still waited", async () => {
    const r = retrying([429, 200]);
    expect((await r.send(request())).status).toBe(200);
    expect(r.retries.map((x) => x.delayMs)).toEqual([1000]);
    const edge = retrying([{ status: 429, headers: { "retry-after": "1" } }, 200], {
      maxRateLimitWaitMs: 1000,
    });
    expect((await edge.send(request())).status).toBe(200);
    expect(edge.retries.map((x) => x.delayMs)).toEqual([1000]);
  });

  it("only a 429 is given back at once for a long wait; a 503's Retry-After is waited for", async () => {
    const r = retrying([{ status: 503, headers: { "retry-after": "1" } }, 200], { maxRateLimitWaitMs: 500 });
    expect((await r.send(request())).status).toBe(200);
    expect(r.retries.map((x) => x.delayMs)).toEqual([1000]);
  });

  it("retries 502, 503 and 504 after unavailableDelayMs", async () => {
    for (const status of [502, 503, 504]) {
      const r = retrying([status, 200]);
      expect((await r.send(request())).status).toBe(200);
      expect(r.retries.map((x) => x.delayMs)).toEqual([6]);
    }
  });

  it("returns the last answer when the attempts run out, and defaults to 3 attempts", async () => {
    const r = retrying([503, 503, 503, 503]);
    const response = await r.send(request());
    expect(response.status).toBe(503);
    expect(r.attempts).toHaveLength(3);
    const once = retrying([503, 200], { maxAttempts: 1 });
    expect((await once.send(request())).status).toBe(503);
    expect(once.attempts).toHaveLength(1);
  });

  it("waits for Retry-After on a 429, and gives up at once when that is beyond maxRateLimitWaitMs", async () => {
    const r = retrying([{ status: 429, headers: { "retry-after": "0" } }, 200]);
    expect((await r.send(request())).status).toBe(200);
    expect(r.retries.map((x) => x.delayMs)).toEqual([0]);
    const long = retrying([{ status: 429, headers: { "retry-after": "61" } }, 200]);
    expect((await long.send(request())).status).toBe(429);
    expect(long.attempts).toHaveLength(1);
    const allowed = retrying([{ status: 429, headers: { "retry-after": "1" } }, 200], {
      maxRateLimitWaitMs: 999,
    });
    expect((await allowed.send(request())).status).toBe(429);
    expect(allowed.attempts).toHaveLength(1);
  });

  it("uses Retry-After on a 503 too, instead of the backoff", async () => {
    const r = retrying([{ status: 503, headers: { "retry-after": "0" } }, 200]);
    expect((await r.send(request())).status).toBe(200);
    expect(r.retries.map((x) => x.delayMs)).toEqual([0]);
  });

  it("retries retryable network errors after networkDelayMs, not other errors", async () => {
    const r = retrying([new NetworkError("reset", { retryable: true }), 200]);
    expect((await r.send(request())).status).toBe(200);
    expect(r.retries).toEqual([{ attempt: 1, delayMs: 3, reason: "reset" }]);
    const fatal = retrying([new NetworkError("no route", { retryable: false }), 200]);
    await expect(fatal.send(request())).rejects.toThrow("no route");
    expect(fatal.attempts).toHaveLength(1);
    const invalid = retrying([new InvalidInputError("bad"), 200]);
    await expect(invalid.send(request())).rejects.toThrow("bad");
    expect(invalid.attempts).toHaveLength(1);
    const server = retrying([new ServerError("thrown 5xx", { retryable: true }), 200]);
    await expect(server.send(request())).rejects.toThrow("thrown 5xx");
    expect(server.attempts).toHaveLength(1);
    const plain = retrying([new Error("bug"), 200]);
    await expect(plain.send(request())).rejects.toThrow("bug");
    expect(plain.attempts).toHaveLength(1);
  });

  it("does not retry other statuses", async () => {
    for (const status of [400, 401, 404, 501]) {
      const r = retrying([status, 200]);
      expect((await r.send(request())).status).toBe(status);
      expect(r.attempts).toHaveLength(1);
    }
  });

  it("retries only idempotent requests with a replayable body", async () => {
    const cases: Array<[HttpRequest, number]> = [
      [request("HEAD"), 2],
      [request("DELETE"), 2],
      [request("PUT", "/v2/a/manifests/v1", "{}"), 2],
      [request("PUT", "/v2/a/manifests/v1", () => Readable.from(["{}"])), 2],
      [request("POST", "/v2/a/blobs/uploads/"), 1],
      [request("POST", "/token", "grant_type=password"), 1],
      [request("PATCH", "/v2/a/blobs/uploads/x"), 1],
      [request("PUT", "/v2/a/blobs/uploads/x?digest=sha256:0", "x"), 1],
      [request("PUT", "/v2/a/manifests/v1", Readable.from(["{}"])), 1],
      [{ ...request(), anonymous: true }, 1],
    ];
    for (const [req, attempts] of cases) {
      const r = retrying([503, 200]);
      await r.send(req);
      expect([req.method, req.url.pathname, r.attempts.length]).toEqual([
        req.method,
        req.url.pathname,
        attempts,
      ]);
    }
  });

  it("jitters delays by ±20 %", async () => {
    const low = retrying([500, 200], { random: () => 0, serverErrorDelayMs: 10 });
    await low.send(request());
    const high = retrying([500, 200], { random: () => 1, serverErrorDelayMs: 10 });
    await high.send(request());
    expect([low.retries[0]!.delayMs, high.retries[0]!.delayMs]).toEqual([8, 12]);
  });
});

describe("retryDelayFromHeaders", () => {
  const response = (headers: Record<string, string>): HttpResponse => ({
    status: 429,
    headers,
    body: Readable.from([]),
    url: new URL("https://registry.test/"),
    request: request(),
  });
  const now = Date.parse("2026-01-01T00:00:00Z");

  it.each([
    [{ "retry-after": "7" }, 7000],
    [{ "retry-after": " 5 " }, 5000],
    [{ "retry-after": "12abc" }, undefined],
    [{ "retry-after": "abc12" }, undefined],
    [{ "x-ratelimit-reset": `${now / 1000 + 90}x` }, undefined],
    [{ "x-ratelimit-reset": `x${now / 1000 + 90}` }, undefined],
    [{ "retry-after": "Thu, 01 Jan 2026 00:00:30 GMT" }, 30_000],
    [{ "retry-after": "Wed, 31 Dec 2025 23:59:00 GMT" }, 0],
    [{ "x-ratelimit-reset": String(now / 1000 + 90) }, 90_000],
    [{ "x-ratelimit-reset": String(now / 1000 - 90) }, 0],
    [{ "retry-after": "soon" }, undefined],
    [{ "x-ratelimit-reset": "12" }, undefined],
    [{}, undefined],
  ])("%j → %s ms", (headers, expected) => {
    expect(retryDelayFromHeaders(response(headers), now)).toBe(expected);
  });

  it("prefers Retry-After over the reset time", () => {
    expect(
      retryDelayFromHeaders(response({ "retry-after": "2", "x-ratelimit-reset": "1767225690" }), now),
    ).toBe(2000);
  });
});
