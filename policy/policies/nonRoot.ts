// Every container of every pod-bearing kind runs as non-root.
import { podSc, sc, workloadPolicy } from "../lib/workloadPolicy";
import { where } from "../lib/workloads";

export const nonRoot = workloadPolicy({
    name: "k8s-non-root",
    description:
        "Every container (including init and ephemeral containers) runs with runAsNonRoot: true, set at pod or container level and not overridden to false, and no runAsUser 0 anywhere.",
    severity: "high",
    enforcementLevel: "mandatory",
    remediationSteps:
        "Set spec.securityContext.runAsNonRoot: true on the pod template (and runAsUser to the image's non-root UID); remove container-level runAsNonRoot: false and runAsUser: 0.",
    check(w, _cfg, report) {
        const pod = podSc(w);
        const podPath = `${w.podSpecPath}.securityContext`;
        if (pod.runAsUser === 0) {
            report(`${w.label}: ${podPath}.runAsUser is 0 (root); set it to the image's non-root UID (e.g. 10001) or remove it`);
        }
        for (const c of w.containers) {
            const s = sc(c);
            const at = where(c, w);
            if (s.runAsNonRoot === false) {
                report(
                    pod.runAsNonRoot === true
                        ? `${at}: securityContext.runAsNonRoot is false at container level (overrides the pod level); set it to true or remove the override`
                        : `${at}: securityContext.runAsNonRoot is false; set it to true (or remove it and set ${podPath}.runAsNonRoot: true)`,
                );
            } else if (s.runAsNonRoot !== true && pod.runAsNonRoot !== true) {
                report(
                    pod.runAsNonRoot === false
                        ? `${at}: ${podPath}.runAsNonRoot is false and the container does not set securityContext.runAsNonRoot; set ${podPath}.runAsNonRoot: true`
                        : `${at}: runAsNonRoot is not set at pod level (${podPath}.runAsNonRoot) or container level (securityContext.runAsNonRoot); set ${podPath}.runAsNonRoot: true`,
                );
            }
            if (s.runAsUser === 0) {
                report(`${at}: securityContext.runAsUser is 0 (root); set it to a non-zero UID (e.g. 10001) or remove it`);
            }
        }
    },
});
