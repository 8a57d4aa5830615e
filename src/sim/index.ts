export { createRegistryApp } from "./app.js";
export { type AuthMode, authGuard, requiredAccess } from "./auth/guard.js";
export { type Access, type Claims, libtrustKeyId, signJwt, verifyJwt } from "./auth/jwt.js";
export { TokenServer, type TokenServerOptions } from "./auth/tokenServer.js";
export { Users } from "./auth/users.js";
export type { RegistryAppOptions, SimContext } from "./context.js";
export { type FaultProxy, startFaultProxy } from "./faultProxy.js";
export { FaultInjector, type FaultOptions, type FaultRule, parseFaults } from "./faults.js";
export { FileStorage } from "./fileStorage.js";
export { type OciPage, ociPage } from "./pagination.js";
export {
  dockerHubError,
  dockerHubRateLimitHeaders,
  githubError,
  githubRateLimitHeaders,
  googleError,
  linkHeaderPage,
  loadProviderFakes,
  PROVIDER_FAKES,
  type ProviderFake,
  pageNumberPage,
  pageTokenPage,
} from "./providers.js";
export { type RegistryServer, type RegistryServerOptions, startRegistryServer } from "./server.js";
export { MemoryStorage, type RegistryStorage, type StoredManifest, type UploadState } from "./storage.js";
