import { garLocation, providerOf } from "../../core/providers.js";
import type { ProviderInfo } from "../provider.js";

export { transportFetch } from "../transportFetch.js";
export {
  ContainerAnalysisApi,
  type GarVulnerabilitySummary,
  GOOGLE_SEVERITIES,
  type GoogleSeverity,
  type Occurrence,
} from "./analysis.js";
export { ArtifactRegistryApi, type PackageRef, type RepositoryFormat } from "./api.js";
export {
  type CleanupCandidate,
  type CleanupDecision,
  type CleanupPlan,
  parseDuration,
  planCleanup,
} from "./cleanup.js";
export { GAR_DEFAULTS, type GarConfig, loadGarConfig } from "./config.js";
export {
  CLOUD_PLATFORM_SCOPE,
  type GoogleCredentialSource,
  GoogleTokenSource,
  readKeyFile,
} from "./googleAuth.js";
export { GoogleClient } from "./googleClient.js";
export { googleErrorFrom, parseGoogleError } from "./googleErrors.js";
export { googleRegistryCredentials } from "./googleRegistryCredentials.js";
export { checkLocation, GAR_LOCATIONS, isMultiRegion, nearestLocations } from "./locations.js";
export type * from "./model.js";
export { resourceId } from "./model.js";
export {
  dockerHost,
  type GarImage,
  type GarRepository,
  imageUrl,
  packageName,
  parseGarImage,
  parseGarRepository,
  repositoryName,
} from "./names.js";
export { garLocation };

/** What regkit knows about Google Artifact Registry as a provider (hosts, names). */
export const artifactRegistry: ProviderInfo = {
  id: "gar",
  matches: (host) => providerOf(host) === "gar",
};

export { ArtifactRegistry, type ArtifactRegistryOptions, dockerCredentials } from "./artifactRegistry.js";
export { DOCKER_TOKEN_USER } from "./dockerToken.js";
