// What every cluster variant (kind, EKS, GKE, existing) gives the rest of the program.
// Nothing downstream needs to know which one it is.
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { DATA_NAMESPACE, LOGGING_NAMESPACE } from "../naming";

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

/**
 * Where a workload keeps its objects: a volume of its own (kind, existing clusters), or a bucket
 * in the cloud's object storage that exactly one Kubernetes ServiceAccount may use (IRSA on EKS,
 * Workload Identity on GKE). `Extra` carries what one use needs besides.
 */
export type ObjectStorageTarget<Extra extends object = object> =
    | { kind: "volume" }
    | ({
          kind: "s3";
          bucket: pulumi.Output<string>;
          region: string;
          /** Annotations for the ServiceAccount (IRSA role ARN). */
          serviceAccountAnnotations: pulumi.Output<Record<string, string>>;
      } & Extra)
    | ({
          kind: "gcs";
          bucket: pulumi.Output<string>;
          /** Annotations for the ServiceAccount (Workload Identity GSA). */
          serviceAccountAnnotations: pulumi.Output<Record<string, string>>;
      } & Extra);

/** Where the Postgres backup CronJob writes, and how its pod gets cloud credentials. */
export type BackupTarget = ObjectStorageTarget<{
    /** Annotations for the database's ServiceAccount: WAL archiving (put-only on the WAL prefix on S3, create-only on GCS). */
    walArchiveServiceAccountAnnotations?: pulumi.Output<Record<string, string>>;
}>;

/** Where Loki keeps chunks and index: its volume, or a bucket only Loki's ServiceAccount may use. */
export type LogsStorage = ObjectStorageTarget;

/** Kubernetes ServiceAccount of the backup job; cloud identities trust exactly this one. */
export const BACKUP_SERVICE_ACCOUNT = { namespace: DATA_NAMESPACE, name: "postgres-backup" } as const;
/** Kubernetes ServiceAccount of Loki (the chart names it after its release); the logs bucket trusts only it. */
export const LOKI_SERVICE_ACCOUNT = { namespace: LOGGING_NAMESPACE, name: "loki" } as const;
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
    /** Loki's storage; a volume where no bucket was made (logs off, kind, existing, render). */
    logsStorage: LogsStorage;
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
