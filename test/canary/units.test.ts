import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { judge, nextAction } from "../../scripts/canary/analysis";
import { DEFAULTS, parseCanaryArgs, parseDuration, UsageError, type CanaryOptions } from "../../scripts/canary/options";
import { canaryQueries, httpPrometheusClient } from "../../scripts/canary/prometheus";
import { resolveCanaryTarget, StackConfigError } from "../../scripts/canary/stackDriver";
import { prodApps, startFakePrometheus } from "./fakes";

const limits = { maxErrorRate: 0.01, maxP99Ms: 500 };

describe("canary analysis (pure)", () => {
    it("passes at exactly the limits and fails just above", () => {
        assert.equal(judge({ errorRate: 0.01, p99Seconds: 0.5 }, limits).healthy, true);
        assert.deepEqual(judge({ errorRate: 0.0101, p99Seconds: 0.5 }, limits).reasons, ["error rate 1.01% is above the limit 1.00%"]);
        assert.deepEqual(judge({ errorRate: 0, p99Seconds: 0.501 }, limits).reasons, ["p99 latency 501ms is above the limit 500ms"]);
    });

    it("counts missing, NaN and +Inf values as failures", () => {
        assert.equal(judge({ errorRate: undefined, p99Seconds: 0.1 }, limits).healthy, false);
        assert.equal(judge({ errorRate: NaN, p99Seconds: 0.1 }, limits).healthy, false);
        assert.equal(judge({ errorRate: 0, p99Seconds: undefined }, limits).healthy, false);
        assert.deepEqual(judge({ errorRate: 0, p99Seconds: Infinity }, limits).reasons, [
            "p99 latency above the highest histogram bucket is above the limit 500ms",
        ]);
    });

    it("continues until the last step, then promotes; any failure rolls back", () => {
        assert.equal(nextAction({ healthy: true }, 0, 4), "continue");
        assert.equal(nextAction({ healthy: true }, 3, 4), "promote");
        assert.equal(nextAction({ healthy: false }, 3, 4), "rollback");
        assert.equal(nextAction({ healthy: false }, 0, 4), "rollback");
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
            prometheusUrl: DEFAULTS.prometheusUrl,
            dryRun: false,
            logFile: undefined,
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
            "--prometheus-url",
            "http://prom.monitoring:9090/",
            "--dry-run",
        ]) as CanaryOptions;
        assert.deepEqual(
            [o.app, o.stack, o.steps, o.windowMs, o.maxErrorRate, o.maxP99Ms, o.prometheusUrl, o.dryRun],
            ["orders", "prod", [5, 50, 100], 90_000, 0.002, 300, "http://prom.monitoring:9090/", true],
        );
        assert.equal(parseCanaryArgs(["--help"]), "help");
        assert.equal(parseDuration("1h"), 3_600_000);
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
    it("builds the canary-track queries", () => {
        assert.deepEqual(canaryQueries("orders", "5m"), {
            errorRate:
                '(sum(rate(http_requests_total{app="orders",track="canary",status=~"5.."}[5m])) or vector(0))' +
                ' / sum(rate(http_requests_total{app="orders",track="canary"}[5m]))',
            p99: 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{app="orders",track="canary"}[5m])))',
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
