/**
 * Spans and metrics with the OpenTelemetry SDK's in-memory exporters: a
 * push, a pull and a failed call against the embedded registry.
 */
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  AggregationTemporality,
  type DataPoint,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NotFoundError } from "../src/core/errors.js";
import { Registry } from "../src/registry/registry.js";
import { generateImage } from "../src/sim/images.js";
import { type RegistryServer, startRegistryServer } from "../src/sim/server.js";

const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const reader = new PeriodicExportingMetricReader({
  exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
  exportIntervalMillis: 3_600_000,
});
const meterProvider = new MeterProvider({ readers: [reader] });
const contextManager = new AsyncLocalStorageContextManager().enable();

let server: RegistryServer;
let registry: Registry;

beforeAll(async () => {
  context.setGlobalContextManager(contextManager);
  server = await startRegistryServer();
  registry = new Registry({ credentials: false, tracerProvider, meterProvider });
});
afterAll(async () => {
  await registry.close();
  await server.close();
  context.disable();
  await meterProvider.shutdown();
  await tracerProvider.shutdown();
});

async function metric(name: string): Promise<Array<DataPoint<number>>> {
  const { resourceMetrics } = await reader.collect();
  const found = resourceMetrics.scopeMetrics
    .flatMap((s) => s.metrics)
    .find((m) => m.descriptor.name === name);
  return (found?.dataPoints ?? []) as Array<DataPoint<number>>;
}

const sum = (points: Array<DataPoint<number>>, attributes: Record<string, string>) =>
  points
    .filter((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v))
    .reduce((total, p) => total + (typeof p.value === "number" ? p.value : 0), 0);

const named = (name: string): ReadableSpan[] => spans.getFinishedSpans().filter((s) => s.name === name);
const childrenOf = (parent: ReadableSpan) =>
  spans.getFinishedSpans().filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);

describe("telemetry", () => {
  it("traces and counts a push", async () => {
    spans.reset();
    const image = await generateImage({ seed: "otel", layers: 2 });
    const repo = registry.repository(server.host, "otel/app");
    for (const blob of [image.config, ...image.layers]) await repo.uploads.upload(blob.bytes, blob);
    await repo.manifests.put("v1", image.manifest.bytes, image.manifest.mediaType);

    const uploads = named("oci.blob.upload");
    expect(uploads).toHaveLength(3);
    expect(uploads[0]!.attributes).toMatchObject({
      image: `${server.host}/otel/app`,
      digest: image.config.digest,
      provider: "oci",
    });
    // Each upload is a POST and a PUT on the wire, as HTTP child spans (the first one also
    // carries the one-time HTTPS probe of a loopback registry).
    expect(childrenOf(uploads[0]!).map((s) => s.name)).toEqual(["HTTP GET", "HTTP POST", "HTTP PUT"]);
    expect(childrenOf(uploads[1]!).map((s) => s.name)).toEqual(["HTTP POST", "HTTP PUT"]);
    const put = named("oci.manifest.put");
    expect(put[0]!.attributes).toMatchObject({ image: `${server.host}/otel/app`, tag: "v1" });
    expect(childrenOf(put[0]!)[0]!.attributes).toMatchObject({
      "http.request.method": "PUT",
      "http.response.status_code": 201,
    });

    const bytes = image.config.size + image.layers.reduce((n, l) => n + l.size, 0);
    expect(sum(await metric("regkit.bytes"), { direction: "upload", provider: "oci" })).toBe(bytes);
    expect(sum(await metric("regkit.transfers"), { kind: "push" })).toBe(1);
    expect(sum(await metric("regkit.operations"), { operation: "blob.upload", status: "ok" })).toBe(3);
  });

  it("traces and counts a pull", async () => {
    spans.reset();
    const repo = registry.repository(server.host, "otel/app");
    const manifest = await repo.manifests.get("v1");
    if (manifest.kind !== "image") throw new Error("expected an image");
    const layer = manifest.manifest.layers[0]!;
    const fetched = await repo.blobs.fetch(layer.digest, { size: layer.size });
    for await (const _ of fetched.stream) {
      // drain
    }
    expect(named("oci.manifest.get")[0]!.attributes).toMatchObject({ tag: "v1", provider: "oci" });
    expect(named("oci.blob.get")[0]!.attributes).toMatchObject({ digest: layer.digest });
    expect(sum(await metric("regkit.transfers"), { kind: "pull" })).toBe(1);
    expect(sum(await metric("regkit.bytes"), { direction: "download" })).toBe(layer.size);
    const durations = await metric("regkit.operation.duration");
    expect(durations.some((p) => p.attributes.operation === "manifest.get")).toBe(true);
  });

  it("marks a failed call as an error with its category", async () => {
    spans.reset();
    await expect(
      registry.repository(server.host, "otel/app").manifests.get("missing"),
    ).rejects.toBeInstanceOf(NotFoundError);
    const failed = named("oci.manifest.get")[0]!;
    expect(failed.status.code).toBe(2);
    expect(failed.attributes["error.type"]).toBe("MANIFEST_UNKNOWN");
    expect(failed.events.some((e) => e.name === "exception")).toBe(true);
    expect(sum(await metric("regkit.operations"), { operation: "manifest.get", status: "error" })).toBe(1);
    expect(sum(await metric("regkit.errors"), { category: "not-found" })).toBe(1);
    expect(sum(await metric("regkit.http.requests"), { method: "GET", status: 404 } as never)).toBe(1);
  });
});
