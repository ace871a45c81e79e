// Composition root: checks the running stack's config (and that its budgets fit), then declares the
// platform. The stack outputs are the fields of PlatformOutputs (components/platform.ts).
import { BUDGET_CHECKS } from "./components/budgets";
import { loadStackConfig } from "./components/config";
import { deployPlatform } from "./components/platform";

export = deployPlatform(loadStackConfig({ checks: BUDGET_CHECKS }));
