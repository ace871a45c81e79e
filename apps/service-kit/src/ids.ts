// Time-ordered UUIDs (RFC 9562 version 7): sortable, so they double as pagination cursors.
import { randomFillSync } from "node:crypto";

const POOL_SIZE = 16 * 256;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function uuidv7(now = Date.now()): string {
    if (poolOffset + 10 > POOL_SIZE) {
        randomFillSync(pool);
        poolOffset = 0;
    }
    const r = poolOffset;
    poolOffset += 10;
    const ms = now.toString(16).padStart(12, "0");
    const b6 = (pool[r] & 0x0f) | 0x70; // version 7
    const b8 = (pool[r + 2] & 0x3f) | 0x80; // variant 10
    return (
        ms.slice(0, 8) +
        "-" +
        ms.slice(8, 12) +
        "-" +
        HEX[b6] +
        HEX[pool[r + 1]] +
        "-" +
        HEX[b8] +
        HEX[pool[r + 3]] +
        "-" +
        HEX[pool[r + 4]] +
        HEX[pool[r + 5]] +
        HEX[pool[r + 6]] +
        HEX[pool[r + 7]] +
        HEX[pool[r + 8]] +
        HEX[pool[r + 9]]
    );
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function isUuid(value: unknown): value is string {
    return typeof value === "string" && value.length === 36 && UUID.test(value);
}

/** Opaque pagination cursor wrapping the last id of a page. */
export function encodeCursor(id: string): string {
    return Buffer.from(id, "latin1").toString("base64url");
}

/** The id inside a cursor, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): string | undefined {
    if (cursor.length > 64 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
    const id = Buffer.from(cursor, "base64url").toString("latin1");
    return isUuid(id) ? id.toLowerCase() : undefined;
}
