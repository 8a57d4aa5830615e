// The modules under mutation testing: where a silent break costs most. Each names the
// source it mutates (Stryker globs, `file:from-to` for line ranges) and the tests that
// must notice.
export const MODULES = {
  digest: { mutate: ["src/core/digest.ts"], tests: ["src/core/digest.test.ts"] },
  "token-cache": {
    mutate: ["src/auth/tokenCache.ts"],
    tests: ["src/auth/auth.test.ts", "src/auth/authMiddleware.test.ts"],
  },
  "auth-middleware": {
    mutate: ["src/auth/authMiddleware.ts"],
    tests: ["src/auth/authMiddleware.test.ts", "src/auth/auth.test.ts"],
  },
  retry: { mutate: ["src/transport/retry.ts"], tests: ["src/transport/retry.test.ts"] },
  "circuit-breaker": {
    mutate: ["src/transport/circuitBreaker.ts"],
    tests: ["src/transport/circuitBreaker.test.ts"],
  },
  redirect: { mutate: ["src/transport/redirect.ts"], tests: ["src/transport/redirect.test.ts"] },
  // Redaction: its module holds the constants (module-level, hence `static`) and the functions applying them.
  "cassette-redaction": {
    mutate: ["src/transport/redaction.ts"],
    tests: ["src/transport/cassette.test.ts"],
    static: true,
  },
  // The copy engine and its blame of the side that failed, against memory, an OCI layout and the
  // embedded registry in-process (the integration suites test/copy*.test.ts take seconds per mutant).
  copy: {
    mutate: ["src/copy/copy.ts", "src/copy/blame.ts"],
    tests: ["src/copy/copy.test.ts", "src/copy/copy.failures.test.ts"],
  },
  // The GHCR and Artifact Registry REST clients: error mapping, calls and pages (their unit tests run
  // them against the provider fakes behind fault injection).
  ghcr: {
    mutate: ["src/providers/ghcr/githubErrors.ts", "src/providers/ghcr/packagesApi.ts"],
    tests: [
      "src/providers/ghcr/githubErrors.test.ts",
      "src/providers/ghcr/packagesApi.test.ts",
      "src/providers/ghcr/packagesApi.lookups.test.ts",
      "src/providers/ghcr/octokit.test.ts",
    ],
  },
  gar: {
    mutate: ["src/providers/gar/googleErrors.ts", "src/providers/gar/googleClient.ts"],
    tests: [
      "src/providers/gar/googleErrors.test.ts",
      "src/providers/gar/googleClient.test.ts",
      "src/providers/gar/quotaRetry.test.ts",
    ],
  },
  // The Docker Hub API client and its login session, by their unit tests against the Docker Hub
  // fake in-process (test/dockerhub.test.ts needs the real registries' global setup: too slow per mutant).
  dockerhub: {
    mutate: ["src/providers/dockerhub/hubClient.ts", "src/providers/dockerhub/hubSession.ts"],
    tests: ["src/providers/dockerhub/hubClient.test.ts", "src/providers/dockerhub/hubSession.test.ts"],
  },
};
