// Request validation with Ajv, compiled from the route schemas (the same schemas make the OpenAPI
// document). Bodies are validated as sent (no type coercion: "2" is not a quantity); query
// strings, path parameters and headers are text, so those validators coerce ("limit=5" -> 5).
import Ajv, { ErrorObject } from "ajv";
import addFormats from "ajv-formats";
import type { FastifySchemaCompiler } from "fastify";
import { ValidationError } from "./errors";

/** Schema annotation: the message a failed `pattern` answers with (instead of the regex). */
export const PATTERN_MESSAGE = "x-pattern-message";

function newAjv(coerceTypes: boolean): Ajv {
    const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: false, verbose: true });
    addFormats(ajv);
    ajv.addKeyword({ keyword: PATTERN_MESSAGE, schemaType: "string" });
    // OpenAPI annotations that carry no validation.
    ajv.addKeyword({ keyword: "example" });
    return ajv;
}

const bodyAjv = newAjv(false);
const textAjv = newAjv(true);

export const validatorCompiler: FastifySchemaCompiler<any> = ({ schema, httpPart }) =>
    (httpPart === "body" ? bodyAjv : textAjv).compile(schema as object) as ReturnType<FastifySchemaCompiler<any>>;

/** `/items/1/quantity` -> `items[1].quantity`. */
export function pointerToField(pointer: string): string {
    let out = "";
    for (const raw of pointer.split("/").slice(1)) {
        const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
        out += /^\d+$/.test(part) ? `[${part}]` : out === "" ? part : `.${part}`;
    }
    return out;
}

/** `idempotency-key` -> `Idempotency-Key` (header names are matched in lower case). */
function headerName(name: string): string {
    return name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

const TYPE_NAMES: Record<string, string> = {
    string: "a string",
    integer: "a whole number",
    number: "a number",
    boolean: "true or false",
    array: "an array",
    object: "an object",
    null: "null",
};

const FORMAT_NAMES: Record<string, string> = {
    uuid: "a UUID",
    "date-time": "an RFC 3339 date and time",
    date: "a date (YYYY-MM-DD)",
    email: "an email address",
    uri: "an absolute URI",
};

const plural = (n: unknown, one: string, many: string) => `${n} ${Number(n) === 1 ? one : many}`;

/**
 * Our wording for each rule a schema can state (never the validator's own message); a rule not
 * listed here answers "is not valid", and a test holds every rule the routes use to this table.
 */
const MESSAGES: Record<string, (params: Record<string, unknown>, parentSchema: Record<string, unknown>) => string> = {
    type: (p) => {
        const types = Array.isArray(p.type) ? p.type : String(p.type).split(",");
        return `must be ${types.map((t) => TYPE_NAMES[String(t)] ?? String(t)).join(" or ")}`;
    },
    required: () => "is required",
    additionalProperties: () => "is not a known field",
    minLength: (p) => (Number(p.limit) === 1 ? "must not be empty" : `must be at least ${plural(p.limit, "character", "characters")} long`),
    maxLength: (p) => `must be at most ${plural(p.limit, "character", "characters")} long`,
    minimum: (p) => `must be ${p.limit} or more`,
    maximum: (p) => `must be ${p.limit} or less`,
    exclusiveMinimum: (p) => `must be more than ${p.limit}`,
    exclusiveMaximum: (p) => `must be less than ${p.limit}`,
    multipleOf: (p) => `must be a multiple of ${p.multipleOf}`,
    minItems: (p) => `must hold at least ${plural(p.limit, "item", "items")}`,
    maxItems: (p) => `must hold at most ${plural(p.limit, "item", "items")}`,
    uniqueItems: () => "must not hold the same item twice",
    minProperties: (p) => `must have at least ${plural(p.limit, "field", "fields")}`,
    maxProperties: (p) => `must have at most ${plural(p.limit, "field", "fields")}`,
    format: (p) => `must be ${FORMAT_NAMES[String(p.format)] ?? `in the ${p.format} format`}`,
    pattern: (_p, parent) =>
        typeof parent[PATTERN_MESSAGE] === "string" ? String(parent[PATTERN_MESSAGE]) : "has characters that are not allowed here",
    const: (p) => `must be ${JSON.stringify(p.allowedValue)}`,
    enum: (p) => `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`,
    anyOf: () => "matches none of the allowed shapes",
    oneOf: () => "matches none of the allowed shapes",
};

/** Rules that have our own wording (see MESSAGES). */
export const WORDED_RULES: ReadonlySet<string> = new Set(Object.keys(MESSAGES));

/** Our message for one failed rule. */
export function ruleMessage(e: ErrorObject): string {
    const wording = MESSAGES[e.keyword];
    return wording ? wording(e.params as Record<string, unknown>, (e.parentSchema ?? {}) as Record<string, unknown>) : "is not valid";
}

/** The 400 for the first failed rule, naming the field as a JSON path, query parameter or header. */
export function validationError(errors: readonly ErrorObject[], context: string | undefined): ValidationError {
    const e = errors[0];
    let path = pointerToField(e.instancePath);
    if (e.keyword === "required") {
        const missing = String((e.params as { missingProperty: string }).missingProperty);
        path = path === "" ? missing : `${path}.${missing}`;
    } else if (e.keyword === "additionalProperties") {
        const extra = String((e.params as { additionalProperty: string }).additionalProperty);
        path = path === "" ? extra : `${path}.${extra}`;
    }
    const where = context ?? "body";
    const field = where === "headers" ? headerName(path) : path === "" ? (where === "body" ? "body" : where) : path;
    return new ValidationError(field, ruleMessage(e));
}
