// Every external version the program deploys or CI installs: Helm charts and their sources,
// third-party images (tag + digest), Kubernetes and tool versions. This is the only place a
// bump happens; code, tests, scripts and workflows read from here (scripts/versions.ts prints
// them for the workflows). Renovate keeps it current: each helper call below is matched by a
// custom manager in renovate.json, and test/versions.test.ts fails when an entry is not.
// Keep each pin a literal call of one of these helpers, so that the regexes find it.

export interface ChartPin {
    /** Chart Renovate looks up (for the Istio group: istiod, whose version all four charts share). */
    chart: string;
    version: string;
    /** Helm repository URL (https://...) or OCI registry path (oci://...). */
    source: string;
}

export interface ImagePin {
    /** Fully qualified repository, e.g. docker.io/library/postgres. */
    repository: string;
    tag: string;
    digest: string;
}

export interface ReleasePin {
    /** GitHub owner/name of the project. */
    project: string;
    version: string;
}

export interface SupportCyclePin {
    /** endoflife.date product. */
    product: string;
    version: string;
}

const helmChart = (chart: string, version: string, source: string): ChartPin => ({ chart, version, source });
const image = (repository: string, tag: string, digest: string): ImagePin => ({ repository, tag, digest });
const githubRelease = (project: string, version: string): ReleasePin => ({ project, version });
const supportCycle = (product: string, version: string): SupportCyclePin => ({ product, version });

/** `<repository>:<tag>@<digest>`: the tag for people and policies, the digest for the runtime. */
export function imageReference(pin: ImagePin): string {
    return `${pin.repository}:${pin.tag}@${pin.digest}`;
}

/** Helm charts, by the group name used in `orders-platform:charts.<group>` overrides. */
export const CHARTS = {
    /** base, istiod, gateway and cni: one Istio release. */
    istio: helmChart("istiod", "1.31.4", "https://blob.istio.io/istio-release/charts"),
    kubePrometheusStack: helmChart("kube-prometheus-stack", "91.5.0", "https://prometheus-community.github.io/helm-charts"),
    jaeger: helmChart("jaeger", "4.11.1", "https://jaegertracing.github.io/helm-charts"),
    traefik: helmChart("traefik", "41.4.0", "https://traefik.github.io/charts"),
    /** Grafana Loki (monolithic); the chart moved to grafana-community. Its image is IMAGES.loki. */
    loki: helmChart("loki", "18.11.0", "https://grafana-community.github.io/helm-charts"),
    /** Grafana Alloy, the node agent that ships pod logs to Loki. Its image is IMAGES.alloy. */
    alloy: helmChart("alloy", "1.11.1", "https://grafana.github.io/helm-charts"),
} as const satisfies Record<string, ChartPin>;
export type ChartGroup = keyof typeof CHARTS;

