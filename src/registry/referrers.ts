import { type Digest, digestAlgorithm, digestHex } from "../core/digest.js";
import { isRegkitError, ProtocolError } from "../core/errors.js";
import { MAX_MANIFEST_BYTES } from "../core/limits.js";
import type { Descriptor, ImageIndex } from "../core/manifest.js";
import { MediaType } from "../core/mediaTypes.js";
import { headerValue, readBytes } from "../transport/response.js";
import { type RegistryContext, repositoryScope } from "./context.js";
import type { ManifestStore } from "./manifests.js";
import { nextLinkOf, paged } from "./pagination.js";

/** Options of {@link Referrers.list}: an artifact type filter. */
export interface ReferrersOptions {
  artifactType?: string;
  signal?: AbortSignal;
}

/** Referrers of a subject, and whether the registry applied the filter itself. */
export interface ReferrersResult {
  referrers: Descriptor[];
  /** Where the answer came from: the referrers API or the tag-schema fallback index. */
  source: "api" | "tag-schema";
}

/** The fallback tag of OCI distribution 1.1: `<alg>-<hex>`, hex cut to 64 characters. */
export function referrersTag(subject: Digest): string {
  return `${digestAlgorithm(subject)}-${digestHex(subject).slice(0, 64)}`;
}

/**
 * Lists referrers through the referrers API (end-12), falling back to the
 * referrers tag schema when the registry answers 404, as the spec requires
 * (distribution 2.8 has no referrers API).
 */
export class Referrers {
  readonly #ctx: RegistryContext;
  readonly #repository: string;
  readonly #manifests: ManifestStore;

  constructor(ctx: RegistryContext, repository: string, manifests: ManifestStore) {
    this.#ctx = ctx;
    this.#repository = repository;
    this.#manifests = manifests;
  }

  /** The manifests that refer to `subject`: the referrers API, else the tag-schema fallback. */
  async list(subject: Digest, options: ReferrersOptions = {}): Promise<ReferrersResult> {
    return this.#ctx.operation("referrers.list", this.#repository, subject, async () => {
      const first = await this.#ctx.url(`/v2/${this.#repository}/referrers/${subject}`, {
        artifactType: options.artifactType,
      });
      let unsupported = false;
      const pages = paged<Descriptor>(
        first,
        async (url) => {
          const response = await this.#ctx.call({
            method: "GET",
            path: url,
            headers: { accept: MediaType.OciIndex },
            expect: [200, 404],
            operation: `list referrers ${this.#repository}@${subject}`,
            scopes: [repositoryScope(this.#repository, "pull")],
            ...(options.signal ? { signal: options.signal } : {}),
          });
          if (response.status === 404) {
            unsupported = true;
            response.body.resume();
            return { items: [], next: undefined };
          }
          const index = await parseIndex(
            await readBytes(response, MAX_MANIFEST_BYTES, "referrers"),
            response,
          );
          const filtered = headerValue(response, "oci-filters-applied")?.includes("artifactType") ?? false;
          const next = nextLinkOf(response);
          return {
            items: filterByType(index.manifests, options.artifactType, filtered),
            next: next ? this.#ctx.sameOriginUrl(next, response.url, "referrers Link") : undefined,
          };
        },
        { what: `referrers of ${this.#repository}@${subject}` },
      );
      const referrers = await pages.all();
      if (!unsupported) return { referrers, source: "api" };
      const fallback = await this.#fallbackIndex(subject, options.signal);
      return {
        referrers: filterByType(fallback?.manifests ?? [], options.artifactType, false),
        source: "tag-schema",
      };
    });
  }

  /**
   * Adds a referrer to the tag-schema index of its subject. Called after
   * pushing a manifest with a `subject` to a registry that did not index it.
   * Concurrent writers can race here; the spec leaves that to clients and
   * the referrers API is the real fix.
   */
  async addToTagSchema(
    subject: Digest,
    referrer: Descriptor,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const current = await this.#fallbackIndex(subject, options.signal);
    const manifests = current?.manifests ?? [];
    if (manifests.some((d) => d.digest === referrer.digest)) return;
    const index: ImageIndex = {
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [...manifests, referrer],
    };
    const bytes = Buffer.from(JSON.stringify(index));
    await this.#manifests.put(referrersTag(subject), bytes, MediaType.OciIndex, options);
  }

  async #fallbackIndex(subject: Digest, signal?: AbortSignal): Promise<ImageIndex | undefined> {
    try {
      const parsed = await this.#manifests.get(referrersTag(subject), {
        accept: [MediaType.OciIndex],
        ...(signal ? { signal } : {}),
      });
      return parsed.kind === "index" ? parsed.manifest : undefined;
    } catch (error) {
      if (isRegkitError(error) && error.category === "not-found") return undefined;
      throw error;
    }
  }
}

async function parseIndex(
  bytes: Buffer,
  response: { headers: Record<string, unknown> },
): Promise<ImageIndex> {
  // Loaded on first use, like every manifest parse on the registry's paths.
  const { parseManifest } = await import("../core/manifest.js");
  const contentType =
    typeof response.headers["content-type"] === "string" ? response.headers["content-type"] : undefined;
  const parsed = parseManifest(bytes, contentType ?? MediaType.OciIndex);
  if (parsed.kind !== "index") throw new ProtocolError("referrers response is not an image index");
  return parsed.manifest;
}

function filterByType(descriptors: Descriptor[], artifactType: string | undefined, alreadyFiltered: boolean) {
  if (!artifactType || alreadyFiltered) return descriptors;
  return descriptors.filter((d) => d.artifactType === artifactType);
}
