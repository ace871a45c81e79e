// Pure builders for centralised logs: Grafana Loki (monolithic: one process, one StatefulSet) and
// Grafana Alloy (a DaemonSet that tails the pods of its node through the Kubernetes API, so it
// needs no hostPath, no root and no privilege), plus Loki's Grafana data source.
//
// Monolithic in every environment: two small services log far below the few tens of GB a day one
// Loki process ingests (the chart's own guidance), and with object storage (EKS, GKE) its chunks
// and index live in the bucket while the volume only holds the WAL and caches, so a lost pod or
// volume loses at most the unflushed minutes. SimpleScalable is deprecated (removed in Loki 4);
// the next step up is Distributed, behind the same Service and data source.
import type { Input } from "@pulumi/pulumi";
import type { LogsConfig } from "../config";
import { retentionHours } from "../config/schema";
import { APP_NAMESPACE, LOGGING_NAMESPACE } from "../naming";

type Values = Record<string, unknown>;

export const LOKI_CHART = "loki";
export const LOKI_RELEASE = "loki";
/** The monolithic Service (the chart names it after the release): HTTP API and metrics. */
export const LOKI_SERVICE = "loki";
export const LOKI_HTTP_PORT = 3100;
export const LOKI_URL = `http://${LOKI_SERVICE}.${LOGGING_NAMESPACE}.svc.cluster.local:${LOKI_HTTP_PORT}`;
export const LOKI_PUSH_URL = `${LOKI_URL}/loki/api/v1/push`;
/** Pod labels of the monolithic Loki. */
export const LOKI_POD_LABELS = {
    "app.kubernetes.io/name": "loki",
    "app.kubernetes.io/instance": LOKI_RELEASE,
    "app.kubernetes.io/component": "single-binary",
} as const;
/** Loki's image runs as this user (and the chart's pod security context says so). */
export const LOKI_UID = 10001;

export const ALLOY_CHART = "alloy";
export const ALLOY_RELEASE = "alloy";
export const ALLOY_HTTP_PORT = 12345;
export const ALLOY_POD_LABELS = { "app.kubernetes.io/name": "alloy", "app.kubernetes.io/instance": ALLOY_RELEASE } as const;
/** The alloy user of the image (its Dockerfile). */
export const ALLOY_UID = 473;

/** uid of the Loki data source; dashboards and the Jaeger data source refer to it. */
export const LOKI_DATASOURCE_UID = "loki";

/** Where Loki keeps chunks and index (the cluster's logsStorage, without the credentials). */
export type LokiStore =
    | { kind: "volume" }
    | { kind: "s3"; bucket: Input<string>; region: string; serviceAccountAnnotations: Input<Record<string, string>> }
    | { kind: "gcs"; bucket: Input<string>; serviceAccountAnnotations: Input<Record<string, string>> };

/** Loki's name for the store of the schema and the compactor's delete requests. */
export function objectStoreName(store: LokiStore): "filesystem" | "s3" | "gcs" {
    return store.kind === "volume" ? "filesystem" : store.kind;
}

/**
 * A pinned reference `<registry>/<repository>:<tag>@sha256:<digest>` as the charts' image values.
 * Both charts print `:<tag>`, so tag and digest travel together in `tag` (a digest value alone
 * would drop the tag from the rendered reference).
 */
export function chartImage(reference: string): { registry: string; repository: string; tag: string } {
    const m = /^([^/]+)\/(.+):([^:@/]+@sha256:[a-f0-9]{64})$/.exec(reference);
    if (!m) throw new Error(`image ${reference} is not <registry>/<repository>:<tag>@sha256:<digest>`);
    return { registry: m[1], repository: m[2], tag: m[3] };
}

const RESTRICTED_CONTAINER = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
};

function podSecurity(uid: number) {
    return { runAsNonRoot: true, runAsUser: uid, runAsGroup: uid, fsGroup: uid, seccompProfile: { type: "RuntimeDefault" } };
}

