package dev.checkprop.nn;

import dev.checkprop.kernel.DenseKernels;

/**
 * What the executor hands a {@link Layer} for one action: the arrays it reads and writes, the
 * kernels, the batch stride, and a way to share work among the executor's threads. Valid only
 * during the call it is passed to; never keep it. All arrays are unit-major with stride
 * {@link #samples()} (see {@link Layer}).
 */
public interface LayerContext {

    /** Answers the kernels every product and activation must use (they fix the bits). */
    DenseKernels kernels();

    /** Answers N, the samples in this batch: the stride of every unit-major array. */
    int samples();

    /** Answers l, this layer's 1-based position. */
    int layerIndex();

    /** Answers the training step (random layers draw their masks for it), 0 until set. */
    long step();

    /** Whether this is a training run (false in inference: random layers are the identity). */
    boolean training();

    /** Answers the state of layer l-1: a<sup>l-1</sup> in its first n<sub>l-1</sub> rows (the input for l = 1). Not to be modified. */
    float[] input();

    /**
     * Answers the batch's inputs sample-major {@code [N, n_0]} (the caller's array) for l = 1, else null:
     * a product that needs a<sup>0</sup> by samples reads it without a transpose.
     */
    float[] inputBySamples();

    /** Answers this layer's state array: a<sup>l</sup> and its tape. */
    float[] output();

    /** Backward: &part;L/&part;a<sup>l</sup>, which the layer may overwrite. */
    float[] gradOutput();

    /** Backward: where &part;L/&part;a<sup>l-1</sup> goes (overwritten); null for l = 1. */
    float[] gradInput();

    /** Backward: where the gradient of {@link Layer#weights()} goes (overwritten); null when not wanted. */
    float[] weightGradient();

    /** Backward: where the gradient of {@link Layer#bias()} goes (overwritten); null when not wanted. */
    float[] biasGradient();

    /** Curvature mode: which curvature the product is of. */
    Curvature curvature();

    /** Curvature mode: R{a<sup>l-1</sup>} (and R of its tape); null for l = 1, where it is zero. */
    float[] rInput();

    /** Curvature mode: R of this layer's state. */
    float[] rOutput();

    /** Curvature mode: R{&part;L/&part;a<sup>l</sup>}, which the layer may overwrite. */
    float[] rGradOutput();

    /** Curvature mode: where R{&part;L/&part;a<sup>l-1</sup>} goes; null for l = 1. */
    float[] rGradInput();

    /** Curvature mode: the direction's part for {@link Layer#weights()}. */
    float[] directionWeights();

    /** Curvature mode: the direction's part for {@link Layer#bias()}. */
    float[] directionBias();

    /** Curvature mode: where the product's part for {@link Layer#weights()} goes (overwritten). */
    float[] productWeights();

    /** Curvature mode: where the product's part for {@link Layer#bias()} goes (overwritten). */
    float[] productBias();

    /** Answers scratch slot {@code k}, as declared by {@link Layer#scratch}: at least the floats asked for. */
    float[] scratch(int k);

    /**
     * Runs task {@code task} of this layer over {@code [0, extent)} on every thread: the threads take
     * ranges of {@code chunk} indices in turn and call {@link Layer#run} with them; returns when all
     * are done. Each index is run exactly once, by one thread.
     */
    void parallel(int task, int extent, int chunk);

    /** Answers rows per chunk for work by output rows: whole register tiles, sized for the threads. */
    int rowChunk();

    /** Answers samples per chunk for work by samples. */
    int sampleChunk();

    /**
     * A counter shared by the threads of the current {@link #parallel} task, 0 when it starts: for a
     * task whose later ranges wait for earlier ones.
     */
    java.util.concurrent.atomic.AtomicInteger taskCounter();

    /** Backward: whether the layer above already ran this layer's {@link Layer#gradientHead} on every row. */
    boolean headDone();

    /**
     * Backward: rows {@code [k0, k1)} of {@link #gradInput()} are final; lets the layer below run its
     * gradient head on them now (a no-op unless the executor chose to). From any thread.
     */
    void finishBelow(int k0, int k1);

    /**
     * Backward: shows a listener this layer's output f(z<sup>l</sup>) (for diagnostics such as dead
     * units), unit-major with n<sub>l</sub> rows. A no-op without a listener.
     */
    void observe(float[] output);

    /** Backward: counts one recomputation of a forward inside the backward (a residual branch). */
    void countRecomputation();
}
