package dev.checkprop.select;

import dev.checkprop.memory.ArrayLayout;
import dev.checkprop.memory.HeapBudget;
import dev.checkprop.memory.MemoryModel;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.StateModel;
import dev.checkprop.plan.BudgetPlanner;
import dev.checkprop.plan.Chain;
import dev.checkprop.plan.InfeasibleBudgetException;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.Planners;
import dev.checkprop.plan.Simulation;
import dev.checkprop.plan.StepTimeModel;
import dev.checkprop.plan.TieredPlanner;

import java.util.Arrays;
import java.util.Locale;

/**
 * Turns a plan string into a plan for a network, a batch and a mode: the one entry point for plans
 * that depend on memory, since a byte budget means nothing without the network and batch it is for.
 * <ul>
 * <li>{@code budget:BYTES} (e.g. {@code budget:64MiB}): the cheapest plan whose state buffers, as the
 *     executor allocates them (headers included), take at most BYTES ({@link #budgetPlan});</li>
 * <li>{@code tiered:HEAP_BYTES[,offheap:BYTES][,disk:BYTES]}: the plan of least predicted step time
 *     ({@link TieredPlanner}) with the speeds {@link TierProbe} measures (or is given), for gradients;</li>
 * <li>{@code auto}: the budget is what this JVM can give &mdash; {@link HeapBudget#usable()} less the
 *     parameters, gradients, optimizer state, the batch and the executor's workspace. When even the
 *     tightest plan does not fit the whole batch in that budget, the batch is split into the fewest
 *     micro-batches that fit, and the selection says so. When that plan recomputes, the tiers are
 *     weighed too ({@link #tieredAuto}): a tiered plan is taken only if its predicted step is at least
 *     {@value #AUTO_TIER_GAIN_PERCENT}% faster;</li>
 * <li>any other string: a count-based planner ({@link Planners#parse}) for the network's depth.</li>
 * </ul>
 * Sizes here are heap footprints ({@link ArrayLayout#heapFootprint()}): under G1 an array of half a
 * region or more occupies whole regions, and a budget that ignored it would overrun {@code -Xmx}.
 */
public final class PlanSelection {

    /**
     * A chosen plan.
     *
     * @param plan           the plan, for micro-batches of {@code microBatchSize} samples
     * @param budgetBytes    the state budget it was planned for, or -1 for count-based plans
     * @param microBatches   how many micro-batches a batch is split into (1: none)
     * @param microBatchSize samples per micro-batch (the executor's batch size)
     * @param predicted      the memory prediction for one micro-batch
     * @param explanation    one line for the user: what was chosen and why
     */
    public record Selection(Plan plan, long budgetBytes, int microBatches, int microBatchSize,
                            MemoryModel.Prediction predicted, String explanation) {
    }

    private PlanSelection() {
    }

    /** {@link #select(String, Network, int, boolean, long[], StateModel.Mode)} for gradients with regression targets and no optimizer. */
    public static Selection select(String spec, Network net, int batch) {
        return select(spec, net, batch, false, new long[0], StateModel.Mode.GRADIENT);
    }

    /** {@link #select(String, Network, int, boolean, long[], StateModel.Mode)} for gradients. */
    public static Selection select(String spec, Network net, int batch, boolean labels, long[] optimizerLengths) {
        return select(spec, net, batch, labels, optimizerLengths, StateModel.Mode.GRADIENT);
    }

    /**
     * Resolves {@code spec} for {@code net}, batches of {@code batch} samples and {@code mode}.
     *
     * @param labels           whether the batches carry labels (else targets)
     * @param optimizerLengths lengths of the optimizer's state arrays (empty without one)
     * @throws IllegalArgumentException for an unknown plan string, or a budget too small for the
     *                                  chain (the message names the smallest feasible budget)
     * @throws IllegalStateException    when {@code auto} cannot fit even one sample per micro-batch
     */
    public static Selection select(String spec, Network net, int batch, boolean labels, long[] optimizerLengths,
                                   StateModel.Mode mode) {
        return select(spec, net, batch, labels, optimizerLengths, mode, Runtime.getRuntime().availableProcessors(), null);
    }

