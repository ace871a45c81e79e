/** Every path (`.spec.http.1.route.0.weight`) at which two JSON values differ. */
export function diffPaths(a: unknown, b: unknown, at = ""): string[] {
    if (JSON.stringify(a) === JSON.stringify(b)) return [];
    if (a && b && typeof a === "object" && typeof b === "object") {
        const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
        return [...keys].flatMap((k) => diffPaths((a as any)[k], (b as any)[k], `${at}.${k}`));
    }
    return [at];
}
