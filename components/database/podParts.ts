// Pieces the database's pods share: images, client environment, Job pod metadata, the scripts volume.
import type * as k8s from "@pulumi/kubernetes";
import type { ImageRefs } from "../config";
import { POSTGRES_HOST, POSTGRES_PORT, SCRIPTS_CONFIGMAP } from "./names";

type EnvVar = k8s.types.input.core.v1.EnvVar;

/** Pinned images (components/versions.ts, or the stack's `images` overrides). */
export type PostgresImages = Pick<ImageRefs, "postgres" | "awsCli" | "gcloudCli" | "postgresExporter">;

export const BACKUP_RESOURCES = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } };

export const secretEnv = (name: string, secret: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: secret, key } } });

export function clientEnv(user: { name: string } | { secret: string; key: string }): EnvVar[] {
    return [
        { name: "PGHOST", value: POSTGRES_HOST },
        { name: "PGPORT", value: String(POSTGRES_PORT) },
        "name" in user ? { name: "PGUSER", value: user.name } : secretEnv("PGUSER", user.secret, user.key),
        { name: "HOME", value: "/tmp" },
    ];
}

export function jobPodMetadata(labels: Record<string, string>) {
    return {
        labels,
        // With the mesh the Job pods get their sidecar as a native sidecar (an init container with
        // restartPolicy Always), which Kubernetes stops when the Job's containers are done: the
        // Job completes and talks to Postgres over mTLS like every other client.
        annotations: { "sidecar.istio.io/nativeSidecar": "true" },
    };
}

export const scriptsVolume = { name: "scripts", configMap: { name: SCRIPTS_CONFIGMAP, defaultMode: 0o555 } };

export function storeEnv(store: "s3" | "gcs", region?: string): EnvVar[] {
    // IRSA: the EKS webhook injects AWS_ROLE_ARN and the web identity token for the ServiceAccount;
    // Workload Identity: credentials come from the GKE metadata server.
    return store === "s3"
        ? [
              { name: "STORE", value: "s3" },
              { name: "AWS_REGION", value: region ?? "" },
              { name: "HOME", value: "/tmp" },
          ]
        : [
              { name: "STORE", value: "gcs" },
              { name: "CLOUDSDK_CONFIG", value: "/tmp/gcloud" },
          ];
}
