// The README is a front door and docs/ the reference: every relative link must land on a file that
// exists (and on a heading that exists, for `#anchors`), every `npm run <script>` they name must be
// a script of package.json, and the README must stay short enough to read.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "./harness/stackConfig";
import { DOCS, documentationFiles, readDoc } from "./docs";

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(markdown: string): Set<string> {
    const anchors = new Set<string>();
    const seen = new Map<string, number>();
    let fenced = false;
    for (const line of markdown.split("\n")) {
        if (/^\s*```/.test(line)) fenced = !fenced;
        const m = !fenced && /^#{1,6} (.+)$/.exec(line);
        if (!m) continue;
        const base = m[1]
            .trim()
            .toLowerCase()
            .replace(/[^\p{L}\p{N}\s_-]/gu, "")
            .replace(/\s/g, "-");
        const n = seen.get(base) ?? 0;
        seen.set(base, n + 1);
        anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    return anchors;
}

/** Markdown links outside code: `[text](target)`. */
function linksOf(markdown: string): string[] {
    const withoutCode = markdown.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
    return [...withoutCode.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
}

describe("README and docs", () => {
    const files = documentationFiles();

    it("the README is a front door: at most 300 lines, linking every reference document", () => {
        const readme = readDoc("README");
        const lines = readme.split("\n").length;
        assert.ok(lines <= 300, `README.md has ${lines} lines; move reference parts to docs/`);
        for (const doc of DOCS) assert.ok(readme.includes(`](docs/${doc}.md)`), `README.md does not link docs/${doc}.md`);
        const onDisk = fs
            .readdirSync(path.join(PROJECT_ROOT, "docs"))
            .filter((f) => f.endsWith(".md"))
            .map((f) => f.replace(/\.md$/, ""));
        assert.deepEqual([...onDisk].sort(), [...DOCS].sort(), "docs/ holds exactly the documents test/docs.ts lists");
    });

    for (const file of files) {
        const rel = path.relative(PROJECT_ROOT, file);
        it(`${rel}: every relative link resolves to a file and, with #anchor, to a heading`, () => {
            const text = fs.readFileSync(file, "utf8");
            const broken: string[] = [];
            for (const link of linksOf(text)) {
                if (/^[a-z]+:/i.test(link)) continue; // http(s), mailto
                const [target, anchor] = link.split("#");
                const resolved = target ? path.resolve(path.dirname(file), target) : file;
                if (!fs.existsSync(resolved)) {
                    broken.push(`${link}: no file ${path.relative(PROJECT_ROOT, resolved)}`);
                    continue;
                }
                if (anchor && resolved.endsWith(".md") && !anchorsOf(fs.readFileSync(resolved, "utf8")).has(anchor)) {
                    broken.push(`${link}: no heading #${anchor} in ${path.relative(PROJECT_ROOT, resolved)}`);
                }
            }
            assert.deepEqual(broken, []);
        });

        it(`${rel}: every npm script it names exists`, () => {
            const scriptsOf = (dir: string): string[] =>
                Object.keys(JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, dir, "package.json"), "utf8")).scripts ?? {});
            const unknown = new Set<string>();
            for (const m of fs
                .readFileSync(file, "utf8")
                .matchAll(/npm run (?:-s |--silent )?([a-z][\w:-]*)(?: (?:-w|--workspace)[ =]([\w./-]+))?/g)) {
                const workspace = m[2] ?? ".";
                if (!scriptsOf(workspace).includes(m[1])) unknown.add(workspace === "." ? m[1] : `${m[1]} (-w ${workspace})`);
            }
            assert.deepEqual([...unknown], [], `scripts of package.json: ${scriptsOf(".").join(", ")}`);
        });

        it(`${rel}: every repository path it names in backticks exists`, () => {
            const text = fs.readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
            const paths = [...text.matchAll(/`((?:components|scripts|policy|test|apps|docs|\.github)\/[\w./-]+)`/g)].map((m) => m[1]);
            const missing = [...new Set(paths)].filter((p) => !p.includes("<") && !fs.existsSync(path.join(PROJECT_ROOT, p)));
            assert.deepEqual(missing, []);
        });
    }
});
