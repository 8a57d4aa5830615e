import { z } from "zod";

/* Artifact Registry v1 resources as the discovery document describes them (lenient: extra fields pass). */

const int64 = z.union([z.string(), z.number()]).transform((v) => Number(v));
const time = z.string().optional();

export const cleanupCondition = z.looseObject({
  tagState: z.enum(["TAG_STATE_UNSPECIFIED", "TAGGED", "UNTAGGED", "ANY"]).optional(),
  tagPrefixes: z.array(z.string()).optional(),
  versionNamePrefixes: z.array(z.string()).optional(),
  packageNamePrefixes: z.array(z.string()).optional(),
  /** Durations as Google writes them: `"2592000s"`. */
  olderThan: z.string().optional(),
  newerThan: z.string().optional(),
});

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
export type CleanupPolicy = z.infer<typeof cleanupPolicy>;

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
export type GarRepositoryInfo = z.infer<typeof repository>;

export const pkg = z.looseObject({
  name: z.string(),
  displayName: z.string().optional(),
  createTime: time,
  updateTime: time,
});
export type GarPackage = z.infer<typeof pkg>;

export const tag = z.looseObject({ name: z.string(), version: z.string().optional() });
export type GarTag = z.infer<typeof tag>;

export const version = z.looseObject({
  name: z.string(),
  description: z.string().optional(),
  createTime: time,
  updateTime: time,
  relatedTags: z.array(tag).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type GarVersion = z.infer<typeof version>;

export const file = z.looseObject({
  name: z.string(),
  sizeBytes: int64.optional(),
  hashes: z.array(z.looseObject({ type: z.string().optional(), value: z.string().optional() })).optional(),
  createTime: time,
  updateTime: time,
  owner: z.string().optional(),
});
export type GarFile = z.infer<typeof file>;

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
export type GarDockerImage = z.infer<typeof dockerImage>;

export const operation = z.looseObject({ name: z.string().optional(), done: z.boolean().optional() });

/** A page of a `pageToken` listing: `{<field>: [...], nextPageToken}`. */
export function listPage(field: string) {
  return z.looseObject({ [field]: z.array(z.unknown()).optional(), nextPageToken: z.string().optional() });
}

/** The last segment of a resource name, decoded (`team%2Fapp` → `team/app`). */
export function resourceId(name: string): string {
  return decodeURIComponent(name.slice(name.lastIndexOf("/") + 1));
}
