// Pure builders for a microservice's Kubernetes objects: config in, object literals out.
// No resource is registered here, so every rule is unit-testable without mocks.
import { createHash } from "node:crypto";
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { ClusterTopology } from "../cluster/types";
import type { AppCatalog, AppConfig, AppFacts } from "../config";
import { ROLLING_MAX_SURGE, type HpaPlan, type ReplicaPlan } from "../budgets/replicaPlan";
import { platformLabels } from "../naming";
import { APP_UID, containerSecurityContext, podSecurityContext, tmpVolume } from "../podSecurity";

type Input<T> = pulumi.Input<T>;
type DeploymentSpec = k8s.types.input.apps.v1.DeploymentSpec;
type PodSpec = k8s.types.input.core.v1.PodSpec;

export type Track = "stable" | "canary";

/** Seconds the kubelet waits after SIGTERM on top of the app's own drain time. */
export const TERMINATION_BUFFER_SECONDS = 10;
/** Pause before SIGTERM so endpoints and sidecars stop sending traffic to a terminating pod. */
export const PRE_STOP_SLEEP_SECONDS = 5;
export const REVISION_HISTORY_LIMIT = 5;

// --- config ------------------------------------------------------------------

/** Non-secret environment of the app (credentials come from Secrets, never from here). */
/** `<CALLEE>_URL` for every app this app calls, pointing at the callee's Service DNS name. */
export function upstreamUrls(facts: AppFacts, catalog: AppCatalog, namespace: string): Record<string, string> {
    return Object.fromEntries(
        facts.calls.map((callee) => [
            `${callee.toUpperCase()}_URL`,
            `http://${callee}.${namespace}.svc.cluster.local:${catalog.get(callee)!.port}`,
        ]),
    );
}

/** The app's database pool, sized by the connection budget (connectionBudget.ts); only apps with a database. */
export function dbPoolEnv(facts: AppFacts, config: AppConfig): Record<string, string> {
    if (!facts.database) return {};
    return {
        DB_POOL_MAX: String(config.dbPool.max),
        DB_POOL_ACQUIRE_TIMEOUT_MS: String(config.dbPool.acquireTimeoutMs),
        DB_STATEMENT_TIMEOUT_MS: String(config.dbPool.statementTimeoutMs),
    };
}

export function configMapData(facts: AppFacts, config: AppConfig, env: Record<string, string>): Record<string, string> {
    return {
        PORT: String(facts.port),
        LOG_LEVEL: config.logLevel,
        OTEL_SERVICE_NAME: facts.name,
        SHUTDOWN_GRACE_SECONDS: String(facts.shutdownGraceSeconds),
        ...dbPoolEnv(facts, config),
        ...env,
    };
}

/** Hash of the ConfigMap data; put on the pod template so a config change rolls the pods. */
export function configHash(data: Record<string, string>): string {
    const canonical = JSON.stringify(
        Object.keys(data)
            .sort()
            .map((k) => [k, data[k]]),
    );
    return createHash("sha256").update(canonical).digest("hex").slice(0, 16);
}

// --- labels ------------------------------------------------------------------

export function selectorLabels(app: string, track: Track): Record<string, string> {
    return { app, track };
}

export function podLabels(environment: string, app: string, version: string, track: Track): Record<string, string> {
    return {
        ...platformLabels(environment, "microservice"),
        "app.kubernetes.io/name": app,
        "app.kubernetes.io/version": version,
        app,
        version,
        track,
    };
}

export function deploymentName(app: string, track: Track): string {
    return track === "stable" ? app : `${app}-canary`;
}

// --- pod ---------------------------------------------------------------------

export function topologySpread(app: string, track: Track, topology: ClusterTopology): k8s.types.input.core.v1.TopologySpreadConstraint[] {
    const labelSelector = { matchLabels: selectorLabels(app, track) };
    const constraints: k8s.types.input.core.v1.TopologySpreadConstraint[] = [];
    if (topology.multiZone) {
        // Zones can be unbalanced (or briefly missing capacity); prefer spreading, never block.
        constraints.push({ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector });
    }
    if (topology.multiNode) {
        // Hard per-node spread; tainted nodes (control plane) do not count towards the skew.
        constraints.push({
            maxSkew: 1,
            topologyKey: "kubernetes.io/hostname",
            whenUnsatisfiable: "DoNotSchedule",
            nodeTaintsPolicy: "Honor",
            labelSelector,
        });
    }
    return constraints;
}

export interface PodInput {
    environment: string;
    facts: AppFacts;
    config: AppConfig;
    track: Track;
    version: string;
    image: Input<string>;
    configMapName: string;
    serviceAccountName: string;
    configHash: Input<string>;
    databaseSecret?: { name: Input<string>; key: string };
    topology: ClusterTopology;
}

