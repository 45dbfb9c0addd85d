package dev.checkprop.exec;

import dev.checkprop.nn.AffineLayer;
import dev.checkprop.nn.DropoutLayer;
import dev.checkprop.nn.Layer;
import dev.checkprop.nn.ResidualLayer;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.DenseLayer;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;

/**
 * An independent, plain double-precision implementation of the derivation, written for the tests
 * only: sample by sample, row-major, with {@link Math#tanh} and {@link Math#exp}, no kernels, no
 * plans, no fma. It reads the float parameters of a network (or overrides given in double).
 */
final class DoubleReference {

    final double[][] w;
    final double[][] b;
    final int[] widths;
    final Activation[] f;
    final Layer[] layers;

    DoubleReference(Network net) {
        int depth = net.depth();
        w = new double[depth + 1][];
        b = new double[depth + 1][];
        widths = new int[depth + 1];
        f = new Activation[depth + 1];
        layers = new Layer[depth + 1];
        widths[0] = net.inputWidth();
        for (int l = 1; l <= depth; l++) {
            Layer d = net.layer(l);
            w[l] = toDouble(d.weights());
            b[l] = toDouble(d.bias());
            widths[l] = d.outputWidth();
            f[l] = d instanceof AffineLayer a ? a.activation() : Activation.IDENTITY;
            layers[l] = d;
        }
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    int depth() {
        return widths.length - 1;
    }

    static double act(Activation f, double z) {
        return switch (f) {
            case IDENTITY -> z;
            case TANH -> Math.tanh(z);
            case SIGMOID -> 1.0 / (1.0 + Math.exp(-z));
            case RELU -> Math.max(0.0, z);
        };
    }

    static double actPrime(Activation f, double z) {
        return switch (f) {
            case IDENTITY -> 1.0;
            case TANH -> 1.0 - Math.tanh(z) * Math.tanh(z);
            case SIGMOID -> {
                double s = 1.0 / (1.0 + Math.exp(-z));
                yield s * (1.0 - s);
            }
            case RELU -> z > 0 ? 1.0 : 0.0;
        };
    }

    long step;

    /** Loss (mean over the batch), and if gw/gb are non-null, its gradients. */
    double lossAndGradients(Batch data, Loss loss, double[][] gw, double[][] gb) {
        int depth = depth();
        int n = data.size();
        if (gw != null) {
            for (int l = 1; l <= depth; l++) {
                gw[l] = new double[w[l].length];
                gb[l] = new double[b[l].length];
            }
        }
        double total = 0;
        for (int s = 0; s < n; s++) {
            double[][] a = new double[depth + 1][];
            double[][] z = new double[depth + 1][];
            a[0] = new double[widths[0]];
            for (int k = 0; k < widths[0]; k++) {
                a[0][k] = data.inputs()[s * widths[0] + k];
            }
            for (int l = 1; l <= depth; l++) {
                z[l] = new double[widths[l]];
                a[l] = new double[widths[l]];
                Layer kind = layers[l];
                for (int o = 0; o < widths[l]; o++) {
                    if (kind instanceof DropoutLayer) {
                        a[l][o] = a[l - 1][o] * ((DropoutLayer) layers[l]).scale(step, l, (long) s * widths[l] + o);
                        continue;
                    }
                    double acc = b[l][o];
                    for (int k = 0; k < widths[l - 1]; k++) {
                        acc += w[l][o * widths[l - 1] + k] * a[l - 1][k];
                    }
                    z[l][o] = acc;
                    a[l][o] = act(f[l], acc) + (kind instanceof ResidualLayer ? a[l - 1][o] : 0.0);
                }
            }
            int nL = widths[depth];
            double[] dcda = new double[nL];
            if (loss == Loss.MSE) {
                double c = 0;
                for (int u = 0; u < nL; u++) {
                    double d = a[depth][u] - data.targets()[s * nL + u];
                    c += 0.5 * d * d;
                    dcda[u] = d;
                }
                total += c;
            } else {
                double max = Double.NEGATIVE_INFINITY;
                for (int u = 0; u < nL; u++) {
                    max = Math.max(max, a[depth][u]);
                }
                double sum = 0;
                for (int u = 0; u < nL; u++) {
                    sum += Math.exp(a[depth][u] - max);
                }
                int label = data.labels()[s];
                total += max + Math.log(sum) - a[depth][label];
                for (int u = 0; u < nL; u++) {
                    dcda[u] = Math.exp(a[depth][u] - max) / sum - (u == label ? 1 : 0);
                }
            }
            if (gw == null) {
                continue;
            }
            // Backward in terms of dc/da^l: dense dz = dc/da (.) f'(z), dc/db = dz, dc/dW = dz a^(l-1)^T,
            // dc/da^(l-1) = W^T dz; a residual block adds the skip term dc/da^l; dropout scales by its mask.
            double[] dcdaL = dcda;
            for (int l = depth; l >= 1; l--) {
                int nIn = widths[l - 1];
                double[] prev = new double[nIn];
                Layer kind = layers[l];
                if (kind instanceof DropoutLayer) {
                    for (int o = 0; o < nIn; o++) {
                        prev[o] = dcdaL[o] * ((DropoutLayer) layers[l]).scale(step, l, (long) s * widths[l] + o);
                    }
                    dcdaL = prev;
                    continue;
                }
                double[] dz = new double[widths[l]];
                for (int o = 0; o < widths[l]; o++) {
                    dz[o] = dcdaL[o] * actPrime(f[l], z[l][o]);
                    gb[l][o] += dz[o] / n;
                    for (int k = 0; k < nIn; k++) {
                        gw[l][o * nIn + k] += dz[o] * a[l - 1][k] / n;
                    }
                }
                for (int k = 0; k < nIn; k++) {
                    double acc = kind instanceof ResidualLayer ? dcdaL[k] : 0.0;
                    for (int o = 0; o < widths[l]; o++) {
                        acc += w[l][o * nIn + k] * dz[o];
                    }
                    prev[k] = acc;
                }
                dcdaL = prev;
            }
        }
        return total / n;
    }
}
