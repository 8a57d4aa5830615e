import { basic, type CredentialProvider } from "../../auth/credentials.js";
import { providerOf } from "../../core/providers.js";

/** The username Artifact Registry's Docker endpoint takes with an OAuth2 access token as password. */
export const DOCKER_TOKEN_USER = "oauth2accesstoken";

/**
 * Google credentials for the generic registry client (`regkit ls`, `copy`,
 * … on `*-docker.pkg.dev`): on the first Artifact Registry request it reads
 * the Artifact Registry settings, gets one access token and answers with
 * `oauth2accesstoken`. No Google credentials at all means "not mine", so
 * the chain goes on (Docker's config, anonymous).
 */
export function googleRegistryCredentials(env: NodeJS.ProcessEnv = process.env): CredentialProvider {
  let pending: Promise<{ token: string; source: string } | undefined> | undefined;
  const fetchToken = async () => {
    const { ArtifactRegistry } = await import("./index.js");
    const gar = await ArtifactRegistry.create({ env, tokens: { env, background: false } });
    try {
      return { token: (await gar.tokens.token()).reveal(), source: (await gar.tokens.source()).source };
    } catch (error) {
      if ((error as { code?: string }).code === "CREDENTIALS_NOT_FOUND") return undefined;
      throw error;
    } finally {
      await gar.close();
    }
  };
  return {
    name: "Google credentials (oauth2accesstoken)",
    async resolve({ registry }) {
      if (providerOf(registry) !== "gar" && !registry.startsWith("*")) return undefined;
      pending ??= fetchToken();
      const found = await pending;
      return found ? { credential: basic(DOCKER_TOKEN_USER, found.token), source: found.source } : undefined;
    },
  };
}
