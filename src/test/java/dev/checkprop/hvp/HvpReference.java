package dev.checkprop.hvp;

import dev.checkprop.nn.AffineLayer;
import dev.checkprop.nn.ResidualLayer;
import dev.checkprop.nn.DropoutLayer;
import dev.checkprop.nn.Layer;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.DenseLayer;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;

/**
 * An independent double-precision implementation of the loss, its gradient, and Pearlmutter's
 * R-operator, for the tests only, after {@code exec/DoubleReference}: sample by sample, row-major,
 * {@link Math#tanh} and {@link Math#exp}, no kernels, no plans, no fma; z is stored, and f', f'' are
 * computed from z (not from the output, as the executor does). Parameters are a flat vector θ in the
 * order W<sup>1</sup>, b<sup>1</sup>, W<sup>2</sup>, b<sup>2</sup>, ... so that finite differences and
 * explicit matrices are easy to write.
 */
final class HvpReference {

    final int depth;
    final int[] widths;
    final Layer[] layers;
    final int[] wOff;
    final int[] bOff;
    final int size;
    long step;

    HvpReference(Network net) {
        depth = net.depth();
        widths = new int[depth + 1];
        layers = new Layer[depth + 1];
        wOff = new int[depth + 1];
        bOff = new int[depth + 1];
        widths[0] = net.inputWidth();
        int off = 0;
        for (int l = 1; l <= depth; l++) {
            layers[l] = net.layer(l);
            widths[l] = net.width(l);
            wOff[l] = off;
            off += layers[l].weights().length;
            bOff[l] = off;
            off += layers[l].bias().length;
        }
        size = off;
    }

    double[] flatten(Network net) {
        double[] t = new double[size];
        for (int l = 1; l <= depth; l++) {
            float[] w = net.layer(l).weights();
            float[] b = net.layer(l).bias();
            for (int j = 0; j < w.length; j++) {
                t[wOff[l] + j] = w[j];
            }
            for (int j = 0; j < b.length; j++) {
                t[bOff[l] + j] = b[j];
            }
        }
        return t;
    }

    double[] flatten(Gradients g) {
        double[] t = new double[size];
        for (int l = 1; l <= depth; l++) {
            for (int j = 0; j < g.weights(l).length; j++) {
                t[wOff[l] + j] = g.weights(l)[j];
            }
            for (int j = 0; j < g.bias(l).length; j++) {
                t[bOff[l] + j] = g.bias(l)[j];
            }
        }
        return t;
    }

    static double act(Activation f, double z) {
        return switch (f) {
            case IDENTITY -> z;
            case TANH -> Math.tanh(z);
            case SIGMOID -> 1.0 / (1.0 + Math.exp(-z));
            case RELU -> Math.max(0.0, z);
        };
    }

