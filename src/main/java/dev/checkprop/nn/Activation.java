package dev.checkprop.nn;

import dev.checkprop.kernel.DenseKernels;
import dev.checkprop.kernel.MathF;

import java.util.Locale;

/**
 * The activation f of a layer. For identity, tanh, sigmoid and relu the derivative is recovered from
 * the layer's <em>output</em> a = f(z), so that a layer's backward needs only a<sup>l-1</sup> and
 * a<sup>l</sup> and one stored activation per layer is the whole tape:
 * tanh' = 1 &minus; a&sup2;, sigmoid' = a(1 &minus; a), relu' = [a &gt; 0], identity' = 1.
 * GELU (the exact erf form of {@code torch.nn.GELU()}, z&middot;&Phi;(z)) is not invertible, so its
 * derivatives come from z ({@link #needsPreActivation()}): a dense layer with it keeps z as tape, n
 * rows more per state, which every planner and memory prediction counts ({@link Layer#tapeRows()}).
 * The functions come from {@link MathF}, so their bits do not depend on the JVM.
 */
public enum Activation {
    IDENTITY,
    TANH,
    SIGMOID,
    RELU,
    GELU;

    /** Answers f(z) for one value. */
    public float apply(float z) {
        return switch (this) {
            case IDENTITY -> z;
            case TANH -> MathF.tanh(z);
            case SIGMOID -> MathF.sigmoid(z);
            case RELU -> z > 0f ? z : 0f;
            case GELU -> MathF.gelu(z);
        };
    }

    /** Whether f' must be computed from z (GELU) rather than from the output a = f(z). */
    public boolean needsPreActivation() {
        return this == GELU;
    }

    /** Answers f'(z) from z (every activation). */
    public float derivative(float z) {
        return this == GELU ? MathF.geluDerivative(z) : derivativeFromOutput(apply(z));
    }

    /**
     * Answers f'(z) given a = f(z).
     *
     * @throws IllegalStateException for GELU, whose f' needs z ({@link #derivative})
     */
    public float derivativeFromOutput(float a) {
        return switch (this) {
            case GELU -> throw new IllegalStateException("gelu's derivative needs z, not its output");
            case IDENTITY -> 1f;
            case TANH -> Math.fma(-a, a, 1f);
            case SIGMOID -> a * (1f - a);
            case RELU -> a > 0f ? 1f : 0f;
        };
    }

    /**
     * Replaces {@code buf[from..to)} by f of it, with the given kernels (which give the same bits
     * as {@link #apply} on every element).
     *
     * @param buf pre-activations in, activations out. Modified.
     */
    public void applyInPlace(DenseKernels k, float[] buf, int from, int to) {
        switch (this) {
            case IDENTITY -> {
            }
            case TANH -> k.tanhInPlace(buf, from, to);
            case SIGMOID -> k.sigmoidInPlace(buf, from, to);
            case RELU -> k.reluInPlace(buf, from, to);
            case GELU -> k.geluInPlace(buf, from, to);
        }
    }

    /**
     * Turns a gradient with respect to a into one with respect to z: {@code g[i] *= f'(z)} with f'
     * taken from {@code a[i]}, for i in {@code [from, to)}, as {@link #derivativeFromOutput}; for
     * GELU {@code a} holds z instead ({@link #needsPreActivation()}).
     *
     * @param a the layer's output (z for GELU). Not modified.
     * @param g gradient with respect to a in, with respect to z out. Modified.
     */
    public void backwardInPlace(DenseKernels k, float[] a, float[] g, int from, int to) {
        switch (this) {
            case IDENTITY -> {
            }
            case TANH -> k.tanhBackward(a, g, from, to);
            case SIGMOID -> k.sigmoidBackward(a, g, from, to);
            case RELU -> k.reluBackward(a, g, from, to);
            case GELU -> k.geluBackward(a, g, from, to);
        }
    }

    /** Answers the lower-case name used in model files ({@code tanh}, ...). */
    public String fileName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses a name as written in model files.
     *
     * @throws IllegalArgumentException naming the value and the accepted ones
     */
    public static Activation parse(String name) {
        for (Activation a : values()) {
            if (a.fileName().equals(name)) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown activation '" + name + "' (expected identity, tanh, sigmoid, relu or gelu)");
    }
}
