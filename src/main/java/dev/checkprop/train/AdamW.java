package dev.checkprop.train;

import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Network;

/**
 * AdamW (Loshchilov and Hutter, 2019): {@link Adam} with decoupled weight decay, as PyTorch's
 * {@code torch.optim.AdamW}. Each step first shrinks every weight, w = w &minus; lr&middot;wd&middot;w
 * (computed as one multiplication by 1 &minus; lr&middot;wd, as PyTorch does), then applies Adam's
 * update with the plain gradient. Unlike Adam's L2 term, the decay is not divided by
 * &radic;v, so every weight decays at the same relative rate. Biases do not decay. 8 bytes of state
 * per parameter.
 */
public final class AdamW implements Optimizer {

    /** PyTorch's default weight decay for AdamW. */
    public static final double DEFAULT_WEIGHT_DECAY = 0.01;

    private final AdamState state;

    /** AdamW with &beta;1 = 0.9, &beta;2 = 0.999, &epsilon; = 1e-8 and wd = 0.01. */
    public AdamW(Network net, LearningRate lr) {
        this(net, lr, Adam.DEFAULT_BETA1, Adam.DEFAULT_BETA2, Adam.DEFAULT_EPS, DEFAULT_WEIGHT_DECAY);
    }

    /**
     * @param beta1       in [0, 1)
     * @param beta2       in [0, 1)
     * @param eps         &gt; 0
     * @param weightDecay the decoupled decay coefficient wd &ge; 0
     * @throws IllegalArgumentException on a hyperparameter out of range
     */
    public AdamW(Network net, LearningRate lr, double beta1, double beta2, double eps, double weightDecay) {
        state = new AdamState(net, lr, beta1, beta2, eps, weightDecay, true);
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
        return "adamw";
    }

    @Override
    public String toString() {
        return state.describe(name());
    }
}
