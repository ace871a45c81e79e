// Resource transforms of the real-engine harness (pure, so the mock suite can test them).
import type * as pulumi from "@pulumi/pulumi";

/** Policy-violating variants a run can ask for (ENGINE_HARNESS_VARIANT), applied to the users Deployments. */
export const VARIANTS = ["latest-image", "root-container"] as const;
export type Variant = (typeof VARIANTS)[number];

type Props = Record<string, any>;

/**
 * kwok gives pods loopback addresses, which Kubernetes never lists as Service endpoints, so no
 * Service with a selector would ever look ready: Services are not awaited here. Everything
 * else (Deployments, the StatefulSet, Jobs, PVCs, ...) is awaited as in a real cluster.
 */
export function skipServiceAwait(type: string, props: Props): Props | undefined {
    if (type !== "kubernetes:core/v1:Service") return undefined;
    const metadata = props.metadata ?? {};
    return { ...props, metadata: { ...metadata, annotations: { ...(metadata.annotations ?? {}), "pulumi.com/skipAwait": "true" } } };
}

/** The users Deployments with a `latest` image or a root container: the policy pack must refuse them. */
export function violate(variant: Variant, type: string, props: Props): Props | undefined {
    if (type !== "kubernetes:apps/v1:Deployment" || !/^users(-|$)/.test(String(props.metadata?.name ?? ""))) return undefined;
    const spec = props.spec.template.spec;
    const containers = spec.containers.map((c: Props, i: number) => {
        if (i !== 0) return c;
        if (variant === "latest-image") return { ...c, image: String(c.image).replace(/[:@].*$/, ":latest") };
        return { ...c, securityContext: { ...c.securityContext, runAsNonRoot: false, runAsUser: 0 } };
    });
    return { ...props, spec: { ...props.spec, template: { ...props.spec.template, spec: { ...spec, containers } } } };
}

export function harnessTransform(variant: string | undefined): pulumi.ResourceTransform {
    if (variant !== undefined && variant !== "" && !(VARIANTS as readonly string[]).includes(variant)) {
        throw new Error(`ENGINE_HARNESS_VARIANT=${variant}: must be one of ${VARIANTS.join(", ")}`);
    }
    return (args) => {
        let props: Props | undefined = skipServiceAwait(args.type, args.props);
        if (variant) props = violate(variant as Variant, args.type, props ?? args.props) ?? props;
        return props ? { props, opts: args.opts } : undefined;
    };
}
