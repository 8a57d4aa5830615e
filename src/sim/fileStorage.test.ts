import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { digestHex, digestOf } from "../core/digest.js";
import { FileStorage } from "./fileStorage.js";

/** Uploads hash while receiving; completing trusts that hash only for bytes this process appended. */
describe("FileStorage uploads", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "regkit-filestorage-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const chunks = (count: number) => Array.from({ length: count }, () => randomBytes(1000 + count));

  it("stores a blob by renaming the upload, verified by the hash taken while receiving", async () => {
    const storage = new FileStorage(root);
    const parts = chunks(20);
    const whole = Buffer.concat(parts);
    const upload = await storage.createUpload("a/b", 60_000);
    for (const part of parts) await storage.appendUpload(upload.id, part);
    const digest = digestOf(whole);
    expect(await storage.completeUpload(upload.id, digest)).toEqual({ ok: true, size: whole.byteLength });
    expect(await readFile(join(root, "blobs", "sha256", digestHex(digest)))).toEqual(whole);
    expect(await readdir(join(root, "uploads"))).toEqual([]);
    expect(await storage.blobSize("a/b", digest)).toBe(whole.byteLength);
  });

  it("rejects a digest that does not match, naming the actual one", async () => {
    const storage = new FileStorage(root);
    const parts = chunks(5);
    const upload = await storage.createUpload("a/b", 60_000);
    for (const part of parts) await storage.appendUpload(upload.id, part);
    const wrong = digestOf("something else");
    expect(await storage.completeUpload(upload.id, wrong)).toEqual({
      ok: false,
      actual: digestOf(Buffer.concat(parts)),
    });
    expect(await storage.blobSize("a/b", wrong)).toBeUndefined();
  });

  it("keeps the order of appends that were not awaited one by one", async () => {
    const storage = new FileStorage(root);
    const parts = chunks(50);
    const upload = await storage.createUpload("a/b", 60_000);
    await Promise.all(parts.map((part) => storage.appendUpload(upload.id, part)));
    const digest = digestOf(Buffer.concat(parts));
    expect(await storage.completeUpload(upload.id, digest)).toMatchObject({ ok: true });
    expect(await readFile(join(root, "blobs", "sha256", digestHex(digest)))).toEqual(Buffer.concat(parts));
  });

  it("after a restart, hashes the upload from its file: both halves count", async () => {
    const parts = chunks(6);
    const before = new FileStorage(root);
    const upload = await before.createUpload("a/b", 60_000);
    for (const part of parts.slice(0, 3)) await before.appendUpload(upload.id, part);
    const after = new FileStorage(root);
    for (const part of parts.slice(3)) await after.appendUpload(upload.id, part);
    // The bytes the second process saw alone would give another digest: it must not be trusted.
    expect(await after.completeUpload(upload.id, digestOf(Buffer.concat(parts.slice(3))))).toMatchObject({
      ok: false,
    });
    const again = await after.createUpload("a/b", 60_000);
    for (const part of parts.slice(0, 3)) await before.appendUpload(again.id, part);
    for (const part of parts.slice(3)) await after.appendUpload(again.id, part);
    const digest = digestOf(Buffer.concat(parts));
    expect(await after.completeUpload(again.id, digest)).toMatchObject({ ok: true });
  });

  it("verifies a sha512 digest from the file", async () => {
    const storage = new FileStorage(root);
    const parts = chunks(3);
    const upload = await storage.createUpload("a/b", 60_000);
    for (const part of parts) await storage.appendUpload(upload.id, part);
    const digest = digestOf(Buffer.concat(parts), "sha512");
    expect(await storage.completeUpload(upload.id, digest)).toMatchObject({ ok: true });
  });

  it("expires uploads untouched for their TTL (appends keep them alive), half-created ones by the given TTL", async () => {
    const storage = new FileStorage(root);
    const idle = await storage.createUpload("a/b", 60_000);
    const busy = await storage.createUpload("a/b", 60_000);
    const old = new Date(Date.now() - 120_000);
    for (const id of [idle.id, busy.id])
      for (const file of ["data", "state.json"]) await utimes(join(root, "uploads", id, file), old, old);
    await storage.appendUpload(busy.id, Buffer.from("still sending"));
    const orphan = "0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f";
    await mkdir(join(root, "uploads", orphan));
    await utimes(join(root, "uploads", orphan), old, old);
    expect((await storage.expireUploads(60_000)).sort()).toEqual([idle.id, orphan].sort());
    expect((await readdir(join(root, "uploads"))).sort()).toEqual([busy.id]);
    expect(await storage.getUpload(idle.id)).toBeUndefined();
    expect((await storage.getUpload(busy.id))?.size).toBe(13);
  });

  it("honours a state file from before idle TTLs (fixed expiresAt) and treats an unreadable one as half-created", async () => {
    const storage = new FileStorage(root);
    const legacy = await storage.createUpload("a/b", 60_000);
    const stateFile = join(root, "uploads", legacy.id, "state.json");
    await writeFile(stateFile, JSON.stringify({ repository: "a/b", expiresAt: Date.now() + 60_000 }));
    expect((await storage.getUpload(legacy.id))?.repository).toBe("a/b");
    await writeFile(stateFile, JSON.stringify({ repository: "a/b", expiresAt: Date.now() - 1 }));
    expect(await storage.getUpload(legacy.id)).toBeUndefined();
    const broken = await storage.createUpload("a/b", 60_000);
    await writeFile(join(root, "uploads", broken.id, "state.json"), "{not json");
    expect(await storage.getUpload(broken.id)).toBeUndefined();
    expect(await storage.expireUploads(60_000)).toEqual([]);
    expect(await storage.expireUploads(-1)).toEqual([broken.id]);
  });
});
