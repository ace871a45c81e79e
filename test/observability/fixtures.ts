// Shared inputs of the observability tests: shipped stack configs and the component run under mocks.
import * as k8s from "@pulumi/kubernetes";
import type { AppCatalog } from "../../components/config";
import { Observability } from "../../components/observability";
import { appCatalog, CapturedResource, ProgramRun, runProgram, stackConfig } from "../harness";

export { stackConfig };
export const catalog: AppCatalog = appCatalog;

export const STORAGE_CLASS = "fast-ssd";

export interface ObservabilityOutputs {
    otlpEndpoint: string | undefined;
    grafanaUrl: string;
    jaegerUrl: string;
    prometheusUrl: string;
}

/** Runs the component the way index.ts does, for a shipped stack plus overrides. */
export function runObservability(stack: string, overrides: Record<string, unknown> = {}): Promise<ProgramRun<ObservabilityOutputs>> {
    const config = stackConfig(stack, overrides);
    return runProgram(
        () => {
            const provider = new k8s.Provider("k8s", {});
            const o = new Observability(
                "observability",
                {
                    environment: config.environment,
                    config: config.observability,
                    mesh: config.mesh,
                    storageClassName: STORAGE_CLASS,
                    images: config.images,
                    catalog,
                    charts: config.charts,
                },
                { provider },
            );
            return { otlpEndpoint: o.otlpEndpoint, grafanaUrl: o.grafanaUrl, jaegerUrl: o.jaegerUrl, prometheusUrl: o.prometheusUrl };
        },
        { stack },
    ) as unknown as Promise<ProgramRun<ObservabilityOutputs>>;
}

export const CHART = "kubernetes:helm.sh/v4:Chart";
export const POD_MONITOR = "kubernetes:monitoring.coreos.com/v1:PodMonitor";
export const SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor";

export function chart(run: ProgramRun<unknown>, release: string): CapturedResource | undefined {
    return run.byType(CHART).find((r) => r.inputs.name === release);
}

export function monitors(run: ProgramRun<unknown>): CapturedResource[] {
    return [...run.byType(POD_MONITOR), ...run.byType(SERVICE_MONITOR)];
}
