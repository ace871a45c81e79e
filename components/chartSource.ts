// Where a Helm chart comes from: a Helm repository, an OCI registry or a local directory
// (a mirror, an air-gapped copy, or the stand-in charts of the real-engine tests).
import * as path from "node:path";
import type { ChartPin } from "./versions";

export type ChartSource = { kind: "repository"; url: string } | { kind: "oci"; registry: string } | { kind: "directory"; dir: string };

export const CHART_SOURCE_FORMS =
    "a Helm repository URL (https://...), an OCI registry path (oci://...) or a local directory (/..., ./...)";

/** Classifies a source string; undefined when it is none of the accepted forms. */
export function parseChartSource(source: string): ChartSource | undefined {
    const s = source.trim();
    if (/^https?:\/\/[^\s/]+(\/\S*)?$/.test(s)) return { kind: "repository", url: s.replace(/\/+$/, "") };
    if (/^oci:\/\/[^\s/]+(\/\S*)?$/.test(s)) return { kind: "oci", registry: s.replace(/\/+$/, "") };
    if (/^file:\/\/\/\S*$/.test(s)) return { kind: "directory", dir: s.slice("file://".length) };
    if (/^(\/|\.\.?\/)\S*$/.test(s)) return { kind: "directory", dir: s };
    return undefined;
}

/** The chart-locating part of `kubernetes.helm.v4.Chart` args. */
export interface ChartLocation {
    chart: string;
    version?: string;
    repositoryOpts?: { repo: string };
}

/**
 * Locates `chartName` of a pinned chart group. A directory source holds one sub-directory per
 * chart; relative directories are resolved against `projectDir` so state never depends on it.
 */
export function chartLocation(pin: ChartPin, chartName: string, projectDir: string = process.cwd()): ChartLocation {
    const source = parseChartSource(pin.source);
    if (!source) throw new Error(`chart source "${pin.source}" of ${chartName} is not ${CHART_SOURCE_FORMS}`);
    switch (source.kind) {
        case "repository":
            return { chart: chartName, version: pin.version, repositoryOpts: { repo: source.url } };
        case "oci":
            return { chart: `${source.registry}/${chartName}`, version: pin.version };
        case "directory": {
            const dir = path.isAbsolute(source.dir) ? source.dir : `./${path.relative(projectDir, path.resolve(projectDir, source.dir))}`;
            // Helm ignores the version of a local chart: the directory is the pin.
            return { chart: path.join(dir, chartName).replace(/^(?!\/|\.)/, "./") };
        }
    }
}
