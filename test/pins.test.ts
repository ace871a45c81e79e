// Chart sources and image pins: overridable per stack (mirrors, air-gapped networks), validated,
// and moved keys explained. Also the EKS support-window warning.
import { strict as assert } from "node:assert";
import { chartLocation, parseChartSource } from "../components/chartSource";
import { eksSupportWarning } from "../components/cluster/eksSpec";
import { ConfigError, loadAppCatalog, parseStackConfig } from "../components/config";
import { CHARTS, EKS_STANDARD_SUPPORT_ENDS, IMAGES, imageReference } from "../components/versions";
import { rawStackConfig } from "./harness/stackConfig";

const catalog = loadAppCatalog();
const DIGEST = `sha256:${"ab".repeat(32)}`;

function problems(stack: string, overrides: Record<string, unknown>): string[] {
    try {
        parseStackConfig(rawStackConfig(stack, overrides), stack, catalog);
    } catch (err) {
        assert.ok(err instanceof ConfigError, String(err));
        return err.problems;
    }
    return [];
}

describe("chart sources", () => {
    it("classifies Helm repositories, OCI registries and local directories", () => {
        assert.deepEqual(parseChartSource("https://blob.istio.io/istio-release/charts/"), {
            kind: "repository",
            url: "https://blob.istio.io/istio-release/charts",
        });
        assert.deepEqual(parseChartSource("oci://ghcr.io/istio/release/charts"), {
            kind: "oci",
            registry: "oci://ghcr.io/istio/release/charts",
        });
        assert.deepEqual(parseChartSource("./test/engine/charts"), { kind: "directory", dir: "./test/engine/charts" });
        assert.deepEqual(parseChartSource("file:///srv/charts"), { kind: "directory", dir: "/srv/charts" });
        for (const bad of ["", "charts", "ftp://mirror/charts", "https://", "oci://", "https://a b"]) {
            assert.equal(parseChartSource(bad), undefined, bad);
        }
    });

    it("locates a chart in each kind of source", () => {
        const pin = { chart: "istiod", version: "1.31.1" };
        assert.deepEqual(chartLocation({ ...pin, source: "https://mirror.example.com/istio" }, "gateway"), {
            chart: "gateway",
            version: "1.31.1",
            repositoryOpts: { repo: "https://mirror.example.com/istio" },
        });
        assert.deepEqual(chartLocation({ ...pin, source: "oci://ghcr.io/istio/release/charts" }, "base"), {
            chart: "oci://ghcr.io/istio/release/charts/base",
            version: "1.31.1",
        });
        // A directory is the pin itself: relative to the project, never to where the checkout lives.
        assert.deepEqual(chartLocation({ ...pin, source: "/srv/charts" }, "cni", "/work/p"), { chart: "/srv/charts/cni" });
        assert.deepEqual(chartLocation({ ...pin, source: "./test/engine/charts" }, "cni", "/work/p"), {
            chart: "./test/engine/charts/cni",
        });
        assert.deepEqual(chartLocation({ ...pin, source: "../mirror" }, "cni", "/work/p"), { chart: "../mirror/cni" });
    });
});

