// Shared pieces of the workload tests: the shipped stacks' config and app catalog, and the part of a
// full program run (runStack, the real wiring) that the app-facing components registered.
import type { AppCatalog } from "../../components/config";
import { appCatalog, CapturedResource, makeRun, ProgramRun, stackConfig } from "../harness";

export { stackConfig };
export const catalog: AppCatalog = appCatalog;

/**
 * The components these tests look at: namespaces, database, apps, NetworkPolicies and the mesh-off
 * edge. Their type tokens keep the `workloads` module name they were first registered under: a
 * type token is part of every child's URN, so renaming it would replace the deployed objects.
 */
export const WORKLOAD_COMPONENTS = ["AppNamespaces", "Postgres", "MicroService", "NetworkPolicies", "IngressEdge"].map(
    (name) => `orders-platform:workloads:${name}`,
);

const views = new WeakMap<ProgramRun<any>, ProgramRun<any>>();

/** The run narrowed to WORKLOAD_COMPONENTS and everything below them (resources and the warnings logged on them). */
export function workloadsOf<T>(run: ProgramRun<T>): ProgramRun<T> {
    let view = views.get(run);
    if (!view) {
        const inside = new Set<string>();
        const resources: CapturedResource[] = [];
        // Parents register before their children, so one pass in registration order finds every descendant.
        for (const r of run.resources) {
            if (WORKLOAD_COMPONENTS.includes(r.type) || (r.parent !== undefined && inside.has(r.parent))) {
                inside.add(r.urn);
                resources.push(r);
            }
        }
        const sources = run.warningSources.filter((w) => w.urn !== undefined && inside.has(w.urn));
        view = makeRun(
            resources,
            run.outputs,
            sources.map((w) => w.message),
            sources,
        );
        views.set(run, view);
    }
    return view as ProgramRun<T>;
}

/** The password a RandomPassword named `name` resolves to under the shared mocks. */
export function mockPassword(name: string, length = 32): string {
    return `mock-pw-${name}`.padEnd(length, "x").slice(0, length);
}

export const POD_KINDS = [
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:batch/v1:Job",
    "kubernetes:batch/v1:CronJob",
];

export function podTemplate(r: CapturedResource): any {
    return r.inputs.kind === "CronJob" ? r.inputs.spec.jobTemplate.spec.template : r.inputs.spec.template;
}
