package dev.checkprop.hvp;

import dev.checkprop.memory.ArrayLayout;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.BudgetPlanner;
import dev.checkprop.plan.Chain;
import dev.checkprop.plan.Plan;

/**
 * What one stored state costs when an executor computes curvature-vector products, for budget
 * planning. In that mode ({@link dev.checkprop.exec.Executor#forHessianProducts}) a state is the pair
 * (a<sup>l</sup>, R{a<sup>l</sup>}): two float arrays of {@code N·n_l}, so twice the bytes of a plain
 * activation buffer, and a forward evaluation runs up to three products instead of one
 * (W a + b; V a + v<sub>b</sub>; W R{a}, skipped for layer 1 because R{a<sup>0</sup>} = 0). A planner
 * given {@link #chain} therefore trades memory for recomputation at the right exchange rate; plans
 * made for a count of buffers ({@code optimal:M}, {@code binomial:S}, ...) need no change, since a
 * buffer is a pair in this mode. This is {@link dev.checkprop.memory.PlanSelection#chain}'s model
 * with the Hessian mode's sizes and costs; for a budget that must fit under {@code -Xmx}, pass
 * {@code ArrayLayout.current().heapFootprint()}, as {@code PlanSelection} does.
 */
public final class HvpMemory {

    /** Chain costs must keep L·&Sigma;cost below 2<sup>59</sup>; we scale below 2<sup>58</sup> to leave room. */
    private static final long COST_LIMIT = 1L << 58;

    private HvpMemory() {
    }

    /**
     * Answers the bytes of the state of layer l in Hessian mode: 2 &times; {@code layout.floatArray(N·n_l)},
     * headers and alignment included.
     *
     * @throws IndexOutOfBoundsException unless 1 &le; l &le; L
     */
    public static long stateBytes(Network net, int l, int batch, ArrayLayout layout) {
        if (l < 1 || l > net.depth()) {
            throw new IndexOutOfBoundsException("layer " + l + " outside 1.." + net.depth());
        }
        return 2 * layout.floatArray((long) net.width(l) * batch);
    }

    /**
     * Answers the flops of one forward evaluation of layer l in Hessian mode:
     * 2&middot;N&middot;n<sub>l</sub>&middot;n<sub>l-1</sub> per product, two products for layer 1, three
     * for later layers; 0 for dropout.
     */
    public static long forwardFlops(Network net, int l, int batch) {
        if (!net.layer(l).hasParameters()) {
            return 0;
        }
        return (l == 1 ? 2L : 3L) * 2L * batch * net.width(l) * net.width(l - 1);
    }

    /**
     * Answers the chain a planner should optimise for curvature-vector products with batches of
     * {@code batch}: bytes from {@link #stateBytes} (each of the two arrays sized by {@code layout},
     * so heap-footprint rounding applies to each), cost the Hessian-mode forward flops, at least the
     * element count N&middot;n<sub>l</sub> (dropout has no product, and {@link Chain} needs positive
     * costs), as {@code PlanSelection.chain} does for gradients; divided by a common factor when needed
     * to keep L&middot;&Sigma;cost within {@link Chain}'s limit (only ratios matter to a planner).
     *
     * @throws IllegalArgumentException if {@code batch < 1}
     */
    public static Chain chain(Network net, int batch, ArrayLayout layout) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batch);
        }
        final int depth = net.depth();
        long[] bytes = new long[depth];
        double[] raw = new double[depth];
        double total = 0;
        for (int l = 1; l <= depth; l++) {
            bytes[l - 1] = stateBytes(net, l, batch, layout);
            raw[l - 1] = Math.max((double) forwardFlops(net, l, batch), (double) batch * net.width(l));
            total += raw[l - 1];
        }
        // A double sum is exact enough here: it only decides the common divisor.
        final double scale = Math.max(1.0, Math.ceil(total * depth / COST_LIMIT));
        long[] cost = new long[depth];
        for (int l = 0; l < depth; l++) {
            cost[l] = Math.max(1L, (long) (raw[l] / scale));
        }
        return Chain.of(bytes, cost);
    }

    /**
     * Answers the cheapest plan (fewest Hessian-mode forward flops) whose live (a, R{a}) states never
     * exceed {@code budgetBytes} at once, by {@link BudgetPlanner} on {@link #chain}.
     *
     * @throws IllegalArgumentException if the budget is below {@link Chain#minBudget()} of that chain
     *                                  (the planner's message names the smallest feasible budget)
     */
    public static Plan budgetPlan(Network net, int batch, long budgetBytes, ArrayLayout layout) {
        return new BudgetPlanner(budgetBytes).plan(chain(net, batch, layout));
    }
}
