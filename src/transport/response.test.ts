import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { ProtocolError, SizeLimitError } from "../core/errors.js";
import { discard, headerValue, headerValues, readBytes, readJson, readText } from "./response.js";
import type { HttpResponse } from "./types.js";

function response(chunks: Array<string | Buffer>, headers: HttpResponse["headers"] = {}): HttpResponse {
  const url = new URL("http://registry.test/v2/");
  return {
    status: 200,
    headers,
    body: Readable.from(chunks.map((c) => Buffer.from(c))),
    url,
    request: { method: "GET", url, headers: {} },
  };
}

/** A body that counts how many chunks were pulled from it. */
function counting(total: number, size: number): { res: HttpResponse; pulled: () => number } {
  let pulled = 0;
  const body = new Readable({
    highWaterMark: size,
    read() {
      if (pulled === total) this.push(null);
      else {
        pulled++;
        this.push(Buffer.alloc(size, 1));
      }
    },
  });
  const res = response([]);
  res.body = body;
  return { res, pulled: () => pulled };
}

describe("readBytes", () => {
  it("returns the whole body up to and including the limit", async () => {
    expect((await readBytes(response(["ab", "cd"]), 4)).toString()).toBe("abcd");
    expect((await readBytes(response([]), 0)).length).toBe(0);
  });

  it("refuses a declared Content-Length over the limit before reading", async () => {
    const { res, pulled } = counting(10, 100);
    res.headers["content-length"] = "1000";
    const error = await readBytes(res, 999, "manifest").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SizeLimitError);
    expect((error as Error).message).toBe("manifest exceeds the limit of 999 bytes");
    expect(pulled()).toBeLessThanOrEqual(1);
    expect(res.body.destroyed).toBe(true);
  });

  it("stops reading an undeclared body as soon as it passes the limit", async () => {
    const { res, pulled } = counting(1000, 100);
    await expect(readBytes(res, 250)).rejects.toBeInstanceOf(SizeLimitError);
    // Three chunks pass 250 bytes; a few more may sit in the stream's buffer, never the whole body.
    expect(pulled()).toBeLessThan(10);
    expect(res.body.destroyed).toBe(true);
  });

  it("passes errors of the body stream through", async () => {
    const res = response([]);
    res.body = new Readable({
      read() {
        this.destroy(new ProtocolError("cut"));
      },
    });
    await expect(readBytes(res, 100)).rejects.toThrow("cut");
  });
});

describe("readText and readJson", () => {
  it("decodes UTF-8 and parses JSON", async () => {
    expect(await readText(response(["h\u00e9"]), 10)).toBe("h\u00e9");
    expect(await readJson(response(['{"tags":', '["a"]}']), 100)).toEqual({ tags: ["a"] });
  });

  it("rejects bad JSON with a ProtocolError naming what was read", async () => {
    const error = await readJson(response(["{nope"]), 100, "tags.list").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as Error).message).toBe("tags.list: response is not valid JSON");
  });

  it("applies the limit to JSON too", async () => {
    await expect(readJson(response(['"0123456789"']), 5)).rejects.toBeInstanceOf(SizeLimitError);
  });
});

describe("discard", () => {
  it("drains a short body", async () => {
    const res = response(["a", "b"]);
    await discard(res);
    expect(res.body.readableEnded || res.body.destroyed).toBe(true);
  });

  it("cuts a long body instead of reading it all", async () => {
    const { res, pulled } = counting(10_000, 64 * 1024);
    await discard(res);
    expect(res.body.destroyed).toBe(true);
    expect(pulled()).toBeLessThan(10);
  });

  it("never throws, even when the body fails", async () => {
    const res = response([]);
    res.body = new Readable({
      read() {
        this.destroy(new Error("socket gone"));
      },
    });
    await expect(discard(res)).resolves.toBeUndefined();
    await expect(discard(res)).resolves.toBeUndefined();
  });
});

describe("headers", () => {
  const res = response([], { "content-type": "application/json", link: ["<a>; rel=next", "<b>; rel=prev"] });

  it("reads the first value, case-insensitively", () => {
    expect(headerValue(res, "Content-Type")).toBe("application/json");
    expect(headerValue(res, "link")).toBe("<a>; rel=next");
    expect(headerValue(res, "missing")).toBeUndefined();
  });

  it("reads every value of a repeated header", () => {
    expect(headerValues(res, "Link")).toEqual(["<a>; rel=next", "<b>; rel=prev"]);
    expect(headerValues(res, "content-type")).toEqual(["application/json"]);
    expect(headerValues(res, "missing")).toEqual([]);
  });
});
