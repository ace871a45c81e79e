// Kubernetes resource quantities, parsed just far enough to compare requests with limits.

/** CPU in millicores, or undefined when the text is not a CPU quantity. */
export function parseCpu(text: string): number | undefined {
    const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(text.trim());
    if (!m) return undefined;
    const value = Number(m[1]);
    return m[2] === "m" ? value : value * 1000;
}

const MEMORY_UNITS: Record<string, number> = {
    "": 1,
    K: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
};

/** Memory in bytes, or undefined when the text is not a memory quantity. */
export function parseMemory(text: string): number | undefined {
    const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?$/.exec(text.trim());
    if (!m) return undefined;
    return Number(m[1]) * MEMORY_UNITS[m[2] ?? ""];
}
