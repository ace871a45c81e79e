// Checks shared by the workload tests: container hardening rules and NetworkPolicy analysis.
import type { AppCatalog } from "../../components/config";
import {
    managedNamespaces,
    NetEdge,
    NetPeer,
    NetworkPolicyOptions,
    peerKey,
    peerLocation,
} from "../../components/network/networkPolicySpec";

/** Every rule a container of the platform must meet; returns what it breaks. */
export function containerProblems(pod: any, c: any, longRunning: boolean): string[] {
    const p: string[] = [];
    const sc = c.securityContext ?? {};
    const psc = pod.securityContext ?? {};
    const image = String(c.image ?? "");
    if (!/@sha256:[a-f0-9]{64}$/.test(image) && !/:[A-Za-z0-9._-]+$/.test(image.replace(/^[^/]+:\d+\//, "")))
        p.push(`image ${image} has no tag or digest`);
    if (/:latest(@|$)/.test(image)) p.push(`image ${image} uses latest`);
    for (const kind of ["requests", "limits"]) {
        for (const res of ["cpu", "memory"]) if (!c.resources?.[kind]?.[res]) p.push(`no ${kind}.${res}`);
    }
    if ((sc.runAsNonRoot ?? psc.runAsNonRoot) !== true) p.push("runAsNonRoot is not true");
    const uid = sc.runAsUser ?? psc.runAsUser;
    if (!(typeof uid === "number" && uid > 0)) p.push(`runAsUser ${uid} is not > 0`);
    if (sc.allowPrivilegeEscalation !== false) p.push("allowPrivilegeEscalation is not false");
    if (!(sc.capabilities?.drop ?? []).includes("ALL")) p.push("capabilities do not drop ALL");
    if (sc.capabilities?.add?.length) p.push(`adds capabilities ${sc.capabilities.add}`);
    if (sc.readOnlyRootFilesystem !== true) p.push("root filesystem is writable");
    if ((sc.seccompProfile ?? psc.seccompProfile)?.type !== "RuntimeDefault") p.push("seccomp is not RuntimeDefault");
    if (sc.privileged) p.push("privileged");
    if (longRunning) {
        for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) if (!c[probe]) p.push(`no ${probe}`);
    }
    const mounts = (c.volumeMounts ?? []).map((m: any) => m.mountPath);
    if (!mounts.includes("/tmp")) p.push("no writable /tmp");
    return p.map((msg) => `${c.name}: ${msg}`);
}

export function allContainers(pod: any): Array<{ container: any; init: boolean }> {
    return [
        ...(pod.initContainers ?? []).map((container: any) => ({ container, init: true })),
        ...(pod.containers ?? []).map((container: any) => ({ container, init: false })),
    ];
}

// --- NetworkPolicy analysis -----------------------------------------------------

/** Every peer with a location, including one "all pods" peer per managed namespace. */
export function knownPeers(catalog: AppCatalog, options: NetworkPolicyOptions): NetPeer[] {
    return [
        ...[...catalog.keys()].map((name): NetPeer => ({ kind: "app", name })),
        ...(
            [
                "edge",
                "prometheus",
                "postgres",
                "backup",
                "bootstrap",
                "dns",
                "istiod",
                "istioCni",
                "tracing",
                "alertmanager",
                "grafana",
                "prometheusOperator",
                "kubeStateMetrics",
                "loki",
                "alloy",
            ] as const
        ).map((kind) => ({ kind }) as NetPeer),
        ...managedNamespaces(options).map((namespace): NetPeer => ({ kind: "namespace", namespace })),
    ];
}

const locKey = (ns: string, labels: Record<string, string>) =>
    `${ns}|${JSON.stringify(Object.fromEntries(Object.entries(labels ?? {}).sort()))}`;

export interface Flows {
    ingress: Set<string>;
    egress: Set<string>;
}

const blockKey = (cidr: string, except?: string[]) => `ipBlock:${cidr}${except ? `-${except.join(",")}` : ""}`;

/** Every (source -> destination : protocol/port) that the policies allow, per direction ("*": any source). */
export function allowedFlows(policies: Array<{ namespace: string; spec: any }>, catalog: AppCatalog, options: NetworkPolicyOptions): Flows {
    const table = new Map<string, string>();
    for (const peer of knownPeers(catalog, options)) {
        const loc = peerLocation(peer, options.meshEnabled)!;
        table.set(locKey(loc.namespace, loc.pods), peerKey(peer));
    }
    const resolveSelf = (ns: string, selector: any) => {
        const key = table.get(locKey(ns, selector?.matchLabels ?? {}));
        if (!key || selector?.matchExpressions) throw new Error(`policy selects unknown pods ${ns} ${JSON.stringify(selector)}`);
        return key;
    };
    const resolvePeer = (peer: any) => {
        if (peer.ipBlock) return blockKey(peer.ipBlock.cidr, peer.ipBlock.except);
        const ns = peer.namespaceSelector?.matchLabels?.["kubernetes.io/metadata.name"];
        if (!ns || !peer.podSelector) throw new Error(`peer without exact namespace and pod selector: ${JSON.stringify(peer)}`);
        return resolveSelf(ns, peer.podSelector);
    };
    const flows: Flows = { ingress: new Set(), egress: new Set() };
    for (const { namespace, spec } of policies) {
        const self = resolveSelf(namespace, spec.podSelector);
        for (const rule of spec.ingress ?? []) {
            const sources = rule.from?.length ? rule.from.map(resolvePeer) : ["*"];
            const ports = rule.ports?.length ? rule.ports : [{ protocol: "*", port: "*" }];
            for (const s of sources) for (const p of ports) flows.ingress.add(`${s}->${self}:${p.protocol ?? "TCP"}/${p.port}`);
        }
        for (const rule of spec.egress ?? []) {
            const dests = rule.to?.length ? rule.to.map(resolvePeer) : ["*"];
            const ports = rule.ports?.length ? rule.ports : [{ protocol: "*", port: "*" }];
            for (const d of dests) for (const p of ports) flows.egress.add(`${self}->${d}:${p.protocol ?? "TCP"}/${p.port}`);
        }
    }
    return flows;
}

/** Keys of a peer in flows: one per CIDR for address blocks, "*" for any source. */
export function flowKeys(peer: NetPeer): string[] {
    if (peer.kind === "ipBlock") return peer.cidrs.map((cidr) => blockKey(cidr, peer.except));
    if (peer.kind === "anywhere") return ["*"];
    return [peerKey(peer)];
}

/** What the edges say should be allowed. */
export function expectedFlows(edges: NetEdge[], options: NetworkPolicyOptions): Flows {
    const managed = managedNamespaces(options);
    const isManaged = (peer: NetPeer) => {
        const loc = peerLocation(peer, options.meshEnabled);
        return !!loc && managed.includes(loc.namespace);
    };
    const flows: Flows = { ingress: new Set(), egress: new Set() };
    for (const e of edges) {
        for (const p of e.ports) {
            for (const from of flowKeys(e.from)) {
                for (const to of flowKeys(e.to)) {
                    const flow = `${from}->${to}:${p.protocol}/${p.port}`;
                    if (isManaged(e.to)) flows.ingress.add(flow);
                    if (isManaged(e.from)) flows.egress.add(flow);
                }
            }
        }
    }
    return flows;
}
