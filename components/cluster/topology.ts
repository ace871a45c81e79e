// Topology of a cluster, known from config before anything exists (plain values, no Outputs).
import type { ClusterConfig } from "../config";
import type { ClusterTopology } from "./types";

export function clusterTopology(config: ClusterConfig): ClusterTopology {
    switch (config.provider) {
        case "kind": {
            const workers = config.kind?.workers ?? 0;
            return { multiNode: workers > 0, multiZone: false };
        }
        case "eks": {
            const eks = config.eks!;
            const multiNode = eks.nodeGroup.desiredSize > 1;
            return { multiNode, multiZone: multiNode && eks.azCount > 1 };
        }
        case "gke":
            // A regional pool runs nodesPerZone in each of the region's zones.
            return { multiNode: true, multiZone: true };
        case "existing":
            // Nothing is known about someone else's cluster: do not require spreading.
            return { multiNode: false, multiZone: false };
    }
}