/** Values of the grafana-community loki chart (18.x): one monolithic Loki, nothing else. */
export function lokiValues(config: LogsConfig, store: LokiStore, image: string, storageClassName: Input<string>): Values {
    const objectStore = objectStoreName(store);
    const bucketStorage =
        store.kind === "s3"
            ? { type: "s3", bucketNames: { chunks: store.bucket, ruler: store.bucket, admin: store.bucket }, s3: { region: store.region } }
            : store.kind === "gcs"
              ? { type: "gcs", bucketNames: { chunks: store.bucket, ruler: store.bucket, admin: store.bucket } }
              : { type: "filesystem" };
    return {
        deploymentMode: "Monolithic",
        loki: {
            image: chartImage(image),
            // One tenant: nothing outside the namespace reaches Loki but Alloy, Grafana and Prometheus.
            auth_enabled: false,
            commonConfig: {
                replication_factor: 1,
                path_prefix: "/var/loki",
                // One process: its rings live in memory, no gossip between pods.
                ring: { kvstore: { store: "inmemory" } },
            },
            storage: bucketStorage,
            schemaConfig: {
                configs: [
                    {
                        from: "2024-04-01",
                        store: "tsdb",
                        object_store: objectStore,
                        schema: "v13",
                        index: { prefix: "index_", period: "24h" },
                    },
                ],
            },
            // Retention: the compactor deletes what is older, in the filesystem and in the bucket alike.
            limits_config: { retention_period: `${retentionHours(config.retention)}h`, allow_structured_metadata: true },
            compactor: {
                working_directory: "/var/loki/compactor",
                retention_enabled: true,
                delete_request_store: objectStore,
            },
            analytics: { reporting_enabled: false },
            podSecurityContext: podSecurity(LOKI_UID),
            containerSecurityContext: RESTRICTED_CONTAINER,
        },
        singleBinary: {
            replicas: 1,
            resources: config.resources,
            // No rules sidecar (no ruler): the pod is Loki alone.
            sidecar: false,
            podLabels: { "sidecar.istio.io/inject": "false" },
            persistence: { enabled: true, size: config.storageSize, storageClass: storageClassName },
        },
        // The scalable and distributed targets of the chart: none.
        write: { replicas: 0 },
        read: { replicas: 0 },
        backend: { replicas: 0 },
        // No nginx gateway, caches, canary or Helm test: clients call the monolithic Service.
        gateway: { enabled: false },
        chunksCache: { enabled: false },
        resultsCache: { enabled: false },
        lokiCanary: { enabled: false },
        test: { enabled: false },
        ruler: { enabled: false },
        sidecar: { rules: { enabled: false } },
        // Loki never calls the Kubernetes API: no token, and no (cluster) role at all.
        rbac: { namespaced: true },
        defaults: { automountServiceAccountToken: false },
        serviceAccount: {
            create: true,
            automountServiceAccountToken: false,
            annotations: store.kind === "volume" ? {} : store.serviceAccountAnnotations,
        },
        monitoring: { serviceMonitor: { enabled: false }, selfMonitoring: { enabled: false } },
    };
}

/** Namespaces whose pods Alloy reads (every one: platform components log there too). */
export interface AlloyConfigOptions {
    pushUrl: string;
}

/**
 * Alloy's pipeline: discover the pods of this node (field selector on the node name the chart puts
 * in K8S_NODE_NAME), label streams with namespace, pod, container, app, track and version, read
 * their logs from the Kubernetes API (loki.source.kubernetes: no hostPath), parse the apps' JSON
 * lines for the level (a label: few values), and push to Loki. trace_id stays in the line, where
 * Grafana's derived field finds it.
 */
export const REDACTED = "<redacted>";
/** RE2 expressions whose capture group Alloy's stage.replace overwrites with REDACTED (no backslashes: they sit in an Alloy string). */
export const REDACT_EXPRESSIONS = {
    queryToken: "(?i)(?:access_token|id_token|token)=([^&# ]+)",
    bearer: "(?i)bearer ([A-Za-z0-9._~+/=-]+)",
} as const;

