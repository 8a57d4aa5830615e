/**
 * The OCI layout's index.json rules shared by the layout directory and the
 * OCI archive: tags as ref.name annotations, the one image of a layout,
 * referrers listed untagged, digests that name stored manifests or blobs.
 */
import { describe, expect, it } from "vitest";
import { type Digest, digestOf } from "../core/digest.js";
import { DigestMismatchError, NotFoundError, UsageError } from "../core/errors.js";
import type { Descriptor } from "../core/manifest.js";
import { MediaType } from "../core/mediaTypes.js";
import {
  type LayoutIndex,
  onlyImage,
  REF_NAME,
  referrersIn,
  resolveInLayout,
  subjectOf,
  taggedEntry,
  untaggedEntry,
  verifiedManifest,
  withTag,
  withUntagged,
} from "./layoutIndex.js";

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const image = json({ schemaVersion: 2, mediaType: MediaType.OciManifest, layers: [] });
const IMAGE = digestOf(image);
const referrer = json({
  schemaVersion: 2,
  mediaType: MediaType.OciManifest,
  artifactType: "application/vnd.example.sbom",
  subject: { digest: IMAGE },
});
const REFERRER = digestOf(referrer);
const other = json({ schemaVersion: 2, mediaType: MediaType.OciManifest, layers: [], other: true });
const OTHER = digestOf(other);
const blobs = new Map<string, Buffer>([
  [IMAGE, image],
  [REFERRER, referrer],
  [OTHER, other],
  [digestOf(Buffer.from("layer bytes")), Buffer.from("layer bytes")],
]);
const read = async (d: Descriptor) => blobs.get(d.digest);
const entry = (digest: Digest, tag?: string): Descriptor => ({
  mediaType: MediaType.OciManifest,
  digest,
  size: blobs.get(digest)?.byteLength ?? 0,
  ...(tag ? { annotations: { [REF_NAME]: tag } } : {}),
});
const index = (...manifests: Descriptor[]): LayoutIndex => ({ schemaVersion: 2, manifests });
const empty = async () => new NotFoundError("layout is empty");

describe("layout index", () => {
  it("reads a manifest's subject, and nothing from other bytes", () => {
    expect(subjectOf(referrer)).toBe(IMAGE);
    expect(subjectOf(image)).toBeUndefined();
    expect(subjectOf(undefined)).toBeUndefined();
    expect(subjectOf(Buffer.from("not json"))).toBeUndefined();
    expect(subjectOf(json({ subject: { digest: 42 } }))).toBeUndefined();
    expect(subjectOf(Buffer.alloc((4 << 20) + 1, 0x20))).toBeUndefined();
  });

  it("finds a tag, and a missing tag lists the tags there are", () => {
    const layout = index(entry(IMAGE, "v1"), entry(OTHER, "v2"), entry(REFERRER));
    expect(taggedEntry(layout, "v2", "dir").digest).toBe(OTHER);
    expect(() => taggedEntry(layout, "v3", "dir")).toThrow('dir: no image tagged "v3" (tags: v1, v2)');
    expect(() => taggedEntry(index(entry(IMAGE)), "v1", "dir")).toThrow(
      'dir: no image tagged "v1" (tags: none; name the image by digest)',
    );
  });

  it("the one image of a layout does not count referrers; two images need a name", async () => {
    expect(await onlyImage(index(), "dir", read)).toBeUndefined();
    expect((await onlyImage(index(entry(OTHER)), "dir", read))?.digest).toBe(OTHER);
    expect((await onlyImage(index(entry(IMAGE), entry(REFERRER)), "dir", read))?.digest).toBe(IMAGE);
    const two = onlyImage(index(entry(IMAGE, "v1"), entry(OTHER)), "dir", read);
    await expect(two).rejects.toThrow(UsageError);
    await expect(onlyImage(index(entry(IMAGE, "v1"), entry(OTHER)), "dir", read)).rejects.toThrow(
      `dir holds 2 images: name one as dir:TAG or dir@DIGEST (v1, @${OTHER})`,
    );
  });

  it("lists the untagged referrers of a subject", async () => {
    const layout = index(entry(IMAGE, "v1"), entry(REFERRER), { ...entry(REFERRER, "sbom") }, entry(OTHER));
    expect((await referrersIn(layout, IMAGE, read)).map((d) => d.digest)).toEqual([REFERRER]);
    expect(await referrersIn(layout, OTHER, read)).toEqual([]);
  });

  it("an untagged entry carries the artifact type, or the config's media type", () => {
    const d = entry(REFERRER);
    expect(untaggedEntry(d, referrer)).toEqual({ ...d, artifactType: "application/vnd.example.sbom" });
    const configTyped = json({ config: { mediaType: "application/vnd.example.config" } });
    expect(untaggedEntry(d, configTyped).artifactType).toBe("application/vnd.example.config");
    expect(untaggedEntry(d, Buffer.from("{"))).toEqual(d);
    expect(untaggedEntry(d, json({ artifactType: 7 }))).toEqual(d);
    expect(untaggedEntry({ ...d, annotations: { a: "b" } })).toEqual(d);
  });

  it("moves a tag, and lists an untagged manifest once", () => {
    const moved = withTag([entry(IMAGE, "v1"), entry(OTHER, "v2")], entry(OTHER), "v1");
    expect(moved.map((d) => [d.digest, d.annotations?.[REF_NAME]])).toEqual([
      [OTHER, "v2"],
      [OTHER, "v1"],
    ]);
    const listed = [entry(IMAGE, "v1")];
    expect(withUntagged(listed, entry(IMAGE))).toBe(listed);
    expect(withUntagged(listed, entry(REFERRER), referrer).map((d) => d.digest)).toEqual([IMAGE, REFERRER]);
  });

  it("resolves tags, listed and stored digests, and the one image", async () => {
    const layout = index(entry(IMAGE, "v1"));
    expect((await resolveInLayout(layout, "v1", "dir", read, empty)).digest).toBe(IMAGE);
    expect((await resolveInLayout(layout, IMAGE, "dir", read, empty)).digest).toBe(IMAGE);
    expect((await resolveInLayout(layout, "", "dir", read, empty)).digest).toBe(IMAGE);
    // A digest stored but not listed is read for its media type and size.
    expect(await resolveInLayout(layout, OTHER, "dir", read, empty)).toEqual({
      mediaType: MediaType.OciManifest,
      digest: OTHER,
      size: other.byteLength,
    });
    const untyped = json({ schemaVersion: 2 });
    blobs.set(digestOf(untyped), untyped);
    expect((await resolveInLayout(layout, digestOf(untyped), "dir", read, empty)).mediaType).toBe(
      MediaType.OciManifest,
    );
    const layer = digestOf(Buffer.from("layer bytes"));
    await expect(resolveInLayout(layout, layer, "dir", read, empty)).rejects.toThrow(
      `dir: ${layer} is a blob, not a manifest`,
    );
    const absent = digestOf(Buffer.from("absent"));
    await expect(resolveInLayout(layout, absent, "dir", read, empty)).rejects.toThrow(
      new NotFoundError(`dir: no manifest ${absent}`),
    );
    await expect(resolveInLayout(index(), "v1", "dir", read, empty)).rejects.toThrow("layout is empty");
  });

  it("checks manifest bytes against the digest that named them", () => {
    expect(verifiedManifest(entry(IMAGE), image, "dir")).toBe(image);
    expect(() => verifiedManifest(entry(IMAGE), undefined, "dir")).toThrow(`dir: missing blob ${IMAGE}`);
    expect(() => verifiedManifest(entry(IMAGE), other, "dir")).toThrow(DigestMismatchError);
  });
});
