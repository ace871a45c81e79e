import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { formatViolations, PolicyPackConfigFile, resolvePolicyConfig, runPolicies, validateConfigFile } from "../lib/runner";
import { allPolicies, resourcePolicies, stackPolicies } from "../policies";
import {
    APP_IMAGE,
    clone,
    defaultDeny,
    deployment,
    gateway,
    pdb,
    peerAuthentication,
    podSpec,
    service,
    withPod,
    workload,
} from "./fixtures";
import { Fixture, toResource } from "./helpers";

const CONFIG_DIR = path.join(__dirname, "..", "config");
const readConfig = (stack: string): PolicyPackConfigFile => JSON.parse(fs.readFileSync(path.join(CONFIG_DIR, `${stack}.json`), "utf8"));
const STACKS = ["dev", "staging", "prod"];
const THIRD_PARTY = ["istio-system", "istio-ingress", "monitoring", "tracing", "ingress-traefik", "kube-system"];

/** A small stack that does everything right (cloud images, mesh on, TLS at the edge). */
function compliantStack(image = APP_IMAGE): Fixture[] {
    const spec = podSpec();
    spec.containers[0].image = image;
    return [
        deployment(spec, { replicas: 2 }),
        pdb("users", "orders-apps", { maxUnavailable: 1, selector: { matchLabels: { app: "users" } } }),
        service("users", "orders-apps", "ClusterIP"),
        defaultDeny("orders-apps"),
        service("istio-ingressgateway", "istio-ingress", "LoadBalancer"),
        gateway("edge", "istio-ingress", [
            { port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["orders.example.com"], tls: { httpsRedirect: true } },
            {
                port: { number: 443, name: "https", protocol: "HTTPS" },
                hosts: ["orders.example.com"],
                tls: { mode: "SIMPLE", credentialName: "orders-edge-tls" },
            },
        ]),
        peerAuthentication("default", "istio-system", { mtls: { mode: "STRICT" } }),
        // Clients outside the mesh (Jobs) reach Postgres on 5432; the config allows exactly that port.
        peerAuthentication("postgres", "orders-data", {
            selector: { matchLabels: { app: "postgres" } },
            portLevelMtls: { "5432": { mode: "PERMISSIVE" } },
        }),
        // A chart-rendered workload in an exempt namespace that would fail every workload policy.
        workload(
            "DaemonSet",
            { hostNetwork: true, containers: [{ name: "exporter", image: "quay.io/prometheus/node-exporter" }] },
            { namespace: "monitoring", name: "node-exporter" },
        ),
        {
            type: "aws:ecr/repository:Repository",
            name: "users",
            props: { name: "orders-platform/users", imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true } },
        },
        {
            type: "aws:eks/cluster:Cluster",
            name: "cluster",
            props: {
                name: "orders",
                enabledClusterLogTypes: ["api", "audit", "authenticator"],
                vpcConfig: { endpointPrivateAccess: true },
            },
        },
    ];
}

