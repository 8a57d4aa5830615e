import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Digest,
  Digester,
  digestAlgorithm,
  digestEquals,
  digestHex,
  digestOf,
  isDigest,
  isDigestAlgorithm,
  parseDigest,
  VerifyingStream,
} from "./digest.js";
import { DigestMismatchError, InvalidDigestError, isRegkitError, SizeMismatchError } from "./errors.js";

const HELLO = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
const HELLO_512 =
  "sha512:9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043";
const EMPTY = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

describe("digests", () => {
  it("computes sha256 and sha512 of known content", () => {
    expect(digestOf("hello")).toBe(HELLO);
    expect(digestOf(Buffer.from("hello"))).toBe(HELLO);
    expect(digestOf("hello", "sha512")).toBe(HELLO_512);
    expect(digestOf(new Uint8Array())).toBe(EMPTY);
  });

  it.each([HELLO, HELLO_512, EMPTY])("accepts %s", (input) => {
    expect(parseDigest(input)).toBe(input);
    expect(isDigest(input)).toBe(true);
  });

  it.each([
    ["sha256:abc", /sha256 needs 64 hex/],
    [`sha256:${"a".repeat(63)}`, /64 hex/],
    [`sha256:${"a".repeat(65)}`, /64 hex/],
    [`sha256:${"A".repeat(64)}`, /lowercase/],
    [HELLO.toUpperCase().replace("SHA256", "sha256"), /lowercase/],
    [`sha256:${"g".repeat(64)}`, /lowercase/],
    [`sha512:${"a".repeat(64)}`, /sha512 needs 128 hex/],
    [`SHA256:${"a".repeat(64)}`, /unsupported algorithm/],
    [`md5:${"a".repeat(32)}`, /unsupported algorithm "md5"/],
    [`sha384:${"a".repeat(96)}`, /unsupported algorithm/],
    [`blake3:${"a".repeat(64)}`, /unsupported algorithm/],
    ["nocolon", /algorithm:hex/],
    [":abc", /algorithm:hex/],
    ["", /algorithm:hex/],
    [` ${HELLO}`, /unsupported algorithm/],
    [`${HELLO}\n`, /64 hex/],
    [`sha256:${"a".repeat(300)}`, /too long/],
  ])("rejects %j", (input, message) => {
    expect(() => parseDigest(input)).toThrow(InvalidDigestError);
    expect(() => parseDigest(input)).toThrow(message);
    expect(isDigest(input)).toBe(false);
  });

  it("rejects non-strings with a typed error", () => {
    expect(() => parseDigest(undefined as unknown as string)).toThrow(InvalidDigestError);
    expect(() => parseDigest(42 as unknown as string)).toThrow('invalid digest "42": not a string');
  });

  it("reads inputs up to 256 characters, and names at most 32 of an unknown algorithm", () => {
    const longest = `${"x".repeat(256 - 65)}:${"a".repeat(64)}`;
    expect(longest).toHaveLength(256);
    expect(() => parseDigest(longest)).toThrow(/unsupported algorithm/);
    expect(() => parseDigest(`${longest}a`)).toThrow(/too long/);
    expect(() => parseDigest(`${"y".repeat(40)}:${"a".repeat(64)}`)).toThrow(
      `unsupported algorithm ${JSON.stringify("y".repeat(32))}`,
    );
  });

  it("splits algorithm and hex", () => {
    const digest = parseDigest(HELLO_512);
    expect(digestAlgorithm(digest)).toBe("sha512");
    expect(digestHex(digest)).toBe(HELLO_512.slice("sha512:".length));
    expect(isDigestAlgorithm("sha256")).toBe(true);
    expect(isDigestAlgorithm("md5")).toBe(false);
  });

  it("compares exactly", () => {
    expect(digestEquals(HELLO, digestOf("hello"))).toBe(true);
    expect(digestEquals(HELLO, digestOf("hellO"))).toBe(false);
    expect(digestEquals(HELLO, "sha256:short")).toBe(false);
    expect(digestEquals("", "")).toBe(true);
  });

  it("hashes incrementally", () => {
    const d = new Digester();
    d.update(Buffer.from("hel"));
    d.update(new Uint8Array(Buffer.from("lo")));
    expect(d.size).toBe(5);
    expect(d.algorithm).toBe("sha256");
    expect(d.digest()).toBe(HELLO);
    const big = new Digester("sha512");
    big.update(Buffer.from("hello"));
    expect(big.digest()).toBe(HELLO_512);
  });
});

