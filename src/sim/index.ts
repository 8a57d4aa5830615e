export { createRegistryApp } from "./app.js";
export { authGuard, requiredAccess } from "./auth/guard.js";
export { type Access, type Claims, libtrustKeyId, signJwt, verifyJwt } from "./auth/jwt.js";
export { TokenServer, type TokenServerOptions } from "./auth/tokenServer.js";
export { Users } from "./auth/users.js";
export type { AuthMode, ProviderFake, RegistryAppOptions, SimContext } from "./context.js";
export { dockerHubError, dockerHubRateLimitHeaders } from "./dockerhub/hubShapes.js";
export {
  loadProviderFakes,
  PROVIDER_FAKES,
  type ProviderFakeLoader,
  type ProviderFakeSettings,
} from "./fakes.js";
export { type FaultProxy, startFaultProxy } from "./faultProxy.js";
export { FaultInjector, type FaultOptions, type FaultRule, parseFaults } from "./faults.js";
export { FileStorage } from "./fileStorage.js";
export { googleError } from "./gar/googleShapes.js";
export { githubError, githubRateLimitHeaders } from "./ghcr/githubShapes.js";
export {
  HOSTILE_KINDS,
  type HostileKind,
  HostileMode,
  type HostileOptions,
  type HostileSpec,
  parseHostile,
  type SeenRequest,
} from "./hostile.js";
export { linkHeaderPage, type OciPage, ociPage, pageNumberPage, pageTokenPage } from "./pagination.js";
export { type RegistryServer, type RegistryServerOptions, startRegistryServer } from "./server.js";
export { MemoryStorage, type RegistryStorage, type StoredManifest, type UploadState } from "./storage.js";
