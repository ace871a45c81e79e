// Shared runtime of the orders-platform services.
export * from "./client";
export * from "./config";
export * from "./db";
export * from "./errors";
export * from "./http";
export * from "./ids";
export * from "./log";
export * from "./metrics";
export * from "./migrate";
export * from "./resources";
export * from "./service";
export * from "./tracing";
export * from "./validate";
