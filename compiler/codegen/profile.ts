// Device profiles live in the plan format (plan/profile.ts).
export * from "../../plan/profile.js";
