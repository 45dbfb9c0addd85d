package dev.checkprop.plan;

import java.util.Objects;

/**
 * The cheapest plan whose live activations never exceed a budget in bytes: for a {@link Chain} of
 * layers of different widths, the plan with the least total forward cost &Sigma; cost(l) whose peak
 * live bytes, counted right after each forward as {@link PlanChecker} counts buffers, is at most the
 * budget. Plan string {@code budget:BYTES}, e.g. {@code budget:64MiB} ({@link Planners#parseBytes}).
 *
 * <h2>Minimum budget</h2>
 * {@code F l} and {@code B l} need a<sup>l-1</sup> and a<sup>l</sup> live, so no plan fits below
 * {@link Chain#minBudget()} = max(bytes(1), max over 2 &le; l &le; L of bytes(l-1) + bytes(l)), and the
 * minimum-memory plan (recompute a<sup>1</sup>..a<sup>l</sup> for every backward step, holding two buffers)
 * reaches it. Below it, {@link #plan(Chain)} throws {@link InfeasibleBudgetException} naming it.
 *
 * <h2>How it plans, and when the result is exact</h2>
 * By the shape of the chain, the first that applies ({@link Solution#method()} names it):
 * <ol>
 * <li>{@code full}: the budget holds every activation: full storage, cost &Sigma; cost(l). Exact.</li>
 * <li>{@code uniform}: all sizes b and costs equal: {@link OptimalPlanner} with &lfloor;budget/b&rfloor;
 *     buffers. Exact.</li>
 * <li>{@code piecewise}: every size but the last equal, every cost but the first and the last equal,
 *     the shape of real networks (input and output widths differ): {@link PiecewiseDp}, the general
 *     persistent program specialised, O(L<sup>2</sup>&middot;M) for M = &lfloor;budget/b&rfloor;. Exact.
 *     (Beyond the work limit of the persistent program below, e.g. L = 10<sup>4</sup> with a large M,
 *     the next applicable method serves.)</li>
 * <li>{@code persistent}: every size but the last equal (b), costs arbitrary: {@link SlotDp} with a
 *     quantum of b (checkpoints are never a<sup>L</sup>) when the budget is at most S quanta (S the
 *     slot limit): exact; otherwise the quantum is coarser (sizes rounded up, see {@code SlotDp}) and
 *     the result is approximate.</li>
 * <li>{@code exact}: sizes that vary: {@link SlideDp}, exact in bytes (no quantum), O(L<sup>4</sup>&middot;Q)
 *     for cost functions of Q &le; S breakpoints; exact unless some function had more than S
 *     breakpoints and was thinned. Given up, deterministically, past a work limit or 2<sup>26</sup>
 *     longs of cost functions (L beyond about 64&ndash;100 in practice).</li>
 * <li>{@code persistent} again, when {@code exact} gave up: {@link SlotDp} with a quantum chosen for
 *     at most S slots, 2<sup>26</sup> table entries and a work limit, O(L<sup>3</sup>&middot;S).
 *     Approximate: persistent schedules can be beaten when sizes vary (by up to 13% on small random
 *     chains, about 1% of them), and the quantum rounds sizes up.</li>
 * <li>{@code heuristic}: chains too large even for that: every size rounded up to the largest,
 *     then {@code uniform}; or, if fewer than two of those fit, the minimum-memory plan. Approximate.</li>
 * </ol>
 * Every plan, exact or not, is valid and within the budget. An approximate plan's name says so:
 * {@code budget:64MiB (approx)}; {@link #solve(Chain)} also answers {@link Solution#exact()}.
 * "Exact" means: the least forward cost of any plan in the memory model of {@link Plan} under the
 * budget, which the tests confirm against an exhaustive search of the state space on small chains.
 *
 * <p>A byte budget means nothing without the sizes: {@link #needsChain()} is true and
 * {@link #plan(int)} refuses with an {@link IllegalArgumentException} saying what to call instead. For
 * a network, {@code dev.checkprop.select.PlanSelection.select(spec, network, batch)} builds the chain
 * of its activations for the batch; for a budget in buffers, use {@code optimal:M}, or
 * {@code plan(Chain.uniform(L))}, one byte per activation.
 */
public final class BudgetPlanner implements Planner {

    /** The default slot limit S: breakpoints per cost function, or deficits per segment. */
    public static final int DEFAULT_SLOT_LIMIT = 2000;

    private final long budget;
    private final int slotLimit;
    private final long exactWorkLimit;
    private final long persistentWorkLimit;

    /**
     * @param budgetBytes the most bytes of activations live at once; at least 1
     */
    public BudgetPlanner(long budgetBytes) {
        this(budgetBytes, DEFAULT_SLOT_LIMIT);
    }

