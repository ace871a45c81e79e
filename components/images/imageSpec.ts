// Pure decisions about app images: what is built, what is referenced, and how references look.

export type Track = "stable" | "canary";

export interface ImageDecision {
    track: Track;
    version: string;
    /** "build": the checkout's source is this version; "reference": it must already be in the registry. */
    action: "build" | "reference";
}

/** Only the version whose source is in this checkout is built; every other version is looked up. */
export function imagePlan(
    facts: { name: string; checkoutVersion: string },
    app: { version: string; canary?: { version: string } },
): ImageDecision[] {
    const tracks: Array<{ track: Track; version: string }> = [{ track: "stable", version: app.version }];
    if (app.canary) tracks.push({ track: "canary", version: app.canary.version });
    return tracks.map(({ track, version }) => {
        assertPinnedTag(facts.name, version);
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

/** Dockerfile of an app and its build context (apps/, which also holds the shared service-kit). */
export function buildPaths(
    appDir: string,
    cwd: string,
    pathApi: { relative(from: string, to: string): string; dirname(p: string): string; join(...p: string[]): string },
) {
    // Relative to the project root so the state does not depend on where the checkout lives.
    const rel = (p: string) => pathApi.relative(cwd, p) || ".";
    return { context: rel(pathApi.dirname(appDir)), dockerfile: rel(pathApi.join(appDir, "Dockerfile")) };
}

/** Platform of the cluster nodes (EKS m6i/m6a, GKE e2, kind on x86 hosts). */
export const IMAGE_PLATFORM = "linux/amd64";
