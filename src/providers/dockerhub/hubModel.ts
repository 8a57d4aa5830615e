import { z } from "zod";
import type { Digest } from "../../core/digest.js";
import { isDigest } from "../../core/digest.js";
import { emptyCounts, type VulnerabilityReport } from "../vulnerabilities.js";

/* Answers of the Hub API, validated loosely: the fields regkit uses, typed; the rest kept. */

const date = z.string().nullish();
const digest = z
  .string()
  .nullish()
  .transform((v) => (v && isDigest(v) ? (v as Digest) : undefined));

export const repositorySchema = z.looseObject({
  name: z.string(),
  namespace: z.string(),
  description: z.string().nullish(),
  is_private: z.boolean().optional(),
  star_count: z.number().optional(),
  pull_count: z.number().optional(),
  last_updated: date,
  date_registered: date,
  status_description: z.string().nullish(),
});
export const repositoryInfoSchema = repositorySchema.extend({
  full_description: z.string().nullish(),
  permissions: z.looseObject({ read: z.boolean(), write: z.boolean(), admin: z.boolean() }).optional(),
});

const imageSchema = z.looseObject({
  architecture: z.string().nullish(),
  os: z.string().nullish(),
  variant: z.string().nullish(),
  digest,
  size: z.number().nullish(),
  last_pushed: date,
  last_pulled: date,
});
export const tagSchema = z.looseObject({
  name: z.string(),
  full_size: z.number().nullish(),
  last_updated: date,
  tag_last_pushed: date,
  tag_last_pulled: date,
  last_updater_username: z.string().nullish(),
  digest,
  media_type: z.string().nullish(),
  // Docker Hub serves a list of images (one per platform); the published schema says object.
  images: z.union([z.array(imageSchema), imageSchema.transform((i) => [i])]).nullish(),
});
export const searchResultSchema = z.looseObject({
  repo_name: z.string(),
  short_description: z.string().nullish(),
  star_count: z.number().nullish(),
  pull_count: z.number().nullish(),
  repo_owner: z.string().nullish(),
  is_official: z.boolean().nullish(),
  is_automated: z.boolean().nullish(),
});
const severity = z.enum(["critical", "high", "medium", "low", "unknown"]).catch("unknown");
export const scanSchema = z.looseObject({
  digest: z.string().optional(),
  scan_status: z.string(),
  last_scanned: date,
  summary: z.record(z.string(), z.number()).nullish(),
  vulnerabilities: z
    .array(
      z.looseObject({
        id: z.string(),
        severity,
        package: z.string().nullish(),
        version: z.string().nullish(),
        fixed_version: z.string().nullish(),
        url: z.string().nullish(),
      }),
    )
    .nullish(),
});

export function page<S extends z.ZodType>(item: S) {
  return z.looseObject({ count: z.number().optional(), next: z.string().nullish(), results: z.array(item) });
}

const toDate = (value: string | null | undefined): Date | undefined => {
  if (!value) return undefined;
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? undefined : parsed;
};

/** A Docker Hub repository as the Hub API describes it. */
export interface HubRepository {
  namespace: string;
  name: string;
  /** `namespace/name`, as references write it. */
  repository: string;
  description: string;
  isPrivate: boolean;
  starCount: number;
  pullCount: number;
  lastUpdated: Date | undefined;
  dateRegistered: Date | undefined;
  fullDescription?: string;
  permissions?: { read: boolean; write: boolean; admin: boolean };
}

export function toRepository(
  value: z.infer<typeof repositoryInfoSchema> | z.infer<typeof repositorySchema>,
): HubRepository {
  const info = value as z.infer<typeof repositoryInfoSchema>;
  return {
    namespace: value.namespace,
    name: value.name,
    repository: `${value.namespace}/${value.name}`,
    description: value.description ?? "",
    isPrivate: value.is_private ?? false,
    starCount: value.star_count ?? 0,
    pullCount: value.pull_count ?? 0,
    lastUpdated: toDate(value.last_updated),
    dateRegistered: toDate(value.date_registered),
    ...(info.full_description ? { fullDescription: info.full_description } : {}),
    ...(info.permissions
      ? {
          permissions: {
            read: info.permissions.read,
            write: info.permissions.write,
            admin: info.permissions.admin,
          },
        }
      : {}),
  };
}

/** One platform's image of a Docker Hub tag. */
export interface HubImage {
  os: string | undefined;
  architecture: string | undefined;
  variant: string | undefined;
  digest: Digest | undefined;
  size: number;
  lastPushed: Date | undefined;
}

/** A Docker Hub tag: digest, size, dates and an image per platform. */
export interface HubTag {
  name: string;
  /** What the tag points to (an index for multi-platform tags), when Docker Hub says. */
  digest: Digest | undefined;
  /** Compressed size of the largest platform image. */
  size: number;
  lastUpdated: Date | undefined;
  lastPulled: Date | undefined;
  lastUpdater: string | undefined;
  images: HubImage[];
}

export function toTag(value: z.infer<typeof tagSchema>): HubTag {
  return {
    name: value.name,
    digest: value.digest,
    size: value.full_size ?? 0,
    lastUpdated: toDate(value.last_updated ?? value.tag_last_pushed),
    lastPulled: toDate(value.tag_last_pulled),
    lastUpdater: value.last_updater_username ?? undefined,
    images: (value.images ?? []).map((image) => ({
      os: image.os ?? undefined,
      architecture: image.architecture ?? undefined,
      variant: image.variant ?? undefined,
      digest: image.digest,
      size: image.size ?? 0,
      lastPushed: toDate(image.last_pushed),
    })),
  };
}

/** One result of a Docker Hub repository search. */
export interface HubSearchResult {
  repository: string;
  description: string;
  starCount: number;
  pullCount: number;
  official: boolean;
  automated: boolean;
}

export function toSearchResult(value: z.infer<typeof searchResultSchema>): HubSearchResult {
  return {
    repository: value.repo_name,
    description: value.short_description ?? "",
    starCount: value.star_count ?? 0,
    pullCount: value.pull_count ?? 0,
    official: value.is_official ?? false,
    automated: value.is_automated ?? false,
  };
}

/** Docker Hub's scan states, in the report's words. */
const SCAN_STATUS = new Map<string, HubScan["status"]>([
  ["completed", "scanned"],
  ["in_progress", "pending"],
  ["failed", "failed"],
  ["not_scanned", "not-scanned"],
]);

/** Docker Hub's scan overview of an image, normalised. */
export type HubScan = Omit<VulnerabilityReport, "image" | "provider">;

export function toScan(value: z.infer<typeof scanSchema>): HubScan {
  const status = value.scan_status;
  const summary = emptyCounts();
  for (const [key, count] of Object.entries(value.summary ?? {})) {
    if (Object.hasOwn(summary, key)) summary[key as keyof typeof summary] = count;
  }
  const vulnerabilities = (value.vulnerabilities ?? []).map((v) => ({
    id: v.id,
    severity: v.severity,
    ...(v.package ? { package: v.package } : {}),
    ...(v.version ? { version: v.version } : {}),
    ...(v.fixed_version ? { fixedVersion: v.fixed_version } : {}),
    ...(v.url ? { url: v.url } : {}),
  }));
  // A summary missing from the answer is recounted from the list.
  if (!value.summary) for (const v of vulnerabilities) summary[v.severity]++;
  return {
    status: SCAN_STATUS.get(status) ?? "unknown",
    lastScanned: toDate(value.last_scanned),
    counts: summary,
    vulnerabilities,
  };
}
