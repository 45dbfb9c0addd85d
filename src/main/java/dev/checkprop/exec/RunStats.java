package dev.checkprop.exec;

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
 */
public record RunStats(double loss, long forwardEvaluations, int peakLiveBuffers, long peakActivationBytes,
                       int[] evaluationsPerLayer, long backwardRecomputations, long forwardNanos, long lossNanos,
                       long backwardNanos) {

    /**
     * One line: the loss, the counts, the time per phase, and the per-layer evaluations summarised
     * (how many layers were evaluated how often) rather than as an array.
     */
    @Override
    public String toString() {
        return String.format(java.util.Locale.ROOT, "RunStats[loss=%s, forward evaluations %d (%s), peak %d live buffers,"
                        + " peak %d activation bytes, %d backward recomputations, forward %.3f ms, loss %.3f ms, backward %.3f ms]",
                loss, forwardEvaluations, dev.checkprop.plan.PlanStats.histogram(evaluationsPerLayer), peakLiveBuffers,
                peakActivationBytes, backwardRecomputations, forwardNanos / 1e6, lossNanos / 1e6, backwardNanos / 1e6);
    }
}
