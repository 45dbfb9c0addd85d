/**
 * Plans and planners. A {@link dev.checkprop.plan.Plan} is an immutable list of actions (forward,
 * drop, loss, backward) over a chain of L layers; {@link dev.checkprop.plan.PlanChecker} checks it
 * against the memory model and counts it; planners ({@code full}, {@code uniform:K}, {@code sqrt},
 * {@code binomial:S}, {@code optimal:M}, {@code budget:BYTES}) are pure functions from L, or from a
 * {@link dev.checkprop.plan.Chain} of per-layer activation sizes and forward costs, to a plan
 * ({@code budget:BYTES} from a chain only: {@link dev.checkprop.plan.Planner#needsChain()}).
 * Nothing here touches a float: plans can be printed, counted and tested without running a layer.
 */
package dev.checkprop.plan;
