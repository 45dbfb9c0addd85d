package dev.checkprop.nn;

/**
 * One layer l of the chain: a map from a<sup>l-1</sup> (width {@link #inputWidth()}) to a<sup>l</sup>
 * (width {@link #outputWidth()}), with its parameters and its maths. The executor runs any layer
 * through this interface and contains no layer maths; a layer holds parameters only, never
 * activations, so one layer serves every plan and every executor at once.
 *
 * <h2>NOTE [State and tape]</h2>
 * Activations are unit-major float arrays: unit u of sample i at {@code u*N + i} for a batch of N.
 * What the executor keeps for layer l between its forward and its backward is the layer's
 * <em>state</em>: a<sup>l</sup> in rows 0 .. n<sub>l</sub>&minus;1 of one array, followed by
 * {@link #tapeRows()} rows of extra tape the backward needs (a GELU layer's z, LayerNorm's per-sample
 * mean and reciprocal deviation). The next layer reads rows 0 .. n<sub>l</sub>&minus;1 only. In
 * curvature mode every state has a twin of the same shape holding its R-operator image. How many
 * bytes a state takes in each mode is answered in one place from these two numbers
 * ({@code dev.checkprop.memory.StateModel}), for the planners, the executor's pools and the
 * memory reports alike.
 *
 * <h2>NOTE [Bit-exact recomputation]</h2>
 * A plan may run a layer's forward several times per step; every plan gives the gradients of full
 * storage bit for bit only if a forward's results depend on nothing but its inputs, parameters and
 * (for random layers) {@link LayerContext#step()}: each output element must be one fixed sequence of
 * IEEE operations, whatever the thread split. Split work by whole output elements, never by a
 * reduction index; reduce in a fixed order. The backward of each layer runs once per step.
 *
 * <h2>Writing a layer</h2>
 * Implement {@link #forward} and {@link #backward}, and the two tangent methods if curvature
 * products must pass through it. Parallel work goes through {@link LayerContext#parallel}, which
 * calls back {@link #run} on every thread with ranges of a task's extent; a layer keeps no mutable
 * fields (several executors may run it at once) and allocates nothing in these methods: scratch
 * arrays are declared by {@link #scratch} and handed out by the context. See docs/layers.md.
 *
 * <p>Parameters are at most two arrays, {@link #weights()} and {@link #bias()} (either may be empty),
 * the backing arrays, updated in place by optimizers; model files name them
 * {@code layers.{l-1}.weight} and {@code layers.{l-1}.bias}. Gradients, directions and products
 * have the same two arrays per layer.
 */
public interface Layer {

    /** Answers n<sub>l-1</sub>. */
    int inputWidth();

    /** Answers n<sub>l</sub>. */
    int outputWidth();

    /** Answers the kind as written in model files ({@code layers.{l}.kind}), e.g. {@code dense}. */
    String kind();

    /** Answers a short description for listings, e.g. {@code dense tanh} or {@code dropout 0.25}. */
    default String describe() {
        return kind();
    }

    /** Answers the first parameter array (W for a dense layer), empty when the layer has none: the backing array. */
    float[] weights();

    /** Answers the second parameter array (b), empty when the layer has none: the backing array. */
    float[] bias();

    /** Answers the shape of {@link #weights()} in model and gradient files: {@code [length]} by default. */
    default long[] weightShape() {
        return new long[]{weights().length};
    }

    /** Answers the shape of {@link #bias()} in model and gradient files: {@code [length]} by default. */
    default long[] biasShape() {
        return new long[]{bias().length};
    }

    /** Answers whether the layer has any parameter. */
    default boolean hasParameters() {
        return weights().length + bias().length > 0;
    }

    /** Answers a deep copy (parameters copied). */
    Layer copy();

    /**
     * Answers the rows of extra tape per state, kept after a<sup>l</sup> in the same array (see the
     * class notes): their cost in memory is counted by every planner and memory prediction. 0 by default.
     */
    default int tapeRows() {
        return 0;
    }

    /**
     * Answers the cost of one forward evaluation for a batch of {@code batch}, in flops or any
     * proportional weight: what planners minimise. At least 1.
     */
    long forwardCost(int batch);

