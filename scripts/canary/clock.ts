// Time source for the canary run; tests swap in a fake clock so analysis windows pass instantly.
export interface Clock {
    now(): Date;
    sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
    now: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
