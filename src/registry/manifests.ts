import {
  type Digest,
  digestAlgorithm,
  digestEquals,
  digestOf,
  isDigest,
  parseDigest,
} from "../core/digest.js";
import { DigestMismatchError, InvalidInputError, ProtocolError } from "../core/errors.js";
import { MAX_MANIFEST_BYTES } from "../core/limits.js";
import type { Descriptor, ParsedManifest } from "../core/manifest.js";
import { baseMediaType, MANIFEST_ACCEPT } from "../core/mediaTypes.js";
import { isValidTag } from "../core/reference.js";
import { discard, headerValue, readBytes } from "../transport/response.js";
import type { HttpResponse } from "../transport/types.js";
import { type RegistryContext, repositoryScope } from "./context.js";
import { sendDelete } from "./deleteRefusal.js";

/** A manifest's exact bytes and its descriptor. */
export interface FetchedManifest {
  /** Media type, digest and size of the exact bytes served. */
  descriptor: Descriptor;
  /** The bytes as the registry served them; their digest is the manifest's identity. */
  bytes: Buffer;
}

/** Options of manifest requests: accepted media types, abort signal. */
export interface ManifestRequestOptions {
  /** Media types to accept instead of every manifest kind regkit knows. */
  accept?: string[];
  signal?: AbortSignal;
}

/** What a manifest push returned: digest, location, and the subject the registry indexed. */
export interface PushedManifest {
  descriptor: Descriptor;
  /** True when the registry said (`OCI-Subject`) that it indexed the `subject` for the referrers API. */
  subjectIndexed: boolean;
}

/** Manifests of one repository: get, head, put, delete, by tag or digest. */
export class ManifestStore {
  readonly #ctx: RegistryContext;
  readonly #repository: string;

  constructor(ctx: RegistryContext, repository: string) {
    this.#ctx = ctx;
    this.#repository = repository;
  }