export function alloyConfig(options: AlloyConfigOptions): string {
    return `// Generated by components/observability/logsSpec.ts.
discovery.kubernetes "pods" {
  role = "pod"
  selectors {
    role  = "pod"
    field = "spec.nodeName=" + sys.env("K8S_NODE_NAME")
  }
}

discovery.relabel "pods" {
  targets = discovery.kubernetes.pods.targets
  rule {
    source_labels = ["__meta_kubernetes_namespace"]
    target_label  = "namespace"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_name"]
    target_label  = "pod"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_container_name"]
    target_label  = "container"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_label_app_kubernetes_io_name", "__meta_kubernetes_pod_label_app"]
    separator     = ";"
    regex         = ";*([^;]+).*"
    target_label  = "app"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_label_track"]
    target_label  = "track"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_label_version"]
    target_label  = "version"
  }
  rule {
    source_labels = ["__meta_kubernetes_pod_node_name"]
    target_label  = "node"
  }
}

loki.source.kubernetes "pods" {
  targets    = discovery.relabel.pods.output
  forward_to = [loki.process.pods.receiver]
}

loki.process "pods" {
  // The apps log JSON (pino): its level becomes a label, by name or pino's number.
  stage.match {
    selector = "{namespace=\\"${APP_NAMESPACE}\\"}"
    stage.json {
      expressions = { level = "level" }
    }
    stage.labels {
      values = { level = "" }
    }
  }
  // No credential reaches Loki, whatever a line carries: a token in a query string or after
  // "Bearer " is cut out here (the proxies' access log already records neither).
  stage.replace {
    expression = "${REDACT_EXPRESSIONS.queryToken}"
    replace    = "${REDACTED}"
  }
  stage.replace {
    expression = "${REDACT_EXPRESSIONS.bearer}"
    replace    = "${REDACTED}"
  }
  forward_to = [loki.write.loki.receiver]
}

loki.write "loki" {
  endpoint {
    url = "${options.pushUrl}"
  }
}
`;
}

/** Values of the grafana/alloy chart (1.x): a DaemonSet that tails pods through the API. */
export function alloyValues(config: LogsConfig, image: string, configText: string): Values {
    const { registry, repository, tag } = chartImage(image);
    return {
        image: { registry, repository, tag },
        // No PodLogs CRD: the pipeline above is the whole configuration.
        crds: { create: false },
        controller: {
            type: "daemonset",
            podLabels: { "sidecar.istio.io/inject": "false" },
            volumes: { extra: [{ name: "tmp", emptyDir: { sizeLimit: "256Mi" } }] },
            updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
        },
        global: { podSecurityContext: podSecurity(ALLOY_UID) },
        alloy: {
            configMap: { create: true, content: configText },
            // Positions of the tailed logs; a restarted pod re-reads from the API's recent lines.
            storagePath: "/tmp/alloy",
            mounts: { varlog: false, dockercontainers: false, extra: [{ name: "tmp", mountPath: "/tmp" }] },
            enableReporting: false,
            resources: config.collector.resources,
            securityContext: RESTRICTED_CONTAINER,
            livenessProbe: { httpGet: { path: "/-/healthy", port: ALLOY_HTTP_PORT }, periodSeconds: 30, failureThreshold: 5 },
        },
        // Without the reloader the chart rolls the pods when the configuration changes (checksum).
        configReloader: { enabled: false },
        // Exactly what the pipeline reads: pods and their logs. No Secrets, nodes or CRDs.
        rbac: {
            create: true,
            rules: [{ apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["get", "list", "watch"] }],
            clusterRules: [],
        },
        serviceAccount: { create: true },
        service: { enabled: true, type: "ClusterIP" },
        serviceMonitor: { enabled: false },
    };
}

/** The LogQL of the dashboards' error panel: tolerant to pino's level names and numbers. */
export const APP_ERROR_LOGS_QUERY = `{namespace="${APP_NAMESPACE}", app="$app"} | json | level=~"error|fatal|50|60"`;

/**
 * Loki in Grafana, its `trace_id` linked to the trace in Jaeger (the apps log the active span's
 * ids). Provisioning expands `$NAME`, so Grafana's own `${__value.raw}` is written `$${...}`.
 */
export function lokiDataSource(jaegerUid: string | undefined): Values {
    return {
        name: "Loki",
        uid: LOKI_DATASOURCE_UID,
        type: "loki",
        access: "proxy",
        url: LOKI_URL,
        editable: false,
        jsonData: {
            maxLines: 1000,
            ...(jaegerUid
                ? {
                      derivedFields: [
                          {
                              name: "trace_id",
                              matcherRegex: '"trace_id":"([0-9a-f]+)"',
                              url: "$${__value.raw}",
                              datasourceUid: jaegerUid,
                              urlDisplayLabel: "Trace in Jaeger",
                          },
                      ],
                  }
                : {}),
        },
    };
}

/** From a trace in Jaeger to the app's log lines of that trace. */
export function tracesToLogs(): Values {
    return {
        tracesToLogsV2: {
            datasourceUid: LOKI_DATASOURCE_UID,
            spanStartTimeShift: "-5m",
            spanEndTimeShift: "5m",
            filterByTraceID: false,
            customQuery: true,
            query: `{namespace="${APP_NAMESPACE}"} |= "$\${__trace.traceId}"`,
        },
    };
}