describe("digest properties", () => {
  const algorithm = fc.constantFrom("sha256" as const, "sha512" as const);

  it("parseDigest(digestOf(bytes)) round-trips", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), algorithm, (bytes, alg) => {
        const d = digestOf(bytes, alg);
        expect(parseDigest(d)).toBe(d);
        expect(digestAlgorithm(d)).toBe(alg);
      }),
      { numRuns: 300 },
    );
  });

  it("incremental hashing equals one-shot hashing for any split", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), algorithm, (chunks, alg) => {
        const d = new Digester(alg);
        for (const chunk of chunks) d.update(chunk);
        const all = Buffer.concat(chunks);
        expect(d.digest()).toBe(digestOf(all, alg));
        expect(d.size).toBe(all.length);
      }),
      { numRuns: 300 },
    );
  });

  it("throws only RegkitErrors on arbitrary input", () => {
    const digestish = fc.string({ unit: fc.constantFrom(..."sha256:0123456789abcdefABCDEF \n".split("")) });
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: "binary" }), digestish),
        (input) => {
          try {
            expect(parseDigest(input)).toBe(input);
          } catch (error) {
            expect(isRegkitError(error)).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("VerifyingStream", () => {
  const data = Buffer.from("some blob content");
  const expected = { digest: digestOf(data), size: data.length };
  const run = async (chunks: Buffer[], exp: { digest: Digest; size?: number }): Promise<Buffer> => {
    const out: Buffer[] = [];
    await pipeline(Readable.from(chunks), new VerifyingStream(exp), async (source) => {
      for await (const chunk of source) out.push(chunk as Buffer);
    });
    return Buffer.concat(out);
  };

  it("passes correct content through unchanged and counts it", async () => {
    expect((await run([data.subarray(0, 4), data.subarray(4)], expected)).equals(data)).toBe(true);
    expect((await run([data], { digest: expected.digest })).equals(data)).toBe(true);
    const verifier = new VerifyingStream(expected);
    await pipeline(Readable.from([data]), verifier, async (source) => {
      for await (const _ of source);
    });
    expect(verifier.bytes).toBe(data.length);
  });

  it("verifies sha512 digests and empty content", async () => {
    expect((await run([data], { digest: digestOf(data, "sha512"), size: data.length })).equals(data)).toBe(
      true,
    );
    expect((await run([], { digest: EMPTY as Digest, size: 0 })).length).toBe(0);
  });

  it("fails as soon as more bytes than expected arrive", async () => {
    const seen: number[] = [];
    let pulled = 0;
    async function* source() {
      yield data;
      pulled++;
      yield Buffer.alloc(10);
      pulled++;
      for (let i = 0; i < 1000; i++) {
        pulled++;
        yield Buffer.alloc(1024);
      }
    }
    const error = await pipeline(
      Readable.from(source()),
      new VerifyingStream(expected, "layer"),
      async (s) => {
        for await (const chunk of s) seen.push((chunk as Buffer).length);
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SizeMismatchError);
    expect((error as SizeMismatchError).expected).toBe(data.length);
    expect((error as SizeMismatchError).actual).toBe(data.length + 10);
    expect((error as Error).message).toBe(
      `layer size mismatch: expected ${data.length} bytes, got ${data.length + 10}`,
    );
    // Bytes past the expected size never reach the consumer, and the source is not drained.
    expect(seen.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(data.length);
    expect(pulled).toBeLessThan(100);
  });

  it("fails on too few bytes", async () => {
    const error = await run([data.subarray(1)], expected).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SizeMismatchError);
    expect((error as SizeMismatchError).actual).toBe(data.length - 1);
    // Unnamed, the content is a blob.
    expect((error as Error).message).toBe(
      `blob size mismatch: expected ${data.length} bytes, got ${data.length - 1}`,
    );
  });

  it("fails on wrong bytes of the right size", async () => {
    const wrong = Buffer.from(data);
    wrong[0] = 0;
    const error = await run([wrong], expected).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect((error as DigestMismatchError).expected).toBe(expected.digest);
    expect((error as DigestMismatchError).actual).toBe(digestOf(wrong));
  });

  it("fails on wrong bytes when no size is known", async () => {
    const error = await run([Buffer.from("other")], { digest: expected.digest }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DigestMismatchError);
  });

  it("verifies any content split into any chunks", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 32 }), { maxLength: 6 }), async (chunks) => {
        const buffers = chunks.map((c) => Buffer.from(c));
        const all = Buffer.concat(buffers);
        const out = await run(buffers, { digest: digestOf(all), size: all.length });
        expect(out.equals(all)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
