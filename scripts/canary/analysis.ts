// Pure canary decisions: metrics + thresholds -> verdict, verdict + position -> next action.
// A canary is promoted only on evidence: enough real (API) requests in every step and every
// limit kept. Too little traffic holds the step; a step that never gets enough is rolled back.

export interface Thresholds {
    /** Highest tolerated share of 5xx responses (0..1). */
    maxErrorRate: number;
    /** Highest tolerated p99 latency in milliseconds. */
    maxP99Ms: number;
    /** API requests the canary must have served in a step before the step may pass. */
    minRequests: number;
}

/** One analysis sample; `undefined` = Prometheus returned no series, NaN = no traffic (0/0). */
export interface CanaryMetrics {
    /** API requests the canary served in the analysed range. */
    requests: number | undefined;
    errorRate: number | undefined;
    p99Seconds: number | undefined;
}

/**
 * healthy: enough requests, every limit kept. unhealthy: a limit broken (or data contradicting
 * itself). inconclusive: no limit broken, but too few requests to judge.
 */
export type VerdictStatus = "healthy" | "unhealthy" | "inconclusive";

export interface Verdict {
    status: VerdictStatus;
    /** Why the canary is not healthy (empty when healthy). */
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
    const { errorRate, p99Seconds } = metrics;
    // No series = no API request reached the canary at all.
    const requests = isNumber(metrics.requests) ? Math.round(metrics.requests) : 0;
    const enoughTraffic = requests >= t.minRequests;
    const p99Ms = isNumber(p99Seconds) ? p99Seconds * 1000 : undefined;

    // A broken limit rolls back whatever the amount of traffic: a few failing requests are
    // reason enough to stop, while a few good ones are no reason to go on.
    const broken: string[] = [];
    if (isNumber(errorRate) && errorRate > t.maxErrorRate) {
        broken.push(`error rate ${formatPercent(errorRate)} is above the limit ${formatPercent(t.maxErrorRate)}`);
    }
    if (p99Ms !== undefined && p99Ms > t.maxP99Ms) {
        broken.push(`p99 latency ${formatMs(p99Ms)} is above the limit ${t.maxP99Ms}ms`);
    }

    const summary =
        `${requests} API requests (minimum ${t.minRequests}), ` +
        `error rate ${isNumber(errorRate) ? formatPercent(errorRate) : "n/a"} (limit ${formatPercent(t.maxErrorRate)}), ` +
        `p99 ${p99Ms === undefined ? "n/a" : formatMs(p99Ms)} (limit ${t.maxP99Ms}ms)`;

    if (broken.length > 0) return { status: "unhealthy", reasons: broken, summary };
    if (!enoughTraffic) {
        return {
            status: "inconclusive",
            reasons: [
                requests === 0
                    ? "no data: no API request reached the canary (probes and scrapes do not count; is traffic routed to it?)"
                    : `too little traffic: ${requests} API requests reached the canary, at least ${t.minRequests} are needed`,
            ],
            summary,
        };
    }
    // Enough requests counted, yet no error rate or latency: the series contradict each other.
    const missing: string[] = [];
    if (!isNumber(errorRate)) missing.push("no data for the canary's error rate");
    if (p99Ms === undefined) missing.push("no data for the canary's p99 latency");
    if (missing.length > 0) return { status: "unhealthy", reasons: missing, summary };
    return { status: "healthy", reasons: [], summary };
}

export type NextAction = "continue" | "promote" | "hold" | "rollback";

export interface StepPosition {
    /** 0-based index of the step just analysed. */
    index: number;
    stepCount: number;
    /** Extra windows this step has already waited for traffic. */
    holds: number;
    /** Extra windows a step may wait for traffic before the canary is rolled back. */
    maxHolds: number;
}

/** After the analysis of a step: go on, promote, wait another window at the same weight, or roll back. */
export function nextAction(verdict: Pick<Verdict, "status">, at: StepPosition): NextAction {
    switch (verdict.status) {
        case "unhealthy":
            return "rollback";
        case "inconclusive":
            return at.holds < at.maxHolds ? "hold" : "rollback";
        case "healthy":
            return at.index + 1 >= at.stepCount ? "promote" : "continue";
    }
}
