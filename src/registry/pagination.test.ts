import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isRegkitError } from "../core/errors.js";
import { paged, parseNextLink } from "./pagination.js";
import { rechunk } from "./uploads.js";

describe("parseNextLink", () => {
  it.each([
    [['</v2/a/tags/list?n=2&last=b>; rel="next"'], "/v2/a/tags/list?n=2&last=b"],
    [["</v2/_catalog?last=x&n=100>; rel=next"], "/v2/_catalog?last=x&n=100"],
    [['<https://r.example/p?a=1,2>; rel="prev", <https://r.example/n>; rel="next"'], "https://r.example/n"],
    [['<https://r.example/a>; title="a, b"; rel="next"'], "https://r.example/a"],
    [['<https://r.example/a>; rel="prev next"'], "https://r.example/a"],
    [['<https://r.example/a>; rel="prev"'], undefined],
    [["garbage"], undefined],
    [[], undefined],
  ])("%j → %s", (values, expected) => {
    expect(parseNextLink(values)).toBe(expected);
  });

  it("never throws on arbitrary header values", () => {
    fc.assert(
      fc.property(fc.array(fc.string()), (values) => {
        const result = parseNextLink(values);
        expect(result === undefined || typeof result === "string").toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe("paged", () => {
  const pages: Record<string, { items: number[]; next?: string }> = {
    "http://r/1": { items: [1, 2], next: "http://r/2" },
    "http://r/2": { items: [3, 4], next: "http://r/3" },
    "http://r/3": { items: [5] },
  };
  const fetcher = (log: string[]) => async (url: URL) => {
    log.push(url.href);
    const page = pages[url.href]!;
    return { items: page.items, next: page.next ? new URL(page.next) : undefined };
  };

  it("follows pages in order and collects items", async () => {
    const log: string[] = [];
    expect(await paged(new URL("http://r/1"), fetcher(log), { what: "t" }).all()).toEqual([1, 2, 3, 4, 5]);
    expect(log).toEqual(["http://r/1", "http://r/2", "http://r/3"]);
  });

  it("stops fetching when the caller stops iterating", async () => {
    const log: string[] = [];
    for await (const item of paged(new URL("http://r/1"), fetcher(log), { what: "t" })) {
      if (item === 2) break;
    }
    expect(log).toEqual(["http://r/1"]);
  });

  it("refuses pagination loops and too many pages", async () => {
    const loop = paged(new URL("http://r/x"), async () => ({ items: [1], next: new URL("http://r/x") }), {
      what: "loop",
    });
    await expect(loop.all()).rejects.toThrow(/loops back/);
    let n = 0;
    const endless = paged(
      new URL("http://r/0"),
      async () => ({ items: [n], next: new URL(`http://r/${++n}`) }),
      {
        what: "endless",
        maxPages: 5,
      },
    );
    const error = await endless.all().catch((e: unknown) => e);
    expect(isRegkitError(error) && error.message).toMatch(/more than 5 pages/);
  });

  it("refuses the same page served again under a new URL, after one repeat", async () => {
    const log: string[] = [];
    let n = 0;
    const disguised = paged(
      new URL("http://r/0"),
      async (url) => {
        log.push(url.href);
        return { items: ["a", "b"], next: new URL(`http://r/0?loop=${++n}`) };
      },
      { what: "tags" },
    );
    await expect(disguised.all()).rejects.toThrow(/tags: pagination loops: page 2 repeats an earlier page/);
    expect(log).toHaveLength(2);
    // Empty pages carry nothing to repeat: only the page cap ends those.
    let m = 0;
    const empty = paged(
      new URL("http://r/0"),
      async () => ({ items: [], next: new URL(`http://r/${++m}`) }),
      {
        what: "empty",
        maxPages: 3,
      },
    );
    await expect(empty.all()).rejects.toThrow(/more than 3 pages/);
  });
});

describe("rechunk", () => {
  async function collect(parts: Buffer[], size: number): Promise<number[]> {
    const out: number[] = [];
    for await (const chunk of rechunk(
      (async function* () {
        yield* parts;
      })(),
      size,
    ))
      out.push(chunk.byteLength);
    return out;
  }

  it("re-slices arbitrary input into fixed-size chunks without losing bytes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 20 }),
        fc.integer({ min: 1, max: 128 }),
        async (sizes, size) => {
          const parts = sizes.map((s, i) => Buffer.alloc(s, i));
          const total = sizes.reduce((a, b) => a + b, 0);
          const lengths = await collect(parts, size);
          expect(lengths.reduce((a, b) => a + b, 0)).toBe(total);
          expect(lengths.slice(0, -1).every((l) => l === size)).toBe(true);
          if (lengths.length > 0) expect(lengths.at(-1)!).toBeLessThanOrEqual(size);
        },
      ),
      { numRuns: 200 },
    );
  });
});
