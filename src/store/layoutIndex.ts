import { z } from "zod";
import { Digester, digestAlgorithm, digestEquals, parseDigest } from "../core/digest.js";
import { DigestMismatchError, NotFoundError, UsageError } from "../core/errors.js";
import { type Descriptor, descriptorSchema } from "../core/manifest.js";
import { MediaType } from "../core/mediaTypes.js";

/**
 * The `index.json` of an OCI image layout, shared by the layout directory and
 * the OCI archive (a tar of a layout): tags are `org.opencontainers.image.ref.name`
 * annotations; an untagged entry is a copied root or, when its manifest has a
 * `subject`, a referrer (as oras lists them).
 */
export const REF_NAME = "org.opencontainers.image.ref.name";
export const layoutIndexSchema = z.looseObject({
  schemaVersion: z.literal(2),
  manifests: z.array(descriptorSchema),
});
export type LayoutIndex = z.infer<typeof layoutIndexSchema>;

/** Reads a manifest's bytes, or undefined when it is not there. */
export type ManifestBytes = (descriptor: Descriptor) => Promise<Buffer | undefined>;

/** The digest a manifest's `subject` names, if it has one. */
export function subjectOf(bytes: Buffer | undefined): string | undefined {
  if (!bytes || bytes.byteLength > 4 << 20) return undefined;
  try {
    const subject = (JSON.parse(bytes.toString("utf8")) as { subject?: { digest?: unknown } }).subject;
    return typeof subject?.digest === "string" ? subject.digest : undefined;
  } catch {
    return undefined;
  }
}

/** The entry a tag names; a missing tag lists the tags there are. */
export function taggedEntry(index: LayoutIndex, tag: string, name: string): Descriptor {
  const tagged = index.manifests.find((d) => d.annotations?.[REF_NAME] === tag);
  if (tagged) return tagged;
  const names = index.manifests.map((d) => d.annotations?.[REF_NAME]).filter(Boolean);
  throw new NotFoundError(
    `${name}: no image tagged ${JSON.stringify(tag)} (tags: ${names.join(", ") || "none; name the image by digest"})`,
  );
}

/** Neither tag nor digest named: the layout's one image (referrers listed beside it do not count). */
export async function onlyImage(
  index: LayoutIndex,
  name: string,
  read: ManifestBytes,
): Promise<Descriptor | undefined> {
  if (index.manifests.length <= 1) return index.manifests[0];
  const images: Descriptor[] = [];
  for (const entry of index.manifests) if (!subjectOf(await read(entry))) images.push(entry);
  if (images.length === 1) return images[0]!;
  const names = images.map((d) => d.annotations?.[REF_NAME] ?? `@${d.digest}`);
  throw new UsageError(
    `${name} holds ${images.length} images: name one as ${name}:TAG or ${name}@DIGEST (${names.join(", ")})`,
  );
}

/** The untagged entries whose manifest refers to `subject`. */
export async function referrersIn(
  index: LayoutIndex,
  subject: string,
  read: ManifestBytes,
): Promise<Descriptor[]> {
  const found: Descriptor[] = [];
  for (const entry of index.manifests) {
    if (entry.annotations?.[REF_NAME] !== undefined) continue;
    if (subjectOf(await read(entry)) === subject) found.push(entry);
  }
  return found;
}

/** The index entry for a manifest listed without a tag: a referrer carries its artifact type. */
export function untaggedEntry(descriptor: Descriptor, bytes?: Buffer): Descriptor {
  let artifactType: string | undefined;
  if (bytes) {
    try {
      const parsed = JSON.parse(bytes.toString("utf8")) as {
        artifactType?: unknown;
        config?: { mediaType?: unknown };
      };
      const type = parsed.artifactType ?? parsed.config?.mediaType;
      if (typeof type === "string") artifactType = type;
    } catch {
      // Not JSON: listed without an artifact type.
    }
  }
  return {
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
    ...(artifactType ? { artifactType } : {}),
  };
}

/** `manifests` with `tag` pointing at `descriptor` (moved from any other manifest). */
export function withTag(manifests: Descriptor[], descriptor: Descriptor, tag: string): Descriptor[] {
  return [
    ...manifests.filter((d) => d.annotations?.[REF_NAME] !== tag),
    { ...descriptor, annotations: { ...descriptor.annotations, [REF_NAME]: tag } },
  ];
}

/** `manifests` with an untagged entry for `descriptor` unless one lists it already. */
export function withUntagged(manifests: Descriptor[], descriptor: Descriptor, bytes?: Buffer): Descriptor[] {
  return manifests.some((d) => d.digest === descriptor.digest)
    ? manifests
    : [...manifests, untaggedEntry(descriptor, bytes)];
}

/**
 * A tag, a digest (listed or only stored as a blob), or "" for the one image
 * of a layout; `empty` explains a layout that lists nothing.
 */
export async function resolveInLayout(
  index: LayoutIndex,
  reference: string,
  name: string,
  read: ManifestBytes,
  empty: () => Promise<Error>,
): Promise<Descriptor> {
  if (/^[a-z0-9]+:/.test(reference)) {
    const digest = parseDigest(reference);
    const listed = index.manifests.find((d) => d.digest === digest);
    if (listed) return listed;
    const bytes = await read({ mediaType: "", digest, size: 0 });
    if (!bytes) throw new NotFoundError(`${name}: no manifest ${digest}`);
    let mediaType: unknown;
    try {
      mediaType = (JSON.parse(bytes.toString("utf8")) as { mediaType?: unknown }).mediaType;
    } catch {
      throw new NotFoundError(`${name}: ${digest} is a blob, not a manifest`);
    }
    return {
      mediaType: typeof mediaType === "string" ? mediaType : MediaType.OciManifest,
      digest,
      size: bytes.byteLength,
    };
  }
  if (index.manifests.length === 0) throw await empty();
  if (reference === "") return (await onlyImage(index, name, read))!;
  return taggedEntry(index, reference, name);
}

/** Manifest bytes read from a layout, checked against the digest that named them. */
export function verifiedManifest(descriptor: Descriptor, bytes: Buffer | undefined, name: string): Buffer {
  if (!bytes) throw new NotFoundError(`${name}: missing blob ${descriptor.digest}`);
  const digester = new Digester(digestAlgorithm(descriptor.digest));
  digester.update(bytes);
  const actual = digester.digest();
  if (!digestEquals(actual, descriptor.digest))
    throw new DigestMismatchError(descriptor.digest, actual, "manifest");
  return bytes;
}
