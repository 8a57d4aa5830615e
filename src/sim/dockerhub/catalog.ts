import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import type { Digest } from "../../core/digest.js";
import { parseImageConfig, parseManifest } from "../../core/manifest.js";
import type { RegistryStorage, StoredManifest } from "../storage.js";

/** What Docker Hub keeps about a repository beyond its content. */
export interface RepositoryMeta {
  isPrivate: boolean;
  description: string;
  fullDescription: string;
  starCount: number;
  pullCount: number;
  dateRegistered: string;
  lastUpdated: string;
}

export interface TagActivity {
  lastPushed?: string;
  lastPulled?: string;
  pusher?: string;
}

/** A stable small integer for an id field (Hub ids are integers). */
export function numericId(text: string): number {
  return createHash("sha256").update(text).digest().readUInt32BE(0) & 0x7fffffff;
}

async function readAll(stream: Readable, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).byteLength;
    if (size > limit) {
      stream.destroy();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Repositories of the registry seen as Docker Hub sees them: `namespace/name`
 * (two segments), with metadata the fake keeps beside the storage, and tags
 * described with their per-platform images as the Hub API lists them.
 */
export class HubCatalog {
  readonly #meta = new Map<string, RepositoryMeta>();
  readonly #activity = new Map<string, TagActivity>();

  constructor(
    private readonly storage: RegistryStorage,
    private readonly privateByDefault: Set<string>,
  ) {}

  async names(): Promise<string[]> {
    return (await this.storage.repositories()).filter((name) => name.split("/").length === 2);
  }

  async exists(name: string): Promise<boolean> {
    return this.#meta.has(name) || (await this.names()).includes(name);
  }

  meta(name: string): RepositoryMeta {
    let meta = this.#meta.get(name);
    if (!meta) {
      const now = new Date().toISOString();
      meta = {
        isPrivate: this.privateByDefault.has(name),
        description: "",
        fullDescription: "",
        starCount: 0,
        pullCount: 0,
        dateRegistered: now,
        lastUpdated: now,
      };
      this.#meta.set(name, meta);
    }
    return meta;
  }

  create(name: string, fields: Partial<RepositoryMeta>): RepositoryMeta {
    const meta = { ...this.meta(name), ...fields };
    this.#meta.set(name, meta);
    return meta;
  }

  forget(name: string): void {
    this.#meta.delete(name);
    for (const key of [...this.#activity.keys()]) if (key.startsWith(`${name}:`)) this.#activity.delete(key);
  }

  activity(name: string, tag: string): TagActivity {
    let entry = this.#activity.get(`${name}:${tag}`);
    if (!entry) {
      entry = {};
      this.#activity.set(`${name}:${tag}`, entry);
    }
    return entry;
  }

  pushed(name: string, tag: string, pusher: string | undefined): void {
    const now = new Date().toISOString();
    this.meta(name).lastUpdated = now;
    Object.assign(this.activity(name, tag), { lastPushed: now, ...(pusher ? { pusher } : {}) });
  }

  pulled(name: string, reference: string): void {
    this.meta(name).pullCount++;
    if (!reference.includes(":")) this.activity(name, reference).lastPulled = new Date().toISOString();
  }

  /** Deletes every manifest and blob link of a repository; false when there was nothing. */
  async deleteRepository(name: string): Promise<boolean> {
    if (!(await this.exists(name))) return false;
    for (const tag of await this.storage.tags(name)) {
      const digest = await this.storage.resolveTag(name, tag);
      const manifest = digest ? await this.storage.getManifest(name, digest) : undefined;
      if (!manifest) continue;
      const children = manifest.kind === "index" ? manifest.references : [];
      for (const child of [manifest.digest, ...children]) {
        const stored = await this.storage.getManifest(name, child);
        for (const blob of stored?.kind === "image" ? stored.references : [])
          await this.storage.unlinkBlob(name, blob);
        await this.storage.deleteManifest(name, child);
      }
    }
    this.forget(name);
    return true;
  }

  /** The Hub API's `tag` object for one tag; undefined when the tag does not exist. */
  async tag(name: string, tag: string): Promise<Record<string, unknown> | undefined> {
    const digest = await this.storage.resolveTag(name, tag);
    const manifest = digest ? await this.storage.getManifest(name, digest) : undefined;
    if (!manifest) return undefined;
    const images = await this.images(name, manifest);
    const activity = this.activity(name, tag);
    const updated = activity.lastPushed ?? this.meta(name).lastUpdated;
    return {
      id: numericId(`${name}:${tag}`),
      images,
      creator: numericId(activity.pusher ?? name.split("/")[0]!),
      last_updated: updated,
      last_updater: numericId(activity.pusher ?? name.split("/")[0]!),
      last_updater_username: activity.pusher ?? name.split("/")[0]!,
      name: tag,
      repository: numericId(name),
      full_size: images.reduce((max, image) => Math.max(max, image.size), 0),
      v2: "true",
      status: "active",
      tag_last_pulled: activity.lastPulled ?? null,
      tag_last_pushed: activity.lastPushed ?? updated,
      // Not in the published schema but served by Docker Hub: the digest the tag points to.
      digest: manifest.digest,
      media_type: manifest.mediaType,
    };
  }

  /** One entry per platform: the image itself, or each child of an index. */
  async images(name: string, manifest: StoredManifest) {
    const children =
      manifest.kind === "index"
        ? await Promise.all(manifest.references.map((d) => this.storage.getManifest(name, d)))
        : [manifest];
    const out: Array<{
      architecture: string;
      os: string;
      variant?: string;
      digest: Digest;
      size: number;
      status: "active";
      last_pushed: string;
      last_pulled: string | null;
      layers: Array<{ digest: Digest; size: number; instruction: string }>;
    }> = [];
    for (const child of children) {
      if (child?.kind !== "image") continue;
      const parsed = parseManifest(child.bytes, child.mediaType);
      if (parsed.kind !== "image") continue;
      const { config, layers } = parsed.manifest;
      const platform = await this.#platform(name, config.digest as Digest);
      out.push({
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant ? { variant: platform.variant } : {}),
        digest: child.digest,
        size: layers.reduce((sum, layer) => sum + layer.size, 0),
        status: "active",
        last_pushed: this.meta(name).lastUpdated,
        last_pulled: null,
        layers: layers.map((layer) => ({
          digest: layer.digest as Digest,
          size: layer.size,
          instruction: "",
        })),
      });
    }
    return out;
  }

  async #platform(
    name: string,
    config: Digest,
  ): Promise<{ os: string; architecture: string; variant?: string }> {
    const bytes = await readAll(this.storage.readBlob(name, config), 1 << 20);
    try {
      const parsed = bytes ? parseImageConfig(bytes) : undefined;
      return {
        os: parsed?.os ?? "unknown",
        architecture: parsed?.architecture ?? "unknown",
        ...(parsed?.variant ? { variant: parsed.variant } : {}),
      };
    } catch {
      return { os: "unknown", architecture: "unknown" };
    }
  }
}
