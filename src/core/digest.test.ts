import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Digester, digestEquals, digestOf, isDigest, parseDigest, VerifyingStream } from "./digest.js";
import { DigestMismatchError, isRegkitError, SizeMismatchError } from "./errors.js";

const HELLO = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

describe("digests", () => {
  it("computes sha256 and sha512", () => {
    expect(digestOf("hello")).toBe(HELLO);
    expect(digestOf("hello", "sha512")).toMatch(/^sha512:[0-9a-f]{128}$/);
  });

  it.each([
    ["sha256:abc", /64 hex/],
    [`sha256:${"A".repeat(64)}`, /lowercase/],
    [`sha256:${"g".repeat(64)}`, /lowercase/],
    [`sha512:${"a".repeat(64)}`, /128 hex/],
    [`md5:${"a".repeat(32)}`, /unsupported algorithm/],
    ["nocolon", /algorithm:hex/],
    [":abc", /algorithm:hex/],
    [`sha256:${"a".repeat(300)}`, /too long/],
  ])("rejects %s", (input, message) => {
    expect(() => parseDigest(input)).toThrow(message);
    expect(isDigest(input)).toBe(false);
  });

  it("compares in constant time and exactly", () => {
    expect(digestEquals(HELLO, digestOf("hello"))).toBe(true);
    expect(digestEquals(HELLO, digestOf("hellO"))).toBe(false);
    expect(digestEquals(HELLO, "sha256:short")).toBe(false);
  });

  it("hashes incrementally", () => {
    const d = new Digester();
    d.update(Buffer.from("hel"));
    d.update(Buffer.from("lo"));
    expect(d.size).toBe(5);
    expect(d.digest()).toBe(HELLO);
  });

  it("round-trips any bytes", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 256 }),
        fc.constantFrom("sha256" as const, "sha512" as const),
        (bytes, alg) => {
          const d = digestOf(bytes, alg);
          expect(parseDigest(d)).toBe(d);
        },
      ),
    );
  });

  it("throws only RegkitErrors on arbitrary input", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (input) => {
        try {
          parseDigest(input);
        } catch (error) {
          expect(isRegkitError(error)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("VerifyingStream", () => {
  const data = Buffer.from("some blob content");
  const expected = { digest: digestOf(data), size: data.length };
  const run = (chunks: Buffer[], exp: { digest: ReturnType<typeof digestOf>; size?: number }) => {
    const out: Buffer[] = [];
    return pipeline(Readable.from(chunks), new VerifyingStream(exp), async (source) => {
      for await (const chunk of source) out.push(chunk as Buffer);
    }).then(() => Buffer.concat(out));
  };

  it("passes correct content through unchanged", async () => {
    expect((await run([data.subarray(0, 4), data.subarray(4)], expected)).equals(data)).toBe(true);
    expect((await run([data], { digest: expected.digest })).equals(data)).toBe(true);
  });

  it("fails as soon as more bytes than expected arrive", async () => {
    const seen: number[] = [];
    const verifier = new VerifyingStream(expected);
    const error = await pipeline(
      Readable.from([data, Buffer.alloc(10), Buffer.alloc(10)]),
      verifier,
      async (source) => {
        for await (const chunk of source) seen.push((chunk as Buffer).length);
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SizeMismatchError);
    // Bytes past the expected size never reach the consumer.
    expect(seen.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(data.length);
  });

  it("fails on too few bytes and on wrong bytes", async () => {
    await expect(run([data.subarray(1)], expected)).rejects.toBeInstanceOf(SizeMismatchError);
    const wrong = Buffer.from(data);
    wrong[0] = 0;
    const error = await run([wrong], expected).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect((error as DigestMismatchError).expected).toBe(expected.digest);
  });
});
