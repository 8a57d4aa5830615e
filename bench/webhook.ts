/**
 * `npm run bench:webhook`: `regkit webhook serve` under load, a measurement
 * (not a timed test). The built CLI receives WEBHOOK_EVENTS (default 10 000)
 * signed Docker Hub deliveries, each with its own tag, from autocannon at
 * WEBHOOK_CONNECTIONS (default 200) concurrent connections, then 1 000 with a
 * bad signature. Reported: events received, lost and dispatched twice (from
 * the JSON lines on stdout), bad signatures rejected, throughput and p99
 * latency, and the server's RSS before, at peak and after. Exits 1 when an
 * event is lost or duplicated or a bad signature is accepted.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
// @ts-expect-error autocannon ships no types
import autocannon from "autocannon";
import { SecretString } from "../src/core/secret.js";
import { sign } from "../src/providers/webhooks/signature.js";

const EVENTS = Number(process.env.WEBHOOK_EVENTS ?? 10_000);
const CONNECTIONS = Number(process.env.WEBHOOK_CONNECTIONS ?? 200);
const BAD = 1000;
const CLI = join(import.meta.dirname, "..", "dist", "cli", "main.js");
const EXAMPLE = join(
  import.meta.dirname,
  "..",
  "test",
  "reference",
  "dockerhub",
  "webhook-payload.example.json",
);

interface Result {
  requests: { average: number };
  latency: { p99: number; average: number };
  statusCodeStats: Record<string, { count: number }>;
  non2xx: number;
  errors: number;
  duration: number;
}

function load(url: string, bodies: (i: number) => { body: string; signature: string }, amount: number) {
  let i = 0;
  return new Promise<Result>((resolve, reject) => {
    autocannon(
      {
        url,
        method: "POST",
        connections: CONNECTIONS,
        amount,
        headers: { "content-type": "application/json" },
        requests: [
          {
            setupRequest: (request: { headers: Record<string, string> }) => {
              const { body, signature } = bodies(i++);
              return {
                ...request,
                body,
                headers: { ...request.headers, "x-hub-signature-256": signature },
              };
            },
          },
        ],
      },
      (error: Error | null, result: Result) => (error ? reject(error) : resolve(result)),
    );
  });
}

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

const dir = await mkdtemp(join(tmpdir(), "regkit-webhook-bench-"));
const secret = new SecretString("bench-webhook-secret-0f9e");
await writeFile(join(dir, "secret"), secret.reveal());
const example = JSON.parse(await readFile(EXAMPLE, "utf8")) as { push_data: { tag: string } };
const child = spawn(
  process.execPath,
  [
    CLI,
    "webhook",
    "serve",
    "--provider",
    "dockerhub",
    "--port",
    "0",
    "--secret-file",
    join(dir, "secret"),
    "--max-pending",
    "100000",
  ],
  { stdio: ["ignore", "pipe", "pipe"] },
);
let stdout = "";
child.stdout.on("data", (d: Buffer) => {
  stdout += d.toString();
});
const url = await new Promise<string>((resolve, reject) => {
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
    const match = /webhook (http:\/\/\S+)/.exec(stderr);
    if (match) resolve(match[1]!);
  });
  child.once("exit", (code) => reject(new Error(`webhook serve exited ${code}: ${stderr}`)));
});

const pid = child.pid!;
const rssBefore = await rssKiB(pid);
let rssPeak = rssBefore;
const sampler = setInterval(() => {
  rssKiB(pid).then(
    (kib) => {
      rssPeak = Math.max(rssPeak, kib);
    },
    () => undefined,
  );
}, 100);

const signed = (i: number) => {
  const body = JSON.stringify({ ...example, push_data: { ...example.push_data, tag: `load-${i}` } });
  return { body, signature: sign(body, secret) };
};
const good = await load(url, signed, EVENTS);
const bad = await load(
  url,
  (i) => ({ body: signed(EVENTS + i).body, signature: sign("something else", secret) }),
  BAD,
);
// Let the last lines reach stdout, then measure memory once the load is gone.
await new Promise((r) => setTimeout(r, 1000));
const rssAfter = await rssKiB(pid);
clearInterval(sampler);
child.kill("SIGTERM");
await new Promise((resolve) => child.once("exit", resolve));
await rm(dir, { recursive: true, force: true });

const tags = stdout
  .trimEnd()
  .split("\n")
  .filter(Boolean)
  .map((line) => (JSON.parse(line) as { tag: string }).tag);
const unique = new Set(tags);
const expected = Array.from({ length: EVENTS }, (_, i) => `load-${i}`);
const lost = expected.filter((tag) => !unique.has(tag)).length;
const report = {
  events: EVENTS,
  connections: CONNECTIONS,
  received: tags.length,
  lost,
  duplicated: tags.length - unique.size,
  badSignatureAccepted: [...unique].filter((tag) => Number(tag.slice(5)) >= EVENTS).length,
  badSignatureRejected401: bad.statusCodeStats["401"]?.count ?? 0,
  goodStatus: Object.fromEntries(Object.entries(good.statusCodeStats).map(([k, v]) => [k, v.count])),
  throughputPerSecond: Math.round(good.requests.average),
  latencyMs: { average: good.latency.average, p99: good.latency.p99 },
  rssMiB: { before: rssBefore / 1024, peak: rssPeak / 1024, after: rssAfter / 1024 },
};
console.log(JSON.stringify(report, null, 2));
process.exitCode =
  report.lost === 0 &&
  report.duplicated === 0 &&
  report.badSignatureAccepted === 0 &&
  report.badSignatureRejected401 === BAD
    ? 0
    : 1;
