// The restricted security context every container of the platform runs with (Pod Security
// Standard "restricted" plus a read-only root filesystem).
import type * as k8s from "@pulumi/kubernetes";

type PodSecurityContext = k8s.types.input.core.v1.PodSecurityContext;
type SecurityContext = k8s.types.input.core.v1.SecurityContext;
type Volume = k8s.types.input.core.v1.Volume;
type VolumeMount = k8s.types.input.core.v1.VolumeMount;

/** uid/gid the app images run as (see apps/<name>/Dockerfile). */
export const APP_UID = 10001;
/** uid/gid of the `postgres` user of the official postgres image. */
export const POSTGRES_UID = 999;

export function podSecurityContext(uid: number): PodSecurityContext {
    return {
        runAsNonRoot: true,
        runAsUser: uid,
        runAsGroup: uid,
        fsGroup: uid,
        // Only chown volumes on first mount, not on every pod start.
        fsGroupChangePolicy: "OnRootMismatch",
        seccompProfile: { type: "RuntimeDefault" },
    };
}

export function containerSecurityContext(uid: number): SecurityContext {
    return {
        runAsNonRoot: true,
        runAsUser: uid,
        runAsGroup: uid,
        allowPrivilegeEscalation: false,
        privileged: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
    };
}

/** A writable /tmp on top of the read-only root filesystem. */
export function tmpVolume(sizeLimit = "64Mi"): { volume: Volume; mount: VolumeMount } {
    return {
        volume: { name: "tmp", emptyDir: { sizeLimit } },
        mount: { name: "tmp", mountPath: "/tmp" },
    };
}