    static double act1(Activation f, double z) {
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

    static double act2(Activation f, double z) {
        return switch (f) {
            case IDENTITY, RELU -> 0.0;
            case TANH -> {
                double t = Math.tanh(z);
                yield -2.0 * t * (1.0 - t * t);
            }
            case SIGMOID -> {
                double s = 1.0 / (1.0 + Math.exp(-z));
                yield s * (1.0 - s) * (1.0 - 2.0 * s);
            }
        };
    }

    /** Smallest |z| / (|R z| + 1e-300) over relu units: how far a ±h·v perturbation is from a kink. */
    double minReluMargin;

    /**
     * One pass: the loss (mean), and, when {@code grad} is non-null, the gradient; when {@code v} and
     * {@code prod} are non-null also C·v for the curvature (Hessian or Gauss-Newton); when
     * {@code jv} is non-null, the per-sample forward derivative R{a^L} (J v) row-major [N, nL].
     */
    double run(double[] theta, Batch data, Loss loss, double[] grad, double[] v, double[] prod, boolean gaussNewton,
               double[] jv) {
        final int n = data.size();
        final boolean r = v != null;
        if (grad != null) {
            java.util.Arrays.fill(grad, 0);
        }
        if (prod != null) {
            java.util.Arrays.fill(prod, 0);
        }
        minReluMargin = Double.POSITIVE_INFINITY;
        double total = 0;
        for (int s = 0; s < n; s++) {
            double[][] a = new double[depth + 1][];
            double[][] z = new double[depth + 1][];
            double[][] ra = new double[depth + 1][];
            double[][] rz = new double[depth + 1][];
            a[0] = new double[widths[0]];
            ra[0] = new double[widths[0]];
            for (int k = 0; k < widths[0]; k++) {
                a[0][k] = data.inputs()[s * widths[0] + k];
            }
            for (int l = 1; l <= depth; l++) {
                final int nIn = widths[l - 1];
                final int nOut = widths[l];
                z[l] = new double[nOut];
                a[l] = new double[nOut];
                rz[l] = new double[nOut];
                ra[l] = new double[nOut];
                Layer d = layers[l];
                for (int o = 0; o < nOut; o++) {
                    if (d instanceof DropoutLayer) {
                        double m = ((DropoutLayer) d).scale(step, l, (long) s * nOut + o);
                        a[l][o] = a[l - 1][o] * m;
                        ra[l][o] = ra[l - 1][o] * m;
                        continue;
                    }
                    double acc = theta[bOff[l] + o];
                    double racc = r ? v[bOff[l] + o] : 0;
                    for (int k = 0; k < nIn; k++) {
                        acc += theta[wOff[l] + o * nIn + k] * a[l - 1][k];
                        if (r) {
                            racc += theta[wOff[l] + o * nIn + k] * ra[l - 1][k] + v[wOff[l] + o * nIn + k] * a[l - 1][k];
                        }
                    }
                    z[l][o] = acc;
                    rz[l][o] = racc;
                    boolean res = d instanceof ResidualLayer;
                    a[l][o] = act(((AffineLayer) d).activation(), acc) + (res ? a[l - 1][o] : 0);
                    ra[l][o] = act1(((AffineLayer) d).activation(), acc) * racc + (res ? ra[l - 1][o] : 0);
                    if (((AffineLayer) d).activation() == Activation.RELU && r) {
                        minReluMargin = Math.min(minReluMargin, Math.abs(acc) / (Math.abs(racc) + 1e-300));
                    }
                }
            }
            final int nL = widths[depth];
            double[] g = new double[nL];
            double[] rg = new double[nL];
            double[] out = a[depth];
            if (loss == Loss.MSE) {
                for (int u = 0; u < nL; u++) {
                    double diff = out[u] - data.targets()[s * nL + u];
                    total += 0.5 * diff * diff;
                    g[u] = diff;
                    rg[u] = ra[depth][u];
                }
            } else {
                double max = Double.NEGATIVE_INFINITY;
                for (int u = 0; u < nL; u++) {
                    max = Math.max(max, out[u]);
                }
                double sum = 0;
                for (int u = 0; u < nL; u++) {
                    sum += Math.exp(out[u] - max);
                }
                int label = data.labels()[s];
                total += max + Math.log(sum) - out[label];
                double[] p = new double[nL];
                double pr = 0;
                for (int u = 0; u < nL; u++) {
                    p[u] = Math.exp(out[u] - max) / sum;
                    pr += p[u] * ra[depth][u];
                }
                for (int u = 0; u < nL; u++) {
                    g[u] = p[u] - (u == label ? 1 : 0);
                    rg[u] = p[u] * ra[depth][u] - p[u] * pr;
                }
            }
            if (jv != null) {
                for (int u = 0; u < nL; u++) {
                    jv[s * nL + u] = ra[depth][u];
                }
            }
            if (grad == null && prod == null) {
                continue;
            }
            for (int l = depth; l >= 1; l--) {
                final int nIn = widths[l - 1];
                final int nOut = widths[l];
                Layer d = layers[l];
                double[] gp = new double[nIn];
                double[] rgp = new double[nIn];
                if (d instanceof DropoutLayer) {
                    for (int o = 0; o < nOut; o++) {
                        double m = ((DropoutLayer) d).scale(step, l, (long) s * nOut + o);
                        gp[o] = g[o] * m;
                        rgp[o] = rg[o] * m;
                    }
                    g = gp;
                    rg = rgp;
                    continue;
                }
                boolean res = d instanceof ResidualLayer;
                double[] delta = new double[nOut];
                double[] rdelta = new double[nOut];
                for (int o = 0; o < nOut; o++) {
                    delta[o] = g[o] * act1(((AffineLayer) d).activation(), z[l][o]);
                    rdelta[o] = rg[o] * act1(((AffineLayer) d).activation(), z[l][o])
                            + (gaussNewton ? 0 : g[o] * act2(((AffineLayer) d).activation(), z[l][o]) * rz[l][o]);
                    if (grad != null) {
                        grad[bOff[l] + o] += delta[o] / n;
                    }
                    if (prod != null) {
                        prod[bOff[l] + o] += rdelta[o] / n;
                    }
                    for (int k = 0; k < nIn; k++) {
                        if (grad != null) {
                            grad[wOff[l] + o * nIn + k] += delta[o] * a[l - 1][k] / n;
                        }
                        if (prod != null) {
                            prod[wOff[l] + o * nIn + k] += (rdelta[o] * a[l - 1][k]
                                    + (gaussNewton ? 0 : delta[o] * ra[l - 1][k])) / n;
                        }
                    }
                }
                for (int k = 0; k < nIn; k++) {
                    double acc = res ? g[k] : 0;
                    double racc = res ? rg[k] : 0;
                    for (int o = 0; o < nOut; o++) {
                        acc += theta[wOff[l] + o * nIn + k] * delta[o];
                        if (r) {
                            racc += theta[wOff[l] + o * nIn + k] * rdelta[o]
                                    + (gaussNewton ? 0 : v[wOff[l] + o * nIn + k] * delta[o]);
                        }
                    }
                    gp[k] = acc;
                    rgp[k] = racc;
                }
                g = gp;
                rg = rgp;
            }
        }
        return total / n;
    }

    double[] gradient(double[] theta, Batch data, Loss loss) {
        double[] g = new double[size];
        run(theta, data, loss, g, null, null, false, null);
        return g;
    }

    double[] product(double[] theta, Batch data, Loss loss, double[] v, boolean gaussNewton) {
        double[] p = new double[size];
        run(theta, data, loss, null, v, p, gaussNewton, null);
        return p;
    }

    /** Central differences of the gradient along v: (∇L(θ + h v) − ∇L(θ − h v)) / 2h. */
    double[] finiteDifferenceProduct(double[] theta, Batch data, Loss loss, double[] v, double h) {
        double[] plus = theta.clone();
        double[] minus = theta.clone();
        for (int j = 0; j < size; j++) {
            plus[j] += h * v[j];
            minus[j] -= h * v[j];
        }
        double[] gp = gradient(plus, data, loss);
        double[] gm = gradient(minus, data, loss);
        double[] hv = new double[size];
        for (int j = 0; j < size; j++) {
            hv[j] = (gp[j] - gm[j]) / (2 * h);
        }
        return hv;
    }

    /**
     * The Gauss-Newton matrix built explicitly: J (per sample, [nL, P]) column by column from the forward
     * R-pass with v = e_p, then G = (1/N) Σ_s J_sᵀ H_s J_s with H_s = I (mse) or diag(p) − p pᵀ (softmax-ce).
     */
    double[][] gaussNewtonMatrix(double[] theta, Batch data, Loss loss) {
        final int n = data.size();
        final int nL = widths[depth];
        double[][] jac = new double[size][]; // jac[p] = J e_p, row-major [N, nL]
        for (int p = 0; p < size; p++) {
            double[] e = new double[size];
            e[p] = 1;
            jac[p] = new double[n * nL];
            run(theta, data, loss, null, e, null, true, jac[p]);
        }
        double[][] hs = new double[n][nL * nL];
        if (loss == Loss.MSE) {
            for (int s = 0; s < n; s++) {
                for (int u = 0; u < nL; u++) {
                    hs[s][u * nL + u] = 1;
                }
            }
        } else {
            double[] out = outputs(theta, data);
            for (int s = 0; s < n; s++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int u = 0; u < nL; u++) {
                    max = Math.max(max, out[s * nL + u]);
                }
                double sum = 0;
                for (int u = 0; u < nL; u++) {
                    sum += Math.exp(out[s * nL + u] - max);
                }
                double[] pr = new double[nL];
                for (int u = 0; u < nL; u++) {
                    pr[u] = Math.exp(out[s * nL + u] - max) / sum;
                }
                for (int u = 0; u < nL; u++) {
                    for (int w = 0; w < nL; w++) {
                        hs[s][u * nL + w] = (u == w ? pr[u] : 0) - pr[u] * pr[w];
                    }
                }
            }
        }
        double[][] gm = new double[size][size];
        for (int p = 0; p < size; p++) {
            for (int q = 0; q < size; q++) {
                double acc = 0;
                for (int s = 0; s < n; s++) {
                    for (int u = 0; u < nL; u++) {
                        for (int w = 0; w < nL; w++) {
                            acc += jac[p][s * nL + u] * hs[s][u * nL + w] * jac[q][s * nL + w];
                        }
                    }
                }
                gm[p][q] = acc / n;
            }
        }
        return gm;
    }

