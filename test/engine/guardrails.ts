// Guardrails beyond the Pulumi path, on the harness stack that platform.engine.ts brought up (no
// up of their own): the ValidatingAdmissionPolicies the program deployed, judged by the real
// kube-apiserver, and the drift check (scripts/drift.ts) against real changes made by hand.
// platform.engine.ts registers these tests right after its no-op second up.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { kubectl, policyArgs, pulumi, REPO, requireEnv, run, STACK, summary } from "./harness";

type Note = (line: string) => void;
type Obj = Record<string, any>;

const APP_NS = "orders-apps";
const POLICY = "orders-platform-mandatory";

function json(args: string[]): Obj {
    return JSON.parse(kubectl([...args, "-o", "json"]).stdout) as Obj;
}

/** A server-side dry-run patch: admission runs in full, nothing is stored. */
function tryPatch(kind: string, namespace: string, name: string, patch: unknown, type: "json" | "strategic" = "json") {
    return kubectl(["-n", namespace, "patch", kind, name, "--dry-run=server", `--type=${type}`, "-p", JSON.stringify(patch)], {
        expect: "any",
    });
}

const firstLine = (text: string) =>
    text
        .split("\n")
        .map((l) => l.trim())
        .find((l) => l.length > 0) ?? "";

export function admissionTests(note: Note): void {
    it("admission: the program's policy and one binding per namespace are in the cluster, and every workload of ours passes them", () => {
        const policies = json(["get", "validatingadmissionpolicies", "-l", "app.kubernetes.io/part-of=orders-platform"]).items as Obj[];
        assert.deepEqual(
            policies.map((p) => p.metadata.name),
            [POLICY],
            "the staging config makes every workload rule mandatory: one Deny policy",
        );
        const warnings = (policies[0].status?.typeChecking?.expressionWarnings ?? []) as Obj[];
        const bindings = (
            json(["get", "validatingadmissionpolicybindings", "-l", "app.kubernetes.io/part-of=orders-platform"]).items as Obj[]
        ).map(
            (b) =>
                `${b.spec.matchResources.namespaceSelector.matchLabels["kubernetes.io/metadata.name"]}:${b.spec.validationActions.join("+")}`,
        );
        // Bound in exactly the namespaces the program owns: those with its default-deny NetworkPolicy.
        const namespaces = (json(["get", "networkpolicies", "-A", "--field-selector", "metadata.name=default-deny"]).items as Obj[]).map(
            (p) => p.metadata.namespace as string,
        );
        assert.ok(namespaces.length >= 7, namespaces.join(", "));
        assert.deepEqual(bindings.sort(), namespaces.map((ns) => `${ns}:Deny`).sort());
        // Re-submit every workload in our namespaces as it is (server-side dry run): the live
        // policy admits each one, whatever the order in which up created them.
        let admitted = 0;
        const refused: string[] = [];
        for (const ns of namespaces) {
            const items = json(["-n", ns, "get", "deployments,statefulsets,daemonsets,replicasets,jobs,cronjobs,pods"]).items as Obj[];
            for (const item of items) {
                const file = path.join(requireEnv("ENGINE_WORK"), "resubmit.json");
                fs.writeFileSync(file, JSON.stringify(item));
                const r = kubectl(["replace", "--dry-run=server", "-f", file], { expect: "any" });
                if (r.status === 0) admitted++;
                else refused.push(`${item.kind} ${ns}/${item.metadata.name}: ${firstLine(r.output)}`);
            }
        }
        assert.deepEqual(refused, [], "every object of ours is admitted");
        assert.ok(admitted >= 20, `${admitted} objects re-submitted`);
        note(
            `admission: policy ${POLICY} (${policies[0].spec.validations.length} validations, ${warnings.length} type-check warnings), ` +
                `bindings ${bindings.join(", ")}; ${admitted} live objects re-submitted (dry run), all admitted`,
        );
    });

    it("admission: kubectl cannot set a latest image, run as root, add a capability or mount a hostPath in orders-apps", () => {
        const deployment = json(["-n", APP_NS, "get", "deployment", "users"]);
        const container = `/spec/template/spec/containers/0`;
        const attempts: Array<[string, unknown, RegExp]> = [
            [
                "latest image",
                [{ op: "replace", path: `${container}/image`, value: "docker.io/library/nginx:latest" }],
                /k8s-no-latest-image: Deployment orders-apps\/users: image "docker\.io\/library\/nginx:latest" of "[^"]+" has no tag or a moving tag/,
            ],
            [
                "root",
                [
                    { op: "add", path: `${container}/securityContext/runAsNonRoot`, value: false },
                    { op: "add", path: `${container}/securityContext/runAsUser`, value: 0 },
                ],
                /k8s-non-root: Deployment orders-apps\/users: container "[^"]+" may run as root/,
            ],
            [
                "capability",
                [{ op: "add", path: `${container}/securityContext/capabilities/add`, value: ["NET_ADMIN"] }],
                /k8s-drop-capabilities: Deployment orders-apps\/users: container "[^"]+" adds a capability beyond the allowlist/,
            ],
            [
                "hostPath",
                [{ op: "add", path: "/spec/template/spec/volumes/-", value: { name: "host", hostPath: { path: "/var/run" } } }],
                /k8s-no-host-access: Deployment orders-apps\/users: volume "host" \(hostPath \/var\/run\) mounts the node's filesystem/,
            ],
        ];
        for (const [what, patch, message] of attempts) {
            const r = tryPatch("deployment", APP_NS, "users", patch);
            assert.notEqual(r.status, 0, `${what}: denied`);
            assert.match(r.output, new RegExp(`ValidatingAdmissionPolicy '${POLICY}' with binding '${POLICY}-${APP_NS}' denied request`));
            assert.match(r.output, message, what);
            note(
                `kubectl (${what}) denied: ${r.output
                    .split("\n")
                    .find((l) => /denied request/.test(l))
                    ?.trim()}`,
            );
        }
        // requests above limits never reaches the policies: the API server's own validation refuses it.
        const limit = deployment.spec.template.spec.containers[0].resources.limits.cpu;
        const r = tryPatch("deployment", APP_NS, "users", [{ op: "replace", path: `${container}/resources/requests/cpu`, value: "64" }]);
        assert.notEqual(r.status, 0);
        assert.match(r.output, /must be less than or equal to cpu limit/);
        note(`requests.cpu 64 > limits.cpu ${limit}: refused by the API server's validation (${firstLine(r.output).slice(0, 140)})`);
    });

    it("admission: an exempted workload is admitted (the gateway's image `auto`, no probes), the same change elsewhere is denied", () => {
        const change = [
            { op: "replace", path: "/spec/template/spec/containers/0/image", value: "auto" },
            { op: "remove", path: "/spec/template/spec/containers/0/livenessProbe" },
        ];
        const gateway = tryPatch("deployment", "istio-ingress", "istio-ingressgateway", change);
        assert.equal(gateway.status, 0, `the gateway is exempt from the image and probe rules: ${gateway.output}`);
        const jaeger = json(["-n", "tracing", "get", "deployments"]).items[0] as Obj;
        const other = tryPatch("deployment", "tracing", jaeger.metadata.name, change);
        assert.notEqual(other.status, 0);
        // The API server prints the first failed validation.
        assert.match(other.output, /denied request: k8s-(no-latest-image: .*image "auto"|probes: )/);
        note(
            `exempt istio-ingress/istio-ingressgateway: image "auto" without livenessProbe admitted; tracing/${jaeger.metadata.name}: ${firstLine(other.output).slice(0, 160)}`,
        );
    });
}

