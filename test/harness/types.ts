// What a program run under the harness captured.
export interface CapturedResource {
    type: string;
    name: string;
    urn: string;
    /** Inputs as the program passed them, Outputs resolved, secrets unwrapped. */
    inputs: Record<string, any>;
    /** Inputs as serialized on the wire; secret values stay wrapped in Pulumi's secret envelope. */
    wireInputs: Record<string, any>;
    parent?: string;
    custom: boolean;
    protect: boolean;
    retainOnDelete: boolean;
    provider?: string;
    dependsOn: string[];
    ignoreChanges: string[];
    /** What a component registered with registerOutputs (Outputs resolved, secrets unwrapped). */
    componentOutputs?: Record<string, any>;
}

export interface ProgramRun<T = unknown> {
    resources: CapturedResource[];
    /** What the program returned (for runStack: the module's exports, Outputs resolved). */
    outputs: T;
    /** Warnings the program logged through pulumi.log.warn. */
    warnings: string[];
    /** The same warnings with the URN of the resource each was logged on (when it was). */
    warningSources: Array<{ message: string; urn?: string }>;
    byType(type: string): CapturedResource[];
    /** The one resource of a type with that name (throws when absent or ambiguous). */
    get(type: string, name: string): CapturedResource;
    find(predicate: (r: CapturedResource) => boolean): CapturedResource[];
}

export interface RunOptions {
    stack?: string;
    /** Full config map (`orders-platform:key` -> value). */
    config?: Record<string, unknown>;
    preview?: boolean;
}
