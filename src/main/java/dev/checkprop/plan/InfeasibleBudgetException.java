package dev.checkprop.plan;

/**
 * A byte budget below what the chain needs at the very least: {@link Chain#minBudget()}, the largest
 * pair of adjacent activations (or a<sup>1</sup> alone). The message names the budget and that
 * minimum, in bytes and in binary units.
 */
public final class InfeasibleBudgetException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final long budgetBytes;
    private final long minBudgetBytes;

    /**
     * @param planner        how the budget was given, e.g. {@code "budget:1000"}
     * @param budgetBytes    the budget
     * @param minBudgetBytes the smallest feasible budget for the chain
     */
    InfeasibleBudgetException(String planner, long budgetBytes, long minBudgetBytes) {
        super(String.format(java.util.Locale.ROOT,
                "%s is too small for this chain: the smallest feasible budget is %,d bytes (%s)",
                planner, minBudgetBytes, Planners.humanBytes(minBudgetBytes)));
        this.budgetBytes = budgetBytes;
        this.minBudgetBytes = minBudgetBytes;
    }

    /** Answers the budget that was asked for. */
    public long budgetBytes() {
        return budgetBytes;
    }

    /** Answers the smallest budget with which the chain can be planned at all. */
    public long minBudgetBytes() {
        return minBudgetBytes;
    }
}
