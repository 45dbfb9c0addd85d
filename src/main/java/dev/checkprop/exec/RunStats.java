package dev.checkprop.exec;

import dev.checkprop.plan.Tier;

/**
 * What the executor counted while running one gradient computation. These counts come from the
 * executor's own bookkeeping, not from the plan's {@link dev.checkprop.plan.PlanStats}; tests
 * assert that the two agree.
 *
 * @param loss                the loss value
 * @param forwardEvaluations  layer forward evaluations performed
 * @param peakLiveBuffers     the most activation buffers live at once (a<sup>0</sup> not counted)
 * @param peakActivationBytes the most bytes of activation payload live at once, &Sigma; 4&middot;N&middot;n<sub>l</sub> over live a<sup>l</sup>
 * @param evaluationsPerLayer forward evaluations of each layer (index l; index 0 unused)
 * @param backwardRecomputations residual branches f(W a + b) recomputed during the backward pass,
 *                            one per residual block (not plan actions, so counted apart)
 * @param forwardNanos        wall-clock time spent in forward actions (F l)
 * @param lossNanos           wall-clock time spent computing the loss and its gradient
 * @param backwardNanos       wall-clock time spent in backward actions (B l, residual recomputation included)
 * @param tierBytesWritten    bytes copied to each tier (index {@link Tier#ordinal()}), counted by the I/O thread
 * @param tierBytesRead       bytes copied back from each tier
 * @param peakTierCopies      the most copies held in each tier at once, counted by the executor
 * @param peakTierBytes       the most payload bytes held in each tier at once
 * @param ioWaitNanos         wall-clock time the computing thread waited for copies (what overlap did not hide)
 * @param ioBusyNanos         wall-clock time the I/O thread spent copying
 */
public record RunStats(double loss, long forwardEvaluations, int peakLiveBuffers, long peakActivationBytes,
                       int[] evaluationsPerLayer, long backwardRecomputations, long forwardNanos, long lossNanos,
                       long backwardNanos, long[] tierBytesWritten, long[] tierBytesRead, long[] peakTierCopies,
                       long[] peakTierBytes, long ioWaitNanos, long ioBusyNanos) {

    /** Answers the bytes written to {@code tier}. */
    public long bytesWritten(Tier tier) {
        return tierBytesWritten[tier.ordinal()];
    }

    /** Answers the bytes read back from {@code tier}. */
    public long bytesRead(Tier tier) {
        return tierBytesRead[tier.ordinal()];
    }

    /** Answers the most copies held in {@code tier} at once. */
    public long peakCopies(Tier tier) {
        return peakTierCopies[tier.ordinal()];
    }

    /** Answers the most payload bytes held in {@code tier} at once. */
    public long peakBytes(Tier tier) {
        return peakTierBytes[tier.ordinal()];
    }

    /**
     * One line: the loss, the counts, the time per phase, and the per-layer evaluations summarised
     * (how many layers were evaluated how often) rather than as an array.
     */
    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "RunStats[loss=%s, forward evaluations %d (%s), peak %d live buffers,"
                        + " peak %d activation bytes, %d backward recomputations, forward %.3f ms, loss %.3f ms, backward %.3f ms]",
                loss, forwardEvaluations, dev.checkprop.plan.PlanStats.histogram(evaluationsPerLayer), peakLiveBuffers,
                peakActivationBytes, backwardRecomputations, forwardNanos / 1e6, lossNanos / 1e6, backwardNanos / 1e6)
                + tiers();
    }

    private String tiers() {
        final StringBuilder sb = new StringBuilder();
        for (Tier t : Tier.values()) {
            if (bytesWritten(t) > 0 || bytesRead(t) > 0) {
                sb.append(String.format(java.util.Locale.ROOT, ", %s %d bytes written, %d read, peak %d copies",
                        t.text(), bytesWritten(t), bytesRead(t), peakCopies(t)));
            }
        }
        if (sb.length() > 0) {
            sb.append(String.format(java.util.Locale.ROOT, ", waited %.3f ms for I/O (busy %.3f ms)", ioWaitNanos / 1e6,
                    ioBusyNanos / 1e6));
        }
        return sb.toString();
    }
}
