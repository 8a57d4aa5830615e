import { ProtocolError } from "../core/errors.js";
import type { Descriptor, ParsedManifest } from "../core/manifest.js";
import { type Platform, selectPlatform } from "../core/platform.js";
import { readJson } from "../transport/response.js";
import { BlobStore } from "./blobs.js";
import { type RegistryContext, repositoryScope } from "./context.js";
import { type ManifestRequestOptions, ManifestStore, type PushedManifest } from "./manifests.js";
import { nextLinkOf, type PagedIterable, paged } from "./pagination.js";
import { Referrers } from "./referrers.js";
import { BlobUploader } from "./uploads.js";

/** Options of listings: entries per request. */
export interface ListOptions {
  /** Page size (`n`); the registry's default when omitted. */
  pageSize?: number;
  /** Start after this entry (`last`). */
  last?: string;
  maxPages?: number;
  signal?: AbortSignal;
}

/** One repository of a registry: the unit of access control in the distribution API. */
export class Repository {
  readonly registry: string;
  readonly name: string;
  readonly manifests: ManifestStore;
  readonly blobs: BlobStore;
  readonly uploads: BlobUploader;
  readonly referrers: Referrers;
  readonly #ctx: RegistryContext;

  constructor(ctx: RegistryContext, name: string) {
    this.#ctx = ctx;
    this.registry = ctx.registry;
    this.name = name;
    this.manifests = new ManifestStore(ctx, name);
    this.blobs = new BlobStore(ctx, name);
    this.uploads = new BlobUploader(ctx, name);
    this.referrers = new Referrers(ctx, name, this.manifests);
  }

  /** Tags, across every page (`n`/`last`, `Link`). Stops fetching when the caller stops iterating. */
  tags(options: ListOptions = {}): PagedIterable<string> {
    return listing(this.#ctx, `/v2/${this.name}/tags/list`, "tags", options, {
      operation: `list tags ${this.name}`,
      repository: this.name,
      scopes: [repositoryScope(this.name, "pull")],
    });
  }

  /**
   * Resolves a reference to the manifest for one platform: an image manifest
   * is returned as is when it matches (or no platform is asked), an index is
   * narrowed to the best matching child.
   */
  async resolve(
    reference: string,
    options: ManifestRequestOptions & { platform?: Platform } = {},
  ): Promise<{ manifest: ParsedManifest; descriptor: Descriptor; index?: ParsedManifest }> {
    const top = await this.manifests.get(reference, options);
    const topDescriptor = { mediaType: top.mediaType, digest: top.digest, size: top.bytes.byteLength };
    if (!options.platform || top.kind === "image") return { manifest: top, descriptor: topDescriptor };
    const child = selectPlatform(top.manifest.manifests, options.platform);
    const manifest = await this.manifests.get(child.digest, options);
    return { manifest, descriptor: child, index: top };
  }

  /**
   * Pushes a manifest. When it has a `subject` and the registry did not
   * index it (no `OCI-Subject` answer), the referrers tag-schema index is
   * updated too, as OCI distribution 1.1 asks of clients.
   */
  async pushManifest(reference: string, bytes: Uint8Array, mediaType: string): Promise<PushedManifest> {
    // The schemas (zod) load on the first parse: commands that only HEAD never pay for them.
    const { artifactTypeOf, parseManifest } = await import("../core/manifest.js");
    const parsed = parseManifest(bytes, mediaType);
    const pushed = await this.manifests.put(reference, bytes, mediaType);
    const subject = parsed.manifest.subject;
    if (subject && !pushed.subjectIndexed) {
      const artifactType = artifactTypeOf(parsed);
      const { annotations } = parsed.manifest;
      await this.referrers.addToTagSchema(subject.digest, {
        ...pushed.descriptor,
        ...(artifactType ? { artifactType } : {}),
        ...(annotations ? { annotations } : {}),
      });
    }
    return pushed;
  }
}

/** Tags and catalog share the `{ <key>: string[] }` + `Link` page format. */
export function listing(
  ctx: RegistryContext,
  path: string,
  key: "tags" | "repositories",
  options: ListOptions,
  call: { operation: string; scopes: string[]; repository: string },
): PagedIterable<string> {
  const first = () =>
    ctx.url(path, {
      n: options.pageSize !== undefined ? String(options.pageSize) : undefined,
      last: options.last,
    });
  return paged<string>(
    first,
    (url) =>
      ctx.operation(key === "tags" ? "tags.list" : "catalog.list", call.repository, undefined, async () => {
        const response = await ctx.call({
          method: "GET",
          path: url,
          expect: [200],
          operation: call.operation,
          scopes: call.scopes,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        const next = nextLinkOf(response);
        const body = (await readJson(response, 16 * 1024 * 1024, call.operation)) as Record<
          string,
          unknown
        > | null;
        const items = body?.[key] ?? [];
        if (!Array.isArray(items) || !items.every((t) => typeof t === "string")) {
          throw new ProtocolError(`${call.operation}: response has no "${key}" list of strings`);
        }
        return { items, next: next ? ctx.sameOriginUrl(next, response.url, "pagination Link") : undefined };
      }),
    { what: call.operation, ...(options.maxPages !== undefined ? { maxPages: options.maxPages } : {}) },
  );
}
