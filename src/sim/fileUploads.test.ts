import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { digestOf } from "../core/digest.js";
import { FileUploads } from "./fileUploads.js";

/** The upload sessions alone, without the blob store FileStorage puts around them. */
describe("FileUploads", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "regkit-fileuploads-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("hands the verified data file and its repository to the caller, then removes the session", async () => {
    const uploads = new FileUploads(dir);
    const session = await uploads.create("team/app", 60_000);
    await uploads.append(session.id, Buffer.from("hello "));
    await uploads.append(session.id, Buffer.from("world"));
    const kept: Array<{ bytes: string; repository: string }> = [];
    const result = await uploads.complete(session.id, digestOf("hello world"), async (file, repository) => {
      kept.push({ bytes: await readFile(file, "utf8"), repository });
    });
    expect(result).toEqual({ ok: true, size: 11 });
    expect(kept).toEqual([{ bytes: "hello world", repository: "team/app" }]);
    expect(await readdir(dir)).toEqual([]);
    expect(await uploads.get(session.id)).toBeUndefined();
  });

  it("never hands over bytes whose digest does not match", async () => {
    const uploads = new FileUploads(dir);
    const session = await uploads.create("team/app", 60_000);
    await uploads.append(session.id, Buffer.from("hello"));
    let called = false;
    const result = await uploads.complete(session.id, digestOf("other"), async () => {
      called = true;
    });
    expect(result).toEqual({ ok: false, actual: digestOf("hello") });
    expect(called).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });

  it("keeps ids that are not UUIDs away from the file system", async () => {
    const uploads = new FileUploads(join(dir, "uploads"));
    await uploads.append("../escape", Buffer.from("x"));
    expect(await uploads.get("../escape")).toBeUndefined();
    await uploads.delete("..");
    expect(await readdir(dir)).toEqual([]);
  });
});
