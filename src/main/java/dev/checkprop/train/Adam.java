package dev.checkprop.train;

import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Network;

/**
 * Adam (Kingma and Ba, 2015) with bias correction and optional L2 weight decay added to the
 * gradient, as PyTorch's {@code torch.optim.Adam}. At step index s (t = s + 1), for each weight, in
 * float:
 * <pre>
 * g' = g + wd&middot;w                        (biases: g' = g)
 * m = &beta;1&middot;m + (1 &minus; &beta;1)&middot;g'
 * v = &beta;2&middot;v + (1 &minus; &beta;2)&middot;g'&sup2;
 * w = w &minus; lr&middot;(m / (1 &minus; &beta;1^t)) / (&radic;(v / (1 &minus; &beta;2^t)) + &epsilon;)
 * </pre>
 * m and v start at 0 and are allocated once: 8 bytes of state per parameter. For weight decay
 * that does not pass through the adaptive scaling, use {@link AdamW}.
 */
public final class Adam implements Optimizer {

    /** PyTorch's defaults. */
    public static final double DEFAULT_BETA1 = 0.9;
    /** PyTorch's defaults. */
    public static final double DEFAULT_BETA2 = 0.999;
    /** PyTorch's defaults. */
    public static final double DEFAULT_EPS = 1e-8;

    private final AdamState state;

    /** Adam with &beta;1 = 0.9, &beta;2 = 0.999, &epsilon; = 1e-8 and no weight decay. */
    public Adam(Network net, LearningRate lr) {
        this(net, lr, DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPS, 0);
    }

    /**
     * @param beta1       in [0, 1)
     * @param beta2       in [0, 1)
     * @param eps         &gt; 0
     * @param weightDecay the L2 coefficient wd &ge; 0, added to weight gradients
     * @throws IllegalArgumentException on a hyperparameter out of range
     */
    public Adam(Network net, LearningRate lr, double beta1, double beta2, double eps, double weightDecay) {
        state = new AdamState(net, lr, beta1, beta2, eps, weightDecay, false);
    }

    @Override
    public void step(Gradients g, int stepIndex) {
        state.step(g, stepIndex);
    }

    /** Answers 8 bytes per parameter: m and v. */
    @Override
    public java.util.List<float[]> stateArrays() {
        return state.stateArrays();
    }

    @Override
    public long stateBytes() {
        return state.stateBytes();
    }

    @Override
    public String name() {
        return "adam";
    }

    @Override
    public String toString() {
        return state.describe(name());
    }
}
