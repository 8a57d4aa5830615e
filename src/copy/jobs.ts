import type { Digest } from "../core/digest.js";
import { type Platform, parsePlatform } from "../core/platform.js";
import { parseReference, parseRepository, referenceTarget } from "../core/reference.js";
import { Registry, type RegistryOptions } from "../registry/registry.js";
import { parseStoreReference, type StoreReference } from "../store/location.js";
import { type CopyOptions, type CopyResult, copy } from "./copy.js";

/** How the one-call jobs reach registries. */
export interface JobOptions {
  /**
   * The client to use (it stays open). Without one, a client is made from
   * {@link JobOptions.registryOptions} for this call and closed after it.
   */
  registry?: Registry;
  /** Options for the client made for this call when no `registry` is given. */
  registryOptions?: RegistryOptions;
}

/** Options of {@link copyImage}, {@link pull} and {@link push}. */
export interface CopyImageOptions extends Omit<CopyOptions, "platform">, JobOptions {
  /** Copy only this platform's image out of an index: `"linux/arm64"` or a {@link Platform}. */
  platform?: Platform | string;
}

/** What {@link copyImage} did: the copy's counts, and where from and to. */
export interface CopyImageResult extends CopyResult {
  /** The source store's name (`registry/repository`, `oci:DIR`, …). */
  source: string;
  /** The destination store's name. */
  destination: string;
  /** The tag the destination now has, when one was named on either side. */
  tag: string | undefined;
}

/** Runs `fn` with the caller's registry client, or with one made (and closed) for this call. */
export async function withJobRegistry<T>(
  options: JobOptions,
  fn: (registry: Registry) => Promise<T>,
): Promise<T> {
  if (options.registry) return fn(options.registry);
  const registry = new Registry(options.registryOptions ?? {});
  try {
    return await fn(registry);
  } finally {
    await registry.close();
  }
}

function copyOptions(options: CopyImageOptions): CopyOptions {
  const { registry: _registry, registryOptions: _options, platform, ...rest } = options;
  return {
    ...rest,
    ...(platform ? { platform: typeof platform === "string" ? parsePlatform(platform) : platform } : {}),
  };
}

/**
 * Copies an image between two locations written as on the command line
 * (`regkit copy FROM TO`): registry references, `oci:DIR[:TAG|@DIGEST]`,
 * `docker-archive:FILE[:REPO:TAG]`, or locations already parsed with
 * {@link parseStoreReference}. The destination's tag is the one it names,
 * else the source's. See {@link copy} for what a copy guarantees.
 *
 * @example
 * ```ts
 * const result = await copyImage("127.0.0.1:5000/demo/hello:v1", "127.0.0.1:5000/other/hello:v1");
 * console.log(result.descriptor.digest, result.blobs.copied);
 * ```
 */
export function copyImage(
  from: string | StoreReference,
  to: string | StoreReference,
  options: CopyImageOptions = {},
): Promise<CopyImageResult> {
  return withJobRegistry(options, async (registry) => {
    const source = typeof from === "string" ? parseStoreReference(from, registry) : from;
    const destination = typeof to === "string" ? parseStoreReference(to, registry) : to;
    const tag = destination.tag ?? source.tag;
    const result = await copy(source.store, source.reference, destination.store, tag, copyOptions(options));
    return { ...result, source: source.store.name, destination: destination.store.name, tag };
  });
}

/** `DIR` or `oci:DIR[:TAG|@DIGEST]` as an OCI layout location. */
export function layoutLocation(dir: string): string {
  return dir.startsWith("oci:") ? dir : `oci:${dir}`;
}

/**
 * Pulls an image from a registry into an OCI image layout directory
 * (created if needed), under the reference's tag; `regkit pull REF DIR`.
 * `dir` may also be `oci:DIR:TAG` to choose the tag.
 *
 * @example
 * ```ts
 * await pull("127.0.0.1:5000/demo/hello:v1", "./hello", { platform: "linux/arm64" });
 * ```
 */
export function pull(ref: string, dir: string, options: CopyImageOptions = {}): Promise<CopyImageResult> {
  return copyImage(ref, layoutLocation(dir), options);
}

/**
 * Pushes an image from an OCI image layout directory to a registry;
 * `regkit push DIR REF`. `dir` is `DIR` (the layout's only image) or
 * `DIR:TAG` / `oci:DIR:TAG` / `oci:DIR@DIGEST` to pick one of several.
 *
 * @example
 * ```ts
 * await push("./hello:v1", "127.0.0.1:5000/other/hello:v1");
 * ```
 */
export function push(dir: string, ref: string, options: CopyImageOptions = {}): Promise<CopyImageResult> {
  return copyImage(layoutLocation(dir), ref, options);
}

/** Options of {@link digest}. */
export interface DigestOptions extends JobOptions {
  /** The digest of this platform's manifest instead of the index's. */
  platform?: Platform | string;
}

/**
 * The digest a reference points at: a HEAD request (nothing downloaded), or
 * with a platform the digest of that platform's image manifest; `regkit digest`.
 *
 * @throws {@link NotFoundError} when there is no such manifest or platform.
 */
export function digest(ref: string, options: DigestOptions = {}): Promise<Digest> {
  const parsed = parseReference(ref);
  return withJobRegistry(options, async (registry) => {
    const repo = registry.repository(parsed.registry, parsed.repository);
    const target = referenceTarget(parsed);
    if (!options.platform) return (await repo.manifests.head(target)).digest;
    const platform =
      typeof options.platform === "string" ? parsePlatform(options.platform) : options.platform;
    return (await repo.resolve(target, { platform })).descriptor.digest;
  });
}

/** Options of {@link listTags}. */
export interface ListTagsOptions extends JobOptions {
  /** Tags per request (the registry's default otherwise). */
  pageSize?: number;
}

/**
 * Every tag of a repository (`alpine`, `ghcr.io/acme/app`,
 * `127.0.0.1:5000/demo/hello`), all pages, in the registry's order;
 * `regkit ls`. For very long listings, iterate `Repository.tags()` instead.
 */
export function listTags(repository: string, options: ListTagsOptions = {}): Promise<string[]> {
  const { registry: host, repository: name } = parseRepository(repository);
  return withJobRegistry(options, async (registry) => {
    const tags: string[] = [];
    const pages = registry
      .repository(host, name)
      .tags(options.pageSize ? { pageSize: options.pageSize } : {});
    for await (const tag of pages) tags.push(tag);
    return tags;
  });
}
