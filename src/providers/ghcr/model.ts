import { z } from "zod";
import type { Digest } from "../../core/digest.js";

/* The Packages API's answers as regkit reads them (schemas `package` and `package-version` of the REST description). */

export const ownerSchema = z.looseObject({ login: z.string(), type: z.string() });

export const packageSchema = z.looseObject({
  id: z.number(),
  name: z.string(),
  package_type: z.string(),
  visibility: z.string(),
  url: z.string(),
  html_url: z.string(),
  version_count: z.number(),
  owner: z.looseObject({ login: z.string(), type: z.string().optional() }).nullable().optional(),
  repository: z.looseObject({ full_name: z.string() }).nullable().optional(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const versionSchema = z.looseObject({
  id: z.number(),
  name: z.string(),
  url: z.string(),
  package_html_url: z.string(),
  html_url: z.string().optional(),
  created_at: z.string(),
  updated_at: z.string(),
  deleted_at: z.string().optional(),
  metadata: z
    .looseObject({
      package_type: z.string(),
      container: z.looseObject({ tags: z.array(z.string()) }).optional(),
    })
    .optional(),
});

/** What `GET /users/OWNER` says an owner is. */
export type OwnerType = "User" | "Organization";

/** A container package as the Packages API describes it. */
export interface ContainerPackage {
  id: number;
  /** The package name: the image path below the owner (`app`, `tools/app`). */
  name: string;
  owner: string;
  visibility: string;
  versionCount: number;
  repository: string | undefined;
  htmlUrl: string;
  createdAt: Date;
  updatedAt: Date;
}

/** One version of a container package: one manifest (image or index) by its digest. */
export interface PackageVersion {
  id: number;
  /** GHCR names a container version after its manifest digest. */
  digest: Digest;
  tags: string[];
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | undefined;
  htmlUrl: string | undefined;
}

export function toPackage(value: z.infer<typeof packageSchema>, owner: string): ContainerPackage {
  return {
    id: value.id,
    name: value.name,
    owner: value.owner?.login ?? owner,
    visibility: value.visibility,
    versionCount: value.version_count,
    repository: value.repository?.full_name,
    htmlUrl: value.html_url,
    createdAt: new Date(value.created_at),
    updatedAt: new Date(value.updated_at),
  };
}

export function toVersion(value: z.infer<typeof versionSchema>): PackageVersion {
  return {
    id: value.id,
    digest: value.name as Digest,
    tags: value.metadata?.container?.tags ?? [],
    createdAt: new Date(value.created_at),
    updatedAt: new Date(value.updated_at),
    deletedAt: value.deleted_at ? new Date(value.deleted_at) : undefined,
    htmlUrl: value.html_url,
  };
}
