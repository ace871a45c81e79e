// Pure canary decisions: metrics + thresholds -> verdict, verdict + position -> next action.
// Missing data is a failure: a canary nobody can observe is never promoted.

export interface Thresholds {
    /** Highest tolerated share of 5xx responses (0..1). */
    maxErrorRate: number;
    /** Highest tolerated p99 latency in milliseconds. */
    maxP99Ms: number;
}

/** One analysis sample; `undefined` = Prometheus returned no series, NaN = no traffic (0/0). */
export interface CanaryMetrics {
    errorRate: number | undefined;
    p99Seconds: number | undefined;
}

export interface Verdict {
    healthy: boolean;
    /** Why the canary failed (empty when healthy). */
    reasons: string[];
    /** One-line human summary of the measured values. */
    summary: string;
}

const isNumber = (v: number | undefined): v is number => typeof v === "number" && !Number.isNaN(v);
const formatMs = (ms: number) => (Number.isFinite(ms) ? `${Math.round(ms)}ms` : "above the highest histogram bucket");

export function formatPercent(ratio: number): string {
    return `${(ratio * 100).toFixed(2)}%`;
}

export function judge(metrics: CanaryMetrics, t: Thresholds): Verdict {
    const reasons: string[] = [];
    const { errorRate, p99Seconds } = metrics;

    if (!isNumber(errorRate)) {
        reasons.push("no data for the canary's error rate (no requests reached the canary in the window?)");
    } else if (errorRate > t.maxErrorRate) {
        reasons.push(`error rate ${formatPercent(errorRate)} is above the limit ${formatPercent(t.maxErrorRate)}`);
    }

    const p99Ms = isNumber(p99Seconds) ? p99Seconds * 1000 : undefined;
    if (p99Ms === undefined) {
        reasons.push("no data for the canary's p99 latency");
    } else if (p99Ms > t.maxP99Ms) {
        reasons.push(`p99 latency ${formatMs(p99Ms)} is above the limit ${t.maxP99Ms}ms`);
    }

    const summary =
        `error rate ${isNumber(errorRate) ? formatPercent(errorRate) : "n/a"} (limit ${formatPercent(t.maxErrorRate)}), ` +
        `p99 ${p99Ms === undefined ? "n/a" : formatMs(p99Ms)} (limit ${t.maxP99Ms}ms)`;
    return { healthy: reasons.length === 0, reasons, summary };
}

export type NextAction = "continue" | "promote" | "rollback";

/** After the analysis of step `index` (0-based) of `stepCount`: go on, promote or roll back. */
export function nextAction(verdict: Pick<Verdict, "healthy">, index: number, stepCount: number): NextAction {
    if (!verdict.healthy) return "rollback";
    return index + 1 >= stepCount ? "promote" : "continue";
}
