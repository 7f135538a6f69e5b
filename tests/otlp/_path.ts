// Path helpers for the OTLP tests (node:path and node:url work in Deno and Bun).
export { dirname, join } from "node:path";
export { fileURLToPath as fromFileUrl } from "node:url";
