import type { Readable } from "node:stream";
import { type Digest, digestEquals } from "../core/digest.js";
import { AbortedError, RegkitError, UsageError } from "../core/errors.js";
import { type Descriptor, type ParsedManifest, parseManifest } from "../core/manifest.js";
import { isIndexMediaType } from "../core/mediaTypes.js";
import { formatPlatform, type Platform, platformFromDescriptor, selectPlatform } from "../core/platform.js";
import { pendingReadable } from "../store/pendingReadable.js";
import { isMounter, isReferrerLister, type Store } from "../store/store.js";
import { blame, side } from "./blame.js";
import { Semaphore } from "./semaphore.js";

export { CopyError } from "./blame.js";

/** Options of {@link copy}. */
export interface CopyOptions {
  /** Copy only this platform's manifest out of an index (the result is that image). */
  platform?: Platform;
  /** Copy every platform of an index (the default when no platform is given). */
  allPlatforms?: boolean;
  /** Also copy manifests that refer to what is copied (signatures, SBOMs, attestations), recursively. */
  referrers?: boolean;
  /** Blob transfers at once (default 4: two cores, and the registry needs CPU too). */
  concurrency?: number;
  /** Called as blobs are skipped, mounted, started and done, as bytes flow, and per manifest written. */
  onProgress?: (event: CopyProgress) => void;
  /**
   * Called with the image manifests of an index before any of them is
   * fetched from the source: a caller can plan around a pull budget (Docker
   * Hub counts each as a pull), waiting or failing before the first one.
   */
  beforeManifests?: (manifests: Descriptor[]) => Promise<void>;
  /**
   * The destination was named by digest (`REPO@sha256:…`): what is copied
   * must have this digest, checked before anything moves.
   */
  digest?: string;
  /**
   * Cancels the copy: nothing new starts, blob transfers under way are cut,
   * and once they have ended the copy rejects with an {@link AbortedError}.
   */
  signal?: AbortSignal;
}

/** A progress event of a copy: a blob's fate, bytes moved, or a manifest written. */
export type CopyProgress =
  | { type: "blob"; digest: Digest; size: number; state: "skipped" | "mounted" | "started" | "done" }
  | { type: "bytes"; digest: Digest; bytes: number }
  | { type: "manifest"; digest: Digest; mediaType: string };

/** What a copy did. */
export interface CopyResult {
  /** What the destination now holds under the tag: the source root, or the chosen platform's manifest. */
  descriptor: Descriptor;
  manifests: number;
  blobs: { copied: number; skipped: number; mounted: number };
  /** Blob bytes actually moved (skipped and mounted blobs move none). */
  bytes: number;
}

const DEFAULT_CONCURRENCY = 4;

/**
 * Copies an image (or index, or artifact) between any two stores: children
 * before parents, so a reader never finds a tag pointing at missing content;
 * blobs the destination has are skipped, blobs in a sibling repository of
 * the same registry are mounted, blobs shared by platforms move once; bytes
 * stream from source to destination and are verified on arrival; manifests
 * keep their exact bytes, so every digest stays the same.
 */
export async function copy(
  source: Store,
  reference: string,
  destination: Store,
  tag: string | undefined,
  options: CopyOptions = {},
): Promise<CopyResult> {
  if (options.referrers && destination.holdsOneImage)
    throw new UsageError(`${destination.name} holds one image: it cannot take referrers (drop --referrers)`);
  const run = new CopyRun(source, destination, options);
  try {
    run.stopIfFailed();
    const what = reference ? `resolve ${reference}` : "resolve its only image";
    const root = await side("source", what, () => source.resolve(reference));
    const descriptor = await run.node(root, tag, true);
    if (destination.finish) await side("destination", "finish", () => destination.finish!(descriptor, tag));
    return { descriptor, manifests: run.manifests, blobs: run.counts, bytes: run.bytes };
  } catch (error) {
    // Nothing half-written stays behind: transfers still running finish or clean up first (a
    // layout's temporary file would otherwise outlive the error), then archives drop theirs.
    await run.settle();
    await destination.abort?.().catch(() => undefined);
    throw run.cancelled ?? error;
  } finally {
    run.close();
  }
}

