// Pure builders for Jaeger v2 (all-in-one, in-memory store) and the OTLP collector Service.
import { createHash } from "node:crypto";
import type * as k8s from "@pulumi/kubernetes";
import type { ObservabilityConfig } from "../config";
import { JAEGER_COLLECTOR_HOST, OTLP_GRPC_PORT, OTLP_HTTP_PORT } from "../naming";
import { JAEGER_HEALTH_PORT, JAEGER_METRICS_PORT, JAEGER_POD_LABELS, JAEGER_QUERY_PORT, JAEGER_QUERY_SERVICE } from "./names";

type Values = Record<string, unknown>;

/** Jaeger's image runs as this user (cmd/jaeger/Dockerfile). */
export const JAEGER_UID = 10001;
const STORE = "memstore";

/** OTLP endpoint handed to the apps (OTEL_EXPORTER_OTLP_ENDPOINT, OTLP/HTTP). */
export const OTLP_HTTP_ENDPOINT = `http://${JAEGER_COLLECTOR_HOST}:${OTLP_HTTP_PORT}`;

/**
 * Jaeger v2 is an OpenTelemetry Collector distribution: this is its whole pipeline. OTLP only
 * (apps and Istio both speak it); every listener binds all interfaces explicitly because the
 * collector's own default is localhost.
 */
export function jaegerCollectorConfig(config: ObservabilityConfig): Values {
    return {
        service: {
            extensions: ["jaeger_storage", "jaeger_query", "healthcheckv2"],
            pipelines: {
                traces: { receivers: ["otlp"], processors: ["batch"], exporters: ["jaeger_storage_exporter"] },
            },
            telemetry: {
                resource: { "service.name": "jaeger" },
                metrics: {
                    level: "basic",
                    readers: [{ pull: { exporter: { prometheus: { host: "0.0.0.0", port: JAEGER_METRICS_PORT } } } }],
                },
                logs: { level: "info" },
            },
        },
        extensions: {
            healthcheckv2: { use_v2: true, http: { endpoint: `0.0.0.0:${JAEGER_HEALTH_PORT}` } },
            jaeger_query: { storage: { traces: STORE }, http: { endpoint: `0.0.0.0:${JAEGER_QUERY_PORT}` } },
            // In memory: traces are for debugging recent requests; the oldest are evicted first.
            jaeger_storage: { backends: { [STORE]: { memory: { max_traces: config.jaeger.maxTraces } } } },
        },
        receivers: {
            otlp: {
                protocols: {
                    grpc: { endpoint: `0.0.0.0:${OTLP_GRPC_PORT}` },
                    http: { endpoint: `0.0.0.0:${OTLP_HTTP_PORT}` },
                },
            },
        },
        processors: { batch: {} },
        exporters: { jaeger_storage_exporter: { trace_storage: STORE } },
    };
}

export function configHash(value: unknown): string {
    return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 16);
}

/** Values of the jaegertracing/jaeger chart (4.x: one all-in-one Deployment of Jaeger v2). */
export function jaegerValues(config: ObservabilityConfig): Values {
    const collectorConfig = jaegerCollectorConfig(config);
    return {
        fullnameOverride: JAEGER_QUERY_SERVICE,
        userconfig: collectorConfig,
        // Only the all-in-one Deployment: no Elasticsearch/Cassandra maintenance jobs.
        spark: { enabled: false },
        esIndexCleaner: { enabled: false },
        esRollover: { enabled: false },
        esLookback: { enabled: false },
        jaeger: {
            enabled: true,
            // An in-memory store cannot be shared: more replicas would each hold a part of the traces.
            replicas: 1,
            resources: config.jaeger.resources,
            podLabels: {
                "sidecar.istio.io/inject": "false",
                // The chart mounts the config without a checksum: a changed config must roll the pod.
                "orders-platform/config-hash": configHash(collectorConfig),
            },
            serviceAccount: { automountServiceAccountToken: false },
            podSecurityContext: {
                runAsNonRoot: true,
                runAsUser: JAEGER_UID,
                runAsGroup: JAEGER_UID,
                fsGroup: JAEGER_UID,
                seccompProfile: { type: "RuntimeDefault" },
            },
            securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ["ALL"] },
            },
            extraVolumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
            extraVolumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
        },
    };
}

/** The OTLP-only Service behind JAEGER_COLLECTOR_HOST, selecting the chart's all-in-one pods. */
export function collectorServiceSpec(): k8s.types.input.core.v1.ServiceSpec {
    return {
        type: "ClusterIP",
        selector: { ...JAEGER_POD_LABELS },
        ports: [
            { name: "grpc-otlp", port: OTLP_GRPC_PORT, targetPort: OTLP_GRPC_PORT, protocol: "TCP", appProtocol: "grpc" },
            { name: "http-otlp", port: OTLP_HTTP_PORT, targetPort: OTLP_HTTP_PORT, protocol: "TCP", appProtocol: "http" },
        ],
    };
}
