// Schema of the `orders-platform:*` stack config: one module per area (apps, cluster, database, mesh,
// edge, auth, access, observability, charts and images) and here the top level with the rules that
// span areas. Every object is strict so that a typo in a key fails the preview instead of being
// silently ignored.
import { z } from "zod";
import { EMAIL, bool } from "./common";
import { appSchema } from "./apps";
import { ClusterConfig, clusterSchema } from "./cluster";
import { databaseSchema } from "./database";
import { meshSchema } from "./mesh";
import { authSchema } from "./auth";
import { edgeSchema } from "./edge";
import { accessSchema } from "./access";
import { observabilitySchema } from "./observability";
import { chartsSchema, imagesSchema } from "./charts";
import { admissionSchema } from "./admission";

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;

/** Top-level keys of the `orders-platform` namespace. */
export const stackConfigSchema = z
    .strictObject({
        environment: z.enum(ENVIRONMENTS, { error: `must be one of ${ENVIRONMENTS.join(" | ")}` }),
        /** Protect stateful and cluster resources against deletion (prod). */
        protect: bool().default(false),
        cluster: clusterSchema,
        apps: z.record(z.string(), appSchema),
        database: databaseSchema.prefault({}),
        mesh: meshSchema.prefault({}),
        edge: edgeSchema,
        auth: authSchema.prefault({}),
        observability: observabilitySchema.prefault({}),
        admission: admissionSchema.prefault({}),
        access: accessSchema,
        charts: chartsSchema,
        images: imagesSchema,
        /**
         * Secret values of the alert receivers, by receiver name: the webhook or Slack URL, or the
         * SMTP password. Set with `pulumi config set --secret --path 'orders-platform:alertingSecrets.<receiver>' ...`.
         */
        alertingSecrets: z.record(z.string(), z.string({ error: "must be a string (the URL or password)" }).min(1)).default({}),
    })
    .superRefine((c, ctx) => {
        // GKE resolves Google groups (email addresses) once the cluster names its security group.
        const gke = c.cluster.provider === "gke" ? c.cluster.gke : undefined;
        if (gke) {
            const googleGroups = Object.entries(c.access.groups).filter(([, g]) => EMAIL.test(g));
            if (gke.securityGroup) {
                for (const [key, group] of Object.entries(c.access.groups)) {
                    if (!EMAIL.test(group)) {
                        ctx.addIssue({
                            code: "custom",
                            path: ["access", "groups", key],
                            input: group,
                            message: `must be a Google group address like "orders-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}@example.com", not "${group}" (cluster.gke.securityGroup is set)`,
                        });
                    }
                }
            } else if (googleGroups.length > 0) {
                ctx.addIssue({
                    code: "custom",
                    path: ["cluster", "gke", "securityGroup"],
                    input: undefined,
                    message: `is required when access.groups names Google groups (${googleGroups.map(([, g]) => g).join(", ")}): "gke-security-groups@<your domain>"`,
                });
            }
        }
        if (c.database.walArchiving.enabled && c.cluster.provider !== "eks" && c.cluster.provider !== "gke") {
            ctx.addIssue({
                code: "custom",
                path: ["database", "walArchiving", "enabled"],
                input: true,
                message: `needs a backup bucket (cluster.provider eks or gke); "${c.cluster.provider}" backs up to a volume`,
            });
        }
        const receivers = c.observability.alerting.receivers;
        for (const [name, value] of Object.entries(c.alertingSecrets)) {
            const r = receivers[name];
            const needed = r?.slack || r?.webhook || r?.email?.username;
            if (!needed) {
                ctx.addIssue({
                    code: "custom",
                    path: ["alertingSecrets", name],
                    input: "(secret)",
                    message: `belongs to no receiver that takes a secret (observability.alerting.receivers.${name} with slack, webhook or email.username)`,
                });
            } else if ((r.slack || r.webhook) && !/^https?:\/\/\S+$/.test(value)) {
                ctx.addIssue({ code: "custom", path: ["alertingSecrets", name], input: "(secret)", message: "must be an http(s) URL" });
            }
        }
        for (const [name, r] of Object.entries(receivers)) {
            const what = r.slack
                ? "the Slack webhook URL"
                : r.webhook
                  ? "the webhook URL"
                  : r.email?.username
                    ? "the SMTP password"
                    : undefined;
            if (what && c.alertingSecrets[name] === undefined) {
                ctx.addIssue({
                    code: "custom",
                    path: ["alertingSecrets", name],
                    input: undefined,
                    message: `is required: ${what} of receiver ${name}; set it with pulumi config set --secret --path 'orders-platform:alertingSecrets.${name}' <value>`,
                });
            }
        }
        // The Kubernetes API is never open to the whole internet outside dev (the policy pack refuses
        // the same in the cluster resource: eks-/gke-cluster-hardening).
        if (c.environment !== "dev") {
            const open = (key: string[], cidrs: readonly string[] | undefined) => {
                for (const [i, cidr] of (cidrs ?? []).entries()) {
                    if (/\/0+$/.test(cidr) || cidr.trim() === "::/0") {
                        ctx.addIssue({
                            code: "custom",
                            path: [...key, i],
                            input: cidr,
                            message: `opens the Kubernetes API to the whole internet in ${c.environment}; list only the networks that need it (e.g. the office or VPN egress, "203.0.113.0/24")`,
                        });
                    }
                }
            };
            open(["cluster", "eks", "endpointPublicAccessCidrs"], c.cluster.eks?.endpointPublicAccessCidrs);
            open(["cluster", "gke", "masterAuthorizedCidrs"], c.cluster.gke?.masterAuthorizedCidrs);
        }
        // Mesh off: the NetworkPolicies admit public traffic only from the controller this program installs.
        if (!c.mesh.enabled && !c.edge.installController) {
            ctx.addIssue({
                code: "custom",
                path: ["edge", "installController"],
                input: c.edge.installController,
                message: "must be true when mesh.enabled is false (the edge is the Traefik controller installed in ingress-traefik)",
            });
        }
    });
export type StackConfig = z.infer<typeof stackConfigSchema>;
export type Environment = StackConfig["environment"];
export type ClusterProvider = ClusterConfig["provider"];

export * from "./common";
export * from "./apps";
export * from "./cluster";
export * from "./database";
export * from "./mesh";
export * from "./auth";
export * from "./edge";
export * from "./access";
export * from "./observability";
export * from "./charts";
export * from "./admission";
