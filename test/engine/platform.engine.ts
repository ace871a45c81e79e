// The real program through the real Pulumi engine (CLI, language host, Kubernetes and random
// providers, policy pack) against a real Kubernetes API server whose nodes and pods kwok fakes.
// Run by `npm run test:engine` (scripts/engine/test.sh starts the cluster and sets the env).
import { strict as assert } from "node:assert";
import { generateKeyPairSync } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import { loadAppCatalog } from "../../components/config/appCatalog";
import { CHARTS } from "../../components/versions";
import { startFakePrometheus, type FakePrometheus } from "../canary/fakes";
import {
    changingSteps,
    kubectl,
    policyArgs,
    promotedImage,
    pulumi,
    REPO,
    requireEnv,
    runAsync,
    STACK,
    stateCounts,
    summary,
    writeStackConfig,
} from "./harness";
import { admissionTests, driftTests } from "./guardrails";
import { assembleStandInCharts } from "./standInCharts";

const catalog = loadAppCatalog();
const USERS = catalog.get("users")!.checkoutVersion;
const ORDERS = catalog.get("orders")!.checkoutVersion;
const USERS_CANARY = "1.2.0";
/** Namespaces the program creates (mesh on, observability on). */
const OUR_NAMESPACES = ["orders-apps", "orders-data", "istio-system", "istio-ingress", "istio-cni", "monitoring", "tracing"];
const STORAGE_CLASS = "engine-static";
const VOLUMES = 6;

/** What the closing note and the log need to show, collected along the way. */
const report: string[] = [];
const note = (line: string) => {
    report.push(line);
    process.stdout.write(`      | ${line}\n`);
};

function publicJwks(): string {
    const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    return JSON.stringify({ keys: [{ ...publicKey.export({ format: "jwk" }), kid: "engine", alg: "ES256", use: "sig" }] });
}

/** A StorageClass without provisioner and pre-made volumes: the PVCs bind as on a real cluster. */
function staticVolumes(): string {
    const docs: unknown[] = [
        {
            apiVersion: "storage.k8s.io/v1",
            kind: "StorageClass",
            metadata: { name: STORAGE_CLASS },
            provisioner: "kubernetes.io/no-provisioner",
            volumeBindingMode: "Immediate",
            reclaimPolicy: "Retain",
        },
    ];
    for (let i = 1; i <= VOLUMES; i++) {
        docs.push({
            apiVersion: "v1",
            kind: "PersistentVolume",
            metadata: { name: `engine-pv-${i}` },
            spec: {
                storageClassName: STORAGE_CLASS,
                capacity: { storage: "200Gi" },
                accessModes: ["ReadWriteOnce"],
                persistentVolumeReclaimPolicy: "Retain",
                hostPath: { path: `/var/lib/engine-pv-${i}` },
            },
        });
    }
    return docs.map((d) => stringify(d)).join("---\n");
}

function harnessConfig(chartsDir: string, kubeconfig: string, context: string): Record<string, unknown> {
    const charts = { source: chartsDir };
    return {
        "orders-platform:environment": "staging",
        "orders-platform:cluster": {
            provider: "existing",
            existing: {
                context,
                kubeconfigPath: kubeconfig,
                registry: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-platform/staging",
                storageClass: STORAGE_CLASS,
            },
        },
        "orders-platform:apps": {
            users: {
                version: USERS,
                image: promotedImage("users", USERS),
                replicas: 2,
                autoscaling: { min: 2, max: 4, cpuPercent: 70 },
                canary: { version: USERS_CANARY, image: promotedImage("users", USERS_CANARY), weight: 10 },
            },
            orders: {
                version: ORDERS,
                image: promotedImage("orders", ORDERS),
                replicas: 2,
                autoscaling: { min: 2, max: 4, cpuPercent: 70 },
            },
        },
        "orders-platform:database": {
            maxConnections: 100,
            storage: { size: "5Gi" },
            backup: { enabled: true, schedule: "0 3 * * *", retentionDays: 7, volumeSize: "5Gi" },
        },
        "orders-platform:mesh": { enabled: true, gateway: { replicas: 1, serviceType: "ClusterIP" } },
        "orders-platform:edge": { host: "orders.engine.test" },
        "orders-platform:auth": { issuer: "https://auth.engine.test/", jwks: publicJwks(), audiences: ["orders-api"] },
        "orders-platform:observability": {
            prometheus: { enabled: true, retention: "2d", storageSize: "5Gi" },
            grafana: { enabled: true },
            jaeger: { enabled: true },
            alerting: { receivers: { oncall: { webhook: {} } }, route: { receiver: "oncall" } },
        },
        "orders-platform:charts": Object.fromEntries(Object.keys(CHARTS).map((group) => [group, charts])),
    };
}

