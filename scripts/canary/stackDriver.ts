// What the canary tool needs from a Pulumi stack. The Automation API implementation lives in
// automationDriver.ts; tests use a recording stub.

/** Project config namespace (Pulumi.yaml `name`). */
export const CONFIG_NAMESPACE = "orders-platform";

export interface UpReport {
    /** "succeeded" | "failed" | ... as reported by the engine. */
    result: string;
    /** Resource operation counts, e.g. { update: 2, same: 40 }. */
    changes: Record<string, number>;
}

export interface StackDriver {
    readonly stackName: string;
    /** The structured `orders-platform:apps` config object, parsed. */
    readAppsConfig(): Promise<unknown>;
    /** `pulumi config set --path <key> <value>` (key with namespace). */
    setConfig(key: string, value: string): Promise<void>;
    /** `pulumi config rm --path <key>`. */
    removeConfig(key: string): Promise<void>;
    /** `pulumi up`; rejects when the update fails. */
    up(message: string, onOutput: (text: string) => void): Promise<UpReport>;
}

export const appKey = (app: string, field: string) => `${CONFIG_NAMESPACE}:apps.${app}.${field}`;

export interface CanaryTarget {
    app: string;
    stableVersion: string;
    canaryVersion: string;
    currentWeight: number;
    /** canary.replicas as configured, restored if a promotion has to be undone. */
    canaryReplicas?: number;
    /** `image` (by digest) of the stable version, when the stack deploys given images. */
    stableImage?: string;
    /** `canary.image`: becomes `image` on promotion, so the promoted digest is the tested one. */
    canaryImage?: string;
}

export class StackConfigError extends Error {
    override name = "StackConfigError";
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Checks that `app` exists in the stack and has a canary to drive; explains what to do otherwise. */
export function resolveCanaryTarget(apps: unknown, app: string, stack: string): CanaryTarget {
    if (!isRecord(apps)) throw new StackConfigError(`stack "${stack}" has no ${CONFIG_NAMESPACE}:apps config object`);
    const names = Object.keys(apps).sort();
    const entry = apps[app];
    if (!isRecord(entry)) {
        throw new StackConfigError(`app "${app}" is not configured in stack "${stack}" (configured apps: ${names.join(", ") || "none"})`);
    }
    const stableVersion = entry.version;
    if (typeof stableVersion !== "string" || stableVersion === "") {
        throw new StackConfigError(`${appKey(app, "version")} is not set in stack "${stack}"`);
    }
    const canary = entry.canary;
    if (!isRecord(canary) || typeof canary.version !== "string" || canary.version === "") {
        throw new StackConfigError(
            `app "${app}" has no canary in stack "${stack}"; deploy one first, e.g.\n` +
                `  pulumi config set --path --stack ${stack} '${appKey(app, "canary.version")}' <new version>\n` +
                `  pulumi config set --path --stack ${stack} '${appKey(app, "canary.weight")}' 0\n` +
                `  pulumi up --stack ${stack}`,
        );
    }
    if (canary.version === stableVersion) {
        throw new StackConfigError(`canary version ${canary.version} of "${app}" equals the stable version; nothing to promote`);
    }
    const weight = canary.weight === undefined ? 0 : Number(canary.weight);
    if (!Number.isInteger(weight) || weight < 0 || weight > 100) {
        throw new StackConfigError(
            `${appKey(app, "canary.weight")} = ${JSON.stringify(canary.weight)} is not a whole number from 0 to 100`,
        );
    }
    const replicas = canary.replicas === undefined ? undefined : Number(canary.replicas);
    const stableImage = typeof entry.image === "string" && entry.image !== "" ? entry.image : undefined;
    const canaryImage = typeof canary.image === "string" && canary.image !== "" ? canary.image : undefined;
    if (stableImage !== undefined && canaryImage === undefined) {
        // Promotion would pair the canary version with the stable digest, which the config refuses.
        throw new StackConfigError(
            `${appKey(app, "image")} is set but ${appKey(app, "canary.image")} is not; give the canary ${canary.version} by digest too`,
        );
    }
    return {
        app,
        stableVersion,
        canaryVersion: canary.version,
        currentWeight: weight,
        canaryReplicas: replicas !== undefined && Number.isInteger(replicas) ? replicas : undefined,
        stableImage,
        canaryImage,
    };
}
