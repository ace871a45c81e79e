// The canary procedure: step the weight, analyse, then promote or roll back. All side effects go
// through the injected StackDriver, PrometheusClient, Clock and logger.
import { judge, nextAction, formatPercent, type Thresholds } from "./analysis";
import type { Clock } from "./clock";
import type { OperationsLogger } from "./logger";
import { formatDuration, type CanaryOptions } from "./options";
import { canaryQueries, fetchCanaryMetrics, type PrometheusClient } from "./prometheus";
import { appKey, resolveCanaryTarget, StackConfigError, type CanaryTarget, type StackDriver, type UpReport } from "./stackDriver";

export interface CanaryDeps {
    driver: StackDriver;
    prometheus: PrometheusClient;
    clock: Clock;
    log: OperationsLogger;
}

export type CanaryOutcome = "promoted" | "rolled-back" | "rollback-failed" | "invalid" | "dry-run";

export interface CanaryResult {
    outcome: CanaryOutcome;
    exitCode: 0 | 1 | 2 | 3;
    /** Why the canary was rolled back or the run refused (empty on success). */
    reasons: string[];
}

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));

function describeChanges(report: UpReport): string {
    const ops = Object.entries(report.changes)
        .filter(([op, n]) => op !== "same" && n > 0)
        .map(([op, n]) => `${op} ${n}`);
    return `${report.result}${ops.length ? ` (${ops.join(", ")})` : " (no resource changes)"}`;
}

