package dev.checkprop.torch;

import dev.checkprop.io.SafeTensors;
import dev.checkprop.io.SafeTensorsException;
import dev.checkprop.io.Tensor;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.DenseLayer;
import dev.checkprop.nn.DropoutLayer;
import dev.checkprop.nn.Layer;
import dev.checkprop.nn.LayerNormLayer;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.ResidualLayer;
import dev.checkprop.nn.Seeds;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A {@code torch.nn.Sequential}'s state_dict, as {@code safetensors.torch.save_file(model.state_dict(), f)}
 * writes it, to a checkprop {@link Network} and back. The Sequential's modules are given by an
 * {@link Architecture}; its parameters are {@code {index}.weight} and {@code {index}.bias} (after an
 * optional prefix, for a Sequential held as an attribute: {@code net.0.weight}).
 *
 * <p>The mapping, module by module:
 * <ul>
 * <li>{@code nn.Linear} followed directly by an activation module (Tanh, ReLU, Sigmoid, GELU) is one
 *     dense layer with that activation; a Linear followed by anything else is a dense layer with
 *     the identity. W {@code [out, in]} and b {@code [out]} are the same arrays in both libraries.</li>
 * <li>{@code nn.LayerNorm(n, eps)} is a layernorm layer: weight = &gamma;, bias = &beta;, eps from the
 *     architecture (a state_dict does not hold it).</li>
 * <li>{@code nn.Dropout(p)} is a dropout layer of rate p (its masks are checkprop's own, seeded:
 *     they cannot match torch's random ones).</li>
 * <li>{@code nn.Identity} is dropped. An activation module that does not directly follow a Linear
 *     has no checkprop layer and is refused.</li>
 * </ul>
 * Import is as strict as {@code load_state_dict(strict=True)}: every parameter of the architecture
 * must be present with a matching shape, widths must chain, and any other tensor is an error naming
 * it. F16, BF16 and F64 tensors are converted to F32 by the caller's read
 * ({@link SafeTensors#readAsF32}); non-finite values are refused naming the torch key and element.
 *
 * <p>Export is the reverse: dense layers become a Linear and (unless identity) the activation's
 * module, layernorm and dropout layers their modules, all F32. A residual block a + f(W a + b) has
 * no Sequential equivalent and is refused.
 */
public final class TorchBridge {

    private TorchBridge() {
    }

    /**
     * A network imported from a state_dict.
     *
     * @param names the checkprop tensor name ({@code layers.{l}.weight}) of each torch key, in layer order
     */
    public record Imported(Network network, Architecture architecture, Map<String, String> names) {
    }

    /**
     * A network as a state_dict.
     *
     * @param stateDict   F32 tensors under the torch keys, with {@code __metadata__} {@code format} =
     *                    {@code pt}, {@code checkprop.architecture} and {@code checkprop.torch} (the Python)
     * @param names       the torch key of each checkprop tensor name, in layer order
     * @param python      an expression building the matching {@code nn.Sequential} ({@code nn} = torch.nn)
     */
    public record Exported(SafeTensors stateDict, Architecture architecture, Map<String, String> names, String python) {
    }

    /**
     * Builds the network a state_dict holds for {@code arch}.
     *
     * @param prefix      what precedes the module index in every key ({@code ""} for a bare Sequential)
     * @param dropoutSeed the seed of the dropout layers' masks (layer l gets its own stream)
     * @param source      the file, for messages
     * @throws SafeTensorsException naming the file and the key at fault, or the module that cannot be mapped
     */
    public static Imported fromStateDict(SafeTensors st, Architecture arch, String prefix, long dropoutSeed, String source)
            throws SafeTensorsException {
        List<Architecture.Module> modules = arch.modules();
        // Widths first, from the parameterised modules, so that a dropout before the first of them
        // knows its width.
        int[] inWidth = new int[modules.size()];
        int[] outWidth = new int[modules.size()];
        Set<String> used = new HashSet<>();
        List<Tensor[]> params = new ArrayList<>(Collections.nCopies(modules.size(), null));
        int width = -1;
        int widthFrom = -1;
        for (Architecture.Module m : modules) {
            int i = m.index();
            if (m.hasParameters()) {
                Tensor w = require(st, prefix + i + ".weight", m, source);
                Tensor b = require(st, prefix + i + ".bias", m, source);
                used.add(w.name());
                used.add(b.name());
                params.set(i, new Tensor[] {w, b});
                int in;
                int out;
                if (m.kind() == Architecture.Kind.LINEAR) {
                    if (w.rank() != 2 || w.dim(0) < 1 || w.dim(1) < 1) {
                        throw new SafeTensorsException(source + ": " + w.name() + " of nn.Linear (module " + i
                                + ") must have shape [out_features, in_features], got " + Arrays.toString(w.shape()));
                    }
                    out = w.dim(0);
                    in = w.dim(1);
                } else {
                    if (w.rank() != 1 || w.dim(0) < 1) {
                        throw new SafeTensorsException(source + ": " + w.name() + " of nn.LayerNorm (module " + i
                                + ") must have shape [normalized_shape], got " + Arrays.toString(w.shape())
                                + " (checkprop normalises over the last dimension only)");
                    }
                    in = out = w.dim(0);
                }
                if (b.rank() != 1 || b.dim(0) != out) {
                    throw new SafeTensorsException(source + ": " + b.name() + " must have shape [" + out + "] to match "
                            + w.name() + " " + Arrays.toString(w.shape()) + ", got " + Arrays.toString(b.shape()));
                }
                if (width >= 0 && in != width) {
                    throw new SafeTensorsException(source + ": " + w.name() + " " + Arrays.toString(w.shape()) + " takes "
                            + in + " inputs but module " + widthFrom + " (" + modules.get(widthFrom).spec() + ") gives "
                            + width + " outputs");
                }
                if (width < 0) {
                    // Parameter-free modules before the first parameterised one have its input width.
                    for (int j = 0; j < i; j++) {
                        inWidth[j] = outWidth[j] = in;
                    }
                }
                inWidth[i] = in;
                outWidth[i] = out;
                width = out;
                widthFrom = i;
            } else if (width >= 0) {
                inWidth[i] = outWidth[i] = width;
            }
        }
        if (width < 0) {
            throw new SafeTensorsException(source + ": architecture " + arch + " has no linear or layernorm module:"
                    + " there is nothing to import (and no width to give the network)");
        }
        for (String name : st.names()) {
            if (!used.contains(name)) {
                throw new SafeTensorsException(source + ": unexpected tensor " + name + " " + unexpected(name, prefix, modules)
                        + " (load_state_dict(strict=True) would refuse it too)");
            }
        }

        List<Layer> layers = new ArrayList<>();
        Map<String, String> names = new LinkedHashMap<>();
        for (int i = 0; i < modules.size(); i++) {
            Architecture.Module m = modules.get(i);
            switch (m.kind()) {
                case LINEAR -> {
                    Activation f = Activation.IDENTITY;
                    if (i + 1 < modules.size() && modules.get(i + 1).kind() == Architecture.Kind.ACTIVATION) {
                        f = modules.get(i + 1).activation();
                        i++;
                    }
                    Tensor[] wb = params.get(m.index());
                    float[] w = floats(wb[0], source);
                    float[] b = floats(wb[1], source);
                    names.put("layers." + layers.size() + ".weight", wb[0].name());
                    names.put("layers." + layers.size() + ".bias", wb[1].name());
                    layers.add(new DenseLayer(inWidth[m.index()], outWidth[m.index()], f, w, b));
                }
                case LAYERNORM -> {
                    Tensor[] wb = params.get(m.index());
                    names.put("layers." + layers.size() + ".weight", wb[0].name());
                    names.put("layers." + layers.size() + ".bias", wb[1].name());
                    layers.add(new LayerNormLayer(outWidth[m.index()], floats(wb[0], source), floats(wb[1], source), m.eps()));
                }
                case DROPOUT -> layers.add(new DropoutLayer(outWidth[m.index()], m.rate(),
                        Seeds.bits(dropoutSeed, -3, layers.size())));
                case IDENTITY -> {
                }
                case ACTIVATION -> {
                    Architecture.Module before = i == 0 ? null : modules.get(i - 1);
                    throw new SafeTensorsException(source + ": module " + i + " (" + m.spec() + ") "
                            + (before == null ? "comes first" : "follows module " + (i - 1) + " (" + before.spec() + ")")
                            + ": checkprop applies an activation inside a dense layer, so it must directly follow a linear module");
                }
            }
        }
        if (layers.isEmpty()) {
            throw new SafeTensorsException(source + ": architecture " + arch + " gives no layer");
        }
        return new Imported(new Network(layers), arch, Collections.unmodifiableMap(names));
    }

    /** Why {@code name} is not a parameter of the architecture, for the message. */
    private static String unexpected(String name, String prefix, List<Architecture.Module> modules) {
        if (name.startsWith(prefix)) {
            String rest = name.substring(prefix.length());
            int dot = rest.indexOf('.');
            if (dot > 0) {
                try {
                    int index = Integer.parseInt(rest.substring(0, dot));
                    if (index >= modules.size()) {
                        return "(the architecture has modules 0.." + (modules.size() - 1) + ")";
                    }
                    Architecture.Module m = modules.get(index);
                    return m.hasParameters() ? "(module " + index + " is " + m.spec() + ", whose parameters are "
                            + prefix + index + ".weight and " + prefix + index + ".bias)"
                            : "(module " + index + " is " + m.spec() + ", which has no parameters)";
                } catch (NumberFormatException e) {
                    // below
                }
            }
        }
        return "(the architecture's parameters are " + (prefix.isEmpty() ? "" : prefix) + "{index}.weight and "
                + (prefix.isEmpty() ? "" : prefix) + "{index}.bias of its linear and layernorm modules"
                + (prefix.isEmpty() ? "; is a --prefix missing?" : "") + ")";
    }

    private static Tensor require(SafeTensors st, String name, Architecture.Module m, String source)
            throws SafeTensorsException {
        if (!st.has(name)) {
            String what = m.kind() == Architecture.Kind.LINEAR ? "nn.Linear" : "nn.LayerNorm";
            String hint = name.endsWith(".bias")
                    ? " (checkprop's " + (m.kind() == Architecture.Kind.LINEAR ? "dense" : "layernorm") + " layers have a bias:"
                    + (m.kind() == Architecture.Kind.LINEAR ? " nn.Linear(..., bias=True)" : " nn.LayerNorm(..., elementwise_affine=True)") + ")"
                    : m.kind() == Architecture.Kind.LAYERNORM ? " (checkprop's layernorm has a scale and a shift:"
                    + " nn.LayerNorm(..., elementwise_affine=True))" : "";
            throw new SafeTensorsException(source + ": missing tensor " + name + " for module " + m.index() + " (" + what
                    + ") of the architecture" + hint + "; the file has " + describeKeys(st));
        }
        return st.tensor(name);
    }

    private static String describeKeys(SafeTensors st) {
        List<String> names = st.names();
        if (names.isEmpty()) {
            return "no tensors";
        }
        List<String> shown = names.subList(0, Math.min(8, names.size()));
        return "tensors " + String.join(", ", shown) + (names.size() > shown.size() ? ", ... (" + names.size() + " in all)" : "");
    }

    private static float[] floats(Tensor t, String source) throws SafeTensorsException {
        float[] a = t.toFloatArray();
        int cols = t.rank() == 2 ? t.dim(1) : 1;
        for (int j = 0; j < a.length; j++) {
            if (!Float.isFinite(a[j])) {
                String at = t.rank() == 2 ? "[" + j / cols + ", " + j % cols + "]" : "[" + j + "]";
                throw new SafeTensorsException(source + ": " + t.name() + at + " is " + a[j] + ": values must be finite");
            }
        }
        return a;
    }

    /**
     * Answers the state_dict of the {@code nn.Sequential} equivalent to {@code net}.
     *
     * @param prefix what precedes the module index in every key ({@code ""} for a bare Sequential)
     * @throws IllegalArgumentException naming the layer if it has no Sequential equivalent (a residual
     *     block, an activation without a torch module, a layer kind outside the library)
     */
    public static Exported toStateDict(Network net, String prefix) {
        SafeTensors.Builder b = SafeTensors.builder();
        List<Architecture.Module> modules = new ArrayList<>();
        Map<String, String> names = new LinkedHashMap<>();
        List<String> python = new ArrayList<>();
        for (int l = 1; l <= net.depth(); l++) {
            Layer layer = net.layer(l);
            String file = "layers." + (l - 1);
            int index = modules.size();
            if (layer instanceof ResidualLayer r) {
                throw new IllegalArgumentException("layer " + l + " (" + file + ", " + r.describe() + ") is a residual block"
                        + " a + f(W a + b), which torch.nn.Sequential cannot express; export-torch writes networks of"
                        + " dense, layernorm and dropout layers only");
            } else if (layer instanceof DenseLayer d) {
                String module = torchModule(d.activation(), l, file);
                b.putF32(prefix + index + ".weight", new long[] {d.outputWidth(), d.inputWidth()}, d.weights());
                b.putF32(prefix + index + ".bias", new long[] {d.outputWidth()}, d.bias());
                names.put(file + ".weight", prefix + index + ".weight");
                names.put(file + ".bias", prefix + index + ".bias");
                modules.add(new Architecture.Module(index, Architecture.Kind.LINEAR, null, 0f, 0f));
                String linear = "nn.Linear(" + d.inputWidth() + ", " + d.outputWidth() + ")";
                if (module != null) {
                    modules.add(new Architecture.Module(index + 1, Architecture.Kind.ACTIVATION, d.activation(), 0f, 0f));
                    python.add(linear + ", " + module);
                } else {
                    python.add(linear);
                }
            } else if (layer instanceof LayerNormLayer n) {
                b.putF32(prefix + index + ".weight", new long[] {n.outputWidth()}, n.weights());
                b.putF32(prefix + index + ".bias", new long[] {n.outputWidth()}, n.bias());
                names.put(file + ".weight", prefix + index + ".weight");
                names.put(file + ".bias", prefix + index + ".bias");
                modules.add(new Architecture.Module(index, Architecture.Kind.LAYERNORM, null, n.eps(), 0f));
                python.add("nn.LayerNorm(" + n.outputWidth() + (n.eps() == LayerNormLayer.DEFAULT_EPS ? "" : ", eps=" + n.eps()) + ")");
            } else if (layer instanceof DropoutLayer d) {
                modules.add(new Architecture.Module(index, Architecture.Kind.DROPOUT, null, 0f, d.rate()));
                python.add("nn.Dropout(p=" + d.rate() + ")");
            } else {
                throw new IllegalArgumentException("layer " + l + " (" + file + ", " + layer.describe() + ", "
                        + layer.getClass().getName() + ") has no torch.nn equivalent known to export-torch");
            }
        }
        Architecture arch = Architecture.of(modules);
        String expression = sequential(python);
        b.metadata("format", "pt");
        b.metadata("checkprop.architecture", arch.toString());
        b.metadata("checkprop.torch", expression);
        return new Exported(b.build(), arch, Collections.unmodifiableMap(names), expression);
    }

    /** The torch module of an activation, e.g. {@code nn.Tanh()}; null for the identity. */
    private static String torchModule(Activation f, int l, String file) {
        return switch (f.fileName()) {
            case "identity" -> null;
            case "tanh" -> "nn.Tanh()";
            case "relu" -> "nn.ReLU()";
            case "sigmoid" -> "nn.Sigmoid()";
            case "gelu" -> "nn.GELU()";
            default -> throw new IllegalArgumentException("layer " + l + " (" + file + ") has activation " + f.fileName()
                    + ", which has no torch.nn module known to export-torch");
        };
    }

    /**
     * {@code nn.Sequential(...)} of the given per-layer module lists, runs of equal ones written as
     * {@code *(m for _ in range(K) for m in (...))} so a deep network stays one short line.
     */
    private static String sequential(List<String> layers) {
        StringBuilder sb = new StringBuilder("nn.Sequential(");
        for (int i = 0; i < layers.size(); ) {
            int run = 1;
            while (i + run < layers.size() && layers.get(i + run).equals(layers.get(i))) {
                run++;
            }
            sb.append(i == 0 ? "" : ", ");
            if (run > 2) {
                sb.append(String.format(Locale.ROOT, "*(m for _ in range(%d) for m in (%s,))", run, layers.get(i)));
            } else {
                sb.append(layers.get(i));
                if (run == 2) {
                    sb.append(", ").append(layers.get(i));
                }
            }
            i += run;
        }
        return sb.append(")").toString();
    }
}
