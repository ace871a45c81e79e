// Alerts that reach someone: the platform's PrometheusRules and Alertmanager's configuration (a
// Secret, since receivers carry webhook URLs and passwords). Created once kube-prometheus-stack
// (its CRDs and the monitoring namespace) is there.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AlertingConfig, DatabaseConfig, Environment } from "../config";
import { MONITORING_NAMESPACE, platformLabels } from "../naming";
import { ALERTMANAGER_CONFIG_KEY, ALERTMANAGER_CONFIG_SECRET, alertmanagerConfigFile } from "./alertmanagerSpec";
import { platformAlertRules } from "./alertRules";
import { MONITORING_API_VERSION } from "./monitorSpecs";

export const PLATFORM_RULES_NAME = "orders-platform";

export interface AlertingArgs {
    environment: Environment;
    config: AlertingConfig;
    /** Receiver secrets by receiver name (stack config `alertingSecrets`). */
    secrets: Record<string, string>;
    database: DatabaseConfig;
    /** PostgreSQL runs its metrics exporter. */
    postgresExporter: boolean;
}

export class Alerting extends pulumi.ComponentResource {
    constructor(name: string, args: AlertingArgs, opts?: pulumi.ComponentResourceOptions) {
        super("orders-platform:observability:Alerting", name, {}, opts);
        const labels = platformLabels(args.environment, "alerting");

        new k8s.core.v1.Secret(
            ALERTMANAGER_CONFIG_SECRET,
            {
                metadata: { name: ALERTMANAGER_CONFIG_SECRET, namespace: MONITORING_NAMESPACE, labels },
                type: "Opaque",
                stringData: { [ALERTMANAGER_CONFIG_KEY]: pulumi.secret(alertmanagerConfigFile(args.config, args.secrets)) },
            },
            { parent: this },
        );
        new k8s.apiextensions.CustomResource(
            `prometheusrule-${PLATFORM_RULES_NAME}`,
            {
                apiVersion: MONITORING_API_VERSION,
                kind: "PrometheusRule",
                metadata: { name: PLATFORM_RULES_NAME, namespace: MONITORING_NAMESPACE, labels },
                spec: {
                    groups: platformAlertRules({
                        alerting: args.config,
                        database: args.database,
                        postgresExporter: args.postgresExporter,
                    }),
                },
            },
            { parent: this },
        );
        this.registerOutputs({});
    }
}