  /** Tags and digests have strict grammars, so they go into the path as they are. */
  #path(reference: string): string {
    if (!isDigest(reference) && !isValidTag(reference)) {
      throw new InvalidInputError(`invalid tag or digest ${JSON.stringify(reference.slice(0, 140))}`);
    }
    return `/v2/${this.#repository}/manifests/${reference}`;
  }

  /** Raw manifest bytes with a verified digest; the content is not parsed. */
  async fetch(reference: string, options: ManifestRequestOptions = {}): Promise<FetchedManifest> {
    // A digest names exact bytes: a verified copy fetched before answers without a request,
    // and so does a tag answered less than the tag TTL ago.
    const accept = acceptHeader(options.accept);
    const known = isDigest(reference)
      ? reference
      : this.#ctx.manifestCache.tag(this.#repository, reference, accept)?.digest;
    const cached = known ? await this.#cached(known as Digest, options.accept) : undefined;
    if (cached) return cached;
    return this.#ctx.operation("manifest.get", this.#repository, reference, async () => {
      const response = await this.#ctx.call({
        method: "GET",
        path: this.#path(reference),
        headers: { accept },
        expect: [200],
        operation: `get manifest ${named(this.#repository, reference)}`,
        scopes: [repositoryScope(this.#repository, "pull")],
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const bytes = await readBytes(response, MAX_MANIFEST_BYTES, "manifest");
      const digest = verifyManifestDigest(bytes, reference, response);
      const mediaType = baseMediaType(headerValue(response, "content-type")) ?? declaredMediaType(bytes);
      if (!mediaType)
        throw new ProtocolError(`manifest ${named(this.#repository, reference)} has no media type`);
      const descriptor = { mediaType, digest, size: bytes.byteLength };
      if (!isDigest(reference)) {
        this.#ctx.telemetry.transfer(this.#ctx.registry, "pull", {
          repository: this.#repository,
          tag: reference,
          digest,
        });
        this.#ctx.manifestCache.setTag(this.#repository, reference, accept, descriptor);
      }
      await this.#remember(descriptor, bytes);
      return { descriptor, bytes };
    });
  }

  /** A verified copy from memory, else from disk (then kept in memory too). */
  async #cached(digest: Digest, accept: string[] | undefined): Promise<FetchedManifest | undefined> {
    const fits = (found: FetchedManifest | undefined) =>
      found && (!accept?.length || accept.includes(found.descriptor.mediaType)) ? found : undefined;
    const memory = this.#ctx.manifestCache.get(this.#repository, digest);
    if (memory) return fits(memory);
    const disk = await this.#ctx.diskCache?.get(this.#ctx.endpoint, this.#repository, digest);
    if (disk) this.#ctx.manifestCache.set(this.#repository, disk.descriptor, disk.bytes);
    return fits(disk);
  }

  /** Keeps bytes whose digest was verified, in memory and on disk. */
  async #remember(descriptor: Descriptor, bytes: Buffer): Promise<void> {
    this.#ctx.manifestCache.set(this.#repository, descriptor, bytes);
    await this.#ctx.diskCache?.set(this.#ctx.endpoint, this.#repository, descriptor, bytes);
  }

  /** Fetches and validates a manifest (image or index). */
  async get(reference: string, options: ManifestRequestOptions = {}): Promise<ParsedManifest> {
    const { descriptor, bytes } = await this.fetch(reference, options);
    // The schemas (zod) load on the first parse: a HEAD-only command never pays for them.
    const { parseManifest } = await import("../core/manifest.js");
    return parseManifest(bytes, descriptor.mediaType);
  }

  /**
   * Resolves a tag or digest to a descriptor without downloading the
   * manifest. Falls back to GET when the registry omits the digest header
   * on HEAD (some do), so the answer is always verified.
   */
  async head(reference: string, options: ManifestRequestOptions = {}): Promise<Descriptor> {
    const accept = acceptHeader(options.accept);
    if (isDigest(reference)) {
      const cached = await this.#cached(reference, options.accept);
      if (cached) return cached.descriptor;
    } else {
      const tagged = this.#ctx.manifestCache.tag(this.#repository, reference, accept);
      if (tagged) return tagged;
    }
    return this.#ctx.operation("manifest.head", this.#repository, reference, async () => {
      const response = await this.#ctx.call({
        method: "HEAD",
        path: this.#path(reference),
        headers: { accept },
        expect: [200],
        operation: `head manifest ${named(this.#repository, reference)}`,
        scopes: [repositoryScope(this.#repository, "pull")],
        ...(options.signal ? { signal: options.signal } : {}),
      });
      await discard(response);
      const header = headerValue(response, "docker-content-digest");
      const mediaType = baseMediaType(headerValue(response, "content-type"));
      const size = Number(headerValue(response, "content-length"));
      const digest = isDigest(reference) ? reference : header && isDigest(header) ? header : undefined;
      if (!digest || !mediaType || !Number.isSafeInteger(size) || size < 0) {
        return (await this.fetch(reference, options)).descriptor;
      }
      if (header && isDigest(header) && !digestEquals(header, digest)) {
        throw new DigestMismatchError(digest, header, "manifest");
      }
      const descriptor = { mediaType, digest, size };
      if (!isDigest(reference))
        this.#ctx.manifestCache.setTag(this.#repository, reference, accept, descriptor);
      return descriptor;
    });
  }

  /** Whether the repository has the manifest (a HEAD). */
  async exists(reference: string, options: ManifestRequestOptions = {}): Promise<boolean> {
    return this.#ctx.operation("manifest.head", this.#repository, reference, async () => {
      const response = await this.#ctx.call({
        method: "HEAD",
        path: this.#path(reference),
        headers: { accept: acceptHeader(options.accept) },
        expect: [200, 404],
        operation: `head manifest ${named(this.#repository, reference)}`,
        scopes: [repositoryScope(this.#repository, "pull")],
        ...(options.signal ? { signal: options.signal } : {}),
      });
      await discard(response);
      return response.status === 200;
    });
  }

  /**
   * Pushes exact manifest bytes under a tag or digest. The media type is
   * required because Content-Type is how registries learn it.
   */
  async put(
    reference: string,
    bytes: Uint8Array,
    mediaType: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<PushedManifest> {
    return this.#ctx.operation("manifest.put", this.#repository, reference, async () => {
      if (bytes.byteLength > MAX_MANIFEST_BYTES) {
        throw new InvalidInputError(`manifest is larger than ${MAX_MANIFEST_BYTES} bytes`);
      }
      const algorithm = isDigest(reference) ? digestAlgorithm(reference) : "sha256";
      const digest = digestOf(bytes, algorithm);
      if (isDigest(reference) && !digestEquals(reference, digest)) {
        throw new DigestMismatchError(reference, digest, "manifest");
      }
      const response = await this.#ctx.callAndDiscard({
        method: "PUT",
        path: this.#path(reference),
        headers: { "content-type": mediaType },
        body: bytes,
        expect: [200, 201, 202, 204],
        operation: `put manifest ${named(this.#repository, reference)}`,
        scopes: [repositoryScope(this.#repository, "pull", "push")],
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const served = headerValue(response, "docker-content-digest");
      if (
        served &&
        isDigest(served) &&
        digestAlgorithm(served) === algorithm &&
        !digestEquals(served, digest)
      ) {
        throw new DigestMismatchError(digest, served, "pushed manifest");
      }
      this.#ctx.telemetry.transfer(this.#ctx.registry, "push", {
        repository: this.#repository,
        reference,
        digest,
      });
      const descriptor = { mediaType, digest, size: bytes.byteLength };
      // A tag this moved is asked again next time.
      if (!isDigest(reference)) this.#ctx.manifestCache.forgetTags(this.#repository, { tag: reference });
      return {
        descriptor,
        subjectIndexed: headerValue(response, "oci-subject") !== undefined,
      };
    });
  }

  /** Deletes by digest (the manifest) or by tag (only the tag, where the registry allows it). */
  async delete(reference: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.#ctx.operation("manifest.delete", this.#repository, reference, async () => {
      await sendDelete(
        this.#ctx,
        {
          path: this.#path(reference),
          operation: `delete manifest ${named(this.#repository, reference)}`,
          signal: options.signal,
        },
        {
          repository: this.#repository,
          what: "manifests",
          ...(isDigest(reference) ? {} : { tag: reference }),
        },
      );
      if (isDigest(reference)) {
        this.#ctx.manifestCache.delete(this.#repository, reference);
        this.#ctx.manifestCache.forgetTags(this.#repository, { digest: reference });
        await this.#ctx.diskCache?.delete(this.#ctx.endpoint, this.#repository, reference);
      } else this.#ctx.manifestCache.forgetTags(this.#repository, { tag: reference });
    });
  }
}

