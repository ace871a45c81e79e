// Where a drift alert goes: the stack's own alert receiver (observability.alerting: the route's
// receiver when it is a webhook or Slack one, else the first such receiver), whose URL is the
// secret config value alertingSecrets.<receiver>, the same one Alertmanager uses. The payload is
// Alertmanager's webhook format (or Slack's text), so the receiver handles it like any alert.
import type { DriftReport } from "./report";
import { summarize } from "./report";

type Obj = Record<string, any>;

export interface AlertTarget {
    receiver: string;
    type: "webhook" | "slack";
}

/** The receiver drift alerts go to, from the stack's `observability` config value. */
export function alertTarget(observability: Obj | undefined): AlertTarget | undefined {
    const alerting = observability?.alerting ?? {};
    const receivers = (alerting.receivers ?? {}) as Record<string, Obj>;
    const typed = (name: string): AlertTarget | undefined => {
        const r = receivers[name];
        if (!r) return undefined;
        if (r.webhook !== undefined) return { receiver: name, type: "webhook" };
        if (r.slack !== undefined) return { receiver: name, type: "slack" };
        return undefined;
    };
    const route = alerting.route?.receiver as string | undefined;
    return (route ? typed(route) : undefined) ?? Object.keys(receivers).sort().map(typed).find(Boolean);
}

export function alertPayload(target: AlertTarget, report: DriftReport, runUrl?: string): Obj {
    const summary = summarize(report);
    if (target.type === "slack") return { text: runUrl ? `${summary}\n${runUrl}` : summary };
    const labels = { alertname: "PulumiStackDrift", stack: report.stack, severity: "warning" };
    const annotations = {
        summary,
        description: "Resources differ from the Pulumi state. Nothing was changed; see the drift issue and docs/operations.md (Drift).",
        ...(runUrl ? { runbook_url: runUrl } : {}),
    };
    return {
        version: "4",
        status: "firing",
        receiver: target.receiver,
        groupLabels: { alertname: labels.alertname },
        commonLabels: labels,
        commonAnnotations: annotations,
        externalURL: runUrl ?? "",
        alerts: [
            {
                status: "firing",
                labels,
                annotations,
                startsAt: report.checkedAt,
                endsAt: "0001-01-01T00:00:00Z",
                generatorURL: runUrl ?? "",
            },
        ],
    };
}

/** POSTs the payload; resolves to the HTTP status, rejects on network errors or a timeout. */
export async function postAlert(url: string, payload: Obj, timeoutMs = 10_000): Promise<number> {
    const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(timeoutMs),
    });
    return res.status;
}
