// Container image references (the grammar of distribution/reference) and registry allowlists.

export interface ImageRef {
    /** As written. */
    raw: string;
    /** Registry host (with port), "docker.io" when none is given. */
    registry: string;
    /** Whether the reference names its registry explicitly. */
    explicitRegistry: boolean;
    /** Repository path inside the registry; official Docker Hub images get "library/". */
    path: string;
    /** `<registry>/<path>`, e.g. `docker.io/library/postgres`, `localhost:5001/users`. */
    repository: string;
    tag?: string;
    /** `sha256:<hex>` */
    digest?: string;
}

// Both branches name both fields, so the result reads the same without strictNullChecks (the
// program imports the pack's modules through policy/admission, under Pulumi's default compiler options).
export type ParseResult = { ok: true; ref: ImageRef; error?: undefined } | { ok: false; error: string; ref?: undefined };

// The grammar's pieces, as regex sources: the admission policies (policy/admission) build their
// CEL regexes from the same pieces, so both accept exactly the same references.
export const IMAGE_GRAMMAR = {
    tag: String.raw`[\w][\w.-]{0,127}`,
    digest: String.raw`[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}`,
    sha256Digest: String.raw`sha256:[0-9a-f]{64}`,
    pathComponent: String.raw`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`,
    hostName: String.raw`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::\d+)?`,
    hostIpv6: String.raw`\[[0-9a-fA-F:]+\](?::\d+)?`,
} as const;

const TAG = new RegExp(`^${IMAGE_GRAMMAR.tag}$`);
const DIGEST = new RegExp(`^${IMAGE_GRAMMAR.digest}$`);
const SHA256_DIGEST = new RegExp(`^${IMAGE_GRAMMAR.sha256Digest}$`);
const PATH_COMPONENT = new RegExp(`^${IMAGE_GRAMMAR.pathComponent}$`);
const HOST = new RegExp(`^${IMAGE_GRAMMAR.hostName}$|^${IMAGE_GRAMMAR.hostIpv6}$`);

/**
 * Parses an image reference. A colon only introduces a tag when it comes after the last slash,
 * so `repo:5000/app` is registry `repo:5000`, repository `app`, no tag.
 */
export function parseImage(raw: string): ParseResult {
    const image = raw.trim();
    if (image === "") return { ok: false, error: "is empty" };
    if (/\s/.test(image)) return { ok: false, error: "contains whitespace" };
    let rest = image;
    let digest: string | undefined;
    const at = rest.indexOf("@");
    if (at >= 0) {
        digest = rest.slice(at + 1);
        rest = rest.slice(0, at);
        if (!DIGEST.test(digest)) return { ok: false, error: `has a malformed digest "${digest}"` };
        if (digest.startsWith("sha256:") && !SHA256_DIGEST.test(digest)) {
            return { ok: false, error: `has a malformed sha256 digest "${digest}" (needs 64 lowercase hex digits)` };
        }
    }
    let tag: string | undefined;
    const lastColon = rest.lastIndexOf(":");
    const lastSlash = rest.lastIndexOf("/");
    if (lastColon > lastSlash) {
        tag = rest.slice(lastColon + 1);
        rest = rest.slice(0, lastColon);
        if (!TAG.test(tag)) return { ok: false, error: `has an invalid tag "${tag}"` };
    }
    const parts = rest.split("/");
    let registry = "docker.io";
    let explicitRegistry = false;
    const first = parts[0];
    if (parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase())) {
        registry = first;
        explicitRegistry = true;
        parts.shift();
        if (!HOST.test(registry)) return { ok: false, error: `has an invalid registry host "${registry}"` };
    }
    if (registry === "index.docker.io" || registry === "registry-1.docker.io") registry = "docker.io";
    if (parts.length === 0 || parts.some((p) => !PATH_COMPONENT.test(p))) {
        return { ok: false, error: `has an invalid repository name "${parts.join("/")}"` };
    }
    if (registry === "docker.io" && parts.length === 1) parts.unshift("library");
    const path = parts.join("/");
    return { ok: true, ref: { raw, registry, explicitRegistry, path, repository: `${registry}/${path}`, tag, digest } };
}

/**
 * Matches a normalized repository against an allowlist pattern. `*` matches within one path
 * segment or host label run (no `/`), `**` matches anything. A pattern ending in `/` allows
 * everything below it; otherwise it names one repository (and what is nested under it).
 *   `*.dkr.ecr.*.amazonaws.com/`, `*-docker.pkg.dev/`, `localhost:5001/`, `docker.io/library/postgres`
 */
export function matchesRegistryPattern(repository: string, pattern: string): boolean {
    const re = registryPatternRegex(pattern);
    return re !== undefined && new RegExp(re).test(repository);
}

/** The anchored regex source `matchesRegistryPattern` tests a normalized repository with (undefined for an empty pattern). */
export function registryPatternRegex(pattern: string): string | undefined {
    const p = pattern.trim();
    if (p === "") return undefined;
    const body = p
        .split("**")
        .map((chunk) =>
            chunk
                .split("*")
                .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
                .join("[^/]*"),
        )
        .join(".*");
    return p.endsWith("/") ? `^${body}` : `^${body}(?:/.*)?$`;
}

/** The pattern allowing this repository, or undefined. Patterns are normalized like images. */
export function allowedBy(ref: ImageRef, patterns: readonly string[]): string | undefined {
    return patterns.find((pat) => matchesRegistryPattern(ref.repository, normalizePattern(pat)));
}

/** `postgres` -> `docker.io/library/postgres`; patterns naming a registry stay as written. */
export function normalizePattern(pattern: string): string {
    const p = pattern.trim();
    const first = p.split("/")[0];
    const hasRegistry = p.includes("/") && (first.includes(".") || first.includes(":") || first.includes("*") || first === "localhost");
    if (hasRegistry) return p;
    if (!p.includes("/")) return `docker.io/library/${p}`;
    return `docker.io/${p}`;
}