function acceptHeader(accept: string[] | undefined): string {
  return accept && accept.length > 0 ? accept.join(", ") : MANIFEST_ACCEPT;
}

/**
 * The digest is computed from the bytes; a requested digest and the
 * registry's `Docker-Content-Digest` header must both agree with it.
 */
function verifyManifestDigest(bytes: Buffer, reference: string, response: HttpResponse): Digest {
  const header = headerValue(response, "docker-content-digest");
  const requested = isDigest(reference) ? reference : undefined;
  const served = header ? parseDigest(header) : undefined;
  const algorithm = requested ? digestAlgorithm(requested) : served ? digestAlgorithm(served) : "sha256";
  const actual = digestOf(bytes, algorithm);
  if (requested && !digestEquals(requested, actual))
    throw new DigestMismatchError(requested, actual, "manifest");
  if (served && !digestEquals(served, actual)) throw new DigestMismatchError(served, actual, "manifest");
  return actual;
}

function declaredMediaType(bytes: Buffer): string | undefined {
  try {
    const doc = JSON.parse(bytes.toString("utf8")) as { mediaType?: unknown };
    return typeof doc.mediaType === "string" ? doc.mediaType : undefined;
  } catch {
    return undefined;
  }
}

/** `repo:tag` or `repo@sha256:…`, as references are written. */
function named(repository: string, reference: string): string {
  return `${repository}${/^[a-z0-9]+:/.test(reference) ? "@" : ":"}${reference}`;
}
