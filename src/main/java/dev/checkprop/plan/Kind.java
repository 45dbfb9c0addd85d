package dev.checkprop.plan;

/**
 * The three kinds of subproblem shared by the checkpointing dynamic programs ({@link OptimalPlanner},
 * {@link SlotDp}, {@link SlideDp}, {@link PiecewiseDp}). A subproblem is a segment (i, j] whose
 * backward pass is next: a<sup>i</sup> is live and owned by the caller, nothing in (i, j) is live, and
 * it ends after {@code B i+1} (or, in {@link SlideDp}, at a later backward position). The kinds differ
 * in a<sup>j</sup>:
 */
enum Kind {
    /** F: a<sup>j</sup> is live; the subproblem may keep it or drop it (and become {@link #N}). */
    F,
    /**
     * F': a<sup>j</sup> is live, just computed by advancing all the way from a<sup>i</sup>: it is kept
     * (dropping it at once would undo the advance; this breaks the cycle between F and N).
     */
    F_KEEP,
    /** N: a<sup>j</sup> is not live. */
    N;

    private static final Kind[] VALUES = values();

    /** Answers the kind of the given ordinal, as {@link PlanEmitter}'s stack stores it. */
    static Kind of(int ordinal) {
        return VALUES[ordinal];
    }
}
