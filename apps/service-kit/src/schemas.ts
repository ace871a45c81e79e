// Schemas shared by the APIs (TypeBox, i.e. JSON Schema): they validate requests, serialise error
// answers and make the OpenAPI document.
import { TSchema, Type } from "@sinclair/typebox";
import { PATTERN_MESSAGE } from "./validation";

// The apps build their schemas with the same TypeBox.
export { Type };
export type { Static, TObject, TSchema } from "@sinclair/typebox";

/** OpenAPI security requirement of the API routes: the bearer JWT. */
export const BEARER = [{ bearer: [] }];

export const UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

export const Uuid = (description?: string) =>
    Type.String({ format: "uuid", pattern: UUID_PATTERN, [PATTERN_MESSAGE]: "must be a UUID", ...(description ? { description } : {}) });

export const Timestamp = Type.String({ format: "date-time", description: "RFC 3339, UTC, milliseconds" });

// Characters nobody can see: separators, control/format/unassigned/surrogate code points, lone
// combining marks, and the Hangul and Braille fillers.
const INVISIBLE = "\\p{Z}\\p{C}\\p{M}\\u115F\\u1160\\u3164\\uFFA0\\u2800";
/**
 * Text a person typed: at least one visible character; no control characters (NUL included), line
 * or paragraph separators, or unpaired surrogates. Linear time (one lookahead from the start).
 */
export const TEXT_PATTERN = `^(?=.*?[^${INVISIBLE}])[^\\p{Cc}\\p{Cs}\\p{Zl}\\p{Zp}]*$`;

/**
 * Bidirectional controls: embeddings, overrides, isolates and the directional marks. In a name they
 * reorder the text around it for everyone who reads it ("Trojan Source"-style spoofing).
 */
const BIDI_CONTROLS = "\\u061C\\u200E\\u200F\\u202A-\\u202E\\u2066-\\u2069";
export const NO_BIDI_PATTERN = `^[^${BIDI_CONTROLS}]*$`;
/** Combining marks one character may carry: every script needs fewer; "zalgo" text stacks dozens. */
export const MAX_COMBINING_MARKS = 4;
export const MARKS_PATTERN = `^(?!.*\\p{M}{${MAX_COMBINING_MARKS + 1}})`;

/** A single line of human text of 1..maxLength characters (code points, not UTF-16 units). */
export const Text = (maxLength: number, description: string) =>
    Type.String({
        minLength: 1,
        maxLength,
        pattern: TEXT_PATTERN,
        [PATTERN_MESSAGE]: "must contain a visible character and no control characters, line separators or unpaired surrogates",
        allOf: [
            {
                type: "string",
                pattern: NO_BIDI_PATTERN,
                [PATTERN_MESSAGE]:
                    "must not contain bidirectional control characters (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C)",
            },
            {
                type: "string",
                pattern: MARKS_PATTERN,
                [PATTERN_MESSAGE]: `must not stack more than ${MAX_COMBINING_MARKS} combining marks on one character`,
            },
        ],
        description,
    });

const errorProperties = {
    error: Type.String({ description: "Machine-readable code, e.g. validation_failed, not_found, dependency_unavailable" }),
    message: Type.String(),
    field: Type.Optional(Type.String({ description: "The offending field (JSON path like items[2].quantity), query parameter or header" })),
    dependency: Type.Optional(Type.String({ description: "On 503: what is unavailable (database, users, jwks)" })),
};

const ERROR_DESCRIPTIONS: Record<number, string> = {
    400: "Invalid input; `field` names what is wrong",
    401: "Missing or invalid bearer token",
    403: "The token lacks the role this operation needs",
    404: "No such resource, or it is not yours",
    409: "Conflicts with existing data",
    413: "Request body larger than 1 MiB",
    415: "Request body is not application/json",
    422: "Well-formed, but cannot be processed",
    503: "A dependency (database, another service, the token signing keys) is unavailable; retry after Retry-After",
};

/** Error answers of a route, by status; `descriptions` overrides the generic wording. */
export function errorResponses(statuses: number[], descriptions: Record<number, string> = {}): Record<number, TSchema> {
    return Object.fromEntries(
        statuses.map((s) => [s, Type.Object(errorProperties, { description: descriptions[s] ?? ERROR_DESCRIPTIONS[s] })]),
    );
}

/** `?limit=&cursor=`: cursor pagination, oldest first. */
export const PageQuery = Type.Object({
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20, description: "Items per page" }),
    cursor: Type.Optional(
        Type.String({
            pattern: "^[A-Za-z0-9_-]{1,64}$",
            [PATTERN_MESSAGE]: "is not a cursor returned by this API",
            description: "nextCursor of the previous page",
        }),
    ),
});

export const Page = <T extends TSchema>(item: T, description: string) =>
    Type.Object(
        {
            items: Type.Array(item),
            nextCursor: Type.Union([Type.String(), Type.Null()], { description: "Cursor of the next page; null on the last page" }),
        },
        { description },
    );
