// Alertmanager's configuration from stack config: the receivers (e-mail, Slack, webhook) with their
// secrets from `alertingSecrets`, one route for everything and one more for critical alerts.
import type { AlertingConfig, ReceiverConfig } from "../config";

type Values = Record<string, unknown>;

/** Receiver that drops what it gets (Watchdog, InfoInhibitor, and everything when none is configured). */
export const NULL_RECEIVER = "null";
/** Secret (in the monitoring namespace) holding alertmanager.yaml; the chart is told to use it. */
export const ALERTMANAGER_CONFIG_SECRET = "alertmanager-orders-platform";
export const ALERTMANAGER_CONFIG_KEY = "alertmanager.yaml";

function receiver(name: string, r: ReceiverConfig, secret: string | undefined): Values {
    const common = { send_resolved: r.sendResolved };
    if (r.email) {
        return {
            name,
            email_configs: [
                {
                    ...common,
                    to: r.email.to,
                    from: r.email.from,
                    smarthost: r.email.smarthost,
                    require_tls: r.email.requireTls,
                    ...(r.email.username ? { auth_username: r.email.username, auth_password: secret } : {}),
                },
            ],
        };
    }
    if (r.slack) {
        return {
            name,
            slack_configs: [
                {
                    ...common,
                    api_url: secret,
                    channel: r.slack.channel,
                    title: "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.severity }})",
                    text: "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook }}\n{{ end }}",
                },
            ],
        };
    }
    return { name, webhook_configs: [{ ...common, url: secret, max_alerts: r.webhook!.maxAlerts }] };
}

/**
 * The whole configuration. Without receivers every alert goes to the null receiver (dev); stacks
 * with alerting.requireReceiver cannot get here without one.
 */
export function alertmanagerConfig(a: AlertingConfig, secrets: Record<string, string>): Values {
    const main = a.route.receiver ?? NULL_RECEIVER;
    const routes: Values[] = [
        { receiver: NULL_RECEIVER, matchers: ['alertname = "Watchdog"'] },
        { receiver: NULL_RECEIVER, matchers: ['alertname = "InfoInhibitor"'] },
    ];
    if (a.route.criticalReceiver && a.route.criticalReceiver !== main) {
        // Critical alerts reach the critical receiver and then, by the route below, the main one too.
        routes.push({ receiver: a.route.criticalReceiver, matchers: ['severity = "critical"'], continue: true });
        routes.push({ receiver: main });
    }
    return {
        global: { resolve_timeout: "5m" },
        route: {
            receiver: main,
            group_by: ["namespace", "alertname"],
            group_wait: a.route.groupWait,
            group_interval: a.route.groupInterval,
            repeat_interval: a.route.repeatInterval,
            routes,
        },
        inhibit_rules: [
            { source_matchers: ["severity = critical"], target_matchers: ["severity =~ warning|info"], equal: ["namespace", "alertname"] },
            { source_matchers: ["severity = warning"], target_matchers: ["severity = info"], equal: ["namespace", "alertname"] },
        ],
        receivers: [
            { name: NULL_RECEIVER },
            ...Object.entries(a.receivers)
                .sort(([x], [y]) => x.localeCompare(y))
                .map(([name, r]) => receiver(name, r, secrets[name])),
        ],
    };
}

/** alertmanager.yaml; JSON is YAML, and keeps the program free of a YAML dependency. */
export function alertmanagerConfigFile(a: AlertingConfig, secrets: Record<string, string>): string {
    return JSON.stringify(alertmanagerConfig(a, secrets), null, 2) + "\n";
}
