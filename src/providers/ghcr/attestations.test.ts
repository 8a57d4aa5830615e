/**
 * Reading scan results attached to GHCR images, document by document: what each
 * shape yields, and what is ignored rather than misread. The integration suite
 * (test/ghcr.test.ts, FR-VULN) attaches whole documents through the registry.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { COSIGN_VULN_PREDICATE, readDocument, severityOf, severityOfScore } from "./attestations.js";

const doc = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value));
const cosign = (predicate: unknown) => doc({ predicateType: COSIGN_VULN_PREDICATE, predicate });

describe("severities", () => {
  it.each([
    ["CRITICAL", "critical"],
    ["High", "high"],
    ["medium", "medium"],
    ["LOW", "low"],
    ["moderate", "medium"],
    ["negligible", "unknown"],
    [undefined, "unknown"],
    [7, "unknown"],
  ])("%s → %s", (value, severity) => {
    expect(severityOf(value)).toBe(severity);
  });

  it.each([
    [10, "critical"],
    [9, "critical"],
    [8.9, "high"],
    [7, "high"],
    [6.9, "medium"],
    [4, "medium"],
    [3.9, "low"],
    [0.1, "low"],
    [0, "unknown"],
    [-1, "unknown"],
    [Number.NaN, "unknown"],
    [Number.POSITIVE_INFINITY, "unknown"],
  ])("CVSS %s → %s", (score, severity) => {
    expect(severityOfScore(score)).toBe(severity);
  });
});

describe("readDocument", () => {
  it("reads a Trivy report inside a cosign vulnerability attestation, with scanner and scan time", () => {
    const read = readDocument(
      cosign({
        scanner: {
          uri: "pkg:github/aquasecurity/trivy",
          version: "0.50.0",
          result: {
            Results: [
              "not an object",
              { Target: "no findings" },
              {
                Vulnerabilities: [
                  {
                    VulnerabilityID: "CVE-1",
                    Severity: "HIGH",
                    PkgName: "openssl",
                    InstalledVersion: "3.0.1",
                    FixedVersion: "3.0.2",
                    PrimaryURL: "https://avd/CVE-1",
                  },
                  { VulnerabilityID: "CVE-2", Severity: "LOW", FixedVersion: "" },
                  { Severity: "CRITICAL" },
                  "junk",
                ],
              },
            ],
          },
        },
        metadata: { scanStartedOn: "2026-01-01T00:00:00Z", scanFinishedOn: "2026-01-01T00:05:00Z" },
      }),
    );
    expect(read).toEqual({
      findings: {
        scanner: "pkg:github/aquasecurity/trivy@0.50.0",
        scannedAt: new Date("2026-01-01T00:05:00Z"),
        vulnerabilities: [
          {
            id: "CVE-1",
            severity: "high",
            package: "openssl",
            version: "3.0.1",
            fixedVersion: "3.0.2",
            url: "https://avd/CVE-1",
          },
          { id: "CVE-2", severity: "low" },
        ],
      },
    });
  });

  it("takes the start time when no finish time is given, and no time when it is not a date", () => {
    const started = readDocument(cosign({ metadata: { scanStartedOn: "2026-02-03T04:05:06Z" } }));
    expect(started?.findings?.scannedAt).toEqual(new Date("2026-02-03T04:05:06Z"));
    expect(started?.findings?.scanner).toBeUndefined();
    expect(started?.findings?.vulnerabilities).toEqual([]);
    const garbled = readDocument(cosign({ metadata: { scanFinishedOn: "yesterday" }, scanner: "trivy" }));
    expect(garbled?.findings?.scannedAt).toBeUndefined();
    const unversioned = readDocument(cosign({ scanner: { uri: "trivy", result: { Results: "none" } } }));
    expect(unversioned?.findings?.scanner).toBe("trivy");
  });

  it("reads a SARIF result inside a cosign attestation", () => {
    const read = readDocument(
      cosign({
        scanner: {
          result: {
            runs: [
              {
                tool: {
                  driver: {
                    name: "grype",
                    rules: [{ id: "CVE-9", properties: { "security-severity": "9.8" } }],
                  },
                },
                results: [{ ruleId: "CVE-9" }],
              },
            ],
          },
        },
      }),
    );
    expect(read?.findings?.vulnerabilities).toEqual([{ id: "CVE-9", severity: "critical" }]);
  });

  it("reads a SARIF log: severity from security-severity, then tags, then the result's or rule's level", () => {
    const rules = [
      {
        id: "SCORE",
        properties: { "security-severity": "7.5", tags: ["low"] },
        helpUri: "https://rule/SCORE",
      },
      { id: "TAGGED", properties: { tags: ["security", "Medium"] } },
      { id: "RULE-LEVEL", defaultConfiguration: { level: "note" } },
      { id: "NOTHING", properties: { tags: ["security"] } },
      { properties: {} },
      "junk",
    ];
    const read = readDocument(
      doc({
        version: "2.1.0",
        runs: [
          "junk",
          {
            tool: { driver: { name: "trivy", version: "0.50.0", rules } },
            results: [
              { ruleId: "SCORE" },
              { ruleId: "SCORE", level: "error" },
              { ruleId: "TAGGED" },
              { ruleId: "ERROR", level: "error" },
              { ruleId: "WARNING", level: "warning" },
              { ruleId: "RULE-LEVEL" },
              { ruleId: "NOTHING" },
              { level: "error" },
              "junk",
            ],
          },
          { tool: { driver: { name: "second run" } }, results: [{ ruleId: "OTHER", level: "note" }] },
        ],
      }),
    );
    expect(read?.findings).toEqual({
      scanner: "trivy 0.50.0",
      scannedAt: undefined,
      vulnerabilities: [
        { id: "SCORE", severity: "high", url: "https://rule/SCORE" },
        { id: "TAGGED", severity: "medium" },
        { id: "ERROR", severity: "high" },
        { id: "WARNING", severity: "medium" },
        { id: "RULE-LEVEL", severity: "low" },
        { id: "NOTHING", severity: "unknown" },
        { id: "OTHER", severity: "low" },
      ],
    });
    // A run without a tool names no scanner.
    const anonymous = readDocument(doc({ version: "2.1.0", runs: [{ results: [] }] }));
    expect(anonymous?.findings).toEqual({ scanner: undefined, scannedAt: undefined, vulnerabilities: [] });
  });

  it("reads OpenVEX statements, bare or as an in-toto predicate, clearing only not_affected and fixed", () => {
    const statements = [
      { vulnerability: { name: "CVE-1" }, status: "not_affected" },
      { vulnerability: "CVE-2", status: "fixed" },
      { vulnerability: "CVE-3", status: "affected" },
      { vulnerability: { id: "CVE-4" }, status: "fixed" },
      "junk",
    ];
    const bare = readDocument(doc({ "@context": "https://openvex.dev/ns/v0.2.0", statements }));
    expect([...(bare?.cleared ?? [])]).toEqual(["CVE-1", "CVE-2"]);
    const predicate = readDocument(
      doc({ predicateType: "https://openvex.dev/ns/v0.2.0", predicate: { statements } }),
    );
    expect([...(predicate?.cleared ?? [])]).toEqual(["CVE-1", "CVE-2"]);
    expect([...(readDocument(doc({ "@context": "https://openvex.dev/ns" }))?.cleared ?? [])]).toEqual([]);
  });

  it("unwraps a DSSE envelope", () => {
    const statement = { predicateType: COSIGN_VULN_PREDICATE, predicate: { scanner: { uri: "trivy" } } };
    const envelope = {
      payloadType: "application/vnd.in-toto+json",
      payload: Buffer.from(JSON.stringify(statement)).toString("base64"),
    };
    expect(readDocument(doc(envelope))?.findings?.scanner).toBe("trivy");
  });

  it.each([
    ["not JSON", "{"],
    ["a JSON array", "[1,2]"],
    ["a JSON string", '"text"'],
    ["an SBOM predicate", { predicateType: "https://spdx.dev/Document", predicate: {} }],
    ["a predicate that is not an object", { predicateType: COSIGN_VULN_PREDICATE, predicate: "x" }],
    ["SARIF without a version", { runs: [] }],
    ["an unrelated @context", { "@context": "https://schema.org" }],
    ["an envelope with an empty payload", { payloadType: "x", payload: "" }],
  ])("ignores %s", (_what, value) => {
    expect(readDocument(doc(value as unknown))).toBeUndefined();
  });

  it("never throws, whatever JSON is attached", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        readDocument(doc(JSON.stringify(value)));
      }),
      { numRuns: 500 },
    );
  });
});
