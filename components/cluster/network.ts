// Addresses of a cluster that NetworkPolicies must name as ipBlocks (the API server and the
// nodes are no pods), known from config before anything exists. Where the exact address is
// not known at program time the rule is broad but limited to the port (said per variant).
import type { ClusterConfig } from "../config";

export interface ClusterNetwork {
    /** Where pods reach the Kubernetes API: the endpoint addresses and the `kubernetes` Service IP. */
    apiServer: { cidrs: string[]; ports: number[] };
    /** Node addresses: kubelet and hostNetwork pods (node-exporter) are scraped there. */
    nodes: { cidrs: string[] };
    /** Istio chart platform profile (only GKE has one; an unknown platform fails the charts). */
    istioPlatform?: "gke";
}

/** RFC 1918: on kind and unknown clusters, where node and API addresses are only known to be private. */
export const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
/** Docker's default address pools, where kind puts its nodes (and the API server on :6443). */
export const DOCKER_RANGES = ["172.16.0.0/12", "192.168.0.0/16"];

/** The first address of a CIDR as a /32: the `kubernetes` Service IP of a service range. */
export function firstAddress(cidr: string): string {
    const [ip] = cidr.split("/");
    const octets = ip.split(".").map(Number);
    const n = ((octets[0] << 24) >>> 0) + (octets[1] << 16) + (octets[2] << 8) + octets[3] + 1;
    return `${[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".")}/32`;
}

/** EKS picks the Service range by the VPC's: 172.20.0.0/16 inside 10/8, else 10.100.0.0/16. */
export function eksServiceCidr(vpcCidr: string): string {
    return vpcCidr.startsWith("10.") ? "172.20.0.0/16" : "10.100.0.0/16";
}

export function clusterNetwork(config: ClusterConfig): ClusterNetwork {
    switch (config.provider) {
        case "kind":
            // The control-plane container's address on kind's Docker network is assigned at creation.
            return {
                apiServer: { cidrs: [...DOCKER_RANGES, firstAddress("10.96.0.0/12")], ports: [443, 6443] },
                nodes: { cidrs: [...DOCKER_RANGES] },
            };
        case "eks": {
            const eks = config.eks!;
            // The private endpoint's network interfaces live in the cluster's subnets.
            return {
                apiServer: { cidrs: [eks.vpcCidr, firstAddress(eksServiceCidr(eks.vpcCidr))], ports: [443] },
                nodes: { cidrs: [eks.vpcCidr] },
            };
        }
        case "gke": {
            const gke = config.gke!;
            return {
                apiServer: { cidrs: [gke.masterCidr, firstAddress(gke.servicesCidr)], ports: [443] },
                nodes: { cidrs: [gke.subnetCidr] },
                istioPlatform: "gke",
            };
        }
        case "existing":
            return { apiServer: { cidrs: [...PRIVATE_RANGES], ports: [443, 6443] }, nodes: { cidrs: [...PRIVATE_RANGES] } };
    }
}
