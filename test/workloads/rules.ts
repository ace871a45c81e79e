// Checks shared by the workload tests: container hardening rules and NetworkPolicy analysis.
import type { AppCatalog } from "../../components/config";
import { MANAGED_NAMESPACES, NetEdge, NetPeer, peerKey, peerLocation } from "../../components/workloads/networkPolicySpec";

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

export function knownPeers(catalog: AppCatalog): NetPeer[] {
    return [
        ...[...catalog.keys()].map((name): NetPeer => ({ kind: "app", name })),
        { kind: "edge" },
        { kind: "prometheus" },
        { kind: "postgres" },
        { kind: "backup" },
        { kind: "bootstrap" },
        { kind: "dns" },
        { kind: "istiod" },
        { kind: "tracing" },
        ...MANAGED_NAMESPACES.map((namespace): NetPeer => ({ kind: "namespace", namespace })),
    ];
}

const locKey = (ns: string, labels: Record<string, string>) =>
    `${ns}|${JSON.stringify(Object.fromEntries(Object.entries(labels ?? {}).sort()))}`;

export interface Flows {
    ingress: Set<string>;
    egress: Set<string>;
}

/** Every (source -> destination : protocol/port) that the policies allow, per direction. */
export function allowedFlows(policies: Array<{ namespace: string; spec: any }>, catalog: AppCatalog, meshEnabled: boolean): Flows {
    const table = new Map<string, string>();
    for (const peer of knownPeers(catalog)) {
        const loc = peerLocation(peer, meshEnabled)!;
        table.set(locKey(loc.namespace, loc.pods), peerKey(peer));
    }
    const resolveSelf = (ns: string, selector: any) => {
        const key = table.get(locKey(ns, selector?.matchLabels ?? {}));
        if (!key || selector?.matchExpressions) throw new Error(`policy selects unknown pods ${ns} ${JSON.stringify(selector)}`);
        return key;
    };
    const resolvePeer = (peer: any) => {
        if (peer.ipBlock) return `ipBlock:${peer.ipBlock.cidr}${peer.ipBlock.except ? `-${peer.ipBlock.except.join(",")}` : ""}`;
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

/** What the graph plus the infrastructure edges say should be allowed. */
export function expectedFlows(edges: NetEdge[], meshEnabled: boolean): Flows {
    const managed = (peer: NetPeer) => {
        const loc = peerLocation(peer, meshEnabled);
        return !!loc && (MANAGED_NAMESPACES as readonly string[]).includes(loc.namespace);
    };
    const key = (peer: NetPeer) =>
        peer.kind === "ipBlock" ? `ipBlock:${peer.cidr}${peer.except ? `-${peer.except.join(",")}` : ""}` : peerKey(peer);
    const flows: Flows = { ingress: new Set(), egress: new Set() };
    for (const e of edges) {
        for (const p of e.ports) {
            const flow = `${key(e.from)}->${key(e.to)}:${p.protocol}/${p.port}`;
            if (managed(e.to)) flows.ingress.add(flow);
            if (managed(e.from)) flows.egress.add(flow);
        }
    }
    return flows;
}
