// Pure spec builders of the microservices, without Pulumi mocks.
import { strict as assert } from "node:assert";
import { AppConfig, appSchema } from "../../components/config";
import { namespaceLabels } from "../../components/namespaces";
import {
    configHash,
    configMapData,
    deploymentSpec,
    pdbSpec,
    podSpec,
    serviceSpec,
    topologySpread,
    upstreamUrls,
} from "../../components/workloads/microServiceSpec";
import { appCatalog as catalog } from "../harness";
import { containerProblems } from "../harness/rules";

const users = catalog.get("users")!;
const orders = catalog.get("orders")!;
const app = (over: Record<string, unknown>): AppConfig => appSchema.parse({ version: "1.0.0", ...over });

describe("workloads: microservice specs", () => {
    it("points each app at the Services of the apps it calls, and only those", () => {
        assert.deepEqual(upstreamUrls(catalog.get("orders")!, catalog, "orders-apps"), {
            USERS_URL: "http://users.orders-apps.svc.cluster.local:8081",
        });
        assert.deepEqual(upstreamUrls(catalog.get("users")!, catalog, "orders-apps"), {});
    });

    const config = app({ replicas: 3, resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } } });
    const input = {
        environment: "prod",
        facts: orders,
        config,
        track: "canary" as const,
        version: "1.1.0",
        image: "registry/orders@sha256:" + "a".repeat(64),
        namespace: "orders-apps",
        replicas: 2,
        configMapName: "orders-config",
        serviceAccountName: "orders",
        configHash: "abc",
        databaseSecret: { name: "orders-database", key: "DATABASE_URL" },
        topology: { multiNode: true, multiZone: true },
    };

    it("probes the app's health paths on its port, with limits and a restricted security context", () => {
        const pod = podSpec(input) as any;
        const c = pod.containers[0];
        assert.deepEqual(c.ports, [{ name: "http", containerPort: orders.port, protocol: "TCP" }]);
        assert.equal(c.readinessProbe.httpGet.path, orders.health.readiness);
        assert.equal(c.livenessProbe.httpGet.path, orders.health.liveness);
        assert.equal(c.startupProbe.httpGet.path, orders.health.startup);
        for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) assert.equal(probe.httpGet.port, "http");
        assert.deepEqual(c.resources, { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } });
        assert.deepEqual(containerProblems(pod, c, true), []);
        assert.equal(c.securityContext.runAsUser, 10001);
        assert.deepEqual(pod.volumes, [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }]);
        assert.equal(pod.terminationGracePeriodSeconds, 5 + orders.shutdownGraceSeconds + 10);
        assert.equal(pod.automountServiceAccountToken, false);
    });

    it("takes DATABASE_URL from the Secret, never as a literal", () => {
        const c = (podSpec(input) as any).containers[0];
        const dbEnv = c.env.find((e: any) => e.name === "DATABASE_URL");
        assert.deepEqual(dbEnv, { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "orders-database", key: "DATABASE_URL" } } });
        assert.deepEqual(c.envFrom, [{ configMapRef: { name: "orders-config" } }]);
    });

    it("rolls out without losing capacity and labels pods app/version/track", () => {
        const d = deploymentSpec(input) as any;
        assert.deepEqual(d.strategy, { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
        assert.equal(d.revisionHistoryLimit, 5);
        assert.equal(d.replicas, 2);
        assert.deepEqual(d.selector.matchLabels, { app: "orders", track: "canary" });
        const labels = d.template.metadata.labels;
        assert.equal(labels.app, "orders");
        assert.equal(labels.version, "1.1.0");
        assert.equal(labels.track, "canary");
        assert.equal(d.template.metadata.annotations["orders-platform/config-hash"], "abc");
        assert.equal(d.template.metadata.annotations["prometheus.io/port"], String(orders.port));
        assert.equal(d.template.metadata.annotations["prometheus.io/path"], orders.metricsPath);
    });

    it("spreads over zones (soft) and nodes only where the cluster has them", () => {
        assert.deepEqual(topologySpread("users", "stable", { multiNode: false, multiZone: false }), []);
        const both = topologySpread("users", "stable", { multiNode: true, multiZone: true });
        assert.deepEqual(
            both.map((c) => [c.topologyKey, c.whenUnsatisfiable]),
            [
                ["topology.kubernetes.io/zone", "ScheduleAnyway"],
                ["kubernetes.io/hostname", "DoNotSchedule"],
            ],
        );
        assert.deepEqual((both[0] as any).labelSelector.matchLabels, { app: "users", track: "stable" });
    });

    it("rolls pods when the config changes (hash of the ConfigMap data)", () => {
        const a = configMapData(orders, config, { USERS_URL: "http://users.orders-apps.svc.cluster.local:8081" });
        assert.equal(a.PORT, String(orders.port));
        assert.equal(a.SHUTDOWN_GRACE_SECONDS, String(orders.shutdownGraceSeconds));
        assert.equal(a.LOG_LEVEL, "info");
        assert.equal(a.OTEL_SERVICE_NAME, "orders");
        const b = configMapData(orders, { ...config, logLevel: "debug" }, { USERS_URL: "http://users.orders-apps.svc.cluster.local:8081" });
        assert.notEqual(configHash(a), configHash(b));
        assert.equal(configHash(a), configHash({ ...a }));
    });

    it("one Service selects both tracks; PDB tolerates one disruption", () => {
        const svc = serviceSpec(users) as any;
        assert.deepEqual(svc.selector, { app: "users" });
        assert.deepEqual(svc.ports, [{ name: "http", port: users.port, targetPort: "http", protocol: "TCP", appProtocol: "http" }]);
        assert.deepEqual(pdbSpec("users").selector, { matchLabels: { app: "users" } });
        assert.equal(pdbSpec("users").maxUnavailable, 1);
    });

    it("labels namespaces for injection with the mesh and enforces restricted PSS with and without it", () => {
        assert.equal(namespaceLabels("dev", true)["istio-injection"], "enabled");
        assert.equal(namespaceLabels("dev", false)["istio-injection"], undefined);
        for (const mesh of [true, false]) {
            const labels = namespaceLabels("dev", mesh);
            for (const mode of ["enforce", "audit", "warn"]) assert.equal(labels[`pod-security.kubernetes.io/${mode}`], "restricted");
            assert.equal(labels["pod-security.kubernetes.io/enforce-version"], "latest");
        }
    });
});
