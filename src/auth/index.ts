export { type AuthOptions, authMiddleware } from "./authMiddleware.js";
export { type Challenge, parseChallenges, pickChallenge } from "./challenge.js";
export { CredentialHelper, CredentialHelperError } from "./credentialHelper.js";
export {
  basic,
  type Credential,
  type CredentialProvider,
  type CredentialTarget,
  chainProviders,
  DOCKER_HUB_CONFIG_KEY,
  environmentCredentials,
  normalizeRegistryKey,
  type ResolvedCredential,
  staticCredentials,
} from "./credentials.js";
export { defaultCredentials } from "./defaultCredentials.js";
export { DockerConfig, dockerConfigPath } from "./dockerConfig.js";
export { formatScope, mergeScopes, parseScope, type Scope, scopesCover } from "./scope.js";
export { TokenCache } from "./tokenCache.js";
export { fetchToken, type Token } from "./tokenService.js";
