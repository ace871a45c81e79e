// Pure decisions about app images: what is built, what is referenced, and how references look.

export type Track = "stable" | "canary";

export type ImageDecision =
    /** "build": the checkout's source is this version; "reference": it must already be in the registry. */
    | { track: Track; version: string; action: "build" | "reference" }
    /** "given": the stack names the image by digest; nothing is built or looked up. */
    | { track: Track; version: string; action: "given"; reference: string };

/**
 * An image given by digest in config is used as is; otherwise only the version whose source is
 * in this checkout is built, and every other version is looked up in the registry.
 */
export function imagePlan(
    facts: { name: string; checkoutVersion: string },
    app: { version: string; image?: string; canary?: { version: string; image?: string } },
): ImageDecision[] {
    const tracks: Array<{ track: Track; version: string; image?: string }> = [{ track: "stable", version: app.version, image: app.image }];
    if (app.canary) tracks.push({ track: "canary", version: app.canary.version, image: app.canary.image });
    return tracks.map(({ track, version, image }): ImageDecision => {
        assertPinnedTag(facts.name, version);
        if (image) return { track, version, action: "given", reference: image };
        return { track, version, action: version === facts.checkoutVersion ? "build" : "reference" };
    });
}

const MOVING_TAGS = new Set(["latest", "stable", "main", "master", "dev", "edge"]);

export function assertPinnedTag(app: string, version: string): void {
    if (!version || MOVING_TAGS.has(version.toLowerCase()) || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(version)) {
        throw new Error(`image tag "${version}" of app ${app} is not a pinned version`);
    }
}

/** `<repository>:<version>`: what is pushed and looked up. */
export function taggedImage(repository: string, version: string): string {
    return `${repository}:${version}`;
}

/**
 * `<repository>:<version>@sha256:<hex>`: the tag for humans and policies, the digest for the
 * runtime (a digest wins over the tag when both are present). Accepts `repo@sha256:..` or `sha256:..`.
 */
export function pinnedReference(repository: string, version: string, digest: string): string {
    const bare = digest.includes("@") ? digest.slice(digest.indexOf("@") + 1) : digest;
    if (!/^sha256:[a-f0-9]{64}$/.test(bare)) throw new Error(`not a sha256 digest: "${digest}" (${repository}:${version})`);
    return `${taggedImage(repository, version)}@${bare}`;
}

/**
 * Build of an app: the shared Dockerfile in apps/ with the app's directory name as build argument;
 * the context is apps/, which also holds the service-kit and the image's lockfile.
 */
export function buildPaths(
    appDir: string,
    cwd: string,
    pathApi: {
        relative(from: string, to: string): string;
        dirname(p: string): string;
        join(...p: string[]): string;
        basename(p: string): string;
    },
) {
    // Relative to the project root so the state does not depend on where the checkout lives.
    const rel = (p: string) => pathApi.relative(cwd, p) || ".";
    const appsDir = pathApi.dirname(appDir);
    return { context: rel(appsDir), dockerfile: rel(pathApi.join(appsDir, "Dockerfile")), args: { APP: pathApi.basename(appDir) } };
}

/** Platform of the cluster nodes (EKS m6i/m6a, GKE e2, kind on x86 hosts). */
export const IMAGE_PLATFORM = "linux/amd64";
