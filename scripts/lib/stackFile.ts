// A shipped stack's config as the program would see it: Pulumi.<stack>.yaml, validated.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { CONFIG_NAMESPACE, loadAppCatalog, parseStackConfig, type StackConfig } from "../../components/config";

export const PROJECT_DIR = path.resolve(__dirname, "..", "..");

/** Every key of Pulumi.<stack>.yaml (`namespace:key` -> value as parsed YAML). */
export function readStackFile(stack: string, projectDir: string = PROJECT_DIR): Record<string, unknown> {
    const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) throw new Error(`no stack file ${path.relative(process.cwd(), file) || file} (stacks: dev, staging, prod)`);
    const doc = (parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    return { ...(doc.config ?? {}) };
}

/** The stack's `orders-platform:*` config, defaults applied and validated (a ConfigError names bad keys). */
export function loadStackFileConfig(stack: string, projectDir: string = PROJECT_DIR): StackConfig {
    const prefix = `${CONFIG_NAMESPACE}:`;
    const raw = Object.fromEntries(
        Object.entries(readStackFile(stack, projectDir))
            .filter(([k]) => k.startsWith(prefix))
            .map(([k, v]) => [k.slice(prefix.length), v]),
    );
    return parseStackConfig(raw, stack, loadAppCatalog(path.join(projectDir, "apps")));
}
