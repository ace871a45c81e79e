// Command-line options of the canary tool, parsed and validated without side effects.
import { parseArgs } from "node:util";

export interface CanaryOptions {
    app: string;
    stack: string;
    /** Canary weights (percent) applied in order; each is followed by an analysis window. */
    steps: number[];
    /** Analysis window as written (PromQL range, e.g. "5m") and in milliseconds (the wait). */
    window: string;
    windowMs: number;
    maxErrorRate: number;
    maxP99Ms: number;
    /** API requests the canary must serve in a step before the step may pass. */
    minRequests: number;
    /** Extra windows a step short of minRequests may wait at its weight before the rollback. */
    maxHolds: number;
    prometheusUrl: string;
    dryRun: boolean;
    /** Operations log file; default logs/operations.log under the repository root. */
    logFile?: string;
    /** Directory of the Pulumi project (Pulumi.yaml); default the repository root. */
    cwd?: string;
}

export const DEFAULTS = {
    steps: [10, 25, 50, 100],
    window: "5m",
    maxErrorRate: 0.01,
    maxP99Ms: 500,
    minRequests: 100,
    maxHolds: 2,
    prometheusUrl: "http://localhost:9090",
} as const;

export const USAGE = `usage: npm run canary -- <app> --stack <stack> [options]

Steps apps.<app>.canary.weight through the given weights with \`pulumi up\`, checks the
canary's API traffic (route /api/...; probes and scrapes do not count) in Prometheus after
each step: request count, error rate and p99 latency. Then it promotes the canary (its version
becomes the stable version, the canary is removed) or rolls back to weight 0. A step with too
few requests waits more windows at its weight; one that never gets enough is rolled back.

options:
  --stack <name>            Pulumi stack (required)
  --steps <list>            weights in percent, ascending (default ${DEFAULTS.steps.join(",")})
  --window <duration>       analysis window after each step, e.g. 30s, 5m, 1h (default ${DEFAULTS.window})
  --max-error-rate <ratio>  highest tolerated share of 5xx responses, 0..1 (default ${DEFAULTS.maxErrorRate})
  --max-p99-ms <ms>         highest tolerated p99 latency in milliseconds (default ${DEFAULTS.maxP99Ms})
  --min-requests <n>        API requests the canary must serve per step before it may pass
                            (default ${DEFAULTS.minRequests})
  --max-holds <n>           extra windows a step short of --min-requests may wait before the
                            rollback, 0..10 (default ${DEFAULTS.maxHolds})
  --prometheus-url <url>    Prometheus HTTP API (default ${DEFAULTS.prometheusUrl}, e.g. via
                            kubectl -n monitoring port-forward svc/<prometheus> 9090)
  --log-file <path>         operations log (default logs/operations.log)
  --cwd <dir>               directory of the Pulumi project (default: this repository)
  --dry-run                 validate, check Prometheus and print the plan; change nothing
  -h, --help                this text

exit codes: 0 promoted (or dry run ok), 1 rolled back (limit broken, too little traffic,
            Prometheus unavailable or a failed update), 2 invalid usage or stack config,
            3 rollback failed (the stack needs a manual fix) or an unexpected error`;

export class UsageError extends Error {
    override name = "UsageError";
}

const DURATION = /^(\d+)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
/** rate() needs at least two scrapes inside the window. */
const MIN_WINDOW_MS = 30_000;

export function parseDuration(text: string): number {
    const m = DURATION.exec(text.trim());
    if (!m) throw new UsageError(`--window ${JSON.stringify(text)}: must be a duration like 30s, 5m or 1h`);
    return Number(m[1]) * UNIT_MS[m[2]];
}

/** Milliseconds as a PromQL duration in the largest whole unit, e.g. 600000 -> "10m". */
export function formatDuration(ms: number): string {
    for (const unit of ["h", "m", "s"]) {
        if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
    }
    return `${ms}ms`;
}

export function parseSteps(text: string): number[] {
    const parts = text.split(",").map((s) => s.trim());
    const steps = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
    if (steps.length === 0 || steps.some((s) => !Number.isInteger(s) || s < 1 || s > 100)) {
        throw new UsageError(`--steps ${JSON.stringify(text)}: must be comma-separated whole percentages from 1 to 100, e.g. 10,25,50,100`);
    }
    for (let i = 1; i < steps.length; i++) {
        if (steps[i] <= steps[i - 1]) throw new UsageError(`--steps ${JSON.stringify(text)}: weights must be strictly ascending`);
    }
    return steps;
}

function parseNumber(flag: string, text: string, min: number, max: number, integer = false): number {
    const n = Number(text);
    if (text.trim() === "" || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
        throw new UsageError(`${flag} ${JSON.stringify(text)}: must be a ${integer ? "whole " : ""}number from ${min} to ${max}`);
    }
    return n;
}

/** Returns the options, or "help" when the usage text was asked for. */
export function parseCanaryArgs(argv: string[]): CanaryOptions | "help" {
    let parsed;
    try {
        parsed = parseArgs({
            args: argv,
            allowPositionals: true,
            strict: true,
            options: {
                stack: { type: "string", short: "s" },
                steps: { type: "string" },
                window: { type: "string" },
                "max-error-rate": { type: "string" },
                "max-p99-ms": { type: "string" },
                "min-requests": { type: "string" },
                "max-holds": { type: "string" },
                "prometheus-url": { type: "string" },
                "log-file": { type: "string" },
                cwd: { type: "string" },
                "dry-run": { type: "boolean" },
                help: { type: "boolean", short: "h" },
            },
        });
    } catch (err) {
        throw new UsageError((err as Error).message);
    }
    const { values, positionals } = parsed;
    if (values.help) return "help";
    if (positionals.length !== 1)
        throw new UsageError(`expected exactly one app name, got ${positionals.length ? positionals.join(" ") : "none"}`);
    const app = positionals[0];
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(app))
        throw new UsageError(`app ${JSON.stringify(app)}: must be a lowercase app name like "users"`);
    if (!values.stack) throw new UsageError("--stack is required (e.g. --stack prod)");

    const window = values.window ?? DEFAULTS.window;
    const windowMs = parseDuration(window);
    if (windowMs < MIN_WINDOW_MS) throw new UsageError(`--window ${window}: must be at least 30s (rate() needs two scrapes)`);

    const prometheusUrl = values["prometheus-url"] ?? DEFAULTS.prometheusUrl;
    try {
        const u = new URL(prometheusUrl);
        if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
    } catch {
        throw new UsageError(`--prometheus-url ${JSON.stringify(prometheusUrl)}: must be an http(s) URL`);
    }

    return {
        app,
        stack: values.stack,
        steps: values.steps === undefined ? [...DEFAULTS.steps] : parseSteps(values.steps),
        window,
        windowMs,
        maxErrorRate:
            values["max-error-rate"] === undefined
                ? DEFAULTS.maxErrorRate
                : parseNumber("--max-error-rate", values["max-error-rate"], 0, 1),
        maxP99Ms: values["max-p99-ms"] === undefined ? DEFAULTS.maxP99Ms : parseNumber("--max-p99-ms", values["max-p99-ms"], 1, 600_000),
        minRequests:
            values["min-requests"] === undefined
                ? DEFAULTS.minRequests
                : parseNumber("--min-requests", values["min-requests"], 1, 1_000_000_000, true),
        maxHolds: values["max-holds"] === undefined ? DEFAULTS.maxHolds : parseNumber("--max-holds", values["max-holds"], 0, 10, true),
        prometheusUrl,
        dryRun: values["dry-run"] ?? false,
        logFile: values["log-file"],
        cwd: values.cwd,
    };
}
