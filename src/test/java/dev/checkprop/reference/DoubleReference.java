package dev.checkprop.reference;

import dev.checkprop.nn.Activation;
import dev.checkprop.nn.AffineLayer;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.DenseLayer;
import dev.checkprop.nn.DropoutLayer;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Layer;
import dev.checkprop.nn.LayerNormLayer;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.ResidualLayer;

import java.util.Arrays;

/**
 * An independent, plain double-precision implementation of the derivation, written for the tests
 * only: the loss, its gradient, and Pearlmutter's R-operator for Hessian- and Gauss-Newton-vector
 * products. Sample by sample, feature-major per sample, {@link Math#tanh}, {@link Math#exp} and
 * {@link Math#sqrt}, no kernels, no plans, no layer code, no fma; z is stored and f', f'' are computed
 * from z (not from the output, as the library does). It reads only the layers' kinds (by class),
 * parameters, activations, LayerNorm's &epsilon; and dropout masks ({@link DropoutLayer#scale}).
 *
 * <p>Layers:
 * <ul>
 * <li>dense a = f(W x + b), residual a = x + f(W x + b);</li>
 * <li>dropout a = x &middot; m (m the mask of the {@link #step});</li>
 * <li>LayerNorm per sample over its n features: &mu; = mean x, &sigma;&sup2; = mean (x &minus; &mu;)&sup2; (biased),
 *     r = 1/&radic;(&sigma;&sup2; + &epsilon;), x&#770; = (x &minus; &mu;) r, y = &gamma; x&#770; + &beta;. Its backward, with
 *     g&#770; = g &gamma;: &part;x = r (g&#770; &minus; mean g&#770; &minus; x&#770; mean(g&#770; x&#770;)), &part;&gamma; = &Sigma; g x&#770;,
 *     &part;&beta; = &Sigma; g. Its R-operator by the product rule on each of these.</li>
 * </ul>
 * Parameters are a flat vector &theta; in the order W<sup>1</sup>, b<sup>1</sup>, W<sup>2</sup>, b<sup>2</sup>, ...
 * (a LayerNorm's &gamma; as W, &beta; as b), so that finite differences and explicit matrices are easy
 * to write; {@link #w} and {@link #b} hold the network's parameters per layer for
 * {@link #lossAndGradients}.
 */
public final class DoubleReference {

    public final int depth;
    public final int[] widths;
    public final Layer[] layers;
    /** Offsets of W<sup>l</sup> and b<sup>l</sup> in &theta;. */
    public final int[] wOff;
    public final int[] bOff;
    /** The parameter count P. */
    public final int size;
    /** The network's parameters in double, per layer, read (and may be changed) by {@link #lossAndGradients}. */
    public final double[][] w;
    public final double[][] b;
    /** The training step whose dropout masks are used. */
    public long step;
    /** After a run with a direction: smallest |z| / (|R z| + 1e-300) over relu units, how far a &plusmn;h&middot;v perturbation is from a kink. */
    public double minReluMargin;

    public DoubleReference(Network net) {
        depth = net.depth();
        widths = new int[depth + 1];
        layers = new Layer[depth + 1];
        wOff = new int[depth + 1];
        bOff = new int[depth + 1];
        w = new double[depth + 1][];
        b = new double[depth + 1][];
        widths[0] = net.inputWidth();
        int off = 0;
        for (int l = 1; l <= depth; l++) {
            Layer d = net.layer(l);
            if (!(d instanceof DenseLayer || d instanceof ResidualLayer || d instanceof DropoutLayer || d instanceof LayerNormLayer)) {
                throw new IllegalArgumentException("the reference knows dense, residual, dropout and layernorm layers, not "
                        + d.describe());
            }
            layers[l] = d;
            widths[l] = net.width(l);
            w[l] = toDouble(d.weights());
            b[l] = toDouble(d.bias());
            wOff[l] = off;
            off += d.weights().length;
            bOff[l] = off;
            off += d.bias().length;
        }
        size = off;
    }

    public int depth() {
        return depth;
    }

