import { stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { type Digest, isDigest } from "../core/digest.js";
import { NotFoundError, UsageError } from "../core/errors.js";
import { cliReference } from "../core/location.js";
import { type Descriptor, type ParsedManifest, parseManifest } from "../core/manifest.js";
import { type Platform, selectPlatform } from "../core/platform.js";
import { familiarReference, parseTag, referenceTarget } from "../core/reference.js";
import type { Registry } from "../registry/registry.js";
import { DockerArchiveStore } from "./dockerArchiveStore.js";
import { OciArchiveStore } from "./ociArchiveStore.js";
import { OciLayoutStore } from "./ociLayoutStore.js";
import { RemoteStore } from "./remoteStore.js";
import type { Store } from "./store.js";
import { TarReader } from "./tarReader.js";

/** A location parsed by {@link parseStoreReference}: the store, and what to resolve in it. */
export interface StoreReference {
  /** Where the image lives. */
  store: Store;
  /** What to resolve in the store: a tag, a digest, or "" for a layout's only image. */
  reference: string;
  /** The tag named, if any (the destination's tag). */
  tag: string | undefined;
  /** The digest named, if any. */
  digest: Digest | undefined;
}

const scanned = new Map<string, TarReader>();
const readerFor = (path: string) => scanned.get(path) ?? new TarReader(path);

/** `DIR[:TAG|@DIGEST]` split into its parts (the form of oci: and oci-archive:). */
function splitPath(text: string, kind: string): { path: string; tag?: string; digest?: Digest } {
  let rest = text;
  let digest: Digest | undefined;
  const at = rest.lastIndexOf("@");
  if (at > 0 && isDigest(rest.slice(at + 1))) {
    digest = rest.slice(at + 1) as Digest;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > 0 && colon > rest.lastIndexOf("/")) {
    tag = parseTag(rest.slice(colon + 1));
    rest = rest.slice(0, colon);
  }
  if (!rest) throw new UsageError(`${kind}: needs a path, e.g. ${kind}:./image:v1`);
  return { path: rest, ...(tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/**
 * Turns a location as the command line takes it into a store:
 * `oci:DIR[:TAG|@DIGEST]` names an OCI layout directory, `oci-archive:FILE[:TAG]`
 * a tarball of one, `docker-archive:FILE[:NAME:TAG]` a `docker save` tarball;
 * anything else is a registry reference (`alpine:3.20`, `docker://…`,
 * `127.0.0.1:5000/a/b@sha256:…`), reached through `registry` (a client, or a
 * function giving one only when a registry is named).
 *
 * @throws {@link UsageError} for a local location without a path,
 *   {@link InvalidReferenceError} for a bad registry reference.
 */
export function parseStoreReference(text: string, registry: Registry | (() => Registry)): StoreReference {
  if (text.startsWith("oci:")) {
    const { path, tag, digest } = splitPath(text.slice(4), "oci");
    return { store: new OciLayoutStore(path), reference: digest ?? tag ?? "", tag, digest };
  }
  if (text.startsWith("oci-archive:")) {
    const { path, tag, digest } = splitPath(text.slice("oci-archive:".length), "oci-archive");
    return { store: new OciArchiveStore(path, readerFor(path)), reference: digest ?? tag ?? "", tag, digest };
  }
  if (text.startsWith("docker-archive:")) {
    // docker-archive:FILE[:NAME:TAG] (skopeo's form) or docker-archive:FILE[:TAG]
    const [file, ...rest] = text.slice("docker-archive:".length).split(":");
    if (!file)
      throw new UsageError(`docker-archive: needs a file, e.g. docker-archive:./app.tar:example/app:v1`);
    const store = new DockerArchiveStore(file, readerFor(file));
    const tag = rest.length > 0 ? parseTag(rest.at(-1)!) : undefined;
    if (rest.length > 1) store.repository = rest.slice(0, -1).join(":");
    return { store, reference: tag ?? "", tag, digest: undefined };
  }
  const ref = cliReference(text);
  return {
    store: new RemoteStore(
      (typeof registry === "function" ? registry() : registry).repository(ref.registry, ref.repository),
    ),
    reference: referenceTarget(ref),
    tag: ref.tag,
    digest: ref.digest,
  };
}

/**
 * What `push` takes as its source: a location with a prefix, or a plain path
 * to a layout directory or a tarball (a `docker save` archive or an OCI
 * archive, told apart by their contents, as crane takes a tarball).
 */
export async function localSource(text: string): Promise<string> {
  if (/^(oci|oci-archive|docker-archive):/.test(text)) return text;
  const { path, tag, digest } = splitPath(text, "path");
  const suffix = `${tag !== undefined ? `:${tag}` : ""}${digest ? `@${digest}` : ""}`;
  const found = await stat(text).catch(() => undefined);
  const target = found ? text : path;
  const info = found ?? (await stat(path).catch(() => undefined));
  if (!info)
    throw new NotFoundError(`${text} does not exist: expected an OCI layout directory or an image tarball`);
  if (info.isDirectory()) return `oci:${target}${found ? "" : suffix}`;
  if (!info.isFile()) throw new UsageError(`${target} is neither a directory nor a file`);
  const reader = new TarReader(target);
  const entries = await reader.entries().catch(() => undefined);
  // The scan hashed every entry: the store that reads the archive next uses it instead of a second pass.
  scanned.set(target, reader);
  if (entries?.has("manifest.json"))
    return `docker-archive:${target}${found || tag === undefined ? "" : `:${tag}`}`;
  if (entries?.has("index.json")) return `oci-archive:${target}${found ? "" : suffix}`;
  throw new UsageError(
    `${target} is a file but neither a docker save archive (manifest.json) nor an OCI archive (index.json): expected one of those or an OCI layout directory`,
  );
}

/**
 * An archive written without a name takes the source's (as crane names a
 * tarball after the reference it pulled); a source without one (a layout, a
 * digest) gives an untagged image, as skopeo writes it.
 */
export function nameArchive(destination: StoreReference, source: StoreReference): void {
  if (!(destination.store instanceof DockerArchiveStore) || destination.store.repository) return;
  if (source.store instanceof RemoteStore && source.tag) {
    const { registry, name } = source.store.repository;
    destination.store.repository = familiarReference({ registry, repository: name });
  }
}

/** What the read commands need from a local location: the manifest (one platform's, when asked) and blobs. */
export interface LocalImage {
  store: Store;
  descriptor: Descriptor;
  manifest: ParsedManifest;
  readBlob(descriptor: Descriptor): Promise<Readable>;
}

/** Resolves `oci:`, `oci-archive:` or `docker-archive:` as `Repository.resolve` does a registry reference. */
export async function resolveLocal(text: string, platform?: Platform): Promise<LocalImage> {
  const { store, reference } = parseStoreReference(text, () => {
    throw new UsageError(`${text} is not a local location`);
  });
  const top = await store.resolve(reference);
  let descriptor: Descriptor = { mediaType: top.mediaType, digest: top.digest, size: top.size };
  let manifest = parseManifest(await store.fetchManifest(descriptor), descriptor.mediaType);
  if (platform && manifest.kind === "index") {
    const child = selectPlatform(manifest.manifest.manifests, platform);
    descriptor = { mediaType: child.mediaType, digest: child.digest, size: child.size };
    manifest = parseManifest(await store.fetchManifest(descriptor), descriptor.mediaType);
  }
  return { store, descriptor, manifest, readBlob: (blob) => store.fetchBlob(blob) };
}

/** The tags of a local location. */
export function localTags(text: string): AsyncIterable<string> {
  return parseStoreReference(text, () => {
    throw new UsageError(`${text} is not a local location`);
  }).store.tags();
}