describe("stack config: charts and images", () => {
    it("takes every chart and image from the versions module unless the stack overrides it", () => {
        const dev = parseStackConfig(rawStackConfig("dev"), "dev", catalog);
        assert.deepEqual(dev.charts, CHARTS);
        assert.deepEqual(dev.images, Object.fromEntries(Object.entries(IMAGES).map(([k, v]) => [k, imageReference(v)])));
    });

    it("overrides a chart's source and version per stack", () => {
        const prod = parseStackConfig(
            rawStackConfig("prod", {
                "charts.istio": { source: "oci://registry.internal/istio", version: "1.31.0" },
                "charts.traefik": { source: "https://charts.internal/traefik" },
            }),
            "prod",
            catalog,
        );
        assert.deepEqual(prod.charts.istio, { chart: "istiod", source: "oci://registry.internal/istio", version: "1.31.0" });
        assert.deepEqual(prod.charts.traefik, { ...CHARTS.traefik, source: "https://charts.internal/traefik" });
        assert.deepEqual(prod.charts.jaeger, CHARTS.jaeger);
    });

    it("refuses a bad chart source or version, and unknown chart groups, naming the key", () => {
        assert.deepEqual(problems("staging", { "charts.istio.source": "istio-mirror" }), [
            'orders-platform:charts.istio.source = "istio-mirror": must be a Helm repository URL (https://...), an OCI registry path (oci://...) or a local directory (/..., ./...)',
        ]);
        assert.match(
            problems("staging", { "charts.jaeger.version": "latest" })[0],
            /^orders-platform:charts\.jaeger\.version = "latest": must be a pinned chart version/,
        );
        assert.match(
            problems("staging", { "charts.nginx": { version: "1.0.0" } })[0],
            /charts\.nginx = .*unknown key; allowed keys here: istio, kubePrometheusStack, jaeger, traefik/,
        );
    });

    it("overrides an image by a full reference with tag and digest, and refuses anything less", () => {
        const mirror = `registry.internal:5000/dockerhub/postgres:17.11-bookworm@${DIGEST}`;
        const dev = parseStackConfig(rawStackConfig("dev", { "images.postgres": mirror }), "dev", catalog);
        assert.equal(dev.images.postgres, mirror);
        assert.equal(dev.images.registry, imageReference(IMAGES.registry));
        for (const bad of [
            "postgres:17",
            `postgres@${DIGEST}`,
            "registry.internal/postgres:latest",
            `Registry.internal/postgres:17@${DIGEST}`,
        ]) {
            const [problem] = problems("dev", { "images.postgres": bad });
            assert.match(problem, /^orders-platform:images\.postgres = .*: must be a full image reference with tag and digest/, bad);
        }
    });

    it("tells a stack that still sets a moved version key where it went", () => {
        assert.deepEqual(problems("dev", { "mesh.istioVersion": "1.30.3", "database.imageTag": "17.6-bookworm" }), [
            'orders-platform:mesh.istioVersion = "1.30.3": moved to orders-platform:charts.istio.version; unset it to take the version pinned in components/versions.ts',
            'orders-platform:database.imageTag = "17.6-bookworm": moved to orders-platform:images.postgres (a full reference with tag and digest); unset it to take the version pinned in components/versions.ts',
        ]);
    });

    it("sets the EKS upgrade policy explicitly: STANDARD unless the stack says EXTENDED", () => {
        const staging = parseStackConfig(rawStackConfig("staging"), "staging", catalog);
        assert.equal(staging.cluster.eks?.upgradePolicy, "STANDARD");
        const extended = parseStackConfig(rawStackConfig("staging", { "cluster.eks.upgradePolicy": "EXTENDED" }), "staging", catalog);
        assert.equal(extended.cluster.eks?.upgradePolicy, "EXTENDED");
        assert.deepEqual(problems("staging", { "cluster.eks.upgradePolicy": "NEVER" }), [
            'orders-platform:cluster.eks.upgradePolicy = "NEVER": must be STANDARD or EXTENDED',
        ]);
    });
});

describe("EKS support window", () => {
    const calendar = EKS_STANDARD_SUPPORT_ENDS;
    const day = (iso: string) => new Date(`${iso}T12:00:00Z`);

    it("is quiet well inside standard support", () => {
        assert.equal(eksSupportWarning("1.35", "STANDARD", calendar, day("2026-11-30")), undefined);
    });

    it("warns ahead of the end, and after it, with what each upgrade policy then does", () => {
        assert.match(
            eksSupportWarning("1.34", "STANDARD", calendar, day("2026-11-30"))!,
            /1\.34: standard support ends on 2026-12-02 \(1 days\); EKS then upgrades the control plane by itself/,
        );
        assert.match(
            eksSupportWarning("1.33", "EXTENDED", calendar, day("2026-11-30"))!,
            /1\.33: standard support ended on 2026-07-29; the cluster then runs on paid extended support/,
        );
    });

    it("warns about a minor the calendar does not know", () => {
        assert.match(eksSupportWarning("1.99", "STANDARD", calendar, day("2026-11-30"))!, /1\.99: not in the EKS support calendar/);
    });
});

describe("stack config: app images by digest", () => {
    const image = (ref: string) => `registry.example.com/orders/users${ref}`;

    it("accepts a digest, with or without the version as tag, for stable and canary", () => {
        const prod = parseStackConfig(
            rawStackConfig("prod", {
                "apps.users.image": image(`:1.0.0@${DIGEST}`),
                "apps.users.canary.image": image(`@${DIGEST}`),
            }),
            "prod",
            catalog,
        );
        assert.equal(prod.apps.users.image, image(`:1.0.0@${DIGEST}`));
        assert.equal(prod.apps.users.canary?.image, image(`@${DIGEST}`));
    });

    it("refuses an image without a digest, or whose tag is not the configured version", () => {
        assert.match(
            problems("prod", { "apps.users.image": image(":1.0.0") })[0],
            /^orders-platform:apps\.users\.image = .*: must be an image reference pinned by digest/,
        );
        const [problem, ...more] = problems("prod", { "apps.users.canary.image": image(`:1.2.0@${DIGEST}`) });
        assert.match(
            problem,
            /^orders-platform:apps\.users\.canary\.image = "registry\.example\.com\/orders\/users:1\.2\.0@sha256:ab.*: its tag 1\.2\.0 differs from canary\.version 1\.1\.0$/,
        );
        assert.deepEqual(more, []);
    });
});
