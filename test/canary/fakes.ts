// Test doubles for the canary tool: a fake Prometheus HTTP server, a recording StackDriver,
// a fake clock and a temp operations log.
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { Clock } from "../../scripts/canary/clock";
import { createOperationsLogger, type OperationsLogger } from "../../scripts/canary/logger";
import type { StackDriver, UpReport } from "../../scripts/canary/stackDriver";

/** What the fake answers for one query: a sample value, "empty" (no series), or an HTTP failure. */
export type FakeAnswer = string | "empty" | { status: number; body?: string };
type Scripted = FakeAnswer | ((analysis: number) => FakeAnswer);

/**
 * One series of app traffic as the apps record it: every request of `route` answered with
 * `status` after `seconds`, at `rps` requests per second over any range.
 */
export interface FakeSeries {
    app: string;
    track: "stable" | "canary";
    route: string;
    status: string;
    rps: number;
    seconds: number;
}

export interface FakePrometheus {
    url: string;
    /** Every PromQL expression received, in order. */
    queries: string[];
    /** Scripted answers per query kind; functions see how many analyses ran before (0-based). */
    requests: Scripted;
    errorRate: Scripted;
    p99: Scripted;
    /** When set, every answer is computed from these series instead (label matchers applied). */
    series?: FakeSeries[];
    close(): Promise<void>;
}

type QueryKind = "requests" | "errorRate" | "p99";

function vector(value: string) {
    return { status: "success", data: { resultType: "vector", result: [{ metric: {}, value: [1767225600, value] }] } };
}

const kindOf = (query: string): QueryKind =>
    query.startsWith("histogram_quantile") ? "p99" : query.startsWith("sum(increase(") ? "requests" : "errorRate";

// --- just enough PromQL to evaluate the canary's three queries over FakeSeries ---------------

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, Infinity];
const RANGE_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Series matching one `{...}` selector (=, !=, =~, !~; regexes fully anchored, as in Prometheus). */
function select(series: FakeSeries[], selector: string): FakeSeries[] {
    const matchers = [...selector.matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)].map(([, label, op, value]) => ({
        label,
        op,
        value,
    }));
    return series.filter((s) =>
        matchers.every(({ label, op, value }) => {
            const actual = String((s as unknown as Record<string, unknown>)[label] ?? "");
            if (op === "=") return actual === value;
            if (op === "!=") return actual !== value;
            const hit = new RegExp(`^(?:${value})$`).test(actual);
            return op === "=~" ? hit : !hit;
        }),
    );
}

function histogramQuantile(q: number, selected: FakeSeries[]): number {
    const cumulative = LATENCY_BUCKETS.map((le) => selected.filter((s) => s.seconds <= le).reduce((n, s) => n + s.rps, 0));
    const total = cumulative[cumulative.length - 1];
    if (total === 0) return NaN;
    const rank = q * total;
    const b = cumulative.findIndex((c) => c >= rank);
    if (LATENCY_BUCKETS[b] === Infinity) return LATENCY_BUCKETS[b - 1];
    const lower = b === 0 ? 0 : LATENCY_BUCKETS[b - 1];
    const below = b === 0 ? 0 : cumulative[b - 1];
    return lower + ((LATENCY_BUCKETS[b] - lower) * (rank - below)) / (cumulative[b] - below);
}

function evaluate(query: string, series: FakeSeries[]): FakeAnswer {
    const selectors = [...query.matchAll(/\{([^}]*)\}\[(\d+)(ms|s|m|h)\]/g)].map(([, sel, n, unit]) => ({
        selected: select(series, sel),
        seconds: Number(n) * RANGE_SECONDS[unit],
    }));
    const rps = (xs: FakeSeries[]) => xs.reduce((n, s) => n + s.rps, 0);
    switch (kindOf(query)) {
        case "requests": {
            const [{ selected, seconds }] = selectors;
            return selected.length === 0 ? "empty" : String(rps(selected) * seconds);
        }
        case "p99": {
            const [{ selected }] = selectors;
            return selected.length === 0 ? "empty" : String(histogramQuantile(0.99, selected));
        }
        case "errorRate": {
            // (sum(<5xx>) or vector(0)) / sum(<all>)
            const [errors, all] = selectors;
            return all.selected.length === 0 ? "empty" : String(rps(errors.selected) / rps(all.selected));
        }
    }
}