    /**
     * @param budgetBytes the most bytes of activations live at once; at least 1
     * @param slotLimit   S: the resolution of the approximate programs, and the breakpoints beyond
     *                    which the exact one thins a cost function; at least {@link SlotDp#MIN_SLOTS}
     */
    public BudgetPlanner(long budgetBytes, int slotLimit) {
        this(budgetBytes, slotLimit, DpLimits.MAX_EXACT_WORK, DpLimits.MAX_PERSISTENT_WORK);
    }

    BudgetPlanner(long budgetBytes, int slotLimit, long exactWorkLimit, long persistentWorkLimit) {
        if (budgetBytes < 1) {
            throw new IllegalArgumentException("budget:BYTES needs at least 1 byte, got " + budgetBytes);
        }
        if (slotLimit < SlotDp.MIN_SLOTS) {
            throw new IllegalArgumentException("budget: the slot limit must be at least " + SlotDp.MIN_SLOTS
                    + ", got " + slotLimit);
        }
        this.budget = budgetBytes;
        this.slotLimit = slotLimit;
        this.exactWorkLimit = exactWorkLimit;
        this.persistentWorkLimit = persistentWorkLimit;
    }

    /** Answers the budget in bytes. */
    public long budgetBytes() {
        return budget;
    }

    /** Answers the slot limit S. */
    public int slotLimit() {
        return slotLimit;
    }

    /**
     * A plan and how it was found.
     *
     * @param plan   the plan, named {@code budget:...}, with {@code (approx)} appended if not exact
     * @param exact  whether no plan under the budget has a lower forward cost
     * @param method which program made it: {@code full}, {@code uniform}, {@code piecewise},
     *               {@code persistent}, {@code exact} or {@code heuristic} (see the class documentation)
     * @param cost   the plan's forward cost and peak bytes on the chain
     */
    public record Solution(Plan plan, boolean exact, String method, PlanCost cost) {
        public Solution {
            Objects.requireNonNull(plan, "plan");
            Objects.requireNonNull(method, "method");
            Objects.requireNonNull(cost, "cost");
        }
    }

    /**
     * Refuses: a byte budget needs the sizes of the activations, which a number of layers does not
     * give. (It used to plan {@link Chain#uniform(int)}, one byte per activation, so that
     * {@code Planners.parse("budget:2MiB").plan(net.depth())} returned full storage named
     * {@code budget:2MiB} for any real network.)
     *
     * @throws IllegalArgumentException always, naming {@code PlanSelection.select},
     *                                  {@link #plan(Chain)} and {@code optimal:M}
     */
    @Override
    public Plan plan(int layers) {
        throw new IllegalArgumentException(this + " is a byte budget: it needs the network and the batch it is for;"
                + " plan it with dev.checkprop.select.PlanSelection.select(\"" + this + "\", network, batch)"
                + " or BudgetPlanner.plan(Chain); for a budget in buffers use optimal:M");
    }

    /** Answers {@code true}: the budget is in bytes, so only {@link #plan(Chain)} serves. */
    @Override
    public boolean needsChain() {
        return true;
    }

    /**
     * Answers the cheapest plan for {@code chain} within the budget (see {@link #solve}).
     *
     * @throws InfeasibleBudgetException if the budget is below {@link Chain#minBudget()}
     */
    @Override
    public Plan plan(Chain chain) {
        return solve(chain).plan();
    }

