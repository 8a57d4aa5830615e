/**
 * regkit: container registries from TypeScript. The one-call jobs
 * ({@link copyImage}, {@link pull}, {@link push}, {@link digest},
 * {@link listTags}), the copy engine over {@link Store}s, the OCI
 * Distribution client ({@link Registry}), credentials, and the embedded
 * registry for tests ({@link startRegistryServer}).
 *
 * Provider extras live in subpaths: `regkit/dockerhub`, `regkit/ghcr`, `regkit/gar`.
 *
 * @packageDocumentation
 */

// Credentials.
export {
  basic,
  type Credential,
  type CredentialProvider,
  type CredentialTarget,
  chainProviders,
  environmentCredentials,
  type ResolvedCredential,
  staticCredentials,
} from "./auth/credentials.js";
export { defaultCredentials } from "./auth/defaultCredentials.js";
export { TokenCache } from "./auth/tokenCache.js";
// The copy engine and the places an image can live.
export { CopyError, type CopyOptions, type CopyProgress, type CopyResult, copy } from "./copy/copy.js";
// The jobs most programs need, in one call each.
export {
  type CopyImageOptions,
  type CopyImageResult,
  copyImage,
  type DigestOptions,
  digest,
  type JobOptions,
  type ListTagsOptions,
  listTags,
  pull,
  push,
} from "./copy/jobs.js";
// Names, digests, manifests and platforms.
export { type Digest, type DigestAlgorithm, digestOf, isDigest, parseDigest } from "./core/digest.js";
// Errors: every failure is a RegkitError with a category (and the CLI's exit code).
export {
  AbortedError,
  AuthenticationError,
  AuthorizationError,
  CircuitOpenError,
  ConfigurationError,
  CredentialsRejectedError,
  DigestMismatchError,
  type ErrorCategory,
  exitCodeFor,
  InvalidDigestError,
  InvalidInputError,
  InvalidReferenceError,
  isRegkitError,
  ManifestInvalidError,
  NetworkError,
  NotFoundError,
  PlatformNotFoundError,
  ProtocolError,
  RateLimitError,
  RefusedError,
  RegkitError,
  ServerError,
  SizeLimitError,
  SizeMismatchError,
  TagDeletionRefusedError,
  TimeoutError,
  UnsupportedError,
  UsageError,
} from "./core/errors.js";
export {
  type Descriptor,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  type ParsedManifest,
  type PlatformSpec,
  parseImageConfig,
  parseManifest,
} from "./core/manifest.js";
export {
  isImageManifestMediaType,
  isIndexMediaType,
  isManifestMediaType,
  type KnownMediaType,
  MediaType,
} from "./core/mediaTypes.js";
export { formatPlatform, hostPlatform, type Platform, parsePlatform } from "./core/platform.js";
export {
  familiarReference,
  formatReference,
  parseReference,
  parseRepository,
  type Reference,
  referenceTarget,
  withDigest,
  withTag,
} from "./core/reference.js";
export { SecretString } from "./core/secret.js";
// The OCI Distribution client.
export type { BlobRange, BlobStore, FetchBlobOptions, FetchedBlob } from "./registry/blobs.js";
export type { ManifestCacheOptions } from "./registry/manifestCache.js";
export {
  DiskManifestCache,
  type DiskManifestCacheOptions,
  ManifestCacheDirectoryError,
} from "./registry/manifestDiskCache.js";
export type {
  FetchedManifest,
  ManifestRequestOptions,
  ManifestStore,
  PushedManifest,
} from "./registry/manifests.js";
export type { Page, PagedIterable } from "./registry/pagination.js";
export type { Referrers, ReferrersOptions, ReferrersResult } from "./registry/referrers.js";
export { type PingResult, Registry, type RegistryOptions } from "./registry/registry.js";
export type { ListOptions, Repository } from "./registry/repository.js";
export {
  PlaceholderNotDeletedError,
  type UntagOptions,
  type UntagResult,
  untag,
} from "./registry/untag.js";
export type {
  BlobSource,
  BlobUploader,
  UploadOptions,
  UploadResult,
  UploadSession,
} from "./registry/uploads.js";
// The embedded registry and generated images, for tests and demos.
export {
  type GeneratedBlob,
  type GeneratedImage,
  type GeneratedIndex,
  type GeneratedPlatform,
  generateImage,
  generateIndex,
  type ImageOptions,
  writeOciLayout,
} from "./sim/images.js";

import type { RegistryServer, RegistryServerOptions } from "./sim/server.js";

export type { RegistryServer, RegistryServerOptions };

/**
 * Starts regkit's embedded OCI registry on 127.0.0.1 (a free port unless `options.port`
 * says otherwise): in memory, or on disk with `storage`, with the auth, fault and provider
 * options of `regkit serve`. Its server code (hono and the routes) is loaded on the first
 * call, so importing "regkit" for a client costs nothing for it.
 */
export async function startRegistryServer(options?: RegistryServerOptions): Promise<RegistryServer> {
  return (await import("./sim/server.js")).startRegistryServer(options);
}
export { DockerArchiveStore } from "./store/dockerArchiveStore.js";
export { parseStoreReference, type StoreReference } from "./store/location.js";
export { MemoryStore } from "./store/memoryStore.js";
export { OciArchiveStore } from "./store/ociArchiveStore.js";
export { OciLayoutStore } from "./store/ociLayoutStore.js";
export { RemoteStore } from "./store/remoteStore.js";
export type { Mounter, ReferrerLister, Store } from "./store/store.js";
export { ReplayMismatchError } from "./transport/cassette.js";
export type { Handler, HttpRequest, HttpResponse, Middleware } from "./transport/types.js";
