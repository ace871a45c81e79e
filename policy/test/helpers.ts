// Calls policies the way the engine does (see lib/engine.ts) and collects what they report.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { schemaDefaults } from "../lib/config";
import { makeResourceArgs, makeStackArgs, Outcome, ResourceInput, runResourcePolicy, runStackPolicy } from "../lib/engine";

export interface Fixture {
    type: string;
    props: Record<string, any>;
    name?: string;
    urn?: string;
    parent?: string;
}

export function urnOf(type: string, name: string): string {
    return `urn:pulumi:test::orders-platform::${type}::${name}`;
}

export function toResource(f: Fixture): ResourceInput {
    const name = f.name ?? f.props?.metadata?.name ?? "fixture";
    return { type: f.type, name, urn: f.urn ?? urnOf(f.type, name), props: f.props, parent: f.parent };
}

/** Config as the CLI hands it to the pack: schema defaults overlaid with `config`. */
function effectiveConfig(policy: ResourceValidationPolicy | StackValidationPolicy, config: Record<string, unknown>) {
    return { ...schemaDefaults(policy.configSchema), ...config };
}

/** Runs a resource policy over one fixture; returns the outcome (reported violations, applicability). */
export async function check(policy: ResourceValidationPolicy, fixture: Fixture, config: Record<string, unknown> = {}): Promise<Outcome> {
    return runResourcePolicy(policy, makeResourceArgs(toResource(fixture), effectiveConfig(policy, config)));
}

/** The messages a resource policy reports for one fixture. */
export async function violations(
    policy: ResourceValidationPolicy,
    fixture: Fixture,
    config: Record<string, unknown> = {},
): Promise<string[]> {
    return (await check(policy, fixture, config)).reported.map((r) => r.message);
}

/** Runs a stack policy over a set of fixtures. */
export async function checkStack(
    policy: StackValidationPolicy,
    fixtures: Fixture[],
    config: Record<string, unknown> = {},
): Promise<Outcome> {
    return runStackPolicy(policy, makeStackArgs(fixtures.map(toResource), effectiveConfig(policy, config)));
}

export async function stackViolations(
    policy: StackValidationPolicy,
    fixtures: Fixture[],
    config: Record<string, unknown> = {},
): Promise<string[]> {
    return (await checkStack(policy, fixtures, config)).reported.map((r) => r.message);
}
