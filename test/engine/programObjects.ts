// Prints what the program itself declares for a stack in render mode, under Pulumi mocks, as JSON:
// its Kubernetes objects (apiVersion, kind, namespace, name) and the namespaces of its Helm charts.
// The real-engine render test compares the rendered directory with it. Run in a process of its
// own (the mocks and the Automation API cannot share one):
//   tsx test/engine/programObjects.ts <stack> '<overrides as JSON>'
import { RENDER_DIR_ENV } from "../../components/config";
import { kubernetesObjects, runStack } from "../harness";

export interface ObjectIdentity {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string };
}

export interface ProgramObjects {
    objects: ObjectIdentity[];
    chartNamespaces: string[];
}

async function main(): Promise<void> {
    const [stack, overrides] = process.argv.slice(2);
    // Render mode, so the program takes the same branches it takes when rendering for real.
    process.env[RENDER_DIR_ENV] ??= "/nonexistent/render";
    const run = await runStack(stack, JSON.parse(overrides ?? "{}") as Record<string, unknown>);
    const result: ProgramObjects = {
        objects: kubernetesObjects(run.resources).map((r) => ({
            apiVersion: r.inputs.apiVersion,
            kind: r.inputs.kind,
            metadata: { name: r.inputs.metadata.name, ...(r.inputs.metadata.namespace ? { namespace: r.inputs.metadata.namespace } : {}) },
        })),
        chartNamespaces: [...new Set(run.byType("kubernetes:helm.sh/v4:Chart").map((c) => String(c.inputs.namespace)))].sort(),
    };
    process.stdout.write(JSON.stringify(result) + "\n");
}

if (require.main === module) {
    main().catch((err: Error) => {
        process.stderr.write(`${err.stack ?? err.message}\n`);
        process.exitCode = 1;
    });
}
