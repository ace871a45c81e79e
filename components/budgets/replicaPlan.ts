// How many pods each Deployment of an app runs, from its config alone: the workloads use it for
// their replica counts and HPAs, the budgets for the worst case they must fit.
import type { AppConfig } from "../config";

/** Extra pods a rolling update may start (maxUnavailable is 0): the connection budget counts them. */
export const ROLLING_MAX_SURGE = 1;

/**
 * Splits `total` pods between stable and canary so that the canary's share of pods is as
 * close to `weight`% as whole pods allow. With plain Services every ready pod gets traffic,
 * so weight 0 means no canary pods and 100 means no stable pods; any other weight keeps at
 * least one pod on each side (which may need one pod more than `total`).
 */
export function splitReplicas(total: number, weight: number): { stable: number; canary: number } {
    if (weight <= 0) return { stable: total, canary: 0 };
    if (weight >= 100) return { stable: 0, canary: total };
    const pods = Math.max(total, 2);
    const canary = Math.min(Math.max(Math.round((pods * weight) / 100), 1), pods - 1);
    return { stable: pods - canary, canary };
}

export interface HpaPlan {
    min: number;
    max: number;
    cpuPercent: number;
}

export interface ReplicaPlan {
    /** Fixed replicas of the stable Deployment; undefined when its HPA owns the count. */
    stableReplicas?: number;
    /** HPA of the stable Deployment. */
    stableHpa?: HpaPlan;
    /** Replicas of the canary Deployment; undefined when no canary is configured. */
    canaryReplicas?: number;
    /** A PodDisruptionBudget keeps at least one pod during voluntary disruptions. */
    pdb: boolean;
    /** Set when the canary weight is approximated by the replica ratio (mesh off). */
    approximation?: { weight: number; stable: number; canary: number; canaryPercent: number };
}

/**
 * How many pods each Deployment runs. With the mesh on, Istio splits traffic by weight, so
 * the weight never influences a Deployment (changing it only touches VirtualServices).
 * `suspended` (database maintenance) holds every Deployment at 0 pods without an HPA; the next
 * `pulumi up` without it puts the configured counts and HPAs back.
 */
export function planReplicas(config: AppConfig, meshEnabled: boolean, suspended = false): ReplicaPlan {
    if (suspended) return { stableReplicas: 0, canaryReplicas: config.canary ? 0 : undefined, pdb: false };
    const baseline = config.autoscaling?.min ?? config.replicas;
    const pdb = baseline > 1;
    const hpa = (min: number, reserved = 0): HpaPlan | undefined =>
        config.autoscaling
            ? { min, max: Math.max(min, config.autoscaling.max - reserved), cpuPercent: config.autoscaling.cpuPercent }
            : undefined;

    if (!config.canary || meshEnabled) {
        const stableHpa = hpa(baseline);
        return {
            stableReplicas: stableHpa ? undefined : config.replicas,
            stableHpa,
            canaryReplicas: config.canary?.replicas,
            pdb,
        };
    }

    const split = splitReplicas(baseline, config.canary.weight);
    // An HPA cannot scale to zero: a fully promoted canary leaves the stable side at 0 fixed pods.
    const stableHpa = split.stable > 0 ? hpa(split.stable, split.canary) : undefined;
    const total = split.stable + split.canary;
    return {
        stableReplicas: stableHpa ? undefined : split.stable,
        stableHpa,
        canaryReplicas: split.canary,
        pdb,
        approximation: {
            weight: config.canary.weight,
            stable: split.stable,
            canary: split.canary,
            canaryPercent: total === 0 ? 0 : Math.round((split.canary / total) * 1000) / 10,
        },
    };
}
