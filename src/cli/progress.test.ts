import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { Digest } from "../core/digest.js";
import { progressLine, progressReporter } from "./progress.js";

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

describe("progress modes", () => {
  const digest = `sha256:${"cd".repeat(32)}` as Digest;
  const other = `sha256:${"ef".repeat(32)}` as Digest;

  it("plain prints one line per blob, without escape codes, even on a pipe", () => {
    const t = io(false);
    const p = progressReporter(t.io, "plain");
    p.onProgress?.({ type: "blob", digest, size: 3_000_000, state: "started" });
    p.onProgress?.({ type: "bytes", digest, bytes: 3_000_000 });
    p.onProgress?.({ type: "blob", digest, size: 3_000_000, state: "done" });
    p.onProgress?.({ type: "blob", digest: other, size: 500_000, state: "skipped" });
    p.done();
    const lines = t.text().trimEnd().split("\n");
    expect(lines.slice(0, 2)).toEqual([`blob ${digest} copied 3.0 MB`, `blob ${other} exists 0.5 MB`]);
    expect(lines[2]).toMatch(/^2 blobs, 3\.0 MB copied in \d+\.\d s$/);
    expect(t.text()).not.toContain("\x1b");
  });

  it("bar draws even on a pipe; none prints nothing even on a terminal", () => {
    const bar = io(false);
    const p = progressReporter(bar.io, "bar");
    p.onProgress?.({ type: "blob", digest, size: 1_000_000, state: "started" });
    p.done();
    expect(bar.text()).toContain("blobs 0/1");
    const none = io(true);
    const q = progressReporter(none.io, "none");
    expect(q.onProgress).toBeUndefined();
    q.done();
    expect(none.text()).toBe("");
  });
});
