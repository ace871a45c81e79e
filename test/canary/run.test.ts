import { strict as assert } from "node:assert";
import { parseCanaryArgs, type CanaryOptions } from "../../scripts/canary/options";
import { httpPrometheusClient } from "../../scripts/canary/prometheus";
import { runCanary } from "../../scripts/canary/run";
import {
    deadPrometheusUrl,
    fakeClock,
    prodApps,
    recordingDriver,
    startFakePrometheus,
    tempLog,
    type FakeClock,
    type FakePrometheus,
    type FakeSeries,
    type RecordingDriver,
    type TempLog,
} from "./fakes";

const W = "orders-platform:apps.users.canary.weight";
const ISO_LINE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z (INFO |WARN |ERROR) \[canary users@prod\] /;

function options(prometheusUrl: string, extra: string[] = []): CanaryOptions {
    const o = parseCanaryArgs(["users", "--stack", "prod", "--prometheus-url", prometheusUrl, ...extra]);
    assert.notEqual(o, "help");
    return o as CanaryOptions;
}

describe("canary run", () => {
    let prom: FakePrometheus | undefined;
    let log: TempLog;
    let clock: FakeClock;
    let driver: RecordingDriver;

    beforeEach(() => {
        clock = fakeClock();
        log = tempLog(clock);
        driver = recordingDriver("prod", prodApps());
    });
    afterEach(async () => {
        await prom?.close();
        prom = undefined;
        log.cleanup();
    });

    const run = (opts: CanaryOptions) =>
        runCanary(opts, { driver, prometheus: httpPrometheusClient(opts.prometheusUrl, { timeoutMs: 2000 }), clock, log: log.logger });

    it("promotes after every step passes: weights 10,25,50,100, then version = canary and canary removed", async () => {
        prom = await startFakePrometheus({ errorRate: "0.002", p99: "0.180" });
        const result = await run(options(prom.url));

        assert.deepEqual(result, { outcome: "promoted", exitCode: 0, reasons: [] });
        assert.deepEqual(driver.calls, [
            `set ${W}=10`,
            "up canary users 1.1.0: weight 10%",
            `set ${W}=25`,
            "up canary users 1.1.0: weight 25%",
            `set ${W}=50`,
            "up canary users 1.1.0: weight 50%",
            `set ${W}=100`,
            "up canary users 1.1.0: weight 100%",
            "set orders-platform:apps.users.version=1.1.0",
            "rm orders-platform:apps.users.canary",
            "up canary users 1.1.0: promote",
        ]);
        assert.deepEqual(driver.apps.users, { version: "1.1.0", replicas: 3 });
        assert.deepEqual(driver.apps.orders, prodApps().orders, "other apps untouched");
        // One 5m analysis window per step.
        assert.deepEqual(clock.sleeps, [300_000, 300_000, 300_000, 300_000]);

        // Queries select the API traffic of this app's canary track over the analysis window.
        const analysis = prom.queries.filter((q) => q !== "vector(1)");
        assert.equal(analysis.length, 12);
        assert.ok(
            analysis.every((q) => q.includes('app="users",track="canary",route=~"/api/.*"') && q.includes("[5m]")),
            analysis.join("\n"),
        );
        assert.ok(analysis.some((q) => q.startsWith("sum(increase(http_requests_total{")));
        assert.ok(analysis.some((q) => q.startsWith("histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{")));
        assert.ok(analysis.some((q) => q.includes('status=~"5.."')));

        const lines = log.read().trimEnd().split("\n");
        for (const l of lines) assert.match(l, ISO_LINE);
        const text = lines.join("\n");
        for (const w of [10, 25, 50, 100]) {
            assert.match(text, new RegExp(`step \\d/4: weight ${w}%`));
            assert.match(
                text,
                new RegExp(
                    `analysis at weight ${w}% over 5m: 1000 API requests \\(minimum 100\\), error rate 0\\.20% \\(limit 1\\.00%\\), p99 180ms \\(limit 500ms\\) -> HEALTHY`,
                ),
            );
        }
        assert.match(text, /analysis window 5m: waiting until 2026-01-01T00:05:00\.000Z/);
        assert.match(text, /pulumi up succeeded \(update 2\)/);
        assert.match(lines[lines.length - 1], /promoted: users 1\.1\.0 is stable in stack prod$/);
        // Timestamps follow the (fake) clock: the last line is after four windows.
        assert.ok(lines[lines.length - 1].startsWith("2026-01-01T00:20:00.000Z"));
        // Same lines on stdout, plus the raw pulumi output.
        const out = log.stdout.join("");
        for (const l of lines) assert.ok(out.includes(l));
        assert.ok(out.includes("Updating (prod): canary users 1.1.0: weight 25%"));
        assert.ok(!text.includes("Updating (prod)"), "raw pulumi output stays out of the operations log");
    });

    it("rolls back to weight 0 and exits 1 when the error rate exceeds the limit", async () => {
        prom = await startFakePrometheus({ errorRate: (n) => (n === 0 ? "0.004" : "0.05"), p99: "0.1" });
        const result = await run(options(prom.url));

        assert.equal(result.outcome, "rolled-back");
        assert.equal(result.exitCode, 1);
        assert.deepEqual(result.reasons, ["at weight 25%: error rate 5.00% is above the limit 1.00%"]);
        assert.deepEqual(driver.calls, [
            `set ${W}=10`,
            "up canary users 1.1.0: weight 10%",
            `set ${W}=25`,
            "up canary users 1.1.0: weight 25%",
            `set ${W}=0`,
            "up canary users 1.1.0: rollback to weight 0",
        ]);
        assert.deepEqual(driver.apps.users, { version: "1.0.0", replicas: 3, canary: { version: "1.1.0", weight: "0", replicas: 1 } });
        const text = log.read();
        assert.match(text, /ERROR \[canary users@prod\] canary failed: at weight 25%: error rate 5\.00% is above the limit 1\.00%/);
        assert.match(text, /-> UNHEALTHY/);
        assert.match(text, /WARN {2}\[canary users@prod\] rolled back: users canary 1\.1\.0 at weight 0/);
        assert.ok(!text.includes("promote"), "never promoted");
    });

    it("rolls back when p99 latency exceeds the limit (custom thresholds and window)", async () => {
        prom = await startFakePrometheus({ errorRate: "0", p99: "0.9" });
        const result = await run(options(prom.url, ["--steps", "20,100", "--window", "2m", "--max-p99-ms", "750"]));

        assert.equal(result.exitCode, 1);
        assert.deepEqual(result.reasons, ["at weight 20%: p99 latency 900ms is above the limit 750ms"]);
        assert.deepEqual(driver.calls, [
            `set ${W}=20`,
            "up canary users 1.1.0: weight 20%",
            `set ${W}=0`,
            "up canary users 1.1.0: rollback to weight 0",
        ]);
        assert.deepEqual(clock.sleeps, [120_000]);
        assert.ok(prom.queries.some((q) => q.includes("[2m]")));
        assert.match(
            log.read(),
            /analysis at weight 20% over 2m: 1000 API requests \(minimum 100\), error rate 0\.00% \(limit 1\.00%\), p99 900ms \(limit 750ms\) -> UNHEALTHY/,
        );
    });

    it("never promotes blind: Prometheus unreachable (connection refused) before the first step rolls back", async () => {
        const result = await run(options(await deadPrometheusUrl()));

        assert.equal(result.outcome, "rolled-back");
        assert.equal(result.exitCode, 1);
        assert.match(
            result.reasons[0],
            /^cannot observe the canary: Prometheus at http:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\)$/,
        );
        // No traffic was shifted towards the canary; it went dark instead.
        assert.deepEqual(driver.calls, [`set ${W}=0`, "up canary users 1.1.0: rollback to weight 0"]);
        assert.deepEqual(clock.sleeps, []);
        assert.match(log.read(), /ERROR \[canary users@prod\] canary failed: cannot observe the canary: .*ECONNREFUSED/);
    });

    it("rolls back when Prometheus goes away during the run (connection refused mid-analysis)", async () => {
        prom = await startFakePrometheus({ errorRate: "0", p99: "0.1" });
        const p = prom;
        driver.beforeUp = async (n) => {
            if (n === 1) await p.close(); // after the first step's analysis, before the second's
        };
        const result = await run(options(prom.url));

        assert.equal(result.exitCode, 1);
        assert.match(result.reasons[0], /^analysis at weight 25% impossible: Prometheus at .* is unreachable/);
        assert.deepEqual(driver.calls.slice(-2), [`set ${W}=0`, "up canary users 1.1.0: rollback to weight 0"]);
        assert.ok(!driver.calls.some((c) => c.includes("apps.users.version")));
    });

    it("rolls back when Prometheus answers with an error (HTTP 503)", async () => {
        prom = await startFakePrometheus({ errorRate: { status: 503 }, p99: "0.1" });
        const result = await run(options(prom.url));
        assert.equal(result.exitCode, 1);
        assert.match(result.reasons[0], /Prometheus query failed \(HTTP 503, unavailable\): fake outage/);
    });

    it("never promotes without data: no series holds the step for --max-holds windows, then rolls back", async () => {
        prom = await startFakePrometheus({ requests: "empty", errorRate: "empty", p99: "empty" });
        const result = await run(options(prom.url));

        assert.equal(result.exitCode, 1);
        assert.deepEqual(result.reasons, [
            "at weight 10%: no data: no API request reached the canary (probes and scrapes do not count; is traffic routed to it?)",
            "at weight 10%: still too little traffic after 2 extra windows",
        ]);
        // The first window and two holds at weight 10 %, each analysis over all the time at that weight.
        assert.deepEqual(clock.sleeps, [300_000, 300_000, 300_000]);
        const ranges = prom.queries.filter((q) => q.startsWith("sum(increase(")).map((q) => /\[(\w+)\]/.exec(q)![1]);
        assert.deepEqual(ranges, ["5m", "10m", "15m"]);
        assert.deepEqual(driver.calls, [
            `set ${W}=10`,
            "up canary users 1.1.0: weight 10%",
            `set ${W}=0`,
            "up canary users 1.1.0: rollback to weight 0",
        ]);
        const text = log.read();
        assert.match(text, /0 API requests \(minimum 100\), error rate n\/a \(limit 1\.00%\), p99 n\/a \(limit 500ms\) -> INCONCLUSIVE/);
        assert.match(text, /WARN {2}\[canary users@prod\] hold at weight 10%: no data: .*; waiting another 5m/);
    });

    it("treats NaN (0/0, no traffic in the window) as no data, never as success", async () => {
        prom = await startFakePrometheus({ requests: "0", errorRate: "NaN", p99: "NaN" });
        const result = await run(options(prom.url, ["--max-holds", "0"]));
        assert.equal(result.exitCode, 1);
        assert.match(result.reasons[0], /^at weight 10%: no data: no API request reached the canary/);
        assert.deepEqual(clock.sleeps, [300_000], "--max-holds 0: no extra window");
        assert.ok(!driver.calls.some((c) => c.includes("promote")));
    });

    describe("judged on real traffic only (series with route labels, as the apps record them)", () => {
        /** What the kubelet and Prometheus cause per canary pod in 5 minutes: about 100 requests. */
        const probesOnly = (readyz = "200"): FakeSeries[] => [
            { app: "users", track: "canary", route: "/healthz", status: "200", rps: 0.1, seconds: 0.002 },
            { app: "users", track: "canary", route: "/readyz", status: readyz, rps: 0.1, seconds: 0.003 },
            { app: "users", track: "canary", route: "/metrics", status: "200", rps: 1 / 15, seconds: 0.01 },
            { app: "users", track: "canary", route: "/version", status: "200", rps: 0.0667, seconds: 0.001 },
        ];
        const stableApi: FakeSeries = { app: "users", track: "stable", route: "/api/users/:id", status: "200", rps: 20, seconds: 0.05 };

        it("a canary that gets only probe and scrape requests (broken routing) holds, then rolls back; it is never promoted", async () => {
            prom = await startFakePrometheus({ series: [...probesOnly(), stableApi] });
            // The same window without the route filter: ~100 requests, 0 % errors, a low p99 — it would pass.
            const client = httpPrometheusClient(prom.url);
            const unfiltered = 'app="users",track="canary"';
            assert.equal(Math.round((await client.query(`sum(increase(http_requests_total{${unfiltered}}[5m]))`))!), 100);
            assert.equal(
                await client.query(
                    `(sum(rate(http_requests_total{${unfiltered},status=~"5.."}[5m])) or vector(0)) / sum(rate(http_requests_total{${unfiltered}}[5m]))`,
                ),
                0,
            );
            prom.queries.length = 0;

            const result = await run(options(prom.url));
            assert.equal(result.outcome, "rolled-back");
            assert.deepEqual(result.reasons, [
                "at weight 10%: no data: no API request reached the canary (probes and scrapes do not count; is traffic routed to it?)",
                "at weight 10%: still too little traffic after 2 extra windows",
            ]);
            assert.ok(!driver.calls.some((c) => c.endsWith("promote") || c.includes("apps.users.version")), driver.calls.join("\n"));
            assert.deepEqual(driver.apps.users.canary.weight, "0");
        });

        it("a failing /readyz is no 5xx of the API: with real traffic healthy, the canary is promoted", async () => {
            const canaryApi: FakeSeries = { app: "users", track: "canary", route: "/api/users/:id", status: "200", rps: 2, seconds: 0.04 };
            prom = await startFakePrometheus({ series: [...probesOnly("503"), canaryApi, stableApi] });
            const result = await run(options(prom.url, ["--steps", "50,100"]));
            assert.deepEqual(result, { outcome: "promoted", exitCode: 0, reasons: [] });
            assert.match(log.read(), /analysis at weight 50% over 5m: 600 API requests \(minimum 100\), error rate 0\.00% .* -> HEALTHY/);
        });

        it("API errors of the canary roll it back", async () => {
            prom = await startFakePrometheus({
                series: [
                    ...probesOnly(),
                    { app: "users", track: "canary", route: "/api/users/:id", status: "200", rps: 1.9, seconds: 0.04 },
                    { app: "users", track: "canary", route: "/api/users", status: "503", rps: 0.1, seconds: 0.04 },
                ],
            });
            const result = await run(options(prom.url));
            assert.deepEqual(result.reasons, ["at weight 10%: error rate 5.00% is above the limit 1.00%"]);
        });

        it("a step short of --min-requests waits at its weight until its requests add up, then goes on", async () => {
            // 0.25 API requests/s: 75 in the first 5 minutes, 150 over 10.
            const trickle: FakeSeries = { app: "users", track: "canary", route: "/api/users", status: "201", rps: 0.25, seconds: 0.08 };
            prom = await startFakePrometheus({ series: [...probesOnly(), trickle] });
            const result = await run(options(prom.url, ["--steps", "50,100"]));

            assert.equal(result.outcome, "promoted");
            assert.deepEqual(clock.sleeps, [300_000, 300_000, 300_000, 300_000], "one hold per step");
            const text = log.read();
            assert.match(text, /analysis at weight 50% over 5m: 75 API requests \(minimum 100\).* -> INCONCLUSIVE/);
            assert.match(text, /hold at weight 50%: too little traffic: 75 API requests reached the canary, at least 100 are needed/);
            assert.match(text, /analysis at weight 50% over 10m: 150 API requests \(minimum 100\).* -> HEALTHY/);
            assert.deepEqual(
                driver.calls.filter((c) => c.startsWith("set")),
                [`set ${W}=50`, `set ${W}=100`, "set orders-platform:apps.users.version=1.1.0"],
            );
        });
    });

    it("rolls back when a step's pulumi up fails", async () => {
        prom = await startFakePrometheus({ errorRate: "0", p99: "0.1" });
        driver.beforeUp = (n) => (n === 1 ? "failed" : undefined);
        const result = await run(options(prom.url));

        assert.equal(result.exitCode, 1);
        assert.deepEqual(result.reasons, ["step to weight 25% failed: pulumi up failed"]);
        assert.deepEqual(driver.calls.slice(-2), [`set ${W}=0`, "up canary users 1.1.0: rollback to weight 0"]);
    });

    it("restores stable version and canary entry when the promotion's up fails", async () => {
        prom = await startFakePrometheus({ errorRate: "0", p99: "0.1" });
        driver.beforeUp = (_n, message) => {
            if (message.endsWith("promote")) throw new Error("EKS API timeout");
        };
        const result = await run(options(prom.url, ["--steps", "100"]));

        assert.equal(result.exitCode, 1);
        assert.deepEqual(result.reasons, ["promotion failed: EKS API timeout"]);
        assert.deepEqual(driver.calls.slice(-6), [
            "up canary users 1.1.0: promote",
            "set orders-platform:apps.users.version=1.0.0",
            "set orders-platform:apps.users.canary.version=1.1.0",
            "set orders-platform:apps.users.canary.replicas=1",
            `set ${W}=0`,
            "up canary users 1.1.0: rollback to weight 0",
        ]);
        assert.deepEqual(driver.apps.users, { version: "1.0.0", replicas: 3, canary: { version: "1.1.0", replicas: "1", weight: "0" } });
    });

    describe("a stack that deploys given images (by digest)", () => {
        const digest = (c: string) => `sha256:${c.repeat(64)}`;
        const STABLE_IMAGE = `registry.example/users:1.0.0@${digest("a")}`;
        const CANARY_IMAGE = `registry.example/users:1.1.0@${digest("b")}`;
        beforeEach(() => {
            driver = recordingDriver("prod", {
                ...prodApps(),
                users: {
                    version: "1.0.0",
                    image: STABLE_IMAGE,
                    replicas: 3,
                    canary: { version: "1.1.0", image: CANARY_IMAGE, weight: 10 },
                },
            });
        });

        it("promotes the analysed digest: image = canary.image with the version, nothing to build", async () => {
            prom = await startFakePrometheus({ errorRate: "0", p99: "0.1" });
            const result = await run(options(prom.url, ["--steps", "100"]));

            assert.equal(result.outcome, "promoted");
            assert.deepEqual(driver.calls.slice(-4), [
                "set orders-platform:apps.users.version=1.1.0",
                `set orders-platform:apps.users.image=${CANARY_IMAGE}`,
                "rm orders-platform:apps.users.canary",
                "up canary users 1.1.0: promote",
            ]);
            assert.deepEqual(driver.apps.users, { version: "1.1.0", image: CANARY_IMAGE, replicas: 3 });
        });

        it("a failed promotion puts both digests back", async () => {
            prom = await startFakePrometheus({ errorRate: "0", p99: "0.1" });
            driver.beforeUp = (_n, message) => {
                if (message.endsWith("promote")) throw new Error("EKS API timeout");
            };
            const result = await run(options(prom.url, ["--steps", "100"]));

            assert.equal(result.outcome, "rolled-back");
            assert.deepEqual(driver.apps.users, {
                version: "1.0.0",
                image: STABLE_IMAGE,
                replicas: 3,
                canary: { version: "1.1.0", image: CANARY_IMAGE, weight: "0" },
            });
        });
    });

    it("exits 3 with a manual fix when the rollback itself fails", async () => {
        prom = await startFakePrometheus({ errorRate: "0.5", p99: "0.1" });
        driver.beforeUp = (_n, message) => {
            if (message.includes("rollback")) throw new Error("state locked");
        };
        const result = await run(options(prom.url));

        assert.equal(result.outcome, "rollback-failed");
        assert.equal(result.exitCode, 3);
        assert.match(
            log.read(),
            /rollback FAILED: state locked; fix by hand: pulumi config set --path --stack prod 'orders-platform:apps\.users\.canary\.weight' 0 && pulumi up --stack prod/,
        );
    });

    it("refuses an app that is not in the stack (exit 2, nothing changed)", async () => {
        prom = await startFakePrometheus({ errorRate: "0", p99: "0.1" });
        const o = { ...options(prom.url), app: "payments" };
        const result = await run(o);

        assert.deepEqual(result, {
            outcome: "invalid",
            exitCode: 2,
            reasons: ['app "payments" is not configured in stack "prod" (configured apps: orders, users)'],
        });
        assert.deepEqual(driver.calls, []);
        assert.deepEqual(prom.queries, []);
    });

    it("refuses an app without a canary and says how to configure one", async () => {
        prom = await startFakePrometheus({ errorRate: "0", p99: "0.1" });
        const result = await run({ ...options(prom.url), app: "orders" });

        assert.equal(result.exitCode, 2);
        assert.match(result.reasons[0], /^app "orders" has no canary in stack "prod"/);
        assert.match(
            result.reasons[0],
            /pulumi config set --path --stack prod 'orders-platform:apps\.orders\.canary\.version' <new version>/,
        );
        assert.deepEqual(driver.calls, []);
        assert.match(log.read(), /ERROR \[canary users@prod\] app "orders" has no canary/);
    });

    it("dry run checks everything and changes nothing", async () => {
        prom = await startFakePrometheus({ errorRate: "0", p99: "0.1" });
        const result = await run(options(prom.url, ["--dry-run"]));

        assert.deepEqual(result, { outcome: "dry-run", exitCode: 0, reasons: [] });
        assert.deepEqual(driver.calls, []);
        assert.deepEqual(prom.queries, ["vector(1)"]);
        assert.match(log.read(), /dry run: would set orders-platform:apps\.users\.canary\.weight to 10 -> 25 -> 50 -> 100/);
    });
});
