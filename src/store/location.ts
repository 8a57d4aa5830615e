import { type Digest, isDigest } from "../core/digest.js";
import { UsageError } from "../core/errors.js";
import { parseReference, referenceTarget } from "../core/reference.js";
import type { Registry } from "../registry/registry.js";
import { DockerArchiveStore } from "./dockerArchiveStore.js";
import { OciLayoutStore } from "./ociLayoutStore.js";
import { RemoteStore } from "./remoteStore.js";
import type { Store } from "./store.js";

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

/**
 * Turns a location as the command line takes it into a store:
 * `oci:DIR[:TAG|@DIGEST]` names an OCI layout directory,
 * `docker-archive:FILE[:REPO:TAG]` a `docker save` tarball, and anything else
 * is a registry reference (`alpine:3.20`, `127.0.0.1:5000/a/b@sha256:…`),
 * reached through `registry` (a client, or a function giving one only when
 * a registry is named).
 *
 * @throws {@link UsageError} for a local location without a path,
 *   {@link InvalidReferenceError} for a bad registry reference.
 */
export function parseStoreReference(text: string, registry: Registry | (() => Registry)): StoreReference {
  if (text.startsWith("oci:")) {
    let rest = text.slice(4);
    let digest: Digest | undefined;
    const at = rest.lastIndexOf("@");
    if (at > 0 && isDigest(rest.slice(at + 1))) {
      digest = rest.slice(at + 1) as Digest;
      rest = rest.slice(0, at);
    }
    let tag: string | undefined;
    const colon = rest.lastIndexOf(":");
    if (colon > 0 && colon > rest.lastIndexOf("/")) {
      tag = rest.slice(colon + 1);
      rest = rest.slice(0, colon);
    }
    if (!rest) throw new UsageError(`oci: reference needs a directory: ${JSON.stringify(text)}`);
    return { store: new OciLayoutStore(rest), reference: digest ?? tag ?? "", tag, digest };
  }
  if (text.startsWith("docker-archive:")) {
    // docker-archive:FILE[:REPO:TAG] (skopeo's form) or docker-archive:FILE[:TAG]
    const [file, ...rest] = text.slice("docker-archive:".length).split(":");
    if (!file) throw new UsageError(`docker-archive: reference needs a file: ${JSON.stringify(text)}`);
    const store = new DockerArchiveStore(file);
    const tag = rest.length > 0 ? rest.at(-1) : undefined;
    if (rest.length > 1) store.repository = rest.slice(0, -1).join(":");
    return { store, reference: tag ?? "", tag, digest: undefined };
  }
  const ref = parseReference(text);
  return {
    store: new RemoteStore(
      (typeof registry === "function" ? registry() : registry).repository(ref.registry, ref.repository),
    ),
    reference: referenceTarget(ref),
    tag: ref.tag,
    digest: ref.digest,
  };
}
