// Composition root: checks the running stack's config, then declares the platform. The stack outputs
// are the fields of PlatformOutputs (components/platform.ts).
import { loadStackConfig } from "./components/config";
import { deployPlatform } from "./components/platform";

export = deployPlatform(loadStackConfig());
