import { describe, expect, it } from "vitest";
import { scanSchema, toScan } from "./hubModel.js";

describe("Docker Hub scan answers", () => {
  it("keep hostile keys and states out of the report", () => {
    const scan = toScan(
      scanSchema.parse({
        scan_status: "toString",
        summary: { constructor: 5, __proto__: 7, high: 2 },
        vulnerabilities: [{ id: "CVE-1", severity: "weird" }],
      }),
    );
    expect(scan.status).toBe("unknown");
    expect(scan.counts).toEqual({ critical: 0, high: 2, medium: 0, low: 0, unknown: 0 });
    expect(scan.vulnerabilities).toEqual([{ id: "CVE-1", severity: "unknown" }]);
  });
});
