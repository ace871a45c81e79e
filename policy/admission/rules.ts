// The pack's workload rules as CEL validations for ValidatingAdmissionPolicies. Each builder takes
// the same resolved config the pack's policy gets (schema defaults + policy/config/<env>.json)
// and reuses the pack's own constants (image grammar, registry patterns, probe handlers, pod spec
// paths), so a config change moves both. test/admission/agreement.test.ts runs the pack and these
// validations over the same fixtures and fails on any difference.
//
// Variables every validation can use (defined in generate.ts):
//   variables.podSpec     the pod spec of any pod-bearing kind
//   variables.containers  init, regular and ephemeral containers (only the ephemeral ones when
//                         the request is the pods/ephemeralcontainers subresource)
//   variables.workloadContainers  init and regular containers (none on that subresource)
//   variables.podLevel    false on that subresource: the pod spec itself cannot change there
//   variables.images      one {name, image, repo} per container; repo is normalized like the pack's
//   variables.workload    "Deployment orders-apps/users", for messages
import { IMAGE_GRAMMAR, normalizePattern, registryPatternRegex } from "../lib/images";
import { and, fieldOr, hasPath, isBool, or, str, strList } from "./cel";

export interface CelValidation {
    /** The pack policy this validation belongs to (also the first word of its message). */
    policy: string;
    expression: string;
    messageExpression: string;
    /** Shown when messageExpression fails. */
    message: string;
}

type Config = Record<string, any>;
type Builder = (cfg: Config) => Array<Omit<CelValidation, "policy">>;

const PS = "variables.podSpec";
const sc = (c: string, ...path: string[]) => ["securityContext", ...path].reduce((acc, p) => `${acc}.${p}`, c);

/** `"a", "b"` for the containers of `list` failing `ok` (iteration variable `c`). */
function offenders(list: string, ok: string): string {
    return `${list}.filter(c, !(${ok})).map(c, '"' + c.name + '"').join(', ')`;
}

function msg(policy: string, detail: string): string {
    return `${str(`${policy}: `)} + variables.workload + ${str(": ")} + ${detail}`;
}

// --- images ---------------------------------------------------------------------------------

const G = IMAGE_GRAMMAR;
/** A whole reference the pack's parser accepts (RE2 has no lookahead: the sha256 length is a second test). */
const IMAGE_REF = [
    "^(?:",
    `(?:${G.hostName}|${G.hostIpv6})/${G.pathComponent}(?:/${G.pathComponent})*`,
    // Without a registry the first of several segments holds no dot (a dot would make it a host).
    `|[a-z0-9]+(?:(?:_|__|-+)[a-z0-9]+)*(?:/${G.pathComponent})+`,
    `|${G.pathComponent}`,
    `)(?::${G.tag})?(?:@${G.digest})?$`,
].join("");

export function validImage(x: string): string {
    return `(${x}.matches(${str(IMAGE_REF)}) && (!${x}.contains('@sha256:') || ${x}.matches(${str(`@${G.sha256Digest}$`)})))`;
}

/**
 * The normalized repository of a valid reference (`postgres:17` -> `docker.io/library/postgres`),
 * as parseImage computes it. Written out without cel.bind (not available to every evaluator), so
 * it repeats subexpressions; it runs once per container.
 */
export function normalizedRepository(x: string): string {
    const noDigest = `(${x}.contains('@') ? ${x}.substring(0, ${x}.indexOf('@')) : ${x})`;
    const r = `(${noDigest}.lastIndexOf(':') > ${noDigest}.lastIndexOf('/') ? ${noDigest}.substring(0, ${noDigest}.lastIndexOf(':')) : ${noDigest})`;
    const first = `${r}.split('/')[0]`;
    const hasRegistry = `(${r}.contains('/') && (${first}.contains('.') || ${first}.contains(':') || ${first} == 'localhost' || ${first} != ${first}.lowerAscii()))`;
    const dockerHost = `(${first} == 'docker.io' || ${first} == 'index.docker.io' || ${first} == 'registry-1.docker.io')`;
    const rest = `${r}.substring(size(${first}) + 1)`;
    const withRegistry = `(${dockerHost} ? (${rest}.contains('/') ? 'docker.io/' + ${rest} : 'docker.io/library/' + ${rest}) : ${r})`;
    const withoutRegistry = `(${r}.contains('/') ? 'docker.io/' + ${r} : 'docker.io/library/' + ${r})`;
    return `(${hasRegistry} ? ${withRegistry} : ${withoutRegistry})`;
}