describe("policy config files", () => {
    for (const stack of STACKS) {
        it(`${stack}.json names only known policies and keys, with values of the right type`, () => {
            assert.deepEqual(validateConfigFile(readConfig(stack)), []);
        });
        it(`${stack}.json exempts the third-party chart namespaces from every workload policy`, () => {
            const resolved = resolvePolicyConfig(readConfig(stack));
            for (const [name, c] of resolved) {
                if (!("excludedNamespaces" in c.properties) || name === "edge-tls") continue;
                assert.deepEqual([...(c.properties.excludedNamespaces as string[])].sort(), [...THIRD_PARTY].sort(), name);
            }
        });
    }

    it("dev is advisory, with the prod-only policies off", () => {
        const r = resolvePolicyConfig(readConfig("dev"));
        for (const [name, c] of r) {
            assert.equal(c.enforcementLevel, ["edge-tls", "istio-mtls-strict"].includes(name) ? "disabled" : "advisory", name);
        }
        assert.deepEqual(r.get("k8s-no-latest-image")!.properties.allowedRegistries, [
            "localhost:5001/",
            "docker.io/library/postgres",
            "quay.io/prometheuscommunity/postgres-exporter",
        ]);
    });

    it("staging and prod are mandatory; TLS and mTLS are mandatory in prod only", () => {
        const staging = resolvePolicyConfig(readConfig("staging"));
        const prod = resolvePolicyConfig(readConfig("prod"));
        for (const p of allPolicies) {
            assert.equal(prod.get(p.name)!.enforcementLevel, "mandatory", `prod ${p.name}`);
            assert.equal(
                staging.get(p.name)!.enforcementLevel,
                ["edge-tls", "istio-mtls-strict"].includes(p.name) ? "advisory" : "mandatory",
                `staging ${p.name}`,
            );
        }
        for (const r of [staging, prod]) {
            assert.ok((r.get("k8s-no-latest-image")!.properties.allowedRegistries as string[]).includes("*.dkr.ecr.*.amazonaws.com/"));
        }
    });

    it("reports what is wrong with a bad config file", () => {
        const problems = validateConfigFile({
            all: "loud" as never,
            "k8s-nonroot": "mandatory",
            "k8s-probes": { enforcementLevel: "advisory", kinds: "Deployment", frequency: 3 },
            "k8s-no-latest-image": { allowedRegistries: ["ok/", 5] },
            "k8s-loadbalancer-edge-only": { allowedLoadBalancers: [{ name: "x" }] },
        } as PolicyPackConfigFile);
        assert.equal(problems.length, 6, problems.join("\n"));
        assert.match(problems.join("\n"), /"all": enforcement level "loud"/);
        assert.match(problems.join("\n"), /"k8s-nonroot": no such policy/);
        assert.match(problems.join("\n"), /"k8s-probes"\.kinds: expected array, got string/);
        assert.match(problems.join("\n"), /"k8s-probes"\.frequency: unknown config key/);
        assert.match(problems.join("\n"), /"k8s-no-latest-image"\.allowedRegistries\[1\]: expected string, got integer/);
        assert.match(problems.join("\n"), /"k8s-loadbalancer-edge-only"\.allowedLoadBalancers\[0\]: namespace is required/);
    });

    it("lets a policy entry override 'all' and keeps schema defaults for keys it does not set", () => {
        const r = resolvePolicyConfig({ all: "advisory", "k8s-probes": { enforcementLevel: "mandatory" }, "k8s-non-root": "disabled" });
        assert.equal(r.get("k8s-probes")!.enforcementLevel, "mandatory");
        assert.deepEqual(r.get("k8s-probes")!.properties.kinds, ["Deployment", "StatefulSet", "DaemonSet"]);
        assert.equal(r.get("k8s-non-root")!.enforcementLevel, "disabled");
        assert.equal(r.get("k8s-seccomp")!.enforcementLevel, "advisory");
        const none = resolvePolicyConfig({});
        assert.equal(none.get("edge-tls")!.enforcementLevel, "advisory");
        assert.equal(none.get("k8s-non-root")!.enforcementLevel, "mandatory");
    });
});