    public static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    /** Answers &theta; of {@code net} (shaped like the one this reference was built for). */
    public double[] flatten(Network net) {
        double[] t = new double[size];
        for (int l = 1; l <= depth; l++) {
            put(t, l, toDouble(net.layer(l).weights()), toDouble(net.layer(l).bias()));
        }
        return t;
    }

    /** Answers gradients, a direction or a product as one flat vector in &theta;'s order. */
    public double[] flatten(Gradients g) {
        double[] t = new double[size];
        for (int l = 1; l <= depth; l++) {
            put(t, l, toDouble(g.weights(l)), toDouble(g.bias(l)));
        }
        return t;
    }

    /** Answers {@link #w} and {@link #b} as &theta;. */
    public double[] theta() {
        double[] t = new double[size];
        for (int l = 1; l <= depth; l++) {
            put(t, l, w[l], b[l]);
        }
        return t;
    }

    private void put(double[] t, int l, double[] wl, double[] bl) {
        System.arraycopy(wl, 0, t, wOff[l], wl.length);
        System.arraycopy(bl, 0, t, bOff[l], bl.length);
    }

    public static double act(Activation f, double z) {
        return switch (f) {
            case IDENTITY -> z;
            case TANH -> Math.tanh(z);
            case SIGMOID -> 1.0 / (1.0 + Math.exp(-z));
            case RELU -> Math.max(0.0, z);
            case GELU -> dev.checkprop.kernel.GeluReference.gelu(z);
        };
    }

    public static double act1(Activation f, double z) {
        return switch (f) {
            case IDENTITY -> 1.0;
            case TANH -> 1.0 - Math.tanh(z) * Math.tanh(z);
            case SIGMOID -> {
                double s = 1.0 / (1.0 + Math.exp(-z));
                yield s * (1.0 - s);
            }
            case RELU -> z > 0 ? 1.0 : 0.0;
            case GELU -> dev.checkprop.kernel.GeluReference.derivative(z);
        };
    }