/** One RE2 alternation of allowlist patterns, over normalized repositories. */
export function patternsRegex(patterns: readonly string[]): string {
    const res = patterns.map((p) => registryPatternRegex(normalizePattern(p))).filter((r): r is string => r !== undefined);
    return res.length === 0 ? "^$.^" : res.map((r) => `(?:${r})`).join("|");
}

const escapeRe = (s: string) => s.replace(/[.+?^${}()|[\]\\*]/g, "\\$&");

const images: Builder = (cfg) => {
    const out: Array<Omit<CelValidation, "policy">> = [];
    const set = `${hasPath("c", "image")} && c.image != '' && ${validImage("c.image")}`;
    out.push({
        expression: `variables.containers.all(c, ${set})`,
        messageExpression: msg(
            "k8s-no-latest-image",
            `${offenders("variables.containers", set)} + ' has no image or a malformed one; use <registry>/<repository>:<tag> or <registry>/<repository>@sha256:<digest>'`,
        ),
        message: "k8s-no-latest-image: a container has no image or a malformed one",
    });
    const usable = `i.image == '' || !${validImage("i.image")}`;
    const forbidden = (cfg.forbiddenTags as string[]).map((t) => escapeRe(t.toLowerCase()));
    const tagOk =
        forbidden.length > 0
            ? `i.image.matches(':[^/]+$') && !i.image.lowerAscii().matches(${str(`^[^@]*:(?:${forbidden.join("|")})$`)})`
            : `i.image.matches(':[^/]+$')`;
    const pinned = `${usable} || i.image.contains('@') || (${tagOk})`;
    out.push({
        expression: `variables.images.all(i, ${pinned})`,
        messageExpression: msg(
            "k8s-no-latest-image",
            `variables.images.filter(i, !(${pinned})).map(i, 'image "' + i.image + '" of "' + i.name + '"').join(', ') + ' has no tag or a moving tag (${(cfg.forbiddenTags as string[]).join(", ")}); pin it as <repository>:<version> or <repository>@sha256:<digest>'`,
        ),
        message: "k8s-no-latest-image: an image is not pinned",
    });
    if (cfg.requireDigest === true) {
        const exempt = (cfg.digestExemptions as Array<{ repository: string }>).map((e) => e.repository);
        const digestOk = `${usable} || i.image.contains('@')${exempt.length > 0 ? ` || i.repo.matches(${str(patternsRegex(exempt))})` : ""}`;
        out.push({
            expression: `variables.images.all(i, ${digestOk})`,
            messageExpression: msg(
                "k8s-no-latest-image",
                `variables.images.filter(i, !(${digestOk})).map(i, 'image "' + i.image + '" of "' + i.name + '"').join(', ') + ' is not pinned by digest; reference it as <repository>@sha256:<digest>'`,
            ),
            message: "k8s-no-latest-image: an image is not pinned by digest",
        });
    }
    const allowed = cfg.allowedRegistries as string[];
    if (allowed.length > 0) {
        const ok = `${usable} || i.repo.matches(${str(patternsRegex(allowed))})`;
        out.push({
            expression: `variables.images.all(i, ${ok})`,
            messageExpression: msg(
                "k8s-no-latest-image",
                `variables.images.filter(i, !(${ok})).map(i, 'image "' + i.image + '" of "' + i.name + '" (repository ' + i.repo + ')').join(', ') + ${str(` is not from an allowed registry; allowed: ${allowed.join(", ")}`)}`,
            ),
            message: "k8s-no-latest-image: an image is not from an allowed registry",
        });
    }
    return out;
};

// --- security context -----------------------------------------------------------------------

const nonRoot: Builder = () => {
    const podNonRoot = isBool(PS, ["securityContext", "runAsNonRoot"], true);
    const ok = `(${hasPath("c", "securityContext", "runAsNonRoot")} ? ${sc("c", "runAsNonRoot")} == true : ${podNonRoot}) && !(${hasPath("c", "securityContext", "runAsUser")} && ${sc("c", "runAsUser")} == 0)`;
    return [
        {
            expression: `!variables.podLevel || !(${hasPath(PS, "securityContext", "runAsUser")} && ${PS}.securityContext.runAsUser == 0)`,
            messageExpression: msg("k8s-non-root", `'spec.securityContext.runAsUser is 0 (root); set it to the image\\'s non-root UID'`),
            message: "k8s-non-root: the pod runs as UID 0",
        },
        {
            expression: `variables.containers.all(c, ${ok})`,
            messageExpression: msg(
                "k8s-non-root",
                `'container ' + ${offenders("variables.containers", ok)} + ' may run as root: set runAsNonRoot: true (pod or container level) and no runAsUser 0'`,
            ),
            message: "k8s-non-root: a container may run as root",
        },
    ];
};

