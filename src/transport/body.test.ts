import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { bodyLength, isReplayable, openBody } from "./body.js";

describe("request bodies", () => {
  it("knows which bodies can be sent twice", () => {
    expect(isReplayable(undefined)).toBe(true);
    expect(isReplayable("text")).toBe(true);
    expect(isReplayable(new Uint8Array([1, 2]))).toBe(true);
    expect(isReplayable(Buffer.from("x"))).toBe(true);
    expect(isReplayable(() => Readable.from(["x"]))).toBe(true);
    expect(isReplayable(Readable.from(["x"]))).toBe(false);
  });

  it("opens a factory afresh on every call and passes other bodies through", () => {
    let calls = 0;
    const factory = () => {
      calls++;
      return Readable.from([`attempt ${calls}`]);
    };
    const first = openBody(factory);
    const second = openBody(factory);
    expect(calls).toBe(2);
    expect(first).not.toBe(second);
    expect(first).toBeInstanceOf(Readable);
    const bytes = new Uint8Array([9]);
    expect(openBody(bytes)).toBe(bytes);
    expect(openBody("s")).toBe("s");
    const stream = Readable.from(["x"]);
    expect(openBody(stream)).toBe(stream);
    expect(openBody(undefined)).toBeUndefined();
  });

  it("measures bytes, not characters, and has no length for streams", () => {
    expect(bodyLength(undefined)).toBe(0);
    expect(bodyLength("abc")).toBe(3);
    expect(bodyLength("é€")).toBe(5);
    expect(bodyLength(new Uint8Array(7))).toBe(7);
    expect(bodyLength(Readable.from(["abc"]))).toBeUndefined();
    expect(bodyLength(() => Readable.from(["abc"]))).toBeUndefined();
  });
});