    /**
     * Answers the cost of one forward evaluation with its tangent ({@link #forwardWithTangent}), for
     * planning curvature products; {@code firstLayer} when R{a<sup>0</sup>} = 0 spares work. Twice
     * {@link #forwardCost} by default.
     */
    default long tangentCost(int batch, boolean firstLayer) {
        return 2 * forwardCost(batch);
    }

    /** Answers the flops one forward evaluation performs (0 for a layer with no product), for reports. */
    long forwardFlops(int batch);

    /**
     * Answers the flops the backward recomputes of the forward (a residual block recomputes its
     * branch), 0 by default.
     */
    default long backwardRecomputedFlops(int batch) {
        return 0;
    }

    /**
     * Answers the scratch arrays this layer's forward and backward use, as float counts per slot for a
     * batch of {@code batch}; slot k of every layer is one array, as large as the largest request
     * (layers run one at a time). {@code curvature} asks for the tangent methods' needs.
     */
    default long[] scratch(int batch, boolean curvature) {
        return new long[0];
    }

    /**
     * Computes this layer's state (a<sup>l</sup> and its tape) into {@link LayerContext#output()} from
     * {@link LayerContext#input()}. In inference ({@code !context.training()}) random layers are the identity.
     */
    void forward(LayerContext context);

    /**
     * Given &part;L/&part;a<sup>l</sup> in {@link LayerContext#gradOutput()} (which it may overwrite),
     * writes &part;L/&part;a<sup>l-1</sup> into {@link LayerContext#gradInput()} (null for l = 1: not
     * needed) and the parameters' gradients into {@link LayerContext#weightGradient()} and
     * {@link LayerContext#biasGradient()} (overwritten). Its state and a<sup>l-1</sup> are live.
     */
    void backward(LayerContext context);

    /**
     * As {@link #forward}, and also the state's R-image R{a<sup>l</sup>} (and R of the tape) into
     * {@link LayerContext#rOutput()} from {@link LayerContext#rInput()} (null for l = 1: R{a<sup>0</sup>}
     * = 0) and the direction's parts for this layer.
     *
     * @throws UnsupportedOperationException if the layer has no R-operator (the default)
     */
    default void forwardWithTangent(LayerContext context) {
        throw new UnsupportedOperationException(describe() + " layers have no R-operator: curvature products cannot pass them");
    }

    /**
     * As {@link #backward} (gradients skipped where their arrays are null), and also
     * R{&part;L/&part;a<sup>l-1</sup>} into {@link LayerContext#rGradInput()} and this layer's part of the
     * curvature product into {@link LayerContext#productWeights()} and {@link LayerContext#productBias()},
     * for {@link LayerContext#curvature()}.
     *
     * @throws UnsupportedOperationException if the layer has no R-operator (the default)
     */
    default void backwardWithTangent(LayerContext context) {
        throw new UnsupportedOperationException(describe() + " layers have no R-operator: curvature products cannot pass them");
    }

    /**
     * Runs rows {@code [from, to)} of task {@code task}, on whichever thread the context's
     * {@link LayerContext#parallel} gave them to. Called only through that method.
     */
    default void run(LayerContext context, int task, int from, int to) {
        throw new IllegalStateException(describe() + " started parallel task " + task + " but does not run tasks");
    }

    /**
     * Whether the start of this layer's backward is element-wise by output rows and can be run by the
     * layer above on each range of rows of &part;L/&part;a<sup>l</sup> as soon as it is final, while the
     * rows are in cache ({@link #gradientHead}). False by default.
     */
    default boolean hasGradientHead() {
        return false;
    }

    /**
     * The element-wise start of the backward for output rows {@code [u0, u1)} (gradient mode only);
     * when the context says {@link LayerContext#headDone()}, {@link #backward} must skip it. Uses no
     * scratch. Called only if {@link #hasGradientHead()}.
     */
    default void gradientHead(LayerContext context, int u0, int u1) {
        throw new IllegalStateException(describe() + " has no gradient head");
    }

    /**
     * Whether this layer's {@link #backward} calls {@link LayerContext#finishBelow} for every range of
     * rows of &part;L/&part;a<sup>l-1</sup> it completes, so that the layer below's head can run there.
     */
    default boolean finishesInputRows() {
        return false;
    }
}
