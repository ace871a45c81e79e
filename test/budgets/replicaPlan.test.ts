// Replica planning from the app config alone (what the workloads run and the budgets count), without mocks.
import { strict as assert } from "node:assert";
import { planReplicas, splitReplicas } from "../../components/budgets/replicaPlan";
import { AppConfig, appSchema } from "../../components/config";

const app = (over: Record<string, unknown>): AppConfig => appSchema.parse({ version: "1.0.0", ...over });

describe("budgets: replica planning", () => {
    it("splits pods between stable and canary by weight, keeping both sides alive in between", () => {
        assert.deepEqual(splitReplicas(3, 0), { stable: 3, canary: 0 });
        assert.deepEqual(splitReplicas(3, 10), { stable: 2, canary: 1 });
        assert.deepEqual(splitReplicas(3, 100), { stable: 0, canary: 3 });
        assert.deepEqual(splitReplicas(10, 10), { stable: 9, canary: 1 });
        assert.deepEqual(splitReplicas(10, 50), { stable: 5, canary: 5 });
        assert.deepEqual(splitReplicas(4, 99), { stable: 1, canary: 3 });
        // one pod cannot be split: two pods, one each
        assert.deepEqual(splitReplicas(1, 10), { stable: 1, canary: 1 });
    });

    it("mesh on: the weight never changes any Deployment (canary runs canary.replicas)", () => {
        const plans = [0, 10, 100].map((weight) =>
            planReplicas(app({ replicas: 3, autoscaling: { min: 3, max: 10 }, canary: { version: "1.1.0", weight, replicas: 2 } }), true),
        );
        for (const plan of plans) {
            assert.deepEqual(plan, {
                stableReplicas: undefined,
                stableHpa: { min: 3, max: 10, cpuPercent: 70 },
                canaryReplicas: 2,
                pdb: true,
            });
        }
        assert.deepEqual(planReplicas(app({ replicas: 2 }), true), {
            stableReplicas: 2,
            stableHpa: undefined,
            canaryReplicas: undefined,
            pdb: true,
        });
        assert.equal(planReplicas(app({ replicas: 1 }), true).pdb, false);
    });

    it("mesh off: weight 0 scales the canary to 0, 100 the stable side to 0, 10 approximates by ratio", () => {
        const cfg = (weight: number) => app({ replicas: 3, canary: { version: "1.1.0", weight } });
        const w0 = planReplicas(cfg(0), false);
        assert.equal(w0.stableReplicas, 3);
        assert.equal(w0.canaryReplicas, 0);
        const w10 = planReplicas(cfg(10), false);
        assert.equal(w10.stableReplicas, 2);
        assert.equal(w10.canaryReplicas, 1);
        assert.deepEqual(w10.approximation, { weight: 10, stable: 2, canary: 1, canaryPercent: 33.3 });
        const w100 = planReplicas(cfg(100), false);
        assert.equal(w100.stableReplicas, 0);
        assert.equal(w100.canaryReplicas, 3);
        // with autoscaling the stable HPA keeps room for the canary pods within max
        const hpa = planReplicas(app({ replicas: 3, autoscaling: { min: 10, max: 12 }, canary: { version: "1.1.0", weight: 10 } }), false);
        assert.deepEqual(hpa.stableHpa, { min: 9, max: 11, cpuPercent: 70 });
        assert.equal(hpa.stableReplicas, undefined);
        assert.equal(hpa.canaryReplicas, 1);
        // fully promoted: an HPA cannot hold 0 pods, so none for stable
        const promoted = planReplicas(
            app({ replicas: 3, autoscaling: { min: 3, max: 6 }, canary: { version: "1.1.0", weight: 100 } }),
            false,
        );
        assert.equal(promoted.stableHpa, undefined);
        assert.equal(promoted.stableReplicas, 0);
        assert.equal(promoted.canaryReplicas, 3);
    });
});
