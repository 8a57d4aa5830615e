import {
  type Counter,
  type MeterProvider,
  metrics,
  SpanKind,
  SpanStatusCode,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import type { Middleware } from "./types.js";

/**
 * One client span per HTTP exchange (retries and token requests included),
 * as a child of the operation span that caused it. The URL is recorded
 * without its query; headers never are.
 */
export function tracingMiddleware(
  options: { tracerProvider?: TracerProvider; meterProvider?: MeterProvider } = {},
): Middleware {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer("regkit");
  let requests: Counter | undefined;
  return {
    name: "tracing",
    wrap: (next) => (request) =>
      tracer.startActiveSpan(
        `HTTP ${request.method}`,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            "http.request.method": request.method,
            "url.full": `${request.url.origin}${request.url.pathname}`,
            "server.address": request.url.hostname,
            ...(request.operation ? { "regkit.operation": request.operation } : {}),
          },
        },
        async (span) => {
          requests ??= (options.meterProvider ?? metrics.getMeterProvider())
            .getMeter("regkit")
            .createCounter("regkit.http.requests", { description: "HTTP exchanges with registries" });
          try {
            const response = await next(request);
            span.setAttribute("http.response.status_code", response.status);
            if (response.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
            requests.add(1, { method: request.method, status: response.status });
            return response;
          } catch (error) {
            span.recordException(error as Error);
            span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
            requests.add(1, { method: request.method, status: "error" });
            throw error;
          } finally {
            span.end();
          }
        },
      ),
  };
}
