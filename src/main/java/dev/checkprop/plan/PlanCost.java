package dev.checkprop.plan;

/**
 * What a plan costs on a particular {@link Chain}, measured by {@link PlanChecker#measure} from the
 * actions alone; the size-aware counterpart of {@link PlanStats}.
 *
 * @param forwardCost     &Sigma; cost(l) over every {@code F l}: the plan's forward work
 * @param peakBytes       the most bytes of activation buffers live at once, counted right after each
 *                        forward (a<sup>0</sup> not counted), as {@link PlanStats#peakLiveBuffers()} counts buffers
 * @param peakBytesAction index of the first action at which that peak is reached (-1 for no forward)
 */
public record PlanCost(long forwardCost, long peakBytes, int peakBytesAction) {
}
