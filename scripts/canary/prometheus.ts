// Minimal Prometheus HTTP API client (instant queries) and the canary's PromQL.
import type { CanaryMetrics } from "./analysis";

export class PrometheusError extends Error {
    override name = "PrometheusError";
}

export interface PrometheusClient {
    /** Value of an instant query: a number (possibly NaN), or undefined when no series matched. */
    query(expr: string): Promise<number | undefined>;
}

/**
 * Real traffic only: the API routes. Probes (/healthz, /readyz), scrapes (/metrics) and /version
 * are recorded like any request; counting them would let a canary nobody calls look healthy.
 * The Grafana RED panels use the same matcher (test/canary/dashboards.test.ts keeps them equal).
 */
export const API_ROUTE_MATCHER = 'route=~"/api/.*"';

/** Series selector of an app's canary track; `app` and `track` come from the PodMonitor relabeling. */
export const canarySelector = (app: string) => `app="${app}",track="canary",${API_ROUTE_MATCHER}`;

export interface CanaryQueries {
    requests: string;
    errorRate: string;
    p99: string;
}

/** PromQL for the canary track of one app over `range` (a PromQL duration, e.g. "5m"). */
export function canaryQueries(app: string, range: string): CanaryQueries {
    const sel = canarySelector(app);
    return {
        requests: `sum(increase(http_requests_total{${sel}}[${range}]))`,
        // `or vector(0)`: a canary without a single 5xx has no 5xx series at all; that is 0 errors,
        // not "no data". No traffic still yields no data (empty denominator) or NaN (0/0).
        errorRate:
            `(sum(rate(http_requests_total{${sel},status=~"5.."}[${range}])) or vector(0))` +
            ` / sum(rate(http_requests_total{${sel}}[${range}]))`,
        p99: `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${sel}}[${range}])))`,
    };
}

interface QueryResponse {
    status: "success" | "error";
    error?: string;
    errorType?: string;
    data?: { resultType: string; result: unknown };
}

function sampleValue(sample: unknown): number {
    // Prometheus encodes sample values as strings: [ <unix time>, "<value>" ] ("NaN", "+Inf" included).
    if (!Array.isArray(sample) || sample.length !== 2 || typeof sample[1] !== "string") {
        throw new PrometheusError(`unexpected sample ${JSON.stringify(sample)}`);
    }
    const text = sample[1];
    if (text === "+Inf") return Infinity;
    if (text === "-Inf") return -Infinity;
    return Number(text);
}

export function httpPrometheusClient(baseUrl: string, opts: { timeoutMs?: number } = {}): PrometheusClient {
    const base = baseUrl.replace(/\/+$/, "");
    const timeoutMs = opts.timeoutMs ?? 10_000;
    return {
        async query(expr) {
            const url = `${base}/api/v1/query?query=${encodeURIComponent(expr)}`;
            let res: Response;
            try {
                res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" } });
            } catch (err) {
                const cause = (err as { cause?: { code?: string; message?: string } }).cause;
                const detail = cause?.code ?? cause?.message ?? (err as Error).message;
                throw new PrometheusError(`Prometheus at ${base} is unreachable (${detail})`);
            }
            const text = await res.text();
            let body: QueryResponse;
            try {
                body = JSON.parse(text) as QueryResponse;
            } catch {
                throw new PrometheusError(`Prometheus at ${base} answered HTTP ${res.status} with a non-JSON body`);
            }
            if (!res.ok || body.status !== "success" || !body.data) {
                throw new PrometheusError(
                    `Prometheus query failed (HTTP ${res.status}${body.errorType ? `, ${body.errorType}` : ""}): ${body.error ?? "no data field"}`,
                );
            }
            const { resultType, result } = body.data;
            if (resultType === "scalar") return sampleValue(result);
            if (resultType === "vector") {
                const series = result as { value: unknown }[];
                if (series.length === 0) return undefined;
                if (series.length > 1) throw new PrometheusError(`expected one series, got ${series.length} for ${expr}`);
                return sampleValue(series[0].value);
            }
            throw new PrometheusError(`unexpected result type ${resultType} for ${expr}`);
        },
    };
}

export async function fetchCanaryMetrics(client: PrometheusClient, app: string, range: string): Promise<CanaryMetrics> {
    const q = canaryQueries(app, range);
    const [requests, errorRate, p99Seconds] = await Promise.all([client.query(q.requests), client.query(q.errorRate), client.query(q.p99)]);
    return { requests, errorRate, p99Seconds };
}
