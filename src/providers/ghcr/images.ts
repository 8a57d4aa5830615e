import type { Digest } from "../../core/digest.js";
import { DigestMismatchError, InvalidInputError } from "../../core/errors.js";
import type { Descriptor } from "../../core/manifest.js";
import { formatPlatform } from "../../core/platform.js";
import { isValidTag } from "../../core/reference.js";
import type { Repository } from "../../registry/repository.js";

/**
 * Image-level helpers on the generic OCI client that GHCR users ask for:
 * tags by pattern, atomic retag, image size, signing artifacts.
 */

/**
 * A tag pattern: `/regex/` (JavaScript syntax, anchored by the writer), or a
 * glob where `*` is any run of characters and `?` one character, matched
 * against the whole tag.
 */
export function tagMatcher(pattern: string): (tag: string) => boolean {
  if (pattern.length >= 2 && pattern.startsWith("/") && pattern.endsWith("/")) {
    let regex: RegExp;
    try {
      regex = new RegExp(pattern.slice(1, -1));
    } catch (error) {
      throw new InvalidInputError(`invalid tag regex ${pattern}: ${(error as Error).message}`);
    }
    return (tag) => regex.test(tag);
  }
  if (!/^[\w.*?-]+$/.test(pattern))
    throw new InvalidInputError(
      `invalid tag pattern ${JSON.stringify(pattern.slice(0, 140))} (a glob of tag characters with * and ?, or /regex/)`,
    );
  const source = pattern
    .replace(/[.+^${}()|[\]\\-]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  const glob = new RegExp(`^${source}$`);
  return (tag) => glob.test(tag);
}

/** Tags of a repository that match a pattern (every tag without one), every page. */
export async function* matchingTags(repository: Repository, pattern?: string): AsyncIterable<string> {
  const match = pattern === undefined ? () => true : tagMatcher(pattern);
  for await (const tag of repository.tags()) if (match(tag)) yield tag;
}

/**
 * Puts the manifest `from` names under `tag` too: the exact bytes and media
 * type, so the digest is unchanged, and the registry's answer must confirm
 * that digest. One manifest PUT: the new tag never points at anything else.
 */
export async function retag(
  repository: Repository,
  from: string,
  tag: string,
  options: { expectDigest?: Digest } = {},
): Promise<{ digest: Digest; tag: string }> {
  if (!isValidTag(tag)) throw new InvalidInputError(`invalid tag ${JSON.stringify(tag.slice(0, 140))}`);
  const { descriptor, bytes } = await repository.manifests.fetch(from);
  const digest = descriptor.digest as Digest;
  if (options.expectDigest && options.expectDigest !== digest)
    throw new DigestMismatchError(options.expectDigest, digest, `manifest ${from}`);
  const pushed = await repository.manifests.put(tag, bytes, descriptor.mediaType);
  if (pushed.descriptor.digest !== digest)
    throw new DigestMismatchError(digest, pushed.descriptor.digest, "retag");
  return { digest, tag };
}

/** How big an image is, from its manifests: per platform and in all. */
export interface ImageSize {
  digest: Digest;
  mediaType: string;
  /** Config + layers (+ the manifest) of an image; per platform for an index. */
  platforms: Array<{
    platform: string;
    digest: Digest;
    manifest: number;
    config: number;
    layers: number;
    total: number;
  }>;
  /** Every platform's total plus the index itself; blobs shared between platforms counted once. */
  total: number;
}

/** Sizes from the manifests alone (descriptor sizes): no blob is downloaded. */
export async function imageSize(repository: Repository, reference: string): Promise<ImageSize> {
  const top = await repository.manifests.get(reference);
  const seen = new Map<string, number>();
  const count = (d: Descriptor) => seen.set(d.digest, d.size);
  const platforms: ImageSize["platforms"] = [];
  const images =
    top.kind === "index"
      ? top.manifest.manifests
          .filter((d) => d.platform && d.platform.os !== "unknown")
          .map((d) => ({ descriptor: d, platform: formatPlatform(d.platform!) }))
      : [{ descriptor: undefined, platform: "-" }];
  for (const { descriptor, platform } of images) {
    const image = descriptor ? await repository.manifests.get(descriptor.digest) : top;
    if (image.kind !== "image") continue;
    const layers = image.manifest.layers.reduce((sum, l) => sum + l.size, 0);
    const config = image.manifest.config.size;
    const manifest = image.bytes.byteLength;
    count(image.manifest.config);
    for (const layer of image.manifest.layers) count(layer);
    seen.set(image.digest, manifest);
    platforms.push({
      platform,
      digest: image.digest,
      manifest,
      config,
      layers,
      total: manifest + config + layers,
    });
  }
  if (top.kind === "index") seen.set(top.digest, top.bytes.byteLength);
  const total = [...seen.values()].reduce((a, b) => a + b, 0);
  return { digest: top.digest, mediaType: top.mediaType, platforms, total };
}

/** cosign's tag schema: `sha256-<hex>.sig`, `.att`, `.sbom` beside the image they belong to. */
export const COSIGN_SUFFIXES = { sig: "signature", att: "attestation", sbom: "sbom" } as const;

/** cosign's tag for a subject's signature, attestation or SBOM (`sha256-<hex>.sig`). */
export function cosignTag(subject: Digest, suffix: keyof typeof COSIGN_SUFFIXES): string {
  return `${subject.replace(":", "-")}.${suffix}`;
}

/** The subject digest a cosign or referrers-fallback tag belongs to, and which kind it is. */
export function signingTagSubject(tag: string): { subject: Digest; kind: string } | undefined {
  const match = /^(sha256|sha512)-([0-9a-f]{64}|[0-9a-f]{128})(?:\.(sig|att|sbom))?$/.exec(tag);
  if (!match) return undefined;
  const kind = match[3] ? COSIGN_SUFFIXES[match[3] as keyof typeof COSIGN_SUFFIXES] : "referrers-index";
  return { subject: `${match[1]}:${match[2]}` as Digest, kind };
}

/** A signature, SBOM or attestation found for an image. */
export interface SigningArtifact {
  digest: Digest;
  kind: string;
  /** `referrers` (OCI 1.1 API or its tag-schema index) or `tag` (cosign's `.sig`/`.att`/`.sbom`). */
  via: "referrers" | "tag";
  artifactType?: string;
  tag?: string;
}

function kindOf(artifactType: string | undefined): string {
  if (!artifactType) return "artifact";
  if (/sig|signature/i.test(artifactType)) return "signature";
  if (/spdx|cyclonedx|sbom/i.test(artifactType)) return "sbom";
  if (/in-toto|dsse|attestation|sarif|vex|vuln/i.test(artifactType)) return "attestation";
  return "artifact";
}

/**
 * Signatures, SBOMs and attestations of an image: its referrers (API, or the
 * tag-schema fallback) and cosign's `sha256-<hex>.sig|.att|.sbom` tags.
 */
export async function signingArtifacts(repository: Repository, subject: Digest): Promise<SigningArtifact[]> {
  const found: SigningArtifact[] = [];
  const { referrers } = await repository.referrers.list(subject);
  for (const r of referrers)
    found.push({
      digest: r.digest as Digest,
      kind: kindOf(r.artifactType),
      via: "referrers",
      ...(r.artifactType ? { artifactType: r.artifactType } : {}),
    });
  const wanted = new Map(
    (Object.keys(COSIGN_SUFFIXES) as Array<keyof typeof COSIGN_SUFFIXES>).map((s) => [
      cosignTag(subject, s),
      s,
    ]),
  );
  for await (const tag of repository.tags()) {
    const suffix = wanted.get(tag);
    if (!suffix) continue;
    const head = await repository.manifests.head(tag);
    found.push({ digest: head.digest as Digest, kind: COSIGN_SUFFIXES[suffix], via: "tag", tag });
  }
  return found;
}
