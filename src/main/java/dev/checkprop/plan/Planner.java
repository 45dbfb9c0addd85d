package dev.checkprop.plan;

/**
 * Makes a {@link Plan} for a chain of layers, given its length or its {@link Chain} of sizes and
 * costs. Planners are pure functions: the same input gives an equal plan, and nothing is run.
 *
 * <p>Most planners count buffers and need only the length ({@code full}, {@code uniform:K},
 * {@code sqrt}, {@code binomial:S}, {@code optimal:M}). A planner whose parameter is in bytes
 * ({@code budget:BYTES}, {@link BudgetPlanner}) needs the sizes: it answers {@code true} to
 * {@link #needsChain()} and {@link #plan(int)} refuses, with an {@link IllegalArgumentException}
 * (not an {@code UnsupportedOperationException}: the planner string is an argument the caller was
 * given, and callers already report this exception, with its message, as a bad argument). Callers
 * holding a planner parsed from a string ({@link Planners#parse}) check {@link #needsChain()}, or plan
 * for a network with {@code dev.checkprop.select.PlanSelection.select(spec, network, batch)}, which
 * builds the chain.
 */
@FunctionalInterface
public interface Planner {

    /**
     * Answers a plan for a chain of {@code layers} layers.
     *
     * @throws IllegalArgumentException if {@code layers < 1}, if the planner's parameter cannot
     *                                  serve a chain that long (the message names the minimum), or if
     *                                  the planner {@linkplain #needsChain() needs a chain} (the message
     *                                  says what to call instead)
     */
    Plan plan(int layers);

    /**
     * Answers a plan for a chain whose layers have the given sizes and costs. By default the sizes
     * and costs are ignored and this is {@code plan(chain.layers())}: count-based planners
     * ({@code full}, {@code uniform:K}, {@code sqrt}, {@code binomial:S}) do not use them.
     * {@link BudgetPlanner} plans for the sizes and {@link OptimalPlanner} for the costs.
     *
     * @throws IllegalArgumentException as {@link #plan(int)} (but for needing a chain), or if the
     *                                  chain cannot be served
     */
    default Plan plan(Chain chain) {
        return plan(chain.layers());
    }

    /**
     * Answers whether this planner needs the sizes of a {@link Chain}: then only {@link #plan(Chain)}
     * serves, and {@link #plan(int)} throws {@link IllegalArgumentException}. False by default, for
     * the planners that count buffers; true for {@link BudgetPlanner}, whose budget is in bytes.
     */
    default boolean needsChain() {
        return false;
    }
}