/** Third-party images the program runs, by the key used in `orders-platform:images.<key>` overrides. */
export const IMAGES = {
    /**
     * Stays on major 17 and on Debian bookworm: a new major needs the data directory upgraded, and
     * a new glibc (trixie) changes the collation order under existing indexes.
     */
    postgres: image(
        "docker.io/library/postgres",
        "17.11-bookworm",
        "sha256:051f7b7b3abdd564d5d1bd1e8c4b9c1b6e77087d1dd22020ede611c096a272e0",
    ),
    /** kind's local registry (dev). */
    registry: image("docker.io/library/registry", "3.1.1", "sha256:1be55279f18a2fe1a74edf2664cac61c1bea305b7b4642dab412e7affdcb3e33"),
    /** Backup uploader to S3 (EKS). */
    awsCli: image("public.ecr.aws/aws-cli/aws-cli", "2.37.9", "sha256:92de75724b6a746951f0e8b915d86bbccd7cb55aff96cd0cb4f7017272160780"),
    /** Backup uploader to GCS (GKE); the slim variant carries `gcloud storage`. */
    gcloudCli: image(
        "gcr.io/google.com/cloudsdktool/google-cloud-cli",
        "562.0.0-slim",
        "sha256:0da2de42ae51cd6092b5caf7c96d25003659fd15548760eb4c50c2623e7bf9c2",
    ),
    /** PostgreSQL metrics (pg_up, connections, WAL archiver) next to the server, for the platform's alerts. */
    postgresExporter: image(
        "quay.io/prometheuscommunity/postgres-exporter",
        "v0.20.1",
        "sha256:ac5ec343104fae0e2d84a27bb8d69b38430a11910c5382cad85d478d2bab713e",
    ),
    /** Node image of kind clusters, as published by the kind release in TOOLS.kind. */
    kindNode: image("docker.io/kindest/node", "v1.35.8", "sha256:07b2536e30b803ed61d1677a79df6115f798ce64c80f9e22f6ed45afd09323c0"),
    /** Loki, the app version of CHARTS.loki (multi-platform index digest). */
    loki: image("docker.io/grafana/loki", "3.7.6", "sha256:efd47c67f9bac88ca29bcf8cb997d9ab29d1848bd0aff579282295542a745952"),
    // The images of the version-pinned charts, set by digest through their values (prod requires
    // digests). Each digest is a multi-platform index digest found recorded for exactly this tag.
    /** The Prometheus Operator of CHARTS.kubePrometheusStack (TOOLS.prometheusOperator). */
    prometheusOperator: image(
        "quay.io/prometheus-operator/prometheus-operator",
        "v0.94.0",
        "sha256:cf153f64d6c38113fceb2cda7642365ea887f71edd7888f054e43e54cf177e55",
    ),
    /** The operator's config reloader, next to Prometheus and Alertmanager. */
    prometheusConfigReloader: image(
        "quay.io/prometheus-operator/prometheus-config-reloader",
        "v0.94.0",
        "sha256:142a1f11df8dd165f00375b0b1826aecb9c9adeb05c39855893138d7c7575ff7",
    ),
    prometheus: image(
        "quay.io/prometheus/prometheus",
        "v3.14.0-distroless",
        "sha256:50c707e96da5ade383cb1707790576480485e93de06aa60ad8802cb5f744bd0a",
    ),
    alertmanager: image(
        "quay.io/prometheus/alertmanager",
        "v0.34.0",
        "sha256:690c7b525f4367aa91f73e2f91c632206d32e97c6384bdbf2fb7a861b420340d",
    ),
    nodeExporter: image(
        "quay.io/prometheus/node-exporter",
        "v1.12.1-distroless",
        "sha256:8c9bac11973b94b59be88d6e11fee4429aa743c8846cdc75d65b18db33f6a106",
    ),
    kubeStateMetrics: image(
        "registry.k8s.io/kube-state-metrics/kube-state-metrics",
        "v2.20.0",
        "sha256:42cfe3723a5f058171c627537fb57a3ea0f26e4380fa18555a95cb1a1b4cfc5b",
    ),
    grafana: image("docker.io/grafana/grafana", "13.2.2", "sha256:ac461fb352abc50da10a51c7d02462e9c05488f11f53f14b3ad79a8145f638a0"),
    /** Grafana's dashboard and data-source sidecar; the digest found is the ghcr.io copy, so it is pulled from there. */
    grafanaSidecar: image(
        "ghcr.io/kiwigrid/k8s-sidecar",
        "2.11.2",
        "sha256:2912be006f62f9ea080194cf6d3afcd90daead8d101d0ba686a137a849f6a4f6",
    ),
    /** Alloy; newer than CHARTS.alloy's appVersion (v1.18.1), same configuration and flags. */
    alloy: image("docker.io/grafana/alloy", "v1.19.2", "sha256:b8ec653c44235fbe910879145dac3597d66b0aaecf60bcbbe82580767771a839"),
} as const satisfies Record<string, ImagePin>;
export type ImageKey = keyof typeof IMAGES;

/** Tools CI installs (and the README names as prerequisites); kubectl stays at the node image's minor. */
export const TOOLS = {
    kind: githubRelease("kubernetes-sigs/kind", "v0.33.0"),
    kubectl: githubRelease("kubernetes/kubernetes", "v1.35.10"),
    trivy: githubRelease("aquasecurity/trivy", "v0.70.0"),
    /** The operator release CHARTS.kubePrometheusStack bundles; its CRDs back the real-engine tests. */
    prometheusOperator: githubRelease("prometheus-operator/prometheus-operator", "v0.94.0"),
} as const satisfies Record<string, ReleasePin>;

/** Kubernetes minor of new EKS clusters (standard support: see EKS_STANDARD_SUPPORT_ENDS). */
export const EKS = supportCycle("amazon-eks", "1.35");

/**
 * End of standard support per EKS minor (AWS's release calendar). Past it EKS bills extended
 * support or, with the STANDARD upgrade policy, upgrades the control plane by itself.
 */
export const EKS_STANDARD_SUPPORT_ENDS: Readonly<Record<string, string>> = {
    "1.33": "2026-07-29",
    "1.34": "2026-12-02",
    "1.35": "2027-03-27",
    "1.36": "2027-08-02",
};
