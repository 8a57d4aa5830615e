import type { Readable } from "node:stream";
import type { Descriptor } from "../core/manifest.js";

/**
 * One place an image can live — a registry repository, an OCI layout
 * directory, memory — behind one interface, so that copy, pull and push are
 * a single algorithm. Everything is addressed by descriptor; tags are names
 * for descriptors.
 */
export interface Store {
  /** `registry/repository`, `oci:DIR`, `memory`: for messages and progress. */
  readonly name: string;
  /** Tag or digest → descriptor of the manifest (media type, digest, size). */
  resolve(reference: string): Promise<Descriptor>;
  /** Exact manifest bytes, digest-verified. */
  fetchManifest(descriptor: Descriptor): Promise<Buffer>;
  /** Stores manifest bytes; with a tag, also points the tag at them. */
  pushManifest(descriptor: Descriptor, bytes: Buffer, tag?: string): Promise<void>;
  /**
   * Streams a blob, verified while it flows; from `offset` when resuming.
   * `verify: false` may skip the source-side check when the receiver
   * verifies anyway (every store's pushBlob does), saving a second hash.
   */
  fetchBlob(descriptor: Descriptor, offset?: number, options?: { verify?: boolean }): Promise<Readable>;
  /**
   * Stores a blob from a source that can be opened again at an offset (a
   * transfer that breaks continues instead of restarting). The store
   * verifies digest and size before the blob becomes visible.
   */
  pushBlob(descriptor: Descriptor, open: (offset: number) => Promise<Readable>): Promise<void>;
  /** Whether a blob or manifest with this digest is already there. */
  exists(descriptor: Descriptor): Promise<boolean>;
  /** The tags in the store. */
  tags(): AsyncIterable<string>;
  /** Called once a copy into the store is complete: archives close the file here. */
  finish?(): Promise<void>;
}

/** Stores that can take a blob from a sibling without moving its bytes (registry cross-repository mount). */
export interface Mounter {
  /** True when mounted; false when the store must receive the bytes after all. */
  mount(descriptor: Descriptor, from: Store): Promise<boolean>;
}

export function isMounter(store: Store): store is Store & Mounter {
  return typeof (store as Partial<Mounter>).mount === "function";
}

/** Stores that know which manifests refer to a subject (signatures, SBOMs, attestations). */
export interface ReferrerLister {
  /** The manifests that refer to `subject`. */
  referrers(subject: Descriptor): Promise<Descriptor[]>;
}

export function isReferrerLister(store: Store): store is Store & ReferrerLister {
  return typeof (store as Partial<ReferrerLister>).referrers === "function";
}
