// One microservice: ServiceAccount, ConfigMap, stable (and canary) Deployment, Service, HPA, PDB.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { appAuthEnv, type TokenVerification } from "../auth/authSpec";
import type { ClusterTopology } from "../cluster/types";
import type { AppConfig, AppFacts, Environment } from "../config";
import { planReplicas } from "../budgets/replicaPlan";
import { platformLabels } from "../naming";
import {
    approximationWarning,
    configHash,
    configMapData,
    deploymentName,
    deploymentSpec,
    hpaSpec,
    pdbSpec,
    serviceSpec,
    Track,
} from "./microServiceSpec";

export interface MicroServiceImages {
    /** Reference of the stable version, by digest. */
    stable: pulumi.Input<string>;
    /** Reference of the canary version; required when the app config has a canary. */
    canary?: pulumi.Input<string>;
}

export interface DatabaseSecretRef {
    name: pulumi.Input<string>;
    key: string;
}

export interface MicroServiceArgs {
    environment: Environment;
    facts: AppFacts;
    config: AppConfig;
    image: MicroServiceImages;
    namespace: pulumi.Input<string>;
    /** Secret (in the app namespace) holding DATABASE_URL. */
    databaseSecret?: DatabaseSecretRef;
    /** Extra non-secret environment (USERS_URL, OTEL_EXPORTER_OTLP_ENDPOINT, ...). */
    env: Record<string, pulumi.Input<string>>;
    /** How the app verifies tokens (AUTH_* environment: issuer, audiences, keys, claims). */
    auth: TokenVerification;
    meshEnabled: boolean;
    topology: ClusterTopology;
    /** Database maintenance: every Deployment at 0 pods, no HPA (see components/database/RESTORE.md). */
    suspended?: boolean;
}

export class MicroService extends pulumi.ComponentResource {
    /** Name of the Service (also the DNS name inside the namespace). */
    public readonly serviceName: pulumi.Output<string>;
    public readonly port: number;
    /** Deployment names by track. */
    public readonly deployments: Partial<Record<Track, pulumi.Output<string>>>;

    constructor(name: string, args: MicroServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("orders-platform:workloads:MicroService", name, {}, opts);
        const { facts, config, environment } = args;
        const app = facts.name;
        if (facts.database && !args.databaseSecret) {
            throw new Error(`${app} needs a database but no database Secret was passed`);
        }
        if (config.canary && !args.image.canary) {
            throw new Error(`${app} has a canary ${config.canary.version} but no canary image reference`);
        }

        const labels = platformLabels(environment, "microservice");
        const meta = (objectName: string) => ({ name: objectName, namespace: args.namespace, labels: { ...labels, app } });
        const plan = planReplicas(config, args.meshEnabled, args.suspended);
        if (plan.approximation) pulumi.log.warn(approximationWarning(app, plan.approximation), this);

        const serviceAccount = new k8s.core.v1.ServiceAccount(
            app,
            { metadata: meta(app), automountServiceAccountToken: false },
            { parent: this },
        );

        // Public settings only: the JWKS holds public keys (AUTH_JWKS) or is fetched (AUTH_JWKS_URI).
        const env = { ...appAuthEnv(args.auth), ...args.env };
        const data = pulumi.output(env).apply((e) => configMapData(facts, config, e as Record<string, string>));
        const configMap = new k8s.core.v1.ConfigMap(`${app}-config`, { metadata: meta(`${app}-config`), data }, { parent: this });

        const tracks: Array<{ track: Track; version: string; image: pulumi.Input<string>; replicas?: number }> = [
            { track: "stable", version: config.version, image: args.image.stable, replicas: plan.stableReplicas },
        ];
        if (config.canary) {
            tracks.push({ track: "canary", version: config.canary.version, image: args.image.canary!, replicas: plan.canaryReplicas });
        }

        this.deployments = {};
        for (const t of tracks) {
            const deploymentNameValue = deploymentName(app, t.track);
            const deployment = new k8s.apps.v1.Deployment(
                deploymentNameValue,
                {
                    metadata: { ...meta(deploymentNameValue), labels: { ...labels, app, track: t.track } },
                    spec: deploymentSpec({
                        environment,
                        facts,
                        config,
                        track: t.track,
                        version: t.version,
                        image: t.image,
                        namespace: args.namespace,
                        replicas: t.replicas,
                        configMapName: `${app}-config`,
                        serviceAccountName: app,
                        configHash: data.apply(configHash),
                        databaseSecret: args.databaseSecret,
                        topology: args.topology,
                    }),
                },
                { parent: this, dependsOn: [serviceAccount, configMap] },
            );
            this.deployments[t.track] = deployment.metadata.name;
        }

        const service = new k8s.core.v1.Service(app, { metadata: meta(app), spec: serviceSpec(facts) }, { parent: this });

        if (plan.stableHpa) {
            new k8s.autoscaling.v2.HorizontalPodAutoscaler(
                app,
                { metadata: meta(app), spec: hpaSpec(deploymentName(app, "stable"), plan.stableHpa) },
                { parent: this },
            );
        }
        if (plan.pdb) {
            new k8s.policy.v1.PodDisruptionBudget(app, { metadata: meta(app), spec: pdbSpec(app) }, { parent: this });
        }

        this.serviceName = service.metadata.name;
        this.port = facts.port;
        this.registerOutputs({ serviceName: this.serviceName, deployments: this.deployments });
    }
}
