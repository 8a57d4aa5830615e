/**
 * The WHATWG fetch that SDKs (octokit, google-auth-library) are given: what
 * reaches regkit's transport for each way an SDK calls fetch, and what the SDK
 * gets back.
 */
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { HttpRequest, HttpResponse } from "../transport/types.js";
import { transportFetch } from "./transportFetch.js";

function recorder(answer: Partial<HttpResponse> = {}) {
  const seen: HttpRequest[] = [];
  const send = async (request: HttpRequest): Promise<HttpResponse> => {
    seen.push(request);
    return {
      status: 200,
      headers: {},
      body: Readable.from([Buffer.from("ok")]),
      url: request.url,
      request,
      ...answer,
    };
  };
  return { send, seen };
}

const text = (body: HttpRequest["body"]) =>
  body instanceof Uint8Array ? Buffer.from(body).toString() : (body as string | undefined);

describe("transportFetch", () => {
  it("sends a Request object's method, URL and headers, marked anonymous, with the operation named per URL", async () => {
    const { send, seen } = recorder();
    const fetch = transportFetch(send, { operation: (url) => `api ${url.pathname}` });
    const response = await fetch(
      new Request("https://api.test/orgs/acme", { method: "delete", headers: { "X-Thing": "1" } }),
    );
    expect(await response.text()).toBe("ok");
    expect(response.url).toBe("https://api.test/orgs/acme");
    expect(seen[0]).toMatchObject({
      method: "DELETE",
      headers: { "x-thing": "1" },
      anonymous: true,
      operation: "api /orgs/acme",
    });
    expect(seen[0]!.url.href).toBe("https://api.test/orgs/acme");
    expect(seen[0]!.body).toBeUndefined();
    expect(seen[0]!.signal).toBeUndefined();
  });

  it("reads every body kind an SDK passes whole, and passes the abort signal on", async () => {
    const { send, seen } = recorder();
    const fetch = transportFetch(send, { operation: "api" });
    const signal = new AbortController().signal;
    await fetch("https://api.test/a", { method: "POST", body: "text", signal });
    await fetch("https://api.test/a", { method: "POST", body: new TextEncoder().encode("bytes") });
    await fetch("https://api.test/a", { method: "POST", body: new TextEncoder().encode("buffer").buffer });
    await fetch("https://api.test/a", {
      method: "POST",
      body: new URLSearchParams({ grant_type: "x", a: "b c" }),
    });
    await fetch("https://api.test/a", { method: "POST", body: new Blob(["blob"]) });
    await fetch("https://api.test/a", { method: "POST", body: null });
    expect(seen.map((r) => text(r.body))).toEqual([
      "text",
      "bytes",
      "buffer",
      "grant_type=x&a=b+c",
      "blob",
      undefined,
    ]);
    expect(seen[0]!.signal).toBe(signal);
    expect(seen[0]!.operation).toBe("api");
    expect(seen[5]!.method).toBe("POST");
    expect(seen.every((r) => r.anonymous)).toBe(true);
  });

  it("refuses a method the transport does not speak", async () => {
    const { send, seen } = recorder();
    await expect(
      transportFetch(send, { operation: "api" })("https://api.test/", { method: "TRACE" }),
    ).rejects.toThrow(new TypeError("unsupported method TRACE"));
    expect(seen).toHaveLength(0);
  });

  it("maps fixed URLs by prefix up to the query, and leaves others alone", async () => {
    const { send, seen } = recorder();
    const urlMap = new Map([["https://oauth2.googleapis.com/token", "http://127.0.0.1:9/gar/oauth2/token"]]);
    const fetch = transportFetch(send, { operation: "google", urlMap });
    await fetch("https://oauth2.googleapis.com/token");
    await fetch("https://oauth2.googleapis.com/token?x=1");
    await fetch("https://oauth2.googleapis.com/tokeninfo");
    expect(seen.map((r) => r.url.href)).toEqual([
      "http://127.0.0.1:9/gar/oauth2/token",
      "http://127.0.0.1:9/gar/oauth2/token?x=1",
      "https://oauth2.googleapis.com/tokeninfo",
    ]);
  });

  it("answers repeated headers as repeated values, skips absent ones, and gives no body for HEAD and 204", async () => {
    const answered = recorder({
      headers: { link: ["<a>; rel=next", "<b>; rel=last"], "x-absent": undefined, etag: '"1"' },
    });
    const response = await transportFetch(answered.send, { operation: "api" })("https://api.test/");
    expect(response.headers.get("link")).toBe("<a>; rel=next, <b>; rel=last");
    expect(response.headers.has("x-absent")).toBe(false);
    expect(response.headers.get("etag")).toBe('"1"');
    const head = await transportFetch(answered.send, { operation: "api" })("https://api.test/", {
      method: "HEAD",
    });
    expect(head.body).toBeNull();
    const empty = recorder({ status: 204 });
    const deleted = await transportFetch(empty.send, { operation: "api" })("https://api.test/", {
      method: "DELETE",
    });
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeNull();
  });
});
