import type { Hono } from "hono";
import { isDigest } from "../../core/digest.js";
import type { ProviderFake, RegistryAppOptions, SimContext } from "../context.js";
import { mountContainerAnalysis } from "./analysisRoutes.js";
import { type FakeGarRepository, GarCatalog } from "./catalog.js";
import {
  type FakeServiceAccount,
  GoogleAuthFake,
  type GooglePrincipal,
  generateServiceAccount,
  type ServiceAccountKeyFile,
} from "./googleAuthFake.js";
import { mountArtifactRegistry } from "./restRoutes.js";

export interface GarFakeOptions {
  /** Repositories (default: DEFAULT_GAR_REPOSITORIES). */
  repositories?: FakeGarRepository[];
  /** Service accounts whose assertions the token endpoint accepts (default: one generated, see `serviceAccountKey`). */
  serviceAccounts?: FakeServiceAccount[];
  /** Who the metadata server's tokens belong to. */
  metadata?: GooglePrincipal;
  /** Lifetime of access tokens (default 3600 s, as Google's). */
  tokenTtlSeconds?: number;
  now?: () => number;
}

export const DEFAULT_GAR_PROJECT = "demo-project";

export const DEFAULT_GAR_REPOSITORIES: FakeGarRepository[] = [
  {
    project: DEFAULT_GAR_PROJECT,
    location: "us-central1",
    repository: "containers",
    format: "DOCKER",
    description: "images built by CI",
    cleanupPolicies: {
      "keep-releases": {
        id: "keep-releases",
        action: "KEEP",
        condition: { tagState: "TAGGED", tagPrefixes: ["v"] },
      },
      "keep-recent": { id: "keep-recent", action: "KEEP", mostRecentVersions: { keepCount: 2 } },
      "delete-untagged": {
        id: "delete-untagged",
        action: "DELETE",
        condition: { tagState: "UNTAGGED", olderThan: "604800s" },
      },
    },
  },
  {
    project: DEFAULT_GAR_PROJECT,
    location: "us",
    repository: "common",
    format: "DOCKER",
    description: "multi-regional",
  },
  {
    project: DEFAULT_GAR_PROJECT,
    location: "europe-west1",
    repository: "npm-packages",
    format: "NPM",
    packages: { "left-pad": ["1.0.0", "1.1.0"], "@acme/ui": ["2.0.0"] },
  },
  { project: "other-project", location: "us-central1", repository: "private", format: "DOCKER" },
];

/**
 * The Artifact Registry fake: the REST API under `/gar` and Container
 * Analysis under `/containeranalysis`, both over the embedded registry's
 * storage (a push to `PROJECT/REPO/IMAGE` shows up as a package, versions
 * and tags); Google's OAuth2 token endpoint at `/gar/oauth2/token` verifying
 * JWT-bearer assertions; a GCE metadata server at `/computeMetadata/v1`;
 * and the registry's token auth accepting `oauth2accesstoken` with an
 * access token it issued.
 */
export class GarFake implements ProviderFake {
  readonly id = "gar";
  readonly endpoints = {
    "gar-api": "/gar",
    "gar-analysis": "/containeranalysis",
    "gar-docker": "",
    "gar-token": "/gar/oauth2/token",
    "gar-metadata": "",
  };
  readonly auth: GoogleAuthFake;
  /** The key file of the default service account (when none were given). */
  readonly serviceAccountKey: ServiceAccountKeyFile | undefined;
  readonly #options: GarFakeOptions;
  readonly #now: () => number;
  #catalog: GarCatalog | undefined;

  constructor(options: GarFakeOptions = {}) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    let accounts = options.serviceAccounts;
    if (!accounts) {
      const generated = generateServiceAccount(`regkit-ci@${DEFAULT_GAR_PROJECT}.iam.gserviceaccount.com`, [
        DEFAULT_GAR_PROJECT,
      ]);
      this.serviceAccountKey = generated.key;
      accounts = [generated.account];
    }
    this.auth = new GoogleAuthFake({
      accounts,
      metadata: options.metadata ?? {
        email: `1234567890-compute@developer.gserviceaccount.com`,
        projects: [DEFAULT_GAR_PROJECT],
      },
      ttlSeconds: options.tokenTtlSeconds ?? 3600,
      now: this.#now,
    });
  }

  get catalog(): GarCatalog {
    if (!this.#catalog) throw new Error("the Artifact Registry fake is not mounted yet");
    return this.#catalog;
  }

  configure(options: RegistryAppOptions): RegistryAppOptions {
    return {
      ...options,
      auth: "token",
      tokenServer: { ...options.tokenServer, service: "artifactregistry" },
    };
  }

  mount(app: Hono, sim: SimContext): void {
    this.#catalog = new GarCatalog(
      sim.storage,
      structuredClone(this.#options.repositories ?? DEFAULT_GAR_REPOSITORIES),
      this.#now,
    );
    this.auth.mount(app, sim.users, this.endpoints["gar-token"]);
    app.use("/v2/*", async (c, next) => {
      await next();
      const match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(new URL(c.req.url).pathname);
      const digest = c.res.headers.get("docker-content-digest");
      if (c.req.method === "PUT" && c.res.status === 201 && match && digest && isDigest(digest))
        this.catalog.pushed(decodeURIComponent(match[1]!), digest);
    });
    // Only for the fake: hands out the default service account's key file, so a CLI session can use it.
    app.get("/gar/_fake/service-account-key.json", (c) =>
      this.serviceAccountKey
        ? c.json(this.serviceAccountKey)
        : c.json({ error: "no default service account" }, 404),
    );
    mountArtifactRegistry(app, this.auth, this.catalog);
    mountContainerAnalysis(app, this.auth, this.catalog);
  }
}

export function garFake(options: GarFakeOptions = {}): GarFake {
  return new GarFake(options);
}
