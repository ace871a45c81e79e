// Building blocks of the config schema shared by every area: numbers and booleans as `pulumi config
// set --path` stores them, patterns, quantities (the policy pack's parser), cron (croner), CIDRs
// (ipaddr.js), SemVer (semver), and container resources.
import { z } from "zod";
import { Cron } from "croner";
import * as ipaddr from "ipaddr.js";
import * as semverLib from "semver";
import { parseCpu, parseMemory } from "../quantity";

export const DURATION = /^\d+(ms|s|m|h)$/;
export const RETENTION = /^\d+(h|d|w|y)$/;
export const DNS_NAME = /^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
export const K8S_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Numbers in stack YAML arrive as numbers, but `pulumi config set --path` may store strings. */
export const int = (min: number, max: number) =>
    z.preprocess(
        (v) => (typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : v),
        z
            .number({ error: `must be a whole number from ${min} to ${max}` })
            .int({ error: `must be a whole number from ${min} to ${max}` })
            .min(min, { error: `must be a whole number from ${min} to ${max}` })
            .max(max, { error: `must be a whole number from ${min} to ${max}` }),
    );

export const bool = () =>
    z.preprocess((v) => (v === "true" ? true : v === "false" ? false : v), z.boolean({ error: "must be true or false" }));

/** Exactly a SemVer 2.0.0 version as the semver library reads it (no "v", no build metadata). */
export function isExactSemver(text: string): boolean {
    return semverLib.valid(text) === text;
}

/** The image tag of an app: a tag cannot hold SemVer's "+build" part. */
export const semver = () =>
    z.string({ error: "must be a SemVer version string like 1.4.2" }).refine(isExactSemver, {
        error: 'must be a SemVer version like 1.4.2 or 2.0.0-rc.1, without build metadata (it is the image tag; "latest" and other moving tags are not allowed)',
    });

/** An IPv4 CIDR: four decimal octets 0-255 and a prefix 0-32 (ipaddr.js). */
export function isIpv4Cidr(text: string): boolean {
    return ipaddr.IPv4.isValidCIDR(text) && ipaddr.IPv4.isValidFourPartDecimal(text.split("/")[0]);
}

export const cidr = (what: string) => z.string({ error: `must be ${what}` }).refine(isIpv4Cidr, { error: `must be ${what}` });

export const pattern = (re: RegExp, what: string) => z.string({ error: `must be ${what}` }).regex(re, { error: `must be ${what}` });

export const cpu = () =>
    z
        .string({ error: 'must be a CPU quantity like "250m" or "1"' })
        .refine((v) => parseCpu(v) !== undefined, { error: 'must be a CPU quantity like "250m" or "1"' });
export const memory = () =>
    z
        .string({ error: 'must be a memory quantity like "256Mi" or "1Gi"' })
        .refine((v) => parseMemory(v) !== undefined, { error: 'must be a memory quantity like "256Mi" or "1Gi"' });

/** robfig/cron's standard fields, as the CronJob controller reads them: numbers, *, ranges, steps, lists; names in month and day of week. */
export const CRON_FIELDS = [
    /^[\d*/,-]+$/,
    /^[\d*/,-]+$/,
    /^[\d*/,-]+$/,
    /^([\d*/,-]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)+$/i,
    /^([\d*/,-]|SUN|MON|TUE|WED|THU|FRI|SAT)+$/i,
];
export const CRON_FORMAT =
    'must be a 5-field cron schedule like "0 2 * * *" (minute 0-59, hour 0-23, day of month 1-31, month 1-12 or JAN-DEC, day of week 0-7 or SUN-SAT)';

/** The schedule as croner reads it (UTC, as the CronJob runs it), or undefined when it is not a 5-field schedule. */
export function cronSchedule(text: string): Cron | undefined {
    const fields = text.trim().split(/\s+/);
    if (fields.length !== 5 || !fields.every((f, i) => CRON_FIELDS[i].test(f))) return undefined;
    try {
        return new Cron(text, { timezone: "Etc/UTC", paused: true });
    } catch {
        return undefined;
    }
}

export const cron = () =>
    z.string({ error: CRON_FORMAT }).superRefine((text, ctx) => {
        const schedule = cronSchedule(text);
        if (!schedule) ctx.addIssue({ code: "custom", message: CRON_FORMAT });
        else if (schedule.nextRun() === null) ctx.addIssue({ code: "custom", message: "never runs (no month has that day)" });
    });

export const resourcesSchema = z
    .strictObject({
        requests: z.strictObject({ cpu: cpu(), memory: memory() }),
        limits: z.strictObject({ cpu: cpu(), memory: memory() }),
    })
    .superRefine((r, ctx) => {
        if (parseCpu(r.limits.cpu)! < parseCpu(r.requests.cpu)!) {
            ctx.addIssue({
                code: "custom",
                path: ["limits", "cpu"],
                input: r.limits.cpu,
                message: `must be >= requests.cpu (${r.requests.cpu})`,
            });
        }
        if (parseMemory(r.limits.memory)! < parseMemory(r.requests.memory)!) {
            ctx.addIssue({
                code: "custom",
                path: ["limits", "memory"],
                input: r.limits.memory,
                message: `must be >= requests.memory (${r.requests.memory})`,
            });
        }
    });
export type Resources = z.infer<typeof resourcesSchema>;

/** A number from min to max (YAML numbers, or strings from `pulumi config set --path`). */
export const decimal = (min: number, max: number) =>
    z.preprocess(
        (v) => (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v)) ? Number(v) : v),
        z
            .number({ error: `must be a number from ${min} to ${max}` })
            .min(min, { error: `must be a number from ${min} to ${max}` })
            .max(max, { error: `must be a number from ${min} to ${max}` }),
    );

export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
