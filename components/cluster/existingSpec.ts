// Pure helpers for the "existing cluster" variant.
import * as path from "node:path";

/** Kubeconfig file to read: config path, else the first $KUBECONFIG entry, else ~/.kube/config. */
export function kubeconfigPath(configured: string | undefined, env: NodeJS.ProcessEnv, home: string): string {
    const expand = (p: string) => (p.startsWith("~/") ? path.join(home, p.slice(2)) : p);
    if (configured) return expand(configured);
    const fromEnv = env.KUBECONFIG?.split(path.delimiter).find((p) => p.length > 0);
    return fromEnv ? expand(fromEnv) : path.join(home, ".kube", "config");
}

/** Registry host of a "host[:port]/path" reference. */
export function registryServer(registry: string): string {
    return registry.replace(/^[a-z]+:\/\//, "").split("/")[0];
}

/** Image repository of an app under the configured registry prefix. */
export function registryRepository(registry: string, app: string): string {
    return `${registry.replace(/^[a-z]+:\/\//, "").replace(/\/+$/, "")}/${app}`;
}
