// What every cluster variant (kind, EKS, GKE, existing) gives the rest of the program.
// Nothing downstream needs to know which one it is.
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { DATA_NAMESPACE } from "../naming";

export interface RegistryInfo {
    /** Registry host (and port), e.g. "localhost:5001" or "123456789012.dkr.ecr.eu-west-1.amazonaws.com". */
    server: pulumi.Output<string>;
    /** Repository of an app without tag, e.g. "localhost:5001/users". Used to push and to pull. */
    repository(app: string): pulumi.Output<string>;
    /** Push credentials from the cloud (never plain config); undefined for the local registry. */
    credentials?: pulumi.Output<{ username: string; password: string }>;
    /** The registry speaks plain HTTP (the local kind registry on loopback). */
    plainHttp?: boolean;
}

export interface ClusterTopology {
    /** More than one node: spread replicas across nodes. */
    multiNode: boolean;
    /** Nodes in several zones: spread replicas across zones too. */
    multiZone: boolean;
}

/** Where the Postgres backup CronJob writes, and how its pod gets cloud credentials. */
export type BackupTarget =
    | { kind: "volume" }
    | {
          kind: "s3";
          bucket: pulumi.Output<string>;
          region: string;
          /** Annotations for the backup ServiceAccount (IRSA role ARN). */
          serviceAccountAnnotations: pulumi.Output<Record<string, string>>;
          /** Annotations for the database's ServiceAccount: WAL archiving (put-only on the WAL prefix). */
          walArchiveServiceAccountAnnotations?: pulumi.Output<Record<string, string>>;
      }
    | {
          kind: "gcs";
          bucket: pulumi.Output<string>;
          /** Annotations for the backup ServiceAccount (Workload Identity GSA). */
          serviceAccountAnnotations: pulumi.Output<Record<string, string>>;
          /** Annotations for the database's ServiceAccount: WAL archiving (create-only). */
          walArchiveServiceAccountAnnotations?: pulumi.Output<Record<string, string>>;
      };

/** Kubernetes ServiceAccount of the backup job; cloud identities trust exactly this one. */
export const BACKUP_SERVICE_ACCOUNT = { namespace: DATA_NAMESPACE, name: "postgres-backup" } as const;
/** Kubernetes ServiceAccount of the PostgreSQL pod, whose wal-upload container archives WAL. */
export const DATABASE_SERVICE_ACCOUNT = { namespace: DATA_NAMESPACE, name: "postgres" } as const;
/** Object prefixes in the backup bucket: dumps and base backups, and archived WAL. */
export const BACKUP_OBJECT_PREFIX = "postgres";
export const WAL_OBJECT_PREFIX = "postgres-wal";

export interface ClusterOutputs {
    provider: k8s.Provider;
    /** Kubeconfig of the cluster; always a secret. */
    kubeconfig: pulumi.Output<string>;
    registry: RegistryInfo;
    /** StorageClass used for volumes unless config names another. */
    storageClassName: pulumi.Output<string>;
    topology: ClusterTopology;
    backupTarget: BackupTarget;
    /** Host ports that publish the edge NodePorts (kind); undefined where a load balancer fronts the edge. */
    edgeHostPorts?: { http: number; https: number };
    /** OS/architecture of the nodes, for image builds ("linux/amd64" unless a variant says otherwise). */
    imagePlatform?: string;
}

/**
 * NodePorts of the edge Service (Istio ingress gateway or Traefik) on clusters without a cloud
 * load balancer. kind maps them to the host ports `cluster.kind.httpPort` / `httpsPort`.
 */
export const EDGE_NODE_PORTS = { http: 30080, https: 30443 } as const;
