import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { Digest } from "../core/digest.js";
import { progressLine } from "./progress.js";

function io(tty: boolean) {
  const stderr = Object.assign(new PassThrough(), { isTTY: tty });
  let text = "";
  stderr.on("data", (d: Buffer) => {
    text += d.toString();
  });
  return { io: { stdout: new PassThrough(), stderr, stdin: new PassThrough() }, text: () => text };
}

describe("progress", () => {
  it("draws a bar per blob in flight and a total on a terminal", () => {
    const t = io(true);
    const p = progressLine(t.io);
    const digest = `sha256:${"ab".repeat(32)}` as Digest;
    p.onProgress?.({ type: "blob", digest, size: 2_000_000, state: "started" });
    p.onProgress?.({ type: "bytes", digest, bytes: 1_000_000 });
    p.done();
    expect(t.text()).toContain("blobs 0/1  1.0 MB");
    // The first frame shows the blob's bar; later frames are throttled to ten a second.
    expect(t.text()).toMatch(/abababababab {2}\[-{24}\] 0\.0\/2\.0 MB/);
  });

  it("prints nothing on a pipe", () => {
    const t = io(false);
    const p = progressLine(t.io);
    expect(p.onProgress).toBeUndefined();
    p.done();
    expect(t.text()).toBe("");
  });
});
