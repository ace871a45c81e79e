// Every container declares resource requests and limits (and requests do not exceed limits).
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { isObj } from "../lib/k8s";
import { parseQuantity } from "../lib/quantity";
import { workloadPolicy } from "../lib/workloadPolicy";
import { where } from "../lib/workloads";

interface ResourcesConfig {
    requests: string[];
    limits: string[];
}

const config: Record<string, PolicyConfigJSONSchema> = {
    requests: {
        type: "array",
        items: { type: "string" },
        default: ["cpu", "memory"],
        description: "Resources every container must request.",
    },
    limits: { type: "array", items: { type: "string" }, default: ["cpu", "memory"], description: "Resources every container must limit." },
};

export const resourceLimits = workloadPolicy<ResourcesConfig>({
    name: "k8s-resources",
    description: "Every container (and init container) sets resource requests and limits, with requests <= limits.",
    severity: "medium",
    enforcementLevel: "mandatory",
    config,
    check(w, cfg, report) {
        for (const c of w.containers) {
            if (c.kind === "ephemeralContainer") continue; // ephemeral containers cannot have resources
            const res = isObj(c.container.resources) ? c.container.resources : {};
            const requests = isObj(res.requests) ? res.requests : {};
            const limits = isObj(res.limits) ? res.limits : {};
            const missingReq = cfg.requests.filter((r) => requests[r] === undefined || requests[r] === null || requests[r] === "");
            const missingLim = cfg.limits.filter((r) => limits[r] === undefined || limits[r] === null || limits[r] === "");
            if (missingReq.length > 0) {
                report(
                    `${where(c, w)}: resources.requests has no ${missingReq.join(", ")} (${c.path}.resources.requests); set ${missingReq.map((r) => `${r}`).join(" and ")} requests`,
                );
            }
            if (missingLim.length > 0) {
                report(
                    `${where(c, w)}: resources.limits has no ${missingLim.join(", ")} (${c.path}.resources.limits); set ${missingLim.join(" and ")} limits`,
                );
            }
            for (const r of Object.keys(requests)) {
                const req = parseQuantity(requests[r]);
                const lim = parseQuantity(limits[r]);
                if (req !== undefined && lim !== undefined && req > lim) {
                    report(
                        `${where(c, w)}: resources.requests.${r} (${requests[r]}) exceeds resources.limits.${r} (${limits[r]}); lower the request or raise the limit`,
                    );
                }
            }
        }
    },
});
