// Alerts that reach someone: the platform's PrometheusRule per stack (parsed with Prometheus' own
// PromQL grammar; thresholds from config; every alert with severity, summary and runbook) and the
// Alertmanager configuration from stack config, its secrets only inside a Pulumi secret.
import { strict as assert } from "node:assert";
import { alertmanagerConfig, alertNames, platformAlertRules } from "../../components/observability";
import type { AlertRule, RecordingRule, RuleGroup } from "../../components/observability/alertRules";
import { maxIntervalSeconds } from "../../components/database/backupSchedule";
import { runStack, SHIPPED_STACKS, stackConfig, stackConfigProblems, validateKubernetesObjects } from "../harness";
import { shippedProdRun } from "../reliabilityRuns";

interface SyntaxNode {
    type: { isError: boolean };
    from: number;
    to: number;
}
/** Prometheus' own PromQL grammar (the package is typed as ESM but ships a CommonJS build). */
const { parser } = require("@prometheus-io/lezer-promql") as {
    parser: { parse(text: string): { iterate(o: { enter(n: SyntaxNode): void }): void } };
};

const PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule";
/** Signature key of a secret value in Pulumi's wire format. */
const PULUMI_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

function promqlErrors(expr: string): string[] {
    const errors: string[] = [];
    parser.parse(expr).iterate({
        enter: (n) => {
            if (n.type.isError) errors.push(`${n.from}: ${JSON.stringify(expr.slice(Math.max(0, n.from - 20), n.to + 20))}`);
        },
    });
    return errors;
}

const rulesOf = (stack: string, overrides: Record<string, unknown> = {}) => {
    const c = stackConfig(stack, overrides);
    return platformAlertRules({ alerting: c.observability.alerting, database: c.database, postgresExporter: true });
};
const alerts = (groups: RuleGroup[]) => groups.flatMap((g) => g.rules.filter((r): r is AlertRule => "alert" in r));
const alert = (groups: RuleGroup[], name: string) => alerts(groups).find((a) => a.alert === name)!;

