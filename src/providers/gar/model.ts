import { z } from "zod";

/* Artifact Registry v1 resources as the discovery document describes them (lenient: extra fields pass). */

const int64 = z.union([z.string(), z.number()]).transform((v) => Number(v));
const time = z.string().optional();

/** When a cleanup policy applies (tag state, prefixes, age). */
export const cleanupCondition = z.looseObject({
  tagState: z.enum(["TAG_STATE_UNSPECIFIED", "TAGGED", "UNTAGGED", "ANY"]).optional(),
  tagPrefixes: z.array(z.string()).optional(),
  versionNamePrefixes: z.array(z.string()).optional(),
  packageNamePrefixes: z.array(z.string()).optional(),
  /** Durations as Google writes them: `"2592000s"`. */
  olderThan: z.string().optional(),
  newerThan: z.string().optional(),
});

/** A repository cleanup policy: DELETE or KEEP, by condition or most recent versions. */
export const cleanupPolicy = z.looseObject({
  id: z.string().optional(),
  action: z.enum(["ACTION_UNSPECIFIED", "DELETE", "KEEP"]).optional(),
  condition: cleanupCondition.optional(),
  mostRecentVersions: z
    .looseObject({
      packageNamePrefixes: z.array(z.string()).optional(),
      keepCount: z.number().int().optional(),
    })
    .optional(),
});
/** A repository cleanup policy as the API returns it. */
export type CleanupPolicy = z.infer<typeof cleanupPolicy>;

/** Schema of an Artifact Registry repository. */
export const repository = z.looseObject({
  name: z.string(),
  format: z.string().optional(),
  description: z.string().optional(),
  mode: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  createTime: time,
  updateTime: time,
  sizeBytes: int64.optional(),
  cleanupPolicies: z.record(z.string(), cleanupPolicy).optional(),
  cleanupPolicyDryRun: z.boolean().optional(),
});
/** An Artifact Registry repository: format, mode, size, cleanup policies. */
export type GarRepositoryInfo = z.infer<typeof repository>;

/** Schema of a package (an image for Docker). */
export const pkg = z.looseObject({
  name: z.string(),
  displayName: z.string().optional(),
  createTime: time,
  updateTime: time,
});
/** A package of a repository (an image for Docker). */
export type GarPackage = z.infer<typeof pkg>;

/** Schema of a tag. */
export const tag = z.looseObject({ name: z.string(), version: z.string().optional() });
/** A tag and the version it points to. */
export type GarTag = z.infer<typeof tag>;

/** Schema of a version. */
export const version = z.looseObject({
  name: z.string(),
  description: z.string().optional(),
  createTime: time,
  updateTime: time,
  relatedTags: z.array(tag).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
/** A version (a digest for Docker) with its tags. */
export type GarVersion = z.infer<typeof version>;

/** Schema of a file. */
export const file = z.looseObject({
  name: z.string(),
  sizeBytes: int64.optional(),
  hashes: z.array(z.looseObject({ type: z.string().optional(), value: z.string().optional() })).optional(),
  createTime: time,
  updateTime: time,
  owner: z.string().optional(),
});
/** A file of a repository (a layer or manifest for Docker). */
export type GarFile = z.infer<typeof file>;

/** Schema of a Docker image. */
export const dockerImage = z.looseObject({
  name: z.string(),
  uri: z.string(),
  tags: z.array(z.string()).optional(),
  imageSizeBytes: int64.optional(),
  uploadTime: time,
  mediaType: z.string().optional(),
  buildTime: time,
  updateTime: time,
});
/** A Docker image of a repository: URI, tags, size, upload time. */
export type GarDockerImage = z.infer<typeof dockerImage>;

/** Schema of a long-running operation (version deletes return one). */
export const operation = z.looseObject({ name: z.string().optional(), done: z.boolean().optional() });

/** A page of a `pageToken` listing: `{<field>: [...], nextPageToken}`. */
export function listPage(field: string) {
  return z.looseObject({ [field]: z.array(z.unknown()).optional(), nextPageToken: z.string().optional() });
}

/** The last segment of a resource name, decoded (`team%2Fapp` → `team/app`). */
export function resourceId(name: string): string {
  return decodeURIComponent(name.slice(name.lastIndexOf("/") + 1));
}
