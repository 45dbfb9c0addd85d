package dev.checkprop.io;

import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.AffineLayer;
import dev.checkprop.nn.DenseLayer;
import dev.checkprop.nn.DropoutLayer;
import dev.checkprop.nn.Layer;
import dev.checkprop.nn.LayerNormLayer;
import dev.checkprop.nn.ResidualLayer;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Networks, data and gradients as safetensors files, laid out so that PyTorch
 * ({@code safetensors.torch.load_file}) and NumPy read them directly:
 * <ul>
 * <li>model: {@code layers.{l}.weight} F32 {@code [n_l, n_(l-1)]} and {@code layers.{l}.bias} F32
 *     {@code [n_l]} for l = 0 … L&minus;1 (0-based, as PyTorch's {@code nn.Sequential} names them), and
 *     {@code __metadata__} entries {@code layers.{l}.activation} = identity | tanh | sigmoid | relu and
 *     {@code layers.{l}.kind} = dense | residual | dropout (dense when absent); a dropout layer has no
 *     tensors, and its {@code layers.{l}.rate}, {@code layers.{l}.width} and {@code layers.{l}.seed}
 *     in the metadata;</li>
 * <li>data: {@code x} F32 {@code [N, n_0]}; for mse {@code y} F32 {@code [N, n_L]}; for softmax
 *     cross-entropy {@code labels} I32 or I64 {@code [N]};</li>
 * <li>gradients: the model's tensor names holding &part;L/&part;W and &part;L/&part;b, with the loss
 *     in {@code __metadata__} as {@code loss}.</li>
 * </ul>
 * Reading is strict: a missing or unexpected tensor, a wrong dtype or shape, or a NaN or infinite
 * value is a {@link SafeTensorsException} naming the file and the tensor. F16, BF16 and F64 tensors
 * are read as F32 ({@link SafeTensors#readAsF32}); files are always written in F32.
 */
public final class ModelFile {

    private ModelFile() {
    }

    static String weightName(int index) {
        return "layers." + index + ".weight";
    }

    static String biasName(int index) {
        return "layers." + index + ".bias";
    }

    static String activationKey(int index) {
        return "layers." + index + ".activation";
    }

    static String key(int index, String what) {
        return "layers." + index + "." + what;
    }

    /** Answers the network as a safetensors file (holding copies of its parameters). */
    public static SafeTensors toSafeTensors(Network net) {
        return toSafeTensors(net, false);
    }

    /**
     * Answers the network as a safetensors file over its parameter arrays themselves when
     * {@code view}, for writing at once without a second copy of the parameters in the heap.
     */
    public static SafeTensors toSafeTensors(Network net, boolean view) {
        SafeTensors.Builder b = SafeTensors.builder();
        for (int l = 1; l <= net.depth(); l++) {
            Layer layer = net.layer(l);
            b.metadata(key(l - 1, "kind"), layer.kind());
            if (layer instanceof DropoutLayer d) {
                b.metadata(key(l - 1, "rate"), Float.toString(d.rate()));
                b.metadata(key(l - 1, "width"), Integer.toString(d.outputWidth()));
                b.metadata(key(l - 1, "seed"), Long.toString(d.seed()));
            } else if (layer instanceof AffineLayer d) {
                put(b, view, weightName(l - 1), new long[] {d.outputWidth(), d.inputWidth()}, d.weights());
                put(b, view, biasName(l - 1), new long[] {d.outputWidth()}, d.bias());
                b.metadata(activationKey(l - 1), d.activation().fileName());
            } else if (layer instanceof LayerNormLayer d) {
                put(b, view, weightName(l - 1), new long[] {d.outputWidth()}, d.weights());
                put(b, view, biasName(l - 1), new long[] {d.outputWidth()}, d.bias());
                b.metadata(key(l - 1, "eps"), Float.toString(d.eps()));
            } else {
                throw new IllegalArgumentException("layer " + l + " (" + layer.describe() + ", " + layer.getClass().getName()
                        + ") is not a built-in kind: model files hold dense, residual, dropout and layernorm layers");
            }
        }
        b.metadata("format", "checkprop");
        return b.build();
    }

    private static void put(SafeTensors.Builder b, boolean view, String name, long[] shape, float[] data) {
        if (view) {
            b.putF32View(name, shape, data);
        } else {
            b.putF32(name, shape, data);
        }
    }

    /** Writes the network to {@code path} (streaming its parameters: no copy of them is made). */
    public static void save(Network net, Path path) throws IOException {
        toSafeTensors(net, true).write(path);
    }

    /** Reads a network from {@code path}. */
    public static Network load(Path path) throws IOException {
        // The file's tensors are read straight into float arrays, which the layers adopt: the model
        // is held once, not as bytes and floats at the same time.
        return fromSafeTensors(SafeTensors.readAsF32(path), path.toString(), true);
    }

    /**
     * Answers the network a safetensors file holds.
     *
     * @param source the file name, for error messages
     * @throws SafeTensorsException naming the file and the tensor or key at fault
     */
    public static Network fromSafeTensors(SafeTensors st, String source) throws SafeTensorsException {
        return fromSafeTensors(st, source, false);
    }

    /** @param adopt whether the layers may take the tensors' arrays (only for a private, just-read file) */
    private static Network fromSafeTensors(SafeTensors st, String source, boolean adopt) throws SafeTensorsException {
        if (st.metadata().containsKey("checkpoint.format")) {
            // A training checkpoint holds a model and more; say what it is rather than which tensor is extra.
            throw new SafeTensorsException(source + " is a training checkpoint, not a model file: continue its run with"
                    + " train --resume " + source + " (Training.of(...).resume), or save the model from that run");
        }
        int depth = 0;
        while (st.has(weightName(depth)) || st.metadata().containsKey(key(depth, "kind"))) {
            depth++;
        }
        if (depth == 0) {
            throw new SafeTensorsException(source + ": no tensor " + weightName(0) + ": not a checkprop model file");
        }
        Set<String> expected = new HashSet<>();
        List<Layer> layers = new ArrayList<>(depth);
        for (int i = 0; i < depth; i++) {
            String kind = st.metadata().getOrDefault(key(i, "kind"), "dense");
            if (!List.of("dense", "residual", "dropout", "layernorm").contains(kind)) {
                throw new SafeTensorsException(source + ": __metadata__ " + key(i, "kind") + ": unknown layer kind '" + kind
                        + "' (expected dense, residual, dropout or layernorm)");
            }
            int prevWidth = i == 0 ? -1 : layers.get(i - 1).outputWidth();
            if (kind.equals("layernorm")) {
                layers.add(layerNorm(st, i, prevWidth, source, adopt, expected));
                continue;
            }
            if (kind.equals("dropout")) {
                long width = metaLong(st, key(i, "width"), source);
                if (width < 1 || width > Integer.MAX_VALUE) {
                    throw new SafeTensorsException(source + ": __metadata__ " + key(i, "width") + " is " + width
                            + ": a width must be between 1 and 2^31-1");
                }
                float rate = (float) metaNumber(st, key(i, "rate"), source);
                long seed = metaLong(st, key(i, "seed"), source);
                if (prevWidth >= 0 && width != prevWidth) {
                    throw new SafeTensorsException(source + ": dropout layer " + i + " has width " + width
                            + " but layer " + (i - 1) + " has " + prevWidth + " outputs");
                }
                try {
                    layers.add(new DropoutLayer((int) width, rate, seed));
                } catch (IllegalArgumentException e) {
                    throw new SafeTensorsException(source + ": layer " + i + ": " + e.getMessage());
                }
                continue;
            }
            if (!st.has(weightName(i))) {
                throw new SafeTensorsException(source + ": missing tensor " + weightName(i));
            }
            Tensor w = st.tensor(weightName(i));
            Tensor bias = requireTensor(st, biasName(i), source);
            expected.add(w.name());
            expected.add(bias.name());
            if (w.rank() != 2) {
                throw new SafeTensorsException(source + ": " + w.name() + " must have shape [n_out, n_in], got rank " + w.rank());
            }
            int nOut = w.dim(0);
            int nIn = w.dim(1);
            if (bias.rank() != 1 || bias.dim(0) != nOut) {
                throw new SafeTensorsException(source + ": " + bias.name() + " must have shape [" + nOut + "] to match "
                        + w.name() + " " + java.util.Arrays.toString(w.shape()));
            }
            if (prevWidth >= 0 && prevWidth != nIn) {
                throw new SafeTensorsException(source + ": " + w.name() + " takes " + nIn + " inputs but layer "
                        + (i - 1) + " has " + prevWidth + " outputs");
            }
            if (kind.equals("residual") && nIn != nOut) {
                throw new SafeTensorsException(source + ": residual layer " + w.name() + " must be square, got "
                        + java.util.Arrays.toString(w.shape()));
            }
            String act = st.metadata().get(activationKey(i));
            if (act == null) {
                throw new SafeTensorsException(source + ": __metadata__ has no " + activationKey(i));
            }
            Activation f;
            try {
                f = Activation.parse(act);
            } catch (IllegalArgumentException e) {
                throw new SafeTensorsException(source + ": __metadata__ " + activationKey(i) + ": " + e.getMessage());
            }
            if (nIn < 1 || nOut < 1) {
                throw new SafeTensorsException(source + ": " + w.name() + " has an empty dimension");
            }
            float[] wv = adopt ? w.floatsShared() : w.toFloatArray();
            float[] bv = adopt ? bias.floatsShared() : bias.toFloatArray();
            checkFinite(source, w.name(), wv, nIn);
            checkFinite(source, bias.name(), bv, 1);
            layers.add(kind.equals("residual") ? new ResidualLayer(nOut, f, wv, bv)
                    : new DenseLayer(nIn, nOut, f, wv, bv));
        }
        for (String name : st.names()) {
            if (!expected.contains(name)) {
                throw new SafeTensorsException(source + ": unexpected tensor " + name + " (the model has layers 0.."
                        + (depth - 1) + ")");
            }
        }
        return new Network(layers);
    }

    /** Reads layer {@code i} of kind {@code layernorm}: weight and bias of shape [n], optional eps in metadata. */
    private static Layer layerNorm(SafeTensors st, int i, int prevWidth, String source, boolean adopt, Set<String> expected)
            throws SafeTensorsException {
        Tensor w = requireTensor(st, weightName(i), source);
        Tensor bias = requireTensor(st, biasName(i), source);
        expected.add(w.name());
        expected.add(bias.name());
        if (w.rank() != 1 || w.dim(0) < 1) {
            throw new SafeTensorsException(source + ": " + w.name() + " of a layernorm layer must have shape [n], got "
                    + java.util.Arrays.toString(w.shape()));
        }
        int n = w.dim(0);
        if (bias.rank() != 1 || bias.dim(0) != n) {
            throw new SafeTensorsException(source + ": " + bias.name() + " must have shape [" + n + "] to match "
                    + w.name() + " " + java.util.Arrays.toString(w.shape()));
        }
        if (prevWidth >= 0 && prevWidth != n) {
            throw new SafeTensorsException(source + ": layernorm layer " + i + " normalises " + n + " features but layer "
                    + (i - 1) + " has " + prevWidth + " outputs");
        }
        float eps = LayerNormLayer.DEFAULT_EPS;
        if (st.metadata().containsKey(key(i, "eps"))) {
            double e = metaNumber(st, key(i, "eps"), source);
            if (!(e > 0 && e < 1) || (float) e <= 0f) {
                throw new SafeTensorsException(source + ": __metadata__ " + key(i, "eps") + " is " + e
                        + ": eps must be a positive float below 1");
            }
            eps = (float) e;
        }
        float[] wv = adopt ? w.floatsShared() : w.toFloatArray();
        float[] bv = adopt ? bias.floatsShared() : bias.toFloatArray();
        checkFinite(source, w.name(), wv, 1);
        checkFinite(source, bias.name(), bv, 1);
        return new LayerNormLayer(n, wv, bv, eps);
    }

    /**
     * Reads a batch from {@code path}: {@code x} and, for {@code loss}, {@code y} or {@code labels}.
     *
     * @throws SafeTensorsException naming the file and the tensor at fault, or a NaN in x or y by row and column
     */
    public static Batch loadData(Path path, Loss loss) throws IOException {
        return dataFromSafeTensors(SafeTensors.readAsF32(path), loss, path.toString(), true);
    }

    /** Answers the batch a safetensors file holds; see {@link #loadData}. */
    public static Batch dataFromSafeTensors(SafeTensors st, Loss loss, String source) throws SafeTensorsException {
        return dataFromSafeTensors(st, loss, source, false);
    }

    private static Batch dataFromSafeTensors(SafeTensors st, Loss loss, String source, boolean adopt)
            throws SafeTensorsException {
        Tensor x = requireTensor(st, "x", source);
        if (x.rank() != 2 || x.dim(0) < 1 || x.dim(1) < 1) {
            throw new SafeTensorsException(source + ": x must have shape [N, n_0] with N, n_0 >= 1, got "
                    + java.util.Arrays.toString(x.shape()));
        }
        int n = x.dim(0);
        float[] xv = adopt ? x.floatsShared() : x.toFloatArray();
        checkFinite(source, "x", xv, x.dim(1));
        if (loss != Loss.SOFTMAX_CROSS_ENTROPY) {
            if (!st.has("y")) {
                throw new SafeTensorsException(source + ": missing tensor y: loss " + loss.cliName() + " needs targets y [N, n_L]");
            }
            Tensor y = st.tensor("y");
            if (y.rank() != 2 || y.dim(0) != n) {
                throw new SafeTensorsException(source + ": y must have shape [" + n + ", n_L] to match x, got "
                        + java.util.Arrays.toString(y.shape()));
            }
            float[] yv = adopt ? y.floatsShared() : y.toFloatArray();
            checkFinite(source, "y", yv, y.dim(1));
            return Batch.regression(xv, x.dim(1), yv, y.dim(1));
        }
        if (!st.has("labels")) {
            throw new SafeTensorsException(source + ": missing tensor labels: loss softmax-ce needs integer labels [N]");
        }
        Tensor labels = st.tensor("labels");
        if (labels.rank() != 1 || labels.dim(0) != n) {
            throw new SafeTensorsException(source + ": labels must have shape [" + n + "] to match x, got "
                    + java.util.Arrays.toString(labels.shape()));
        }
        return Batch.classification(xv, x.dim(1), labels.labelsAsInts());
    }

    /** Writes a batch (x with y or labels) to {@code path}. */
    public static void saveData(Batch data, Path path) throws IOException {
        SafeTensors.Builder b = SafeTensors.builder()
                .putF32("x", new long[] {data.size(), data.inputWidth()}, data.inputs());
        if (data.targets() != null) {
            b.putF32("y", new long[] {data.size(), data.targetWidth()}, data.targets());
        } else {
            b.putI64("labels", new long[] {data.size()}, java.util.Arrays.stream(data.labels()).asLongStream().toArray());
        }
        b.build().write(path);
    }

    /** Answers gradients as a safetensors file under the model's tensor names, with the loss in metadata. */
    public static SafeTensors gradientsToSafeTensors(Network net, Gradients g, double loss) {
        return gradientsToSafeTensors(net, g, loss, false);
    }

    /**
     * Writes gradients to {@code path} as {@link #gradientsToSafeTensors} lays them out, streaming
     * them from {@code g}'s arrays: writing needs no second copy of the gradients in the heap.
     */
    public static void saveGradients(Network net, Gradients g, double loss, Path path) throws IOException {
        gradientsToSafeTensors(net, g, loss, true).write(path);
    }

    private static SafeTensors gradientsToSafeTensors(Network net, Gradients g, double loss, boolean view) {
        SafeTensors.Builder b = SafeTensors.builder();
        for (int l = 1; l <= net.depth(); l++) {
            Layer d = net.layer(l);
            if (!d.hasParameters()) {
                continue;
            }
            put(b, view, weightName(l - 1), d.weightShape(), g.weights(l));
            put(b, view, biasName(l - 1), d.biasShape(), g.bias(l));
        }
        b.metadata("loss", Double.toString(loss));
        return b.build();
    }

    private static double metaNumber(SafeTensors st, String key, String source) throws SafeTensorsException {
        String v = st.metadata().get(key);
        if (v == null) {
            throw new SafeTensorsException(source + ": __metadata__ has no " + key);
        }
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new SafeTensorsException(source + ": __metadata__ " + key + " is not a number: '" + v + "'");
        }
    }

    private static long metaLong(SafeTensors st, String key, String source) throws SafeTensorsException {
        String v = st.metadata().get(key);
        if (v == null) {
            throw new SafeTensorsException(source + ": __metadata__ has no " + key);
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new SafeTensorsException(source + ": __metadata__ " + key + " is not an integer: '" + v + "'");
        }
    }

    private static Tensor requireTensor(SafeTensors st, String name, String source) throws SafeTensorsException {
        if (!st.has(name)) {
            throw new SafeTensorsException(source + ": missing tensor " + name);
        }
        return st.tensor(name);
    }

    private static void checkFinite(String source, String name, float[] a, int cols) throws SafeTensorsException {
        for (int j = 0; j < a.length; j++) {
            if (!Float.isFinite(a[j])) {
                String at = cols == 1 ? "[" + j + "]" : "[" + j / cols + ", " + j % cols + "]";
                throw new SafeTensorsException(source + ": " + name + at + " is " + a[j] + ": values must be finite");
            }
        }
    }
}
