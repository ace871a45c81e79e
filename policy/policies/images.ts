// Every image is pinned (a tag other than `latest`, or a digest) and comes from an allowed registry.
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { stringList } from "../lib/config";
import { allowedBy, parseImage } from "../lib/images";
import { workloadPolicy } from "../lib/workloadPolicy";
import { where } from "../lib/workloads";

interface DigestExemption {
    repository: string;
    reason: string;
}

interface ImagesConfig {
    allowedRegistries: string[];
    forbiddenTags: string[];
    requireDigest: boolean;
    digestExemptions: DigestExemption[];
}

const config: Record<string, PolicyConfigJSONSchema> = {
    allowedRegistries: stringList(
        "Image repositories allowed, as prefix/glob patterns against the normalized repository (`*` = within one segment, `**` = anything, trailing `/` = everything below): e.g. `*.dkr.ecr.*.amazonaws.com/`, `localhost:5001/`, `docker.io/library/postgres`. Empty = any registry.",
        [],
    ),
    forbiddenTags: stringList("Moving tags that do not pin an image (compared case-insensitively).", ["latest"]),
    requireDigest: { type: "boolean", default: false, description: "Require every image to be referenced by digest." },
    digestExemptions: {
        type: "array",
        default: [],
        description:
            "Repositories (allowlist patterns) that may be referenced by tag alone although requireDigest is set, each with the reason (e.g. rendered by a chart pinned by version): { repository, reason }.",
        items: {
            type: "object",
            required: ["repository", "reason"],
            properties: { repository: { type: "string" }, reason: { type: "string" } },
        },
    },
};

export const noLatestImage = workloadPolicy<ImagesConfig>({
    name: "k8s-no-latest-image",
    description:
        "Every container image has an explicit tag that is not `latest` (or a digest), and comes from a registry on the stack's allowlist.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Reference images as <registry>/<repo>:<version> or <registry>/<repo>@sha256:<digest>, pushed to one of the allowed registries.",
    config,
    check(w, cfg, report) {
        const forbidden = cfg.forbiddenTags.map((t) => t.toLowerCase());
        for (const c of w.containers) {
            const at = where(c, w);
            const image = c.container.image;
            if (typeof image !== "string" || image.trim() === "") {
                report(`${at}: image is not set (${c.path}.image); set a pinned image such as registry/app:1.2.3`);
                continue;
            }
            const parsed = parseImage(image);
            if (!parsed.ok) {
                report(
                    `${at}: image "${image}" ${parsed.error}; use <registry>/<repository>:<tag> or <registry>/<repository>@sha256:<digest>`,
                );
                continue;
            }
            const ref = parsed.ref;
            let base = image.trim().replace(/@.*$/, "");
            if (ref.tag !== undefined) base = base.slice(0, base.length - ref.tag.length - 1);
            const digestExempt = allowedBy(
                ref,
                cfg.digestExemptions.map((e) => e.repository),
            );
            if (cfg.requireDigest && !ref.digest && !digestExempt) {
                report(`${at}: image "${image}" is not pinned by digest (${c.path}.image); reference it as ${base}@sha256:<digest>`);
            } else if (!ref.digest && ref.tag === undefined) {
                report(
                    `${at}: image "${image}" has no tag or digest, so it resolves to ":latest" (${c.path}.image); pin it as ${base}:<version> or ${base}@sha256:<digest>`,
                );
            } else if (!ref.digest && ref.tag !== undefined && forbidden.includes(ref.tag.toLowerCase())) {
                report(
                    `${at}: image "${image}" uses the moving tag "${ref.tag}" (${c.path}.image); pin it as ${base}:<version> or ${base}@sha256:<digest>`,
                );
            }
            if (cfg.allowedRegistries.length > 0 && !allowedBy(ref, cfg.allowedRegistries)) {
                report(
                    `${at}: image "${image}" (repository ${ref.repository}) is not from an allowed registry (${c.path}.image); allowed: ${cfg.allowedRegistries.join(", ")} — push it to one of them or add the registry to allowedRegistries in the policy config`,
                );
            }
        }
    },
});
