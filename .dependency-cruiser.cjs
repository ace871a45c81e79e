// Import rules of the program, the policy pack, the tests and the tools, checked by `npm run lint`
// (`npm run check:layers`). Dependencies point one way: config <- budgets <- components <- wiring
// (components/platform.ts) <- index.ts. Type-only imports count: they are dependencies too.
/** Modules every part may use: names, pinned versions, chart sources, the pod security context. */
const SHARED = "^components/(naming|versions|chartSource|podSecurity)\\.ts$";
/** The one Kubernetes quantity parser, the policy pack's (the program reads quantities with it too). */
const QUANTITY = "^policy/lib/quantity\\.ts$";
/** The validation actions of the admission policies (a leaf module), which the config schema checks. */
const ADMISSION_ACTIONS = "^policy/admission/actions\\.ts$";
/** The generator of the admission policies, which components/guardrails deploys. */
const ADMISSION = "^policy/admission/";

module.exports = {
    forbidden: [
        {
            name: "no-circular",
            comment: "No import circles anywhere: each module can be read, tested and moved on its own.",
            severity: "error",
            from: {},
            to: { circular: true },
        },
        {
            name: "config-is-the-base",
            comment: "The stack config imports nothing from the components above it (the budgets hand their checks in).",
            severity: "error",
            from: { path: "^components/config/" },
            to: { path: "^(components|policy|scripts|test)/", pathNot: ["^components/config/", SHARED, QUANTITY, ADMISSION_ACTIONS] },
        },
        {
            name: "budgets-read-config-only",
            comment: "Budgets are arithmetic over the stack config: they import config and each other, nothing else.",
            severity: "error",
            from: { path: "^components/budgets/" },
            to: { path: "^(components|policy|scripts|test)/", pathNot: ["^components/(budgets|config)/", SHARED, QUANTITY] },
        },
        {
            name: "shared-modules-are-leaves",
            comment: "The shared modules depend on no part of the program.",
            severity: "error",
            from: { path: SHARED },
            to: { path: "^(components|policy|scripts|test)/", pathNot: [SHARED] },
        },
        {
            name: "only-the-root-wires",
            comment: "The wiring (components/platform.ts) is called by index.ts alone (and by the tests, through index.ts).",
            severity: "error",
            from: { pathNot: ["^index\\.ts$", "^test/"] },
            to: { path: "^components/platform\\.ts$" },
        },
        {
            name: "nothing-imports-the-root",
            comment: "index.ts is the composition root: only the tests load it.",
            severity: "error",
            from: { pathNot: "^test/" },
            to: { path: "^index\\.ts$" },
        },
        {
            name: "database-names-not-specs",
            comment:
                "Other parts address the database by its names (database/names.ts) and its schedule arithmetic, never by its specs or component.",
            severity: "error",
            from: { path: "^components/", pathNot: ["^components/database/", "^components/platform\\.ts$"] },
            to: { path: "^components/database/", pathNot: "^components/database/(names|backupSchedule)\\.ts$" },
        },
        {
            name: "components-stand-alone",
            comment:
                "The program never imports the tests or the tools, and of the policy pack only its quantity parser and the admission-policy generator.",
            severity: "error",
            from: { path: "^(components/|index\\.ts$)" },
            to: { path: "^(test|scripts|policy)/", pathNot: [QUANTITY, ADMISSION] },
        },
        {
            name: "policy-pack-self-contained",
            comment: "The pack runs from its own directory: its code (not its tests) imports nothing outside policy/.",
            severity: "error",
            from: { path: "^policy/", pathNot: "^policy/test/" },
            to: { path: "^(components|scripts|test|apps)/|^index\\.ts$" },
        },
    ],
    options: {
        doNotFollow: { path: "node_modules" },
        exclude: { path: "(^|/)node_modules/|^apps/" },
        tsPreCompilationDeps: true,
        tsConfig: { fileName: "tsconfig.json" },
    },
};
