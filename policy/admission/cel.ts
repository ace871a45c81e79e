// Small builders of CEL source text. Everything generated stays inside the CEL subset
// kube-apiserver offers to ValidatingAdmissionPolicies: the standard macros (has, all, exists,
// filter, map), `matches` (RE2) and the strings extension (indexOf, lastIndexOf, substring,
// split, join, lowerAscii, upperAscii). No optional syntax, no cel.bind, no Kubernetes-only
// libraries, so the same text runs unchanged in Node (test/…/celEvaluator.ts).

/** A CEL string literal. */
export function str(s: string): string {
    return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\n/g, "\\n")}'`;
}

/** A CEL list of string literals. */
export function strList(items: readonly string[]): string {
    return `[${items.map(str).join(", ")}]`;
}

/**
 * `has(a.b) && has(a.b.c) && ...` for the path below `root`, so that reading the field never
 * errors on a missing parent.
 */
export function hasPath(root: string, ...path: string[]): string {
    const out: string[] = [];
    let at = root;
    for (const p of path) {
        at = `${at}.${p}`;
        out.push(`has(${at})`);
    }
    return out.join(" && ");
}

/** `root.a.b` when every step exists, else `fallback`. */
export function fieldOr(root: string, path: string[], fallback: string): string {
    return `(${hasPath(root, ...path)} ? ${root}.${path.join(".")} : ${fallback})`;
}

/** Whether the boolean at `root.path` exists and equals `value`. */
export function isBool(root: string, path: string[], value: boolean): string {
    return `(${hasPath(root, ...path)} && ${root}.${path.join(".")} == ${value})`;
}

/** A single-line CEL comment (a reason shown to whoever reads the policy in the cluster). */
export function comment(text: string): string {
    return `// ${text.replace(/[\r\n]+/g, " ")}\n`;
}

export const or = (terms: readonly string[]): string => (terms.length === 0 ? "false" : terms.map((t) => `(${t})`).join(" || "));
export const and = (terms: readonly string[]): string => (terms.length === 0 ? "true" : terms.map((t) => `(${t})`).join(" && "));