    /** a^L row-major [N, nL] (forward only). */
    double[] outputs(double[] theta, Batch data) {
        // J e_0's pass also computes the outputs; simplest to rerun with a recording direction of zeros.
        final int n = data.size();
        final int nL = widths[depth];
        double[] out = new double[n * nL];
        for (int s = 0; s < n; s++) {
            double[] a = new double[widths[0]];
            for (int k = 0; k < widths[0]; k++) {
                a[k] = data.inputs()[s * widths[0] + k];
            }
            for (int l = 1; l <= depth; l++) {
                Layer d = layers[l];
                double[] next = new double[widths[l]];
                for (int o = 0; o < widths[l]; o++) {
                    if (d instanceof DropoutLayer) {
                        next[o] = a[o] * ((DropoutLayer) d).scale(step, l, (long) s * widths[l] + o);
                        continue;
                    }
                    double acc = theta[bOff[l] + o];
                    for (int k = 0; k < widths[l - 1]; k++) {
                        acc += theta[wOff[l] + o * widths[l - 1] + k] * a[k];
                    }
                    next[o] = act(((AffineLayer) d).activation(), acc) + (d instanceof ResidualLayer ? a[o] : 0);
                }
                a = next;
            }
            System.arraycopy(a, 0, out, s * nL, nL);
        }
        return out;
    }

    static double dot(double[] x, double[] y) {
        double s = 0;
        for (int j = 0; j < x.length; j++) {
            s += x[j] * y[j];
        }
        return s;
    }

    static double norm(double[] x) {
        return Math.sqrt(dot(x, x));
    }

    /** ‖x − y‖ / ‖y‖. */
    static double relativeError(double[] x, double[] y) {
        double d = 0;
        for (int j = 0; j < x.length; j++) {
            d += (x[j] - y[j]) * (x[j] - y[j]);
        }
        return Math.sqrt(d) / norm(y);
    }
}
