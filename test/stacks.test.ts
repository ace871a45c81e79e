// The real index.ts, once per shipped stack (and the GKE variant), under Pulumi mocks.
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import { ROLE_DEFINITIONS, TEAM_ROLES } from "../components/access";
import { secretAccess } from "../policy/policies/rbac";
import { kubernetesObjects, PROJECT_ROOT, ProgramRun, runStack, STACK_VARIANTS, validateKubernetesObjects } from "./harness";
import { readDoc } from "./docs";

const RBAC_KINDS = ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"];
const policyConfig = (stack: string) => JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "policy", "config", `${stack}.json`), "utf8"));

const variants = STACK_VARIANTS;

describe("shipped stacks under mocks", function () {
    this.timeout(180_000);
    const runs = new Map<string, ProgramRun<Record<string, unknown>>>();

    before(async () => {
        for (const [label, stack, overrides] of variants) runs.set(label, await runStack(stack, overrides));
    });

    for (const [label] of variants) {
        describe(label, () => {
            it("registers Kubernetes objects that all pass schema validation", async () => {
                const run = runs.get(label)!;
                const objects = kubernetesObjects(run.resources);
                assert.ok(objects.length > 20, `only ${objects.length} Kubernetes objects`);
                const problems = await validateKubernetesObjects(run.resources);
                assert.deepEqual(problems, []);
            });

            it("gives every child resource a parent and every Kubernetes object the cluster's provider", () => {
                const run = runs.get(label)!;
                const orphans = run.resources.filter(
                    (r) => !r.parent && !r.type.startsWith("pulumi:providers:") && r.type !== "pulumi:pulumi:Stack",
                );
                const topLevel = new Set(orphans.map((r) => r.type.split(":").slice(0, 2).join(":")));
                for (const t of topLevel) assert.match(t, /^orders-platform:/, `top-level resource of type ${t} is not a component`);
                for (const obj of kubernetesObjects(run.resources)) {
                    assert.ok(obj.provider, `${obj.urn} has no explicit provider`);
                    assert.match(obj.provider!, /pulumi:providers:kubernetes/, `${obj.urn} uses ${obj.provider}`);
                }
            });

            it("exports the stack outputs, the kubeconfig as a secret", () => {
                const run = runs.get(label)!;
                for (const key of ["edgeUrl", "grafanaUrl", "jaegerUrl", "imageRefs", "kubeconfig", "appVersions"]) {
                    assert.ok(run.outputs[key] !== undefined, `output ${key} missing`);
                }
                assert.match(String(run.outputs.edgeUrl), /^https?:\/\//);
            });
        });
    }

    describe("least privilege: RBAC of the rendered stacks", () => {
        for (const [label, stack] of variants) {
            it(`${label}: every Role/ClusterRole and its verbs; verbs on Secrets only as the allowlist says, with a reason`, () => {
                const run = runs.get(label)!;
                // Under mocks the charts' own RBAC is not rendered: it is checked by the k8s-secrets-rbac
                // policy in every real preview (allowlist in policy/config) and listed in the README.
                const inventory = run.resources
                    .filter((r) => r.type.startsWith("kubernetes:rbac.authorization.k8s.io/") && RBAC_KINDS.includes(r.inputs.kind))
                    .map(
                        (r) =>
                            `${r.inputs.kind} ${r.inputs.metadata?.namespace ?? ""}/${r.inputs.metadata?.name}: ${JSON.stringify(r.inputs.rules ?? r.inputs.roleRef)}`,
                    );
                const allowed = policyConfig(stack)["k8s-secrets-rbac"].allowedSecretAccess as Array<{
                    kind: string;
                    namespace?: string;
                    name: string;
                    verbs: string[];
                    reason: string;
                }>;
                for (const e of allowed) assert.ok(e.reason.length > 30, `${e.kind} ${e.name}: a reason is required`);
                const outside = secretAccess(
                    run.resources.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.inputs })),
                ).filter((a) => {
                    const e = allowed.find((x) => x.kind === a.kind && x.name === a.name && x.namespace === a.namespace);
                    return !e || !(e.verbs.includes("*") || a.verbs.every((v) => e.verbs.includes(v)));
                });
                assert.deepEqual(outside, [], `roles of the stack:\n${inventory.join("\n")}`);
                // The program grants its own pods nothing (they run without API tokens); its only roles
                // are the team roles of components/access, bound to people's groups.
                const own = run.resources.filter(
                    (r) => r.type.startsWith("kubernetes:rbac.authorization.k8s.io/") && RBAC_KINDS.includes(r.inputs.kind),
                );
                assert.deepEqual(
                    own.map((r) => `${r.inputs.kind} ${r.inputs.metadata?.name}`).sort(),
                    [
                        ...TEAM_ROLES.map((role) => `ClusterRole ${ROLE_DEFINITIONS[role].clusterRole}`),
                        ...TEAM_ROLES.map((role) => `RoleBinding ${ROLE_DEFINITIONS[role].clusterRole}`),
                    ].sort(),
                    `roles of the stack:\n${inventory.join("\n")}`,
                );
                for (const binding of own.filter((r) => r.inputs.kind === "RoleBinding")) {
                    assert.deepEqual(
                        binding.inputs.subjects.map((s: { kind: string }) => s.kind),
                        ["Group"],
                        "bound to people's groups, never to a ServiceAccount",
                    );
                }
            });
        }

        it("sets the charts' RBAC to what they need: Grafana namespaced, no Secrets for kube-state-metrics, no Istio reader or gateway controller", () => {
            const run = runs.get("prod")!;
            const values = (name: string) => run.get("kubernetes:helm.sh/v4:Chart", name).inputs.values;
            const grafana = values("kube-prometheus-stack").grafana;
            assert.equal(grafana.rbac.namespaced, true);
            assert.deepEqual(grafana.sidecar.dashboards.searchNamespace, ["monitoring"]);
            assert.deepEqual(grafana.sidecar.datasources.searchNamespace, ["monitoring"]);
            const collectors: string[] = values("kube-prometheus-stack")["kube-state-metrics"].collectors;
            assert.ok(collectors.includes("pods") && !collectors.includes("secrets"), collectors.join(","));
            assert.equal(values("istiod").global.enableReaderRBAC, false);
            assert.equal(values("istiod").env.PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER, "false");
        });

        it("the README lists every chart role that keeps access to Secrets, as the policy configs allow them", () => {
            const readme = readDoc("security");
            for (const stack of ["dev", "staging", "prod"]) {
                for (const e of policyConfig(stack)["k8s-secrets-rbac"].allowedSecretAccess) {
                    assert.ok(readme.includes(`\`${e.name}\``), `README does not list ${e.kind} ${e.name}`);
                }
            }
        });
    });

    it("prod runs a users canary at 10% next to the stable version", () => {
        const versions = runs.get("prod")!.outputs.appVersions as Record<string, { stable: string; canary?: string; canaryWeight: number }>;
        assert.deepEqual(versions.users, { stable: "1.0.0", canary: "1.1.0", canaryWeight: 10 });
        assert.equal(versions.orders.canary, undefined);
    });

    it("only dev is its own token issuer: a signing key in state and the devAuth output; staging and prod use their issuer", () => {
        const dev = runs.get("dev")!;
        assert.equal(dev.byType("tls:index/privateKey:PrivateKey").length, 1);
        assert.equal((dev.outputs.devAuth as { algorithm: string }).algorithm, "ES256");
        for (const label of ["staging", "prod", "staging on GKE"]) {
            const run = runs.get(label)!;
            assert.equal(run.outputs.devAuth, null, label);
            assert.equal(run.byType("tls:index/privateKey:PrivateKey").length, 0, label);
            const rule = run.find((r) => r.inputs.kind === "RequestAuthentication")[0].inputs.spec.jwtRules[0];
            assert.match(rule.jwksUri, /^https:\/\/auth\.(staging\.)?example\.com\/\.well-known\/jwks\.json$/, label);
            assert.equal(rule.forwardOriginalToken, true);
        }
        // Nothing holds the private key but the secret output: not a ConfigMap, not an Istio object.
        const pem = (dev.outputs.devAuth as { privateKeyPem: string }).privateKeyPem;
        const body = pem.split("\n")[1];
        const leaks = dev.resources.filter((r) => r.type.startsWith("kubernetes:") && JSON.stringify(r.inputs).includes(body));
        assert.deepEqual(
            leaks.map((r) => r.urn),
            [],
        );
    });

    it("prod protects its stateful and cluster resources; dev protects nothing", () => {
        const protectedTypes = (run: ProgramRun) => new Set(run.resources.filter((r) => r.protect).map((r) => r.type));
        const prod = protectedTypes(runs.get("prod")!);
        assert.ok(prod.has("aws:eks/cluster:Cluster"), `protected in prod: ${[...prod].join(", ")}`);
        assert.ok(prod.has("kubernetes:apps/v1:StatefulSet"), `protected in prod: ${[...prod].join(", ")}`);
        assert.deepEqual([...protectedTypes(runs.get("dev")!)], []);
    });
});

describe("bad stack config", () => {
    it("fails the program with one ConfigError naming the key, value and what is allowed", async () => {
        await assert.rejects(runStack("prod", { "apps.users.canary.weight": 130, "cluster.provider": "aks" }), (err: unknown) => {
            // index.ts loads its own copy of the config module, so compare by name.
            assert.ok(err instanceof pulumi.RunError && err.name === "ConfigError", String(err));
            assert.match(err.message, /orders-platform:apps\.users\.canary\.weight = 130: must be a whole number from 0 to 100/);
            assert.match(err.message, /orders-platform:cluster\.provider = "aks": must be one of kind \| eks \| gke \| existing/);
            assert.doesNotMatch(err.message, /\n\s+at /, "no stack trace in the message");
            return true;
        });
    });
});
