package dev.checkprop.hvp;

import dev.checkprop.io.SafeTensors;
import dev.checkprop.io.SafeTensorsException;
import dev.checkprop.io.Tensor;
import dev.checkprop.nn.Layer;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Network;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Parameter-shaped vectors (a direction v, a product H&middot;v) as safetensors files, under the model's
 * own tensor names, as {@link dev.checkprop.io.ModelFile} writes gradients: {@code layers.{i}.weight}
 * F32 {@code [n_l, n_(l-1)]} and {@code layers.{i}.bias} F32 {@code [n_l]}, i = l &minus; 1 (0-based);
 * dropout layers have none. Reading is strict: a missing or unexpected tensor, a wrong dtype or
 * shape, or a NaN or infinite value is a {@link SafeTensorsException} naming the file and the tensor.
 */
public final class DirectionFile {

    private DirectionFile() {
    }

    // The names ModelFile uses (its helpers are package-private there).
    static String weightName(int index) {
        return "layers." + index + ".weight";
    }

    static String biasName(int index) {
        return "layers." + index + ".bias";
    }

    /** Reads a direction for {@code net} from {@code path}; see {@link #fromSafeTensors}. */
    public static Gradients read(Path path, Network net) throws IOException {
        return fromSafeTensors(SafeTensors.read(path), net, path.toString());
    }

    /**
     * Answers the direction a safetensors file holds, checked against {@code net}'s parameter shapes.
     *
     * @param source the file name, for error messages
     * @throws SafeTensorsException naming the file and the tensor at fault
     */
    public static Gradients fromSafeTensors(SafeTensors st, Network net, String source) throws SafeTensorsException {
        Gradients v = Gradients.zerosLike(net);
        Set<String> expected = new HashSet<>();
        for (int l = 1; l <= net.depth(); l++) {
            Layer d = net.layer(l);
            if (!d.hasParameters()) {
                continue;
            }
            read(st, source, weightName(l - 1), d.weightShape(), v.weights(l), expected);
            read(st, source, biasName(l - 1), d.biasShape(), v.bias(l), expected);
        }
        for (String name : st.names()) {
            if (!expected.contains(name)) {
                throw new SafeTensorsException(source + ": unexpected tensor " + name + " (the model's tensors are "
                        + describe(net) + ")");
            }
        }
        return v;
    }

    private static void read(SafeTensors st, String source, String name, long[] shape, float[] into, Set<String> expected)
            throws SafeTensorsException {
        if (!st.has(name)) {
            throw new SafeTensorsException(source + ": missing tensor " + name + " " + Arrays.toString(shape));
        }
        Tensor t = st.tensor(name);
        if (!Arrays.equals(t.shape(), shape)) {
            throw new SafeTensorsException(source + ": " + name + " must have the parameter's shape " + Arrays.toString(shape)
                    + ", got " + Arrays.toString(t.shape()));
        }
        float[] values;
        try {
            values = t.toFloatArray();
        } catch (SafeTensorsException e) {
            throw new SafeTensorsException(source + ": " + name + " must be F32, got " + t.dtype(), e);
        }
        final int cols = shape.length == 2 ? (int) shape[1] : 1;
        for (int j = 0; j < values.length; j++) {
            if (!Float.isFinite(values[j])) {
                String at = shape.length == 1 ? "[" + j + "]" : "[" + j / cols + ", " + j % cols + "]";
                throw new SafeTensorsException(source + ": " + name + at + " is " + values[j] + ": values must be finite");
            }
        }
        System.arraycopy(values, 0, into, 0, values.length);
        expected.add(name);
    }

    private static String describe(Network net) {
        int first = -1;
        int last = -1;
        for (int l = 1; l <= net.depth(); l++) {
            if (net.layer(l).hasParameters()) {
                first = first < 0 ? l - 1 : first;
                last = l - 1;
            }
        }
        return first < 0 ? "none" : "layers.{i}.weight and .bias for layers with parameters in " + first + ".." + last;
    }

    /**
     * Writes {@code v} to {@code path} as {@link #toSafeTensors} lays it out, streaming from its arrays
     * (no second copy of the parameters' size in the heap).
     */
    public static void write(Network net, Gradients v, Map<String, String> metadata, Path path) throws IOException {
        SafeTensors.Builder b = SafeTensors.builder();
        for (int l = 1; l <= net.depth(); l++) {
            Layer d = net.layer(l);
            if (!d.hasParameters()) {
                continue;
            }
            b.putF32View(weightName(l - 1), d.weightShape(), v.weights(l));
            b.putF32View(biasName(l - 1), d.biasShape(), v.bias(l));
        }
        metadata.forEach(b::metadata);
        b.build().write(path);
    }

    /**
     * Answers {@code v} as a safetensors file under {@code net}'s tensor names, with the given
     * {@code __metadata__} entries.
     */
    public static SafeTensors toSafeTensors(Network net, Gradients v, Map<String, String> metadata) {
        SafeTensors.Builder b = SafeTensors.builder();
        for (int l = 1; l <= net.depth(); l++) {
            Layer d = net.layer(l);
            if (!d.hasParameters()) {
                continue;
            }
            b.putF32(weightName(l - 1), d.weightShape(), v.weights(l));
            b.putF32(biasName(l - 1), d.biasShape(), v.bias(l));
        }
        metadata.forEach(b::metadata);
        return b.build();
    }
}
