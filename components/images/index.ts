// App images: take an image given by digest in stack config as is; otherwise build and push the
// checkout's version of each app and look up every other configured
// version in the registry, and hand workloads digest-pinned references.
import * as path from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { RegistryInfo } from "../cluster/types";
import type { AppCatalog, AppConfig } from "../config";
import { buildPaths, IMAGE_PLATFORM, imagePlan, pinnedReference, taggedImage, type Track } from "./imageSpec";

export * from "./imageSpec";

export interface AppImagesArgs {
    catalog: AppCatalog;
    apps: Record<string, AppConfig>;
    registry: RegistryInfo;
    /** Target platform of builds; default linux/amd64. */
    platform?: string;
}

export interface AppImageRefs {
    stable: pulumi.Output<string>;
    canary?: pulumi.Output<string>;
}

export class AppImages extends pulumi.ComponentResource {
    /** Per app: `<repository>:<version>@sha256:...` for the stable and (when configured) canary version. */
    public readonly refs: Record<string, AppImageRefs>;

    constructor(name: string, args: AppImagesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("orders-platform:images:AppImages", name, {}, opts);
        const { registry } = args;
        const credentials = registry.credentials;
        const pushRegistry = credentials
            ? {
                  server: registry.server,
                  username: credentials.apply((c) => c.username),
                  password: pulumi.secret(credentials.apply((c) => c.password)),
              }
            : undefined;
        // Lookups of versions not built here authenticate with the same cloud-issued token; a
        // plain-HTTP registry needs its scheme spelled out or the lookup would try HTTPS.
        const lookupAuth: docker.types.input.ProviderRegistryAuth | undefined = pushRegistry
            ? { address: pushRegistry.server, username: pushRegistry.username, password: pushRegistry.password }
            : registry.plainHttp
              ? { address: pulumi.interpolate`http://${registry.server}`, authDisabled: true }
              : undefined;
        let lookupProvider: docker.Provider | undefined;
        const lookupOpts = (): pulumi.InvokeOutputOptions => {
            if (lookupAuth && !lookupProvider) {
                lookupProvider = new docker.Provider(`${name}-registry`, { registryAuth: [lookupAuth] }, { parent: this });
            }
            return { parent: this, ...(lookupProvider ? { provider: lookupProvider } : {}) };
        };

        const refs: Record<string, AppImageRefs> = {};
        for (const facts of args.catalog.values()) {
            const app = args.apps[facts.name];
            if (!app) throw new Error(`orders-platform:apps.${facts.name} is missing: every app in apps/ needs a version in stack config`);
            // Only builds and lookups need the registry (render mode has none).
            let repo: pulumi.Output<string> | undefined;
            const repository = () => (repo ??= registry.repository(facts.name));
            const byTrack: Partial<Record<Track, pulumi.Output<string>>> = {};
            for (const decision of imagePlan(facts, app)) {
                if (decision.action === "given") {
                    byTrack[decision.track] = pulumi.output(decision.reference);
                } else if (decision.action === "build") {
                    const paths = buildPaths(facts.dir, process.cwd(), path);
                    const image = new docker.Image(
                        `${name}-${facts.name}`,
                        {
                            imageName: repository().apply((r) => taggedImage(r, decision.version)),
                            build: { ...paths, platform: args.platform ?? IMAGE_PLATFORM },
                            registry: pushRegistry,
                            skipPush: false,
                        },
                        { parent: this },
                    );
                    byTrack[decision.track] = pulumi
                        .all([repository(), image.repoDigest])
                        .apply(([r, digest]) => pinnedReference(r, decision.version, digest));
                } else {
                    const found = docker.getRegistryImageOutput(
                        { name: repository().apply((r) => taggedImage(r, decision.version)) },
                        lookupOpts(),
                    );
                    byTrack[decision.track] = pulumi
                        .all([repository(), found.sha256Digest])
                        .apply(([r, digest]) => pinnedReference(r, decision.version, digest));
                }
            }
            refs[facts.name] = { stable: byTrack.stable!, ...(byTrack.canary ? { canary: byTrack.canary } : {}) };
        }
        this.refs = refs;
        this.registerOutputs({ refs });
    }
}