export async function startFakePrometheus(init: {
    requests?: Scripted;
    errorRate?: Scripted;
    p99?: Scripted;
    series?: FakeSeries[];
}): Promise<FakePrometheus> {
    const analyses: Record<QueryKind, number> = { requests: 0, errorRate: 0, p99: 0 };
    const fake: FakePrometheus = {
        url: "",
        queries: [],
        requests: init.requests ?? "1000",
        errorRate: init.errorRate ?? "0",
        p99: init.p99 ?? "0.1",
        series: init.series,
        close: async () => undefined,
    };
    const answer = (a: FakeAnswer, res: http.ServerResponse) => {
        if (typeof a === "object") {
            res.writeHead(a.status, { "content-type": "application/json" });
            res.end(a.body ?? JSON.stringify({ status: "error", errorType: "unavailable", error: "fake outage" }));
            return;
        }
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(a === "empty" ? { status: "success", data: { resultType: "vector", result: [] } } : vector(a)));
    };
    const server = http.createServer((req, res) => {
        const url = new URL(req.url ?? "/", "http://fake");
        const query = url.searchParams.get("query") ?? "";
        if (url.pathname !== "/api/v1/query") {
            res.writeHead(404).end();
            return;
        }
        fake.queries.push(query);
        if (query === "vector(1)") return answer("1", res);
        if (fake.series) return answer(evaluate(query, fake.series), res);
        const kind = kindOf(query);
        const scripted = fake[kind];
        const n = analyses[kind]++;
        return answer(typeof scripted === "function" ? scripted(n) : scripted, res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    fake.close = () =>
        new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        });
    return fake;
}

/** A URL on which nothing listens (connection refused). */
export async function deadPrometheusUrl(): Promise<string> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return `http://127.0.0.1:${port}`;
}

export interface RecordingDriver extends StackDriver {
    /** "set <key>=<value>", "rm <key>", "up <message>" in call order. */
    calls: string[];
    /** The apps config as the stack would hold it after the calls (path semantics). */
    apps: Record<string, any>;
    /** Called before each up; may throw to make the update fail, or return a non-succeeded result. */
    beforeUp?: (n: number, message: string) => void | Promise<void> | UpReport["result"];
}

export function recordingDriver(stackName: string, apps: Record<string, any>): RecordingDriver {
    const state = structuredClone(apps);
    const strip = (key: string) => {
        if (!key.startsWith("orders-platform:apps.")) throw new Error(`unexpected key ${key}`);
        return key.slice("orders-platform:apps.".length).split(".");
    };
    let ups = 0;
    const driver: RecordingDriver = {
        stackName,
        calls: [],
        apps: state,
        async readAppsConfig() {
            return structuredClone(state);
        },
        async setConfig(key, value) {
            driver.calls.push(`set ${key}=${value}`);
            const parts = strip(key);
            let obj: Record<string, any> = state;
            for (const p of parts.slice(0, -1)) obj = obj[p] ??= {};
            obj[parts[parts.length - 1]] = value;
        },
        async removeConfig(key) {
            driver.calls.push(`rm ${key}`);
            const parts = strip(key);
            let obj: Record<string, any> | undefined = state;
            for (const p of parts.slice(0, -1)) obj = obj?.[p];
            if (obj) delete obj[parts[parts.length - 1]];
        },
        async up(message, onOutput) {
            driver.calls.push(`up ${message}`);
            const r = await driver.beforeUp?.(ups++, message);
            onOutput(`Updating (${stackName}): ${message}\n`);
            return { result: typeof r === "string" ? r : "succeeded", changes: { update: 2, same: 40 } };
        },
    };
    return driver;
}

export interface FakeClock extends Clock {
    sleeps: number[];
}

export function fakeClock(start = "2026-01-01T00:00:00.000Z"): FakeClock {
    let t = Date.parse(start);
    const clock: FakeClock = {
        sleeps: [],
        now: () => new Date(t),
        sleep: async (ms) => {
            clock.sleeps.push(ms);
            t += ms;
        },
    };
    return clock;
}

export interface TempLog {
    file: string;
    stdout: string[];
    logger: OperationsLogger;
    read(): string;
    cleanup(): void;
}

export function tempLog(clock: Clock, scope = "canary users@prod"): TempLog {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "canary-test-"));
    // A nested, not yet existing directory: the logger must create it.
    const file = path.join(dir, "logs", "operations.log");
    const stdout: string[] = [];
    return {
        file,
        stdout,
        logger: createOperationsLogger({ file, clock, scope, out: (t) => stdout.push(t) }),
        read: () => fs.readFileSync(file, "utf8"),
        cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
}

/** The prod-like apps config: users has a 1.1.0 canary at 10 %, orders has none. */
export function prodApps(): Record<string, any> {
    return {
        users: { version: "1.0.0", replicas: 3, canary: { version: "1.1.0", weight: 10, replicas: 1 } },
        orders: { version: "1.0.0", replicas: 3 },
    };
}
