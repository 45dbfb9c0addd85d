package dev.checkprop.plan;

/**
 * Makes a {@link Plan} for a chain of layers, given its length or its {@link Chain} of sizes and
 * costs. Planners are pure functions: the same input gives an equal plan, and nothing is run.
 */
@FunctionalInterface
public interface Planner {

    /**
     * Answers a plan for a chain of {@code layers} layers.
     *
     * @throws IllegalArgumentException if {@code layers < 1}, or if the planner's parameter cannot
     *                                  serve a chain that long (the message names the minimum)
     */
    Plan plan(int layers);

    /**
     * Answers a plan for a chain whose layers have the given sizes and costs. By default the sizes
     * and costs are ignored and this is {@code plan(chain.layers())}: count-based planners
     * ({@code full}, {@code uniform:K}, {@code sqrt}, {@code binomial:S}) do not use them.
     * {@link BudgetPlanner} plans for the sizes and {@link OptimalPlanner} for the costs.
     *
     * @throws IllegalArgumentException as {@link #plan(int)}, or if the chain cannot be served
     */
    default Plan plan(Chain chain) {
        return plan(chain.layers());
    }
}
