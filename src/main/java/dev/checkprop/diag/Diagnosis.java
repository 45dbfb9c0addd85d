package dev.checkprop.diag;

import dev.checkprop.exec.Executor;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.exec.ExecutionListener;
import dev.checkprop.nn.AffineLayer;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import it.unimi.dsi.fastutil.ints.IntArrayList;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What stops gradients, layer by layer — the three causes the derivation lists, made concrete for
 * one batch:
 * <ol>
 * <li>dead units: f'(z<sub>u</sub><sup>l</sup>) = 0 for every sample (a relu that never fires, a
 *     saturated tanh or sigmoid), read from each layer's output as its backward runs;</li>
 * <li>dead layers: every unit dead, so for a dense layer backpropagation stops there (a residual
 *     block's skip connection still carries the gradient);</li>
 * <li>zero columns of W<sup>l+1</sup>: unit u of layer l feeds nothing forward;</li>
 * </ol>
 * plus the norms of each layer's gradients, where vanishing or exploding gradients show.
 * Immutable.
 */
public final class Diagnosis {

    /**
     * One layer's findings.
     *
     * @param layer          l, 1-based
     * @param kind           the layer's kind as in model files: dense, residual, dropout, layernorm, ...
     * @param description    the layer's description, e.g. {@code dense relu}
     * @param activation     the layer's f, or null for a layer without one (dropout, layernorm)
     * @param width          n<sub>l</sub>
     * @param deadUnits      units with f' = 0 on every sample, ascending
     * @param zeroColumns    units u of this layer whose column u of W<sup>l+1</sup> is all zero, ascending
     * @param weightGradNorm &Vert;&part;L/&part;W<sup>l</sup>&Vert;<sub>F</sub>
     * @param biasGradNorm   &Vert;&part;L/&part;b<sup>l</sup>&Vert;
     */
    public record Layer(int layer, String kind, String description, Activation activation, int width, int[] deadUnits,
                        int[] zeroColumns, double weightGradNorm, double biasGradNorm) {

        /** Answers the fraction of dead units. */
        public double deadFraction() {
            return (double) deadUnits.length / width;
        }

        /** Answers whether every unit is dead (for a dense layer: backpropagation stops here). */
        public boolean isDead() {
            return activation != null && !activation.needsPreActivation() && deadUnits.length == width;
        }
    }

    private final List<Layer> layers;
    private final double loss;

    private Diagnosis(List<Layer> layers, double loss) {
        this.layers = Collections.unmodifiableList(layers);
        this.loss = loss;
    }

    /**
     * Runs one gradient computation with {@code exec} on {@code data} and diagnoses every layer.
     *
     * @param out gradients shaped like the network. Modified.
     */
    public static Diagnosis run(Executor exec, Batch data, Loss loss, Gradients out) {
        Network net = exec.network();
        int depth = net.depth();
        int[][] dead = new int[depth + 1][];
        exec.setListener(new ExecutionListener() {
            @Override
            public void beforeBackward(int l, float[] output, int n) {
                dead[l] = deadUnits(net.layer(l), output, n);
            }
        });
        double value;
        try {
            value = exec.gradient(data, loss, out);
        } finally {
            exec.setListener(null);
        }
        List<Layer> result = new ArrayList<>(depth);
        for (int l = 1; l <= depth; l++) {
            dev.checkprop.nn.Layer d = net.layer(l);
            int[] zero = l < depth ? zeroColumns(net.layer(l + 1)) : new int[0];
            result.add(new Layer(l, d.kind(), d.describe(), activation(d), d.outputWidth(), dead[l] == null ? new int[0] : dead[l], zero,
                    norm(out.weights(l)), norm(out.bias(l))));
        }
        return new Diagnosis(result, value);
    }

    private static Activation activation(dev.checkprop.nn.Layer d) {
        return d instanceof AffineLayer a ? a.activation() : null;
    }

    static int[] deadUnits(dev.checkprop.nn.Layer d, float[] output, int n) {
        Activation f = activation(d);
        // GELU's f' is zero only far below zero and needs z, not the output seen here: never reported dead.
        if (f == null || f.needsPreActivation()) {
            return new int[0];
        }
        IntArrayList units = new IntArrayList();
        for (int u = 0; u < d.outputWidth(); u++) {
            boolean alive = false;
            for (int i = 0; i < n && !alive; i++) {
                alive = f.derivativeFromOutput(output[u * n + i]) != 0f;
            }
            if (!alive) {
                units.add(u);
            }
        }
        return units.toIntArray();
    }

    /** Answers the input units k for which column k of the layer's W is all zero (none for dropout). */
    static int[] zeroColumns(dev.checkprop.nn.Layer next) {
        if (!(next instanceof AffineLayer)) {
            return new int[0];
        }
        int nIn = next.inputWidth();
        float[] w = next.weights();
        IntArrayList cols = new IntArrayList();
        for (int k = 0; k < nIn; k++) {
            boolean zero = true;
            for (int o = 0; o < next.outputWidth() && zero; o++) {
                zero = w[o * nIn + k] == 0f;
            }
            if (zero) {
                cols.add(k);
            }
        }
        return cols.toIntArray();
    }

    private static double norm(float[] a) {
        double s = 0;
        for (float v : a) {
            s += (double) v * v;
        }
        return Math.sqrt(s);
    }

    /** Answers the loss of the diagnosed batch. */
    public double loss() {
        return loss;
    }

    /** Answers every layer's findings, layer 1 first. */
    public List<Layer> layers() {
        return layers;
    }

    /** Answers the layers that are entirely dead. */
    public List<Layer> deadLayers() {
        return layers.stream().filter(Layer::isDead).toList();
    }

    /** Answers a table: one line per layer. */
    public String toTable() {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%5s  %-9s %-8s %6s %7s %6s %13s %13s  %s%n",
                "layer", "kind", "f", "width", "dead", "dead%", "|dL/dW|", "|dL/db|", "zero columns of W^(l+1)"));
        for (Layer r : layers) {
            sb.append(String.format(Locale.ROOT, "%5d  %-9s %-8s %6d %7d %5.1f%% %13.4e %13.4e  %s%s%n", r.layer(),
                    r.kind(), r.activation() == null ? "-" : r.activation().fileName(), r.width(), r.deadUnits().length, 100 * r.deadFraction(),
                    r.weightGradNorm(), r.biasGradNorm(), r.zeroColumns().length, r.isDead() ? "   <- dead layer" : ""));
        }
        return sb.toString();
    }

    /** Answers the findings as maps for JSON (each layer's dead unit indices and zero columns listed). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("loss", loss);
        List<Map<String, Object>> ls = new ArrayList<>();
        for (Layer r : layers) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("layer", r.layer());
            e.put("kind", r.kind());
            e.put("activation", r.activation() == null ? "none" : r.activation().fileName());
            e.put("width", r.width());
            e.put("dead_units", r.deadUnits());
            e.put("dead_fraction", r.deadFraction());
            e.put("dead_layer", r.isDead());
            e.put("zero_columns_next", r.zeroColumns());
            e.put("weight_grad_norm", r.weightGradNorm());
            e.put("bias_grad_norm", r.biasGradNorm());
            ls.add(e);
        }
        m.put("layers", ls);
        m.put("dead_layers", deadLayers().stream().map(Layer::layer).toList());
        return m;
    }
}
