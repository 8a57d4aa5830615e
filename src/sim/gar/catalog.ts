import type { Digest } from "../../core/digest.js";
import type { RegistryStorage, StoredManifest } from "../storage.js";

/** A repository of the fake; Docker ones read their packages from the registry storage. */
export interface FakeGarRepository {
  project: string;
  location: string;
  repository: string;
  format: "DOCKER" | "MAVEN" | "NPM" | "PYTHON" | "GO" | "APT" | "YUM";
  description?: string;
  cleanupPolicies?: Record<string, unknown>;
  /** Other formats: package → versions (oldest first). */
  packages?: Record<string, string[]>;
}

export interface FakeVersion {
  id: string;
  createTime: string;
  tags: string[];
  manifest?: StoredManifest;
}

/**
 * What the Artifact Registry fake knows: declared repositories, and for
 * Docker ones the images the embedded registry holds under
 * `PROJECT/REPO/IMAGE`, with when each manifest was first seen.
 */
export class GarCatalog {
  readonly repositories: FakeGarRepository[];
  readonly #storage: RegistryStorage;
  readonly #seen = new Map<string, Map<Digest, string>>();
  readonly #now: () => number;
  readonly #created: string;

  constructor(storage: RegistryStorage, repositories: FakeGarRepository[], now: () => number) {
    this.#storage = storage;
    this.repositories = repositories;
    this.#now = now;
    this.#created = new Date(now()).toISOString();
  }

  find(project: string, location: string, repository: string): FakeGarRepository | undefined {
    return this.repositories.find(
      (r) => r.project === project && r.location === location && r.repository === repository,
    );
  }

  /** Records a pushed manifest (first sight is its create time). */
  pushed(storageRepository: string, digest: Digest): void {
    let seen = this.#seen.get(storageRepository);
    if (!seen) {
      seen = new Map();
      this.#seen.set(storageRepository, seen);
    }
    if (!seen.has(digest)) seen.set(digest, new Date(this.#now()).toISOString());
  }

  /** Sets when a version was created (tests of cleanup policies). */
  setCreateTime(storageRepository: string, digest: Digest, at: Date): void {
    this.pushed(storageRepository, digest);
    this.#seen.get(storageRepository)!.set(digest, at.toISOString());
  }

  async packages(repo: FakeGarRepository): Promise<string[]> {
    if (repo.format !== "DOCKER") return Object.keys(repo.packages ?? {}).sort();
    const prefix = `${repo.project}/${repo.repository}/`;
    const names = (await this.#storage.repositories()).filter((name) => name.startsWith(prefix));
    return names.map((name) => name.slice(prefix.length)).sort();
  }

  async versions(repo: FakeGarRepository, pkg: string): Promise<FakeVersion[] | undefined> {
    if (repo.format !== "DOCKER") {
      const versions = repo.packages?.[pkg];
      return versions?.map((id) => ({ id, createTime: this.#created, tags: [] }));
    }
    const name = `${repo.project}/${repo.repository}/${pkg}`;
    if (!(await this.#storage.hasRepository(name))) return undefined;
    const byDigest = new Map<Digest, string[]>();
    for (const tag of await this.#storage.tags(name)) {
      const digest = await this.#storage.resolveTag(name, tag);
      if (digest) byDigest.set(digest, [...(byDigest.get(digest) ?? []), tag]);
    }
    const seen = this.#seen.get(name) ?? new Map<Digest, string>();
    const out: FakeVersion[] = [];
    for (const digest of new Set([...seen.keys(), ...byDigest.keys()])) {
      const manifest = await this.#storage.getManifest(name, digest);
      if (!manifest) continue;
      out.push({
        id: digest,
        createTime: seen.get(digest) ?? this.#created,
        tags: byDigest.get(digest) ?? [],
        manifest,
      });
    }
    return out.sort((a, b) => a.createTime.localeCompare(b.createTime) || a.id.localeCompare(b.id));
  }

  storage(): RegistryStorage {
    return this.#storage;
  }
}
