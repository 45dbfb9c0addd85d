package dev.checkprop.train;

import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Network;

/**
 * The update shared by {@link Adam} and {@link AdamW}, which differ only in how weight decay enters:
 * into the gradient (L2) or straight into the weights (decoupled).
 */
final class AdamState {

    final Parameters params;
    final LearningRate lr;
    final float beta1;
    final float beta2;
    final float eps;
    final float weightDecay;
    private final boolean decoupled;
    private final float[][] m;
    private final float[][] v;

    AdamState(Network net, LearningRate lr, double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
        this.params = new Parameters(net);
        this.lr = java.util.Objects.requireNonNull(lr, "lr");
        this.beta1 = Parameters.hyper("beta1", beta1, 0, 1, false);
        this.beta2 = Parameters.hyper("beta2", beta2, 0, 1, false);
        this.eps = Parameters.hyper("eps", eps, 0, Double.MAX_VALUE, true);
        if (this.eps == 0f) {
            // A zero or float-underflowing eps divides 0 by 0 wherever a gradient has stayed 0.
            throw new IllegalArgumentException("eps must be a positive float, got " + eps);
        }
        this.weightDecay = Parameters.hyper("weight decay", weightDecay, 0, Double.MAX_VALUE, true);
        this.decoupled = decoupled;
        this.m = params.zerosLike();
        this.v = params.zerosLike();
    }

    void step(Gradients g, int stepIndex) {
        params.check(g);
        final float rate = Parameters.learningRate(lr, stepIndex);
        final long t = stepIndex + 1L;
        final float correction1 = (float) (1 - Schedules.powInt(beta1, t));
        final float correction2 = (float) (1 - Schedules.powInt(beta2, t));
        final float oneMinusBeta1 = 1f - beta1;
        final float oneMinusBeta2 = 1f - beta2;
        // As PyTorch's AdamW: one multiplication by (1 - lr wd), i.e. w - lr wd w.
        final float shrink = 1f - rate * weightDecay;
        for (int k = 0; k < params.tensors.length; k++) {
            final float[] w = params.tensors[k];
            final float[] grad = Parameters.gradient(g, k);
            final float[] mk = m[k];
            final float[] vk = v[k];
            final boolean decays = Parameters.decays(k) && weightDecay != 0f;
            final float l2 = decays && !decoupled ? weightDecay : 0f;
            if (decays && decoupled) {
                for (int i = 0; i < w.length; i++) {
                    w[i] *= shrink;
                }
            }
            for (int i = 0; i < w.length; i++) {
                final float gi = grad[i] + l2 * w[i];
                mk[i] = beta1 * mk[i] + oneMinusBeta1 * gi;
                vk[i] = beta2 * vk[i] + oneMinusBeta2 * (gi * gi);
                final float mHat = mk[i] / correction1;
                final float vHat = vk[i] / correction2;
                w[i] -= rate * mHat / ((float) Math.sqrt(vHat) + eps);
            }
        }
    }

    java.util.List<float[]> stateArrays() {
        java.util.List<float[]> all = new java.util.ArrayList<>(java.util.Arrays.asList(m));
        all.addAll(java.util.Arrays.asList(v));
        return all;
    }

    long stateBytes() {
        return 8L * params.count;
    }

    String describe(String name) {
        return name + "(lr=" + lr + ", beta1=" + beta1 + ", beta2=" + beta2 + ", eps=" + eps + ", weight_decay=" + weightDecay + ")";
    }
}
