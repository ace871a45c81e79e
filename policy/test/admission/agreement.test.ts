// The pack and the generated ValidatingAdmissionPolicies must reach the same verdict, rule by
// rule, on the same objects under the same config: every shipped policy config and variations of
// each config key the CEL rules read. A rule changed on one side only fails here.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { admissionPolicies } from "../../admission/generate";
import { resolvePolicyConfig, type PolicyPackConfigFile } from "../../lib/runner";
import { workloadPolicies } from "../../policies";
import { violations } from "../helpers";
import { admit, policyOfFailure } from "./celEvaluator";
import { agreementCases } from "./agreementFixtures";

const configDir = path.join(__dirname, "..", "..", "config");
const shipped = (env: string) => JSON.parse(fs.readFileSync(path.join(configDir, `${env}.json`), "utf8")) as PolicyPackConfigFile;

/** Config variations: each changes the keys one CEL rule reads. */
const VARIANTS: Record<string, PolicyPackConfigFile> = {
    "pack defaults": {},
    "dev.json": shipped("dev"),
    "staging.json": shipped("staging"),
    "prod.json": shipped("prod"),
    "digests required, exemption by pattern": {
        "k8s-no-latest-image": {
            requireDigest: true,
            digestExemptions: [{ repository: "quay.io/prometheus/", reason: "test" }],
            forbiddenTags: ["latest", "edge"],
        },
    },
    "registry allowlist with globs": {
        "k8s-no-latest-image": { allowedRegistries: ["*.dkr.ecr.*.amazonaws.com/", "postgres", "grafana/*", "localhost:5001/", "a/**/c"] },
    },
    "no forbidden tags": { "k8s-no-latest-image": { forbiddenTags: [] } },
    "host ports allowed, no capability allowed": {
        "k8s-no-host-access": { allowHostPorts: true },
        "k8s-drop-capabilities": { allowedAddedCapabilities: [] },
    },
    "startup probes, Jobs probed too": {
        "k8s-probes": { requireStartupProbe: true, kinds: ["Deployment", "StatefulSet", "DaemonSet", "Job"] },
    },
    "Localhost seccomp not allowed": { "k8s-seccomp": { allowedProfiles: ["RuntimeDefault"] } },
    "only memory resources": { "k8s-resources": { requests: ["memory"], limits: ["memory"] } },
    "namespace exclusions (prefix and exact)": {
        "k8s-no-privileged": { excludedNamespaces: ["istio-*"] },
        "k8s-non-root": { excludedNamespaces: ["orders-apps"] },
    },
    "one rule disabled, one advisory": { "k8s-read-only-root-fs": "disabled", "k8s-seccomp": "advisory" },
};

/** Cases where the pack and the CEL rules may differ, and why. */
const API_SERVER_CHECKS = [
    // requests > limits: kube-apiserver's own validation refuses it before admission runs.
    /requests > limits/,
];

describe("admission policies agree with the policy pack", function () {
    this.timeout(120_000);
    const cases = agreementCases();

    it("covers a corpus large enough to mean something", () => {
        assert.ok(cases.length > 400, `${cases.length} cases`);
    });

    for (const [variant, config] of Object.entries(VARIANTS)) {
        it(`same verdict per rule and level on every case: ${variant}`, async () => {
            const resolved = resolvePolicyConfig(config);
            const byNamespace = new Map<string, ReturnType<typeof admissionPolicies>>();
            const disagreements: string[] = [];
            let denials = 0;
            for (const { name, fixture } of cases) {
                if (API_SERVER_CHECKS.some((re) => re.test(name))) continue;
                const namespace = fixture.props.metadata.namespace;
                if (!byNamespace.has(namespace))
                    byNamespace.set(namespace, admissionPolicies({ policyConfig: config, namespaces: [namespace] }));
                const objects = byNamespace.get(namespace)!;
                const decision = admit(objects, { object: fixture.props });
                const errors = decision.failures.filter((f) => f.error);
                if (errors.length > 0)
                    disagreements.push(`${name}: CEL errors ${errors.map((e) => `${e.message}: ${e.error}`).join("; ")}`);
                for (const policy of workloadPolicies) {
                    const { enforcementLevel, properties } = resolved.get(policy.name)!;
                    const pack = enforcementLevel === "disabled" ? [] : await violations(policy, fixture, properties);
                    const cel = decision.failures.filter((f) => policyOfFailure(f) === policy.name);
                    if (pack.length > 0) denials++;
                    if (pack.length > 0 !== cel.length > 0) {
                        disagreements.push(
                            `${name} / ${policy.name}: pack ${pack.length > 0 ? `refuses (${pack[0]})` : "accepts"}, CEL ${cel.length > 0 ? `refuses (${cel[0].shown})` : "accepts"}`,
                        );
                    } else if (cel.length > 0) {
                        const level = enforcementLevel === "advisory" ? "advisory" : "mandatory";
                        const wrong = cel.filter((f) => f.policy !== `orders-platform-${level}`);
                        if (wrong.length > 0)
                            disagreements.push(`${name} / ${policy.name}: pack level ${level}, CEL policy ${wrong[0].policy}`);
                    }
                }
            }
            assert.deepEqual(disagreements, [], `${disagreements.length} disagreements`);
            assert.ok(denials > 50, `the corpus refuses something under ${variant} (${denials})`);
        });
    }
});
