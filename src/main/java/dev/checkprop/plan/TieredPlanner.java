package dev.checkprop.plan;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * The plan of least predicted step time under a heap budget in bytes and each tier's capacity:
 * plan string {@code tiered:HEAP_BYTES[,offheap:BYTES][,disk:BYTES]}, e.g. {@code tiered:64MiB,disk:8GiB}.
 * The heap budget counts live states as {@code budget:HEAP_BYTES} does ({@link BudgetPlanner}); the
 * tier capacities count the bytes of tier copies held at once. With no tier named, the tiers of the
 * {@link StepTimeModel} are used at the capacities it gives.
 *
 * <p>A pure function of the chain and the model: the speeds are measured elsewhere
 * ({@code dev.checkprop.select.TierProbe}, used by {@code PlanSelection}) and passed in
 * ({@link #solve(Chain, long[], StepTimeModel)}). {@link #plan(Chain)} alone has no speeds and refuses,
 * as {@code budget:} refuses {@link #plan(int)}.
 *
 * <h2>What it answers</h2>
 * The better, in {@link StepTimes#predict}'s exact nanoseconds, of {@link TieredDp}'s two-level
 * schedule (checkpoints written to tiers in the forward sweep, each segment's start read back during
 * the segment before it, heap-optimal sub-plans) and the {@code budget:HEAP_BYTES} plan, which wins
 * ties: where tiers do not help (fast recomputation, slow disk) the answer is the heap-only plan, never
 * a slower one. "Exact" ({@link Solution#exact()}) means: no plan of the two-level family beats it in the
 * model (the tests compare with an exhaustive search of the family on small chains), given a heap-only
 * part that is itself exact.
 */
public final class TieredPlanner implements Planner {

    private final long heapBytes;
    private final Map<Tier, Long> capacities;

    /**
     * @param heapBytes  the most bytes of live states in the heap; at least 1
     * @param capacities the tiers to use and the most bytes of copies each may hold (each at least 0);
     *                   empty: the model's tiers at the model's capacities
     * @throws IllegalArgumentException naming the value out of range
     */
    public TieredPlanner(long heapBytes, Map<Tier, Long> capacities) {
        if (heapBytes < 1) {
            throw new IllegalArgumentException("tiered: the heap budget must be at least 1 byte, got " + heapBytes);
        }
        final EnumMap<Tier, Long> copy = new EnumMap<>(Tier.class);
        for (Map.Entry<Tier, Long> e : capacities.entrySet()) {
            if (e.getValue() < 0) {
                throw new IllegalArgumentException("tiered: the capacity of " + e.getKey().text()
                        + " must be at least 0 bytes, got " + e.getValue());
            }
            copy.put(Objects.requireNonNull(e.getKey(), "tier"), e.getValue());
        }
        this.heapBytes = heapBytes;
        this.capacities = Collections.unmodifiableMap(copy);
    }

    /** Answers the heap budget in bytes. */
    public long heapBytes() {
        return heapBytes;
    }

    /** Answers the tiers named and their capacities (empty: the model's). */
    public Map<Tier, Long> capacities() {
        return capacities;
    }

    /**
     * A plan and its prediction.
     *
     * @param plan               the plan, named as this planner, {@code (approx)} appended if not exact
     * @param predicted          its predicted step
     * @param heapOnly           the {@code budget:HEAP_BYTES} plan it was compared with
     * @param heapOnlyPredicted  that plan's predicted step
     * @param exact              whether no plan of the family is faster in the model
     */
    public record Solution(Plan plan, StepTimes.Prediction predicted, Plan heapOnly,
                           StepTimes.Prediction heapOnlyPredicted, boolean exact) {

        /** Whether the plan moves states to tiers (else it is the heap-only plan). */
        public boolean usesTiers() {
            return plan.usesTiers();
        }
    }

    /**
     * Refuses: a heap budget in bytes needs the network and batch it is for, and the speeds.
     *
     * @throws IllegalArgumentException always, naming what to call instead
     */
    @Override
    public Plan plan(int layers) {
        throw new IllegalArgumentException(this + " is a byte budget with tiers: it needs the network, the batch and"
                + " the measured speeds; plan it with dev.checkprop.select.PlanSelection.select(\"" + this
                + "\", network, batch) or TieredPlanner.solve(chain, model)");
    }

    /**
     * Refuses: the step time needs the measured speeds.
     *
     * @throws IllegalArgumentException always, naming what to call instead
     */
    @Override
    public Plan plan(Chain chain) {
        throw new IllegalArgumentException(this + " plans for the least step time and needs the measured speeds of"
                + " the executor and the tiers; plan it with dev.checkprop.select.PlanSelection.select(\"" + this
                + "\", network, batch), which measures them, or TieredPlanner.solve(chain, model)");
    }

    /** Answers {@code true}. */
    @Override
    public boolean needsChain() {
        return true;
    }

    /** {@link #solve(Chain, long[], StepTimeModel)} with each tier copy as large as its heap buffer. */
    public Solution solve(Chain chain, StepTimeModel model) {
        final long[] b = new long[chain.layers()];
        for (int l = 1; l <= b.length; l++) {
            b[l - 1] = chain.bytes(l);
        }
        return solve(chain, b, model);
    }

    /**
     * Answers the plan of least predicted step time for {@code chain} on the machine {@code model}
     * describes, the tier copy of a<sup>l</sup> taking {@code transferBytes[l - 1]} bytes.
     *
     * @throws InfeasibleBudgetException if the heap budget is below {@link Chain#minBudget()}
     * @throws IllegalArgumentException  if a named tier is not in the model, or its capacity holds no
     *                                   copy of this chain (the message names the smallest)
     */
    public Solution solve(Chain chain, long[] transferBytes, StepTimeModel model) {
        final String name = toString();
        if (heapBytes < chain.minBudget()) {
            throw new InfeasibleBudgetException(name, heapBytes, chain.minBudget());
        }
        final StepTimeModel m = capacities.isEmpty() ? model : model.restrictedTo(capacities);
        final StepTimes times = m.times(chain, transferBytes);
        final int L = chain.layers();
        long smallest = Long.MAX_VALUE;
        for (int l = 1; l < L; l++) {
            smallest = Math.min(smallest, times.transferBytes(l));
        }
        final java.util.List<Tier> usable = new java.util.ArrayList<>();
        for (Tier t : Tier.values()) {
            if (!times.has(t)) {
                continue;
            }
            final long cap = times.capacityBytes(t);
            if (capacities.containsKey(t) && L >= 2 && cap < smallest) {
                throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
                        "%s: %s:%s holds no state of this chain: the smallest a checkpoint's copy can take is %,d bytes"
                                + " (%s); give %s at least that or leave it out", name, t.text(), Planners.formatBytes(cap),
                        smallest, Planners.humanBytes(smallest), t.text()));
            }
            if (cap >= smallest && L >= 3) {
                usable.add(t);
            }
        }
        final BudgetPlanner.Solution heap = new BudgetPlanner(heapBytes).solve(chain);
        final StepTimes.Prediction heapTime = times.predict(heap.plan());
        final TieredDp dp = usable.isEmpty() ? null : TieredDp.solve(chain, heapBytes, times, usable.toArray(new Tier[0]));
        if (dp == null || dp.time() >= heapTime.totalNanos()) {
            // Ties go to the heap-only plan: no transfers to go wrong, and auto's output is unchanged.
            final boolean exact = heap.exact() && (usable.isEmpty() || dp != null && dp.exact());
            final Plan p = heap.plan().renamed(exact ? name : name + " (approx)");
            return new Solution(p, heapTime, heap.plan(), heapTime, exact);
        }
        final boolean exact = dp.exact() && heap.exact();
        final Plan p = dp.emit(Plan.builder(exact ? name : name + " (approx)", L));
        final StepTimes.Prediction predicted = times.predict(p);
        // The program's closed form and the simulator must agree, and the plan must fit: a bug otherwise.
        if (predicted.totalNanos() != dp.time()) {
            throw new IllegalStateException(name + ": the program predicted " + dp.time() + " ns but the plan simulates to "
                    + predicted.totalNanos() + " ns");
        }
        if (p.cost(chain).peakBytes() > heapBytes) {
            throw new IllegalStateException(name + ": the plan holds " + p.cost(chain).peakBytes() + " heap bytes");
        }
        for (Tier t : usable) {
            if (predicted.peakHeld(t) > times.capacityBytes(t)) {
                throw new IllegalStateException(name + ": the plan holds " + predicted.peakHeld(t) + " bytes in " + t.text());
            }
        }
        return new Solution(p, predicted, heap.plan(), heapTime, exact);
    }

    /** Answers e.g. {@code tiered:64MiB,offheap:1GiB,disk:8GiB}: the plan string, shortest exact sizes. */
    @Override
    public String toString() {
        final StringBuilder sb = new StringBuilder("tiered:").append(Planners.formatBytes(heapBytes));
        for (Map.Entry<Tier, Long> e : capacities.entrySet()) {
            sb.append(',').append(e.getKey().text()).append(':').append(Planners.formatBytes(e.getValue()));
        }
        return sb.toString();
    }
}
