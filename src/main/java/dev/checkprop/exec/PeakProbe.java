package dev.checkprop.exec;

import java.util.List;

/**
 * Called by {@link Executor#gradient(dev.checkprop.nn.Batch, dev.checkprop.nn.Loss,
 * dev.checkprop.nn.Gradients, int, PeakProbe)} right after a chosen action, with the activation
 * buffers live at that moment: how memory accounting looks at the live objects at the plan's peak.
 * Not for the hot path: the executor builds the list only when a probe is given.
 */
@FunctionalInterface
public interface PeakProbe {

    /**
     * @param action the index of the action just run
     * @param live   the arrays holding the live activations a<sup>l</sup>, l &ge; 1 (a<sup>0</sup> is the caller's)
     */
    void atAction(int action, List<float[]> live);
}
