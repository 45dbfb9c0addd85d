package dev.checkprop.plan;

/**
 * What a plan does, counted from its actions alone by {@link PlanChecker}.
 *
 * @param forwardEvaluations layer forward evaluations in all (L for full storage)
 * @param peakLiveBuffers    the most activation buffers live at once (a<sup>0</sup> not counted)
 * @param peakAction         index of the first action at which that peak is reached
 * @param evaluationsPerLayer forward evaluations of each layer, index l for layer l (index 0 unused)
 */
public record PlanStats(long forwardEvaluations, int peakLiveBuffers, int peakAction, int[] evaluationsPerLayer) {

    /** Answers the evaluations beyond one per layer: what the plan pays for its memory savings. */
    public long recomputations() {
        return forwardEvaluations - (evaluationsPerLayer.length - 1);
    }
}