export function driftTests(note: Note): void {
    const drift = (out: string) =>
        run(
            "npx",
            [
                "--no-install",
                "tsx",
                "scripts/drift.ts",
                "detect",
                "--stack",
                STACK,
                "--cwd",
                "test/engine/project",
                "--out",
                out,
                "--no-notify",
            ],
            {
                cwd: REPO,
                expect: "any",
            },
        );

    it("drift: a default-deny NetworkPolicy deleted and a Deployment scaled by hand are both reported; nothing is changed", () => {
        // A Deployment no HPA owns (an HPA's scaling is never drift).
        const hpaTargets = new Set(
            (json(["get", "hpa", "-A"]).items as Obj[]).map((h) => `${h.metadata.namespace}/${h.spec.scaleTargetRef.name}`),
        );
        const deployments = (json(["get", "deployments", "-A", "-l", "app.kubernetes.io/part-of=orders-platform"]).items as Obj[]).filter(
            (d) => !hpaTargets.has(`${d.metadata.namespace}/${d.metadata.name}`),
        );
        assert.ok(deployments.length > 0, "a Deployment without an HPA");
        const target = deployments[0];
        const [ns, name, replicas] = [target.metadata.namespace, target.metadata.name, target.spec.replicas as number];
        kubectl(["-n", APP_NS, "delete", "networkpolicy", "default-deny"]);
        kubectl(["-n", ns, "scale", "deployment", name, `--replicas=${replicas + 2}`]);
        const out = path.join(requireEnv("ENGINE_WORK"), "drift");
        const r = drift(out);
        assert.equal(r.status, 2, `exit 2 = drift:\n${r.output}`);
        const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8")) as Obj;
        const lines = (report.findings as Obj[]).map(
            (f) =>
                `${f.kind}: ${f.label}${f.changes.length ? ` (${(f.changes as Obj[]).map((c) => `${c.path} ${c.before} -> ${c.after}`).join(", ")})` : ""}`,
        );
        assert.ok(lines.includes(`out-of-band-delete: NetworkPolicy ${APP_NS}/default-deny`), lines.join("\n"));
        assert.ok(
            lines.includes(`out-of-band-change: Deployment ${ns}/${name} (spec.replicas ${replicas} -> ${replicas + 2})`),
            lines.join("\n"),
        );
        assert.equal(lines.length, 2, `exactly the two hand-made changes:\n${lines.join("\n")}`);
        assert.match(fs.readFileSync(path.join(out, "report.md"), "utf8"), /#### Deleted outside Pulumi \(1\)/);
        // Read-only: the hand-made state is still there.
        assert.equal(kubectl(["-n", APP_NS, "get", "networkpolicy", "default-deny", "--ignore-not-found", "-o", "name"]).stdout.trim(), "");
        note(`drift report (exit ${r.status}):\n${lines.map((l) => `        ${l}`).join("\n")}`);
        // The runbook's "undo it". A deleted object: up with a refresh of it recreates it. A field another
        // manager took over (kubectl scale owns .spec.replicas): server-side apply refuses to take it
        // back (a field conflict, seen on this engine), so the replicas are given back with kubectl.
        const np = (report.findings as Obj[]).find((f) => f.kind === "out-of-band-delete")!;
        const up = pulumi(["up", "--yes", "--refresh", "--stack", STACK, "--target", np.urn as string, ...policyArgs("staging")]);
        note(`up --refresh --target (the policy): ${summary(up.output).join(", ")}`);
        kubectl(["-n", ns, "scale", "deployment", name, `--replicas=${replicas}`]);
        assert.equal(kubectl(["-n", ns, "get", "deployment", name, "-o", "jsonpath={.spec.replicas}"]).stdout.trim(), String(replicas));
        assert.equal(
            kubectl(["-n", APP_NS, "get", "networkpolicy", "default-deny", "-o", "name"]).stdout.trim(),
            "networkpolicy.networking.k8s.io/default-deny",
        );
        const clean = drift(path.join(requireEnv("ENGINE_WORK"), "drift-after"));
        assert.equal(clean.status, 0, `no drift after the up:\n${clean.output}`);
        note(`after up --refresh: ${firstLine(clean.stdout)}`);
    });
}
