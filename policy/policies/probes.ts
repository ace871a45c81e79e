// Long-running workloads have readiness and liveness probes on every container.
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { isObj } from "../lib/k8s";
import { workloadPolicy } from "../lib/workloadPolicy";
import { LONG_RUNNING_KINDS, where } from "../lib/workloads";

const HANDLERS = ["httpGet", "tcpSocket", "exec", "grpc"];

interface ProbesConfig {
    kinds: string[];
    requireStartupProbe: boolean;
}

const config: Record<string, PolicyConfigJSONSchema> = {
    kinds: {
        type: "array",
        items: { type: "string" },
        default: [...LONG_RUNNING_KINDS],
        description: "Kinds whose containers need probes (Jobs and CronJobs run to completion and are exempt).",
    },
    requireStartupProbe: { type: "boolean", default: false, description: "Also require a startupProbe." },
};

export const probes = workloadPolicy<ProbesConfig>({
    name: "k8s-probes",
    description:
        "Every container of a Deployment, StatefulSet or DaemonSet has a readiness and a liveness probe (Jobs and CronJobs are exempt).",
    severity: "medium",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Add readinessProbe and livenessProbe (httpGet against the app's health endpoints, tcpSocket or exec) to every container.",
    config,
    check(w, cfg, report) {
        if (!cfg.kinds.includes(w.kind)) return;
        const wanted = ["readinessProbe", "livenessProbe", ...(cfg.requireStartupProbe ? ["startupProbe"] : [])];
        for (const c of w.containers) {
            // Init containers run to completion before the app starts; native sidecars (restartPolicy: Always) do not.
            if (c.kind === "ephemeralContainer" || (c.kind === "initContainer" && !c.sidecar)) continue;
            for (const field of wanted) {
                const probe = c.container[field];
                if (probe === undefined || probe === null) {
                    report(`${where(c, w)}: has no ${field} (${c.path}.${field}); add an httpGet, tcpSocket, exec or grpc probe`);
                } else if (!isObj(probe) || !HANDLERS.some((h) => isObj(probe[h]))) {
                    report(`${where(c, w)}: ${field} has no handler (${c.path}.${field}); set one of ${HANDLERS.join(", ")}`);
                }
            }
        }
    },
});
