// Egress: every host outside the cluster the platform reaches, and why; with the mesh on, sidecars
// reach only those (REGISTRY_ONLY + one ServiceEntry each), and the NetworkPolicies let exactly
// those clients out on exactly those ports.
import { strict as assert } from "node:assert";
import { externalHosts, peerLocation, type ExternalClient, type ExternalHost } from "../../components/network";
import { APP_NAMESPACE } from "../../components/naming";
import { selectorMatches } from "../../policy/lib/selectors";
import { GKE_OVERRIDES, kubernetesObjects, runStack, stackConfig } from "../harness";

type Row = [name: string, hosts: string[], ports: number[], clients: ExternalClient[]];
const row = (h: ExternalHost): Row => [h.name, h.hosts, h.ports.map((p) => p.number), h.clients];

/** Every external host of each stack. The reasons are in externalHosts.ts, asserted below to be there. */
const EXPECTED: Array<[label: string, stack: string, overrides: Record<string, unknown>, targets: any, rows: Row[]]> = [
    ["dev (kind: local issuer, backups and logs on volumes, no receiver)", "dev", {}, { backup: "volume", logs: "volume" }, []],
    [
        "staging (EKS)",
        "staging",
        {},
        { backup: "s3", logs: "s3" },
        [
            ["jwks-issuer", ["auth.staging.example.com"], [443], ["apps", "istiod"]],
            ["s3", ["s3.eu-west-1.amazonaws.com", "*.s3.eu-west-1.amazonaws.com"], [443], ["backup", "loki"]],
            ["aws-sts", ["sts.eu-west-1.amazonaws.com"], [443], ["backup", "loki"]],
            ["alert-receiver-oncall", ["smtp.example.com"], [587], ["alertmanager"]],
        ],
    ],
    [
        "prod (EKS, WAL archiving)",
        "prod",
        {},
        { backup: "s3", logs: "s3" },
        [
            ["jwks-issuer", ["auth.example.com"], [443], ["apps", "istiod"]],
            ["s3", ["s3.eu-west-1.amazonaws.com", "*.s3.eu-west-1.amazonaws.com"], [443], ["backup", "postgres", "loki"]],
            ["aws-sts", ["sts.eu-west-1.amazonaws.com"], [443], ["backup", "postgres", "loki"]],
            ["alert-receiver-oncall", ["smtp.example.com"], [587], ["alertmanager"]],
        ],
    ],
    [
        "staging on GKE",
        "staging",
        GKE_OVERRIDES,
        { backup: "gcs", logs: "gcs" },
        [
            ["jwks-issuer", ["auth.staging.example.com"], [443], ["apps", "istiod"]],
            ["gcs", ["storage.googleapis.com"], [443], ["backup", "loki"]],
            ["gke-metadata-80", ["metadata.google.internal"], [80], ["backup", "loki"]],
            ["gke-metadata-988", ["gke-metadata-server.internal"], [988], ["backup", "loki"]],
            ["alert-receiver-oncall", ["smtp.example.com"], [587], ["alertmanager"]],
        ],
    ],
];

/** Namespace and pod labels of a client, as the NetworkPolicy model places it. */
function location(client: ExternalClient): { namespace: string; pods: Record<string, string> } {
    if (client === "apps") return { namespace: APP_NAMESPACE, pods: { app: "users" } };
    return peerLocation({ kind: client } as never, true)!;
}

const ipOf = (cidr: string) => cidr.split("/")[0];

