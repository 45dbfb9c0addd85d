package dev.checkprop.nn;

import java.util.Locale;

/**
 * The loss over a mini-batch of N samples, the mean of a per-sample cost c:
 * <ul>
 * <li>{@link #MSE}: L = (1/N) &Sigma;<sub>i</sub> &frac12;&Vert;a<sup>L</sup><sub>i</sub> &minus; y<sub>i</sub>&Vert;&sup2;;</li>
 * <li>{@link #SOFTMAX_CROSS_ENTROPY}: L = (1/N) &Sigma;<sub>i</sub> &minus;log softmax(a<sup>L</sup><sub>i</sub>)[label<sub>i</sub>],
 *     on logits (the last layer's activation must be identity);</li>
 * <li>{@link #MSE_MEAN} ({@code mse-mean}): L = (1/(N n<sub>L</sub>)) &Sigma;<sub>i,u</sub> (a<sup>L</sup><sub>iu</sub> &minus; y<sub>iu</sub>)&sup2;,
 *     the mean over all elements, exactly {@code torch.nn.MSELoss()}; {@link #MSE} is n<sub>L</sub>/2
 *     times it. Gradient 2(a &minus; y)/(N n<sub>L</sub>), computed in double and rounded once to float.</li>
 * </ul>
 * The loss value is accumulated in double in a fixed order; the gradient with respect to
 * a<sup>L</sup> is written unit-major as float. Exponentials and logarithms use {@link StrictMath}
 * so that the result is the same on every JVM.
 */
public enum Loss {
    MSE("mse"),
    SOFTMAX_CROSS_ENTROPY("softmax-ce"),
    /** torch.nn.MSELoss(): the mean of (a &minus; y)&sup2; over all N &middot; n<sub>L</sub> elements. */
    MSE_MEAN("mse-mean");

    private final String cliName;

    Loss(String cliName) {
        this.cliName = cliName;
    }

    /** Answers the command-line name, {@code mse}, {@code softmax-ce} or {@code mse-mean}. */
    public String cliName() {
        return cliName;
    }

    /**
     * Parses a command-line name.
     *
     * @throws IllegalArgumentException naming the value and the accepted ones
     */
    public static Loss parse(String s) {
        for (Loss l : values()) {
            if (l.cliName.equals(s.toLowerCase(Locale.ROOT))) {
                return l;
            }
        }
        throw new IllegalArgumentException("unknown loss '" + s + "' (expected mse, mse-mean or softmax-ce)");
    }

    /**
     * Answers the loss and writes &part;L/&part;a<sup>L</sup>.
     *
     * @param out   a<sup>L</sup>, unit-major {@code [nL, N]}. Not modified.
     * @param batch the targets. Not modified.
     * @param delta the gradient, unit-major {@code [nL, N]}. Modified.
     */
    public double lossAndGradient(float[] out, int nL, Batch batch, float[] delta) {
        final int n = batch.size();
        final float fn = n;
        double total = 0;
        switch (this) {
            case MSE -> {
                final float[] y = batch.targets();
                int i0 = 0;
                // Four samples at a time, each still its own chain over u ascending, so that out and
                // delta are read along their rows (one sample at a time walked them with a stride
                // of N: 3.7% of a step of five 1024-wide layers at batch 1024).
                for (; i0 + 4 <= n; i0 += 4) {
                    double c0 = 0;
                    double c1 = 0;
                    double c2 = 0;
                    double c3 = 0;
                    for (int u = 0; u < nL; u++) {
                        final int j = u * n + i0;
                        final int t = i0 * nL + u;
                        final float d0 = out[j] - y[t];
                        final float d1 = out[j + 1] - y[t + nL];
                        final float d2 = out[j + 2] - y[t + 2 * nL];
                        final float d3 = out[j + 3] - y[t + 3 * nL];
                        c0 += (double) d0 * d0;
                        c1 += (double) d1 * d1;
                        c2 += (double) d2 * d2;
                        c3 += (double) d3 * d3;
                        delta[j] = d0 / fn;
                        delta[j + 1] = d1 / fn;
                        delta[j + 2] = d2 / fn;
                        delta[j + 3] = d3 / fn;
                    }
                    total += 0.5 * c0;
                    total += 0.5 * c1;
                    total += 0.5 * c2;
                    total += 0.5 * c3;
                }
                for (int i = i0; i < n; i++) {
                    double c = 0;
                    for (int u = 0; u < nL; u++) {
                        final float d = out[u * n + i] - y[i * nL + u];
                        c += (double) d * d;
                        delta[u * n + i] = d / fn;
                    }
                    total += 0.5 * c;
                }
            }
            case MSE_MEAN -> {
                final float[] y = batch.targets();
                final double elements = (double) n * nL;
                double sum = 0;
                for (int i = 0; i < n; i++) {
                    for (int u = 0; u < nL; u++) {
                        final float d = out[u * n + i] - y[i * nL + u];
                        sum += (double) d * d;
                        delta[u * n + i] = (float) (2.0 * d / elements);
                    }
                }
                total = sum / nL;
            }
            case SOFTMAX_CROSS_ENTROPY -> {
                final int[] labels = batch.labels();
                for (int i = 0; i < n; i++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u < nL; u++) {
                        max = Math.max(max, out[u * n + i]);
                    }
                    double sum = 0;
                    for (int u = 0; u < nL; u++) {
                        sum += StrictMath.exp(out[u * n + i] - max);
                    }
                    final double logSum = max + StrictMath.log(sum);
                    total += logSum - out[labels[i] * n + i];
                    for (int u = 0; u < nL; u++) {
                        final double p = StrictMath.exp(out[u * n + i] - logSum);
                        delta[u * n + i] = (float) ((p - (u == labels[i] ? 1.0 : 0.0)) / n);
                    }
                }
            }
        }
        return total / n;
    }

    /**
     * Checks that a network and a batch suit this loss.
     *
     * @throws IllegalArgumentException naming the mismatch
     */
    public void checkCompatible(Network net, Batch batch) {
        final int nL = net.outputWidth();
        switch (this) {
            case MSE, MSE_MEAN -> {
                if (batch.targets() == null) {
                    throw new IllegalArgumentException("loss " + cliName + " needs targets y [N, " + nL + "], the data has labels");
                }
                if (batch.targetWidth() != nL) {
                    throw new IllegalArgumentException("targets y have width " + batch.targetWidth()
                            + " but the network's output a^L has width " + nL);
                }
            }
            case SOFTMAX_CROSS_ENTROPY -> {
                if (batch.labels() == null) {
                    throw new IllegalArgumentException("loss softmax-ce needs integer labels [N], the data has targets y");
                }
                if (net.layer(net.depth()) instanceof AffineLayer last && last.activation() != Activation.IDENTITY) {
                    throw new IllegalArgumentException("loss softmax-ce takes logits: the last layer's activation must be identity, not "
                            + last.activation().fileName());
                }
                final int[] labels = batch.labels();
                for (int i = 0; i < labels.length; i++) {
                    if (labels[i] < 0 || labels[i] >= nL) {
                        throw new IllegalArgumentException("label " + labels[i] + " of sample " + i + " is out of range 0.."
                                + (nL - 1) + " for a network with " + nL + " outputs");
                    }
                }
            }
        }
    }
}
