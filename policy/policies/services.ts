// Service type LoadBalancer only for the edge gateway, identified by config.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { configWithDefaults } from "../lib/config";
import { describeObject, isObj, kubeType, labelsOf, namespaceOf, objectName } from "../lib/k8s";
import { mapSelects } from "../lib/selectors";

export interface EdgeServiceMatcher {
    namespace: string;
    /** metadata.name of the Service (omit to match any name). */
    name?: string;
    /** Labels the Service must carry in metadata.labels or spec.selector (omit to match any). */
    selector?: Record<string, string>;
}

interface LoadBalancerConfig {
    allowedLoadBalancers: EdgeServiceMatcher[];
}

const configSchema = {
    properties: {
        allowedLoadBalancers: {
            type: "array" as const,
            default: [],
            description: "Services allowed to be of type LoadBalancer: the edge gateway(s), by namespace plus name and/or label selector.",
            items: {
                type: "object" as const,
                required: ["namespace"],
                properties: {
                    namespace: { type: "string" as const },
                    name: { type: "string" as const },
                    selector: { type: "object" as const, additionalProperties: { type: "string" as const } },
                },
            },
        },
    },
};

export function isAllowedEdge(props: Record<string, any>, resourceName: string, allowed: readonly EdgeServiceMatcher[]): boolean {
    const ns = namespaceOf(props);
    const name = objectName(props, resourceName);
    const labels = { ...labelsOf(props.metadata?.labels) };
    const selector = labelsOf(isObj(props.spec) ? props.spec.selector : undefined);
    return allowed.some(
        (m) =>
            m.namespace === ns &&
            (m.name === undefined || m.name === name) &&
            (m.selector === undefined || mapSelects(m.selector, labels) || mapSelects(m.selector, selector)),
    );
}

export const loadBalancerEdgeOnly: ResourceValidationPolicy = {
    name: "k8s-loadbalancer-edge-only",
    description:
        "Only the edge gateway Service (identified by config) may be of type LoadBalancer; everything else stays ClusterIP behind it.",
    severity: "high",
    enforcementLevel: "mandatory",
    configSchema,
    validateResource: (args, report) => {
        const t = kubeType(args.type);
        if (!t || t.group !== "core" || t.kind !== "Service") return;
        const type = isObj(args.props.spec) ? args.props.spec.type : undefined;
        if (type !== "LoadBalancer") return;
        const cfg = configWithDefaults<LoadBalancerConfig>(configSchema, args);
        if (isAllowedEdge(args.props, args.name, cfg.allowedLoadBalancers)) return;
        const allowed = cfg.allowedLoadBalancers.map(
            (m) => `${m.namespace}/${m.name ?? "*"}${m.selector ? ` ${JSON.stringify(m.selector)}` : ""}`,
        );
        report(
            `${describeObject("Service", args.props, args.name)}: spec.type is LoadBalancer, which only the edge gateway may use (allowed: ${allowed.join(", ") || "none"}); use ClusterIP and route through the edge gateway`,
        );
    },
};
