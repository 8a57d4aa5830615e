import { setTimeout as sleep } from "node:timers/promises";
import { expect, it } from "vitest";
import { boundTransferMemory } from "./transferMemory.js";

it("read buffers that die at once do not pile up while a transfer keeps the process busy", async () => {
  boundTransferMemory();
  const held = () => process.memoryUsage().arrayBuffers;
  const start = held();
  let peak = 0;
  // As a transfer does: a 64 KiB buffer per read, dead once handled, 256 MiB in all, with the
  // event loop turning (a timer may run) every 1 MiB.
  for (let mib = 0; mib < 256; mib++) {
    for (let i = 0; i < 16; i++) Buffer.allocUnsafeSlow(64 << 10).fill(i);
    peak = Math.max(peak, held() - start);
    await sleep(1);
  }
  // Without the bound V8 waits for 64 MB of external memory before it collects them.
  expect(peak).toBeLessThan(32 << 20);
});