const noPrivilegeEscalation: Builder = () => {
    const ok = isBool("c", ["securityContext", "allowPrivilegeEscalation"], false);
    return [
        {
            expression: `variables.containers.all(c, ${ok})`,
            messageExpression: msg(
                "k8s-no-privilege-escalation",
                `'container ' + ${offenders("variables.containers", ok)} + ' must set securityContext.allowPrivilegeEscalation: false'`,
            ),
            message: "k8s-no-privilege-escalation: a container may escalate privileges",
        },
    ];
};

const normCap = (v: string) => `(${v}.upperAscii().startsWith('CAP_') ? ${v}.upperAscii().substring(4) : ${v}.upperAscii())`;

const dropCapabilities: Builder = (cfg) => {
    const allowed = [...new Set((cfg.allowedAddedCapabilities as string[]).map((c) => c.toUpperCase().replace(/^CAP_/, "")))];
    const drops = `${hasPath("c", "securityContext", "capabilities", "drop")} && ${sc("c", "capabilities", "drop")}.exists(d, ${normCap("d")} == 'ALL')`;
    const adds = `!(${hasPath("c", "securityContext", "capabilities", "add")}) || ${sc("c", "capabilities", "add")}.all(a, ${normCap("a")} in ${strList(allowed)})`;
    return [
        {
            expression: `variables.containers.all(c, ${drops})`,
            messageExpression: msg(
                "k8s-drop-capabilities",
                `'container ' + ${offenders("variables.containers", drops)} + ' must drop ALL capabilities (securityContext.capabilities.drop: ["ALL"])'`,
            ),
            message: "k8s-drop-capabilities: a container does not drop ALL capabilities",
        },
        {
            expression: `variables.containers.all(c, ${adds})`,
            messageExpression: msg(
                "k8s-drop-capabilities",
                `'container ' + ${offenders("variables.containers", adds)} + ${str(` adds a capability beyond the allowlist (allowed: ${allowed.join(", ") || "none"})`)}`,
            ),
            message: "k8s-drop-capabilities: a container adds a capability beyond the allowlist",
        },
    ];
};

const noPrivileged: Builder = () => {
    const ok = `!${isBool("c", ["securityContext", "privileged"], true)}`;
    return [
        {
            expression: `variables.containers.all(c, ${ok})`,
            messageExpression: msg(
                "k8s-no-privileged",
                `'container ' + ${offenders("variables.containers", ok)} + ' is privileged; remove securityContext.privileged'`,
            ),
            message: "k8s-no-privileged: a container is privileged",
        },
    ];
};

const seccomp: Builder = (cfg) => {
    const allowed = strList(cfg.allowedProfiles as string[]);
    const own = hasPath("c", "securityContext", "seccompProfile", "type");
    const pod = `(${hasPath(PS, "securityContext", "seccompProfile", "type")} && ${PS}.securityContext.seccompProfile.type in ${allowed})`;
    const ok = `${own} ? ${sc("c", "seccompProfile", "type")} in ${allowed} : ${pod}`;
    return [
        {
            expression: `variables.containers.all(c, ${ok})`,
            messageExpression: msg(
                "k8s-seccomp",
                `'container ' + ${offenders("variables.containers", ok)} + ${str(` runs without an allowed seccomp profile (${(cfg.allowedProfiles as string[]).join(", ")}); set spec.securityContext.seccompProfile.type: RuntimeDefault`)}`,
            ),
            message: "k8s-seccomp: a container runs without an allowed seccomp profile",
        },
    ];
};

const readOnlyRootFilesystem: Builder = () => {
    const ok = isBool("c", ["securityContext", "readOnlyRootFilesystem"], true);
    return [
        {
            expression: `variables.containers.all(c, ${ok})`,
            messageExpression: msg(
                "k8s-read-only-root-fs",
                `'container ' + ${offenders("variables.containers", ok)} + ' must set securityContext.readOnlyRootFilesystem: true (mount an emptyDir where it writes)'`,
            ),
            message: "k8s-read-only-root-fs: a container has a writable root filesystem",
        },
    ];
};

