// The hash engine: signature lists (lists.ts) indexed into a shared, compact database (db.ts), and
// the digests a file needs for a lookup (digest.ts).
export * from "./lists";
export * from "./db";
export * from "./digest";
