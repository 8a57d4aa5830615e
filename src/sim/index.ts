export { createRegistryApp } from "./app.js";
export type { RegistryAppOptions, SimContext } from "./context.js";
export { type OciPage, ociPage } from "./pagination.js";
export { type RegistryServer, type RegistryServerOptions, startRegistryServer } from "./server.js";
export { MemoryStorage, type RegistryStorage, type StoredManifest, type UploadState } from "./storage.js";
