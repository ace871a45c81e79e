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

/** The 400 for the first failed rule, naming the field as a JSON path, query parameter or header. */
export function validationError(errors: readonly ErrorObject[], context: string | undefined): ValidationError {
    const e = errors[0];
    let path = pointerToField(e.instancePath);
    let message = e.message ?? "is invalid";
    if (e.keyword === "required") {
        const missing = String((e.params as { missingProperty: string }).missingProperty);
        path = path === "" ? missing : `${path}.${missing}`;
        message = "is required";
    } else if (e.keyword === "additionalProperties") {
        const extra = String((e.params as { additionalProperty: string }).additionalProperty);
        path = path === "" ? extra : `${path}.${extra}`;
        message = "is not a known field";
    } else if (e.keyword === "pattern" && typeof e.parentSchema?.[PATTERN_MESSAGE] === "string") {
        message = e.parentSchema[PATTERN_MESSAGE];
    }
    const where = context ?? "body";
    const field = where === "headers" ? headerName(path) : path === "" ? (where === "body" ? "body" : where) : path;
    return new ValidationError(field, message);
}