describe("runPolicies", () => {
    it("finds nothing in a compliant stack under staging and prod config", async () => {
        const resources = compliantStack().map(toResource);
        for (const stack of ["staging", "prod"]) {
            const v = await runPolicies(resources, readConfig(stack));
            assert.deepEqual(v, [], `${stack}:\n${formatViolations(v)}`);
        }
    });

    it("finds nothing in the dev flavour under dev config", async () => {
        const resources = compliantStack("localhost:5001/users:1.0.0").map(toResource);
        const v = await runPolicies(resources, readConfig("dev"));
        assert.deepEqual(v, [], formatViolations(v));
    });

    it("reports violations at the configured level, with the resource URN", async () => {
        const stack = compliantStack();
        stack[0] = withPod(stack[0], (spec) => {
            spec.containers[0].image = "ghcr.io/x/users:latest";
            spec.containers[0].securityContext.runAsNonRoot = false;
        });
        const resources = stack.map(toResource);
        const prod = await runPolicies(resources, readConfig("prod"));
        assert.deepEqual(prod.map((v) => v.policyName).sort(), ["k8s-no-latest-image", "k8s-no-latest-image", "k8s-non-root"]);
        assert.ok(prod.every((v) => v.enforcementLevel === "mandatory" && v.urn === resources[0].urn));
        const dev = await runPolicies(resources, readConfig("dev"));
        assert.ok(dev.length >= 3 && dev.every((v) => v.enforcementLevel === "advisory"));
    });

    it("does not run disabled policies", async () => {
        const resources = compliantStack().map(toResource);
        resources.push(toResource(gateway("plain", "orders-apps", [{ port: { number: 80, protocol: "HTTP" }, hosts: ["*"] }])));
        assert.equal((await runPolicies(resources, readConfig("prod"))).filter((v) => v.policyName === "edge-tls").length, 2);
        assert.deepEqual(await runPolicies(resources, { ...readConfig("prod"), "edge-tls": "disabled" }), []);
    });

    it("runs stack policies over the whole set", async () => {
        const resources = compliantStack()
            .filter((f) => f.type !== "kubernetes:networking.k8s.io/v1:NetworkPolicy")
            .map(toResource);
        const v = await runPolicies(resources, readConfig("prod"));
        assert.deepEqual(
            v.map((x) => x.policyName),
            ["k8s-namespace-default-deny"],
        );
    });

    it("allows PERMISSIVE mTLS only on the Postgres port of orders-data", async () => {
        const resources = compliantStack().map(toResource);
        resources.push(toResource(peerAuthentication("users", "orders-apps", { portLevelMtls: { "5432": { mode: "PERMISSIVE" } } })));
        const v = await runPolicies(resources, readConfig("prod"));
        assert.deepEqual(
            v.map((x) => x.policyName),
            ["istio-mtls-strict"],
        );
        assert.match(v[0].message, /^PeerAuthentication orders-apps\/users: spec\.portLevelMtls\[5432\]\.mode is PERMISSIVE/);
    });

    it("rejects an invalid config", async () => {
        await assert.rejects(
            runPolicies([], { "no-such-policy": "mandatory" }),
            /invalid policy config:\n {2}"no-such-policy": no such policy/,
        );
    });

    it("does not mutate the resources it checks", async () => {
        const resources = compliantStack().map(toResource);
        const before = clone(resources);
        await runPolicies(resources, readConfig("prod"));
        assert.deepEqual(resources, before);
    });
});

describe("the pack", () => {
    it("has uniquely named policies, resource and stack policies alike", () => {
        const names = allPolicies.map((p) => p.name);
        assert.equal(new Set(names).size, names.length);
        assert.ok(!names.includes("all"));
        assert.equal(allPolicies.length, resourcePolicies.length + stackPolicies.length);
        for (const p of allPolicies) {
            assert.ok(p.description.length > 20, p.name);
            assert.ok(!("enforcementLevel" in (p.configSchema?.properties ?? {})), `${p.name}: enforcementLevel is reserved`);
        }
    });

    it("index.ts only builds the PolicyPack from allPolicies", () => {
        const src = fs.readFileSync(path.join(__dirname, "..", "index.ts"), "utf8");
        assert.match(src, /new PolicyPack\("orders-platform", \{\s*policies: allPolicies,/);
        assert.deepEqual(src.match(/^import .*$/gm), [
            'import { PolicyPack } from "@pulumi/policy";',
            'import { allPolicies, PACK_ENFORCEMENT_LEVEL } from "./policies";',
        ]);
    });

    it("documents every policy in the README", () => {
        const readme = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");
        for (const p of allPolicies) assert.ok(readme.includes(`\`${p.name}\``), `${p.name} missing from policy/README.md`);
    });
});
