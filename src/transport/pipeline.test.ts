import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { ConfigurationError } from "../core/errors.js";
import { Pipeline } from "./pipeline.js";
import type { Handler, HttpRequest, Middleware } from "./types.js";

const request: HttpRequest = { method: "GET", url: new URL("http://registry.test/v2/"), headers: {} };

function logging(name: string, log: string[], wraps?: Map<string, number>): Middleware {
  return {
    name,
    wrap: (next) => {
      wraps?.set(name, (wraps.get(name) ?? 0) + 1);
      return async (req) => {
        log.push(`${name}>`);
        const res = await next(req);
        log.push(`<${name}`);
        return res;
      };
    },
  };
}

function terminal(log: string[]): Handler {
  return async (req) => {
    log.push("terminal");
    return { status: 200, headers: {}, body: Readable.from([]), url: req.url, request: req };
  };
}

describe("Pipeline", () => {
  it("runs middlewares outermost first around the terminal", async () => {
    const log: string[] = [];
    await new Pipeline(terminal(log), [logging("A", log), logging("B", log)]).send(request);
    expect(log).toEqual(["A>", "B>", "terminal", "<B", "<A"]);
  });

  it("appends with use() as the innermost middleware", async () => {
    const log: string[] = [];
    const pipeline = new Pipeline(terminal(log), [logging("A", log)]).use(logging("B", log));
    await pipeline.send(request);
    expect(log).toEqual(["A>", "B>", "terminal", "<B", "<A"]);
    expect(pipeline.names()).toEqual(["A", "B"]);
  });

  it("inserts before and after a named middleware and removes by name", async () => {
    const log: string[] = [];
    const pipeline = new Pipeline(terminal(log), [logging("A", log), logging("B", log)]);
    pipeline.insertBefore("B", logging("auth", log)).insertAfter("B", logging("retry", log));
    expect(pipeline.names()).toEqual(["A", "auth", "B", "retry"]);
    pipeline.insertBefore("A", logging("first", log)).insertAfter("retry", logging("last", log));
    expect(pipeline.names()).toEqual(["first", "A", "auth", "B", "retry", "last"]);
    pipeline.remove("A").remove("last").remove("first");
    expect(pipeline.names()).toEqual(["auth", "B", "retry"]);
    await pipeline.send(request);
    expect(log).toEqual(["auth>", "B>", "retry>", "terminal", "<retry", "<B", "<auth"]);
  });

  it("rejects unknown names with a ConfigurationError", () => {
    const pipeline = new Pipeline(terminal([]), [logging("A", [])]);
    expect(() => pipeline.insertBefore("missing", logging("x", []))).toThrow(ConfigurationError);
    expect(() => pipeline.insertAfter("missing", logging("x", []))).toThrow(
      'no middleware named "missing" in the pipeline',
    );
    expect(pipeline.names()).toEqual(["A"]);
  });

  it("composes once per change of the list, not per request", async () => {
    const wraps = new Map<string, number>();
    const log: string[] = [];
    const pipeline = new Pipeline(terminal(log), [logging("A", log, wraps)]);
    await pipeline.send(request);
    await pipeline.send(request);
    await pipeline.send(request);
    expect(wraps.get("A")).toBe(1);
    pipeline.use(logging("B", log, wraps));
    await pipeline.send(request);
    await pipeline.send(request);
    expect(wraps.get("A")).toBe(2);
    expect(wraps.get("B")).toBe(1);
  });

  it("clones independently of the original", async () => {
    const log: string[] = [];
    const original = new Pipeline(terminal(log), [logging("A", log)]);
    const copy = original.clone().use(logging("record", log));
    original.remove("A");
    expect(original.names()).toEqual([]);
    expect(copy.names()).toEqual(["A", "record"]);
    await copy.send(request);
    expect(log).toEqual(["A>", "record>", "terminal", "<record", "<A"]);
  });

  it("turns a synchronous throw in a middleware into a rejection", async () => {
    const failing: Middleware = {
      name: "broken",
      wrap: () => () => {
        throw new ConfigurationError("broken middleware");
      },
    };
    const pipeline = new Pipeline(terminal([]), [failing]);
    const sent = pipeline.send(request);
    expect(sent).toBeInstanceOf(Promise);
    await expect(sent).rejects.toThrow("broken middleware");
  });

  it("passes requests down and responses up unchanged unless a middleware acts", async () => {
    const stamp: Middleware = {
      name: "stamp",
      wrap: (next) => (req) => next({ ...req, headers: { ...req.headers, "x-stamp": "1" } }),
    };
    let seen: HttpRequest | undefined;
    const pipeline = new Pipeline(
      async (req) => {
        seen = req;
        return { status: 204, headers: {}, body: Readable.from([]), url: req.url, request: req };
      },
      [stamp],
    );
    const res = await pipeline.send(request);
    expect(res.status).toBe(204);
    expect(seen?.headers).toEqual({ "x-stamp": "1" });
    expect(request.headers).toEqual({});
  });
});
