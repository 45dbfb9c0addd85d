package dev.checkprop.plan;

/**
 * Makes a {@link Plan} for a chain of layers. Planners are pure functions: the same input gives
 * an equal plan, and nothing is run or allocated beyond the plan itself.
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
}
