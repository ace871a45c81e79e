// Kubeconfigs for the cloud clusters: no long-lived credentials, a short-lived token from the
// cloud CLI on every use. JSON is valid kubeconfig (kubectl and client-go parse it as YAML).

export interface ExecKubeconfigInput {
    name: string;
    server: string;
    /** Base64 PEM of the cluster CA, as the cloud APIs return it. */
    certificateAuthorityData: string;
    exec: {
        command: string;
        args: string[];
        installHint: string;
        provideClusterInfo?: boolean;
        env?: Array<{ name: string; value: string }>;
    };
}

/** A kubeconfig with one cluster, one user and one context that uses both (the current one). */
export function singleContextKubeconfig(args: {
    cluster: { name: string; server: string; certificateAuthorityData: string };
    user: { name: string; credentials: Record<string, unknown> };
    context: { name: string; namespace?: string };
}): string {
    const { cluster, user, context } = args;
    return JSON.stringify(
        {
            apiVersion: "v1",
            kind: "Config",
            clusters: [
                { name: cluster.name, cluster: { server: cluster.server, "certificate-authority-data": cluster.certificateAuthorityData } },
            ],
            users: [{ name: user.name, user: user.credentials }],
            contexts: [{ name: context.name, context: { cluster: cluster.name, user: user.name, namespace: context.namespace } }],
            "current-context": context.name,
        },
        null,
        2,
    );
}

export function execKubeconfig(input: ExecKubeconfigInput): string {
    return singleContextKubeconfig({
        cluster: { name: input.name, server: input.server, certificateAuthorityData: input.certificateAuthorityData },
        user: {
            name: input.name,
            credentials: {
                exec: {
                    apiVersion: "client.authentication.k8s.io/v1beta1",
                    command: input.exec.command,
                    args: input.exec.args,
                    env: input.exec.env ?? null,
                    interactiveMode: "IfAvailable",
                    installHint: input.exec.installHint,
                    provideClusterInfo: input.exec.provideClusterInfo ?? false,
                },
            },
        },
        context: { name: input.name },
    });
}

/** EKS: `aws eks get-token` (the AWS CLI's exec credential plugin). */
export function eksKubeconfig(args: { clusterName: string; endpoint: string; certificateAuthorityData: string; region: string }): string {
    return execKubeconfig({
        name: args.clusterName,
        server: args.endpoint,
        certificateAuthorityData: args.certificateAuthorityData,
        exec: {
            command: "aws",
            args: ["eks", "get-token", "--cluster-name", args.clusterName, "--region", args.region, "--output", "json"],
            installHint: "Install the AWS CLI v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html",
        },
    });
}

/** GKE: `gke-gcloud-auth-plugin` (required since Kubernetes 1.26). */
export function gkeKubeconfig(args: {
    project: string;
    location: string;
    clusterName: string;
    endpoint: string;
    certificateAuthorityData: string;
}): string {
    return execKubeconfig({
        name: `gke_${args.project}_${args.location}_${args.clusterName}`,
        server: `https://${args.endpoint}`,
        certificateAuthorityData: args.certificateAuthorityData,
        exec: {
            command: "gke-gcloud-auth-plugin",
            args: [],
            installHint: "Install gke-gcloud-auth-plugin: gcloud components install gke-gcloud-auth-plugin",
            provideClusterInfo: true,
        },
    });
}