describe("network: the platform's external hosts", function () {
    this.timeout(300_000);

    for (const [label, stack, overrides, targets, rows] of EXPECTED) {
        it(`${label}: exactly these hosts, each with who calls it and why`, () => {
            const hosts = externalHosts(stackConfig(stack, overrides), targets);
            assert.deepEqual(hosts.map(row), rows);
            for (const h of hosts) assert.ok(h.why.length > 20, `${h.name}: a reason`);
        });
    }

    it("a webhook or Slack receiver's host comes from its secret URL (only the host), an email receiver's from its smarthost", () => {
        const config = stackConfig("prod", {
            "observability.alerting.receivers": { hook: { webhook: {} }, chat: { slack: { channel: "#alerts" } } },
            "observability.alerting.route": { receiver: "hook" },
            alertingSecrets: { hook: "https://hooks.example.net:8443/alert/s3cr3t", chat: "https://hooks.slack.com/services/T/B/x" },
        });
        const receivers = externalHosts(config, { backup: "volume", logs: "volume" }).filter((h) => h.clients.includes("alertmanager"));
        assert.deepEqual(receivers.map(row), [
            ["alert-receiver-chat", ["hooks.slack.com"], [443], ["alertmanager"]],
            ["alert-receiver-hook", ["hooks.example.net"], [8443], ["alertmanager"]],
        ]);
        assert.ok(
            receivers.every((h) => !JSON.stringify(h).includes("s3cr3t")),
            "never the URL's secret part",
        );
    });

    for (const [label, stack, overrides, , rows] of EXPECTED.slice(1)) {
        it(`${label}: REGISTRY_ONLY with one ServiceEntry per host, and NetworkPolicies that let exactly these clients out on these ports`, async () => {
            const run = await runStack(stack, overrides);
            const objects = kubernetesObjects(run.resources).map((r) => r.inputs);
            const istiod = run.find((r) => r.type === "kubernetes:helm.sh/v4:Chart" && String(r.inputs.chart).includes("istiod"))[0];
            assert.deepEqual(istiod.inputs.values.meshConfig.outboundTrafficPolicy, { mode: "REGISTRY_ONLY" });
            const entries = objects.filter((o) => o.kind === "ServiceEntry");
            const byName = (a: unknown[], b: unknown[]) => String(a[0]).localeCompare(String(b[0]));
            assert.deepEqual(
                entries
                    .map((e) => [
                        e.metadata.name.replace(/^egress-/, ""),
                        e.spec.hosts,
                        e.spec.ports.map((p: { number: number }) => p.number),
                    ])
                    .sort(byName),
                rows.map(([name, hosts, ports]) => [name, hosts, ports]).sort(byName),
            );
            for (const e of entries) {
                assert.equal(e.spec.location, "MESH_EXTERNAL");
                assert.equal(e.metadata.namespace, "istio-system");
                assert.ok(e.metadata.annotations["orders-platform/reason"].length > 20);
                assert.equal(
                    e.spec.resolution,
                    e.spec.addresses ? "STATIC" : e.spec.hosts.some((h: string) => h.startsWith("*.")) ? "NONE" : "DNS",
                );
            }
            const policies = objects.filter((o) => o.kind === "NetworkPolicy");
            /** Egress rules to addresses outside the cluster that apply to a client's pods. */
            const egressOut = (client: ExternalClient) => {
                const { namespace, pods } = location(client);
                return policies
                    .filter((p) => p.metadata.namespace === namespace && selectorMatches(p.spec.podSelector, pods))
                    .flatMap((p) => (p.spec.egress ?? []) as Array<Record<string, any>>)
                    .filter((rule) =>
                        (rule.to ?? []).some((t: Record<string, any>) => t.ipBlock && !/^10\.|^172\.|^192\.168\./.test(t.ipBlock.cidr)),
                    );
            };
            const hosts = externalHosts(stackConfig(stack, overrides), EXPECTED.find((e) => e[0] === label)![3]);
            for (const h of hosts) {
                for (const client of h.clients) {
                    const rules = egressOut(client);
                    for (const port of h.ports) {
                        const allowed = rules.some(
                            (r) =>
                                (r.ports ?? []).some((p: { port: number }) => p.port === port.number) &&
                                r.to.some(
                                    (t: Record<string, any>) =>
                                        t.ipBlock &&
                                        (t.ipBlock.cidr === "0.0.0.0/0" ||
                                            (h.addresses ?? []).some((a) => ipOf(a) === ipOf(t.ipBlock.cidr))),
                                ),
                        );
                        assert.ok(allowed, `${client} may reach ${h.name} (${h.hosts.join(", ")}) on ${port.number}`);
                    }
                }
            }
            // And nothing else leaves the cluster: every rule to the internet is one of these hosts' ports.
            for (const client of ["apps", "istiod", "backup", "postgres", "loki", "alertmanager"] as ExternalClient[]) {
                const ports = new Set(hosts.filter((h) => h.clients.includes(client)).flatMap((h) => h.ports.map((p) => p.number)));
                for (const rule of egressOut(client)) {
                    if (!rule.to.some((t: Record<string, any>) => t.ipBlock?.cidr === "0.0.0.0/0")) continue;
                    for (const p of rule.ports ?? [])
                        assert.ok(ports.has(p.port), `${client} reaches the internet on ${p.port}, which no external host needs`);
                }
            }
        });
    }
});
