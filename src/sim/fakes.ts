import { ConfigurationError } from "../core/errors.js";
import type { ProviderFake } from "./context.js";

/**
 * The provider fakes that exist, by id, for `serve --providers a,b`. This is
 * the one place that knows them: the registry app takes `ProviderFake`s and
 * imports none, so a new fake adds an entry here and no arrow into the base.
 */
export interface ProviderFakeSettings {
  /** Registry pull budget: anonymous and authenticated pulls per window (Docker Hub). */
  pullLimits?: { anonymous?: number; authenticated?: number };
  /** Where the fakes deliver their webhooks, signed with `secret` when one is given. */
  webhooks?: Array<{ url: string; secret?: string }>;
}

export type ProviderFakeLoader = (settings: ProviderFakeSettings) => Promise<ProviderFake>;

export const PROVIDER_FAKES: Readonly<Record<string, ProviderFakeLoader>> = {
  dockerhub: async (settings) =>
    (await import("./dockerhub/fake.js")).dockerHubFake({
      ...(settings.pullLimits ? { pullLimits: settings.pullLimits } : {}),
      ...(settings.webhooks ? { webhooks: settings.webhooks } : {}),
    }),
  gar: async () => (await import("./gar/fake.js")).garFake(),
  ghcr: async () => (await import("./ghcr/fake.js")).ghcrFake(),
};

/** Resolves `serve --providers a,b` to fakes; unknown names are a clear error. */
export async function loadProviderFakes(
  names: string[],
  settings: ProviderFakeSettings = {},
  known: Readonly<Record<string, ProviderFakeLoader>> = PROVIDER_FAKES,
): Promise<ProviderFake[]> {
  const fakes: ProviderFake[] = [];
  for (const name of names) {
    const load = Object.hasOwn(known, name) ? known[name] : undefined;
    if (!load) {
      const available = Object.keys(known);
      throw new ConfigurationError(
        `no provider fake named ${JSON.stringify(name)} (available: ${available.length > 0 ? available.join(", ") : "none"})`,
      );
    }
    fakes.push(await load(settings));
  }
  return fakes;
}