const noHostAccess: Builder = (cfg) => {
    const namespaces = ["hostNetwork", "hostPID", "hostIPC"];
    const out: Array<Omit<CelValidation, "policy">> = [
        {
            expression: `!variables.podLevel || !(${or(namespaces.map((f) => isBool(PS, [f], true)))})`,
            messageExpression: msg(
                "k8s-no-host-access",
                `${strList(namespaces)}.filter(f, f == 'hostNetwork' ? ${isBool(PS, ["hostNetwork"], true)} : f == 'hostPID' ? ${isBool(PS, ["hostPID"], true)} : ${isBool(PS, ["hostIPC"], true)}).join(', ') + ' must not be set: pods must not share the node\\'s namespaces'`,
            ),
            message: "k8s-no-host-access: the pod shares a host namespace",
        },
        {
            expression: `!variables.podLevel || !has(${PS}.volumes) || ${PS}.volumes.all(v, !has(v.hostPath))`,
            messageExpression: msg(
                "k8s-no-host-access",
                `'volume ' + ${PS}.volumes.filter(v, has(v.hostPath)).map(v, '"' + v.name + '" (hostPath ' + v.hostPath.path + ')').join(', ') + ' mounts the node\\'s filesystem; use an emptyDir, a ConfigMap/Secret or a PersistentVolumeClaim'`,
            ),
            message: "k8s-no-host-access: the pod mounts a hostPath volume",
        },
    ];
    if (cfg.allowHostPorts !== true) {
        const ok = `!has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0)`;
        out.push({
            expression: `variables.containers.all(c, ${ok})`,
            messageExpression: msg(
                "k8s-no-host-access",
                `'container ' + ${offenders("variables.containers", ok)} + ' binds a host port; expose it through a Service'`,
            ),
            message: "k8s-no-host-access: a container binds a host port",
        });
    }
    return out;
};

// --- probes and resources -------------------------------------------------------------------

/** Probe handlers the pack accepts (policies/probes.ts). */
export const PROBE_HANDLERS = ["httpGet", "tcpSocket", "exec", "grpc"] as const;

const probes: Builder = (cfg) => {
    const wanted = ["readinessProbe", "livenessProbe", ...(cfg.requireStartupProbe === true ? ["startupProbe"] : [])];
    const probe = (f: string) => `(has(c.${f}) && (${PROBE_HANDLERS.map((h) => `has(c.${f}.${h})`).join(" || ")}))`;
    const ok = and(wanted.map(probe));
    // Regular containers and native sidecars (init containers with restartPolicy Always) run as long as the pod.
    const longRunning = `(variables.podLevel ? ${fieldOr(PS, ["containers"], "[]")} + ${fieldOr(PS, ["initContainers"], "[]")}.filter(c, has(c.restartPolicy) && c.restartPolicy == 'Always') : [])`;
    return [
        {
            expression: `!(object.kind in ${strList(cfg.kinds as string[])}) || ${longRunning}.all(c, ${ok})`,
            messageExpression: msg(
                "k8s-probes",
                `'container ' + ${offenders(longRunning, ok)} + ${str(` needs ${wanted.join(" and ")} with an httpGet, tcpSocket, exec or grpc handler`)}`,
            ),
            message: "k8s-probes: a long-running container lacks a probe",
        },
    ];
};

const resourceLimits: Builder = (cfg) => {
    const present = (kind: "requests" | "limits", r: string) =>
        `(${hasPath("c", "resources", kind)} && ${str(r)} in c.resources.${kind} && string(c.resources.${kind}[${str(r)}]) != '')`;
    const ok = and([
        ...(cfg.requests as string[]).map((r) => present("requests", r)),
        ...(cfg.limits as string[]).map((r) => present("limits", r)),
    ]);
    return [
        {
            expression: `variables.workloadContainers.all(c, ${ok})`,
            messageExpression: msg(
                "k8s-resources",
                `'container ' + ${offenders("variables.workloadContainers", ok)} + ${str(` must set requests (${(cfg.requests as string[]).join(", ")}) and limits (${(cfg.limits as string[]).join(", ")})`)}`,
            ),
            message: "k8s-resources: a container lacks resource requests or limits",
        },
    ];
    // requests <= limits is not repeated here: the API server's own validation refuses a
    // container whose request exceeds its limit (Pods and every pod template).
};

/** The CEL side of every workload policy of the pack, by policy name. */
export const CEL_RULES: Readonly<Record<string, Builder>> = {
    "k8s-non-root": nonRoot,
    "k8s-no-latest-image": images,
    "k8s-probes": probes,
    "k8s-resources": resourceLimits,
    "k8s-no-privilege-escalation": noPrivilegeEscalation,
    "k8s-drop-capabilities": dropCapabilities,
    "k8s-no-privileged": noPrivileged,
    "k8s-no-host-access": noHostAccess,
    "k8s-seccomp": seccomp,
    "k8s-read-only-root-fs": readOnlyRootFilesystem,
};

/** The validations of one workload policy under its resolved config. */
export function celValidations(policy: string, config: Config): CelValidation[] {
    const build = CEL_RULES[policy];
    if (!build) throw new Error(`no CEL rule for policy ${policy}`);
    return build(config).map((v) => ({ policy, ...v }));
}
