package dev.checkprop.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A chain of L {@link Layer}s; layer l (1-based, as in the derivation) maps a<sup>l-1</sup> of width
 * n<sub>l-1</sub> to a<sup>l</sup> of width n<sub>l</sub>. The structure is immutable; the
 * parameters inside the layers are updated in place by training.
 *
 * <pre>{@code
 * Network net = Network.builder(32).dense(64, 32, Activation.TANH).dense(10, Activation.IDENTITY).build(42);
 * }</pre>
 */
public final class Network {

    private final List<Layer> layers;

    /**
     * Wraps layers whose widths chain: layer l's input width equals layer l-1's output width.
     *
     * @throws IllegalArgumentException naming the first pair of layers that do not chain, or the
     *                                  first parameter that is NaN or infinite
     */
    public Network(List<Layer> layers) {
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("a network needs at least one layer");
        }
        for (int l = 1; l < layers.size(); l++) {
            int out = layers.get(l - 1).outputWidth();
            int in = layers.get(l).inputWidth();
            if (out != in) {
                throw new IllegalArgumentException("layer " + l + " has " + out + " outputs but layer " + (l + 1)
                        + " takes " + in + " inputs");
            }
        }
        this.layers = Collections.unmodifiableList(new ArrayList<>(layers));
        checkFinite();
    }

    /** Starts a network whose input a<sup>0</sup> has {@code inputWidth} features. */
    public static Builder builder(int inputWidth) {
        return new Builder(inputWidth);
    }

    /** Answers L, the number of layers. */
    public int depth() {
        return layers.size();
    }

    /** Answers layer {@code l}, 1-based. */
    public Layer layer(int l) {
        return layers.get(l - 1);
    }

    /** Answers the layers in order (unmodifiable). */
    public List<Layer> layers() {
        return layers;
    }

    /** Answers n<sub>0</sub>. */
    public int inputWidth() {
        return layers.get(0).inputWidth();
    }

    /** Answers n<sub>L</sub>. */
    public int outputWidth() {
        return layers.get(layers.size() - 1).outputWidth();
    }

    /** Answers n<sub>l</sub> for l = 0..L. */
    public int width(int l) {
        return l == 0 ? inputWidth() : layer(l).outputWidth();
    }

    /** Answers the number of parameters (for dense layers &Sigma; n<sub>l</sub>(n<sub>l-1</sub> + 1)). */
    public long parameterCount() {
        long n = 0;
        for (Layer d : layers) {
            n += (long) d.weights().length + d.bias().length;
        }
        return n;
    }

    /**
     * Checks that every weight and bias is finite.
     *
     * @throws IllegalArgumentException naming the layer, the tensor and the index of the first bad value
     */
    public void checkFinite() {
        for (int l = 1; l <= layers.size(); l++) {
            Layer d = layer(l);
            boolean matrix = d.weights().length == (long) d.outputWidth() * d.inputWidth() && d.inputWidth() > 1;
            check(d.weights(), "layers." + (l - 1) + ".weight", matrix ? d.inputWidth() : 1);
            check(d.bias(), "layers." + (l - 1) + ".bias", 1);
        }
    }

    private static void check(float[] a, String name, int cols) {
        for (int j = 0; j < a.length; j++) {
            if (!Float.isFinite(a[j])) {
                String at = cols == 1 ? "[" + j + "]" : "[" + j / cols + ", " + j % cols + "]";
                throw new IllegalArgumentException(name + at + " is " + a[j] + ": parameters must be finite");
            }
        }
    }

    /** Answers a deep copy. */
    public Network copy() {
        List<Layer> c = new ArrayList<>(layers.size());
        for (Layer d : layers) {
            c.add(d.copy());
        }
        return new Network(c);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Network[").append(inputWidth());
        int l = 1;
        while (l <= depth()) {
            Layer d = layer(l);
            int run = 1;
            while (l + run <= depth() && layer(l + run).outputWidth() == d.outputWidth()
                    && layer(l + run).describe().equals(d.describe())) {
                run++;
            }
            sb.append(" -> ").append(d.outputWidth());
            if (run > 1) {
                sb.append(" x").append(run);
            }
            sb.append(" (").append(d.describe()).append(')');
            l += run;
        }
        return sb.append(" | ").append(depth()).append(" layers, ").append(parameterCount()).append(" params]").toString();
    }

    /**
     * Builds a network with seeded, reproducible initialisation: W uniform in &plusmn;&radic;(6/(n<sub>in</sub>+n<sub>out</sub>))
     * (Glorot), or &plusmn;&radic;(6/n<sub>in</sub>) for relu (He), and b = 0. A residual block's W is
     * further scaled by 1/&radic;R for R residual blocks with a zero-mean activation (tanh, identity)
     * and by 1/R for relu and sigmoid, whose branches have a positive mean that adds up coherently, so
     * that the sum of R branches keeps the scale of one (a deep residual chain that starts near the identity trains; one whose activations
     * grow with depth saturates). Each weight is a pure function of (seed, layer, index), see
     * {@link Seeds}; so is each dropout layer's mask seed.
     */
    public static final class Builder {
        /** {@code rate}: a dropout layer's rate, or a layer norm's eps. */
        private record Spec(String kind, int width, Activation f, float rate) {
        }

        private final int inputWidth;
        private final List<Spec> specs = new ArrayList<>();

        private Builder(int inputWidth) {
            if (inputWidth < 1) {
                throw new IllegalArgumentException("input width must be >= 1, got " + inputWidth);
            }
            this.inputWidth = inputWidth;
        }

        private int currentWidth() {
            return specs.isEmpty() ? inputWidth : specs.get(specs.size() - 1).width();
        }

        /** Appends one dense layer of {@code width} outputs. */
        public Builder dense(int width, Activation f) {
            return dense(1, width, f);
        }

        /** Appends {@code count} dense layers of {@code width} outputs each. */
        public Builder dense(int count, int width, Activation f) {
            if (count < 1 || width < 1) {
                throw new IllegalArgumentException("dense(count, width) needs count >= 1 and width >= 1, got "
                        + count + ", " + width);
            }
            for (int i = 0; i < count; i++) {
                specs.add(new Spec("dense", width, java.util.Objects.requireNonNull(f), 0f));
            }
            return this;
        }

        /** Appends {@code count} residual blocks a + f(W a + b) at the current width. */
        public Builder residual(int count, Activation f) {
            if (count < 1) {
                throw new IllegalArgumentException("residual(count) needs count >= 1, got " + count);
            }
            for (int i = 0; i < count; i++) {
                specs.add(new Spec("residual", currentWidth(), java.util.Objects.requireNonNull(f), 0f));
            }
            return this;
        }

        /** Appends a dropout layer at the current width, dropping with probability {@code rate}. */
        public Builder dropout(float rate) {
            if (!(rate >= 0f && rate < 1f)) {
                throw new IllegalArgumentException("dropout rate must be in [0, 1), got " + rate);
            }
            specs.add(new Spec("dropout", currentWidth(), Activation.IDENTITY, rate));
            return this;
        }

        /**
         * Appends a layer normalisation over the current width, as {@code torch.nn.LayerNorm(width)}:
         * &gamma; = 1, &beta; = 0, &epsilon; = {@value LayerNormLayer#DEFAULT_EPS}.
         */
        public Builder layerNorm() {
            return layerNorm(LayerNormLayer.DEFAULT_EPS);
        }

        /**
         * Appends a layer normalisation over the current width with the given &epsilon;.
         *
         * @throws IllegalArgumentException unless 0 &lt; eps &lt; 1
         */
        public Builder layerNorm(float eps) {
            if (!(eps > 0f && eps < 1f)) {
                throw new IllegalArgumentException("layer norm eps must be in (0, 1), got " + eps);
            }
            specs.add(new Spec("layernorm", currentWidth(), Activation.IDENTITY, eps));
            return this;
        }

        /** Answers the network, initialised from {@code seed}. */
        public Network build(long seed) {
            if (specs.isEmpty()) {
                throw new IllegalArgumentException("a network needs at least one layer");
            }
            long residuals = specs.stream().filter(sp -> sp.kind().equals("residual")).count();
            List<Layer> layers = new ArrayList<>(specs.size());
            int in = inputWidth;
            for (int l = 0; l < specs.size(); l++) {
                Spec sp = specs.get(l);
                int out = sp.width();
                if (sp.kind().equals("dropout")) {
                    layers.add(new DropoutLayer(out, sp.rate(), Seeds.bits(seed, -3, l)));
                    continue;
                }
                if (sp.kind().equals("layernorm")) {
                    float[] gamma = new float[out];
                    java.util.Arrays.fill(gamma, 1f);
                    layers.add(new LayerNormLayer(out, gamma, new float[out], sp.rate()));
                    in = out;
                    continue;
                }
                Activation f = sp.f();
                double fanSum = f == Activation.RELU || f == Activation.GELU ? in / 2.0 : (in + out) / 2.0;
                double scale = Math.sqrt(3.0 / fanSum);
                if (sp.kind().equals("residual")) {
                    // Zero-mean branches (tanh, identity) add up like a random walk; relu and sigmoid
                    // branches have a positive mean that adds up coherently, so they shrink by R.
                    scale /= (f == Activation.RELU || f == Activation.SIGMOID || f == Activation.GELU) ? residuals
                            : Math.sqrt(residuals);
                }
                float fs = (float) scale;
                float[] w = new float[Math.multiplyExact(out, in)];
                for (int j = 0; j < w.length; j++) {
                    w[j] = (2f * Seeds.uniform(seed, l, j) - 1f) * fs;
                }
                layers.add(sp.kind().equals("residual") ? new ResidualLayer(out, f, w, new float[out])
                        : new DenseLayer(in, out, f, w, new float[out]));
                in = out;
            }
            return new Network(layers);
        }
    }
}
