import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { formatViolations, PolicyPackConfigFile, resolvePolicyConfig, runPolicies, validateConfigFile } from "../lib/runner";
import { allPolicies, resourcePolicies, stackPolicies } from "../policies";
import {
    appContainer,
    clone,
    DIGEST,
    restrictedContainerSc,
    role,
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
import { parse } from "yaml";
import { Fixture, toResource } from "./helpers";

const CONFIG_DIR = path.join(__dirname, "..", "config");
const readConfig = (stack: string): PolicyPackConfigFile => JSON.parse(fs.readFileSync(path.join(CONFIG_DIR, `${stack}.json`), "utf8"));
const STACKS = ["dev", "staging", "prod"];
/** Each stack's own image repository (the stack's registry and account). */
const OWN_IMAGE: Record<string, string> = {
    dev: "localhost:5001/users:1.0.0",
    staging: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-platform/staging/users:1.0.0@${DIGEST}`,
    prod: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-platform/prod/users:1.0.0@${DIGEST}`,
};

/** node-exporter as its chart renders it: compliant but for the host access it needs. */
function nodeExporter(): Fixture {
    const exporter = {
        ...appContainer("node-exporter", `quay.io/prometheus/node-exporter:v1.12.1-distroless@${DIGEST}`),
        securityContext: restrictedContainerSc(),
    };
    return workload(
        "DaemonSet",
        podSpec([exporter], { hostNetwork: true, hostPID: true, volumes: [{ name: "root", hostPath: { path: "/" } }] }),
        { namespace: "monitoring", name: "kube-prometheus-stack-prometheus-node-exporter" },
    );
}

/** A small stack that does everything right (the stack's own images, mesh on, TLS at the edge). */
function compliantStack(stack: string): Fixture[] {
    const spec = podSpec();
    spec.containers[0].image = OWN_IMAGE[stack];
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
        // A chart-rendered workload exempt, by name, from the host-access policy only.
        nodeExporter(),
        defaultDeny("monitoring"),
        // Grafana's namespaced Role, on the allowlist with the verbs it may use.
        role("Role", "grafana", [{ apiGroups: [""], resources: ["configmaps", "secrets"], verbs: ["get", "watch", "list"] }], "monitoring"),
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
                vpcConfig: { endpointPrivateAccess: true, publicAccessCidrs: ["203.0.113.0/24"] },
            },
        },
    ];
}