export async function runCanary(opts: CanaryOptions, deps: CanaryDeps): Promise<CanaryResult> {
    const { driver, prometheus, clock, log } = deps;
    const thresholds: Thresholds = { maxErrorRate: opts.maxErrorRate, maxP99Ms: opts.maxP99Ms, minRequests: opts.minRequests };
    const weightKey = appKey(opts.app, "canary.weight");

    log.info(
        `start: steps ${opts.steps.join(",")}%, window ${opts.window}, limits error rate <= ${formatPercent(opts.maxErrorRate)}, ` +
            `p99 <= ${opts.maxP99Ms}ms, at least ${opts.minRequests} API requests per step (up to ${opts.maxHolds} extra windows), ` +
            `prometheus ${opts.prometheusUrl}${opts.dryRun ? " (dry run)" : ""}`,
    );

    let target: CanaryTarget;
    try {
        target = resolveCanaryTarget(await driver.readAppsConfig(), opts.app, driver.stackName);
    } catch (err) {
        const reason = err instanceof StackConfigError ? err.message : `cannot read the stack config: ${errorMessage(err)}`;
        log.error(reason);
        return { outcome: "invalid", exitCode: 2, reasons: [reason] };
    }
    log.info(`stable ${target.stableVersion}, canary ${target.canaryVersion} at weight ${target.currentWeight}%`);

    const up = async (message: string) => {
        log.info(`pulumi up: ${message}`);
        const report = await driver.up(message, (text) => log.raw(text));
        if (report.result !== "succeeded") throw new Error(`pulumi up ${report.result}`);
        log.info(`pulumi up ${describeChanges(report)}`);
    };

    // Whether we changed the stack: a rollback with nothing changed and weight already 0 is a no-op.
    let touched = false;
    let promoting = false;

    const rollback = async (reasons: string[]): Promise<CanaryResult> => {
        for (const r of reasons) log.error(`canary failed: ${r}`);
        if (!touched && target.currentWeight === 0) {
            log.warn("rollback: canary already at weight 0 and nothing was changed");
            return { outcome: "rolled-back", exitCode: 1, reasons };
        }
        log.warn(`rollback: ${target.app} canary ${target.canaryVersion} -> weight 0, stable ${target.stableVersion} takes all traffic`);
        try {
            if (promoting) {
                // Undo a half-applied promotion: stable version (and image) back, canary entry back at weight 0.
                await driver.setConfig(appKey(target.app, "version"), target.stableVersion);
                if (target.stableImage !== undefined) await driver.setConfig(appKey(target.app, "image"), target.stableImage);
                await driver.setConfig(appKey(target.app, "canary.version"), target.canaryVersion);
                if (target.canaryImage !== undefined) await driver.setConfig(appKey(target.app, "canary.image"), target.canaryImage);
                if (target.canaryReplicas !== undefined)
                    await driver.setConfig(appKey(target.app, "canary.replicas"), String(target.canaryReplicas));
            }
            await driver.setConfig(weightKey, "0");
            await up(`canary ${target.app} ${target.canaryVersion}: rollback to weight 0`);
        } catch (err) {
            const msg = `rollback FAILED: ${errorMessage(err)}; fix by hand: pulumi config set --path --stack ${driver.stackName} '${weightKey}' 0 && pulumi up --stack ${driver.stackName}`;
            log.error(msg);
            return { outcome: "rollback-failed", exitCode: 3, reasons: [...reasons, msg] };
        }
        log.warn(`rolled back: ${target.app} canary ${target.canaryVersion} at weight 0 (Deployment kept, no traffic)`);
        return { outcome: "rolled-back", exitCode: 1, reasons };
    };

    /** Waits and judges step `index` until it passes (undefined) or the canary must go back (the reasons). */
    const analyseStep = async (weight: number, index: number): Promise<string[] | undefined> => {
        // Each hold widens the range to the whole time at this weight, so every window's requests count.
        for (let holds = 0; ; holds++) {
            const until = new Date(clock.now().getTime() + opts.windowMs);
            log.info(`analysis window ${opts.window}: waiting until ${until.toISOString()}`);
            await clock.sleep(opts.windowMs);

            const range = holds === 0 ? opts.window : formatDuration(opts.windowMs * (holds + 1));
            let verdict;
            try {
                verdict = judge(await fetchCanaryMetrics(prometheus, target.app, range), thresholds);
            } catch (err) {
                return [`analysis at weight ${weight}% impossible: ${errorMessage(err)}`];
            }
            log.info(`analysis at weight ${weight}% over ${range}: ${verdict.summary} -> ${verdict.status.toUpperCase()}`);

            const reasons = verdict.reasons.map((r) => `at weight ${weight}%: ${r}`);
            switch (nextAction(verdict, { index, stepCount: opts.steps.length, holds, maxHolds: opts.maxHolds })) {
                case "continue":
                case "promote":
                    return undefined;
                case "rollback":
                    if (verdict.status === "inconclusive")
                        reasons.push(`at weight ${weight}%: still too little traffic after ${holds} extra windows`);
                    return reasons;
                case "hold":
                    log.warn(`hold at weight ${weight}%: ${verdict.reasons.join("; ")}; waiting another ${opts.window}`);
            }
        }
    };

    // Never shift traffic towards a canary that cannot be observed.
    try {
        await prometheus.query("vector(1)");
        log.info(`prometheus reachable at ${opts.prometheusUrl}`);
    } catch (err) {
        const reason = `cannot observe the canary: ${errorMessage(err)}`;
        if (opts.dryRun) {
            log.error(`dry run: ${reason}`);
            return { outcome: "invalid", exitCode: 2, reasons: [reason] };
        }
        return rollback([reason]);
    }

    if (opts.dryRun) {
        const q = canaryQueries(target.app, opts.window);
        log.info(`dry run: would set ${weightKey} to ${opts.steps.join(" -> ")} with pulumi up and a ${opts.window} analysis after each`);
        log.info(`dry run: request count query: ${q.requests}`);
        log.info(`dry run: error rate query: ${q.errorRate}`);
        log.info(`dry run: p99 query: ${q.p99}`);
        log.info(
            `dry run: on success ${appKey(target.app, "version")} = ${target.canaryVersion} and ${appKey(target.app, "canary")} removed`,
        );
        return { outcome: "dry-run", exitCode: 0, reasons: [] };
    }

    for (const [i, weight] of opts.steps.entries()) {
        log.info(`step ${i + 1}/${opts.steps.length}: weight ${weight}%`);
        try {
            touched = true;
            await driver.setConfig(weightKey, String(weight));
            await up(`canary ${target.app} ${target.canaryVersion}: weight ${weight}%`);
        } catch (err) {
            return rollback([`step to weight ${weight}% failed: ${errorMessage(err)}`]);
        }

        const failed = await analyseStep(weight, i);
        if (failed) return rollback(failed);
    }

    log.info(`promote: ${target.app} ${target.canaryVersion} becomes the stable version (was ${target.stableVersion}), canary removed`);
    try {
        promoting = true;
        await driver.setConfig(appKey(target.app, "version"), target.canaryVersion);
        // The digest that was analysed is the one promoted; nothing is rebuilt.
        if (target.canaryImage !== undefined) await driver.setConfig(appKey(target.app, "image"), target.canaryImage);
        await driver.removeConfig(appKey(target.app, "canary"));
        await up(`canary ${target.app} ${target.canaryVersion}: promote`);
    } catch (err) {
        return rollback([`promotion failed: ${errorMessage(err)}`]);
    }
    log.info(`promoted: ${target.app} ${target.canaryVersion} is stable in stack ${driver.stackName}`);
    return { outcome: "promoted", exitCode: 0, reasons: [] };
}
