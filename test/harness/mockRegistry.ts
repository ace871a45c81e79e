// Outputs that real providers would compute (ARNs, endpoints, digests), keyed by type token.
// Each area of the program registers what it needs in test/harness/mocks/<area>.ts.
import { createHash } from "node:crypto";

export type MockOutputs = (name: string, inputs: Record<string, any>) => Record<string, unknown>;
export type MockCall = (inputs: Record<string, any>) => Record<string, unknown>;

const resourceOutputs = new Map<string, MockOutputs>();
const callResults = new Map<string, MockCall>();

export function mockResourceOutputs(type: string, outputs: MockOutputs): void {
    resourceOutputs.set(type, outputs);
}

export function mockCall(token: string, result: MockCall): void {
    callResults.set(token, result);
}

export function outputsFor(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
    return resourceOutputs.get(type)?.(name, inputs) ?? {};
}

export function callResult(token: string, inputs: Record<string, any>): Record<string, unknown> {
    const fn = callResults.get(token);
    if (!fn) throw new Error(`no mock for invoke ${token}; add one in test/harness/mocks/`);
    return fn(inputs);
}

/** A stable fake sha256 digest derived from a name. */
export function fakeDigest(seed: string): string {
    return `sha256:${createHash("sha256").update(seed).digest("hex")}`;
}