export function podSpec(p: PodInput): PodSpec {
    const tmp = tmpVolume();
    const probe = (path: string) => ({ httpGet: { path, port: "http" as Input<string> }, timeoutSeconds: 2 });
    return {
        serviceAccountName: p.serviceAccountName,
        // The apps never talk to the Kubernetes API.
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        terminationGracePeriodSeconds: PRE_STOP_SLEEP_SECONDS + p.facts.shutdownGraceSeconds + TERMINATION_BUFFER_SECONDS,
        securityContext: podSecurityContext(APP_UID),
        topologySpreadConstraints: topologySpread(p.facts.name, p.track, p.topology),
        containers: [
            {
                name: p.facts.name,
                image: p.image,
                imagePullPolicy: "IfNotPresent",
                ports: [{ name: "http", containerPort: p.facts.port, protocol: "TCP" }],
                envFrom: [{ configMapRef: { name: p.configMapName } }],
                env: [
                    ...(p.databaseSecret
                        ? [
                              {
                                  name: "DATABASE_URL",
                                  valueFrom: { secretKeyRef: { name: p.databaseSecret.name, key: p.databaseSecret.key } },
                              },
                          ]
                        : []),
                    {
                        name: "OTEL_RESOURCE_ATTRIBUTES",
                        value: `service.version=${p.version},deployment.environment.name=${p.environment},deployment.track=${p.track}`,
                    },
                ],
                resources: {
                    requests: { ...p.config.resources.requests },
                    limits: { ...p.config.resources.limits },
                },
                // Startup gives a cold start up to 60s before liveness may restart the container.
                startupProbe: { ...probe(p.facts.health.startup), periodSeconds: 2, failureThreshold: 30 },
                readinessProbe: { ...probe(p.facts.health.readiness), periodSeconds: 5, failureThreshold: 2 },
                livenessProbe: { ...probe(p.facts.health.liveness), periodSeconds: 10, failureThreshold: 3 },
                // The app stops accepting on SIGTERM; the pause lets the endpoint removal propagate first.
                lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SLEEP_SECONDS } } },
                securityContext: containerSecurityContext(APP_UID),
                volumeMounts: [tmp.mount],
            },
        ],
        volumes: [tmp.volume],
    };
}

export interface DeploymentInput extends PodInput {
    namespace: Input<string>;
    /** undefined: the HPA owns the replica count. */
    replicas?: number;
}

export function deploymentSpec(d: DeploymentInput): DeploymentSpec {
    return {
        replicas: d.replicas,
        revisionHistoryLimit: REVISION_HISTORY_LIMIT,
        progressDeadlineSeconds: 600,
        minReadySeconds: 5,
        selector: { matchLabels: selectorLabels(d.facts.name, d.track) },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: ROLLING_MAX_SURGE } },
        template: {
            metadata: {
                labels: podLabels(d.environment, d.facts.name, d.version, d.track),
                annotations: {
                    "prometheus.io/scrape": "true",
                    "prometheus.io/port": String(d.facts.port),
                    "prometheus.io/path": d.facts.metricsPath,
                    "kubectl.kubernetes.io/default-container": d.facts.name,
                    "orders-platform/config-hash": d.configHash,
                },
            },
            spec: podSpec(d),
        },
    };
}

// --- service, autoscaling, disruption ------------------------------------------

export function serviceSpec(facts: AppFacts): k8s.types.input.core.v1.ServiceSpec {
    return {
        type: "ClusterIP",
        // Both tracks: the mesh (or the replica ratio) decides who gets which request.
        selector: { app: facts.name },
        ports: [{ name: "http", port: facts.port, targetPort: "http", protocol: "TCP", appProtocol: "http" }],
    };
}

export function hpaSpec(deployment: string, plan: HpaPlan): k8s.types.input.autoscaling.v2.HorizontalPodAutoscalerSpec {
    return {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deployment },
        minReplicas: plan.min,
        maxReplicas: plan.max,
        metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: plan.cpuPercent } } }],
        behavior: {
            // Scale down slowly so a short dip does not drop capacity just before the next peak.
            scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: "Pods", value: 1, periodSeconds: 60 }] },
        },
    };
}

/** maxUnavailable 1 (not minAvailable 1): drains proceed one pod at a time at any scale. */
export function pdbSpec(app: string): k8s.types.input.policy.v1.PodDisruptionBudgetSpec {
    return {
        maxUnavailable: 1,
        selector: { matchLabels: { app } },
        unhealthyPodEvictionPolicy: "AlwaysAllow",
    };
}

export function approximationWarning(app: string, a: NonNullable<ReplicaPlan["approximation"]>): string {
    return (
        `${app}: the mesh is off, so the canary weight ${a.weight}% is only approximated by the replica ratio ` +
        `stable ${a.stable} : canary ${a.canary} (~${a.canaryPercent}% of pods, and of requests only on average)`
    );
}