describe("alerting: the platform's rules", () => {
    const expected = [
        "AppErrorBudgetBurnFast",
        "AppErrorBudgetBurnSlow",
        "AppLatencyBudgetBurnFast",
        "AppLatencyBudgetBurnSlow",
        "PlatformPodCrashLooping",
        "PlatformVolumeFillingUp",
        "PlatformVolumeAlmostFull",
        "PostgresNotReady",
        "PostgresDown",
        "PostgresConnectionsNearLimit",
    ];
    for (const stack of SHIPPED_STACKS) {
        it(`${stack}: SLO burn, crash loops, full volumes, PostgreSQL down, failed and missing backups${stack === "prod" ? ", WAL archiving" : ""}`, () => {
            const groups = rulesOf(stack);
            const wal = stack === "prod" ? ["PostgresWalArchivingFailing"] : [];
            assert.deepEqual(alertNames(groups), [...expected, ...wal, "PostgresBackupFailed", "PostgresBackupMissing"]);
        });
    }

    it("every expression parses as PromQL, and every alert uses only recording rules that exist", () => {
        for (const stack of SHIPPED_STACKS) {
            const groups = rulesOf(stack);
            const recorded = new Set(groups.flatMap((g) => g.rules.filter((r): r is RecordingRule => "record" in r).map((r) => r.record)));
            for (const rule of groups.flatMap((g) => g.rules)) {
                assert.deepEqual(promqlErrors(rule.expr), [], `${stack} ${"alert" in rule ? rule.alert : rule.record}: ${rule.expr}`);
                for (const used of rule.expr.match(/app:http_requests:[a-z_]+rate\w+/g) ?? [])
                    assert.ok(recorded.has(used), `${used} is recorded`);
            }
        }
        assert.notDeepEqual(promqlErrors("sum(rate(x[5m]) by ("), [], "the parser does report errors");
    });

    it("every alert has a severity, a summary, a description and a runbook", () => {
        for (const a of alerts(rulesOf("prod"))) {
            assert.ok(["critical", "warning"].includes(a.labels.severity), a.alert);
            for (const key of ["summary", "description", "runbook"] as const)
                assert.ok(a.annotations[key].length > 20 || key === "summary", `${a.alert} ${key}`);
            assert.match(a.for, /^\d+[smh]$/, a.alert);
        }
    });

    it("takes its thresholds from config", () => {
        const base = rulesOf("prod");
        // 99.5 % availability: a 0.5 % budget; the fast burn pages at 14.4x (7.2 %) over 1h and 5m.
        assert.match(
            alert(base, "AppErrorBudgetBurnFast").expr,
            /app:http_requests:error_ratio_rate1h > 0\.072 and app:http_requests:error_ratio_rate5m > 0\.072/,
        );
        const strict = rulesOf("prod", {
            "observability.alerting.slo": { availabilityPercent: 99.9, latencySeconds: 0.25, latencyPercent: 95 },
        });
        assert.match(alert(strict, "AppErrorBudgetBurnFast").expr, /error_ratio_rate1h > 0\.0144 /);
        assert.match(alert(strict, "AppLatencyBudgetBurnSlow").expr, /slow_ratio_rate1d > 0\.15 /);
        const slow = strict.flatMap((g) => g.rules).find((r) => "record" in r && r.record === "app:http_requests:slow_ratio_rate5m")!;
        assert.match(slow.expr, /le="0\.25"/);
        assert.match(alert(base, "PlatformVolumeFillingUp").expr, /> 85$/);
        assert.match(alert(rulesOf("prod", { "observability.alerting.volumeUsagePercent": 70 }), "PlatformVolumeFillingUp").expr, /> 70$/);
        assert.match(
            alert(rulesOf("prod", { "observability.alerting.connectionsPercent": 90 }), "PostgresConnectionsNearLimit").expr,
            /\* 100 > 90$/,
        );
    });

    it("a backup is missing after the schedule's longest gap plus a run's deadline plus the grace", () => {
        assert.equal(maxIntervalSeconds("0 2 * * *"), 86400);
        assert.equal(maxIntervalSeconds("0 */6 * * *"), 21600);
        assert.equal(maxIntervalSeconds("0 2 * * 1-5"), 3 * 86400, "Friday to Monday");
        // prod: daily, 100Gi (deadline 9000s), grace 60 min.
        assert.match(alert(rulesOf("prod"), "PostgresBackupMissing").expr, /> 99000\n/);
        // dev: every 6 h, 1Gi (deadline 3600s), grace 30 min.
        assert.match(alert(rulesOf("dev", { "observability.alerting.backupGraceMinutes": 30 }), "PostgresBackupMissing").expr, /> 27000\n/);
        // Suspended for maintenance: silent.
        assert.match(
            alert(rulesOf("dev"), "PostgresBackupMissing").expr,
            /unless on \(\) \(max\(kube_cronjob_spec_suspend\{namespace="orders-data", cronjob="postgres-backup"\}\) == 1\)/,
        );
    });

    it("a failed backup alerts until a newer run succeeds", () => {
        const expr = alert(rulesOf("prod"), "PostgresBackupFailed").expr;
        assert.match(expr, /kube_job_failed\{namespace="orders-data", job_name=~"postgres-backup-\[0-9\]\+", condition="true"\} == 1/);
        assert.match(
            expr,
            /> \(max\(kube_cronjob_status_last_successful_time\{namespace="orders-data", cronjob="postgres-backup"\}\) or vector\(0\)\)/,
        );
    });

    it("SLO rules count only /api routes of the apps, not probes or metrics", () => {
        for (const r of rulesOf("prod")[0].rules.filter((x): x is RecordingRule => "record" in x)) {
            assert.match(r.expr, /namespace="orders-apps", route=~"\/api\/\.\*"/);
        }
    });

    it("prod renders one PrometheusRule in monitoring that passes the Prometheus Operator schema", async () => {
        const run = await shippedProdRun();
        const [rule] = run.byType(PROMETHEUS_RULE);
        assert.equal(rule.inputs.metadata.namespace, "monitoring");
        assert.deepEqual(await validateKubernetesObjects([rule]), []);
        assert.deepEqual(alertNames(rule.inputs.spec.groups), alertNames(rulesOf("prod")));
    });
});

