// Prints the pinned versions of components/versions.ts as `key=value` lines, for shell scripts and
// workflows (`>> "$GITHUB_OUTPUT"`), so they never pin a version of their own.
//   tsx scripts/versions.ts            every key
//   tsx scripts/versions.ts kind       one value
import { CHARTS, EKS, IMAGES, imageReference, TOOLS } from "../components/versions";

export function versionOutputs(): Record<string, string> {
    return {
        kind: TOOLS.kind.version,
        kubectl: TOOLS.kubectl.version,
        trivy: TOOLS.trivy.version,
        "kind-node-image": imageReference(IMAGES.kindNode),
        "eks-kubernetes": EKS.version,
        istio: CHARTS.istio.version,
    };
}

if (require.main === module) {
    const outputs = versionOutputs();
    const key = process.argv[2];
    if (key === undefined) {
        for (const [k, v] of Object.entries(outputs)) process.stdout.write(`${k}=${v}\n`);
    } else if (key in outputs) {
        process.stdout.write(`${outputs[key]}\n`);
    } else {
        process.stderr.write(`unknown key "${key}"; keys: ${Object.keys(outputs).join(", ")}\n`);
        process.exitCode = 2;
    }
}
