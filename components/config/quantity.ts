// Kubernetes resource quantities. The one parser is the policy pack's (policy/lib/quantity.ts): the
// program refuses exactly what the pack would, e.g. "256K" (Kubernetes writes k).
import { parseQuantity } from "../../policy/lib/quantity";

export { parseQuantity };

/** CPU in millicores, or undefined when the text is not a non-negative quantity. */
export function parseCpu(text: string): number | undefined {
    const cores = parseQuantity(text);
    return cores === undefined || cores < 0 ? undefined : Math.round(cores * 1e6) / 1e3;
}

/** Memory in bytes, or undefined when the text is not a non-negative quantity. */
export function parseMemory(text: string): number | undefined {
    const bytes = parseQuantity(text);
    return bytes === undefined || bytes < 0 ? undefined : bytes;
}
