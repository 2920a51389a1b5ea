// Sizes live in the plan format (plan/size.ts); codegen uses them from there.
export * from "../../plan/size.js";
