import type { Span } from "@opentelemetry/api";

/** The exporter variables that turn telemetry on (OpenTelemetry's standard names). */
const ENDPOINTS = [
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
];

/** Which signals the environment asks the command line to export, if any. */
export function requestedSignals(env: NodeJS.ProcessEnv = process.env): {
  traces: boolean;
  metrics: boolean;
} {
  const off = { traces: false, metrics: false };
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return off;
  const anyEndpoint = ENDPOINTS.some((name) => env[name]?.trim());
  // OTEL_*_EXPORTER lists exporters; regkit speaks only otlp, and "none" turns a signal off.
  const wanted = (variable: string | undefined, endpoint: string | undefined) => {
    const exporters = variable?.split(",").map((e) => e.trim().toLowerCase()) ?? [];
    if (exporters.includes("none")) return false;
    return exporters.includes("otlp") || anyEndpoint || Boolean(endpoint?.trim());
  };
  return {
    traces: wanted(env.OTEL_TRACES_EXPORTER, env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT),
    metrics: wanted(env.OTEL_METRICS_EXPORTER, env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT),
  };
}

/** A started SDK: runs the command inside a root span, then flushes everything. */
export interface CliTelemetry {
  run(name: string, fn: () => Promise<number>): Promise<number>;
  shutdown(): Promise<void>;
}

/**
 * Registers the OpenTelemetry SDK globally with OTLP/HTTP exporters, which
 * read their endpoint, headers and timeouts from the standard variables.
 * Loaded only when those variables ask for it, so other runs never pay for it.
 */
export async function startTelemetry(
  version: string,
  signals: { traces: boolean; metrics: boolean },
  env: NodeJS.ProcessEnv = process.env,
): Promise<CliTelemetry> {
  const [api, { AsyncLocalStorageContextManager }, resources] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/context-async-hooks"),
    import("@opentelemetry/resources"),
  ]);
  const resource = resources
    .resourceFromAttributes({
      "service.name": env.OTEL_SERVICE_NAME?.trim() || "regkit",
      "service.version": version,
    })
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const shutdowns: Array<() => Promise<void>> = [];
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  if (signals.traces) {
    const [{ BasicTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }] = await Promise.all([
      import("@opentelemetry/sdk-trace-base"),
      import("@opentelemetry/exporter-trace-otlp-http"),
    ]);
    const provider = new BasicTracerProvider({
      resource,
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
    });
    api.trace.setGlobalTracerProvider(provider);
    shutdowns.push(() => provider.shutdown());
  }
  if (signals.metrics) {
    const [{ MeterProvider, PeriodicExportingMetricReader }, { OTLPMetricExporter }] = await Promise.all([
      import("@opentelemetry/sdk-metrics"),
      import("@opentelemetry/exporter-metrics-otlp-http"),
    ]);
    const provider = new MeterProvider({
      resource,
      readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter() })],
    });
    api.metrics.setGlobalMeterProvider(provider);
    shutdowns.push(() => provider.shutdown());
  }
  const tracer = api.trace.getTracer("regkit", version);
  return {
    run: (name, fn) =>
      tracer.startActiveSpan(name, async (span: Span) => {
        try {
          const code = await fn();
          span.setAttribute("process.exit.code", code);
          if (code !== 0) span.setStatus({ code: api.SpanStatusCode.ERROR });
          return code;
        } finally {
          span.end();
        }
      }),
    // Shutting a provider down exports what is pending (spans, a last metric collection).
    shutdown: async () => {
      await Promise.allSettled(shutdowns.map((shutdown) => shutdown()));
    },
  };
}
