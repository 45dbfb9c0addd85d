package dev.checkprop.train;

import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Network;

/**
 * Stochastic gradient descent, optionally with heavy-ball momentum &mu; and L2 weight decay, as
 * PyTorch's {@code torch.optim.SGD} (dampening 0, not Nesterov). For each weight, in float:
 * <pre>
 * g' = g + wd&middot;w                     (biases: g' = g)
 * without momentum:  w = w &minus; lr&middot;g'
 * with momentum:     v = &mu;&middot;v + g';  w = w &minus; lr&middot;v      (v starts at 0)
 * </pre>
 * The velocity v is allocated (once) only when &mu; &gt; 0, so plain SGD holds no state.
 */
public final class Sgd implements Optimizer {

    private final Parameters params;
    private final LearningRate lr;
    private final float momentum;
    private final float weightDecay;
    private final float[][] velocity;

    /** Plain SGD: no momentum, no weight decay. */
    public Sgd(Network net, LearningRate lr) {
        this(net, lr, 0, 0);
    }

    /**
     * @param momentum    &mu; in [0, 1); 0 for none
     * @param weightDecay the L2 coefficient wd &ge; 0, added to weight gradients
     * @throws IllegalArgumentException on a hyperparameter out of range
     */
    public Sgd(Network net, LearningRate lr, double momentum, double weightDecay) {
        this.params = new Parameters(net);
        this.lr = java.util.Objects.requireNonNull(lr, "lr");
        this.momentum = Parameters.hyper("momentum", momentum, 0, 1, false);
        this.weightDecay = Parameters.hyper("weight decay", weightDecay, 0, Double.MAX_VALUE, true);
        this.velocity = this.momentum > 0 ? params.zerosLike() : null;
    }

    @Override
    public void step(Gradients g, int stepIndex) {
        params.check(g);
        final float rate = Parameters.learningRate(lr, stepIndex);
        for (int t = 0; t < params.tensors.length; t++) {
            final float[] w = params.tensors[t];
            final float[] grad = Parameters.gradient(g, t);
            final float wd = Parameters.decays(t) ? weightDecay : 0f;
            if (velocity == null) {
                for (int i = 0; i < w.length; i++) {
                    w[i] -= rate * (grad[i] + wd * w[i]);
                }
            } else {
                final float[] v = velocity[t];
                for (int i = 0; i < w.length; i++) {
                    v[i] = momentum * v[i] + (grad[i] + wd * w[i]);
                    w[i] -= rate * v[i];
                }
            }
        }
    }

    /** Answers 0 without momentum, else 4 bytes per parameter (the velocity). */
    @Override
    public java.util.List<float[]> stateArrays() {
        return velocity == null ? java.util.List.of() : java.util.List.of(velocity);
    }

    @Override
    public long stateBytes() {
        return velocity == null ? 0 : 4L * params.count;
    }

    @Override
    public String name() {
        return "sgd";
    }

    @Override
    public String toString() {
        return "sgd(lr=" + lr + ", momentum=" + momentum + ", weight_decay=" + weightDecay + ")";
    }
}
