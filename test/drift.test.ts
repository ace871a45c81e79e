// scripts/drift.ts: what it classifies as drift, that it runs only read-only commands, that it
// alerts the stack's configured receiver, and that it keeps exactly one issue per stack. The real
// CLI and cluster are in test/engine (a NetworkPolicy deleted and a Deployment scaled by hand).
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { detect, driftCommands, EXIT } from "../scripts/drift";
import { DRIFT_LABEL, syncIssue, type Issue, type IssueClient } from "../scripts/drift/issue";
import { alertPayload, alertTarget } from "../scripts/drift/notify";
import { ISSUE_MARKER, previewFindings, refreshFindings, renderMarkdown, type DriftReport } from "../scripts/drift/report";

const root = path.resolve(__dirname, "..");
const urn = (type: string, name: string) => `urn:pulumi:prod::orders-platform::${type}::${name}`;
const NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const DEPLOY = "kubernetes:apps/v1:Deployment";

function k8s(kind: string, namespace: string, name: string, extra: Record<string, unknown> = {}) {
    return { apiVersion: "v1", kind, metadata: { name, namespace, resourceVersion: "1", uid: `uid-${name}` }, ...extra };
}

/** What `pulumi refresh --preview-only --json` prints for: a deleted policy, a scaled Deployment, a status-only change, an HPA-scaled Deployment. */
function refreshJson(): string {
    const users = k8s("Deployment", "orders-apps", "users", { spec: { replicas: 2 }, status: { readyReplicas: 2 } });
    users.metadata = { ...users.metadata, managedFields: [{ manager: "pulumi-kubernetes", operation: "Apply" }] } as typeof users.metadata;
    const orders = k8s("Deployment", "orders-apps", "orders", { spec: { replicas: 2 }, status: { readyReplicas: 2 } });
    const pg = k8s("Deployment", "orders-data", "pg-exporter", { spec: { replicas: 1 }, status: { readyReplicas: 1 } });
    const hpa = k8s("HorizontalPodAutoscaler", "orders-apps", "orders", {
        spec: { scaleTargetRef: { kind: "Deployment", name: "orders" } },
    });
    const deny = k8s("NetworkPolicy", "orders-apps", "default-deny", { spec: { podSelector: {} } });
    const steps = [
        { op: "same", urn: urn("pulumi:pulumi:Stack", "orders-platform-prod"), oldState: { type: "pulumi:pulumi:Stack", outputs: {} } },
        { op: "delete", urn: urn(NP, "default-deny"), oldState: { type: NP, outputs: deny } },
        {
            op: "update",
            urn: urn(DEPLOY, "users"),
            oldState: { type: DEPLOY, outputs: users },
            newState: {
                type: DEPLOY,
                outputs: {
                    ...users,
                    spec: { replicas: 5 },
                    // As the API server records a `kubectl scale`: another field manager.
                    metadata: { ...users.metadata, resourceVersion: "9", managedFields: [{ manager: "kubectl", operation: "Update" }] },
                },
            },
        },
        {
            op: "update",
            urn: urn(DEPLOY, "pg-exporter"),
            oldState: { type: DEPLOY, outputs: pg },
            newState: {
                type: DEPLOY,
                outputs: { ...pg, status: { readyReplicas: 0 }, metadata: { ...pg.metadata, resourceVersion: "7" } },
            },
        },
        {
            op: "same",
            urn: urn("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "orders"),
            oldState: { outputs: hpa },
            newState: { outputs: hpa },
        },
        {
            op: "update",
            urn: urn(DEPLOY, "orders"),
            oldState: { type: DEPLOY, outputs: orders },
            newState: { type: DEPLOY, outputs: { ...orders, spec: { replicas: 4 } } },
        },
    ];
    return JSON.stringify({ steps, changeSummary: { update: 3, delete: 1, same: 2 } }, null, 2);
}

const noChanges = JSON.stringify({ steps: [{ op: "same", urn: urn(DEPLOY, "users") }], changeSummary: { same: 1 } });

describe("drift detection (scripts/drift.ts)", () => {
    describe("findings", () => {
        it("reports a resource deleted and a field changed outside Pulumi, not the cluster's own bookkeeping or an HPA's scaling", () => {
            const f = refreshFindings(refreshJson());
            assert.deepEqual(
                f.map((x) => [
                    x.kind,
                    x.label,
                    x.changes.map((c) => `${c.path}: ${JSON.stringify(c.before)} -> ${JSON.stringify(c.after)}`),
                ]),
                [
                    ["out-of-band-delete", "NetworkPolicy orders-apps/default-deny", []],
                    ["out-of-band-change", "Deployment orders-apps/users", ["spec.replicas: 2 -> 5"]],
                ],
            );
            assert.deepEqual(refreshFindings(noChanges), []);
        });

        it("reports what the program would change as not deployed", () => {
            const json = JSON.stringify({
                steps: [
                    {
                        op: "update",
                        urn: urn(DEPLOY, "users"),
                        newState: { type: DEPLOY, outputs: k8s("Deployment", "orders-apps", "users") },
                        detailedDiff: { "spec.replicas": {} },
                    },
                    { op: "same", urn: urn(DEPLOY, "orders") },
                ],
            });
            assert.deepEqual(
                previewFindings(json).map((f) => [f.kind, f.label, f.changes.map((c) => c.path)]),
                [["undeployed", "Deployment orders-apps/users", ["spec.replicas"]]],
            );
        });

        it("renders an issue body with the marker, each finding and its before and after values", () => {
            const report: DriftReport = {
                stack: "prod",
                checkedAt: "2026-12-08T05:23:00.000Z",
                drift: true,
                findings: refreshFindings(refreshJson()),
            };
            const md = renderMarkdown(report, "https://github.com/acme/orders-platform/actions/runs/7");
            assert.ok(md.startsWith(ISSUE_MARKER("prod")));
            assert.match(md, /#### Deleted outside Pulumi \(1\)[\s\S]*\*\*NetworkPolicy orders-apps\/default-deny\*\*/);
            assert.match(md, /#### Changed outside Pulumi \(1\)[\s\S]*`spec\.replicas`: 2 → 5/);
            assert.match(md, /Nothing was changed by this check/);
        });
    });

    describe("the check runs read-only commands only", () => {
        function fakeCli(outputs: Partial<Record<"refresh" | "preview", { status: number; stdout: string }>>) {
            const calls: string[][] = [];
            const run = (args: string[]) => {
                calls.push(args);
                if (args[0] === "config") return { status: 0, stdout: "staging\n", stderr: "" };
                const out = outputs[args[0] as "refresh" | "preview"] ?? { status: 0, stdout: noChanges };
                return { ...out, stderr: "" };
            };
            return { calls, run };
        }

        it("refresh --preview-only and preview --expect-no-changes with the environment's policy config, nothing that writes", () => {
            const cli = fakeCli({ refresh: { status: 0, stdout: refreshJson() } });
            const report = detect("prod", cli.run, new Date("2026-12-08T05:23:00Z"));
            assert.equal(report.drift, true);
            assert.equal(report.findings.length, 2);
            assert.deepEqual(cli.calls, [
                ["config", "get", "orders-platform:environment", "--stack", "prod"],
                driftCommands("prod", "staging").refresh,
                driftCommands("prod", "staging").preview,
            ]);
            const { refresh, preview } = driftCommands("prod", "staging");
            assert.deepEqual(refresh.slice(0, 2), ["refresh", "--preview-only"]);
            assert.deepEqual(preview.slice(0, 2), ["preview", "--expect-no-changes"]);
            assert.ok(preview.includes(path.join(root, "policy", "config", "staging.json")));
            for (const args of cli.calls) {
                assert.ok(
                    !args.some((a) => ["up", "destroy", "import", "--yes", "--skip-preview", "set", "rm", "cancel"].includes(a)),
                    args.join(" "),
                );
            }
        });

        it("no drift when both are clean; a failed preview without changes is a failed check, not drift", () => {
            assert.deepEqual(detect("prod", fakeCli({}).run).findings, []);
            assert.equal(detect("prod", fakeCli({}).run).drift, false);
            const failed = detect(
                "prod",
                fakeCli({ preview: { status: 255, stdout: JSON.stringify({ steps: [], diagnostics: [{ message: "policy violation" }] }) } })
                    .run,
            );
            assert.equal(failed.drift, false);
            assert.match(failed.error ?? "", /pulumi preview failed/);
            const undeployed = detect(
                "prod",
                fakeCli({
                    preview: {
                        status: 255,
                        stdout: JSON.stringify({
                            steps: [{ op: "update", urn: urn(DEPLOY, "users"), detailedDiff: { "spec.replicas": {} } }],
                        }),
                    },
                }).run,
            );
            assert.equal(undeployed.drift, true);
            assert.equal(undeployed.error, undefined);
        });
    });

    describe("alerts", () => {
        it("go to the route's receiver when it is a webhook or Slack one, else to the first such receiver", () => {
            const receivers = { mail: { email: { to: "a@b.c" } }, oncall: { webhook: {} }, chat: { slack: { channel: "#x" } } };
            assert.deepEqual(alertTarget({ alerting: { receivers, route: { receiver: "oncall" } } }), {
                receiver: "oncall",
                type: "webhook",
            });
            assert.deepEqual(alertTarget({ alerting: { receivers, route: { receiver: "mail" } } }), { receiver: "chat", type: "slack" });
            assert.equal(alertTarget({ alerting: { receivers: { mail: receivers.mail } } }), undefined);
            assert.equal(alertTarget(undefined), undefined);
        });

        it("use Alertmanager's webhook format, so the receiver treats drift like any alert", () => {
            const report: DriftReport = {
                stack: "prod",
                checkedAt: "2026-12-08T05:23:00.000Z",
                drift: true,
                findings: refreshFindings(refreshJson()),
            };
            const p = alertPayload({ receiver: "oncall", type: "webhook" }, report);
            assert.equal(p.version, "4");
            assert.deepEqual(p.alerts[0].labels, { alertname: "PulumiStackDrift", stack: "prod", severity: "warning" });
            assert.match(p.alerts[0].annotations.summary, /drift in prod: 1 deleted and 1 changed outside Pulumi/);
            assert.deepEqual(alertPayload({ receiver: "chat", type: "slack" }, report), { text: p.alerts[0].annotations.summary });
        });
    });

    describe("one issue per stack", () => {
        function fakeGitHub(initial: Issue[] = []) {
            const issues = initial.map((i) => ({ ...i, state: "open" }));
            const log: string[] = [];
            const client: IssueClient = {
                openIssues: async (label) => {
                    assert.equal(label, DRIFT_LABEL);
                    return issues.filter((i) => i.state === "open");
                },
                create: async (title, body, labels) => {
                    const issue = { number: 100 + issues.length, title, body, state: "open", user: { login: "github-actions[bot]" } };
                    issues.push(issue);
                    log.push(`create #${issue.number} ${title} [${labels.join(",")}]`);
                    return issue;
                },
                update: async (n, body) => {
                    issues.find((i) => i.number === n)!.body = body;
                    log.push(`update #${n}`);
                },
                comment: async (n) => void log.push(`comment #${n}`),
                close: async (n) => {
                    issues.find((i) => i.number === n)!.state = "closed";
                    log.push(`close #${n}`);
                },
            };
            return { client, issues, log };
        }
        const report = (stack: string, drift: boolean, error?: string): DriftReport => ({
            stack,
            checkedAt: "2026-12-08T05:23:00.000Z",
            drift,
            findings: drift ? refreshFindings(refreshJson()) : [],
            ...(error ? { error } : {}),
        });

        it("opens one per stack, updates it while the drift lasts, closes it when a check finds none", async () => {
            const gh = fakeGitHub([
                { number: 7, title: "Drift detected in stack prod", body: `${ISSUE_MARKER("prod")} by hand`, user: { login: "mallory" } },
            ]);
            assert.deepEqual(await syncIssue(gh.client, report("prod", true)), { action: "created", number: 101 });
            assert.deepEqual(await syncIssue(gh.client, report("staging", true)), { action: "created", number: 102 });
            assert.deepEqual(await syncIssue(gh.client, report("prod", true)), { action: "updated", number: 101 });
            assert.deepEqual(await syncIssue(gh.client, report("prod", false, "credentials expired")), { action: "none" });
            assert.deepEqual(await syncIssue(gh.client, report("prod", false)), { action: "closed", number: 101 });
            assert.deepEqual(await syncIssue(gh.client, report("prod", false)), { action: "none" });
            assert.deepEqual(gh.log, [
                "create #101 Drift detected in stack prod [drift]",
                "create #102 Drift detected in stack staging [drift]",
                "update #101",
                "comment #101",
                "close #101",
            ]);
            assert.equal(gh.issues.filter((i) => i.state === "open" && i.body?.startsWith(ISSUE_MARKER("staging"))).length, 1);
        });
    });

    describe("the command line, with a fake pulumi and a loopback alert receiver", function () {
        this.timeout(60_000);
        let tmp: string;
        let server: http.Server;
        const received: Array<{ url?: string; body: string }> = [];
        before(async () => {
            server = http.createServer((req, res) => {
                let body = "";
                req.on("data", (d: Buffer) => (body += d.toString()));
                req.on("end", () => {
                    received.push({ url: req.url, body });
                    res.writeHead(200).end();
                });
            });
            await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        });
        after(() => server.close());
        beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), "drift-cli-"))));
        afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

        /** Runs the CLI without blocking this process: its event loop serves the alert receiver. */
        async function runCli(refresh: string): Promise<{ status: number | null; stdout: string; log: string; report: DriftReport }> {
            const port = (server.address() as AddressInfo).port;
            fs.writeFileSync(path.join(tmp, "refresh.json"), refresh);
            fs.writeFileSync(path.join(tmp, "preview.json"), noChanges);
            const observability = JSON.stringify({
                value: JSON.stringify({ alerting: { receivers: { oncall: { webhook: {} } }, route: { receiver: "oncall" } } }),
            });
            fs.writeFileSync(
                path.join(tmp, "pulumi"),
                [
                    "#!/usr/bin/env bash",
                    'echo "$*" >> "$FAKE_LOG"',
                    'case "$1 $2 $3" in',
                    '  "config get orders-platform:environment") echo prod ;;',
                    `  "config get orders-platform:observability") echo '${observability}' ;;`,
                    `  "config get --path") echo "http://127.0.0.1:${port}/hook/secret-token" ;;`,
                    '  refresh*) cat "$FAKE_DIR/refresh.json" ;;',
                    '  preview*) cat "$FAKE_DIR/preview.json" ;;',
                    "  *) exit 3 ;;",
                    "esac",
                ].join("\n"),
                { mode: 0o755 },
            );
            const child = spawn(
                process.execPath,
                ["--import", "tsx", path.join(root, "scripts", "drift.ts"), "detect", "--stack", "prod", "--out", path.join(tmp, "out")],
                {
                    cwd: root,
                    env: {
                        ...process.env,
                        PATH: `${tmp}${path.delimiter}${process.env.PATH}`,
                        FAKE_LOG: path.join(tmp, "log"),
                        FAKE_DIR: tmp,
                        GITHUB_STEP_SUMMARY: "",
                    },
                },
            );
            let output = "";
            child.stdout.on("data", (d: Buffer) => (output += d.toString()));
            child.stderr.on("data", (d: Buffer) => (output += d.toString()));
            const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
            return {
                status,
                stdout: output,
                log: fs.readFileSync(path.join(tmp, "log"), "utf8"),
                report: JSON.parse(fs.readFileSync(path.join(tmp, "out", "report.json"), "utf8")) as DriftReport,
            };
        }

        it("exits 2 on drift, writes the report and alerts the configured receiver", async () => {
            received.length = 0;
            const r = await runCli(refreshJson());
            assert.equal(r.status, EXIT.drift, r.stdout);
            assert.equal(r.report.drift, true);
            assert.match(r.stdout, /out-of-band-delete: NetworkPolicy orders-apps\/default-deny/);
            assert.match(r.stdout, /alert: sent to receiver oncall \(webhook, HTTP 200\)/);
            assert.match(r.log, /^refresh --preview-only --json --non-interactive --stack prod$/m);
            assert.match(
                r.log,
                /^preview --expect-no-changes --json --non-interactive --stack prod --policy-pack \S+\/policy --policy-pack-config \S+\/policy\/config\/prod\.json$/m,
            );
            assert.doesNotMatch(r.log, /^(up|destroy|import|cancel|refresh(?! --preview-only))\b|--yes|config set/m);
        });

        it("exits 0 without drift and sends nothing", async () => {
            received.length = 0;
            const r = await runCli(noChanges);
            assert.equal(r.status, EXIT.clean, r.stdout);
            assert.match(r.stdout, /^no drift in prod$/m);
            assert.equal(received.length, 0);
        });

        it("delivered the alert: Alertmanager's format, to the secret URL", async () => {
            received.length = 0;
            await runCli(refreshJson());
            assert.equal(received.length, 1);
            assert.equal(received[0].url, "/hook/secret-token");
            const body = JSON.parse(received[0].body);
            assert.equal(body.commonLabels.alertname, "PulumiStackDrift");
            assert.equal(body.receiver, "oncall");
        });
    });
});
