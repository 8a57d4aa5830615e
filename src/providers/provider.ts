/**
 * What a provider module declares about itself so the generic client can
 * recognise its hosts. Providers add their management APIs, auth and
 * quirks in their own issues; this is the shared shape they start from.
 */
export interface ProviderInfo {
  /** Stable id used in metrics, errors and logs (`provider` attribute). */
  readonly id: "dockerhub" | "ghcr" | "gar";
  /** Whether a registry host (as written in references) belongs to this provider. */
  matches(registryHost: string): boolean;
}
