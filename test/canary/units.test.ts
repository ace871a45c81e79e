import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { judge, nextAction } from "../../scripts/canary/analysis";
import {
    DEFAULTS,
    formatDuration,
    parseCanaryArgs,
    parseDuration,
    USAGE,
    UsageError,
    type CanaryOptions,
} from "../../scripts/canary/options";
import { canaryQueries, canarySelector, httpPrometheusClient } from "../../scripts/canary/prometheus";
import { resolveCanaryTarget, StackConfigError } from "../../scripts/canary/stackDriver";
import { prodApps, startFakePrometheus } from "./fakes";
import { readDoc } from "../docs";

const limits = { maxErrorRate: 0.01, maxP99Ms: 500, minRequests: 100 };
const at = (index: number, holds = 0) => ({ index, stepCount: 4, holds, maxHolds: 2 });

describe("canary analysis (pure)", () => {
    it("passes at exactly the limits and fails just above", () => {
        assert.equal(judge({ requests: 100, errorRate: 0.01, p99Seconds: 0.5 }, limits).status, "healthy");
        assert.deepEqual(judge({ requests: 100, errorRate: 0.0101, p99Seconds: 0.5 }, limits).reasons, [
            "error rate 1.01% is above the limit 1.00%",
        ]);
        assert.deepEqual(judge({ requests: 100, errorRate: 0, p99Seconds: 0.501 }, limits).reasons, [
            "p99 latency 501ms is above the limit 500ms",
        ]);
    });

    it("passes a step only with the minimum number of API requests; fewer is inconclusive, never healthy", () => {
        assert.deepEqual(judge({ requests: 99.6, errorRate: 0, p99Seconds: 0.1 }, limits).status, "healthy", "increase() is rounded");
        const few = judge({ requests: 40, errorRate: 0, p99Seconds: 0.1 }, limits);
        assert.equal(few.status, "inconclusive");
        assert.deepEqual(few.reasons, ["too little traffic: 40 API requests reached the canary, at least 100 are needed"]);
        assert.match(few.summary, /^40 API requests \(minimum 100\), error rate 0\.00%/);
        for (const none of [undefined, 0, NaN]) {
            const v = judge({ requests: none, errorRate: none === undefined ? undefined : NaN, p99Seconds: NaN }, limits);
            assert.equal(v.status, "inconclusive");
            assert.match(v.reasons[0], /^no data: no API request reached the canary \(probes and scrapes do not count/);
        }
    });

    it("rolls back on a broken limit even with little traffic", () => {
        const v = judge({ requests: 5, errorRate: 0.4, p99Seconds: 0.1 }, limits);
        assert.equal(v.status, "unhealthy");
        assert.deepEqual(v.reasons, ["error rate 40.00% is above the limit 1.00%"]);
    });

    it("counts missing, NaN and +Inf values next to enough requests as failures", () => {
        assert.equal(judge({ requests: 500, errorRate: undefined, p99Seconds: 0.1 }, limits).status, "unhealthy");
        assert.equal(judge({ requests: 500, errorRate: NaN, p99Seconds: 0.1 }, limits).status, "unhealthy");
        assert.deepEqual(judge({ requests: 500, errorRate: 0, p99Seconds: undefined }, limits).reasons, [
            "no data for the canary's p99 latency",
        ]);
        assert.deepEqual(judge({ requests: 500, errorRate: 0, p99Seconds: Infinity }, limits).reasons, [
            "p99 latency above the highest histogram bucket is above the limit 500ms",
        ]);
    });

    it("continues until the last step, then promotes; holds while inconclusive, then rolls back; any failure rolls back", () => {
        assert.equal(nextAction({ status: "healthy" }, at(0)), "continue");
        assert.equal(nextAction({ status: "healthy" }, at(3)), "promote");
        assert.equal(nextAction({ status: "unhealthy" }, at(3)), "rollback");
        assert.equal(nextAction({ status: "unhealthy" }, at(0)), "rollback");
        assert.equal(nextAction({ status: "inconclusive" }, at(3, 0)), "hold");
        assert.equal(nextAction({ status: "inconclusive" }, at(3, 1)), "hold");
        assert.equal(nextAction({ status: "inconclusive" }, at(3, 2)), "rollback", "never promote without enough traffic");
        assert.equal(nextAction({ status: "inconclusive" }, { index: 0, stepCount: 1, holds: 0, maxHolds: 0 }), "rollback");
    });
});

describe("canary options", () => {
    it("applies the documented defaults", () => {
        const o = parseCanaryArgs(["users", "--stack", "staging"]) as CanaryOptions;
        assert.deepEqual(o, {
            app: "users",
            stack: "staging",
            steps: [10, 25, 50, 100],
            window: "5m",
            windowMs: 300_000,
            maxErrorRate: 0.01,
            maxP99Ms: 500,
            minRequests: 100,
            maxHolds: 2,
            prometheusUrl: DEFAULTS.prometheusUrl,
            dryRun: false,
            logFile: undefined,
            cwd: undefined,
        });
    });

    it("parses every option", () => {
        const o = parseCanaryArgs([
            "orders",
            "--stack=prod",
            "--steps",
            "5,50,100",
            "--window",
            "90s",
            "--max-error-rate",
            "0.002",
            "--max-p99-ms",
            "300",
            "--min-requests",
            "20",
            "--max-holds",
            "0",
            "--prometheus-url",
            "http://prom.monitoring:9090/",
            "--cwd",
            "test/engine/project",
            "--dry-run",
        ]) as CanaryOptions;
        assert.deepEqual(
            [o.app, o.stack, o.steps, o.windowMs, o.maxErrorRate, o.maxP99Ms, o.minRequests, o.maxHolds, o.prometheusUrl, o.cwd, o.dryRun],
            ["orders", "prod", [5, 50, 100], 90_000, 0.002, 300, 20, 0, "http://prom.monitoring:9090/", "test/engine/project", true],
        );
        assert.equal(parseCanaryArgs(["--help"]), "help");
        assert.equal(parseDuration("1h"), 3_600_000);
        assert.deepEqual([600_000, 7_200_000, 90_000, 1_500].map(formatDuration), ["10m", "2h", "90s", "1500ms"]);
    });

    const bad: [string[], RegExp][] = [
        [["--stack", "prod"], /exactly one app name/],
        [["users"], /--stack is required/],
        [["users", "--stack", "prod", "--steps", "10,5"], /strictly ascending/],
        [["users", "--stack", "prod", "--steps", "0,50"], /whole percentages from 1 to 100/],
        [["users", "--stack", "prod", "--steps", "10,150"], /whole percentages from 1 to 100/],
        [["users", "--stack", "prod", "--window", "5 minutes"], /duration like 30s/],
        [["users", "--stack", "prod", "--window", "10s"], /at least 30s/],
        [["users", "--stack", "prod", "--max-error-rate", "5"], /from 0 to 1/],
        [["users", "--stack", "prod", "--max-p99-ms", "abc"], /--max-p99-ms "abc"/],
        [["users", "--stack", "prod", "--min-requests", "0"], /--min-requests "0": must be a whole number from 1/],
        [["users", "--stack", "prod", "--min-requests", "2.5"], /whole number/],
        [["users", "--stack", "prod", "--max-holds", "11"], /--max-holds "11": must be a whole number from 0 to 10/],
        [["users", "--stack", "prod", "--prometheus-url", "localhost:9090"], /http\(s\) URL/],
        [["users", "--stack", "prod", "--bogus"], /bogus/],
    ];
    for (const [argv, message] of bad) {
        it(`rejects ${argv.join(" ")}`, () => {
            assert.throws(
                () => parseCanaryArgs(argv),
                (err: Error) => err instanceof UsageError && message.test(err.message),
            );
        });
    }
});

describe("canary stack config checks", () => {
    it("finds the canary of an app", () => {
        assert.deepEqual(resolveCanaryTarget(prodApps(), "users", "prod"), {
            app: "users",
            stableVersion: "1.0.0",
            canaryVersion: "1.1.0",
            currentWeight: 10,
            canaryReplicas: 1,
            stableImage: undefined,
            canaryImage: undefined,
        });
        // `pulumi config set --path` stores strings.
        const apps = { users: { version: "1.0.0", canary: { version: "2.0.0", weight: "25" } } };
        assert.equal(resolveCanaryTarget(apps, "users", "staging").currentWeight, 25);
    });

    it("explains what is wrong", () => {
        const cases: [unknown, string, RegExp][] = [
            [undefined, "users", /has no orders-platform:apps config object/],
            [prodApps(), "billing", /app "billing" is not configured in stack "prod" \(configured apps: orders, users\)/],
            [prodApps(), "orders", /app "orders" has no canary in stack "prod"/],
            [{ users: { version: "1.0.0", canary: { version: "1.0.0", weight: 0 } } }, "users", /equals the stable version/],
            [
                { users: { version: "1.0.0", canary: { version: "1.1.0", weight: 101 } } },
                "users",
                /canary\.weight = 101 is not a whole number/,
            ],
            [
                { users: { version: "1.0.0", image: "r.example/users:1.0.0@sha256:" + "a".repeat(64), canary: { version: "1.1.0" } } },
                "users",
                /apps\.users\.image is set but orders-platform:apps\.users\.canary\.image is not; give the canary 1\.1\.0 by digest too/,
            ],
        ];
        for (const [apps, app, message] of cases) {
            assert.throws(
                () => resolveCanaryTarget(apps, app, "prod"),
                (err: Error) => err instanceof StackConfigError && message.test(err.message),
            );
        }
    });
});

describe("canary Prometheus client", () => {
    it("builds the canary-track queries over API routes only", () => {
        const sel = 'app="orders",track="canary",route=~"/api/.*"';
        assert.deepEqual(canaryQueries("orders", "5m"), {
            requests: `sum(increase(http_requests_total{${sel}}[5m]))`,
            errorRate:
                `(sum(rate(http_requests_total{${sel},status=~"5.."}[5m])) or vector(0))` + ` / sum(rate(http_requests_total{${sel}}[5m]))`,
            p99: `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${sel}}[5m])))`,
        });
    });

    it("reads vector samples, empty vectors and +Inf; rejects non-JSON answers", async () => {
        const prom = await startFakePrometheus({
            errorRate: (n) => ["0.25", "empty", "+Inf", { status: 502, body: "<html>bad gateway</html>" }][n],
            p99: "1",
        });
        try {
            const client = httpPrometheusClient(prom.url + "/");
            assert.equal(await client.query("rate(x[1m])"), 0.25);
            assert.equal(await client.query("rate(x[1m])"), undefined);
            assert.equal(await client.query("rate(x[1m])"), Infinity);
            await assert.rejects(client.query("rate(x[1m])"), /answered HTTP 502 with a non-JSON body/);
            assert.equal(await client.query("vector(1)"), 1);
        } finally {
            await prom.close();
        }
    });
});

describe("canary README section", () => {
    const readme = readDoc("operations");
    const section = readme.slice(readme.indexOf("### By the tool"), readme.indexOf("### Rolling back"));
    const flags = [...USAGE.matchAll(/^ {2}(?:-\w, )?(--[a-z0-9-]+)/gm)].map((m) => m[1]).filter((f) => f !== "--help" && f !== "--stack");

    it("lists every option of the tool with its default", () => {
        assert.ok(flags.length >= 9, flags.join(" "));
        const rows = new Map([...section.matchAll(/^\| `(--[a-z0-9-]+)`[^|]*\| ([^|]+)\|$/gm)].map((m) => [m[1], m[2].trim()] as const));
        assert.deepEqual([...rows.keys()].sort(), [...flags].sort());
        const o = parseCanaryArgs(["users", "--stack", "prod"]) as CanaryOptions;
        const expected: Record<string, string> = {
            "--steps": o.steps.join(","),
            "--window": o.window,
            "--max-error-rate": String(o.maxErrorRate),
            "--max-p99-ms": String(o.maxP99Ms),
            "--min-requests": String(o.minRequests),
            "--max-holds": String(o.maxHolds),
            "--prometheus-url": o.prometheusUrl,
            "--log-file": "logs/operations.log",
        };
        for (const [flag, value] of Object.entries(expected))
            assert.ok(rows.get(flag)?.startsWith(`\`${value}\``), `${flag}: ${rows.get(flag)}`);
        assert.equal(rows.get("--dry-run"), "off");
    });

    it("names the selector the analysis uses and every exit code", () => {
        assert.ok(section.includes(`\`${canarySelector("<app>")}\``), "selector");
        for (const code of ["0", "1", "2", "3"]) assert.match(section, new RegExp(`\`${code}\` `), `exit code ${code}`);
    });
});

describe("canary CLI", () => {
    const root = path.resolve(__dirname, "..", "..");
    const cli = (...args: string[]) =>
        spawnSync(process.execPath, [require.resolve("tsx/cli"), "scripts/canary.ts", ...args], {
            cwd: root,
            encoding: "utf8",
            timeout: 30_000,
        });

    it("prints usage with exit 0 on --help", () => {
        const r = cli("--help");
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /^usage: npm run canary -- <app> --stack <stack>/);
        assert.match(r.stdout, /--max-p99-ms/);
    });

    it("exits 2 with the reason and usage on bad arguments, before touching any stack", () => {
        const r = cli("users", "--stack", "prod", "--steps", "50,10");
        assert.equal(r.status, 2);
        assert.match(r.stderr, /^error: --steps "50,10": weights must be strictly ascending/);
        assert.match(r.stderr, /usage: npm run canary/);
    });
});
