// Where the documentation lives: the README (the front door) and the reference under docs/.
// Tests that keep a document true read it through here.
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "./harness/stackConfig";

/** The reference documents under docs/, by file name without `.md`. */
export const DOCS = [
    "configuration",
    "security",
    "reliability",
    "operations",
    "delivery",
    "deploying",
    "local-development",
    "gitops",
    "engine-testing",
] as const;
export type DocName = (typeof DOCS)[number] | "README";

export function docPath(name: DocName): string {
    return name === "README" ? path.join(PROJECT_ROOT, "README.md") : path.join(PROJECT_ROOT, "docs", `${name}.md`);
}

export function readDoc(name: DocName): string {
    return fs.readFileSync(docPath(name), "utf8");
}

/** Every Markdown file a reader follows from the README: itself, docs/, the apps', the policy pack's, the engine's. */
export function documentationFiles(): string[] {
    const extra = ["apps/users/README.md", "apps/orders/README.md", "policy/README.md", "scripts/engine/README.md"];
    return [docPath("README"), ...DOCS.map(docPath), ...extra.map((f) => path.join(PROJECT_ROOT, f)).filter((f) => fs.existsSync(f))];
}
