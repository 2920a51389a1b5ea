/** A plan that cannot be built for the profile: a kernel or weight over a limit, a missing feature. */
export class PlanError extends Error {}