/** Objects in the cluster that carry the program's label or live in its namespaces. */
function leftovers(): string[] {
    const namespaces = kubectl(["get", "namespaces", "-o", "jsonpath={.items[*].metadata.name}"]).stdout.split(/\s+/).filter(Boolean);
    const ours = namespaces.filter((n) => OUR_NAMESPACES.includes(n));
    const labelled = kubectl([
        "get",
        "all,configmaps,secrets,persistentvolumeclaims,networkpolicies,serviceaccounts,roles,rolebindings,clusterroles,clusterrolebindings",
        "--all-namespaces",
        "-l",
        "app.kubernetes.io/part-of=orders-platform",
        "-o",
        "name",
    ])
        .stdout.split("\n")
        .filter(Boolean);
    return [...ours.map((n) => `namespace/${n}`), ...labelled];
}

describe("the real program through the real engine (kwok cluster)", function () {
    this.timeout(40 * 60_000);
    let prometheus: FakePrometheus | undefined;

    before(() => {
        const work = requireEnv("ENGINE_WORK");
        const charts = path.join(work, "charts");
        assembleStandInCharts(charts);
        const volumes = path.join(work, "volumes.yaml");
        fs.writeFileSync(volumes, staticVolumes());
        kubectl(["apply", "-f", volumes]);
        const context = kubectl(["config", "current-context"]).stdout.trim();
        writeStackConfig(harnessConfig(charts, requireEnv("KUBECONFIG"), context));
        pulumi(["stack", "init", STACK]);
        pulumi([
            "config",
            "set",
            "--secret",
            "--path",
            "orders-platform:alertingSecrets.oncall",
            "https://alerts.engine.test/hook",
            "--stack",
            STACK,
        ]);
        note(
            `cluster: ${kubectl(["version", "-o", "json"])
                .stdout.match(/"gitVersion":\s*"([^"]+)"/g)
                ?.join(", ")}`,
        );
    });

    after(async () => {
        await prometheus?.close();
        fs.writeFileSync(path.join(requireEnv("ENGINE_WORK"), "report.txt"), report.join("\n") + "\n");
    });

    it("preview with the policy pack (staging config, mandatory): everything to create, no violation", () => {
        const r = pulumi(["preview", "--stack", STACK, ...policyArgs("staging")]);
        // A violation line reads "[mandatory] <policy>"; the admission policy's name has the word too.
        assert.doesNotMatch(r.output, /\[mandatory\]|mandatory:\s*\[/i, "no mandatory policy violation");
        const toCreate = summary(r.output).find((l) => / to create$/.test(l));
        assert.ok(toCreate, `preview summary: ${summary(r.output).join("; ")}`);
        note(`preview: ${summary(r.output).join(", ")}; policy pack: no violations`);
    });

    it("up creates every resource; Deployments, the StatefulSet and Jobs become ready through kwok", () => {
        const r = pulumi(["up", "--yes", "--skip-preview", "--stack", STACK, ...policyArgs("staging")]);
        const counts = stateCounts();
        const pick = (t: string) => counts.byType[t] ?? 0;
        note(`up: ${summary(r.output).join(", ")}; state: ${counts.total} resources`);
        note(
            `  of them: ${pick("kubernetes:apps/v1:Deployment")} Deployments, ${pick("kubernetes:apps/v1:StatefulSet")} StatefulSet, ` +
                `${pick("kubernetes:batch/v1:Job")} Job, ${pick("kubernetes:batch/v1:CronJob")} CronJob, ` +
                `${pick("kubernetes:networking.k8s.io/v1:NetworkPolicy")} NetworkPolicies, ${pick("kubernetes:helm.sh/v4:Chart")} charts, ` +
                `${Object.entries(counts.byType)
                    .filter(([t]) => /istio\.io|monitoring\.coreos\.com/.test(t))
                    .reduce((n, [, c]) => n + c, 0)} Istio and monitoring objects`,
        );
        assert.ok(pick("kubernetes:apps/v1:Deployment") >= 4, "stable and canary Deployments of both apps");
        assert.equal(pick("kubernetes:apps/v1:StatefulSet"), 1);
        for (const t of [
            "kubernetes:batch/v1:Job",
            "kubernetes:batch/v1:CronJob",
            "kubernetes:policy/v1:PodDisruptionBudget",
            "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
            "kubernetes:networking.istio.io/v1:VirtualService",
            "kubernetes:networking.istio.io/v1:DestinationRule",
            "kubernetes:networking.istio.io/v1:Gateway",
            "kubernetes:security.istio.io/v1:PeerAuthentication",
            "kubernetes:security.istio.io/v1:AuthorizationPolicy",
            "kubernetes:security.istio.io/v1:RequestAuthentication",
            "kubernetes:telemetry.istio.io/v1:Telemetry",
            "kubernetes:monitoring.coreos.com/v1:PodMonitor",
            "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
        ]) {
            assert.ok(pick(t) >= 1, `${t} in the state`);
        }
        // What kwok made of them, as the API server reports it.
        const ready = kubectl([
            "get",
            "deployments,statefulsets,jobs",
            "-A",
            "-l",
            "app.kubernetes.io/part-of=orders-platform",
            "-o",
            "jsonpath={range .items[*]}{.kind}/{.metadata.namespace}/{.metadata.name} ready={.status.readyReplicas}/{.spec.replicas} succeeded={.status.succeeded}{'\\n'}{end}",
        ]).stdout.trim();
        note(`  workloads:\n${ready.replace(/^/gm, "        ")}`);
        for (const line of ready.split("\n")) {
            if (line.startsWith("Job/")) assert.match(line, /succeeded=1/, line);
            else assert.match(line, /ready=(\d+)\/\1 /, line);
        }
    });

    it("a second up changes nothing (no perpetual diff)", () => {
        const r = pulumi(["up", "--yes", "--expect-no-changes", "--stack", STACK, ...policyArgs("staging")]);
        note(`second up: ${summary(r.output).join(", ")}`);
    });

    // Guardrails beyond the Pulumi path, on this stack as up left it (guardrails.ts).
    admissionTests(note);
    driftTests(note);

    it("a new canary weight changes only the users VirtualService weights, and up applies it", () => {
        pulumi(["config", "set", "--path", "orders-platform:apps.users.canary.weight", "40", "--stack", STACK]);
        const preview = pulumi(["preview", "--diff", "--json", "--stack", STACK]);
        const steps = changingSteps(preview.stdout);
        assert.deepEqual(
            steps.map((s) => `${s.op} ${s.urn.split("::").pop()}`),
            ["update users"],
            "one update, of the users VirtualService",
        );
        const [step] = steps;
        assert.match(step.urn, /networking\.istio\.io\/v1:VirtualService::users$/);
        const diffKeys = Object.keys(step.detailedDiff ?? {});
        assert.ok(
            diffKeys.length > 0 && diffKeys.every((k) => /^spec\.http\[\d+\]\.route\[\d+\]\.weight$/.test(k)),
            `diff: ${diffKeys.join(", ")}`,
        );
        note(
            `weight 10 -> 40: preview changes ${steps.length} resource (${step.urn.split("::").slice(-2).join("::")}), fields ${diffKeys.join(", ")}`,
        );
        const r = pulumi(["up", "--yes", "--stack", STACK, ...policyArgs("staging")]);
        note(`up: ${summary(r.output).join(", ")}`);
    });

    it("refuses a latest image and a root container under the staging policy config", () => {
        for (const variant of ["latest-image", "root-container"]) {
            const r = pulumi(["preview", "--stack", STACK, ...policyArgs("staging")], {
                env: { ENGINE_HARNESS_VARIANT: variant },
                expect: "fail",
            });
            const rule = variant === "latest-image" ? "k8s-no-latest-image" : "k8s-non-root";
            const refusal = r.output.split("\n").filter((l) => l.includes("[mandatory]") && l.includes(rule));
            assert.ok(refusal.length > 0, `${variant}: ${rule} refuses it`);
            assert.ok(
                refusal.every((l) => /Deployment: users(-canary)?\)/.test(l)),
                `only the users Deployments: ${refusal.join(" | ")}`,
            );
            note(`${variant}: preview refused (exit ${r.status}):\n${refusal.map((l) => `        ${l.trim()}`).join("\n")}`);
        }
    });

    it("npm run canary steps the users canary through its weights and promotes it, through the real engine", async () => {
        prometheus = await startFakePrometheus({
            series: [
                { app: "users", track: "canary", route: "/api/users/:id", status: "200", rps: 5, seconds: 0.02 },
                { app: "users", track: "canary", route: "/healthz", status: "200", rps: 1, seconds: 0.001 },
            ],
        });
        const r = await runAsync(
            "npm",
            [
                "run",
                "--silent",
                "canary",
                "--",
                "users",
                "--stack",
                STACK,
                "--cwd",
                "test/engine/project",
                "--steps",
                "50,100",
                "--window",
                "30s",
                "--min-requests",
                "50",
                "--prometheus-url",
                prometheus.url,
                "--log-file",
                path.join(requireEnv("ENGINE_WORK"), "operations.log"),
            ],
            { cwd: REPO },
        );
        assert.match(r.output, /result: promoted \(exit 0\)/);
        const apps = JSON.parse(pulumi(["config", "get", "orders-platform:apps", "--json", "--stack", STACK]).stdout);
        const users = JSON.parse(apps.value ?? JSON.stringify(apps.objectValue ?? apps)).users ?? apps.objectValue?.users;
        assert.equal(users.version, USERS_CANARY, "the canary version is the stable version now");
        assert.equal(users.canary, undefined, "the canary is gone");
        assert.equal(users.image, promotedImage("users", USERS_CANARY), "the analysed digest is the stable image now");
        const running = kubectl([
            "-n",
            "orders-apps",
            "get",
            "deployment",
            "users",
            "-o",
            'jsonpath={.spec.template.spec.containers[?(@.name=="users")].image}',
        ]);
        assert.equal(running.stdout.trim(), promotedImage("users", USERS_CANARY), "the stable Deployment runs the promoted digest");
        assert.equal(
            kubectl(["-n", "orders-apps", "get", "deployment", "users-canary", "--ignore-not-found", "-o", "name"]).stdout.trim(),
            "",
            "the canary Deployment is gone",
        );
        note(
            `canary: ${r.output
                .split("\n")
                .filter((l) => /step|promot|result/.test(l))
                .map((l) => l.replace(/^\S+ /, ""))
                .join(" | ")}`,
        );
    });

    it("destroy leaves no object of ours behind, then the stack is removed", () => {
        const r = pulumi(["destroy", "--yes", "--stack", STACK]);
        note(`destroy: ${summary(r.output).join(", ")}`);
        const left = leftovers();
        assert.deepEqual(left, [], "nothing of ours is left");
        const namespaces = kubectl(["get", "namespaces", "-o", "jsonpath={.items[*].metadata.name}"]).stdout.trim();
        note(`namespaces after destroy: ${namespaces}`);
        pulumi(["stack", "rm", "--yes", STACK]);
        assert.ok(!fs.existsSync(path.join(REPO, "test", "engine", "project", `Pulumi.${STACK}.yaml`)), "stack rm removes the stack file");
    });
});
