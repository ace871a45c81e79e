// Builds the argument bags the policy engine passes to `validateResource` and `validateStack`,
// so that policies can be run outside `pulumi preview` (unit tests, the program's own tests).
// Nothing here constructs a PolicyPack: that would start the analyzer's gRPC server.
import type {
    PolicyResource,
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";

/** A resource as the program registered it (props = its inputs, Outputs resolved). */
export interface ResourceInput {
    type: string;
    name: string;
    urn: string;
    props: Record<string, unknown>;
    /** URN of the parent resource. */
    parent?: string;
}

/** Thrown by `args.notApplicable()`, like the engine's own NotApplicableError. */
export class NotApplicable extends Error {
    constructor(readonly reason?: string) {
        super(reason ?? "not applicable");
        this.name = "NotApplicable";
    }
}

function notApplicable(reason?: string): never {
    throw new NotApplicable(reason);
}

function defaultOptions(parent?: string): PolicyResourceOptions {
    return {
        protect: false,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        ...(parent ? { parent } : {}),
    };
}

/** The engine compares a class's static `__pulumiType` with the resource's type token. */
function isTypeOf(type: string, resourceClass: unknown): boolean {
    const token = (resourceClass as { __pulumiType?: unknown } | undefined)?.__pulumiType;
    if (typeof token === "string" && token.length > 0) return token === type;
    const isInstance = (resourceClass as { isInstance?: unknown } | undefined)?.isInstance;
    return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

const EMPTY_TAGS: ReadonlyMap<string, string> = new Map();

export function makeResourceArgs(
    r: ResourceInput,
    config: Record<string, unknown> = {},
    stackTags: ReadonlyMap<string, string> = EMPTY_TAGS,
): ResourceValidationArgs {
    const props = r.props as Record<string, any>;
    return {
        type: r.type,
        props,
        urn: r.urn,
        name: r.name,
        opts: defaultOptions(r.parent),
        stackTags,
        isType: (cls) => isTypeOf(r.type, cls),
        asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined)) as ResourceValidationArgs["asType"],
        getConfig: <T extends object>() => structuredClone(config) as T,
        notApplicable,
    };
}

export function makeStackArgs(
    resources: readonly ResourceInput[],
    config: Record<string, unknown> = {},
    stackTags: ReadonlyMap<string, string> = EMPTY_TAGS,
): StackValidationArgs {
    const byUrn = new Map<string, PolicyResource>();
    const out: PolicyResource[] = resources.map((r) => {
        const props = r.props as Record<string, any>;
        const res: PolicyResource = {
            type: r.type,
            props,
            urn: r.urn,
            name: r.name,
            opts: defaultOptions(r.parent),
            dependencies: [],
            propertyDependencies: {},
            isType: (cls) => isTypeOf(r.type, cls),
            asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined)) as PolicyResource["asType"],
        };
        byUrn.set(r.urn, res);
        return res;
    });
    resources.forEach((r, i) => {
        const parent = r.parent ? byUrn.get(r.parent) : undefined;
        if (parent) out[i].parent = parent;
    });
    return {
        resources: out,
        stackTags,
        getConfig: <T extends object>() => structuredClone(config) as T,
        notApplicable,
    };
}

export interface Reported {
    message: string;
    urn?: string;
}

export type Outcome = { applicable: true; reported: Reported[] } | { applicable: false; reason?: string; reported: Reported[] };

/** Runs every validateResource function of `policy` over one resource. */
export async function runResourcePolicy(policy: ResourceValidationPolicy, args: ResourceValidationArgs): Promise<Outcome> {
    const reported: Reported[] = [];
    const report: ReportViolation = (message: string) => {
        reported.push({ message, urn: args.urn });
    };
    const fns =
        policy.validateResource === undefined
            ? []
            : Array.isArray(policy.validateResource)
              ? policy.validateResource
              : [policy.validateResource];
    for (const fn of fns) {
        try {
            await fn(args, report);
        } catch (err) {
            if (err instanceof NotApplicable) return { applicable: false, reason: err.reason, reported };
            throw Object.assign(new Error(`policy ${policy.name} failed on ${args.urn}: ${(err as Error).message}`), { cause: err });
        }
    }
    return { applicable: true, reported };
}

/** Runs a stack policy over a set of resources. */
export async function runStackPolicy(policy: StackValidationPolicy, args: StackValidationArgs): Promise<Outcome> {
    const reported: Reported[] = [];
    const report: ReportViolation = (message: string, urn?: string) => {
        reported.push({ message, urn });
    };
    try {
        await policy.validateStack(args, report);
    } catch (err) {
        if (err instanceof NotApplicable) return { applicable: false, reason: err.reason, reported };
        throw Object.assign(new Error(`stack policy ${policy.name} failed: ${(err as Error).message}`), { cause: err });
    }
    return { applicable: true, reported };
}
