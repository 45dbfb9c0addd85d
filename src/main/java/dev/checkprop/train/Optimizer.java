package dev.checkprop.train;

import dev.checkprop.nn.Gradients;

/**
 * Updates a network's parameters from gradients.
 *
 * <h2>Order of use</h2>
 * Construct an optimizer for one {@link dev.checkprop.nn.Network} — this allocates all of its state
 * once — then call {@link #step step(g, stepIndex)} once per computed gradient, with
 * {@code stepIndex} = 0, 1, 2, ...: it updates the network's weight and bias arrays in place. The
 * step index selects the learning rate from the optimizer's {@link LearningRate} schedule and, for
 * Adam, the bias correction, so a resumed run passes the global step number (and needs the same
 * optimizer state). {@code step} allocates nothing.
 *
 * <h2>Conventions</h2>
 * All implementations update in float, in a fixed order (layer by layer, W then b, element by
 * element), so results are deterministic; weight decay applies to weights, never to biases. An
 * optimizer is not thread-safe.
 */
public interface Optimizer {

    /**
     * Applies one update from {@code g} to the network's parameters.
     *
     * @param g         gradients shaped like the network's parameters. Not modified.
     * @param stepIndex the number of steps taken before this one, from 0
     * @throws IllegalArgumentException if {@code g} is not shaped like the network or {@code stepIndex < 0}
     * @throws IllegalStateException    if the schedule gives a negative or non-finite learning rate
     */
    void step(Gradients g, int stepIndex);

    /** Answers the bytes of the optimizer's state arrays, as payload: 4 per float held. */
    long stateBytes();

    /**
     * Answers the state arrays themselves (the backing arrays, empty for plain SGD), so that memory
     * accounting can measure them with JOL. Not for modification.
     */
    java.util.List<float[]> stateArrays();

    /** Answers a short name: {@code sgd}, {@code adam} or {@code adamw}; {@code toString()} adds the hyperparameters. */
    String name();
}