describe("alerting: Alertmanager receivers from stack config", () => {
    const SLACK = "https://hooks.slack.com/services/T000/B000/very-secret-token";
    const withSlack = {
        "observability.alerting.receivers.chat": { slack: { channel: "#orders-prod" } },
        "observability.alerting.route.criticalReceiver": "chat",
        "alertingSecrets.chat": SLACK,
    };

    it("prod ships an e-mail receiver for every alert; only Watchdog and InfoInhibitor go nowhere", () => {
        const c = stackConfig("prod");
        const am = alertmanagerConfig(c.observability.alerting, c.alertingSecrets) as any;
        assert.equal(am.route.receiver, "oncall");
        assert.deepEqual(
            am.route.routes.map((r: any) => [r.receiver, r.matchers]),
            [
                ["null", ['alertname = "Watchdog"']],
                ["null", ['alertname = "InfoInhibitor"']],
            ],
        );
        assert.deepEqual(am.receivers[1], {
            name: "oncall",
            email_configs: [
                {
                    send_resolved: true,
                    to: "oncall@example.com",
                    from: "alertmanager@orders.example.com",
                    smarthost: "smtp.example.com:587",
                    require_tls: true,
                },
            ],
        });
    });

    it("critical alerts also reach the critical receiver; Slack and webhook URLs come from alertingSecrets", () => {
        const c = stackConfig("prod", withSlack);
        const am = alertmanagerConfig(c.observability.alerting, c.alertingSecrets) as any;
        assert.deepEqual(am.route.routes.slice(2), [
            { receiver: "chat", matchers: ['severity = "critical"'], continue: true },
            { receiver: "oncall" },
        ]);
        const chat = am.receivers.find((r: any) => r.name === "chat");
        assert.equal(chat.slack_configs[0].api_url, SLACK);
        assert.equal(chat.slack_configs[0].channel, "#orders-prod");
    });

    it("the secret URL appears only inside the Pulumi-secret alertmanager.yaml", async () => {
        const run = await runStack("prod", withSlack);
        const secret = run.get("kubernetes:core/v1:Secret", "alertmanager-orders-platform");
        assert.match(JSON.stringify(secret.inputs.stringData), /very-secret-token/);
        // Marked secret on the wire (Pulumi's secret envelope), so the state stores it encrypted.
        const wire = secret.wireInputs.stringData;
        assert.ok(Object.values(wire).includes(PULUMI_SECRET_SIG) && "value" in wire, JSON.stringify(wire).slice(0, 80));
        const leaks = run.resources.filter((r) => r !== secret && JSON.stringify(r.wireInputs).includes("very-secret-token"));
        assert.deepEqual(
            leaks.map((r) => r.urn),
            [],
        );
        const values = run.find((r) => r.type === "kubernetes:helm.sh/v4:Chart" && r.name === "kube-prometheus-stack")[0].inputs.values;
        assert.equal(values.alertmanager.alertmanagerSpec.configSecret, "alertmanager-orders-platform");
    });

    it("refuses receivers without their secret, a route to an unknown receiver, and staging/prod alerting nobody", () => {
        const problems = stackConfigProblems;
        assert.deepEqual(problems("prod", { "observability.alerting.receivers.chat": { slack: { channel: "#x" } } }), [
            "orders-platform:alertingSecrets.chat = (not set): is required: the Slack webhook URL of receiver chat; set it with pulumi config set --secret --path 'orders-platform:alertingSecrets.chat' <value>",
        ]);
        assert.match(
            problems("prod", { "observability.alerting.route.receiver": "pager" })[0],
            /route\.receiver = "pager": names no receiver; receivers here: oncall/,
        );
        assert.match(
            problems("staging", { "observability.alerting.receivers": undefined, "observability.alerting.route": undefined })[0],
            /alerting\.route\.receiver = \(not set\): is required: alerting\.requireReceiver is true here/,
        );
        const bad = problems("prod", { ...withSlack, "alertingSecrets.chat": "not a url with very-secret-token" });
        assert.equal(bad.length, 1);
        assert.match(bad[0], /alertingSecrets\.chat = "\(secret\)": must be an http\(s\) URL/);
        assert.doesNotMatch(bad[0], /very-secret-token/, "a secret is never echoed");
        assert.match(
            problems("prod", {
                "observability.alerting.receivers.both": { email: { to: "a@b.c", from: "a@b.c", smarthost: "h:25" }, webhook: {} },
            })[0],
            /needs exactly one of email \| slack \| webhook \(found email, webhook\)/,
        );
        assert.deepEqual(problems("dev", {}), [], "dev may alert nobody");
    });
});
