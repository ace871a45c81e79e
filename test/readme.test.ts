// The README's reliability tables are the program's numbers: each block between
// `<!-- reliability:<name> -->` markers equals what test/reliabilityTables.ts computes from the
// shipped stack files (cells compared after trimming, so Prettier's alignment does not matter).
import { strict as assert } from "node:assert";
import { readDoc } from "./docs";
import { README_TABLES } from "./reliabilityTables";

const README = readDoc("reliability");

function cells(markdownTable: string): string[][] {
    return markdownTable
        .trim()
        .split("\n")
        .map((line) =>
            line
                .trim()
                .replace(/^\||\|$/g, "")
                .split(/(?<!\\)\|/)
                .map((c) => (/^\s*-+\s*$/.test(c) ? "---" : c.trim())),
        );
}

describe("README: reliability tables", () => {
    for (const [name, compute] of Object.entries(README_TABLES)) {
        it(`${name}: the README shows the computed table`, () => {
            const m = new RegExp(`<!-- reliability:${name} -->\\n([\\s\\S]*?)<!-- /reliability:${name} -->`).exec(README);
            assert.ok(m, `README.md has a <!-- reliability:${name} --> block`);
            const expected = compute();
            assert.deepEqual(cells(m[1]), cells(expected), `replace the block in README.md with:\n\n${expected}\n`);
        });
    }

    it("the prod connection arithmetic in the README is the budget the config check uses", () => {
        assert.match(README, /\*\*168\*\* of 200/);
    });
});