    public static double act2(Activation f, double z) {
        return switch (f) {
            case IDENTITY, RELU -> 0.0;
            case GELU -> dev.checkprop.kernel.GeluReference.secondDerivative(z);
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

    /**
     * The loss (mean over the batch) at {@link #w}, {@link #b}; if {@code gw} and {@code gb} are
     * non-null, its gradients too, into fresh arrays {@code gw[l]}, {@code gb[l]} for l = 1..L.
     */
    public double lossAndGradients(Batch data, Loss loss, double[][] gw, double[][] gb) {
        if (gw == null) {
            return run(theta(), data, loss, null, null, null, false, null);
        }
        double[] grad = new double[size];
        double value = run(theta(), data, loss, grad, null, null, false, null);
        for (int l = 1; l <= depth; l++) {
            gw[l] = Arrays.copyOfRange(grad, wOff[l], wOff[l] + w[l].length);
            gb[l] = Arrays.copyOfRange(grad, bOff[l], bOff[l] + b[l].length);
        }
        return value;
    }

    /** The loss (mean) at &theta;. */
    public double loss(double[] theta, Batch data, Loss loss) {
        return run(theta, data, loss, null, null, null, false, null);
    }

    /** What the forward pass of one sample keeps: outputs, pre-activations, LayerNorm's statistics, and their R-images. */
    private final class Sample {
        final double[][] a = new double[depth + 1][];
        final double[][] ra = new double[depth + 1][];
        final double[][] z = new double[depth + 1][];
        final double[][] rz = new double[depth + 1][];
        /** LayerNorm: x&#770; and R{x&#770;} per feature; r = 1/&radic;(&sigma;&sup2; + &epsilon;) and Rr. */
        final double[][] xhat = new double[depth + 1][];
        final double[][] rxhat = new double[depth + 1][];
        final double[] rstd = new double[depth + 1];
        final double[] rRstd = new double[depth + 1];
    }

    /** The forward pass (and, with {@code v}, the forward R-pass) of sample {@code s}. */
    private Sample forward(double[] theta, double[] v, Batch data, int s) {
        final boolean r = v != null;
        Sample q = new Sample();
        q.a[0] = new double[widths[0]];
        q.ra[0] = new double[widths[0]];
        for (int k = 0; k < widths[0]; k++) {
            q.a[0][k] = data.inputs()[s * widths[0] + k];
        }
        for (int l = 1; l <= depth; l++) {
            final int nIn = widths[l - 1];
            final int nOut = widths[l];
            final double[] x = q.a[l - 1];
            final double[] rx = q.ra[l - 1];
            final double[] a = q.a[l] = new double[nOut];
            final double[] ra = q.ra[l] = new double[nOut];
            Layer d = layers[l];
            if (d instanceof DropoutLayer drop) {
                for (int o = 0; o < nOut; o++) {
                    double m = drop.scale(step, l, (long) s * nOut + o);
                    a[o] = x[o] * m;
                    ra[o] = rx[o] * m;
                }
            } else if (d instanceof LayerNormLayer ln) {
                final double eps = ln.eps();
                double mu = 0;
                double rmu = 0;
                for (int u = 0; u < nOut; u++) {
                    mu += x[u];
                    rmu += rx[u];
                }
                mu /= nOut;
                rmu /= nOut;
                double var = 0;
                double rvar = 0;
                for (int u = 0; u < nOut; u++) {
                    var += (x[u] - mu) * (x[u] - mu);
                    rvar += 2 * (x[u] - mu) * (rx[u] - rmu);
                }
                var /= nOut;
                rvar /= nOut;
                final double rs = 1 / Math.sqrt(var + eps);
                // d(var + eps)^(-1/2) = -(1/2) (var + eps)^(-3/2) d var
                final double rrs = -0.5 * rs * rs * rs * rvar;
                final double[] xh = q.xhat[l] = new double[nOut];
                final double[] rxh = q.rxhat[l] = new double[nOut];
                q.rstd[l] = rs;
                q.rRstd[l] = rrs;
                for (int u = 0; u < nOut; u++) {
                    xh[u] = (x[u] - mu) * rs;
                    rxh[u] = (rx[u] - rmu) * rs + (x[u] - mu) * rrs;
                    final double gamma = theta[wOff[l] + u];
                    a[u] = gamma * xh[u] + theta[bOff[l] + u];
                    ra[u] = r ? v[wOff[l] + u] * xh[u] + gamma * rxh[u] + v[bOff[l] + u] : 0;
                }
            } else {
                final Activation f = ((AffineLayer) d).activation();
                final boolean res = d instanceof ResidualLayer;
                final double[] z = q.z[l] = new double[nOut];
                final double[] rz = q.rz[l] = new double[nOut];
                for (int o = 0; o < nOut; o++) {
                    double acc = theta[bOff[l] + o];
                    double racc = r ? v[bOff[l] + o] : 0;
                    for (int k = 0; k < nIn; k++) {
                        acc += theta[wOff[l] + o * nIn + k] * x[k];
                        if (r) {
                            racc += theta[wOff[l] + o * nIn + k] * rx[k] + v[wOff[l] + o * nIn + k] * x[k];
                        }
                    }
                    z[o] = acc;
                    rz[o] = racc;
                    a[o] = act(f, acc) + (res ? x[o] : 0);
                    ra[o] = act1(f, acc) * racc + (res ? rx[o] : 0);
                    if (f == Activation.RELU && r) {
                        minReluMargin = Math.min(minReluMargin, Math.abs(acc) / (Math.abs(racc) + 1e-300));
                    }
                }
            }
        }
        return q;
    }

    /**
     * One pass: the loss (mean), and, when {@code grad} is non-null, the gradient; when {@code v} and
     * {@code prod} are non-null also C·v for the curvature (Hessian or Gauss-Newton); when
     * {@code jv} is non-null, the per-sample forward derivative R{a^L} (J v) row-major [N, nL].
     */
    public double run(double[] theta, Batch data, Loss loss, double[] grad, double[] v, double[] prod, boolean gaussNewton,
                      double[] jv) {
        final int n = data.size();
        final boolean r = v != null;
        if (grad != null) {
            Arrays.fill(grad, 0);
        }
        if (prod != null) {
            Arrays.fill(prod, 0);
        }
        // The Hessian's terms that Gauss-Newton drops (second derivatives of the network) are multiplied by hs.
        final double hs = gaussNewton ? 0 : 1;
        minReluMargin = Double.POSITIVE_INFINITY;
        double total = 0;
        for (int s = 0; s < n; s++) {
            Sample q = forward(theta, v, data, s);
            final int nL = widths[depth];
            double[] g = new double[nL];
            double[] rg = new double[nL];
            double[] out = q.a[depth];
            if (loss == Loss.MSE) {
                for (int u = 0; u < nL; u++) {
                    double diff = out[u] - data.targets()[s * nL + u];
                    total += 0.5 * diff * diff;
                    g[u] = diff;
                    rg[u] = q.ra[depth][u];
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
                    pr += p[u] * q.ra[depth][u];
                }
                for (int u = 0; u < nL; u++) {
                    g[u] = p[u] - (u == label ? 1 : 0);
                    rg[u] = p[u] * q.ra[depth][u] - p[u] * pr;
                }
            }
            if (jv != null) {
                System.arraycopy(q.ra[depth], 0, jv, s * nL, nL);
            }
            if (grad == null && prod == null) {
                continue;
            }
            // Backward in terms of g = dc/da^l and its R-image rg.
            for (int l = depth; l >= 1; l--) {
                final int nIn = widths[l - 1];
                final int nOut = widths[l];
                final double[] x = q.a[l - 1];
                final double[] rx = q.ra[l - 1];
                Layer d = layers[l];
                double[] gp = new double[nIn];
                double[] rgp = new double[nIn];
                if (d instanceof DropoutLayer drop) {
                    for (int o = 0; o < nOut; o++) {
                        double m = drop.scale(step, l, (long) s * nOut + o);
                        gp[o] = g[o] * m;
                        rgp[o] = rg[o] * m;
                    }
                } else if (d instanceof LayerNormLayer) {
                    final double[] xh = q.xhat[l];
                    final double[] rxh = q.rxhat[l];
                    final double rs = q.rstd[l];
                    final double rrs = q.rRstd[l];
                    double[] gh = new double[nOut];
                    double[] rgh = new double[nOut];
                    double mg = 0;
                    double mgx = 0;
                    double rmg = 0;
                    double rmgx = 0;
                    for (int u = 0; u < nOut; u++) {
                        final double gamma = theta[wOff[l] + u];
                        gh[u] = g[u] * gamma;
                        rgh[u] = rg[u] * gamma + (r ? hs * g[u] * v[wOff[l] + u] : 0);
                        mg += gh[u];
                        mgx += gh[u] * xh[u];
                        rmg += rgh[u];
                        rmgx += rgh[u] * xh[u] + hs * gh[u] * rxh[u];
                        if (grad != null) {
                            grad[wOff[l] + u] += g[u] * xh[u] / n;
                            grad[bOff[l] + u] += g[u] / n;
                        }
                        if (prod != null) {
                            prod[wOff[l] + u] += (rg[u] * xh[u] + hs * g[u] * rxh[u]) / n;
                            prod[bOff[l] + u] += rg[u] / n;
                        }
                    }
                    mg /= nOut;
                    mgx /= nOut;
                    rmg /= nOut;
                    rmgx /= nOut;
                    for (int u = 0; u < nOut; u++) {
                        final double inner = gh[u] - mg - xh[u] * mgx;
                        gp[u] = rs * inner;
                        rgp[u] = hs * rrs * inner + rs * (rgh[u] - rmg - hs * rxh[u] * mgx - xh[u] * rmgx);
                    }
                } else {
                    final Activation f = ((AffineLayer) d).activation();
                    final boolean res = d instanceof ResidualLayer;
                    double[] delta = new double[nOut];
                    double[] rdelta = new double[nOut];
                    for (int o = 0; o < nOut; o++) {
                        delta[o] = g[o] * act1(f, q.z[l][o]);
                        rdelta[o] = rg[o] * act1(f, q.z[l][o]) + hs * g[o] * act2(f, q.z[l][o]) * q.rz[l][o];
                        if (grad != null) {
                            grad[bOff[l] + o] += delta[o] / n;
                        }
                        if (prod != null) {
                            prod[bOff[l] + o] += rdelta[o] / n;
                        }
                        for (int k = 0; k < nIn; k++) {
                            if (grad != null) {
                                grad[wOff[l] + o * nIn + k] += delta[o] * x[k] / n;
                            }
                            if (prod != null) {
                                prod[wOff[l] + o * nIn + k] += (rdelta[o] * x[k] + hs * delta[o] * rx[k]) / n;
                            }
                        }
                    }
                    for (int k = 0; k < nIn; k++) {
                        double acc = res ? g[k] : 0;
                        double racc = res ? rg[k] : 0;
                        for (int o = 0; o < nOut; o++) {
                            acc += theta[wOff[l] + o * nIn + k] * delta[o];
                            if (r) {
                                racc += theta[wOff[l] + o * nIn + k] * rdelta[o] + hs * v[wOff[l] + o * nIn + k] * delta[o];
                            }
                        }
                        gp[k] = acc;
                        rgp[k] = racc;
                    }
                }
                g = gp;
                rg = rgp;
            }
        }
        return total / n;
    }

    /** Answers &nabla;L(&theta;). */
    public double[] gradient(double[] theta, Batch data, Loss loss) {
        double[] g = new double[size];
        run(theta, data, loss, g, null, null, false, null);
        return g;
    }

    /** Answers H&middot;v, or G&middot;v with {@code gaussNewton}. */
    public double[] product(double[] theta, Batch data, Loss loss, double[] v, boolean gaussNewton) {
        double[] p = new double[size];
        run(theta, data, loss, null, v, p, gaussNewton, null);
        return p;
    }

    /** Central differences of the gradient along v: (∇L(θ + h v) − ∇L(θ − h v)) / 2h. */
    public double[] finiteDifferenceProduct(double[] theta, Batch data, Loss loss, double[] v, double h) {
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

    /** Central differences of the loss along each parameter: (L(θ + h e_j) − L(θ − h e_j)) / 2h. */
    public double[] finiteDifferenceGradient(double[] theta, Batch data, Loss loss, double h) {
        double[] fd = new double[size];
        double[] t = theta.clone();
        for (int j = 0; j < size; j++) {
            t[j] = theta[j] + h;
            double up = loss(t, data, loss);
            t[j] = theta[j] - h;
            double down = loss(t, data, loss);
            t[j] = theta[j];
            fd[j] = (up - down) / (2 * h);
        }
        return fd;
    }

    /**
     * The Gauss-Newton matrix built explicitly: J (per sample, [nL, P]) column by column from the forward
     * R-pass with v = e_p, then G = (1/N) Σ_s J_sᵀ H_s J_s with H_s = I (mse) or diag(p) − p pᵀ (softmax-ce).
     */
    public double[][] gaussNewtonMatrix(double[] theta, Batch data, Loss loss) {
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
                    for (int k = 0; k < nL; k++) {
                        hs[s][u * nL + k] = (u == k ? pr[u] : 0) - pr[u] * pr[k];
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
                        for (int k = 0; k < nL; k++) {
                            acc += jac[p][s * nL + u] * hs[s][u * nL + k] * jac[q][s * nL + k];
                        }
                    }
                }
                gm[p][q] = acc / n;
            }
        }
        return gm;
    }

    /** a^L row-major [N, nL] (forward only). */
    public double[] outputs(double[] theta, Batch data) {
        final int n = data.size();
        final int nL = widths[depth];
        double[] out = new double[n * nL];
        for (int s = 0; s < n; s++) {
            System.arraycopy(forward(theta, null, data, s).a[depth], 0, out, s * nL, nL);
        }
        return out;
    }

    public static double dot(double[] x, double[] y) {
        double s = 0;
        for (int j = 0; j < x.length; j++) {
            s += x[j] * y[j];
        }
        return s;
    }

    public static double norm(double[] x) {
        return Math.sqrt(dot(x, x));
    }

    /** ‖x − y‖ / ‖y‖. */
    public static double relativeError(double[] x, double[] y) {
        double d = 0;
        for (int j = 0; j < x.length; j++) {
            d += (x[j] - y[j]) * (x[j] - y[j]);
        }
        return Math.sqrt(d) / norm(y);
    }
}
