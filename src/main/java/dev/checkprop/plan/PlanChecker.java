package dev.checkprop.plan;

/**
 * Symbolic execution of a plan against the memory model, with no numerics: checks every
 * precondition and counts evaluations, live buffers and tier copies. This is the single validity oracle that
 * every planner's output passes (each {@link Plan} is checked on construction); the executor counts
 * again on its own while it runs, so the two are independent witnesses.
 */
public final class PlanChecker {

    private PlanChecker() {
    }

    /**
     * Answers the plan's counts.
     *
     * @throws InvalidPlanException at the first action that breaks the model, or if the plan ends
     *                              before the backward pass reached layer 1, with buffers still live or
     *                              with tier copies still held
     */
    public static PlanStats check(Plan plan) {
        final int L = plan.layers();
        final boolean[] live = new boolean[L + 1];
        live[0] = true; // the caller's input
        final int[] evals = new int[L + 1];
        int liveCount = 0;
        int peak = 0;
        int peakAt = -1;
        long total = 0;
        int position = -1; // backward position; -1 before the loss
        // Per layer: the tier holding its copy (null: none) and the action that wrote it.
        final Tier[] copy = new Tier[L + 1];
        final int[] writtenAt = new int[L + 1];
        final int tiers = Tier.values().length;
        final long[] writes = new long[tiers];
        final long[] reads = new long[tiers];
        final int[] copies = new int[tiers];
        final int[] peakCopies = new int[tiers];
        for (int i = 0; i < plan.size(); i++) {
            final int l = plan.layer(i);
            final Plan.Op op = plan.op(i);
            if (op != Plan.Op.LOSS && (l < 1 || l > L)) {
                throw fail(plan, i, "names layer " + l + ", outside 1.." + L);
            }
            switch (op) {
                case FORWARD -> {
                    if (!live[l - 1]) {
                        throw fail(plan, i, "needs a" + (l - 1) + ", which is not live");
                    }
                    if (live[l]) {
                        throw fail(plan, i, "recomputes a" + l + ", which is already live");
                    }
                    live[l] = true;
                    liveCount++;
                    evals[l]++;
                    total++;
                    if (liveCount > peak) {
                        peak = liveCount;
                        peakAt = i;
                    }
                }
                case DROP -> {
                    if (!live[l]) {
                        throw fail(plan, i, "drops a" + l + ", which is not live");
                    }
                    live[l] = false;
                    liveCount--;
                }
                case LOSS -> {
                    if (position >= 0) {
                        throw fail(plan, i, "is a second loss");
                    }
                    if (!live[L]) {
                        throw fail(plan, i, "needs a" + L + ", which is not live");
                    }
                    position = L;
                }
                case BACKWARD -> {
                    if (position < 0) {
                        throw fail(plan, i, "comes before the loss");
                    }
                    if (l != position) {
                        throw fail(plan, i, "is out of order: the backward pass is at layer " + position);
                    }
                    if (!live[l]) {
                        throw fail(plan, i, "needs a" + l + ", which is not live");
                    }
                    if (!live[l - 1]) {
                        throw fail(plan, i, "needs a" + (l - 1) + ", which is not live");
                    }
                    position = l - 1;
                }
                case WRITE -> {
                    final Tier t = plan.tier(i);
                    if (!live[l]) {
                        throw fail(plan, i, "writes a" + l + ", which is not live");
                    }
                    if (copy[l] != null) {
                        throw fail(plan, i, "writes a" + l + " a second time: action #" + writtenAt[l] + " ("
                                + plan.action(writtenAt[l]) + ") already holds a copy in " + copy[l].text()
                                + "; discard it first (X" + l + ")");
                    }
                    copy[l] = t;
                    writtenAt[l] = i;
                    writes[t.ordinal()]++;
                    copies[t.ordinal()]++;
                    peakCopies[t.ordinal()] = Math.max(peakCopies[t.ordinal()], copies[t.ordinal()]);
                }
                case READ -> {
                    if (copy[l] == null) {
                        throw fail(plan, i, "reads a" + l + ", which has no tier copy (a write W" + l
                                + "@offheap or W" + l + "@disk must come first)");
                    }
                    if (live[l]) {
                        throw fail(plan, i, "reads a" + l + ", which is already live");
                    }
                    live[l] = true;
                    liveCount++;
                    reads[copy[l].ordinal()]++;
                    if (liveCount > peak) {
                        peak = liveCount;
                        peakAt = i;
                    }
                }
                case DISCARD -> {
                    if (copy[l] == null) {
                        throw fail(plan, i, "discards the tier copy of a" + l + ", which has none");
                    }
                    copies[copy[l].ordinal()]--;
                    copy[l] = null;
                }
            }
        }
        if (position != 0) {
            throw new InvalidPlanException(plan.name(), position < 0 ? "has no loss"
                    : "ends with the backward pass at layer " + position + ", not 0");
        }
        if (liveCount != 0) {
            throw new InvalidPlanException(plan.name(), "ends with " + liveCount + " buffers still live");
        }
        for (int l = 1; l <= L; l++) {
            if (copy[l] != null) {
                throw new InvalidPlanException(plan.name(), "ends with the tier copy of a" + l + " (written to "
                        + copy[l].text() + " by action #" + writtenAt[l] + ") still held; discard it (X" + l + ")");
            }
        }
        return new PlanStats(total, peak, peakAt, evals, writes, reads, peakCopies);
    }

    private static InvalidPlanException fail(Plan plan, int i, String reason) {
        return new InvalidPlanException(plan.name(), i, plan.action(i), reason);
    }

    /**
     * Answers what the plan costs on {@code chain}: &Sigma; cost(l) over its forwards, and its peak
     * live heap bytes with the first action reaching it (a read takes a heap buffer as a forward
     * does; tier copies are not heap bytes, see {@link Simulation} for them). The plan is valid (every {@link Plan} is), so this
     * only counts.
     *
     * @throws IllegalArgumentException if the chain's length differs from the plan's
     */
    public static PlanCost measure(Plan plan, Chain chain) {
        if (chain.layers() != plan.layers()) {
            throw new IllegalArgumentException("plan " + plan.name() + " is for " + plan.layers()
                    + " layers, the chain has " + chain.layers());
        }
        final long[] bytes = chain.bytesArray();
        final long[] cost = chain.costArray();
        long live = 0;
        long peak = 0;
        int peakAt = -1;
        long total = 0;
        for (int i = 0; i < plan.size(); i++) {
            final int l = plan.layer(i);
            switch (plan.op(i)) {
                case FORWARD -> {
                    live += bytes[l];
                    total += cost[l];
                    if (live > peak) {
                        peak = live;
                        peakAt = i;
                    }
                }
                case READ -> {
                    live += bytes[l];
                    if (live > peak) {
                        peak = live;
                        peakAt = i;
                    }
                }
                case DROP -> live -= bytes[l];
                default -> {
                }
            }
        }
        return new PlanCost(total, peak, peakAt);
    }
}
