// Prints the pinned versions of components/versions.ts (and the Pulumi CLI of the lockfile) as
// `key=value` lines, for shell scripts and workflows (`>> "$GITHUB_OUTPUT"`), so they never pin a
// version of their own.
//   tsx scripts/versions.ts            every key
//   tsx scripts/versions.ts kind       one value
import * as fs from "node:fs";
import * as path from "node:path";
import { CHARTS, EKS, IMAGES, imageReference, TOOLS } from "../components/versions";

/** The `pulumi` CLI package locked in package-lock.json: the CLI CI runs is the one the tests ran. */
export function lockedPulumiCli(root = path.resolve(__dirname, "..")): string {
    const lock = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8")) as {
        packages?: Record<string, { version?: string }>;
    };
    const version = lock.packages?.["node_modules/pulumi"]?.version;
    if (!version) throw new Error('package-lock.json locks no "pulumi" package');
    return version;
}

export function versionOutputs(): Record<string, string> {
    return {
        kind: TOOLS.kind.version,
        kubectl: TOOLS.kubectl.version,
        trivy: TOOLS.trivy.version,
        "kind-node-image": imageReference(IMAGES.kindNode),
        "eks-kubernetes": EKS.version,
        istio: CHARTS.istio.version,
        /** The program's PostgreSQL image; CI's test database runs the same one. */
        "postgres-image": imageReference(IMAGES.postgres),
        pulumi: lockedPulumiCli(),
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
