// Restricted security context per container: no privilege escalation, capabilities dropped,
// not privileged, seccomp RuntimeDefault, read-only root filesystem.
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { stringList } from "../lib/config";
import { asArray, isObj } from "../lib/k8s";
import { podSc, sc, workloadPolicy } from "../lib/workloadPolicy";
import { where } from "../lib/workloads";

export const noPrivilegeEscalation = workloadPolicy({
    name: "k8s-no-privilege-escalation",
    description: "Every container sets securityContext.allowPrivilegeEscalation: false.",
    severity: "high",
    enforcementLevel: "mandatory",
    check(w, _cfg, report) {
        for (const c of w.containers) {
            const v = sc(c).allowPrivilegeEscalation;
            if (v !== false) {
                report(
                    `${where(c, w)}: securityContext.allowPrivilegeEscalation is ${v === true ? "true" : "not set (defaults to true)"}; set ${c.path}.securityContext.allowPrivilegeEscalation: false`,
                );
            }
        }
    },
});

const normCap = (c: unknown) => String(c).toUpperCase().replace(/^CAP_/, "");

interface CapabilitiesConfig {
    allowedAddedCapabilities: string[];
}

export const dropCapabilities = workloadPolicy<CapabilitiesConfig>({
    name: "k8s-drop-capabilities",
    description: "Every container drops ALL capabilities and adds none beyond an allowlist (default NET_BIND_SERVICE).",
    severity: "high",
    enforcementLevel: "mandatory",
    config: {
        allowedAddedCapabilities: stringList("Capabilities containers may add back after dropping ALL.", ["NET_BIND_SERVICE"]),
    },
    check(w, cfg, report) {
        const allowed = new Set(cfg.allowedAddedCapabilities.map(normCap));
        for (const c of w.containers) {
            const caps = isObj(sc(c).capabilities) ? sc(c).capabilities : {};
            const drop = asArray(caps.drop).map(normCap);
            if (!drop.includes("ALL")) {
                report(
                    `${where(c, w)}: securityContext.capabilities.drop does not include "ALL"; set ${c.path}.securityContext.capabilities.drop: ["ALL"]`,
                );
            }
            const bad = asArray(caps.add).filter((a) => !allowed.has(normCap(a)));
            if (bad.length > 0) {
                report(
                    `${where(c, w)}: securityContext.capabilities.add grants ${bad.map((b) => `"${b}"`).join(", ")}; remove ${bad.length > 1 ? "them" : "it"} (allowed: ${[...allowed].join(", ") || "none"})`,
                );
            }
        }
    },
});

export const noPrivileged = workloadPolicy({
    name: "k8s-no-privileged",
    description: "No container runs privileged.",
    severity: "critical",
    enforcementLevel: "mandatory",
    check(w, _cfg, report) {
        for (const c of w.containers) {
            if (sc(c).privileged === true) {
                report(`${where(c, w)}: securityContext.privileged is true; remove it or set ${c.path}.securityContext.privileged: false`);
            }
        }
    },
});

interface SeccompConfig {
    allowedProfiles: string[];
}

export const seccomp = workloadPolicy<SeccompConfig>({
    name: "k8s-seccomp",
    description: "Every container runs with a seccomp profile of type RuntimeDefault (or Localhost), set at pod or container level.",
    severity: "medium",
    enforcementLevel: "mandatory",
    config: {
        allowedProfiles: stringList("Accepted seccompProfile.type values.", ["RuntimeDefault", "Localhost"]),
    },
    check(w, cfg, report) {
        const podType = isObj(podSc(w).seccompProfile) ? podSc(w).seccompProfile.type : undefined;
        const podPath = `${w.podSpecPath}.securityContext.seccompProfile.type`;
        for (const c of w.containers) {
            const own = isObj(sc(c).seccompProfile) ? sc(c).seccompProfile.type : undefined;
            const effective = own ?? podType;
            if (effective === undefined) {
                report(`${where(c, w)}: no seccomp profile at pod or container level; set ${podPath}: RuntimeDefault`);
            } else if (!cfg.allowedProfiles.includes(effective)) {
                report(
                    own !== undefined
                        ? `${where(c, w)}: securityContext.seccompProfile.type is "${own}"${podType !== undefined ? " at container level (overrides the pod level)" : ""}; set it to RuntimeDefault or remove the override`
                        : `${where(c, w)}: ${podPath} is "${podType}"; set it to RuntimeDefault`,
                );
            }
        }
    },
});

export const readOnlyRootFilesystem = workloadPolicy({
    name: "k8s-read-only-root-fs",
    description: "Every container sets securityContext.readOnlyRootFilesystem: true (write to emptyDir volumes instead).",
    severity: "medium",
    enforcementLevel: "mandatory",
    check(w, _cfg, report) {
        for (const c of w.containers) {
            if (sc(c).readOnlyRootFilesystem !== true) {
                report(
                    `${where(c, w)}: securityContext.readOnlyRootFilesystem is ${sc(c).readOnlyRootFilesystem === false ? "false" : "not set"}; set ${c.path}.securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the process writes (e.g. /tmp)`,
                );
            }
        }
    },
});

interface HostConfig {
    allowHostPorts: boolean;
}

const hostConfig: Record<string, PolicyConfigJSONSchema> = {
    allowHostPorts: { type: "boolean", default: false, description: "Allow containers to bind host ports (ports[].hostPort)." },
};

export const noHostAccess = workloadPolicy<HostConfig>({
    name: "k8s-no-host-access",
    description: "Pods share no host namespace (hostNetwork, hostPID, hostIPC), mount no hostPath volumes and bind no host ports.",
    severity: "high",
    enforcementLevel: "mandatory",
    config: hostConfig,
    check(w, cfg, report) {
        for (const field of ["hostNetwork", "hostPID", "hostIPC"]) {
            if (w.podSpec[field] === true)
                report(`${w.label}: ${w.podSpecPath}.${field} is true; remove it (pods must not share the node's namespaces)`);
        }
        asArray(w.podSpec.volumes).forEach((v: unknown, i) => {
            if (isObj(v) && isObj(v.hostPath)) {
                report(
                    `${w.label}: volume "${v.name}" (${w.podSpecPath}.volumes[${i}]) is a hostPath of ${JSON.stringify(v.hostPath.path)}; use an emptyDir, a ConfigMap/Secret or a PersistentVolumeClaim instead`,
                );
            }
        });
        if (cfg.allowHostPorts) return;
        for (const c of w.containers) {
            asArray(c.container.ports).forEach((p: unknown, i) => {
                if (isObj(p) && p.hostPort !== undefined && p.hostPort !== null && p.hostPort !== 0) {
                    report(`${where(c, w)}: ports[${i}].hostPort is ${p.hostPort}; remove it and expose the port through a Service`);
                }
            });
        }
    },
});
