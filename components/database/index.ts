export { Postgres } from "./postgres";
export type { PostgresArgs, AppDatabaseSecret } from "./postgres";
export * from "./names";
export * from "./bootstrapSpec";
export * from "./serverSpec";
export * from "./backupSpec";
export * from "./backupSchedule";
export * from "./scriptFiles";
export type { PostgresImages } from "./podParts";
