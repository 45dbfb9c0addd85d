package dev.checkprop.exec;

import dev.checkprop.kernel.DenseKernels;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Layer;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;

import java.util.Locale;

/**
 * The executor's check of its own results. On the normal path it reads the loss and every gradient
 * (or product) element once and allocates nothing; only when something is non-finite does it
 * locate the first layer responsible, with a plain forward pass of its own (the executor's buffers
 * may already hold other activations by then).
 */
final class NonFiniteCheck {

    private NonFiniteCheck() {
    }

    /**
     * Answers {@code value} if it and every element of {@code gradient} and {@code product} (either
     * may be null) are finite. Allocates nothing unless they are not
     * ({@code locator} then runs an inference pass to find the first layer whose output is not finite).
     *
     * @throws NonFiniteException naming the first layer, in the order the values were computed,
     *                            whose values are not finite
     */
    static double check(Network net, Batch data, Loss loss, double value, Gradients gradient, Gradients product,
                        Executor locator) {
        final DenseKernels k = locator.kernels();
        if (Double.isFinite(value) && finite(net, gradient, k) == 0 && finite(net, product, k) == 0) {
            return value;
        }
        throw locate(net, data, loss, value, gradient, product, locator.firstNonFiniteStateUnguarded(data));
    }

    /** 0 if every parameter-shaped element is finite, else the highest layer with a non-finite one. */
    private static int finite(Network net, Gradients g, DenseKernels k) {
        if (g == null) {
            return 0;
        }
        // From the top: the backward pass computes layer L's gradient first.
        for (int l = net.depth(); l >= 1; l--) {
            if (!net.layer(l).hasParameters()) {
                continue;
            }
            if (!k.allFinite(g.weights(l)) || !k.allFinite(g.bias(l))) {
                return l;
            }
        }
        return 0;
    }

    /** @param layer the first layer whose output is not finite in an inference pass on {@code data}, or 0 */
    static NonFiniteException locate(Network net, Batch data, Loss loss, double value, Gradients gradient,
                                     Gradients product, int layer) {
        if (layer > 0) {
            Layer d = net.layer(layer);
            double w = maxAbs(d.weights(), d.bias());
            if (!Double.isFinite(w)) {
                // Not an overflow in the pass: the parameters themselves (a training update overflowed).
                return new NonFiniteException(layer, String.format(Locale.ROOT,
                        "non-finite result: layer %d (layers.%d, %s) has NaN or infinite parameters (did an update"
                                + " overflow? lower the learning rate); the loss is %s and nothing was written",
                        layer, layer - 1, d.describe(), value));
            }
            return new NonFiniteException(layer, String.format(Locale.ROOT,
                    "non-finite result: the forward pass overflows at layer %d (layers.%d, %s, %d x %d weights"
                            + " up to |w| = %.3g): its output a^%d is NaN or infinite although its input is finite;"
                            + " the loss is %s and nothing was written",
                    layer, layer - 1, d.describe(), d.outputWidth(), d.inputWidth(),
                    maxAbs(d.weights(), d.bias()), layer, value));
        }
        if (!Double.isFinite(value)) {
            return new NonFiniteException(0, String.format(Locale.ROOT,
                    "non-finite result: every layer's output is finite but the %s loss is %s (targets or outputs too large"
                            + " for float range%s); nothing was written", loss.cliName(), value,
                    data.targets() != null ? String.format(Locale.ROOT, ", largest |y| = %.3g", maxAbs(data.targets(), null))
                            : ""));
        }
        // The error path: which kernels check is immaterial.
        int g = finite(net, gradient, Kernels.scalar());
        if (g > 0) {
            return new NonFiniteException(g, "non-finite result: the loss is " + value + " but the gradient of layer " + g
                    + " (layers." + (g - 1) + ") is NaN or infinite, the first the backward pass reaches;"
                    + " nothing was written");
        }
        int p = finite(net, product, Kernels.scalar());
        return new NonFiniteException(p, "non-finite result: the loss is " + value + " but the curvature product of layer "
                + p + " (layers." + (p - 1) + ") is NaN or infinite, the first the backward pass reaches (is the direction"
                + " too large?); nothing was written");
    }

    private static double maxAbs(float[] a, float[] b) {
        double m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        if (b != null) {
            for (float v : b) {
                m = Math.max(m, Math.abs(v));
            }
        }
        return m;
    }
}
