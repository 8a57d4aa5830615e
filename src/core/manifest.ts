import { z } from "zod";
import { type Digest, digestOf, isDigest } from "./digest.js";
import { ManifestInvalidError, SizeLimitError, UnsupportedError } from "./errors.js";
import { MAX_MANIFEST_BYTES } from "./limits.js";
import { baseMediaType, isIndexMediaType, isManifestMediaType, MediaType } from "./mediaTypes.js";

export { MAX_MANIFEST_BYTES };

const digestSchema = z
  .string()
  .refine(isDigest, "not a valid sha256/sha512 digest") as unknown as z.ZodType<Digest>;
const annotations = z.record(z.string(), z.string());

export const platformSchema = z.object({
  architecture: z.string().min(1).max(64),
  os: z.string().min(1).max(64),
  "os.version": z.string().max(256).optional(),
  "os.features": z.array(z.string().max(256)).max(64).optional(),
  variant: z.string().max(64).optional(),
  features: z.array(z.string().max(256)).max(64).optional(),
});
/** A platform as manifests write it (`os`, `architecture`, `variant`, `os.version`, `os.features`). */
export type PlatformSpec = z.infer<typeof platformSchema>;

export const descriptorSchema = z.object({
  mediaType: z.string().min(1).max(255),
  digest: digestSchema,
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  urls: z.array(z.string()).optional(),
  annotations: annotations.optional(),
  data: z.string().optional(),
  platform: platformSchema.optional(),
  artifactType: z.string().max(255).optional(),
});
/** What addresses content: media type, digest and size (plus optional platform, annotations, artifact type). */
export type Descriptor = z.infer<typeof descriptorSchema>;

export const imageManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().max(255).optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema).max(10_000),
  subject: descriptorSchema.optional(),
  annotations: annotations.optional(),
});
/** An OCI image manifest or Docker schema 2 manifest: config, layers, optional subject. */
export type ImageManifest = z.infer<typeof imageManifestSchema>;

export const imageIndexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().max(255).optional(),
  manifests: z.array(descriptorSchema).max(10_000),
  subject: descriptorSchema.optional(),
  annotations: annotations.optional(),
});
/** An OCI image index or Docker manifest list: one descriptor per platform or artifact. */
export type ImageIndex = z.infer<typeof imageIndexSchema>;

/** The parts of an image config regkit reads; everything else is kept as is. */
export const imageConfigSchema = z.looseObject({
  architecture: z.string().optional(),
  os: z.string().optional(),
  "os.version": z.string().optional(),
  "os.features": z.array(z.string()).optional(),
  variant: z.string().optional(),
  created: z.string().optional(),
  author: z.string().optional(),
  config: z.looseObject({}).nullish(),
  rootfs: z.looseObject({ type: z.string(), diff_ids: z.array(z.string()) }).optional(),
  history: z.array(z.looseObject({})).optional(),
});
/** An image configuration (architecture, os, config, rootfs, history), unknown fields kept. */
export type ImageConfig = z.infer<typeof imageConfigSchema>;

/** A manifest parsed and validated, tagged by kind (`image` or `index`), with its exact bytes and digest. */
export type ParsedManifest =
  | { kind: "image"; mediaType: string; manifest: ImageManifest; bytes: Uint8Array; digest: Digest }
  | { kind: "index"; mediaType: string; manifest: ImageIndex; bytes: Uint8Array; digest: Digest };

/**
 * Parses and validates manifest bytes. The media type comes from the
 * document's `mediaType`, else from the Content-Type the registry sent
 * (umoci omits the field), else from the shape. The digest is computed over
 * the exact bytes, which are kept: re-serialising would change the digest.
 */
export function parseManifest(bytes: Uint8Array, contentType?: string): ParsedManifest {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) throw new SizeLimitError("manifest", MAX_MANIFEST_BYTES);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
  } catch {
    throw new ManifestInvalidError("manifest is not valid JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ManifestInvalidError("manifest is not a JSON object");
  }
  const doc = json as Record<string, unknown>;
  if (doc.schemaVersion === 1) {
    throw new UnsupportedError("Docker schema 1 manifests are not supported (deprecated since 2019)");
  }
  const declared = typeof doc.mediaType === "string" ? doc.mediaType : undefined;
  const served = baseMediaType(contentType);
  if (declared && served && isManifestMediaType(served) && declared !== served) {
    throw new ManifestInvalidError(`manifest mediaType ${declared} does not match Content-Type ${served}`);
  }
  const mediaType =
    declared ??
    (served && isManifestMediaType(served) ? served : undefined) ??
    ("manifests" in doc ? MediaType.OciIndex : MediaType.OciManifest);
  const digest = digestOf(bytes);
  if (isIndexMediaType(mediaType)) {
    const result = imageIndexSchema.safeParse(doc);
    if (!result.success)
      throw new ManifestInvalidError(`invalid image index: ${describeIssue(result.error)}`);
    return { kind: "index", mediaType, manifest: result.data, bytes, digest };
  }
  if (!isManifestMediaType(mediaType) && !("config" in doc)) {
    throw new UnsupportedError(`unsupported manifest media type ${mediaType}`);
  }
  const result = imageManifestSchema.safeParse(doc);
  if (!result.success)
    throw new ManifestInvalidError(`invalid image manifest: ${describeIssue(result.error)}`);
  return { kind: "image", mediaType, manifest: result.data, bytes, digest };
}

/** Parses and validates an image configuration blob. */
export function parseImageConfig(bytes: Uint8Array): ImageConfig {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
  } catch {
    throw new ManifestInvalidError("image config is not valid JSON");
  }
  const result = imageConfigSchema.safeParse(json);
  if (!result.success) throw new ManifestInvalidError(`invalid image config: ${describeIssue(result.error)}`);
  return result.data;
}

/** Children a manifest points at: what a copy must move before the manifest itself. */
export function manifestChildren(parsed: ParsedManifest): Descriptor[] {
  return parsed.kind === "index"
    ? parsed.manifest.manifests
    : [parsed.manifest.config, ...parsed.manifest.layers];
}

/** The artifact type the referrers API reports for a manifest (OCI distribution spec 1.1). */
export function artifactTypeOf(parsed: ParsedManifest): string | undefined {
  if (parsed.manifest.artifactType) return parsed.manifest.artifactType;
  return parsed.kind === "image" ? parsed.manifest.config.mediaType : undefined;
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "schema mismatch";
  const path = issue.path.length > 0 ? issue.path.join(".") : "(root)";
  return `${path}: ${issue.message}`;
}
