import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { retryMiddleware } from "../../transport/retry.js";
import type { HttpRequest, HttpResponse } from "../../transport/types.js";
import { GAR_DEFAULTS } from "./config.js";

const response = (request: HttpRequest, status: number): HttpResponse => ({
  status,
  headers: {},
  body: Readable.from([Buffer.from('{"error":{"code":429,"status":"RESOURCE_EXHAUSTED"}}')]),
  url: request.url,
  request,
});

describe("RESOURCE_EXHAUSTED (429) retries, specification §6.1", () => {
  it("defaults: 5 retries, exponential from 30 s", () => {
    expect(GAR_DEFAULTS).toMatchObject({ maxRetries: 5, quotaRetryBaseSeconds: 30 });
  });

  it("a 429 without Retry-After waits base, 2×, 4×, … and gives up after the last attempt", async () => {
    const delays: number[] = [];
    let calls = 0;
    const send = retryMiddleware({
      maxAttempts: GAR_DEFAULTS.maxRetries + 1,
      rateLimitDelayMs: 2, // the same curve as 30 s, scaled down so the test does not wait
      random: () => 0.5,
      onRetry: ({ delayMs }) => delays.push(delayMs),
    }).wrap(async (request) => {
      calls++;
      return response(request, 429);
    });
    const request: HttpRequest = {
      method: "GET",
      url: new URL("https://artifactregistry.googleapis.com/v1/x"),
      headers: {},
    };
    const final = await send(request);
    expect(final.status).toBe(429);
    expect(calls).toBe(6);
    expect(delays).toEqual([2, 4, 8, 16, 32]);
  });
});
