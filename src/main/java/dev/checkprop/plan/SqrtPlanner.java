package dev.checkprop.plan;

/** {@link UniformPlanner} with K = ceil(sqrt(L)): about 2&radic;L live buffers and at most 2L evaluations. */
public final class SqrtPlanner implements Planner {

    @Override
    public Plan plan(int layers) {
        return new UniformPlanner(ceilSqrt(layers), "sqrt").plan(layers);
    }

    /** Answers the smallest K with K*K &ge; n, exactly (no floating-point rounding). */
    static int ceilSqrt(int n) {
        int k = (int) Math.sqrt(n);
        while ((long) k * k < n) {
            k++;
        }
        while (k > 1 && (long) (k - 1) * (k - 1) >= n) {
            k--;
        }
        return Math.max(k, 1);
    }

    @Override
    public String toString() {
        return "sqrt";
    }
}
