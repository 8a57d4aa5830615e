import { Hono } from "hono";
import { authGuard } from "./auth/guard.js";
import { TokenServer } from "./auth/tokenServer.js";
import { Users } from "./auth/users.js";
import { type AuthMode, ociError, type RegistryAppOptions, type SimContext } from "./context.js";
import { FaultInjector } from "./faults.js";
import { HostileMode } from "./hostile.js";
import { noteFailure } from "./requestLog.js";
import { mountBlobs } from "./routes/blobs.js";
import { mountListings } from "./routes/listing.js";
import { mountManifests } from "./routes/manifests.js";
import { mountUploads } from "./routes/uploads.js";
import { MemoryStorage } from "./storage.js";

export type { RegistryAppOptions } from "./context.js";

/**
 * The embedded OCI registry as a plain `(Request) => Response` application.
 * More route modules (provider API fakes, token server) can be mounted on
 * the returned app and read the same storage through `sim.storage`.
 */
export function createRegistryApp(given: RegistryAppOptions = {}): {
  app: Hono;
  sim: SimContext;
  tokenServer: TokenServer | undefined;
  faults: FaultInjector | undefined;
  hostile: HostileMode | undefined;
  /** The auth mode in effect (a provider fake may have changed the one asked for). */
  auth: AuthMode;
} {
  // A provider fake may need the registry to behave like its provider's (Docker Hub: token auth).
  const options = (given.providers ?? []).reduce(
    (current, fake) => (fake.configure ? fake.configure(current) : current),
    given,
  );
  const users = options.users ?? new Users();
  const mode = options.auth ?? "none";
  const tokenServer =
    mode === "token" || options.tokenServer ? new TokenServer({ ...options.tokenServer, users }) : undefined;
  const sim: SimContext = {
    storage: options.storage ?? new MemoryStorage(),
    users,
    tokenServer,
    referrers: options.referrers ?? true,
    uploadTtlMs: options.uploadTtlMs ?? 60 * 60 * 1000,
    maxBlobBytes: options.maxBlobBytes ?? Number.POSITIVE_INFINITY,
    defaultPageSize: options.defaultPageSize,
  };
  const app = new Hono();
  const faults =
    options.faults instanceof FaultInjector
      ? options.faults
      : options.faults
        ? new FaultInjector(options.faults)
        : undefined;
  if (faults) app.use(faults.middleware());
  // Outside auth, so it sees (and can rewrite) challenges; inside faults, which model the network.
  const hostile = options.hostile !== undefined ? new HostileMode(options.hostile, sim.storage) : undefined;
  if (hostile) app.use(hostile.middleware());
  tokenServer?.mount(app);
  app.use("/v2/*", async (c, next) => {
    await next();
    c.res.headers.set("docker-distribution-api-version", "registry/2.0");
  });
  app.use("/v2/*", authGuard(mode, users, tokenServer));
  app.use("/v2", authGuard(mode, users, tokenServer));
  for (const fake of options.providers ?? []) fake.mount(app, sim);
  app.get("/v2/", (c) => c.json({}));
  app.get("/v2", (c) => c.json({}));
  mountListings(app, sim);
  mountUploads(app, sim);
  mountBlobs(app, sim);
  mountManifests(app, sim);
  app.notFound((c) => ociError(c, 404, "NOT_FOUND", "no such endpoint"));
  app.onError((error, c) => {
    noteFailure((c.env as { incoming?: object } | undefined)?.incoming, error);
    return ociError(c, 500, "UNKNOWN", "internal error");
  });
  return { app, sim, tokenServer, faults, hostile, auth: mode };
}