    /**
     * {@link #select(String, Network, int, boolean, long[], StateModel.Mode)} for an executor on
     * {@code threads} threads spilling to {@code spillDir}: {@code tiered:} and {@code auto} measure the
     * compute speed on those threads and the disk tier in that directory (its speed and free space),
     * where the executor will run and spill.
     *
     * @param threads  the executor's threads, at least 1
     * @param spillDir the executor's spill directory; null: {@code -Dcheckprop.spill.dir}, else
     *                 {@code java.io.tmpdir}
     */
    public static Selection select(String spec, Network net, int batch, boolean labels, long[] optimizerLengths,
                                   StateModel.Mode mode, int threads, java.nio.file.Path spillDir) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        // Budgets are heap budgets: count arrays at what they cost the heap (G1 humongous regions).
        final ArrayLayout layout = ArrayLayout.current().heapFootprint();
        final String s = spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals("auto")) {
            return auto(net, batch, labels, optimizerLengths, mode, layout, HeapBudget.usable(), threads, spillDir);
        }
        final Plan plan;
        long budget = -1;
        if (s.startsWith("tiered:")) {
            final TieredPlanner planner = (TieredPlanner) Planners.parse(spec);
            if (mode != StateModel.Mode.GRADIENT) {
                throw new IllegalArgumentException(planner + " plans gradient steps; for curvature products use budget:"
                        + Planners.formatBytes(planner.heapBytes()));
            }
            final TieredPlanner.Solution sol = tieredPlan(net, batch, planner, mode, layout,
                    TierProbe.model(net, batch, mode, threads, spillDir));
            final MemoryModel.Prediction p = MemoryModel.predict(net, sol.plan(), batch, labels, optimizerLengths, mode,
                    layout);
            return new Selection(sol.plan(), planner.heapBytes(), 1, batch, p, "plan " + describe(sol));
        }
        if (s.startsWith("budget:")) {
            budget = Planners.parseBytes(spec.trim().substring("budget:".length()));
            plan = budgetPlan(net, batch, budget, mode, layout);
        } else {
            // Count-based planners count buffers and forward evaluations: the length is all they read.
            plan = Planners.parse(spec).plan(net.depth());
        }
        final MemoryModel.Prediction p = MemoryModel.predict(net, plan, batch, labels, optimizerLengths, mode, layout);
        return new Selection(plan, budget, 1, batch, p, "plan " + plan.name());
    }

    /**
     * Answers the cheapest plan whose state buffers, as an executor allocates them
     * ({@link Simulation#allocatedBytes()}), take at most {@code budget} bytes. The budget planner
     * bounds the <em>live</em> bytes exactly; buffers are reused across layers of different sizes, so
     * the allocation can exceed the live peak when sizes vary. When it does, the plan is made once
     * more on the chain with every state counted at the largest state's size: there every buffer is
     * at most that large and there are never more buffers than live states, so the allocation is at
     * most the bound that plan keeps. One fallback, no search; the plan's name then says
     * {@code (approx)}.
     *
     * @throws IllegalArgumentException if no plan fits (the message names the smallest feasible budget)
     */
    public static Plan budgetPlan(Network net, int batch, long budget, StateModel.Mode mode, ArrayLayout layout) {
        final Chain chain = MemoryModel.chain(net, batch, mode, layout);
        final Plan plan = new BudgetPlanner(budget).plan(chain);
        final Simulation sim = MemoryModel.simulate(net, plan, batch, mode, layout);
        if (sim.allocatedBytes() <= budget) {
            return plan;
        }
        final Chain atWidest = atWidest(chain);
        final long widest = atWidest.bytes(1);
        try {
            return approx(new BudgetPlanner(budget).plan(atWidest));
        } catch (InfeasibleBudgetException e) {
            throw new IllegalArgumentException("budget:" + budget + " holds the live states of plan " + plan.name()
                    + " but not the buffers it needs (" + sim.allocatedBytes() + " bytes: layers of different sizes reuse"
                    + " buffers), and no plan with states counted at the largest size (" + widest + " bytes) fits; give at least "
                    + Math.max(sim.allocatedBytes(), 2 * widest) + " bytes", e);
        }
    }

    /** The least gain in predicted step time for which {@code auto} takes a tiered plan: the probe's noise. */
    public static final int AUTO_TIER_GAIN_PERCENT = 10;

    /**
     * Answers the {@code tiered:} plan for {@code net} and batches of {@code batch} on the machine
     * {@code model} describes: {@link TieredPlanner#solve} on the network's chain, each tier copy the
     * bytes of its state's arrays ({@link StateModel#copyBytes}). Like {@link #budgetPlan}, if the
     * buffers the executor allocates for it exceed the heap budget (layers of different sizes reuse
     * buffers), it is planned once more with every state counted at the largest size, named
     * {@code (approx)}.
     *
     * @throws IllegalArgumentException if no plan fits (the message names the smallest feasible budget),
     *                                  or a tier is unknown to the model or too small for any copy
     */
    public static TieredPlanner.Solution tieredPlan(Network net, int batch, TieredPlanner planner, StateModel.Mode mode,
                                                    ArrayLayout layout, StepTimeModel model) {
        final Chain chain = MemoryModel.chain(net, batch, mode, layout);
        final long[] floats = StateModel.floats(net, batch);
        final long[] copy = new long[net.depth()];
        for (int l = 1; l <= net.depth(); l++) {
            copy[l - 1] = StateModel.copyBytes(floats[l], mode);
        }
        final TieredPlanner.Solution sol = planner.solve(chain, copy, model);
        if (MemoryModel.simulate(net, sol.plan(), batch, mode, layout).allocatedBytes() <= planner.heapBytes()) {
            return sol;
        }
        final TieredPlanner.Solution rounded = planner.solve(atWidest(chain), copy, model);
        return new TieredPlanner.Solution(approx(rounded.plan()), rounded.predicted(), rounded.heapOnly(),
                rounded.heapOnlyPredicted(), false);
    }

    /**
     * The chain with every state counted at the largest state's size (costs kept): a plan for it needs
     * no more buffers than live states and no buffer larger than that, so what it allocates is what it
     * keeps live — the one fallback of {@link #budgetPlan} and {@link #tieredPlan}.
     */
    private static Chain atWidest(Chain chain) {
        final long[] bytes = new long[chain.layers()];
        final long[] cost = new long[chain.layers()];
        long widest = 0;
        for (int l = 1; l <= chain.layers(); l++) {
            widest = Math.max(widest, chain.bytes(l));
            cost[l - 1] = chain.cost(l);
        }
        Arrays.fill(bytes, widest);
        return Chain.of(bytes, cost);
    }

    /** The same actions, named {@code (approx)} once. */
    private static Plan approx(Plan p) {
        return p.name().endsWith("(approx)") ? p : Plan.parse(p.name() + " (approx)", p.layers(), p.actionsText());
    }

    /**
     * Answers the tiered plan {@code auto} takes instead of {@code heapOnly} (planned for the same
     * budget), or null: null unless the heap-only plan recomputes, the model offers a tier, and the
     * tiered plan's predicted step is at least {@value #AUTO_TIER_GAIN_PERCENT}% shorter than the
     * heap-only plan's.
     */
    public static TieredPlanner.Solution tieredAuto(Network net, int batch, long budget, Plan heapOnly,
                                                    StateModel.Mode mode, ArrayLayout layout, StepTimeModel model) {
        if (model == null || mode != StateModel.Mode.GRADIENT || heapOnly.stats().forwardEvaluations() <= net.depth()
                || model.tiers().values().stream().allMatch(t -> t.capacityBytes() == 0)) {
            return null;
        }
        final TieredPlanner.Solution sol;
        try {
            sol = tieredPlan(net, batch, new TieredPlanner(budget, java.util.Map.of()), mode, layout, model);
        } catch (IllegalArgumentException e) {
            return null; // a tier too small for any copy: the heap-only plan
        }
        final long heapTime = model.times(MemoryModel.chain(net, batch, mode, layout)).predict(heapOnly).totalNanos();
        if (!sol.usesTiers() || sol.predicted().totalNanos() * 100 > heapTime * (100 - AUTO_TIER_GAIN_PERCENT)) {
            return null;
        }
        return sol;
    }

    /** One line on a tiered solution: the plan, its predicted step against the heap-only plan's, what it moves. */
    static String describe(TieredPlanner.Solution sol) {
        final StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "%s: predicted step %.1f ms (%d forward evaluations) against %.1f ms (%d) for the heap-only %s",
                sol.plan().name(), sol.predicted().totalNanos() / 1e6, sol.plan().stats().forwardEvaluations(),
                sol.heapOnlyPredicted().totalNanos() / 1e6, sol.heapOnly().stats().forwardEvaluations(),
                sol.heapOnly().name()));
        for (dev.checkprop.plan.Tier t : dev.checkprop.plan.Tier.values()) {
            if (sol.predicted().written(t) > 0) {
                sb.append(String.format(Locale.ROOT, "; %s: %s written and read, at most %s held", t.text(),
                        HeapBudget.human(sol.predicted().written(t)), HeapBudget.human(sol.predicted().peakHeld(t))));
            }
        }
        return sb.toString();
    }

    /** Answers the bytes held besides the states: parameters, gradients, optimizer state, batch, workspace. */
    static long fixedBytes(Network net, int fullBatch, int microBatch, boolean labels, long[] optimizerLengths,
                           StateModel.Mode mode, ArrayLayout layout) {
        long params = MemoryModel.parameterBytes(net, layout);
        long optimizer = 0;
        for (long len : optimizerLengths) {
            optimizer += layout.floatArray(len);
        }
        // Accumulating micro-batches needs a slice of the batch and a second set of gradients.
        long slices = microBatch < fullBatch ? MemoryModel.batchBytes(net, microBatch, labels, layout) + params : 0;
        long outputs = mode == StateModel.Mode.CURVATURE ? 3 * params : params;
        return params + outputs + optimizer + MemoryModel.batchBytes(net, fullBatch, labels, layout) + slices
                + MemoryModel.workspaceBytes(net, microBatch, mode, layout);
    }

    /**
     * {@code auto} with an explicit usable heap (for tests and what-if planning); the tiers are weighed
     * with the speeds {@link TierProbe} measures, unless {@code -Dcheckprop.tiers=false}.
     */
    public static Selection auto(Network net, int batch, boolean labels, long[] optimizerLengths, StateModel.Mode mode,
                                 ArrayLayout layout, long usableHeap) {
        return auto(net, batch, labels, optimizerLengths, mode, layout, usableHeap,
                Runtime.getRuntime().availableProcessors(), null);
    }

    /**
     * {@code auto} with an explicit usable heap, for an executor on {@code threads} threads spilling to
     * {@code spillDir} (null: {@code -Dcheckprop.spill.dir}, else {@code java.io.tmpdir}), where the
     * probe measures.
     */
    public static Selection auto(Network net, int batch, boolean labels, long[] optimizerLengths, StateModel.Mode mode,
                                 ArrayLayout layout, long usableHeap, int threads, java.nio.file.Path spillDir) {
        final boolean tiers = Boolean.parseBoolean(System.getProperty(TierProbe.TIERS_PROPERTY, "true"));
        return auto(net, batch, labels, optimizerLengths, mode, layout, usableHeap, micro -> tiers
                ? TierProbe.model(net, micro, mode, threads, spillDir) : null);
    }

    /**
     * {@code auto} with an explicit usable heap and machine: {@code model} answers the speeds for a
     * micro-batch size, or null for heap-only plans; it is asked only when the heap-only plan recomputes.
     */
    public static Selection auto(Network net, int batch, boolean labels, long[] optimizerLengths, StateModel.Mode mode,
                                 ArrayLayout layout, long usableHeap,
                                 java.util.function.IntFunction<StepTimeModel> model) {
        for (int k = 1; k <= batch; k++) {
            int micro = (batch + k - 1) / k;
            if (k > 1 && (batch + micro - 1) / micro != k) {
                continue; // same micro-batch size as a smaller k
            }
            long budget = usableHeap - fixedBytes(net, batch, micro, labels, optimizerLengths, mode, layout);
            Chain chain = MemoryModel.chain(net, micro, mode, layout);
            if (budget < chain.minBudget()) {
                continue;
            }
            Plan plan;
            try {
                plan = budgetPlan(net, micro, budget, mode, layout);
            } catch (IllegalArgumentException e) {
                continue;
            }
            final TieredPlanner.Solution tiered = plan.stats().forwardEvaluations() > net.depth()
                    && mode == StateModel.Mode.GRADIENT
                    ? tieredAuto(net, micro, budget, plan, mode, layout, model.apply(micro)) : null;
            final String tiersWhy = tiered == null ? "" : "; tiers make the step faster: " + describe(tiered);
            if (tiered != null) {
                plan = tiered.plan();
            }
            MemoryModel.Prediction p = MemoryModel.predict(net, plan, micro, labels, optimizerLengths, mode, layout);
            String why = String.format(Locale.ROOT, "auto: %s of heap usable, %s fixed (parameters, gradients, optimizer,"
                            + " batch, workspace), activation budget %s -> plan %s (%d forward evaluations for %d layers,"
                            + " peak %s of activations)%s%s",
                    HeapBudget.human(usableHeap), HeapBudget.human(usableHeap - budget), HeapBudget.human(budget),
                    plan.name(), plan.stats().forwardEvaluations(), net.depth(), HeapBudget.human(p.peakLiveBytes()),
                    tiersWhy,
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