    /**
     * Answers the cheapest plan for {@code chain} within the budget, and whether it is exactly the
     * cheapest.
     *
     * @throws InfeasibleBudgetException if the budget is below {@link Chain#minBudget()}
     * @throws IllegalArgumentException  if the plan would hold more actions than a plan can
     */
    public Solution solve(Chain chain) {
        final int L = chain.layers();
        final long min = chain.minBudget();
        if (budget < min) {
            throw new InfeasibleBudgetException(toString(), budget, min);
        }
        final String name = toString();
        if (budget >= chain.totalBytes()) {
            return solution(chain, FullStoragePlanner.plan(name, L), true, "full");
        }
        // From here L >= 2: a single layer fits whenever its minimum does.
        if (chain.isUniform()) {
            final int m = (int) Math.min(L, budget / chain.bytes(1));
            final long entries = (long) (m + 1) * (L + 1);
            if (entries > DpLimits.MAX_COUNT_TABLE_ENTRIES
                    || 2L * Long.BYTES * entries > Plan.maxActions() * Plan.BUILD_BYTES_PER_ACTION) {
                // So many buffers fit that the exact tables would not: binomial checkpointing with the
                // buffers the budget holds needs no tables and plans in time proportional to the plan.
                for (int snapshots = m - 1; snapshots >= Math.max(1, m - 3); snapshots--) {
                    final Plan b = new BinomialPlanner(snapshots).plan(L);
                    if (b.stats().peakLiveBuffers() <= m) {
                        return solution(chain, b.renamed(approx(name)), false, "binomial");
                    }
                }
            }
            final Plan p;
            try {
                p = new OptimalPlanner(m).plan(L);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
            }
            return solution(chain, p.renamed(name), true, "uniform");
        }
        if (PiecewiseDp.applies(chain) && fits(PiecewiseDp.estimate(chain, budget))) {
            final PiecewiseDp dp = new PiecewiseDp(chain, budget);
            checkSize(L, dp.cost(), chain);
            return solution(chain, dp.emit(Plan.builder(name, L)), true, "piecewise");
        }
        final boolean interiorUniform = interiorBytesUniform(chain);
        if (!interiorUniform) {
            final SlideDp dp = SlideDp.solve(chain, budget, slotLimit, exactWorkLimit);
            if (dp != null) {
                checkSize(L, dp.cost(), chain);
                final boolean exact = !dp.thinned();
                return solution(chain, dp.emit(Plan.builder(exact ? name : approx(name), L)), exact, "exact");
            }
        }
        final long q = SlotDp.choose(chain, budget, slotLimit, DpLimits.MAX_PERSISTENT_TABLE_ENTRIES, persistentWorkLimit);
        if (q > 0) {
            final SlotDp dp = SlotDp.solve(chain, budget, q);
            checkSize(L, dp.cost(), chain);
            // Persistent schedules are optimal when the sizes are equal (but for the last); the
            // quantum is exact when it divides every checkpoint's size.
            final boolean exact = interiorUniform && q == SlotDp.gcd(chain);
            return solution(chain, dp.emit(Plan.builder(exact ? name : approx(name), L)), exact, "persistent");
        }
        return solution(chain, heuristic(chain, approx(name)), false, "heuristic");
    }

    private static String approx(String name) {
        return name + " (approx)";
    }

    private static Solution solution(Chain chain, Plan plan, boolean exact, String method) {
        return new Solution(plan, exact, method, PlanChecker.measure(plan, chain));
    }

    /** Refuses a plan whose actions would not fit in a {@link Plan}: about two per unit-cost forward. */
    private void checkSize(int layers, long cost, Chain chain) {
        long minCost = Long.MAX_VALUE;
        for (int l = 1; l <= layers; l++) {
            minCost = Math.min(minCost, chain.cost(l));
        }
        final long forwards = cost / minCost; // at most this many F actions
        Plan.checkSize(this.toString(), layers, forwards, "use a larger budget or a larger -Xmx");
    }

    private static boolean interiorBytesUniform(Chain chain) {
        for (int l = 2; l < chain.layers(); l++) {
            if (chain.bytes(l) != chain.bytes(1)) {
                return false;
            }
        }
        return true;
    }

    /** Whether a program's {entries, steps} estimate is within this planner's limits. */
    private boolean fits(long[] estimate) {
        return estimate[0] <= DpLimits.MAX_PERSISTENT_TABLE_ENTRIES && estimate[1] <= persistentWorkLimit;
    }

    /**
     * For chains too large for the programs: every activation counted as the largest, so that the
     * count-based {@code optimal:M} with M = &lfloor;budget / largest&rfloor; buffers is a valid plan
     * (O(L&middot;M&middot;log L)); if fewer than two such buffers fit, the minimum-memory plan.
     */
    private Plan heuristic(Chain chain, String name) {
        final int L = chain.layers();
        long big = 0;
        for (int l = 1; l <= L; l++) {
            big = Math.max(big, chain.bytes(l));
        }
        final long m = Math.min(L, budget / big);
        if (m >= OptimalPlanner.minBuffers(L)
                && (m + 1) * (L + 1) <= DpLimits.MAX_COUNT_TABLE_ENTRIES) {
            return new OptimalPlanner((int) m).plan(L).renamed(name);
        }
        return minimumMemory(name, L);
    }

    /**
     * The plan of {@link Chain#minBudget()}: for each backward step l = L..1, recompute
     * a<sup>1</sup>..a<sup>l</sup> from a<sup>0</sup> holding only the last two. L(L+1)/2 forwards.
     */
    static Plan minimumMemory(String name, int layers) {
        final Plan.Builder b = Plan.builder(name, layers);
        for (int j = layers; j >= 1; j--) {
            b.forward(1);
            for (int l = 2; l <= j; l++) {
                b.forward(l);
                if (l - 1 < j - 1) {
                    b.drop(l - 1);
                }
            }
            if (j == layers) {
                b.loss();
            }
            b.backward(j);
            b.drop(j);
            if (j >= 2) {
                b.drop(j - 1);
            }
        }
        return b.build();
    }

    /** Answers {@code budget:} and the budget in its shortest exact form, e.g. {@code budget:64MiB}. */
    @Override
    public String toString() {
        return "budget:" + Planners.formatBytes(budget);
    }
}
