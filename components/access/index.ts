export { TeamAccess } from "./teamAccess";
export type { TeamAccessArgs } from "./teamAccess";
export * from "./roleSpec";
