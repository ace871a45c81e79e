// Egress with the mesh on: sidecars may reach only what the service registry knows
// (outboundTrafficPolicy REGISTRY_ONLY in istiod's mesh config), and the registry knows exactly the
// platform's external hosts (components/network/externalHosts.ts) as ServiceEntries.
import type { ExternalHost } from "../network/externalHosts";

export const OUTBOUND_TRAFFIC_POLICY = { mode: "REGISTRY_ONLY" } as const;

export interface ServiceEntrySpec {
    name: string;
    why: string;
    spec: Record<string, unknown>;
}

export function serviceEntrySpecs(hosts: readonly ExternalHost[]): ServiceEntrySpec[] {
    return hosts.map((h) => {
        const wildcard = h.hosts.some((x) => x.startsWith("*."));
        const fixed = h.addresses !== undefined;
        return {
            name: h.name,
            why: h.why,
            spec: {
                hosts: [...h.hosts],
                ...(fixed ? { addresses: [...h.addresses!] } : {}),
                ports: h.ports.map((p) => ({ number: p.number, name: `${p.protocol.toLowerCase()}-${p.number}`, protocol: p.protocol })),
                location: "MESH_EXTERNAL",
                // Wildcards cannot be resolved ahead (the proxy forwards by SNI); fixed addresses are static.
                resolution: fixed ? "STATIC" : wildcard ? "NONE" : "DNS",
                ...(fixed ? { endpoints: h.addresses!.map((a) => ({ address: a.replace(/\/32$/, "") })) } : {}),
                exportTo: ["*"],
            },
        };
    });
}
