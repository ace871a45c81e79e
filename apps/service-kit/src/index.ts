// Shared runtime of the orders-platform services.
export * from "./auth";
export * from "./boundedMap";
export * from "./client";
export * from "./config";
export * from "./db";
export * from "./errors";
export * from "./ids";
export * from "./log";
export * from "./metrics";
export * from "./migrate";
export * from "./resources";
export * from "./schemas";
export * from "./server";
export * from "./service";
export * from "./tracing";
export * from "./validation";
