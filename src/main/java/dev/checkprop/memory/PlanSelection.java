package dev.checkprop.memory;

import dev.checkprop.nn.DenseLayer;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.BudgetPlanner;
import dev.checkprop.plan.Chain;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.Planners;

import java.util.Locale;

/**
 * Turns a plan string into a plan for a network and batch, including the two memory-driven forms:
 * <ul>
 * <li>{@code budget:BYTES} (e.g. {@code budget:64MiB}): the cheapest plan whose activation buffers,
 *     headers included, never exceed BYTES at once;</li>
 * </ul>
 * Sizes here are heap footprints ({@link ArrayLayout#heapFootprint()}): under G1 an array of half a
 * region or more occupies whole regions, and a budget that ignored it would overrun {@code -Xmx}.
 * <ul>
 * <li>{@code auto}: the budget is what this JVM can give — {@link HeapBudget#usable()} less the
 *     parameters, gradients, optimizer state, the batch and the executor's workspace. When even the
 *     tightest plan does not fit the whole batch in that budget, the batch is split into the fewest
 *     micro-batches that fit, and the selection says so.</li>
 * </ul>
 * Any other string is a count-based planner ({@link Planners#parse}).
 */
public final class PlanSelection {

    /**
     * A chosen plan.
     *
     * @param plan           the plan, for micro-batches of {@code microBatchSize} samples
     * @param budgetBytes    the activation budget it was planned for, or -1 for count-based plans
     * @param microBatches   how many micro-batches a batch is split into (1: none)
     * @param microBatchSize samples per micro-batch (the executor's batch size)
     * @param predicted      the memory prediction for one micro-batch's gradient
     * @param explanation    one line for the user: what was chosen and why
     */
    public record Selection(Plan plan, long budgetBytes, int microBatches, int microBatchSize,
                            MemoryModel.Prediction predicted, String explanation) {
    }

    private PlanSelection() {
    }

    /**
     * Answers the chain the budget planners see: per layer, the bytes of its activation buffer for a
     * batch of {@code batch} (from the VM's array layout) and its forward flops (element count for
     * dropout, which has no product).
     */
    public static Chain chain(Network net, int batch, ArrayLayout layout) {
        long[] bytes = new long[net.depth()];
        long[] cost = new long[net.depth()];
        for (int l = 1; l <= net.depth(); l++) {
            bytes[l - 1] = MemoryModel.activationBytes(net, l, batch, layout);
            long flops = MemoryModel.layerFlops(net, l, batch);
            cost[l - 1] = Math.max(flops, (long) batch * net.width(l));
        }
        return Chain.of(bytes, cost);
    }

    /** Answers the bytes held besides the activations: parameters, gradients, optimizer state, batch, workspace. */
    static long fixedBytes(Network net, int fullBatch, int microBatch, boolean labels, long[] optimizerLengths,
                           ArrayLayout layout) {
        long params = MemoryModel.parameterBytes(net, layout);
        long optimizer = 0;
        for (long len : optimizerLengths) {
            optimizer += layout.floatArray(len);
        }
        // Accumulating micro-batches needs a slice of the batch and a second set of gradients.
        long slices = microBatch < fullBatch ? MemoryModel.batchBytes(net, microBatch, labels, layout) + params : 0;
        return 2 * params + optimizer + MemoryModel.batchBytes(net, fullBatch, labels, layout) + slices
                + MemoryModel.workspaceBytes(net, microBatch, layout);
    }

    /**
     * Resolves {@code spec} for {@code net} and batches of {@code batch} samples.
     *
     * @param optimizerLengths lengths of the optimizer's state arrays (empty without one)
     * @throws IllegalArgumentException for an unknown plan string, or a budget too small for the
     *                                  chain (the message names the smallest feasible budget)
     * @throws IllegalStateException    when {@code auto} cannot fit even one sample per micro-batch
     */
    public static Selection select(String spec, Network net, int batch, boolean labels, long[] optimizerLengths) {
        // Budgets are heap budgets: count arrays at what they cost the heap (G1 humongous regions).
        ArrayLayout layout = ArrayLayout.current().heapFootprint();
        String s = spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals("auto")) {
            return auto(net, batch, labels, optimizerLengths, layout, HeapBudget.usable());
        }
        Plan plan;
        long budget = -1;
        if (s.startsWith("budget:")) {
            budget = Planners.parseBytes(spec.trim().substring("budget:".length()));
            plan = new BudgetPlanner(budget).plan(chain(net, batch, layout));
        } else {
            plan = Planners.parse(spec).plan(net.depth());
        }
        MemoryModel.Prediction p = MemoryModel.predict(net, plan, batch, labels, optimizerLengths, layout);
        return new Selection(plan, budget, 1, batch, p, "plan " + plan.name());
    }

    /** {@code auto} with an explicit usable heap (for tests and what-if planning). */
    public static Selection auto(Network net, int batch, boolean labels, long[] optimizerLengths, ArrayLayout layout,
                                 long usableHeap) {
        for (int k = 1; k <= batch; k++) {
            int micro = (batch + k - 1) / k;
            if (k > 1 && (batch + micro - 1) / micro != k) {
                continue; // same micro-batch size as a smaller k
            }
            long budget = usableHeap - fixedBytes(net, batch, micro, labels, optimizerLengths, layout);
            Chain chain = chain(net, micro, layout);
            if (budget < chain.minBudget()) {
                continue;
            }
            Plan plan = new BudgetPlanner(budget).plan(chain);
            MemoryModel.Prediction p = MemoryModel.predict(net, plan, micro, labels, optimizerLengths, layout);
            // The executor keeps one pool per width, which can hold more than the plan's live peak when
            // widths differ: tighten the budget by the excess until the whole prediction fits.
            for (int tries = 0; tries < 8 && p.total() > usableHeap; tries++) {
                budget -= p.total() - usableHeap;
                if (budget < chain.minBudget()) {
                    break;
                }
                plan = new BudgetPlanner(budget).plan(chain);
                p = MemoryModel.predict(net, plan, micro, labels, optimizerLengths, layout);
            }
            if (p.total() > usableHeap) {
                continue;
            }
            String why = String.format(Locale.ROOT, "auto: %s of heap usable, %s fixed (parameters, gradients, optimizer,"
                            + " batch, workspace), activation budget %s -> plan %s (%d forward evaluations for %d layers,"
                            + " peak %s of activations)%s",
                    HeapBudget.human(usableHeap), HeapBudget.human(usableHeap - budget), HeapBudget.human(budget),
                    plan.name(), plan.stats().forwardEvaluations(), net.depth(), HeapBudget.human(p.peakLiveBytes()),
                    k == 1 ? "" : String.format(Locale.ROOT,
                            "; the whole batch does not fit even the tightest plan, so it runs as %d micro-batches of"
                                    + " %d samples with gradient accumulation", k, micro));
            return new Selection(plan, budget, k, micro, p, why);
        }
        throw new IllegalStateException("auto: even one sample per micro-batch does not fit: the heap gives "
                + HeapBudget.human(usableHeap) + " but parameters, gradients and the smallest plan need more"
                + "; raise -Xmx");
    }
}
