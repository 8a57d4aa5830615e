/** The authenticated registries the auth suites run against, and the test account. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Users } from "../../src/sim/auth/users.js";
import { type RegistryServer, startRegistryServer } from "../../src/sim/server.js";
import { type Distribution, startDistribution } from "./distribution.js";
import { makeSigningKey } from "./pki.js";

export const USER = "alice";
export const PASSWORD = "Sup3r-Secret-Passw0rd";

export interface AuthTarget {
  name: string;
  host: string;
  ca?: string;
  /** Token requests served so far, where the issuer is ours. */
  tokenRequests?: () => number;
  /** The token realm, where the registry uses tokens. */
  realm?: string;
  stop(): Promise<void>;
}

/** The four authenticated registries, started once per test file. */
export async function startAuthTargets(): Promise<AuthTarget[]> {
  const users = new Users({ [USER]: PASSWORD });
  const dir = await mkdtemp(join(tmpdir(), "regkit-auth-"));
  const signing = await makeSigningKey(dir);
  const issuer = await startRegistryServer({
    users,
    tokenServer: { issuer: "regkit-test-issuer", service: "regkit-test", signingKey: signing.keyPem },
  });
  const tokenDistribution: Distribution = await startDistribution({
    auth: "token",
    realm: `${issuer.url}/token`,
    service: "regkit-test",
    issuer: "regkit-test-issuer",
    rootCertPath: signing.certPath,
  });
  const tlsDistribution = await startDistribution({ auth: "htpasswd", users: { [USER]: PASSWORD } });
  const embeddedBasic: RegistryServer = await startRegistryServer({ auth: "basic", users });
  const embeddedToken: RegistryServer = await startRegistryServer({ auth: "token", users });
  return [
    {
      name: "distribution htpasswd+TLS",
      host: tlsDistribution.host,
      ca: tlsDistribution.caPem!,
      stop: () => tlsDistribution.stop(),
    },
    {
      name: "distribution token",
      host: tokenDistribution.host,
      tokenRequests: () => issuer.tokenServer!.requests,
      realm: `${issuer.url}/token`,
      stop: async () => {
        await tokenDistribution.stop();
        await issuer.close();
        await rm(dir, { recursive: true, force: true });
      },
    },
    { name: "embedded basic", host: embeddedBasic.host, stop: () => embeddedBasic.close() },
    {
      name: "embedded token",
      host: embeddedToken.host,
      tokenRequests: () => embeddedToken.tokenServer!.requests,
      realm: `${embeddedToken.url}/token`,
      stop: () => embeddedToken.close(),
    },
  ];
}
