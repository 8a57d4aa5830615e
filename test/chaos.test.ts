/**
 * A bounded, seeded chaos run (the full one is `npm run chaos`): 51 concurrent
 * copies through faults on the source, the destination and both sides of the
 * real distribution registry. Nothing corrupted, every failure typed and
 * untagged, and a re-run finishing the rest without re-sending finished blobs.
 */
import { describe, expect, inject, it } from "vitest";
import { runChaos } from "./support/chaos.js";

describe("chaos", () => {
  it("51 concurrent copies through seeded faults: none corrupted, none failed uncleanly, the re-run finishes", async () => {
    const report = await runChaos({
      registry: inject("distribution"),
      seed: 1515,
      images: 51,
      maxLayerSize: 120_000,
    });
    console.log(`chaos (bounded): ${JSON.stringify(report)}`);
    expect(report.attempted).toBe(51);
    expect(report.corruptedBlobs).toBe(0);
    expect(report.failedUncleanly).toBe(0);
    expect(report.completed + report.failedCleanly).toBe(51);
    // Faults really happened on both sides, and most copies rode them out.
    expect(report.faultsApplied.reset ?? 0).toBeGreaterThan(0);
    expect(report.faultsApplied.truncate ?? 0).toBeGreaterThan(0);
    expect(report.faultsApplied.status ?? 0).toBeGreaterThan(0);
    expect(report.completed).toBeGreaterThanOrEqual(34);
    expect(report.rerun.completed).toBe(report.rerun.attempted);
    expect(report.rerun.finishedBlobsResent).toBe(0);
  });
});
