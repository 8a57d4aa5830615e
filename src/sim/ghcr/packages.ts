import type { Digest } from "../../core/digest.js";
import type { RegistryStorage, StoredManifest } from "../storage.js";

interface VersionRecord {
  id: number;
  repository: string;
  digest: Digest;
  createdAt: number;
  updatedAt: number;
}

interface DeletedVersion extends VersionRecord {
  manifest: StoredManifest;
  tags: string[];
  deletedAt: number;
}

export interface ActiveVersion extends VersionRecord {
  tags: string[];
}

/**
 * GHCR's view of the embedded registry: every manifest pushed to
 * `OWNER/PACKAGE` is a version (id, name = digest, tags from the storage),
 * a package exists while it has versions, and deleting a version removes
 * the manifest and its tags from the registry, keeping them 30 days for a
 * restore. Version records live beside the storage (they are the API's
 * metadata, not the registry's content).
 */
export class GhcrPackages {
  readonly #versions = new Map<string, VersionRecord>();
  readonly #deleted = new Map<number, DeletedVersion>();
  readonly #packages = new Map<string, { id: number; createdAt: number; visibility: "public" | "private" }>();
  #nextId = 1000;

  constructor(
    private readonly storage: RegistryStorage,
    private readonly now: () => number,
    private readonly publicByDefault: Set<string>,
  ) {}

  /** A manifest was pushed: a new version unless this digest is already one. */
  pushed(repository: string, digest: Digest): void {
    const key = `${repository}@${digest}`;
    const at = this.now();
    const known = this.#versions.get(key);
    if (known) {
      known.updatedAt = at;
      return;
    }
    if (!this.#packages.has(repository))
      this.#packages.set(repository, {
        id: this.#nextId++,
        createdAt: at,
        visibility: this.publicByDefault.has(repository) ? "public" : "private",
      });
    this.#versions.set(key, { id: this.#nextId++, repository, digest, createdAt: at, updatedAt: at });
  }

  /** Tests: pretend a version was created at another time (cleanup by age). */
  setCreated(repository: string, digest: Digest, at: Date): void {
    const record = this.#versions.get(`${repository}@${digest}`);
    if (!record) throw new Error(`no version ${repository}@${digest}`);
    record.createdAt = at.getTime();
    record.updatedAt = at.getTime();
  }

  package(repository: string) {
    return this.#packages.get(repository);
  }

  setVisibility(repository: string, visibility: "public" | "private"): void {
    const entry = this.#packages.get(repository);
    if (entry) entry.visibility = visibility;
    else this.publicByDefault[visibility === "public" ? "add" : "delete"](repository);
  }

  isPublic(repository: string): boolean {
    return (
      (this.#packages.get(repository)?.visibility ??
        (this.publicByDefault.has(repository) ? "public" : "private")) === "public"
    );
  }

  /** Versions still in the registry, newest first (as GitHub lists them). */
  async active(repository: string): Promise<ActiveVersion[]> {
    const tagsOf = new Map<Digest, string[]>();
    for (const tag of await this.storage.tags(repository)) {
      const digest = await this.storage.resolveTag(repository, tag);
      if (digest) tagsOf.set(digest, [...(tagsOf.get(digest) ?? []), tag]);
    }
    const out: ActiveVersion[] = [];
    for (const record of this.#versions.values()) {
      if (record.repository !== repository) continue;
      if (!(await this.storage.getManifest(repository, record.digest))) continue;
      out.push({ ...record, tags: tagsOf.get(record.digest) ?? [] });
    }
    return out.sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
  }

  deletedVersions(repository: string): DeletedVersion[] {
    return [...this.#deleted.values()]
      .filter((d) => d.repository === repository)
      .sort((a, b) => b.deletedAt - a.deletedAt);
  }

  /** Packages (repository names) of an owner that have a version left. */
  async packagesOf(owner: string): Promise<string[]> {
    const names = new Set<string>();
    for (const record of this.#versions.values())
      if (record.repository.startsWith(`${owner.toLowerCase()}/`)) names.add(record.repository);
    const out: string[] = [];
    for (const name of [...names].sort()) if ((await this.active(name)).length > 0) out.push(name);
    return out;
  }

  async version(repository: string, id: number): Promise<ActiveVersion | undefined> {
    return (await this.active(repository)).find((v) => v.id === id);
  }

  async delete(repository: string, id: number): Promise<boolean> {
    const version = await this.version(repository, id);
    if (!version) return false;
    const manifest = await this.storage.getManifest(repository, version.digest);
    if (!manifest) return false;
    for (const tag of version.tags) await this.storage.deleteTag(repository, tag);
    await this.storage.deleteManifest(repository, version.digest);
    this.#versions.delete(`${repository}@${version.digest}`);
    this.#deleted.set(id, { ...version, manifest, tags: version.tags, deletedAt: this.now() });
    return true;
  }

  /** Puts a deleted version back (its manifest and the tags nobody took since). */
  async restore(repository: string, id: number): Promise<boolean> {
    const entry = this.#deleted.get(id);
    if (!entry || entry.repository !== repository) return false;
    await this.storage.putManifest(repository, entry.manifest);
    for (const tag of entry.tags)
      if (!(await this.storage.resolveTag(repository, tag)))
        await this.storage.setTag(repository, tag, entry.digest);
    this.#deleted.delete(id);
    this.#versions.set(`${repository}@${entry.digest}`, {
      id: entry.id,
      repository,
      digest: entry.digest,
      createdAt: entry.createdAt,
      updatedAt: this.now(),
    });
    return true;
  }
}