describe("policy config files", () => {
    for (const stack of STACKS) {
        it(`${stack}.json names only known policies and keys, with values of the right type`, () => {
            assert.deepEqual(validateConfigFile(readConfig(stack)), []);
        });
        it(`${stack}.json exempts no namespace: every exemption names one workload and says why`, () => {
            const resolved = resolvePolicyConfig(readConfig(stack));
            for (const [name, c] of resolved) {
                assert.deepEqual(c.properties.excludedNamespaces ?? [], [], `${name} exempts whole namespaces`);
                for (const e of (c.properties.excludedWorkloads ?? []) as Array<Record<string, string>>) {
                    assert.ok(e.namespace && e.kind && e.name, `${name}: ${JSON.stringify(e)}`);
                    assert.ok(e.reason.length > 30, `${name}: ${e.name} has no real reason`);
                }
            }
        });

        it(`${stack}.json exempts from non-root, privileged and host access only the CNI node agent and node-exporter`, () => {
            const resolved = resolvePolicyConfig(readConfig(stack));
            const exempt = (policy: string) =>
                ((resolved.get(policy)!.properties.excludedWorkloads ?? []) as Array<Record<string, string>>).map(
                    (e) => `${e.namespace}/${e.kind}/${e.name}`,
                );
            assert.deepEqual(exempt("k8s-non-root"), ["istio-cni/DaemonSet/istio-cni-node"]);
            assert.deepEqual(exempt("k8s-no-privileged"), []);
            assert.deepEqual(exempt("k8s-no-host-access"), [
                "istio-cni/DaemonSet/istio-cni-node",
                "monitoring/DaemonSet/kube-prometheus-stack-prometheus-node-exporter",
            ]);
            // The image rules exempt no namespace and only the gateway, whose image the injector sets.
            assert.deepEqual(exempt("k8s-no-latest-image"), ["istio-ingress/Deployment/istio-ingressgateway"]);
        });

        it(`${stack}.json allows third-party images by exact repository, and the stack's own registry by its account`, () => {
            const allowed = resolvePolicyConfig(readConfig(stack)).get("k8s-no-latest-image")!.properties.allowedRegistries as string[];
            assert.ok(allowed.length > 0);
            for (const pattern of allowed) {
                assert.doesNotMatch(pattern, /\*/, `${pattern}: no wildcard (an allowlist names repositories)`);
                if (pattern.endsWith("/"))
                    assert.match(
                        pattern,
                        /^(localhost:5001|\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com|[a-z0-9-]+-docker\.pkg\.dev\/[a-z][a-z0-9-]+)\//,
                        pattern,
                    );
            }
        });
    }

    it("the ECR patterns name the account the stack's AWS provider is locked to, and the stack's own repositories", () => {
        for (const stack of ["staging", "prod"]) {
            const file = parse(fs.readFileSync(path.join(__dirname, "..", "..", `Pulumi.${stack}.yaml`), "utf8")).config;
            const accounts: string[] = file["aws:allowedAccountIds"];
            assert.ok(accounts?.length > 0, `Pulumi.${stack}.yaml sets aws:allowedAccountIds`);
            const ecr = (
                resolvePolicyConfig(readConfig(stack)).get("k8s-no-latest-image")!.properties.allowedRegistries as string[]
            ).filter((p) => p.includes(".dkr.ecr."));
            assert.deepEqual(
                ecr,
                accounts.map((a) => `${a}.dkr.ecr.${file["aws:region"]}.amazonaws.com/orders-platform/${stack}/`),
            );
        }
    });

    it("prod requires digests except for chart-rendered images, each with a reason; dev and staging do not", () => {
        const images = (stack: string) => resolvePolicyConfig(readConfig(stack)).get("k8s-no-latest-image")!.properties;
        assert.equal(images("prod").requireDigest, true);
        assert.equal(images("staging").requireDigest, false);
        assert.equal(images("dev").requireDigest, false);
        const exemptions = images("prod").digestExemptions as Array<{ repository: string; reason: string }>;
        for (const e of exemptions) {
            assert.ok((images("prod").allowedRegistries as string[]).includes(e.repository), e.repository);
            assert.match(e.reason, /chart/);
        }
        const own = (images("prod").allowedRegistries as string[]).filter((p) => p.endsWith("/") || p === "docker.io/library/postgres");
        for (const p of own) assert.ok(!exemptions.some((e) => e.repository === p), `${p} must be pinned by digest in prod`);
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
        for (const stack of ["staging", "prod"]) {
            const v = await runPolicies(compliantStack(stack).map(toResource), readConfig(stack));
            assert.deepEqual(v, [], `${stack}:\n${formatViolations(v)}`);
        }
    });

    it("finds nothing in the dev flavour under dev config", async () => {
        const resources = compliantStack("dev").map(toResource);
        const v = await runPolicies(resources, readConfig("dev"));
        assert.deepEqual(v, [], formatViolations(v));
    });

    it("reports violations at the configured level, with the resource URN", async () => {
        const stack = compliantStack("prod");
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
        const resources = compliantStack("prod").map(toResource);
        resources.push(toResource(gateway("plain", "orders-apps", [{ port: { number: 80, protocol: "HTTP" }, hosts: ["*"] }])));
        assert.equal((await runPolicies(resources, readConfig("prod"))).filter((v) => v.policyName === "edge-tls").length, 2);
        assert.deepEqual(await runPolicies(resources, { ...readConfig("prod"), "edge-tls": "disabled" }), []);
    });

    it("runs stack policies over the whole set", async () => {
        const resources = compliantStack("prod")
            .filter((f) => f.type !== "kubernetes:networking.k8s.io/v1:NetworkPolicy")
            .map(toResource);
        const v = await runPolicies(resources, readConfig("prod"));
        assert.deepEqual(
            v.map((x) => x.policyName),
            ["k8s-namespace-default-deny", "k8s-namespace-default-deny"],
        );
    });

    it("allows no PERMISSIVE port at all: Postgres' clients are all in the mesh", async () => {
        const resources = compliantStack("prod").map(toResource);
        resources.push(
            toResource(
                peerAuthentication("postgres", "orders-data", {
                    selector: { matchLabels: { app: "postgres" } },
                    portLevelMtls: { "5432": { mode: "PERMISSIVE" } },
                }),
            ),
        );
        const v = await runPolicies(resources, readConfig("prod"));
        assert.deepEqual(
            v.map((x) => x.policyName),
            ["istio-mtls-strict"],
        );
        assert.match(v[0].message, /^PeerAuthentication orders-data\/postgres: spec\.portLevelMtls\[5432\]\.mode is PERMISSIVE/);
    });

    it("flags a chart role that reads Secrets beyond the allowlist", async () => {
        const resources = compliantStack("prod").map(toResource);
        resources.push(
            toResource(role("ClusterRole", "grafana-clusterrole", [{ apiGroups: [""], resources: ["secrets"], verbs: ["list"] }])),
        );
        const v = await runPolicies(resources, readConfig("prod"));
        assert.deepEqual(
            v.map((x) => x.policyName),
            ["k8s-secrets-rbac"],
        );
    });

    it("rejects an invalid config", async () => {
        await assert.rejects(
            runPolicies([], { "no-such-policy": "mandatory" }),
            /invalid policy config:\n {2}"no-such-policy": no such policy/,
        );
    });

    it("does not mutate the resources it checks", async () => {
        const resources = compliantStack("prod").map(toResource);
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
