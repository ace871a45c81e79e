// Prometheus metrics (prom-client), one registry per service instance. The names and labels are a
// contract with the canary analysis and the dashboards: route is the route template.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

export const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Children {
    count: { inc(): void };
    duration: { observe(v: number): void };
}

export class Metrics {
    readonly registry = new Registry();
    private readonly requests: Counter<"route" | "method" | "status">;
    private readonly duration: Histogram<"route" | "method" | "status">;
    private readonly children = new Map<string, Children>();
    /** Requests being served, read when the gauge is scraped (no bookkeeping per request). */
    private inFlightSource: () => number = () => 0;

    constructor(app: string, opts: { defaultMetrics?: boolean } = {}) {
        this.registry.setDefaultLabels({ app });
        if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
        this.requests = new Counter({
            name: "http_requests_total",
            help: "HTTP requests served, by route template, method and status code",
            labelNames: ["route", "method", "status"],
            registers: [this.registry],
        });
        this.duration = new Histogram({
            name: "http_request_duration_seconds",
            help: "HTTP request latency in seconds, by route template, method and status code",
            labelNames: ["route", "method", "status"],
            buckets: HTTP_BUCKETS,
            registers: [this.registry],
        });
        const inFlight = () => this.inFlightSource();
        new Gauge({
            name: "http_requests_in_flight",
            help: "HTTP requests being served",
            registers: [this.registry],
            collect() {
                this.set(inFlight());
            },
        });
    }

    /** Where the in-flight gauge reads its value. */
    countInFlight(source: () => number): void {
        this.inFlightSource = source;
    }

    /** Records one served request; label children are cached so the hot path does no label hashing. */
    observeRequest(route: string, method: string, status: number, seconds: number): void {
        const key = route + " " + method + " " + status;
        let c = this.children.get(key);
        if (c === undefined) {
            const labels = { route, method, status: String(status) };
            c = { count: this.requests.labels(labels), duration: this.duration.labels(labels) };
            this.children.set(key, c);
        }
        c.count.inc();
        c.duration.observe(seconds);
    }

    async render(): Promise<string> {
        return this.registry.metrics();
    }

    get contentType(): string {
        return this.registry.contentType;
    }
}
