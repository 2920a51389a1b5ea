// The plan format: what the compiler writes and the runtime reads. A leaf: it imports nothing
// else of the project (test/boundary.test.ts checks), so a page that runs a precompiled plan
// ships the runtime and this folder only.
export * from "./bytes.js";
export * from "./capacity.js";
export * from "./dims.js";
export * from "./format.js";
export * from "./print.js";
export * from "./profile.js";
export * from "./size.js";
export * from "./training.js";
export * from "./weightNames.js";
