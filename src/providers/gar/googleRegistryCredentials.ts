import { basic, type CredentialProvider } from "../../auth/credentials.js";
import { providerOf } from "../../core/providers.js";

import { DOCKER_TOKEN_USER } from "./dockerToken.js";

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
    const { ArtifactRegistry } = await import("./artifactRegistry.js");
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