class CopyRun {
  readonly counts = { copied: 0, skipped: 0, mounted: 0 };
  bytes = 0;
  manifests = 0;
  readonly #blobs = new Map<string, Promise<void>>();
  readonly #nodes = new Map<string, Promise<Descriptor>>();
  readonly #limit: Semaphore;
  /** Set once any part of the copy has failed or it was cancelled: nothing new starts. */
  #failed = false;
  /** The error a cancelled copy rejects with. */
  cancelled: AbortedError | undefined;
  /** Source streams opened (ended ones too, until the copy ends), cut when the copy is cancelled. */
  readonly #streams = new Set<Readable>();

  constructor(
    readonly source: Store,
    readonly destination: Store,
    readonly options: CopyOptions,
  ) {
    this.#limit = new Semaphore(options.concurrency ?? DEFAULT_CONCURRENCY);
    if (options.signal?.aborted) this.#cancel();
    else options.signal?.addEventListener("abort", this.#cancel, { once: true });
  }

  readonly #cancel = (): void => {
    // Called only through the signal, so there is one.
    this.cancelled = new AbortedError("copy aborted", { cause: this.options.signal!.reason });
    this.#failed = true;
    for (const stream of this.#streams) stream.destroy(this.cancelled);
  };

  /** A copy that has ended no longer listens to its signal (one signal may serve many copies). */
  close(): void {
    this.options.signal?.removeEventListener("abort", this.#cancel);
  }

  /** Marks the run failed the moment a part fails, before a waiting transfer takes its turn. */
  readonly #fail = (error: unknown): never => {
    this.#failed = true;
    throw error;
  };

  /** After a failure: waits until every transfer and manifest already under way has ended. */
  async settle(): Promise<void> {
    let seen = -1;
    while (seen !== this.#blobs.size + this.#nodes.size) {
      seen = this.#blobs.size + this.#nodes.size;
      await Promise.allSettled([...this.#blobs.values(), ...this.#nodes.values()]);
    }
  }

  stopIfFailed(): void {
    if (this.#failed)
      throw (
        this.cancelled ?? new RegkitError("copy already failed", { code: "ABORTED", category: "network" })
      );
  }

  /** Copies a manifest and everything below it; `root` marks the one the tag goes on. */
  async node(descriptor: Descriptor, tag: string | undefined, root: boolean): Promise<Descriptor> {
    // By digest alone: only the root (or the platform chosen for it) has a tag, and no child can be it.
    let pending = this.#nodes.get(descriptor.digest);
    if (!pending) {
      pending = this.#copyNode(descriptor, tag, root).catch(this.#fail);
      this.#nodes.set(descriptor.digest, pending);
    }
    return pending;
  }

  async #copyNode(descriptor: Descriptor, tag: string | undefined, root: boolean): Promise<Descriptor> {
    this.stopIfFailed();
    const bytes = await side("source", `manifest ${descriptor.digest}`, () =>
      this.source.fetchManifest(descriptor),
    );
    const parsed: ParsedManifest = parseManifest(bytes, descriptor.mediaType);
    if (parsed.kind === "index" && root && this.options.platform && !this.options.allPlatforms) {
      // One platform asked: the destination gets that image, under the tag.
      const child = selectPlatform(parsed.manifest.manifests, this.options.platform);
      return this.node({ mediaType: child.mediaType, digest: child.digest, size: child.size }, tag, true);
    }
    if (root) this.#checkRoot(descriptor, parsed);
    if (parsed.kind === "index") {
      const images = parsed.manifest.manifests.filter((child) => !isIndexMediaType(child.mediaType));
      if (this.options.beforeManifests && images.length > 0) {
        const plan = this.options.beforeManifests;
        await side("source", `plan ${images.length} manifests`, () => plan(images));
      }
      await Promise.all(
        parsed.manifest.manifests.map((child) =>
          this.node({ mediaType: child.mediaType, digest: child.digest, size: child.size }, undefined, false),
        ),
      );
    } else {
      await Promise.all([parsed.manifest.config, ...parsed.manifest.layers].map((blob) => this.#blob(blob)));
    }
    const exact: Descriptor = {
      mediaType: descriptor.mediaType,
      digest: descriptor.digest,
      size: descriptor.size,
    };
    this.stopIfFailed();
    await side("destination", `manifest ${descriptor.digest}`, () =>
      this.destination.pushManifest(exact, bytes, tag),
    );
    this.manifests++;
    this.options.onProgress?.({
      type: "manifest",
      digest: descriptor.digest,
      mediaType: descriptor.mediaType,
    });
    if (this.options.referrers && isReferrerLister(this.source)) {
      const referrers = await side("source", `referrers of ${descriptor.digest}`, () =>
        (this.source as Store & { referrers(d: Descriptor): Promise<Descriptor[]> }).referrers(exact),
      );
      await Promise.all(
        referrers.map((r) =>
          this.node({ mediaType: r.mediaType, digest: r.digest, size: r.size }, undefined, false),
        ),
      );
    }
    return exact;
  }

  /** Before anything moves: the destination can hold what is copied, under the digest it names. */
  #checkRoot(descriptor: Descriptor, parsed: ParsedManifest): void {
    if (parsed.kind === "index" && this.destination.holdsOneImage) {
      const platforms = parsed.manifest.manifests.map((d) => {
        const platform = platformFromDescriptor(d);
        return platform ? formatPlatform(platform) : d.digest;
      });
      throw new UsageError(
        `${this.destination.name} holds one image and the source is an index: choose a platform with --platform (${platforms.join(", ")})`,
      );
    }
    const expected = this.options.digest;
    if (expected && !digestEquals(descriptor.digest, expected))
      throw new RegkitError(
        `the destination names ${expected} but the image copied is ${descriptor.digest}: nothing was copied`,
        { code: "DIGEST_INVALID", category: "integrity" },
      );
  }

  /** Each blob once per run, however many manifests share it. */
  #blob(blob: Descriptor): Promise<void> {
    let pending = this.#blobs.get(blob.digest);
    if (!pending) {
      pending = this.#limit.run(() => this.#transfer(blob).catch(this.#fail));
      this.#blobs.set(blob.digest, pending);
    }
    return pending;
  }

  async #transfer(blob: Descriptor): Promise<void> {
    this.stopIfFailed();
    const progress = this.options.onProgress;
    if (await side("destination", `blob ${blob.digest}`, () => this.destination.exists(blob))) {
      this.counts.skipped++;
      progress?.({ type: "blob", digest: blob.digest, size: blob.size, state: "skipped" });
      return;
    }
    if (
      isMounter(this.destination) &&
      (await side("destination", `mount ${blob.digest}`, () =>
        (this.destination as Store & { mount(d: Descriptor, s: Store): Promise<boolean> }).mount(
          blob,
          this.source,
        ),
      ))
    ) {
      this.counts.mounted++;
      progress?.({ type: "blob", digest: blob.digest, size: blob.size, state: "mounted" });
      return;
    }
    progress?.({ type: "blob", digest: blob.digest, size: blob.size, state: "started" });
    // What the source itself raised: a failure it causes at the destination is charged to it.
    let sourceFault: unknown;
    try {
      await this.destination.pushBlob(blob, async (offset) =>
        // A stream between the two sides, so the destination tearing it down never looks like a
        // source error, and a source error is seen here before the destination reports it.
        pendingReadable(async () => {
          sourceFault = undefined; // a store that reopens has ridden out the earlier fault
          // Every store verifies what it receives before it becomes visible: no second hash at the source.
          const stream = await this.source.fetchBlob(blob, offset, { verify: false }).catch((error) => {
            sourceFault = error;
            throw error;
          });
          stream.once("error", (error) => {
            sourceFault ??= error;
          });
          this.#streams.add(stream);
          if (this.cancelled) stream.destroy(this.cancelled);
          if (progress)
            stream.on("data", (chunk: Buffer) =>
              progress({ type: "bytes", digest: blob.digest, bytes: chunk.byteLength }),
            );
          return stream;
        }),
      );
    } catch (error) {
      throw await blame(this.source, blob, error, sourceFault);
    }
    this.counts.copied++;
    this.bytes += blob.size;
    progress?.({ type: "blob", digest: blob.digest, size: blob.size, state: "done" });
  }
}
