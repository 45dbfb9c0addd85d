package dev.checkprop.plan;

/**
 * The limits past which the dynamic programs are refused or give way to a cheaper method, all in
 * one place: table sizes in entries (8-byte longs) and work in the programs' own steps. Each bounds
 * planning to a few seconds and at most 512 MiB of tables; past one, {@link BudgetPlanner} takes the
 * next method of its list (deterministically: the same chain always gives the same plan), and
 * {@link OptimalPlanner} refuses, naming the limit, or answers its count-based plan.
 */
final class DpLimits {

    private DpLimits() {
    }

    /** Entries of each of {@link OptimalPlanner}'s two count tables (F and N): 2<sup>25</sup>, 256 MiB each. */
    static final long MAX_COUNT_TABLE_ENTRIES = 1L << 25;

    /** Entries of the persistent programs' tables ({@link SlotDp}, {@link PiecewiseDp}): 2<sup>26</sup>, 512 MiB. */
    static final long MAX_PERSISTENT_TABLE_ENTRIES = 1L << 26;

    /** Inner-loop steps allowed to the persistent programs: a few seconds. */
    static final long MAX_PERSISTENT_WORK = 6_000_000_000L;

    /** Longs the exact program's cost functions ({@link SlideDp}) may hold: 2<sup>26</sup>, 512 MiB. */
    static final long MAX_EXACT_STORED_LONGS = 1L << 26;

    /** Merged breakpoints after which the exact program ({@link SlideDp}) gives up: several seconds. */
    static final long MAX_EXACT_WORK = 2_000_000_000L;
}
